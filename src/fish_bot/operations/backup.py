"""``fish-bot db backup|restore``: the database and the cache data in one archive.

A backup is a ``.tar.gz`` holding:

* ``manifest.json``: ``format`` (``fish-bot-backup``), ``version`` (1), ``dialect``
  (``sqlite`` or ``postgresql``), ``revision`` (the Alembic revision of the copy),
  ``created_at`` (UTC), ``fish_bot_version``, ``database`` (the member holding it),
  ``cog_files`` (how many cache-data files) and ``unpacked_size`` (bytes of every member but
  the manifest, which is written last so that it records the exact sum);
* ``database/fish_bot.db``: SQLite, an online consistent copy made with SQLite's backup API
  (the bot may keep running and writing), or ``database/fish_bot.dump``: PostgreSQL, a
  ``pg_dump --format=custom`` dump (``pg_dump``/``pg_restore`` must be on PATH);
* ``cogs/...``: the cache-data folder ``<data_dir>/cogs`` (files are replaced atomically by the
  bot, so each file in the archive is one whole version).

The archive is written to a temp file in the target folder, fsynced and renamed.

Restore refuses while a bot runs on the data folder (``<data_dir>/fish_bot.pid``), refuses an
archive whose revision this Fish Bot does not know (made by a newer version), checks the whole
archive first (every member name, type and size, the unpacked total against the manifest and
the free disk space, then the database member itself, unpacked to a staging folder) and only
then saves the current state as ``<data_dir>/backups/pre-restore-<time>.tar.gz``. A refused
archive leaves nothing behind. The database then holds
the backup's revision; the bot upgrades it at start-up (or run ``fish-bot db upgrade``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import os
import secrets
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord.utils

from fish_bot import __version__
from fish_bot.core.files import _fsync_directory, _replace
from fish_bot.core.text import clip
from fish_bot.exceptions import UserFacingError
from fish_bot.operations.archive import (
    COGS_PREFIX,
    FORMAT,
    MANIFEST,
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    VERSION,
    BackupError,
    Manifest,
    _unpack,
    check_archive_name,
    free_space,
    inspect_archive,
)
from fish_bot.operations.dumps import (
    _check_pg_dump,
    _pg_dump,
    _pg_restore,
    _pg_tool,
    _sqlite_install,
    _url,
    check_sqlite_file,
    known_revision,
    sqlite_copy,
    sqlite_path,
)
from fish_bot.operations.lock import refuse_if_running

if TYPE_CHECKING:
    from fish_bot.config import Settings

__all__ = ["BackupError", "Manifest", "RestoreResult", "create_backup", "restore_backup"]


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    safety_copy: Path | None
    head: str | None


def default_backup_path(settings: Settings, prefix: str = "fish-bot") -> Path:
    stamp = discord.utils.utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.data_dir) / "backups" / f"{prefix}-{stamp}.tar.gz"


def _cog_files(cogs_dir: Path) -> list[Path]:
    if not cogs_dir.is_dir():
        return []
    files = []
    for path in sorted(cogs_dir.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue  # an atomic write in progress
        files.append(path)
    return files


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> int:
    """Add one file; returns the bytes it holds in the archive."""
    info = tar.gettarinfo(str(path), arcname=arcname)
    if info.isfile():
        with path.open("rb") as handle:
            tar.addfile(info, handle)
    else:
        tar.addfile(info)
    return info.size if info.isfile() else 0


def _pack(
    target: Path, manifest: Manifest, database: Path, cogs_dir: Path, files: list[Path]
) -> Manifest:
    """Write the archive to a temp file beside ``target``, fsync, rename. Blocking.

    The manifest is written last, with the number of cache files and the unpacked size
    actually archived; returns it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        with temp.open("xb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                size = _add_file(tar, database, manifest.database)
                count = 0
                for path in files:
                    relative = path.relative_to(cogs_dir).as_posix()
                    with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                        size += _add_file(tar, path, f"{COGS_PREFIX}/{relative}")
                        count += 1
                manifest = dataclasses.replace(manifest, cog_files=count, unpacked_size=size)
                data = manifest.to_json().encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(discord.utils.utcnow().timestamp())
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        _replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(target.parent)
    return manifest


async def create_backup(settings: Settings, target: Path) -> Manifest:
    """Write a backup of the database and ``<data_dir>/cogs`` to ``target``."""
    check_archive_name(target)
    target = Path(target)
    dialect = _url(settings).get_backend_name()
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {dialect} database")
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    staging = Path(await asyncio.to_thread(_make_temp_dir, target.parent, ".fishbot-backup-"))
    try:
        if dialect == "sqlite":
            member = SQLITE_MEMBER
            database = staging / "fish_bot.db"
            revision = await asyncio.to_thread(sqlite_copy, sqlite_path(settings), database)
        else:
            member = POSTGRES_MEMBER
            database = staging / "fish_bot.dump"
            revision = await _pg_dump(settings, database)
        cogs_dir = Path(settings.data_dir) / COGS_PREFIX
        files = await asyncio.to_thread(_cog_files, cogs_dir)
        manifest = Manifest(
            format=FORMAT,
            version=VERSION,
            dialect=dialect,
            revision=revision,
            created_at=discord.utils.utcnow().isoformat(timespec="seconds"),
            fish_bot_version=__version__,
            database=member,
            cog_files=len(files),
        )
        return await asyncio.to_thread(_pack, target, manifest, database, cogs_dir, files)
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, True)


