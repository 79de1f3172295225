"""SnippetController: a guild's snippets and aliases, with the rules every writer follows.

The spec's methods (``create_snippet``, ``get_snippet_by_name_and_guild_id``,
``get_all_snippets_by_guild_id``, ``create_snippet_alias``) plus what the commands need
(edit, delete, rename, lock, aliases, batched use counts, an all-or-nothing import).

* Names are normalised (stripped, lower case) and must match :data:`NAME_PATTERN`; the
  database's unique key (``guild_id``, ``name``) decides between concurrent creators, so of
  twenty simultaneous ``create_snippet`` calls for one name exactly one succeeds and the others
  get :class:`SnippetError` ("already exists").
* An alias always points at a real snippet: an alias of an alias points at its final target.
* Every write tells the change listeners which guild changed, at once and again after the
  commit (:meth:`DatabaseService.after_commit`), so a cache of a guild's snippets never keeps a
  value that a write replaced, nor one read while a failed transaction was open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa

from fish_bot.core.text import plain
from fish_bot.database.controllers.base import BaseController, ChangeNotifier
from fish_bot.database.controllers.core import GuildController
from fish_bot.database.models.snippets import (
    SNIPPET_CONTENT_LENGTH,
    SNIPPET_NAME_LENGTH,
    Snippet,
)
from fish_bot.exceptions import DuplicateError, NotFoundError, UserFacingError

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

#: What a snippet name may look like (after it is put in lower case).
NAME_PATTERN = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{SNIPPET_NAME_LENGTH - 1}}}")
NAME_RULE = (
    "a snippet name is 1 to 32 characters: lower-case letters, digits, `-` and `_`, "
    "starting with a letter or a digit (e.g. `faq-install`)"
)
#: How many ids one use-count UPDATE carries.
USES_BATCH = 500


class SnippetError(UserFacingError):
    """A snippet rule refused the change; the message says which and how to fix it."""


def normalise_name(name: str) -> str:
    """The stored form of a snippet name (lower case), or :class:`SnippetError`."""
    cleaned = name.strip().lower()
    if not NAME_PATTERN.fullmatch(cleaned):
        raise SnippetError(f"❌ `{plain(name, 40) or ' '}` is not a valid name: {NAME_RULE}.")
    return cleaned


def check_content(content: str) -> str:
    """Content to store: not empty, at most 4,000 characters."""
    text = content.strip()
    if not text:
        raise SnippetError("❌ A snippet needs some content.")
    if len(text) > SNIPPET_CONTENT_LENGTH:
        raise SnippetError(
            f"❌ The content is too long ({len(text):,} characters; at most "
            f"{SNIPPET_CONTENT_LENGTH:,})."
        )
    return text


def _exists(name: str) -> SnippetError:
    return SnippetError(f"❌ A snippet named `{name}` already exists here.")


class SnippetController(ChangeNotifier, BaseController[Snippet]):
    """Snippets and aliases of every guild."""

    change_topic = "snippets"

    def __init__(self, service: DatabaseService, guilds: GuildController | None = None) -> None:
        super().__init__(Snippet, service)
        #: The hub's guild controller (``db.guild``), for the guild row a snippet refers to.
        self.guilds = guilds if guilds is not None else GuildController(service)
        self._listeners: list[Callable[[int | None], None]] = []

    # --- reads ---------------------------------------------------------------------------------

    async def get_snippet_by_name_and_guild_id(self, name: str, guild_id: int) -> Snippet | None:
        """The snippet (or alias) called ``name`` in the guild, whatever the case; or None."""
        return await self.find_one({"guild_id": guild_id, "name": name.strip().lower()})

    async def get_all_snippets_by_guild_id(self, guild_id: int) -> list[Snippet]:
        """Every snippet and alias of the guild, by name (one query)."""
        return await self.find_all({"guild_id": guild_id}, order_by=self.table.c.name)

    async def get_snippets_by_author(self, guild_id: int, author_id: int) -> list[Snippet]:
        """The snippets and aliases a member made in the guild, by name."""
        return await self.find_all(
            {"guild_id": guild_id, "author_id": author_id}, order_by=self.table.c.name
        )

    async def get_aliases(self, snippet_id: int) -> list[Snippet]:
        """The aliases that point at a snippet, by name."""
        return await self.find_all({"alias_of_id": snippet_id}, order_by=self.table.c.name)

    async def resolve(self, snippet: Snippet) -> Snippet:
        """The snippet an alias stands for (the snippet itself when it is not an alias)."""
        seen: set[int] = set()
        current = snippet
        while current.alias_of_id is not None:
            if current.alias_of_id in seen or len(seen) > 16:
                raise SnippetError(f"❌ The alias `{snippet.name}` goes round in a loop.")
            seen.add(current.alias_of_id)
            target = await self.get_by_id(current.alias_of_id)
            if target is None:
                raise SnippetError(f"❌ The alias `{snippet.name}` points at nothing.")
            current = target
        return current

    # --- writes --------------------------------------------------------------------------------

    async def _insert(self, values: dict[str, Any]) -> Snippet:
        await self.guilds.ensure(values["guild_id"])
        try:
            row = await self.create(**values)
        except DuplicateError:
            raise _exists(values["name"]) from None
        except NotFoundError:
            raise SnippetError("❌ The snippet it points at was deleted meanwhile.") from None
        await self._changed(row.guild_id)
        return row

    async def create_snippet(
        self,
        snippet_name: str,
        snippet_content: str,
        snippet_created_at: datetime,
        snippet_user_id: int,
        guild_id: int,
    ) -> Snippet:
        """Create a snippet; :class:`SnippetError` for a bad or taken name, or bad content."""
        return await self._insert(
            {
                "guild_id": guild_id,
                "name": normalise_name(snippet_name),
                "content": check_content(snippet_content),
                "author_id": snippet_user_id,
                "created_at": snippet_created_at,
            }
        )

    async def create_snippet_alias(
        self,
        snippet_name: str,
        snippet_alias: str,
        snippet_created_at: datetime,
        snippet_user_id: int,
        guild_id: int,
    ) -> Snippet:
        """Create the alias ``snippet_name`` for the snippet ``snippet_alias`` (the spec's
        argument names: the new name, then what it points at). An alias of an alias points at
        the final target; an alias of itself, or one that would go round, is refused."""
        name = normalise_name(snippet_name)
        target_name = normalise_name(snippet_alias)
        if name == target_name:
            raise SnippetError(f"❌ `{name}` cannot be an alias of itself.")
        target = await self.get_snippet_by_name_and_guild_id(target_name, guild_id)
        if target is None:
            raise SnippetError(f"❌ There is no snippet named `{target_name}` here.")
        final = await self.resolve(target)
        if final.name == name:
            raise SnippetError(
                f"❌ `{target_name}` already leads to `{name}`: that alias would be a loop."
            )
        return await self._insert(
            {
                "guild_id": guild_id,
                "name": name,
                "content": None,
                "author_id": snippet_user_id,
                "created_at": snippet_created_at,
                "alias_of_id": final.id,
            }
        )

    async def edit_snippet(self, snippet_id: int, content: str, editor_id: int) -> Snippet:
        """Replace a snippet's content (an alias has none to edit)."""
        text = check_content(content)
        row = await self.update_where(
            {"id": snippet_id, "alias_of_id": None},
            {"content": text, "edited_at": discord.utils.utcnow(), "edited_by": editor_id},
        )
        found = await self.get_by_id(snippet_id) if row else None
        if found is None:
            raise SnippetError("❌ That snippet no longer exists (or is an alias).")
        await self._changed(found.guild_id)
        return found

    async def rename_snippet(self, snippet_id: int, new_name: str, editor_id: int) -> Snippet:
        """Give a snippet (or alias) a new name; its aliases keep pointing at it."""
        name = normalise_name(new_name)
        try:
            found = await self.update_by_id(
                snippet_id, name=name, edited_at=discord.utils.utcnow(), edited_by=editor_id
            )
        except DuplicateError:
            raise _exists(name) from None
        if found is None:
            raise SnippetError("❌ That snippet no longer exists.")
        await self._changed(found.guild_id)
        return found

    async def set_locked(self, snippet_id: int, locked: bool) -> Snippet:
        """Lock or unlock a snippet."""
        found = await self.update_by_id(snippet_id, locked=locked)
        if found is None:
            raise SnippetError("❌ That snippet no longer exists.")
        await self._changed(found.guild_id)
        return found

    async def delete_snippet(self, snippet_id: int, guild_id: int) -> list[str]:
        """Delete a snippet and the aliases that point at it (one transaction); returns the
        names of the aliases deleted with it."""
        table = self.table.c
        async with self._session(write=True) as session:
            names = list(
                (
                    await session.execute(
                        sa.select(table.name)
                        .where(table.alias_of_id == snippet_id)
                        .order_by(table.name)
                    )
                ).scalars()
            )
            await session.execute(
                sa.delete(self.table).where(
                    table.guild_id == guild_id,
                    sa.or_(table.id == snippet_id, table.alias_of_id == snippet_id),
                )
            )
        await self._changed(guild_id)
        return names

    async def add_uses(self, counts: Mapping[int, int]) -> int:
        """Add buffered use counts (``{snippet id: uses}``): one UPDATE per
        :data:`USES_BATCH` snippets, in one transaction; returns the rows updated.

        Snippets deleted meanwhile are skipped. No change listener is told: the caller keeps
        its cached counts in step itself.
        """
        items = [(int(key), int(value)) for key, value in counts.items() if value > 0]
        if not items:
            return 0
        table = self.table.c
        updated = 0
        async with self._session(write=True) as session:
            for start in range(0, len(items), USES_BATCH):
                batch = dict(items[start : start + USES_BATCH])
                statement = (
                    sa.update(self.table)
                    .where(table.id.in_(list(batch)))
                    .values(uses=table.uses + sa.case(batch, value=table.id, else_=0))
                )
                result = await session.execute(statement)
                updated += int(result.rowcount)  # type: ignore[attr-defined]
        return updated

    async def import_snippets(
        self,
        guild_id: int,
        entries: Sequence[tuple[str, str]],
        author_id: int,
        *,
        aliases: Iterable[tuple[str, str]] = (),
    ) -> int:
        """Create every ``(name, content)`` snippet, then every ``(alias, target)`` alias, all
        in one transaction: when one is refused, none is created. Returns how many rows."""
        now = discord.utils.utcnow()
        created = 0
        async with self.service.transaction():
            for name, content in entries:
                await self.create_snippet(name, content, now, author_id, guild_id)
                created += 1
            for alias, target in aliases:
                await self.create_snippet_alias(alias, target, now, author_id, guild_id)
                created += 1
        return created
