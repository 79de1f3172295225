"""The leaderboard's page buttons and embeds of the levels cog.

The buttons are routed components (``levels:page:<guild id>:<page>``): they keep working after
a restart, and a click on a button whose id names another server is refused before it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.levels.constants import EMBED_COLOUR, PAGE_ACTION
from fish_bot.cogs.levels.utils import progress
from fish_bot.core.views import RoutedView, routed_button

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.models import Levels


def leaderboard_view(cog: BaseCog, guild_id: int, page: int, pages: int) -> RoutedView:
    """Previous and Next buttons (disabled at the ends)."""
    return RoutedView(
        routed_button(cog, PAGE_ACTION, guild_id, page - 1, label="◀ Previous", disabled=page <= 1),
        routed_button(cog, PAGE_ACTION, guild_id, page + 1, label="Next ▶", disabled=page >= pages),
    )


def leaderboard_embed(
    guild_name: str,
    rows: list[Levels],
    *,
    page: int,
    pages: int,
    offset: int,
    viewer_id: int,
    viewer_rank: int | None,
    viewer_xp: int,
) -> discord.Embed:
    """One page of the leaderboard, with the viewer's own position under it."""
    embed = discord.Embed(title=f"Leaderboard of {guild_name}", color=EMBED_COLOUR)
    lines = [
        f"`#{offset + position}` <@{row.member_id}> · level {row.level} · {row.xp:,} XP"
        for position, row in enumerate(rows, start=1)
    ]
    embed.description = "\n".join(lines) if lines else "Nobody has earned XP here yet."
    if viewer_rank is not None:
        level = progress(viewer_xp)[0]
        mine = f"`#{viewer_rank}` <@{viewer_id}> · level {level} · {viewer_xp:,} XP"
    else:
        mine = "You are not ranked yet: chat to earn XP."
    embed.add_field(name="Your position", value=mine, inline=False)
    embed.set_footer(text=f"Page {page} of {pages}")
    return embed


def rank_embed(
    member: discord.Member, *, level: int, rank: int | None, into: int, needed: int, total: int
) -> discord.Embed:
    """The rank card as a text embed (images off, or the avatar could not be fetched)."""
    embed = discord.Embed(title=f"Rank of {member.display_name}", color=EMBED_COLOUR)
    embed.add_field(name="Level", value=str(level))
    embed.add_field(name="Rank", value=f"#{rank}" if rank is not None else "Not ranked")
    embed.add_field(name="XP", value=f"{into:,} / {needed:,} (total {total:,})")
    embed.add_field(name="To next level", value=f"{needed - into:,} XP", inline=False)
    return embed
