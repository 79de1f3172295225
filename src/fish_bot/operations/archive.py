"""The backup archive: its format and manifest, and the checks a restore runs before it writes.

:func:`inspect_archive` checks every member of a ``.tar.gz`` (names, types, sizes, the unpacked
total against the manifest and the free disk space) without writing anything; :func:`_unpack`
then extracts a checked archive. The format is described in :mod:`fish_bot.operations.backup`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tarfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fish_bot.core.text import clip
from fish_bot.exceptions import FishBotError, UserFacingError

FORMAT = "fish-bot-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/fish_bot.db"
POSTGRES_MEMBER = "database/fish_bot.dump"
COGS_PREFIX = "cogs"
SUFFIXES = (".tar.gz", ".tgz")
#: The largest manifest read (a real one is a few hundred bytes).
MANIFEST_LIMIT = 64 * 1024
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


def check_archive_name(path: Path) -> None:
    if not path.name.lower().endswith(SUFFIXES):
        raise UserFacingError(f"{path.name}: a backup file name ends with .tar.gz or .tgz")


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
