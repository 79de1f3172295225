"""The off-loop JSON copy of cache data: a snapshot taken on the loop, serialised elsewhere.

The event loop only takes a snapshot of the data (:mod:`marshal`, or :mod:`pickle` for other
types: C code, tens of times faster than the JSON encoder), cut into pieces that a worker thread
rebuilds one by one, so the cog may keep mutating its object while the file is written and the
loop keeps answering. :func:`to_json_text` is the JSON every data file is written in;
:func:`json_chunks` writes the same text from a snapshot piece by piece, each piece rebuilt,
encoded and dropped before the next, so a large cache is never a whole second copy of objects
in memory (whose garbage collection would hold the GIL for seconds) nor one huge string. Used
by :class:`fish_bot.core.data.CogDataStore`.
"""

from __future__ import annotations

import json
import marshal
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dt_time
from itertools import islice
from typing import Any

__all__ = ["json_chunks", "to_json_text"]


def _json_default(value: object) -> Any:
    """``json`` fallback: datetimes to ISO text, sets to sorted lists, anything else refused."""
    if isinstance(value, datetime | date | dt_time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        try:
            return sorted(value)
        except TypeError:  # mixed element types: still deterministic
            return sorted(value, key=repr)
    raise TypeError(f"a value of type {type(value).__name__} is not JSON-serialisable")


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)


def to_json_text(data: Any, *, what: str = "data") -> str:
    """Serialise ``data`` as the JSON text written to data files.

    Indented by 2, non-ASCII kept as is, newline-terminated. :class:`~datetime.datetime`,
    :class:`~datetime.date` and :class:`~datetime.time` become ISO strings, sets sorted lists.
    Any other value JSON cannot represent raises :class:`TypeError` naming ``what``.
    """
    with _naming(what):
        return _dumps(data) + "\n"


@contextmanager
def _naming(what: str) -> Iterator[None]:
    """JSON's refusals (a value it cannot represent, a circular reference) naming ``what``."""
    try:
        yield
    except TypeError as exc:
        raise TypeError(f"cannot save {what} as JSON: {exc}") from exc
    except ValueError as exc:  # circular reference
        raise ValueError(f"cannot save {what} as JSON: {exc}") from exc


_CHUNK_BYTES = 1024 * 1024
"""Snapshot pieces are at most about this size: rebuilding one holds the GIL only briefly."""
_SPLIT_DEPTH = 32
_BATCH_ITEMS = 1000
"""A container's items are copied in runs of at most this many."""


@dataclass(frozen=True, slots=True)
class _Leaf:
    """Bytes of :mod:`marshal` or :mod:`pickle`: a whole value, or (in a :class:`_Split`) a
    run of a container's items (``(key, value)`` pairs of a dict, elements of a list)."""

    codec: str
    blob: bytes


@dataclass(frozen=True, slots=True)
class _Entry:
    """One item of a split container (``key`` unused for a list) whose value is split too."""

    key: Any
    node: _Leaf | _Split


@dataclass(frozen=True, slots=True)
class _Split:
    """A dict or list copied in pieces: runs of items (:class:`_Leaf`) and large items."""

    kind: type
    parts: list[_Leaf | _Entry]


