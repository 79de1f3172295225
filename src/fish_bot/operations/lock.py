"""The run lock of a data folder, held while ``fish-bot run`` (or the sandbox) is running.

Two files in the data folder:

* ``fish_bot.lock``: an operating-system lock taken with :mod:`filelock`. The OS releases it
  when the process ends, however it ends (a crash, ``kill -9``, a power cut), so a lock is
  never left behind by a dead bot and a reused process id can't keep it alive.
* ``fish_bot.pid``: a small note of who holds it, ``{"pid": ..., "host": ..., "started_at": ...}``,
  for the messages and for ``fish-bot doctor``.

``fish-bot run`` takes it (and refuses to start a second bot on the same data folder);
``fish-bot db restore`` and ``fish-bot settings import`` refuse to change the database while it
is held. A note written on another host (a data folder shared over the network, where OS locks
may not reach) cannot be checked and counts as held: delete the note by hand if that bot is
really stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import discord.utils
from filelock import FileLock, Timeout

from fish_bot.core.files import atomic_write_text
from fish_bot.exceptions import FishBotError

#: The note of who holds the lock.
LOCK_NAME = "fish_bot.pid"
#: The file the operating-system lock is taken on.
OS_LOCK_NAME = "fish_bot.lock"
#: Files of the run lock (kept when the sandbox empties its data folder).
LOCK_FILES = frozenset({LOCK_NAME, OS_LOCK_NAME})


class BotRunningError(FishBotError):
    """A bot holds the run lock of the data folder."""


@dataclass(frozen=True)
class LockInfo:
    pid: int
    host: str
    started_at: str
    path: Path

    def describe(self) -> str:
        if not self.pid:
            return "a process that left no readable note"
        where = "" if self.host == socket.gethostname() else f" on host {self.host}"
        return f"pid {self.pid}{where}, since {self.started_at}"


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_NAME


def _os_lock(data_dir: Path) -> FileLock:
    """A non-blocking, not thread-bound lock object on ``<data_dir>/fish_bot.lock``."""
    return FileLock(Path(data_dir) / OS_LOCK_NAME, timeout=0, thread_local=False)


#: Data folders whose lock this process holds (a second RunLock here must see it as held).
_HELD_HERE: set[Path] = set()


def _held_by_another_process(data_dir: Path) -> bool:
    """Whether another process holds the OS lock (probing takes and drops it at once)."""
    if not (Path(data_dir) / OS_LOCK_NAME).exists():
        return False
    probe = _os_lock(data_dir)
    try:
        probe.acquire()
    except Timeout:
        return True
    probe.release()
    return False


def read_lock(data_dir: Path) -> LockInfo | None:
    """The lock's content, or None when there is no readable lock file."""
    path = lock_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockInfo(
            int(data["pid"]), str(data.get("host", "")), str(data.get("started_at", "")), path
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_bot(data_dir: Path) -> LockInfo | None:
    """The bot holding the data folder's run lock, or None (no bot, or a stale note)."""
    data_dir = Path(data_dir)
    info = read_lock(data_dir)
    if info is not None and info.host and info.host != socket.gethostname():
        return info
    if data_dir.resolve() in _HELD_HERE or _held_by_another_process(data_dir):
        return info or LockInfo(0, "", "", lock_path(data_dir))
    return None


def refuse_if_running(data_dir: Path, action: str) -> None:
    """Raise :class:`BotRunningError` when a bot runs on this data folder."""
    info = running_bot(data_dir)
    if info is not None:
        raise BotRunningError(
            f"A Fish Bot is running with this data folder ({info.describe()}); stop it before "
            f"you {action}. If it is not running, delete {info.path}."
        )


class RunLock:
    """Hold the data folder's run lock for the life of a bot process (a context manager)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = lock_path(self.data_dir)
        self.held = False
        self._lock: FileLock | None = None

    def _refuse(self, holder: LockInfo) -> BotRunningError:
        return BotRunningError(
            f"Another Fish Bot is running with this data folder ({holder.describe()}). "
            f"Stop it first, or use another FISHBOT_DATA_DIR. If it is not running, "
            f"delete {self.path}."
        )

    def acquire(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = self.data_dir.resolve()
        note = read_lock(self.data_dir)
        if key in _HELD_HERE:
            raise self._refuse(note or LockInfo(os.getpid(), "", "", self.path))
        if note is not None and note.host and note.host != socket.gethostname():
            raise self._refuse(note)
        lock = _os_lock(self.data_dir)
        try:
            lock.acquire()
        except Timeout:
            raise self._refuse(read_lock(self.data_dir) or LockInfo(0, "", "", self.path)) from None
        payload = json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": discord.utils.utcnow().isoformat(timespec="seconds"),
            }
        )
        try:
            atomic_write_text(self.path, payload)
        except BaseException:
            lock.release()
            raise
        self._lock = lock
        _HELD_HERE.add(key)
        self.held = True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        _HELD_HERE.discard(self.data_dir.resolve())
        info = read_lock(self.data_dir)
        if info is not None and info.pid == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
