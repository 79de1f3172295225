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

The synchronous building blocks live apart: the atomic write, bounded reads and quarantine in
:mod:`fish_bot.core.files` (also used by settings import/export and backups), the off-loop JSON
copy in :mod:`fish_bot.core.snapshot`.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from fish_bot.core.files import _read_json, atomic_write_text, remove_stale_temp_files
from fish_bot.core.snapshot import _snapshot, json_chunks, to_json_text

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "CogDataStore",
    "CorruptFile",
    "LoopStarter",
]

StrPath = str | os.PathLike[str]
"""A path given as text or as a path object."""

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
"""The default size limit of a cache file at load (``FISHBOT_CACHE_FILE_MAX_BYTES``)."""


class CorruptFile(NamedTuple):
    """A data file that failed to parse and was moved aside."""

    original: Path
    """Where the file was."""
    quarantined: Path
    """Where its bytes are now (``<name>.corrupt-<time>``)."""
    error: str
    """Why it was refused (parse error or wrong top-level type)."""


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
                text: str | Iterator[str] = to_json_text(data, what=what)
            else:  # made piece by piece in the worker thread, as the file is written
                text = json_chunks(snapshot, what=what)
            write = functools.partial(atomic_write_text, target, text)
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
            limit = self._max_file_bytes
            if limit is not None and size > limit:
                self._logger.warning(
                    "Saved %s at %.1f MiB, over the load limit of %.1f MiB "
                    "(FISHBOT_CACHE_FILE_MAX_BYTES): the next load will refuse it and set it "
                    "aside. Raise the limit, or keep less in this file.",
                    target,
                    size / 2**20,
                    limit / 2**20,
                )
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
