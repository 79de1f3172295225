"""Cache data for cogs: JSON files loaded with a default, written atomically, saved periodically.

:class:`CogDataStore` is what ``BaseCog`` delegates its cache-data methods to (``load_data``,
``save_data``, ``save_data_if_modified``, ``mark_data_modified``, ``is_data_modified``,
``create_periodic_save_task``, ``cancel_save_tasks``). The rules it follows (DESIGN.md 3, 4, 10):

* All file I/O runs in :func:`asyncio.to_thread`; the event loop never blocks on the disk.
* A write never tears: temp file in the same folder, flush, ``fsync``, ``os.replace`` onto the
  target, then ``fsync`` of the folder (where the platform supports it).
* A file that fails to parse is moved aside to ``<name>.corrupt-<YYYYmmddTHHMMSSZ>``, logged at
  ERROR, recorded in :attr:`CogDataStore.corrupt_files`, and the default is used instead. So is
  a file over the store's size limit, and anything at the path that is not a regular file (a
  directory, a FIFO): it is never opened for a blocking read.
* JSON is serialised in the worker thread too. The event loop only takes a snapshot of the data
  (:mod:`marshal`, or :mod:`pickle` for other types: C code, tens of times faster than the JSON
  encoder), cut into pieces that the worker thread rebuilds one by one, so the cog may keep
  mutating its object while the file is written and the loop keeps answering.
* Temp files ``.<name>.<hex>.tmp`` left behind by a process killed mid-write are removed from a
  folder the first time the store loads a file from it.
* A cog's periodic saves run through the tasks helper (:func:`fish_bot.core.tasks.start_cog_loop`):
  they wait until the cog is ready, skip while it is paused and are tracked by its TaskTracker.
* Waiting uses :func:`asyncio.sleep` and timestamps :func:`discord.utils.utcnow`, so SimCord's
  virtual clock drives the periodic saves in tests.

The module-level helpers :func:`atomic_write_text`, :func:`read_json_or_quarantine`,
:func:`quarantine_file` and :func:`to_json_text` are synchronous building blocks for other
modules (settings import/export, backups); call them through :func:`asyncio.to_thread` from
async code.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
import marshal
import os
import pickle
import re
import secrets
import stat
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import discord.utils

from fish_bot.exceptions import DataCorruptError

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "CogDataStore",
    "CorruptFile",
    "LoopStarter",
    "atomic_write_text",
    "quarantine_file",
    "read_json_or_quarantine",
    "remove_stale_temp_files",
    "to_json_text",
]

StrPath = str | os.PathLike[str]
"""A path given as text or as a path object."""

_IS_WINDOWS = os.name == "nt"

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
"""The default size limit of a cache file at load (``FISHBOT_CACHE_FILE_MAX_BYTES``)."""

#: The temp files :func:`atomic_write_text` creates: ``.<name>.<12 hex digits>.tmp``.
TEMP_FILE_PATTERN = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")


class CorruptFile(NamedTuple):
    """A data file that failed to parse and was moved aside."""

    original: Path
    """Where the file was."""
    quarantined: Path
    """Where its bytes are now (``<name>.corrupt-<time>``)."""
    error: str
    """Why it was refused (parse error or wrong top-level type)."""


# --- serialisation -------------------------------------------------------------------------


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


def _write_snapshot(path: Path, snapshot: _Leaf | _Split, what: str) -> int:
    """Worker-thread half of a save: rebuild, serialise, write atomically; returns the size."""
    text = to_json_text(_thaw(snapshot), what=what)
    atomic_write_text(path, text)
    return len(text)


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


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` so that it is never torn.

    Writes a temp file in the same folder, flushes and fsyncs it, replaces ``path`` with it and
    fsyncs the folder (skipped where unsupported). Creates missing parent folders. On any
    failure the temp file is removed and ``path`` keeps its previous content. Blocking: call
    it through :func:`asyncio.to_thread` from async code.
    """
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    temp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        # "x": never reuse an existing file; permissions follow the umask like a plain open().
        with temp.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):  # keep the permissions of the file we replace
            temp.chmod(stat.S_IMODE(path.stat().st_mode))
        _replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(directory)


