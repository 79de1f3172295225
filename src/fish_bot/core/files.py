"""Files written so they never tear, read with bounds, moved aside when unusable.

The synchronous building blocks of cache data (:mod:`fish_bot.core.data`), settings export and
backups: :func:`atomic_write_text` (temp file in the same folder, flush, ``fsync``,
``os.replace``, ``fsync`` of the folder), :func:`read_json_or_quarantine` (a file that does not
parse, is over a size limit or is not a regular file is moved aside with
:func:`quarantine_file`), and :func:`remove_stale_temp_files` for the temp files of a killed
write. All of them block: call them through :func:`asyncio.to_thread` from async code.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import re
import secrets
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import discord.utils

from fish_bot.exceptions import DataCorruptError

__all__ = [
    "TEMP_FILE_PATTERN",
    "atomic_write_text",
    "quarantine_file",
    "read_json_or_quarantine",
    "remove_stale_temp_files",
]

_IS_WINDOWS = os.name == "nt"

#: The temp files :func:`atomic_write_text` creates: ``.<name>.<12 hex digits>.tmp``.
TEMP_FILE_PATTERN = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")


# --- atomic writes -------------------------------------------------------------------------


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable; a no-op where folders cannot be fsynced."""
    if _IS_WINDOWS:
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace(source: Path, target: Path) -> None:
    """``os.replace`` with a short retry on Windows, where a reader can briefly lock the file."""
    attempts = 5 if _IS_WINDOWS else 1
    for attempt in range(1, attempts + 1):
        try:
            os.replace(source, target)  # noqa: PTH105 - the atomic primitive, named on purpose
            return
        except PermissionError:
            if attempt == attempts:
                raise
            time.sleep(0.05 * attempt)


