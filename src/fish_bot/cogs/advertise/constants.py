"""Constants of the advertise cog."""

from __future__ import annotations

import re
from typing import Final

import discord

#: The job type that ends an ad when its cooldown ends (``<cog>.<what>``).
EXPIRE_JOB: Final = "advertise.expire"

#: Component action of the "Open the form" / "Re-use my last ad" buttons
#: (custom_id ``advertise:form:<member>:<reuse 0|1>``).
FORM_ACTION: Final = "form"

#: The rank (and, on a server without ranks, the Discord permission) of the moderator commands.
MODERATOR_RANK: Final = 2
MODERATOR_PERMISSION: Final = "manage_messages"

#: Ended ads are kept this many days after their cooldown ended (for "re-use my last ad"), then
#: the weekly cleanup removes them.
KEEP_ENDED_DAYS: Final = 30

#: Longest description and tags line of an ad.
DESCRIPTION_LENGTH: Final = 2000
TAGS_LENGTH: Final = 200

#: A forum post carries at most this many tags (Discord's limit).
MAX_TAGS: Final = 5

#: Ads listed by `advertise list` (the rest are counted).
LIST_LIMIT: Final = 20

#: Colour of the ads' embeds.
EMBED_COLOUR: Final = discord.Color.teal()

#: A Discord invite link (the contact of a server ad), its code in group 1.
INVITE_PATTERN: Final = re.compile(
    r"(?:https?://)?(?:www\.)?(?:discord\.gg|discord(?:app)?\.com/invite)/([A-Za-z0-9-]{2,32})",
    re.IGNORECASE,
)

#: How the type field is read.
KIND_WORDS: Final = {
    "guild": "guild",
    "server": "guild",
    "member": "member",
    "user": "member",
}

#: How to configure the cog (shown while the forum channel is not set).
CONFIGURE_HINT: Final = (
    "Ads are not set up on this server yet: an administrator sets the forum channel with "
    "`settings set advertise forum_channel #channel` (a forum channel)."
)
