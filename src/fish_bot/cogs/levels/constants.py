"""Constants of the levels cog."""

from __future__ import annotations

from typing import Final

import discord

#: The highest level (the curve's XP for it still fits the ``levels.xp`` column easily).
MAX_LEVEL: Final = 1000

#: Members on one leaderboard page.
PAGE_SIZE: Final = 10

#: Colour of the cog's embeds.
EMBED_COLOUR: Final = discord.Color.gold()

#: Where a level-up message goes (the ``levelup_destination`` setting).
DESTINATIONS: Final = ("channel", "set_channel", "dm", "off")

#: What happens to lower rewards when a member earns a higher one (``reward_mode``).
REWARD_MODES: Final = ("keep_all", "highest")

#: The component action of the leaderboard's page buttons (``levels:page:<guild>:<page>``).
PAGE_ACTION: Final = "page"

#: ``levels import``: the largest file, in bytes, and the most rows it may hold.
MAX_IMPORT_BYTES: Final = 4 * 1024 * 1024
MAX_IMPORT_ROWS: Final = 100_000

#: How long the rank card waits for the member's avatar, in seconds.
AVATAR_TIMEOUT: Final = 5.0
#: The avatar size fetched for the card, in pixels (the card draws it smaller).
AVATAR_FETCH_SIZE: Final = 256
#: How many fetched avatars the rank card keeps (about 10-60 KB each).
AVATAR_CACHE_SIZE: Final = 128

#: The rank card's size in pixels (width, height).
CARD_SIZE: Final = (934, 282)

#: The default level-up message (``{member}`` is the member's mention, ``{level}`` the level).
DEFAULT_LEVELUP_MESSAGE: Final = "🎉 {member} reached level {level}!"

#: Default permission ranks: moderators change members' XP, admins the rewards and files.
MODERATOR_RANK: Final = 3
ADMIN_RANK: Final = 6
