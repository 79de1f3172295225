"""CogDataStore: defaults, atomic writes, quarantine of corrupt files, flags, periodic saves."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord.utils
import pytest

from fish_bot.core import data as data_module
from fish_bot.core.data import CogDataStore
from fish_bot.core.files import atomic_write_text, read_json_or_quarantine

LOGGER = logging.getLogger("tests.cache_data")


@pytest.fixture
def store(tmp_path: Path) -> CogDataStore:
    return CogDataStore(tmp_path / "cog", LOGGER)


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` for up to about two seconds."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- load and save -------------------------------------------------------------------------


async def test_load_missing_returns_a_copy_of_the_default(store: CogDataStore) -> None:
    default: dict[str, Any] = {"users": {"1": [1, 2]}}
    loaded = await store.load_data("cache.json", default=default)
    assert loaded == default
    loaded["users"]["1"].append(3)
    loaded["new"] = True
    assert default == {"users": {"1": [1, 2]}}
    assert not store.directory.exists()  # nothing was written, nothing created
    assert store.corrupt_files == []


async def test_round_trip(store: CogDataStore) -> None:
    payload = {"name": "Fisch 🐟", "counts": [1, 2, 3], "nested": {"a": None, "b": 1.5}}
    await store.save_data(payload, "cache.json")

    path = store.directory / "cache.json"
    assert path.is_file()
    assert "🐟" in path.read_text(encoding="utf-8")  # ensure_ascii=False
    assert await store.load_data("cache.json", default={}) == payload
    assert store.save_count == 1


async def test_resolve_relative_and_absolute(store: CogDataStore, tmp_path: Path) -> None:
    assert store.resolve("a.json") == store.directory / "a.json"
    assert store.resolve(Path("sub") / "b.json") == store.directory / "sub" / "b.json"
    elsewhere = tmp_path / "elsewhere.json"
    assert store.resolve(elsewhere) == elsewhere

    await store.save_data([1], elsewhere)
    assert read_json(elsewhere) == [1]
    await store.save_data({"x": 1}, "sub/deeper/c.json")  # parents created lazily
    assert read_json(store.directory / "sub" / "deeper" / "c.json") == {"x": 1}


async def test_datetimes_and_sets_are_serialised(store: CogDataStore) -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    await store.save_data({"when": when, "tags": {"b", "c", "a"}}, "cache.json")
    assert read_json(store.directory / "cache.json") == {
        "when": "2024-05-06T07:08:09+00:00",
        "tags": ["a", "b", "c"],
    }


async def test_unserialisable_data_raises_before_touching_the_file(store: CogDataStore) -> None:
    await store.save_data({"ok": 1}, "cache.json")
    path = store.directory / "cache.json"
    before = path.read_bytes()

    with pytest.raises(TypeError, match="object"):
        await store.save_data({"bad": object()}, "cache.json")

    assert path.read_bytes() == before
    assert sorted(p.name for p in store.directory.iterdir()) == ["cache.json"]


async def test_failed_replace_keeps_the_original_and_leaves_no_temp_file(
    store: CogDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.save_data({"version": 1}, "cache.json")
    path = store.directory / "cache.json"
    original = path.read_bytes()

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(data_module.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        await store.save_data({"version": 2}, "cache.json")
    monkeypatch.undo()

    assert path.read_bytes() == original
    assert sorted(p.name for p in store.directory.iterdir()) == ["cache.json"]
    assert store.is_data_modified("cache.json")  # still unsaved: it will be retried


def test_atomic_write_text_helper(tmp_path: Path) -> None:
    target = tmp_path / "new" / "file.txt"
    atomic_write_text(target, "line 1\nline 2\n")
    assert target.read_bytes() == b"line 1\nline 2\n"
    atomic_write_text(target, "replaced")
    assert target.read_text(encoding="utf-8") == "replaced"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


# --- corrupt files -------------------------------------------------------------------------


async def test_corrupt_file_is_quarantined_logged_and_recorded(
    store: CogDataStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.directory.mkdir(parents=True)
    path = store.directory / "cache.json"
    garbage = b'{"users": {"1": [1, 2'  # torn JSON
    path.write_bytes(garbage)
    default: dict[str, Any] = {"users": {}}

    with caplog.at_level(logging.ERROR, logger=LOGGER.name):
        loaded = await store.load_data("cache.json", default=default)

    assert loaded == default
    assert loaded is not default
    assert not path.exists()
    quarantined = list(store.directory.glob("cache.json.corrupt-*"))
    assert len(quarantined) == 1
    assert quarantined[0].read_bytes() == garbage
    assert len(quarantined[0].name) == len("cache.json.corrupt-20240101T000000Z")

    assert len(store.corrupt_files) == 1
    record = store.corrupt_files[0]
    assert record.original == path
    assert record.quarantined == quarantined[0]
    assert "JSONDecodeError" in record.error

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert str(path) in errors[0].getMessage()
    assert str(quarantined[0]) in errors[0].getMessage()

    # The default replaces the corrupt file at the next save.
    assert store.is_data_modified("cache.json")
    assert await store.save_data_if_modified(loaded, "cache.json")
    assert read_json(path) == default


async def test_wrong_top_level_type_is_treated_as_corrupt(store: CogDataStore) -> None:
    store.directory.mkdir(parents=True)
    (store.directory / "cache.json").write_text("[1, 2, 3]", encoding="utf-8")
    assert await store.load_data("cache.json", default={}) == {}
    assert "expected a JSON object" in store.corrupt_files[0].error


async def test_quarantine_names_are_unique(
    store: CogDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    monkeypatch.setattr(discord.utils, "utcnow", lambda: fixed)
    store.directory.mkdir(parents=True)
    path = store.directory / "cache.json"
    for content in (b"not json", b"\xff\xfe broken"):
        path.write_bytes(content)
        assert await store.load_data("cache.json", default={"d": 1}) == {"d": 1}

    names = sorted(p.name for p in store.directory.glob("cache.json.corrupt-*"))
    assert names == [
        "cache.json.corrupt-20240102T030405Z",
        "cache.json.corrupt-20240102T030405Z-1",
    ]
    assert (store.directory / names[1]).read_bytes() == b"\xff\xfe broken"


def test_read_json_or_quarantine_helper(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    default = {"a": [1]}
    data, moved = read_json_or_quarantine(path, default, LOGGER)
    assert (data, moved) == (default, None)
    assert data is not default

    path.write_text('{"a": [2]}', encoding="utf-8")
    assert read_json_or_quarantine(path, default, LOGGER) == ({"a": [2]}, None)

    path.write_text("{", encoding="utf-8")
    data, moved = read_json_or_quarantine(path, default, LOGGER)
    assert data == default
    assert moved is not None
    assert moved.read_text(encoding="utf-8") == "{"


# --- modified flags ------------------------------------------------------------------------


async def test_modified_flags_are_per_file(store: CogDataStore) -> None:
    await store.load_data("a.json", default={})
    await store.load_data("b.json", default={})
    assert not store.is_data_modified()

    store.mark_data_modified("a.json")
    assert store.is_data_modified("a.json")
    assert not store.is_data_modified("b.json")
    assert store.is_data_modified()

    await store.save_data({"a": 1}, "a.json")
    assert not store.is_data_modified("a.json")
    assert not store.is_data_modified()


async def test_mark_all_marks_every_known_file(store: CogDataStore) -> None:
    await store.load_data("a.json", default={})
    await store.save_data({}, "b.json")
    store.mark_data_modified()
    assert store.is_data_modified("a.json")
    assert store.is_data_modified(store.directory / "b.json")  # same file, absolute path
    assert not store.is_data_modified("never-seen.json")


async def test_mark_all_before_any_file_applies_to_the_next_one(store: CogDataStore) -> None:
    cache = {"filled": "in __init__"}
    store.mark_data_modified()
    assert store.is_data_modified()

    assert await store.save_data_if_modified(cache, "cache.json")
    assert read_json(store.directory / "cache.json") == cache
    assert not store.is_data_modified()


async def test_save_if_modified_writes_only_when_flagged_or_forced(store: CogDataStore) -> None:
    path = store.directory / "cache.json"
    cache = await store.load_data("cache.json", default={})

    cache["x"] = 1
    assert not await store.save_data_if_modified(cache, "cache.json")
    assert not path.exists()

    store.mark_data_modified("cache.json")
    assert await store.save_data_if_modified(cache, "cache.json")
    assert read_json(path) == {"x": 1}
    assert not await store.save_data_if_modified(cache, "cache.json")

    cache["x"] = 2
    assert await store.save_data_if_modified(cache, "cache.json", force=True)
    assert read_json(path) == {"x": 2}
    assert store.save_count == 2


async def test_saves_of_one_file_never_overlap(
    store: CogDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = 0
    most_inside = 0
    guard = threading.Lock()
    real_write = data_module.atomic_write_text

    def slow_write(path: Path, text: str | Iterable[str]) -> int:
        nonlocal inside, most_inside
        with guard:
            inside += 1
            most_inside = max(most_inside, inside)
        time.sleep(0.01)
        written = real_write(path, text)
        with guard:
            inside -= 1
        return written

    monkeypatch.setattr(data_module, "atomic_write_text", slow_write)
    await asyncio.gather(*(store.save_data({"n": n}, "cache.json") for n in range(5)))
    assert most_inside == 1
    assert read_json(store.directory / "cache.json") == {"n": 4}  # last call wins


async def test_cancelled_caller_does_not_abort_the_write(
    store: CogDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    proceed = threading.Event()
    real_write = data_module.atomic_write_text

    def gated_write(path: Path, text: str | Iterable[str]) -> int:
        started.set()
        proceed.wait(5)
        return real_write(path, text)

    monkeypatch.setattr(data_module, "atomic_write_text", gated_write)
    saving = asyncio.create_task(store.save_data({"v": 1}, "cache.json"))
    await asyncio.to_thread(started.wait, 5)
    saving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await saving

    proceed.set()
    await store.close()  # waits for the write still in flight
    assert read_json(store.directory / "cache.json") == {"v": 1}


# --- periodic saves ------------------------------------------------------------------------


async def test_periodic_save_writes_modified_data(store: CogDataStore) -> None:
    path = store.directory / "cache.json"
    cache = await store.load_data("cache.json", default={})
    task = await store.create_periodic_save_task(cache, "cache.json", save_interval=0.02)

    await asyncio.sleep(0.06)
    assert not path.exists()  # nothing modified yet

    cache["score"] = 10  # mutated in place, as a cog does
    store.mark_data_modified("cache.json")
    await wait_until(path.exists)
    assert read_json(path) == {"score": 10}
    assert not store.is_data_modified()
    assert not task.done()
    store.cancel_save_tasks()


async def test_periodic_save_accepts_a_callable(store: CogDataStore) -> None:
    state: dict[str, Any] = {"cache": {"v": 1}}
    await store.create_periodic_save_task(lambda: state["cache"], "cache.json", 0.02)
    state["cache"] = {"v": 2}  # the cog rebinds its attribute
    store.mark_data_modified()
    await wait_until(lambda: (store.directory / "cache.json").exists())
    assert read_json(store.directory / "cache.json") == {"v": 2}
    store.cancel_save_tasks()


async def test_periodic_save_survives_a_failing_save(
    store: CogDataStore, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    def source() -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("source broke once")
        return {"calls": calls}

    store.mark_data_modified("cache.json")
    with caplog.at_level(logging.ERROR, logger=LOGGER.name):
        task = await store.create_periodic_save_task(source, "cache.json", 0.02)
        await wait_until(lambda: (store.directory / "cache.json").exists())

    assert read_json(store.directory / "cache.json") == {"calls": 2}
    failures = [r for r in caplog.records if "Periodic save" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None  # logged with the traceback
    assert not task.done()
    store.cancel_save_tasks()


async def test_replacing_a_periodic_task_cancels_the_old_one(store: CogDataStore) -> None:
    first = await store.create_periodic_save_task({}, "cache.json", 10)
    second = await store.create_periodic_save_task({}, "cache.json", 10)
    await asyncio.sleep(0)
    assert first.cancelled()
    assert not second.done()
    assert store.save_tasks == {store.directory / "cache.json": second}
    store.cancel_save_tasks()


async def test_cancel_save_tasks_stops_them(store: CogDataStore) -> None:
    tasks = [
        await store.create_periodic_save_task({"a": 1}, "a.json", 0.02),
        await store.create_periodic_save_task({"b": 1}, "b.json", 0.02),
    ]
    store.cancel_save_tasks()
    await asyncio.sleep(0)
    assert all(task.cancelled() for task in tasks)
    assert store.save_tasks == {}

    store.mark_data_modified()
    await asyncio.sleep(0.08)
    assert not store.directory.exists()


async def test_periodic_interval_must_be_positive(store: CogDataStore) -> None:
    with pytest.raises(ValueError):
        await store.create_periodic_save_task({}, "cache.json", 0)


async def test_flush_saves_registered_modified_files(store: CogDataStore) -> None:
    cache = {"k": "v"}
    await store.create_periodic_save_task(cache, "cache.json", 60)
    assert await store.flush() == 0
    store.mark_data_modified()
    assert await store.flush() == 1
    assert read_json(store.directory / "cache.json") == cache
    assert await store.flush({"other.json": [1]}) == 0  # not modified
    store.cancel_save_tasks()


# --- serialising off the event loop ------------------------------------------------------------


class GatedDict(dict[str, Any]):
    """A mapping whose ``items()`` (called by the JSON encoder) waits for the event loop.

    If the JSON were made on the event loop's thread, the loop could not run the ticker that
    opens the gate, and the wait would time out.
    """

    opened = threading.Event()

    def items(self) -> Any:
        if not GatedDict.opened.wait(10):
            raise AssertionError("the event loop stood still while the data was serialised")
        return super().items()

    def __reduce__(self) -> Any:  # pickled without calling items()
        return (GatedDict, (dict(self),))


async def test_save_serialises_in_the_worker_thread_while_the_loop_runs(
    store: CogDataStore,
) -> None:
    GatedDict.opened.clear()
    cache: dict[str, Any] = {
        "users": {str(n): {"xp": n, "name": f"user {n}"} for n in range(20_000)},
        "gated": GatedDict(a=1),
    }
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            if ticks == 3:
                cache["late"] = True  # the cog changes its data while the file is written
                GatedDict.opened.set()
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    try:
        await store.save_data(cache, "cache.json")
    finally:
        ticking.cancel()
    saved = read_json(store.directory / "cache.json")
    assert saved["gated"] == {"a": 1}
    assert len(saved["users"]) == 20_000
    assert "late" not in saved  # the snapshot taken when the save started was written
    assert ticks >= 3


async def test_unpicklable_data_is_still_refused_before_the_file_is_touched(
    store: CogDataStore,
) -> None:
    await store.save_data({"ok": 1}, "cache.json")
    with pytest.raises(TypeError, match="lock"):
        await store.save_data({"bad": threading.Lock()}, "cache.json")
    assert read_json(store.directory / "cache.json") == {"ok": 1}
    assert not store.is_data_modified("cache.json")


# --- what is at a cache path -------------------------------------------------------------------


async def test_a_file_over_the_size_limit_is_quarantined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = CogDataStore(tmp_path / "cog", LOGGER, max_file_bytes=1024)
    store.directory.mkdir(parents=True)
    path = store.directory / "cache.json"
    big = json.dumps({"blob": "x" * 2000})
    path.write_text(big, encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger=LOGGER.name):
        assert await store.load_data("cache.json", default={"d": 1}) == {"d": 1}
    assert not path.exists()
    [moved] = store.directory.glob("cache.json.corrupt-*")
    assert moved.read_text(encoding="utf-8") == big
    assert "over the size limit" in store.corrupt_files[0].error
    message = caplog.records[-1].getMessage()
    assert "over the size limit of 0.0 MiB (FISHBOT_CACHE_FILE_MAX_BYTES)" in message
    assert str(moved) in message
    # a file within the limit loads as usual
    path.write_text('{"small": true}', encoding="utf-8")
    assert await store.load_data("cache.json", default={}) == {"small": True}


async def test_a_save_over_the_load_limit_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Written whole (nothing is lost now), but the next load would set it aside: say so."""
    store = CogDataStore(tmp_path / "cog", LOGGER, max_file_bytes=1024)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        await store.save_data({"small": True}, "cache.json")
        assert not caplog.records
        await store.save_data({"blob": "x" * 2000}, "cache.json")
    assert read_json(store.directory / "cache.json") == {"blob": "x" * 2000}
    [warning] = caplog.records
    assert "over the load limit of 0.0 MiB (FISHBOT_CACHE_FILE_MAX_BYTES)" in warning.getMessage()


