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
import json
import os
import re
import secrets
import shutil
import sqlite3
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import discord.utils
from sqlalchemy.engine import URL, make_url

from fish_bot import __version__
from fish_bot.core.files import _fsync_directory, _replace
from fish_bot.core.text import clip
from fish_bot.exceptions import FishBotError, UserFacingError
from fish_bot.operations.lock import refuse_if_running

if TYPE_CHECKING:
    from fish_bot.config import Settings

FORMAT = "fish-bot-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/fish_bot.db"
POSTGRES_MEMBER = "database/fish_bot.dump"
COGS_PREFIX = "cogs"
SUFFIXES = (".tar.gz", ".tgz")
#: The largest manifest read (a real one is a few hundred bytes).
MANIFEST_LIMIT = 64 * 1024
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
_DRIVE = re.compile(r"^[A-Za-z]:")


class BackupError(FishBotError):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    format: str
    version: int
    dialect: str
    revision: str | None
    created_at: str
    fish_bot_version: str
    database: str
    cog_files: int
    unpacked_size: int | None = None
    """Bytes of every member but the manifest (None in backups of older Fish Bots)."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BackupError(
                f"the backup's manifest is damaged: it is not UTF-8 text (byte "
                f"0x{raw[error.start]:02x} at offset {error.start})"
            ) from None
        return cls.from_json(text)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise BackupError("the backup's manifest is damaged: it is not a JSON object")
            if data.get("format") != FORMAT:
                raise BackupError("this file is not a Fish Bot backup (wrong manifest format)")
            if data.get("version") != VERSION:
                raise BackupError(
                    f"backup format version {data.get('version')!r} is not supported "
                    f"(this Fish Bot reads version {VERSION})"
                )
            return cls(
                format=FORMAT,
                version=VERSION,
                dialect=str(data["dialect"]),
                revision=data.get("revision"),
                created_at=str(data.get("created_at", "")),
                fish_bot_version=str(data.get("fish_bot_version", "")),
                database=str(data["database"]),
                cog_files=int(data.get("cog_files", 0)),
                unpacked_size=_size_field(data.get("unpacked_size")),
            )
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
            detail = clip(" ".join(str(error).split()), 200)
            raise BackupError(f"the backup's manifest is damaged: {detail}") from None


def _size_field(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("unpacked_size must be a number of bytes")
    return value


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    safety_copy: Path | None
    head: str | None


def check_archive_name(path: Path) -> None:
    if not path.name.lower().endswith(SUFFIXES):
        raise UserFacingError(f"{path.name}: a backup file name ends with .tar.gz or .tgz")


def default_backup_path(settings: Settings, prefix: str = "fish-bot") -> Path:
    stamp = discord.utils.utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.data_dir) / "backups" / f"{prefix}-{stamp}.tar.gz"


def _url(settings: Settings) -> URL:
    return make_url(settings.effective_database_url)


def sqlite_path(settings: Settings) -> Path:
    database = _url(settings).database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("only a SQLite database in a file can be backed up")
    return Path(database)


# --- SQLite ------------------------------------------------------------------------------------


def _read_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no alembic_version table: an empty database
        return None
    return str(row[0]) if row else None


def _quick_check(connection: sqlite3.Connection, what: str) -> None:
    result = connection.execute("PRAGMA quick_check").fetchone()
    if not result or result[0] != "ok":
        raise BackupError(f"{what} failed SQLite's integrity check: {result[0] if result else '?'}")


def sqlite_copy(source: Path, destination: Path) -> str | None:
    """Copy a live SQLite database consistently (backup API); returns its revision. Blocking."""
    if not source.is_file():
        raise BackupError(f"there is no SQLite database at {source}")
    src = sqlite3.connect(str(source), timeout=30)
    try:
        dst = sqlite3.connect(str(destination))
        try:
            src.backup(dst)  # one step: a single read transaction, so one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _quick_check(dst, "the copy")
            return _read_revision(dst)
        finally:
            dst.close()
    finally:
        src.close()


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not a sound SQLite database (header, then quick_check). Blocking."""
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise BackupError("the backup's database member is not a SQLite database")
    try:
        check = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _quick_check(check, "the backup's database")
        finally:
            check.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the backup's database cannot be read by SQLite: {error}") from None


def _check_pg_dump(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(PG_DUMP_HEADER))
    if header != PG_DUMP_HEADER:
        raise BackupError("the backup's database member is not a pg_dump custom-format dump")


