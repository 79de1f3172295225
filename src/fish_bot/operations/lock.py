"""The run lock: ``<data_dir>/fish_bot.pid`` while ``fish-bot run`` is running.

It holds ``{"pid": ..., "host": ..., "started_at": ...}``. ``fish-bot run`` takes it (and
refuses to start a second bot on the same data folder); ``fish-bot db restore`` and
``fish-bot settings import`` refuse to change the database while it is held. A lock whose
process is gone (a crash, a power cut) is stale and ignored. A lock written on another host
cannot be checked and counts as held: delete the file by hand if that bot is really stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import discord.utils

from fish_bot.exceptions import FishBotError

LOCK_NAME = "fish_bot.pid"


class BotRunningError(FishBotError):
    """A bot holds the run lock of the data folder."""


@dataclass(frozen=True)
class LockInfo:
    pid: int
    host: str
    started_at: str
    path: Path

    def describe(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on host {self.host}"
        return f"pid {self.pid}{where}, since {self.started_at}"


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOCK_NAME


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    process_query_limited_information = 0x1000
    still_active = 259
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


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
    """The bot holding the data folder's run lock, or None (no lock, or a stale one)."""
    info = read_lock(data_dir)
    if info is None:
        return None
    if info.host and info.host != socket.gethostname():
        return info
    return info if pid_alive(info.pid) else None


def refuse_if_running(data_dir: Path, action: str) -> None:
    """Raise :class:`BotRunningError` when a bot runs on this data folder."""
    info = running_bot(data_dir)
    if info is not None:
        raise BotRunningError(
            f"A Fish Bot is running with this data folder ({info.describe()}); stop it before "
            f"you {action}. If it is not running, delete {info.path}."
        )


class RunLock:
    """Hold ``<data_dir>/fish_bot.pid`` for the life of a bot process (a context manager)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = lock_path(data_dir)
        self.held = False

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": discord.utils.utcnow().isoformat(timespec="seconds"),
            }
        )
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = running_bot(self.path.parent)
                if holder is not None and holder.pid != os.getpid():
                    raise BotRunningError(
                        f"Another Fish Bot is running with this data folder ({holder.describe()}). "
                        f"Stop it first, or use another FISHBOT_DATA_DIR. If it is not running, "
                        f"delete {self.path}."
                    ) from None
                with contextlib.suppress(FileNotFoundError):  # stale: take it over
                    self.path.unlink()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            self.held = True
            return
        raise BotRunningError(f"Could not take the run lock {self.path}")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        info = read_lock(self.path.parent)
        if info is not None and info.pid == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

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
