"""core/snapshot.py: the piecewise JSON of a snapshot is exactly the JSON of the data."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fish_bot.core import snapshot
from fish_bot.core.files import atomic_write_text
from fish_bot.core.snapshot import json_chunks, to_json_text

KEYS = st.one_of(
    st.text(max_size=6),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),  # newlines, quotes, non-ASCII: escaped inside JSON strings
    st.just(datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),  # a pickled piece
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=8), st.dictionaries(KEYS, inner, max_size=8)),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None)
@given(data=DATA)
def test_the_pieces_make_the_same_text_as_one_dump(data: Any) -> None:
    # Tiny pieces and runs, so that every container is cut and the cuts are written here.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snapshot, "_CHUNK_BYTES", 24)
        patch.setattr(snapshot, "_BATCH_ITEMS", 3)
        frozen = snapshot._snapshot(data)
    assert frozen is not None
    assert "".join(json_chunks(frozen)) == to_json_text(data)


def test_a_large_single_key_is_cut_into_pieces() -> None:
    """One key holding everything (the shape of most caches) is still cut, and no piece is
    much over the size limit."""
    data = {"users": {str(n): {"xp": n, "name": f"user {n}"} for n in range(50_000)}}
    frozen = snapshot._snapshot(data)
    assert isinstance(frozen, snapshot._Split)
    [entry] = frozen.parts
    assert isinstance(entry, snapshot._Entry) and isinstance(entry.node, snapshot._Split)
    pieces = entry.node.parts
    assert len(pieces) >= 40
    assert all(
        isinstance(p, snapshot._Leaf) and len(p.blob) <= snapshot._CHUNK_BYTES for p in pieces
    )
    assert "".join(json_chunks(frozen)) == to_json_text(data)


def test_a_value_json_refuses_fails_the_write_and_keeps_the_old_file(tmp_path: Path) -> None:
    """The refusal may come after some pieces were written: the temp file goes, the file
    keeps its previous content."""
    path = tmp_path / "cache.json"
    atomic_write_text(path, to_json_text({"ok": 1}))
    frozen = snapshot._snapshot({"a": list(range(10)), "b": Decimal("1.5")})
    assert frozen is not None
    with pytest.raises(TypeError, match=r"cannot save cache as JSON: .*Decimal"):
        atomic_write_text(path, json_chunks(frozen, what="cache"))
    assert path.read_text(encoding="utf-8") == to_json_text({"ok": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["cache.json"]


def test_atomic_write_text_takes_pieces_and_returns_the_size(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    pieces = ["é" * 10, "", "b" * (1 << 21), "\n"]
    assert atomic_write_text(path, iter(pieces)) == 20 + (1 << 21) + 1  # "é" is 2 bytes
    assert path.read_text(encoding="utf-8") == "".join(pieces)
    assert atomic_write_text(path, "plain") == 5