async def test_a_directory_at_a_cache_path_is_quarantined(store: CogDataStore) -> None:
    path = store.directory / "cache.json"
    (path / "inside").mkdir(parents=True)
    assert await store.load_data("cache.json", default={"d": 1}) == {"d": 1}
    assert "a directory" in store.corrupt_files[0].error
    [moved] = store.directory.glob("cache.json.corrupt-*")
    assert (moved / "inside").is_dir()
    assert await store.save_data_if_modified({"d": 1}, "cache.json")  # the default replaces it
    assert read_json(path) == {"d": 1}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs exist on POSIX only")
async def test_a_fifo_at_a_cache_path_is_quarantined_without_blocking(
    store: CogDataStore,
) -> None:
    store.directory.mkdir(parents=True)
    path = store.directory / "cache.json"
    os.mkfifo(path)
    loaded = await asyncio.wait_for(store.load_data("cache.json", default={"d": 1}), 10)
    assert loaded == {"d": 1}
    assert "named pipe" in store.corrupt_files[0].error
    [moved] = store.directory.glob("cache.json.corrupt-*")
    assert stat.S_ISFIFO(moved.lstat().st_mode)
    assert not path.exists()


# --- stale temp files --------------------------------------------------------------------------


async def test_stale_temp_files_are_removed_at_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "cog"
    folder.mkdir()
    stale = [folder / ".cache.json.0123456789ab.tmp", folder / ".other.json.a1b2c3d4e5f6.tmp"]
    for path in stale:
        path.write_text("torn", encoding="utf-8")
        os.utime(path, (time.time() - 60, time.time() - 60))
    kept = [
        folder / "notes.tmp",  # not a name atomic writes use
        folder / ".cache.json.0123.tmp",
        folder / "cache.json",
    ]
    for path in kept:
        path.write_text("{}", encoding="utf-8")
    (folder / ".dir.0123456789ab.tmp").mkdir()  # a folder is never removed

    store = CogDataStore(folder, LOGGER)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert await store.load_data("cache.json", default={}) == {}
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert (folder / ".dir.0123456789ab.tmp").is_dir()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Removed 2 stale temp file(s)" in warnings[0]


