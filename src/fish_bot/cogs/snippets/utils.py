"""Helpers of the snippets cog: a guild's snippets in memory, splitting content for Discord,
and reading an import file."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import yaml

from fish_bot.cogs.snippets.constants import IMPORT_MAX_ENTRIES, SORT_NAME, SUGGESTIONS
from fish_bot.core.text import CONTENT_LIMIT, plain
from fish_bot.database.controllers.snippets import (
    NAME_PATTERN,
    NAME_RULE,
    SnippetError,
)
from fish_bot.database.models.snippets import SNIPPET_CONTENT_LENGTH, Snippet
from fish_bot.operations.settings_file import SettingsFileError, load_document


@dataclass(frozen=True)
class Entry:
    """One snippet or alias as the cache holds it (a copy of its row)."""

    id: int
    guild_id: int
    name: str
    content: str | None
    author_id: int
    created_at: datetime
    edited_at: datetime | None
    edited_by: int | None
    uses: int
    locked: bool
    alias_of_id: int | None

    @classmethod
    def of(cls, row: Snippet) -> Entry:
        assert row.id is not None
        return cls(
            id=row.id,
            guild_id=row.guild_id,
            name=row.name,
            content=row.content,
            author_id=row.author_id,
            created_at=row.created_at,
            edited_at=row.edited_at,
            edited_by=row.edited_by,
            uses=row.uses,
            locked=row.locked,
            alias_of_id=row.alias_of_id,
        )

    @property
    def is_alias(self) -> bool:
        return self.alias_of_id is not None


@dataclass
class GuildSnippets:
    """A guild's snippets and aliases, by name and by id (read in one query)."""

    by_name: dict[str, Entry] = field(default_factory=dict)
    by_id: dict[int, Entry] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[Snippet]) -> GuildSnippets:
        entries = [Entry.of(row) for row in rows]
        return cls({e.name: e for e in entries}, {e.id: e for e in entries})

    def get(self, name: str) -> Entry | None:
        return self.by_name.get(name.strip().lower())

    def target(self, entry: Entry) -> Entry | None:
        """The snippet an alias stands for (the entry itself when it is not an alias)."""
        seen: set[int] = set()
        while entry.alias_of_id is not None:
            if entry.alias_of_id in seen:
                return None
            seen.add(entry.alias_of_id)
            found = self.by_id.get(entry.alias_of_id)
            if found is None:
                return None
            entry = found
        return entry

    def aliases_of(self, entry: Entry) -> list[str]:
        return sorted(e.name for e in self.by_id.values() if e.alias_of_id == entry.id)

    def suggestions(self, name: str) -> list[str]:
        return difflib.get_close_matches(name.lower(), list(self.by_name), n=SUGGESTIONS)

    def add_uses(self, counts: Mapping[int, int]) -> None:
        """Count uses that were written to the database (after a flush)."""
        for snippet_id, count in counts.items():
            entry = self.by_id.get(snippet_id)
            if entry is not None:
                updated = replace(entry, uses=entry.uses + count)
                self.by_id[snippet_id] = updated
                self.by_name[updated.name] = updated

    def listing(
        self,
        uses: Mapping[int, int],
        *,
        sort: str,
        author_id: int = 0,
        search: str = "",
    ) -> list[Entry]:
        """The entries a list shows: by uses (``uses`` adds the buffered counts) or by name."""
        entries = [
            e
            for e in self.by_name.values()
            if (not author_id or e.author_id == author_id) and search in e.name
        ]
        if sort == SORT_NAME:
            return sorted(entries, key=lambda e: e.name)
        return sorted(entries, key=lambda e: (-(e.uses + uses.get(e.id, 0)), e.name))