def _make_temp_dir(parent: Path, prefix: str) -> str:
    import tempfile

    parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=parent)


def _swap_cogs(new_dir: Path, cogs_dir: Path) -> None:
    """Replace ``cogs_dir`` with ``new_dir`` (two renames, then the old one goes). Blocking."""
    old: Path | None = None
    if cogs_dir.exists():
        old = cogs_dir.with_name(f".cogs-old-{secrets.token_hex(4)}")
        cogs_dir.rename(old)
    new_dir.rename(cogs_dir)
    _fsync_directory(cogs_dir.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


async def restore_backup(
    settings: Settings,
    archive: Path,
    *,
    keep_current: bool = True,
    confirm: Callable[[Manifest], bool] | None = None,
) -> RestoreResult:
    """Replace the database and the cache data with a backup's.

    ``confirm`` is asked (with the manifest) after every check passed and before anything
    changes; returning False aborts with nothing changed.
    """
    from fish_bot.database import migrations

    archive = Path(archive)
    data_dir = Path(settings.data_dir)
    refuse_if_running(data_dir, "restore a backup")
    if not await asyncio.to_thread(archive.is_file):
        raise UserFacingError(f"There is no file {archive}")
    space = await asyncio.to_thread(free_space, data_dir)
    checked = await asyncio.to_thread(inspect_archive, archive, space)
    manifest = checked.manifest
    dialect = _url(settings).get_backend_name()
    if manifest.dialect != dialect:
        raise BackupError(
            f"this is a {clip(manifest.dialect, 40)} backup and the configured database is "
            f"{dialect}; to move to another kind of database use `fish-bot db copy "
            "--to URL`"
        )
    if manifest.revision is not None and not known_revision(manifest.revision):
        raise BackupError(
            f"the backup is at database revision {clip(manifest.revision, 40)}, which this "
            "Fish Bot does not know: it was made by a newer Fish Bot. Upgrade Fish Bot, then "
            "restore."
        )
    if dialect == "postgresql":
        _pg_tool("pg_restore")

    created_data_dir = not await asyncio.to_thread(data_dir.exists)
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    staging = Path(await asyncio.to_thread(_make_temp_dir, data_dir, ".fishbot-restore-"))
    installing = False
    try:
        # Everything is unpacked and checked before anything is changed or saved.
        database_file = staging / "database"
        new_cogs = staging / COGS_PREFIX
        await asyncio.to_thread(_unpack, archive, manifest, database_file, new_cogs)
        check = check_sqlite_file if dialect == "sqlite" else _check_pg_dump
        await asyncio.to_thread(check, database_file)
        if confirm is not None and not confirm(manifest):
            raise BackupError("restore cancelled; nothing was changed")

        safety: Path | None = None
        if keep_current:
            safety = await _safety_copy(settings)
        installing = True
        if dialect == "sqlite":
            target = sqlite_path(settings)
            # The new file must be on the target's file system for an atomic rename.
            await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
            beside = target.with_name(f".{target.name}.restore-{secrets.token_hex(4)}")
            await asyncio.to_thread(shutil.move, str(database_file), str(beside))
            try:
                await asyncio.to_thread(_sqlite_install, beside, target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    await asyncio.to_thread(beside.unlink)
        else:
            await _pg_restore(settings, database_file, manifest.revision)
        await asyncio.to_thread(_swap_cogs, new_cogs, data_dir / COGS_PREFIX)
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, True)
        if created_data_dir and not installing:
            with contextlib.suppress(OSError):  # only if still empty
                await asyncio.to_thread(data_dir.rmdir)
    return RestoreResult(manifest=manifest, safety_copy=safety, head=migrations.head_revision())


async def _safety_copy(settings: Settings) -> Path | None:
    """Back up what is there now (before a restore replaces it); None when there is nothing."""
    dialect = _url(settings).get_backend_name()
    if dialect == "sqlite":
        has_database = await asyncio.to_thread(sqlite_path(settings).is_file)
        if not has_database:
            return None
    target = default_backup_path(settings, prefix="pre-restore")
    await create_backup(settings, target)
    return target


def manifest_summary(manifest: Manifest) -> dict[str, Any]:
    return asdict(manifest)
