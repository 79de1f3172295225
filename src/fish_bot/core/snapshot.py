"""The off-loop JSON copy of cache data: a snapshot taken on the loop, serialised elsewhere.

The event loop only takes a snapshot of the data (:mod:`marshal`, or :mod:`pickle` for other
types: C code, tens of times faster than the JSON encoder), cut into pieces that a worker thread
rebuilds one by one with :func:`_thaw`, so the cog may keep mutating its object while the file is
written and the loop keeps answering. :func:`to_json_text` is the JSON every data file is written
in. Used by :class:`fish_bot.core.data.CogDataStore`.
"""

from __future__ import annotations

import json
import marshal
import pickle
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dt_time
from typing import Any

__all__ = ["to_json_text"]


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


def to_json_text(data: Any, *, what: str = "data") -> str:
    """Serialise ``data`` as the JSON text written to data files.

    Indented by 2, non-ASCII kept as is, newline-terminated. :class:`~datetime.datetime`,
    :class:`~datetime.date` and :class:`~datetime.time` become ISO strings, sets sorted lists.
    Any other value JSON cannot represent raises :class:`TypeError` naming ``what``.
    """
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    except TypeError as exc:
        raise TypeError(f"cannot save {what} as JSON: {exc}") from exc
    except ValueError as exc:  # circular reference
        raise ValueError(f"cannot save {what} as JSON: {exc}") from exc


_CHUNK_BYTES = 1024 * 1024
"""Snapshot pieces are about this size: rebuilding one holds the GIL only briefly."""
_SPLIT_DEPTH = 32
_BATCH_ITEMS = 1000


@dataclass(frozen=True, slots=True)
class _Leaf:
    """A piece of a snapshot: bytes of :mod:`marshal` or :mod:`pickle`."""

    codec: str
    blob: bytes


@dataclass(frozen=True, slots=True)
class _Entry:
    """One dict entry (or list element, ``key`` unused) whose value is split further."""

    key: Any
    node: _Leaf | _Split


@dataclass(frozen=True, slots=True)
class _Split:
    """A dict or list cut into pieces, each rebuilt on its own in the worker thread."""

    kind: type
    parts: list[_Leaf | _Split | _Entry]


def _freeze(value: Any, depth: int = 0) -> _Leaf | _Split:
    """Copy ``value`` into bytes, cut into pieces of about :data:`_CHUNK_BYTES`.

    :mod:`marshal` (plain dicts, lists, strings, numbers) is tried first, being the fastest;
    :mod:`pickle` takes the rest (datetimes, subclasses). A large plain dict or list is cut
    into slices, so that the worker thread rebuilds it piece by piece and the event loop gets
    the GIL between pieces. Everything runs in C on the caller's thread without yielding, so
    the snapshot is consistent. Raises when a value can be held by neither codec.
    """
    splittable = type(value) in (dict, list) and len(value) > 1 and depth < _SPLIT_DEPTH
    try:
        blob: bytes | None = marshal.dumps(value)
    except ValueError:  # a type marshal does not know, or nested too deeply for it
        blob = None
    if blob is not None and (len(blob) <= _CHUNK_BYTES or not splittable):
        return _Leaf("marshal", blob)
    if not splittable:
        return _Leaf("pickle", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    pieces = -(-len(blob) // _CHUNK_BYTES) if blob is not None else -(-len(value) // _BATCH_ITEMS)
    size = max(1, -(-len(value) // max(2, pieces)))
    items: list[Any] = list(value.items()) if type(value) is dict else list(value)
    parts: list[_Leaf | _Split | _Entry] = []
    for start in range(0, len(items), size):
        batch = items[start : start + size]
        if len(batch) == 1:
            key, child = batch[0] if type(value) is dict else (None, batch[0])
            parts.append(_Entry(key, _freeze(child, depth + 1)))
        else:
            parts.append(_freeze(dict(batch) if type(value) is dict else batch, depth + 1))
    return _Split(type(value), parts)


def _snapshot(data: Any) -> _Leaf | _Split | None:
    """A consistent copy of ``data`` to serialise elsewhere; None when it cannot be copied."""
    try:
        return _freeze(data)
    except Exception:  # unpicklable: serialise on the caller's thread instead
        return None


def _thaw(node: _Leaf | _Split | _Entry) -> Any:
    """Rebuild a snapshot (worker thread): piece by piece, giving the GIL away between them."""
    if isinstance(node, _Leaf):
        if node.codec == "marshal":
            return marshal.loads(node.blob)
        return pickle.loads(node.blob)  # our own bytes, made a moment ago
    if isinstance(node, _Entry):
        return _thaw(node.node)
    if node.kind is dict:
        mapping: dict[Any, Any] = {}
        for part in node.parts:
            if isinstance(part, _Entry):
                mapping[part.key] = _thaw(part.node)
            else:
                mapping.update(_thaw(part))
        return mapping
    sequence: list[Any] = []
    for part in node.parts:
        if isinstance(part, _Entry):
            sequence.append(_thaw(part.node))
        else:
            sequence.extend(_thaw(part))
    return sequence
