"""Settings files read within fixed limits and written atomically (``fish-bot settings``).

Reading is bounded: a file over :data:`MAX_FILE_BYTES`, nested deeper than :data:`MAX_DEPTH`,
holding more than :data:`MAX_NODES` values once YAML aliases are expanded (an "alias bomb"), or
not UTF-8 text is refused with one line. Every value quoted in a problem is clipped.

The format of the file is described in :mod:`fish_bot.operations.settings_io`.
"""

from __future__ import annotations

import asyncio
import json
import reprlib
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from fish_bot.core.files import atomic_write_text
from fish_bot.core.text import clip
from fish_bot.exceptions import FishBotError, UserFacingError

#: Limits on what a settings file may hold (an export is far below them).
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
"""Nesting levels of mappings and lists (an export uses 7)."""
MAX_NODES = 1_000_000
"""Values (mappings, lists, scalars), counted with every YAML alias expanded."""
MAX_ALIASES = 10_000
#: How much of a value a problem line quotes, and how many problems are listed.
SHOWN_LENGTH = 60
PROBLEM_LENGTH = 300
PROBLEMS_LISTED = 50

_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxstring = SHOWN_LENGTH
_REPR.maxother = SHOWN_LENGTH
_REPR.maxlong = 25
for _attribute in ("maxdict", "maxlist", "maxtuple", "maxset", "maxfrozenset"):
    setattr(_REPR, _attribute, 4)


def shown(value: Any) -> str:
    """``repr(value)`` for a problem line: bounded work, at most :data:`SHOWN_LENGTH` chars."""
    return clip(_REPR.repr(value), SHOWN_LENGTH)


def _name(value: Any) -> str:
    """A key (cog, setting, command) as written in the file, clipped."""
    return clip(str(value), SHOWN_LENGTH) if isinstance(value, str) else shown(value)


class SettingsFileError(FishBotError):
    """A settings file cannot be read, or holds bad values; ``problems`` lists each one.

    Each problem is one line of at most :data:`PROBLEM_LENGTH` characters; the message lists
    the first :data:`PROBLEMS_LISTED`.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = [clip(" ".join(str(p).split()), PROBLEM_LENGTH) for p in problems]
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        listed = [f"  - {problem}" for problem in self.problems[:PROBLEMS_LISTED]]
        if count > PROBLEMS_LISTED:
            listed.append(f"  - ... and {count - PROBLEMS_LISTED} more")
        lines = "\n".join(listed)
        super().__init__(f"{head} in the settings file; nothing was changed:\n{lines}")


# --- reading and writing files ----------------------------------------------------------------


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    raise UserFacingError(f"{path.name}: use a .yaml, .yml or .json file name")


def dump_document(data: Mapping[str, Any], kind: str) -> str:
    if kind == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)


class _TooMuch(Exception):
    """A settings file goes over one of the reading limits."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting limit and a cap on aliases and expanded size."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _TooMuch(f"it uses more than {MAX_ALIASES} YAML aliases")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooMuch(f"it is nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _measure(node, _node_children)
        return node


def _node_children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _value_children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [part for pair in value.items() for part in pair]
    if isinstance(value, list):
        return list(value)
    return []


def _measure(root: Any, children_of: Any) -> None:
    """Refuse a document whose expanded size or depth is over the limits (no recursion).

    A node reached twice (a YAML alias) counts each time it is reached; its size is computed
    once. A node that contains itself (a recursive alias) is refused.
    """
    done: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = children_of(node)
        if finished:
            size = 1 + sum(done[id(child)][0] for child in children)
            depth = 1 + max((done[id(child)][1] for child in children), default=0)
            if size > MAX_NODES:
                raise _TooMuch(f"it holds more than {MAX_NODES:,} values (YAML aliases expanded)")
            if depth > MAX_DEPTH:
                raise _TooMuch(f"it is nested deeper than {MAX_DEPTH} levels (aliases expanded)")
            done[key] = (size, depth)
            open_nodes.discard(key)
            continue
        if key in done:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise _TooMuch("a YAML alias refers to a value that contains it")
            if id(child) not in done:
                stack.append((child, False))


def load_document(text: str, kind: str, name: str) -> Any:
    """Parse a settings file's text within the reading limits; one problem line when bad."""
    try:
        if kind == "json":
            document = json.loads(text)
            _measure(document, _value_children)
            return document
        return yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader subclass
    except _TooMuch as error:
        raise SettingsFileError([f"{name} is refused: {error}"]) from None
    except RecursionError:
        raise SettingsFileError(
            [f"{name} is refused: it is nested deeper than {MAX_DEPTH} levels"]
        ) from None
    except (ValueError, yaml.YAMLError) as error:
        detail = clip(" ".join(str(error).split()), 200)
        raise SettingsFileError([f"{name} is not valid {kind.upper()}: {detail}"]) from None


async def write_file(path: Path, data: Mapping[str, Any]) -> None:
    text = dump_document(data, file_format(path))
    await asyncio.to_thread(atomic_write_text, path, text)


def _read_text(path: Path) -> str:
    """The file's text (UTF-8, a BOM allowed), refused over :data:`MAX_FILE_BYTES`. Blocking."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or device would block or never end
            raise UserFacingError(f"{path} is not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise UserFacingError(f"Cannot read {path}: {error.strerror or error}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SettingsFileError(
            [f"{path.name} is refused: it is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SettingsFileError(
            [
                f"{path.name} is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
                f"{error.start}): save it as UTF-8"
            ]
        ) from None


async def read_file(path: Path) -> Any:
    kind = file_format(path)
    text = await asyncio.to_thread(_read_text, path)
    return await asyncio.to_thread(load_document, text, kind, path.name)
