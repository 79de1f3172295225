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

Cluster mode (``--shard-ids``, PostgreSQL) takes one lock per shard set instead,
``fish_bot.<shards>.lock`` / ``.pid`` (the scope is
:attr:`fish_bot.core.cluster.ClusterInfo.lock_scope`), so several processes of one machine may
share a data folder while each shard set still runs once; the ``cluster_node`` table catches
overlapping sets and other machines. :func:`running_bot` sees every one of these locks.
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


def _names(scope: str | None) -> tuple[str, str]:
    """The note's and the OS lock's file names for a scope (None: the whole bot)."""
    if scope is None:
        return LOCK_NAME, OS_LOCK_NAME
    return f"fish_bot.{scope}.pid", f"fish_bot.{scope}.lock"


def lock_path(data_dir: Path, scope: str | None = None) -> Path:
    return Path(data_dir) / _names(scope)[0]


def _os_lock(data_dir: Path, scope: str | None = None) -> FileLock:
    """A non-blocking, not thread-bound lock object on ``<data_dir>/fish_bot.lock``."""
    return FileLock(Path(data_dir) / _names(scope)[1], timeout=0, thread_local=False)


#: Data folders (and scopes) whose lock this process holds (a second RunLock here must see it).
_HELD_HERE: set[tuple[Path, str | None]] = set()


def _scopes(data_dir: Path) -> list[str | None]:
    """The default scope and every shard-set scope that has a note in the folder."""
    scopes: list[str | None] = [None]
    for note in sorted(Path(data_dir).glob("fish_bot.*.pid")):
        scopes.append(note.name.removeprefix("fish_bot.").removesuffix(".pid"))
    return scopes


def _held_by_another_process(data_dir: Path, scope: str | None = None) -> bool:
    """Whether another process holds the OS lock (probing takes and drops it at once)."""
    if not (Path(data_dir) / _names(scope)[1]).exists():
        return False
    probe = _os_lock(data_dir, scope)
    try:
        probe.acquire()
    except Timeout:
        return True
    probe.release()
    return False


def read_lock(data_dir: Path, scope: str | None = None) -> LockInfo | None:
    """The lock's content, or None when there is no readable lock file."""
    path = lock_path(data_dir, scope)
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
    for scope in _scopes(data_dir):
        info = read_lock(data_dir, scope)
        if info is not None and info.host and info.host != socket.gethostname():
            return info
        if (data_dir.resolve(), scope) in _HELD_HERE or _held_by_another_process(data_dir, scope):
            return info or LockInfo(0, "", "", lock_path(data_dir, scope))
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

    def __init__(self, data_dir: Path, scope: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        #: None: the whole bot; a shard set's name in cluster mode.
        self.scope = scope
        self.path = lock_path(self.data_dir, scope)
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
        key = (self.data_dir.resolve(), self.scope)
        note = read_lock(self.data_dir, self.scope)
        if key in _HELD_HERE:
            raise self._refuse(note or LockInfo(os.getpid(), "", "", self.path))
        if note is not None and note.host and note.host != socket.gethostname():
            raise self._refuse(note)
        lock = _os_lock(self.data_dir, self.scope)
        try:
            lock.acquire()
        except Timeout:
            holder = read_lock(self.data_dir, self.scope) or LockInfo(0, "", "", self.path)
            raise self._refuse(holder) from None
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
        _HELD_HERE.discard((self.data_dir.resolve(), self.scope))
        info = read_lock(self.data_dir, self.scope)
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