def _write_text(path: Path, text: str) -> int:
    atomic_write_text(path, text)
    return len(text)


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


@dataclass(slots=True)
class _PeriodicSave:
    task: asyncio.Task[None]
    source: Any
    interval: float


def _current(source: Any) -> Any:
    """The data a periodic save writes: ``source()`` for a callable, else ``source`` itself."""
    return source() if callable(source) else source


class LoopStarter(Protocol):
    """Starts ``body`` every ``seconds`` as a background loop and returns its task.

    A cog passes :func:`fish_bot.core.tasks.start_cog_loop` bound to itself, so that periodic
    saves follow the rules of every cog loop (wait for ready, skip while paused, tracked).
    """

    def __call__(
        self, body: Callable[[], Awaitable[None]], *, seconds: float, name: str
    ) -> asyncio.Task[None]: ...


class CogDataStore:
    """A cog's cache-data files: load with default, atomic save, change tracking, periodic saves.

    Paths given to the methods are relative to :attr:`directory` unless absolute. Modified
    flags are kept per file. Two saves of one file never interleave (one lock per file), and
    a save whose caller is cancelled still finishes writing before the next one starts.

    ``max_file_bytes`` bounds what :meth:`load_data` reads (a larger file is quarantined);
    ``None`` reads any size. ``start_loop`` runs the periodic saves (a cog passes the tasks
    helper); without it they are plain asyncio tasks.
    """

    def __init__(
        self,
        directory: Path,
        logger: logging.Logger,
        *,
        max_file_bytes: int | None = DEFAULT_MAX_FILE_BYTES,
        start_loop: LoopStarter | None = None,
    ) -> None:
        """Create a store for ``directory`` (not created until the first write)."""
        self._directory = Path(directory)
        self._logger = logger
        self._max_file_bytes = max_file_bytes
        self._start_loop = start_loop
        self._created_at = time.time()  # temp files older than this are left by a dead process
        self._swept: set[Path] = set()
        self._writing: set[Path] = set()
        self._locks: dict[Path, asyncio.Lock] = {}
        self._known: set[Path] = set()
        self._modified: set[Path] = set()
        self._pending_all = False
        self._periodic: dict[Path, _PeriodicSave] = {}
        self._inflight: set[asyncio.Task[bool]] = set()
        self.corrupt_files: list[CorruptFile] = []
        """Files quarantined by :meth:`load_data`, oldest first (for the cog's status)."""
        self.save_count: int = 0
        """How many files this store has written."""

    # -- paths ------------------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        """The folder relative paths resolve against (created on the first write)."""
        return self._directory

    def resolve(self, path: StrPath) -> Path:
        """``path`` as a full path: relative paths are taken relative to :attr:`directory`."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self._directory / candidate

    # -- loading and saving -----------------------------------------------------------------

    async def load_data(self, path: StrPath, default: Any = None) -> Any:
        """Load JSON from ``path``; a deep copy of ``default`` if it is missing or corrupt.

        A corrupt file, a file over the size limit or anything that is not a regular file is
        moved aside (see :func:`read_json_or_quarantine`), logged at ERROR, appended to
        :attr:`corrupt_files`, and the file is marked modified so that the next save writes the
        default in its place. The first load from a folder removes the temp files that killed
        writes left there. Raises :class:`DataCorruptError` if a refused file cannot be moved
        aside, and :class:`OSError` for other read failures.
        """
        target = self.resolve(path)
        fallback = copy.deepcopy(default)  # copied on the loop: the default may be shared
        async with self._lock_for(target):
            await self._sweep(target.parent)
            result = await asyncio.to_thread(
                _read_json, target, fallback, self._logger, self._max_file_bytes
            )
            self._adopt(target)
            if result.quarantined is not None:
                self.corrupt_files.append(
                    CorruptFile(target, result.quarantined, result.error or "unreadable")
                )
                self._modified.add(target)
        return result.data

    async def save_data(self, data: Any, path: StrPath) -> None:
        """Write ``data`` as JSON to ``path`` atomically and clear its modified flag.

        The event loop only takes a snapshot of ``data`` (the state at the call, even if the
        cog mutates the object in place meanwhile); the JSON is made and written in the worker
        thread, so a large cache does not stall the bot. A value JSON cannot hold raises
        :class:`TypeError` and the file is not touched. If the write fails the file stays
        marked modified.
        """
        await self._save(self.resolve(path), data, only_if_modified=False)

    async def save_data_if_modified(self, data: Any, path: StrPath, force: bool = False) -> bool:
        """Save ``data`` to ``path`` if that file is marked modified (or ``force``).

        Returns whether the file was written.
        """
        return await self._save(self.resolve(path), data, only_if_modified=not force)

    async def flush(self, data_by_path: Mapping[StrPath, Any] | None = None) -> int:
        """Save every modified file now; returns how many were written.

        ``data_by_path`` maps paths to data (or zero-argument callables returning it); when
        ``None``, the files with a periodic save task are flushed with their registered data.
        Every file is attempted; the first error is raised after the others were tried.
        """
        if data_by_path is None:
            items = [(target, entry.source) for target, entry in self._periodic.items()]
        else:
            items = [(self.resolve(path), source) for path, source in data_by_path.items()]
        written = 0
        first_error: Exception | None = None
        for target, source in items:
            try:
                if await self._save(target, _current(source), only_if_modified=True):
                    written += 1
            except Exception as exc:
                self._logger.exception("Saving %s failed", target)
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
        return written

    # -- change tracking --------------------------------------------------------------------

    def mark_data_modified(self, path: StrPath | None = None) -> None:
        """Mark ``path`` as modified; with ``None``, every file this store has loaded or saved.

        If no file is known yet, ``None`` is remembered and applies to the next file the store
        loads, saves or schedules.
        """
        if path is None:
            if self._known:
                self._modified.update(self._known)
            else:
                self._pending_all = True
            return
        target = self.resolve(path)
        self._adopt(target)
        self._modified.add(target)

    def is_data_modified(self, path: StrPath | None = None) -> bool:
        """Whether ``path`` is marked modified; with ``None``, whether any file is."""
        if path is None:
            return bool(self._modified) or self._pending_all
        target = self.resolve(path)
        return target in self._modified or (self._pending_all and target not in self._known)

    @property
    def modified_files(self) -> frozenset[Path]:
        """The files marked modified now."""
        return frozenset(self._modified)

    # -- periodic saves ---------------------------------------------------------------------

    async def create_periodic_save_task(
        self, data: Any, path: StrPath, save_interval: float
    ) -> asyncio.Task[None]:
        """Start a task that saves ``path`` every ``save_interval`` seconds if it is modified.

        ``data`` is the object the cog mutates in place, or a zero-argument callable returning
        the current object. A failed save is logged with its traceback and the loop goes on. A
        task already saving ``path`` is cancelled and replaced. In a cog the loop is a cog loop
        of the tasks helper: it starts once the cog is ready, skips while the cog is paused
        (unloading still saves) and each run is an operation ``Save <file name>`` of its
        TaskTracker.
        """
        interval = float(save_interval)
        if not 0 < interval < float("inf"):
            raise ValueError(f"save_interval must be a positive number of seconds, not {interval}")
        target = self.resolve(path)
        self._adopt(target)
        old = self._periodic.pop(target, None)
        if old is not None:
            old.task.cancel()
        if self._start_loop is not None:
            task = self._start_loop(
                functools.partial(self._periodic_save, target, data),
                seconds=interval,
                name=f"Save {target.name}",
            )
        else:
            task = asyncio.create_task(
                self._periodic_loop(target, data, interval),
                name=f"fish-bot-periodic-save:{target}",
            )
        self._periodic[target] = _PeriodicSave(task, data, interval)
        task.add_done_callback(functools.partial(self._periodic_done, target))
        return task

    def cancel_save_tasks(self) -> None:
        """Cancel every periodic save task (a save already writing still completes)."""
        entries = list(self._periodic.values())
        self._periodic.clear()
        for entry in entries:
            entry.task.cancel()

    @property
    def save_tasks(self) -> dict[Path, asyncio.Task[None]]:
        """The running periodic save tasks by file."""
        return {target: entry.task for target, entry in self._periodic.items()}

    async def close(self) -> None:
        """Flush the periodically saved files, stop their tasks and wait for writes in flight."""
        try:
            await self.flush()
        finally:
            self.cancel_save_tasks()
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)

    # -- internals ----------------------------------------------------------------------------

    def _lock_for(self, target: Path) -> asyncio.Lock:
        lock = self._locks.get(target)
        if lock is None:
            lock = self._locks[target] = asyncio.Lock()
        return lock

    def _adopt(self, target: Path) -> None:
        """Remember ``target``; a pending "mark all" applies to the first file adopted."""
        if target in self._known:
            return
        self._known.add(target)
        if self._pending_all:
            self._pending_all = False
            self._modified.add(target)

    async def _save(self, target: Path, data: Any, *, only_if_modified: bool) -> bool:
        # The write runs in its own task, shielded: if the caller is cancelled (cog unload,
        # shutdown) the write still finishes and releases the file's lock only afterwards, so
        # an older snapshot can never land on top of a newer one.
        inner = asyncio.create_task(
            self._save_locked(target, data, only_if_modified), name=f"fish-bot-save:{target}"
        )
        self._inflight.add(inner)
        inner.add_done_callback(self._inflight.discard)
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            inner.add_done_callback(functools.partial(self._report_orphaned_save, target))
            raise

    async def _save_locked(self, target: Path, data: Any, only_if_modified: bool) -> bool:
        async with self._lock_for(target):
            self._adopt(target)
            if only_if_modified and target not in self._modified:
                return False
            what = str(target)
            snapshot = _snapshot(data)  # the state now; the JSON is made in the worker thread
            if snapshot is None:  # neither codec holds it: serialise here (raises if JSON can't)
                text = to_json_text(data, what=what)
                write: Callable[[], int] = functools.partial(_write_text, target, text)
            else:
                write = functools.partial(_write_snapshot, target, snapshot, what)
            was_modified = target in self._modified
            # The snapshot is taken: marks made while the write runs must survive it.
            self._modified.discard(target)
            self._writing.add(target)
            try:
                size = await asyncio.to_thread(write)
            except (TypeError, ValueError):  # JSON refused the data: the file was not touched
                if was_modified:
                    self._modified.add(target)
                raise
            except BaseException:
                self._modified.add(target)  # nothing new on disk: still to be saved
                raise
            finally:
                self._writing.discard(target)
            self.save_count += 1
            self._logger.debug("Saved %s (%d bytes)", target, size)
            return True

    async def _sweep(self, folder: Path) -> None:
        """Remove the stale temp files of ``folder`` (once per folder and store)."""
        if folder in self._swept:
            return
        self._swept.add(folder)
        busy = tuple(f".{target.name}." for target in self._writing if target.parent == folder)
        removed = await asyncio.to_thread(remove_stale_temp_files, folder, self._created_at, busy)
        if removed:
            self._logger.warning(
                "Removed %d stale temp file(s) left in %s by writes that were interrupted: %s",
                len(removed),
                folder,
                ", ".join(sorted(removed)),
            )

    async def _periodic_save(self, target: Path, source: Any) -> None:
        """One run of a periodic save (errors go to the loop, which logs and goes on)."""
        await self._save(target, _current(source), only_if_modified=True)

    async def _periodic_loop(self, target: Path, source: Any, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self._save(target, _current(source), only_if_modified=True)
            except Exception:
                self._logger.exception(
                    "Periodic save of %s failed; retrying in %s s", target, interval
                )

    def _periodic_done(self, target: Path, task: asyncio.Task[None]) -> None:
        entry = self._periodic.get(target)
        if entry is not None and entry.task is task:
            del self._periodic[target]
        if not task.cancelled() and task.exception() is not None:
            self._logger.error(
                "Periodic save task of %s stopped", target, exc_info=task.exception()
            )

    def _report_orphaned_save(self, target: Path, task: asyncio.Task[bool]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._logger.error(
                "Saving %s failed after its caller was cancelled", target, exc_info=error
            )