def _sqlite_install(new_file: Path, target: Path) -> None:
    """Put a restored, checked SQLite file in place of ``target`` (no bot runs). Blocking."""
    with new_file.open("rb+") as handle:  # it may have been copied across file systems
        os.fsync(handle.fileno())
    if target.exists():
        # Merge and drop the old write-ahead log so that it can never be applied to the new file.
        old = sqlite3.connect(str(target), timeout=30)
        try:
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            old.close()
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            target.with_name(target.name + suffix).unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    _replace(new_file, target)
    _fsync_directory(target.parent)


# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. PostgreSQL backups use pg_dump and pg_restore: "
            "install the PostgreSQL client tools of the server's major version (e.g. "
            "`apt install postgresql-client`) and try again."
        )
    return path


def _pg_connection(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """Command-line options and environment for pg_dump/pg_restore (password in the env)."""
    url = _url(settings)
    args: list[str] = ["--no-password"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    if not url.database:
        raise BackupError("FISHBOT_DATABASE_URL names no database")
    args += ["--dbname", url.database]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    sslmode = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = "require" if sslmode.lower() in ("true", "1") else sslmode
    return args, env


async def _run_tool(argv: list[str], env: dict[str, str], what: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _stdout, stderr = await process.communicate()
    if process.returncode != 0:
        text = stderr.decode("utf-8", "replace").strip() or f"exit code {process.returncode}"
        hint = ""
        if "version mismatch" in text:
            hint = " Install client tools of the same major version as the server."
        raise BackupError(f"{what} failed: {text}{hint}")


async def _service_revision(settings: Settings) -> str | None:
    from fish_bot.database import migrations
    from fish_bot.database.service import DatabaseService

    service = DatabaseService.from_settings(settings)
    await service.connect()
    try:
        return await migrations.current_revision(service)
    finally:
        await service.disconnect()


async def _pg_dump(settings: Settings, destination: Path) -> str | None:
    tool = _pg_tool("pg_dump")
    revision = await _service_revision(settings)
    args, env = _pg_connection(settings)
    await _run_tool(
        [
            tool,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(destination),
            *args,
        ],
        env,
        "pg_dump",
    )
    return revision


def _ancestors(revision: str) -> set[str]:
    from fish_bot.database import migrations

    script = migrations.script_directory()
    seen: set[str] = set()
    pending = [revision]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        found = script.get_revision(current)
        down = found.down_revision if found is not None else None
        if isinstance(down, str):
            pending.append(down)
        elif down:
            pending.extend(down)
    return seen


async def _pg_restore(settings: Settings, dump: Path, revision: str | None) -> None:
    """Bring the schema to the dump's revision, then restore the dump in one transaction."""
    from fish_bot.database import migrations
    from fish_bot.database.service import DatabaseService

    tool = _pg_tool("pg_restore")
    service = DatabaseService.from_settings(settings)
    await service.connect()
    try:
        current = await migrations.current_revision(service)
        if current is not None and current != revision:
            if not known_revision(current):
                raise BackupError(
                    f"the database is at revision {current}, which this Fish Bot does not know"
                )
            # Tables that a later migration added would survive pg_restore --clean and break
            # the next upgrade: move the schema to the backup's revision first.
            if revision is None:
                await migrations.downgrade(service, "base")
            elif revision in _ancestors(current):
                await migrations.downgrade(service, revision)
            else:
                await migrations.upgrade(service, revision)
    finally:
        await service.disconnect()
    args, env = _pg_connection(settings)
    await _run_tool(
        [
            tool,
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            *args,
            str(dump),
        ],
        env,
        "pg_restore",
    )


# --- archives ----------------------------------------------------------------------------------


def known_revision(revision: str) -> bool:
    from fish_bot.database import migrations

    return any(
        script.revision == revision for script in migrations.script_directory().walk_revisions()
    )


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


def _member_path(member: tarfile.TarInfo) -> PurePosixPath:
    """The member's path, refused when it could land outside the folder it is unpacked to."""
    name = member.name
    shown = repr(clip(name, 120))
    if "\\" in name:
        raise BackupError(f"the backup holds an unsafe path (a backslash): {shown}")
    path = PurePosixPath(name)
    if _DRIVE.match(name) or any(":" in part for part in path.parts):
        raise BackupError(f"the backup holds an unsafe path (a drive letter or colon): {shown}")
    if path.is_absolute() or not path.parts or ".." in path.parts:
        raise BackupError(f"the backup holds an unsafe path: {shown}")
    if member.issparse() or not (member.isfile() or member.isdir()):
        raise BackupError(f"the backup holds something that is not a file: {shown}")
    return path


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


@dataclass(frozen=True)
class ArchiveCheck:
    """What :func:`inspect_archive` found: the manifest and the bytes the archive unpacks to."""

    manifest: Manifest
    unpacked_size: int


def inspect_archive(archive: Path, space: int | None = None) -> ArchiveCheck:
    """Check every member of ``archive`` without writing anything. Blocking.

    Refuses (with :class:`BackupError`, one line) unsafe names (``..``, absolute, backslashes,
    drive letters), members that are not files or folders, a path that is both a file and a
    folder (or twice a file), a missing or damaged manifest, a missing database member, and an
    archive that unpacks to more than its manifest records or than ``space`` bytes (the free
    disk space; the listing stops as soon as it is exceeded).
    """
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    total = 0
    manifest_raw: bytes | None = None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                path = _member_path(member)
                shown = repr(clip(member.name, 120))
                if member.isdir():
                    if path in files:
                        raise BackupError(f"the backup holds {shown} as a file and as a folder")
                    folders.add(path)
                else:
                    if path in files:
                        raise BackupError(f"the backup holds {shown} twice")
                    if path in folders:
                        raise BackupError(f"the backup holds {shown} as a file and as a folder")
                    files.add(path)
                for parent in path.parents:
                    if parent in files:
                        raise BackupError(
                            f"the backup holds {clip(str(parent), 120)!r} as a file and as a folder"
                        )
                    folders.add(parent)
                if member.isdir():
                    continue
                if member.name == MANIFEST:
                    if member.size > MANIFEST_LIMIT:
                        raise BackupError("the backup's manifest is damaged: it is too large")
                    handle = tar.extractfile(member)
                    manifest_raw = handle.read() if handle is not None else b""
                    continue
                total += member.size
                if space is not None and total > space:
                    raise BackupError(
                        f"the backup unpacks to more than {_human(space)}, the free disk space "
                        "of the data folder: free some space and try again"
                    )
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupError(f"cannot read {archive.name}: the archive is damaged ({error})") from None
    except OSError as error:
        raise BackupError(f"cannot read {archive}: {error.strerror or error}") from None
    if manifest_raw is None:
        raise BackupError(f"{archive.name} has no manifest.json")
    manifest = Manifest.from_bytes(manifest_raw)
    if PurePosixPath(manifest.database) not in files:
        raise BackupError(f"the backup has no {clip(manifest.database, 120)}")
    if manifest.unpacked_size is not None and total > manifest.unpacked_size:
        raise BackupError(
            f"the backup unpacks to {total} bytes, more than the {manifest.unpacked_size} "
            "its manifest records: it was altered"
        )
    return ArchiveCheck(manifest, total)


def read_manifest_sync(archive: Path) -> Manifest:
    """The manifest of ``archive`` (the whole archive is checked). Blocking."""
    return inspect_archive(archive).manifest


async def read_manifest(archive: Path) -> Manifest:
    return await asyncio.to_thread(read_manifest_sync, Path(archive))


def free_space(folder: Path) -> int:
    """Free bytes on the disk of ``folder`` (or of its nearest existing parent). Blocking."""
    for candidate in (folder, *folder.resolve().parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage(Path.cwd()).free


def _unpack(archive: Path, manifest: Manifest, database_to: Path, cogs_to: Path) -> int:
    """Extract the database member and the cache data (checked archive only). Blocking."""
    found_database = False
    count = 0
    cogs_to.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                path = _member_path(member)
                if member.isdir():
                    continue
                if member.name == manifest.database:
                    destination = database_to
                    found_database = True
                elif path.parts[0] == COGS_PREFIX and len(path.parts) > 1:
                    destination = cogs_to.joinpath(*path.parts[1:])
                    count += 1
                else:
                    continue
                source = tar.extractfile(member)
                if source is None:
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with source, destination.open("wb") as out:
                    shutil.copyfileobj(source, out)
                    out.flush()
                    os.fsync(out.fileno())
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise BackupError(f"the backup is damaged: {error}") from None
    except OSError as error:
        raise BackupError(f"cannot unpack the backup: {error.strerror or error}") from None
    if not found_database:
        raise BackupError(f"the backup has no {manifest.database}")
    return count


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
            f"{dialect}; to move settings between databases use `fish-bot settings "
            "export/import`"
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
