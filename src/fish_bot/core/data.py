"""Cache data for cogs: JSON files loaded with a default, written atomically, saved periodically.

:class:`CogDataStore` is what ``BaseCog`` delegates its cache-data methods to (``load_data``,
``save_data``, ``save_data_if_modified``, ``mark_data_modified``, ``is_data_modified``,
``create_periodic_save_task``, ``cancel_save_tasks``). The rules it follows (DESIGN.md 3, 4, 10):

* All file I/O runs in :func:`asyncio.to_thread`; the event loop never blocks on the disk.
* A write never tears: temp file in the same folder, flush, ``fsync``, ``os.replace`` onto the
  target, then ``fsync`` of the folder (where the platform supports it).
* A file that fails to parse is moved aside to ``<name>.corrupt-<YYYYmmddTHHMMSSZ>``, logged at
  ERROR, recorded in :attr:`CogDataStore.corrupt_files`, and the default is used instead.
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
import os
import secrets
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any, NamedTuple

import discord.utils

from fish_bot.exceptions import DataCorruptError

__all__ = [
    "CogDataStore",
    "CorruptFile",
    "atomic_write_text",
    "quarantine_file",
    "read_json_or_quarantine",
    "to_json_text",
]

StrPath = str | os.PathLike[str]
"""A path given as text or as a path object."""

_IS_WINDOWS = os.name == "nt"


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


def _read_json(path: Path, fallback: Any, logger: logging.Logger) -> _ReadResult:
    """Read ``path``; ``fallback`` (already a private copy) when missing or quarantined."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _ReadResult(fallback)
    problem: str | None
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


def read_json_or_quarantine(
    path: Path, default: Any, logger: logging.Logger
) -> tuple[Any, Path | None]:
    """Load JSON from ``path``, falling back to a deep copy of ``default``.

    A missing file gives the default. A file that does not parse (or whose top level is not an
    object/array when ``default`` is a dict/list) is moved aside with :func:`quarantine_file`,
    logged at ERROR on ``logger`` with both paths, and gives the default. Returns
    ``(data, quarantined_path_or_None)``. Other I/O errors (permissions...) propagate. Blocking.
    """
    result = _read_json(Path(path), copy.deepcopy(default), logger)
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


class CogDataStore:
    """A cog's cache-data files: load with default, atomic save, change tracking, periodic saves.

    Paths given to the methods are relative to :attr:`directory` unless absolute. Modified
    flags are kept per file. Two saves of one file never interleave (one lock per file), and
    a save whose caller is cancelled still finishes writing before the next one starts.
    """

    def __init__(self, directory: Path, logger: logging.Logger) -> None:
        """Create a store for ``directory`` (not created until the first write)."""
        self._directory = Path(directory)
        self._logger = logger
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

        A corrupt file is moved aside (see :func:`read_json_or_quarantine`), logged at ERROR,
        appended to :attr:`corrupt_files`, and the file is marked modified so that the next
        save writes the default in its place. Raises :class:`DataCorruptError` if a corrupt
        file cannot be moved aside, and :class:`OSError` for other read failures.
        """
        target = self.resolve(path)
        fallback = copy.deepcopy(default)  # copied on the loop: the default may be shared
        async with self._lock_for(target):
            result = await asyncio.to_thread(_read_json, target, fallback, self._logger)
            self._adopt(target)
            if result.quarantined is not None:
                self.corrupt_files.append(
                    CorruptFile(target, result.quarantined, result.error or "unreadable")
                )
                self._modified.add(target)
        return result.data

    async def save_data(self, data: Any, path: StrPath) -> None:
        """Write ``data`` as JSON to ``path`` atomically and clear its modified flag.

        ``data`` is serialised on the event loop (a consistent snapshot of an object the cog
        mutates in place); a value JSON cannot hold raises :class:`TypeError` before the file
        is touched. If the write fails the file stays marked modified.
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
        the current object. The loop waits with :func:`asyncio.sleep`; a failed save is logged
        with its traceback and the loop goes on. A task already saving ``path`` is cancelled and
        replaced.
        """
        interval = float(save_interval)
        if not 0 < interval < float("inf"):
            raise ValueError(f"save_interval must be a positive number of seconds, not {interval}")
        target = self.resolve(path)
        self._adopt(target)
        old = self._periodic.pop(target, None)
        if old is not None:
            old.task.cancel()
        task = asyncio.create_task(
            self._periodic_loop(target, data, interval), name=f"fish-bot-periodic-save:{target}"
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
            text = to_json_text(data, what=str(target))  # raises before the file is touched
            # The snapshot is taken: marks made while the write runs must survive it.
            self._modified.discard(target)
            try:
                await asyncio.to_thread(atomic_write_text, target, text)
            except BaseException:
                self._modified.add(target)  # nothing new on disk: still to be saved
                raise
            self.save_count += 1
            self._logger.debug("Saved %s (%d bytes)", target, len(text))
            return True

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