def split_content(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """``text`` in messages of at most ``limit`` characters, cut at line ends where it can
    (a single line longer than ``limit`` is cut where it must)."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        parts.append(current)
    return [part for part in parts if part.strip()]


# --- import and export -------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """What an import file holds: snippets and aliases, and every refused entry."""

    snippets: list[tuple[str, str]] = field(default_factory=list)
    aliases: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def file_kind(filename: str) -> str:
    lowered = filename.lower()
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    if lowered.endswith(".json"):
        return "json"
    raise SnippetError(f"❌ `{plain(filename, 60)}`: attach a `.json`, `.yaml` or `.yml` file.")


def read_document(raw: bytes, filename: str) -> Any:
    """Parse an import file within the settings import's limits (blocking: run in a thread)."""
    kind = file_kind(filename)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SnippetError(
            f"❌ `{plain(filename, 60)}` is not UTF-8 text; nothing was imported."
        ) from None
    try:
        return load_document(text, kind, plain(filename, 60))
    except SettingsFileError as error:
        raise SnippetError(f"❌ {'; '.join(error.problems)}; nothing was imported.") from None


def _entries(document: Any) -> list[Any]:
    if isinstance(document, Mapping) and isinstance(document.get("snippets"), list):
        return list(document["snippets"])
    if isinstance(document, Mapping):
        return [{"name": name, "content": content} for name, content in document.items()]
    if isinstance(document, list):
        return document
    raise SnippetError(
        "❌ The file must hold a list of snippets, each with a `name` and a `content` "
        '(e.g. `[{"name": "rules", "content": "Be nice."}]`); nothing was imported.'
    )


def _check_name(value: Any, taken: set[str], reserved: set[str]) -> tuple[str | None, str]:
    """The normalised name, or None and why it is refused."""
    if not isinstance(value, str):
        return None, "it has no `name` text"
    name = value.strip().lower()
    if not NAME_PATTERN.fullmatch(name):
        return None, f"`{plain(value, 40)}` is not a valid name ({NAME_RULE})"
    if name in reserved:
        return None, f"`{name}` is the name of a `snippet` subcommand"
    if name in taken:
        return None, f"`{name}` already exists here (or earlier in the file)"
    return name, ""


def plan_import(document: Any, existing: Iterable[str], reserved: set[str]) -> ImportPlan:
    """Check every entry of an import file against the rules and the guild's names."""
    entries = _entries(document)
    plan = ImportPlan()
    if len(entries) > IMPORT_MAX_ENTRIES:
        plan.problems.append(
            f"the file holds {len(entries)} snippets; at most {IMPORT_MAX_ENTRIES}"
        )
        return plan
    taken = set(existing)
    for number, item in enumerate(entries, start=1):
        if not isinstance(item, Mapping):
            plan.problems.append(f"entry {number}: not a mapping with `name` and `content`")
            continue
        name, why = _check_name(item.get("name"), taken, reserved)
        if name is None:
            plan.problems.append(f"entry {number}: {why}")
            continue
        content = item.get("content")
        if not isinstance(content, str) or not content.strip():
            plan.problems.append(f"entry {number} (`{name}`): it has no `content` text")
            continue
        if len(content.strip()) > SNIPPET_CONTENT_LENGTH:
            plan.problems.append(
                f"entry {number} (`{name}`): the content is {len(content.strip()):,} characters; "
                f"at most {SNIPPET_CONTENT_LENGTH:,}"
            )
            continue
        taken.add(name)
        plan.snippets.append((name, content))
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list):
            plan.problems.append(f"entry {number} (`{name}`): `aliases` must be a list of names")
            continue
        for alias in aliases:
            if len(plan.aliases) >= IMPORT_MAX_ENTRIES:
                plan.problems.append(
                    f"entry {number} (`{name}`): over {IMPORT_MAX_ENTRIES} aliases"
                )
                break
            alias_name, why = _check_name(alias, taken, reserved)
            if alias_name is None:
                plan.problems.append(f"entry {number} (`{name}`), alias: {why}")
                continue
            taken.add(alias_name)
            plan.aliases.append((alias_name, name))
    return plan


def export_document(snippets: GuildSnippets, kind: str) -> str:
    """A guild's snippets (with their aliases) as an import file."""
    rows: list[dict[str, Any]] = []
    for entry in sorted(snippets.by_name.values(), key=lambda e: e.name):
        if entry.is_alias:
            continue
        row: dict[str, Any] = {"name": entry.name, "content": entry.content or ""}
        aliases = snippets.aliases_of(entry)
        if aliases:
            row["aliases"] = aliases
        rows.append(row)
    if kind == "yaml":
        return yaml.safe_dump(rows, sort_keys=False, allow_unicode=True, width=100)
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