def atomic_write_text(path: Path, text: str | Iterable[str]) -> int:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` so that it is never torn.

    ``text`` is a string or an iterable of strings written one after the other (a large file
    made piece by piece, never whole in memory; an error raised by the iterable fails the
    write like any other). Writes a temp file in the same folder, flushes and fsyncs it,
    replaces ``path`` with it and fsyncs the folder (skipped where unsupported). Creates
    missing parent folders. On any failure the temp file is removed and ``path`` keeps its
    previous content. Returns the size of the file written, in bytes. Blocking: call it through
    :func:`asyncio.to_thread` from async code.
    """
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    temp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        # "x": never reuse an existing file; permissions follow the umask like a plain open().
        with temp.open("x", encoding="utf-8", newline="\n") as handle:
            _write_pieces(handle, [text] if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
            written = os.fstat(handle.fileno()).st_size
        with contextlib.suppress(OSError):  # keep the permissions of the file we replace
            temp.chmod(stat.S_IMODE(path.stat().st_mode))
        _replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(directory)
    return written


#: Characters gathered before one write of :func:`atomic_write_text`.
_WRITE_BATCH = 1 << 20


def _write_pieces(handle: TextIO, pieces: Iterable[str]) -> None:
    """Write small pieces in batches of about :data:`_WRITE_BATCH` characters."""
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= _WRITE_BATCH:
            handle.write("".join(batch))
            batch, size = [], 0
    handle.write("".join(batch))


# --- reading and quarantine ----------------------------------------------------------------


def quarantine_file(path: Path) -> Path:
    """Move ``path`` aside to ``<name>.corrupt-<UTC YYYYmmddTHHMMSSZ>`` and return the new path.

    A ``-1``, ``-2``... suffix keeps the name unique. Raises :class:`DataCorruptError` if the
    file cannot be moved (the caller must then not overwrite it). Blocking.
    """
    path = Path(path)
    stamp = discord.utils.utcnow().strftime("%Y%m%dT%H%M%SZ")
    base = f"{path.name}.corrupt-{stamp}"
    candidate = path.with_name(base)
    counter = 1
    while candidate.exists():
        candidate = path.with_name(f"{base}-{counter}")
        counter += 1
    try:
        path.rename(candidate)
    except OSError as exc:
        raise DataCorruptError(
            f"{path} is corrupt and could not be moved aside to {candidate}: {exc}"
        ) from exc
    _fsync_directory(path.parent)
    return candidate


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return type(value).__name__


def _shape_problem(data: object, default: object) -> str | None:
    """Refuse a top-level type the caller cannot use (an array where an object is expected)."""
    if isinstance(default, dict) and not isinstance(data, dict):
        return f"expected a JSON object, found {_json_kind(data)}"
    if isinstance(default, list) and not isinstance(data, list):
        return f"expected a JSON array, found {_json_kind(data)}"
    return None


@dataclass(frozen=True, slots=True)
class _ReadResult:
    data: Any
    quarantined: Path | None = None
    error: str | None = None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _kind_problem(mode: int) -> str | None:
    """Why a file of this mode cannot be a data file; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "it is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "it is a named pipe (FIFO), not a file"
    if stat.S_ISSOCK(mode):
        return "it is a socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device, not a file"
    return "it is not a regular file"


def _size_problem(size: int, max_bytes: int | None) -> str | None:
    if max_bytes is None or size <= max_bytes:
        return None
    return (
        f"it is {_megabytes(size)}, over the size limit of {_megabytes(max_bytes)} "
        "(FISHBOT_CACHE_FILE_MAX_BYTES)"
    )


def _read_bounded(path: Path, max_bytes: int | None) -> bytes | str:
    """The bytes of ``path``, or why it is refused (not a regular file, too large). Blocking.

    The kind is checked before opening (a directory cannot be opened on Windows) and again on
    the open descriptor (the path may change meanwhile); the open never blocks, even on a FIFO.
    Raises :class:`FileNotFoundError` when nothing is there.
    """
    problem = _kind_problem(path.stat().st_mode)
    if problem is not None:
        return problem
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        problem = _kind_problem(info.st_mode) or _size_problem(info.st_size, max_bytes)
        if problem is not None:
            return problem
        raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    return _size_problem(len(raw), max_bytes) or raw


def _read_json(
    path: Path, fallback: Any, logger: logging.Logger, max_bytes: int | None = None
) -> _ReadResult:
    """Read ``path``; ``fallback`` (already a private copy) when missing or quarantined."""
    try:
        raw = _read_bounded(path, max_bytes)
    except FileNotFoundError:
        return _ReadResult(fallback)
    problem: str | None
    if isinstance(raw, str):
        problem = raw
    else:
        try:
            data = json.loads(raw)  # bytes: UTF-8 with or without BOM, UTF-16/32 detected
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            problem = f"{type(exc).__name__}: {exc}"
        except RecursionError:
            problem = "RecursionError: nesting too deep"
        else:
            problem = _shape_problem(data, fallback)
            if problem is None:
                return _ReadResult(data)
    quarantined = quarantine_file(path)
    logger.error(
        "Data file %s could not be read (%s); moved it to %s and using the default instead",
        path,
        problem,
        quarantined,
    )
    return _ReadResult(fallback, quarantined, problem)


def remove_stale_temp_files(
    directory: Path, older_than: float, keep_prefixes: tuple[str, ...] = ()
) -> list[str]:
    """Delete the ``.<name>.<hex>.tmp`` files of ``directory`` modified before ``older_than``.

    They are left by atomic writes of a process that was killed mid-way (a live write removes
    its own temp file). Names starting with one of ``keep_prefixes`` (files being written now)
    are spared. Returns the names removed. Blocking.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if not TEMP_FILE_PATTERN.match(entry.name) or entry.name.startswith(keep_prefixes):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime >= older_than:
                continue
            Path(entry.path).unlink()
        except OSError:
            continue
        removed.append(entry.name)
    return removed


def read_json_or_quarantine(
    path: Path, default: Any, logger: logging.Logger, max_bytes: int | None = None
) -> tuple[Any, Path | None]:
    """Load JSON from ``path``, falling back to a deep copy of ``default``.

    A missing file gives the default. A file that does not parse (or whose top level is not an
    object/array when ``default`` is a dict/list), a file over ``max_bytes`` and anything that
    is not a regular file (a directory, a FIFO) is moved aside with :func:`quarantine_file`,
    logged at ERROR on ``logger`` with both paths, and gives the default. Returns
    ``(data, quarantined_path_or_None)``. Other I/O errors (permissions...) propagate. Blocking.
    """
    result = _read_json(Path(path), copy.deepcopy(default), logger, max_bytes)
    return result.data, result.quarantined


# --- the per-cog store -----------------------------------------------------------------------
