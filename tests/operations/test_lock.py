"""The run lock <data_dir>/fish_bot.pid."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fish_bot.operations.lock import (
    BotRunningError,
    RunLock,
    lock_path,
    refuse_if_running,
    running_bot,
)

from .conftest import FAKE_TOKEN, Instance


@pytest.fixture
def other_process() -> Iterator[int]:
    """A live process that is not this one."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def write_lock(data_dir: Path, pid: int, host: str | None = None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_path(data_dir).write_text(
        json.dumps({"pid": pid, "host": host or socket.gethostname(), "started_at": "x"})
    )


def test_lock_is_taken_and_released(tmp_path: Path) -> None:
    with RunLock(tmp_path / "data") as lock:
        assert lock.path.is_file()
        info = running_bot(tmp_path / "data")
        assert info is not None and info.pid == __import__("os").getpid()
        with pytest.raises(BotRunningError):
            refuse_if_running(tmp_path / "data", "restore a backup")
    assert not lock.path.exists()
    assert running_bot(tmp_path / "data") is None


def test_a_live_holder_blocks_a_second_bot(tmp_path: Path, other_process: int) -> None:
    write_lock(tmp_path, other_process)
    with pytest.raises(BotRunningError, match=f"pid {other_process}"):
        RunLock(tmp_path).acquire()
    assert json.loads(lock_path(tmp_path).read_text())["pid"] == other_process


def test_a_dead_holder_is_stale(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    write_lock(tmp_path, process.pid)
    assert running_bot(tmp_path) is None
    lock = RunLock(tmp_path)
    lock.acquire()
    assert lock.held
    lock.release()


def test_a_lock_from_another_host_counts_as_held(tmp_path: Path) -> None:
    write_lock(tmp_path, 12345, host="some-other-host")
    info = running_bot(tmp_path)
    assert info is not None and "on host some-other-host" in info.describe()


def test_garbage_lock_is_ignored(tmp_path: Path) -> None:
    lock_path(tmp_path).write_text("not json")
    assert running_bot(tmp_path) is None


def test_run_refuses_a_second_bot(
    make_instance: Callable[[str], Instance], other_process: int
) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    write_lock(instance.data_dir, other_process)
    result = instance.cli("run")
    assert result.exit_code == 1
    assert "Another Fish Bot is running" in " ".join(result.output.split())