async def test_temp_files_of_writes_in_progress_are_kept(
    store: CogDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    proceed = threading.Event()
    real_write = data_module.atomic_write_text

    def gated_write(path: Path, pieces: str | Iterable[str]) -> int:
        text = pieces if isinstance(pieces, str) else "".join(pieces)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.parent / f".{path.name}.ffffffffffff.tmp"
        temp.write_text(text, encoding="utf-8")
        os.utime(temp, (time.time() - 60, time.time() - 60))
        started.set()
        proceed.wait(10)
        temp.unlink()
        return real_write(path, text)

    monkeypatch.setattr(data_module, "atomic_write_text", gated_write)
    saving = asyncio.create_task(store.save_data({"v": 1}, "a.json"))
    await asyncio.to_thread(started.wait, 10)
    assert await store.load_data("b.json", default={}) == {}  # sweeps the folder
    assert (store.directory / ".a.json.ffffffffffff.tmp").exists()
    proceed.set()
    await saving
    assert read_json(store.directory / "a.json") == {"v": 1}


async def test_a_large_cache_written_in_pieces_reads_back_whole(store: CogDataStore) -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    cache: dict[Any, Any] = {
        "list": [{"n": n, "tags": ["a", "b"]} for n in range(60_000)],  # several MiB
        "guilds": {str(g): {str(u): u * g for u in range(300)} for g in range(400)},
        "dated": {str(n): when for n in range(30_000)},  # pickled pieces
        7: "an int key",
        "one": [list(range(300_000))],  # a single huge element, split further
    }
    expected = json.loads(data_module.to_json_text(cache))
    await store.save_data(cache, "cache.json")
    saved = read_json(store.directory / "cache.json")
    assert saved == expected
    assert list(saved) == ["list", "guilds", "dated", "7", "one"]  # order kept
