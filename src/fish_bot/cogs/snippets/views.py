"""How snippets look: the info embed, list pages and the list's routed page buttons.

The buttons are routed components (``snippets:page:<page>:<sort>:<owner>:<author>:<search>``,
:mod:`fish_bot.core.views`): they keep working after a restart, and a page is built from the
cache, so turning pages reads the database only when the guild's snippets are not in memory.
The member who ran the list turns its pages; anyone else who clicks gets that page for
themselves (an ephemeral message with buttons of their own).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.snippets.constants import (
    EMBED_COLOUR,
    PAGE_ACTION,
    PER_PAGE,
    SORT_NAME,
    SORT_USES,
)
from fish_bot.cogs.snippets.utils import Entry, GuildSnippets
from fish_bot.core.text import DESCRIPTION_LIMIT, clip
from fish_bot.core.views import RoutedView, routed_button

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog


def timestamp(moment: object, style: str = "f") -> str:
    return discord.utils.format_dt(moment, style)  # type: ignore[arg-type]


def info_embed(snippets: GuildSnippets, entry: Entry, uses: int) -> discord.Embed:
    """`snippet info`: author, uses, created, edited, aliases (and what an alias points at)."""
    target = snippets.target(entry)
    embed = discord.Embed(title=f"Snippet `{entry.name}`", colour=EMBED_COLOUR)
    if entry.is_alias:
        embed.description = f"An alias of `{target.name if target else '?'}`."
    embed.add_field(name="Author", value=f"<@{entry.author_id}>")
    embed.add_field(name="Uses", value=str(uses))
    embed.add_field(name="Created", value=timestamp(entry.created_at))
    if entry.edited_at is not None:
        by = f" by <@{entry.edited_by}>" if entry.edited_by else ""
        embed.add_field(name="Edited", value=f"{timestamp(entry.edited_at)}{by}")
    if target is not None and target.locked:
        embed.add_field(name="Locked", value="🔒 only moderators can change it")
    if target is not None:
        aliases = [name for name in snippets.aliases_of(target) if name != entry.name]
        if aliases:
            embed.add_field(
                name="Aliases",
                value=clip(", ".join(f"`{name}`" for name in aliases), 1024),
                inline=False,
            )
    return embed


def entry_line(snippets: GuildSnippets, entry: Entry, uses: int) -> str:
    """One line of a list: name, uses, lock, what an alias points at."""
    lock = " 🔒" if entry.locked else ""
    if entry.is_alias:
        target = snippets.target(entry)
        return f"`{entry.name}` → `{target.name if target else '?'}`"
    noun = "use" if uses == 1 else "uses"
    return f"`{entry.name}`{lock} · {uses} {noun}"


def page_count(total: int) -> int:
    return max(1, math.ceil(total / PER_PAGE))


def list_embed(
    snippets: GuildSnippets,
    pending: Mapping[int, int],
    *,
    page: int,
    sort: str,
    author_id: int = 0,
    search: str = "",
) -> tuple[discord.Embed, int, int]:
    """One page of a list, the page shown (kept within the pages) and the page count."""
    entries = snippets.listing(pending, sort=sort, author_id=author_id, search=search)
    pages = page_count(len(entries))
    page = min(max(1, page), pages)
    shown = entries[(page - 1) * PER_PAGE : page * PER_PAGE]
    lines = [entry_line(snippets, e, e.uses + pending.get(e.id, 0)) for e in shown]
    title = "Snippets"
    if author_id:
        title = "Snippets by a member"
    embed = discord.Embed(title=title, colour=EMBED_COLOUR)
    header = []
    if author_id:
        header.append(f"By <@{author_id}>")
    if search:
        header.append(f"Names containing `{search}`")
    body = "\n".join(lines) if lines else "No snippets match."
    if header:
        body = " · ".join(header) + "\n\n" + body
    embed.description = clip(body, DESCRIPTION_LIMIT)
    noun = "snippet" if len(entries) == 1 else "snippets"
    order = "by name" if sort == SORT_NAME else "by uses"
    embed.set_footer(text=f"Page {page}/{pages} · {len(entries)} {noun} · sorted {order}")
    return embed, page, pages


def pager_view(
    cog: BaseCog,
    *,
    page: int,
    pages: int,
    sort: str,
    owner_id: int,
    author_id: int = 0,
    search: str = "",
) -> RoutedView:
    """Previous, Next and the sort switch under a list."""
    other = SORT_NAME if sort == SORT_USES else SORT_USES

    def button(target: int, target_sort: str, **options: object) -> discord.ui.Button[RoutedView]:
        return routed_button(
            cog,
            PAGE_ACTION,
            target,
            target_sort,
            owner_id,
            author_id,
            search,
            **options,  # type: ignore[arg-type]
        )

    return RoutedView(
        button(page - 1, sort, label="Previous", emoji="◀️", disabled=page <= 1),
        button(page + 1, sort, label="Next", emoji="▶️", disabled=page >= pages),
        button(1, other, label="Sort by name" if other == SORT_NAME else "Sort by uses"),
    )