def _encode(value: Any) -> _Leaf:
    """``value`` in bytes: :mod:`marshal` (plain dicts, lists, strings, numbers) is the
    fastest; :mod:`pickle` takes the rest (datetimes, subclasses). Raises when neither can."""
    try:
        return _Leaf("marshal", marshal.dumps(value))
    except ValueError:  # a type marshal does not know, or nested too deeply for it
        return _Leaf("pickle", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _decode(leaf: _Leaf) -> Any:
    if leaf.codec == "marshal":
        return marshal.loads(leaf.blob)
    return pickle.loads(leaf.blob)  # our own bytes, made a moment ago


def _freeze(value: Any, depth: int = 0) -> _Leaf | _Split:
    """Copy ``value`` into bytes, in pieces of at most about :data:`_CHUNK_BYTES`.

    A dict or list is copied as runs of its items, each run encoded once; a run that comes out
    too large is halved, down to single items, whose values are split in turn. The worker
    thread then rebuilds, encodes and drops one piece at a time, and the event loop gets the
    GIL between pieces. Everything runs in C on the caller's thread without yielding, so the
    snapshot is consistent. Raises when a value can be held by neither codec.
    """
    if type(value) not in (dict, list) or not value or depth >= _SPLIT_DEPTH:
        return _encode(value)
    keyed = type(value) is dict
    parts: list[_Leaf | _Entry] = []
    if len(value) <= _BATCH_ITEMS:  # few items: a large one is split without a trial copy
        run: list[Any] = []
        for item in value.items() if keyed else value:
            child = item[1] if keyed else item
            if type(child) in (dict, list) and len(child) > _BATCH_ITEMS:
                if run:
                    _freeze_run(run, keyed, depth, parts)
                    run = []
                parts.append(_Entry(item[0] if keyed else None, _freeze(child, depth + 1)))
            else:
                run.append(item)
        if run:
            _freeze_run(run, keyed, depth, parts)
        return _Split(type(value), parts)
    # Run by run: only one run's item tuples exist at a time (millions of them at once would
    # set off a full garbage collection, seconds long, of everything the process holds).
    iterator = iter(value.items() if keyed else value)
    while batch := list(islice(iterator, _BATCH_ITEMS)):
        _freeze_run(batch, keyed, depth, parts)
    return _Split(type(value), parts)


def _freeze_run(run: list[Any], keyed: bool, depth: int, parts: list[_Leaf | _Entry]) -> None:
    leaf = _encode(run)
    if len(leaf.blob) <= _CHUNK_BYTES:
        parts.append(leaf)
    elif len(run) == 1:
        key, child = run[0] if keyed else (None, run[0])
        parts.append(_Entry(key, _freeze(child, depth + 1)))
    else:
        half = len(run) // 2
        _freeze_run(run[:half], keyed, depth, parts)
        _freeze_run(run[half:], keyed, depth, parts)


def _snapshot(data: Any) -> _Leaf | _Split | None:
    """A consistent copy of ``data`` to serialise elsewhere; None when it cannot be copied."""
    try:
        return _freeze(data)
    except Exception:  # unpicklable: serialise on the caller's thread instead
        return None


# --- the JSON text of a snapshot, piece by piece ---------------------------------------------


def json_chunks(snapshot: _Leaf | _Split, *, what: str = "data") -> Iterator[str]:
    """The text :func:`to_json_text` makes of the snapshotted data, in pieces (worker thread).

    Each piece of the snapshot is rebuilt, encoded and dropped before the next one; the
    containers the snapshot was cut at are written here, with the same indentation and
    separators as ``json.dumps(indent=2)`` (JSON text holds no raw newline inside a string, so
    a piece encoded on its own is indented by prefixing its lines). Raises like
    :func:`to_json_text`, possibly after some pieces were produced.
    """
    with _naming(what):
        yield from _node_chunks(snapshot, 0)
    yield "\n"


def _indented(text: str, level: int) -> str:
    return text.replace("\n", "\n" + "  " * level) if level else text


def _node_chunks(node: _Leaf | _Split, level: int) -> Iterator[str]:
    if isinstance(node, _Leaf):
        yield _indented(_dumps(_decode(node)), level)
        return
    keyed = node.kind is dict
    opening, closing = ("{", "}") if keyed else ("[", "]")
    inner = "\n" + "  " * level
    first = True
    for part in node.parts:
        head = opening if first else ","
        first = False
        if isinstance(part, _Entry):
            key = _dumps(_key_text(part.key)) + ": " if keyed else ""
            yield head + inner + "  " + key
            yield from _node_chunks(part.node, level + 1)
        else:
            # A run encoded at once, as the container of its items alone: its lines between
            # the brackets are the items, indented one step deeper than this container.
            run = _decode(part)
            text = _dumps(dict(run) if keyed else run)
            yield head + inner + _indented(text[2:-2], level)
    yield opening + closing if first else inner + closing


def _key_text(key: Any) -> str:
    """A dict key as ``json`` writes it (the same rules and error)."""
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
