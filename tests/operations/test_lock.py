"""The run lock <data_dir>/fish_bot.pid."""

from __future__ import annotations

import json
import os
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

HOLDER = """
import sys, time
from pathlib import Path
from fish_bot.operations.lock import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def hold_lock() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start another process that takes the run lock of a data folder and keeps it."""
    processes: list[subprocess.Popen[str]] = []

    def start(data_dir: Path) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(data_dir)], stdout=subprocess.PIPE, text=True
        )
        processes.append(process)
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        return process

    yield start
    for process in processes:
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
        assert info is not None and info.pid == os.getpid()
        with pytest.raises(BotRunningError):
            refuse_if_running(tmp_path / "data", "restore a backup")
    assert not lock.path.exists()
    assert running_bot(tmp_path / "data") is None


def test_a_live_holder_blocks_a_second_bot(
    tmp_path: Path, hold_lock: Callable[[Path], subprocess.Popen[str]]
) -> None:
    holder = hold_lock(tmp_path)
    with pytest.raises(BotRunningError, match=f"pid {holder.pid}"):
        RunLock(tmp_path).acquire()
    assert json.loads(lock_path(tmp_path).read_text())["pid"] == holder.pid
    info = running_bot(tmp_path)
    assert info is not None and info.pid == holder.pid


def test_a_killed_holder_releases_the_lock_at_once(
    tmp_path: Path, hold_lock: Callable[[Path], subprocess.Popen[str]]
) -> None:
    """kill -9 leaves the note behind, but the OS released the lock with the process."""
    holder = hold_lock(tmp_path)
    holder.kill()
    holder.wait()
    assert json.loads(lock_path(tmp_path).read_text())["pid"] == holder.pid
    assert running_bot(tmp_path) is None
    with RunLock(tmp_path) as lock:
        assert lock.held
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()


def test_a_note_whose_pid_is_alive_but_holds_no_lock_is_stale(tmp_path: Path) -> None:
    """A reused process id (or any live process) without the OS lock does not block a start."""
    write_lock(tmp_path, os.getppid())
    assert running_bot(tmp_path) is None
    with RunLock(tmp_path) as lock:
        assert lock.held


def test_a_second_lock_in_the_same_process_is_refused(tmp_path: Path) -> None:
    with RunLock(tmp_path), pytest.raises(BotRunningError):
        RunLock(tmp_path).acquire()
    with RunLock(tmp_path) as again:  # released: free again
        assert again.held


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
    make_instance: Callable[[str], Instance], hold_lock: Callable[[Path], subprocess.Popen[str]]
) -> None:
    instance = make_instance("one")
    instance.extra_env["DISCORD_TOKEN"] = FAKE_TOKEN
    hold_lock(instance.data_dir)
    result = instance.cli("run")
    assert result.exit_code == 1
    assert "Another Fish Bot is running" in " ".join(result.output.split())
