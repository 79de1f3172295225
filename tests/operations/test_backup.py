"""``fish-bot db backup`` and ``fish-bot db restore`` (SQLite; PostgreSQL with pg_dump)."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import sqlite3
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.migrations import head_revision
from fish_bot.operations import backup
from fish_bot.operations.archive import read_manifest_sync
from fish_bot.operations.dumps import SQLITE_HEADER
from fish_bot.operations.lock import RunLock

from .conftest import Instance, rows, run

GUILD = 123456789012345678


def needs_pg_tools(db_backend: str) -> None:
    if db_backend == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed")


async def seed(db: DatabaseCoordinator) -> None:
    await db.cog_setting.set_value("Example", "count_step", 5)
    await db.cog_setting.set_value("Example", "greeting", "hello", GUILD)
    await db.permissions.set_role_rank(GUILD, 42, 7)


def write_cache(instance: Instance, text: str) -> Path:
    path = instance.data_dir / "cogs" / "example" / "example_cache.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_backup_and_restore_into_a_fresh_data_folder(
    make_instance: Callable[[str], Instance], db_backend: str, tmp_path: Path
) -> None:
    needs_pg_tools(db_backend)
    source = make_instance("source")
    run(lambda: source.with_db(seed))
    write_cache(source, '{"counts": {"1": 3}}')
    (source.data_dir / "cogs" / "example" / ".example_cache.json.abc.tmp").write_text("torn")
    archive = tmp_path / "backup.tar.gz"

    result = source.cli("db", "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert "1 cache-data files" in result.output
    manifest = read_manifest_sync(archive)
    assert manifest.dialect == db_backend
    assert manifest.revision == head_revision()
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "cogs/example/example_cache.json" in names
    assert not any(name.endswith(".tmp") for name in names)

    target = make_instance("target")  # nothing there yet
    result = target.cli("db", "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    assert rows(target) == rows(source)
    restored = target.data_dir / "cogs" / "example" / "example_cache.json"
    assert json.loads(restored.read_text()) == {"counts": {"1": 3}}


def test_restore_replaces_current_state_and_keeps_a_safety_copy(
    make_instance: Callable[[str], Instance], db_backend: str, tmp_path: Path
) -> None:
    needs_pg_tools(db_backend)
    instance = make_instance("one")
    run(lambda: instance.with_db(seed))
    write_cache(instance, '{"v": 1}')
    archive = tmp_path / "backup.tgz"
    assert instance.cli("db", "backup", str(archive)).exit_code == 0
    saved = rows(instance)

    async def change(db: DatabaseCoordinator) -> None:
        await db.cog_setting.set_value("Example", "count_step", 99)
        await db.permissions.set_role_rank(GUILD, 43, 1)

    run(lambda: instance.with_db(change))
    write_cache(instance, '{"v": 2}')
    (instance.data_dir / "cogs" / "other").mkdir()
    (instance.data_dir / "cogs" / "other" / "new.json").write_text("{}")

    result = instance.cli("db", "restore", str(archive), "-y")
    assert result.exit_code == 0, result.output
    assert rows(instance) == saved
    cogs = instance.data_dir / "cogs"
    assert json.loads((cogs / "example" / "example_cache.json").read_text()) == {"v": 1}
    assert not (cogs / "other").exists()
    copies = list((instance.data_dir / "backups").glob("pre-restore-*.tar.gz"))
    assert len(copies) == 1
    assert read_manifest_sync(copies[0]).cog_files == 2


def test_sqlite_backup_is_consistent_while_another_connection_writes(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    archive = tmp_path / "live.tar.gz"

    async def scenario(db: DatabaseCoordinator) -> tuple[int, int]:
        written = 0
        target = 20
        reached = asyncio.Event()
        stop = asyncio.Event()

        async def writer() -> None:
            nonlocal written
            while not stop.is_set():
                # two rows per transaction: a torn copy would hold one without the other
                async with db.transaction():
                    await db.cog_setting.set_value("Load", f"a{written:05d}", written)
                    await db.cog_setting.set_value("Load", f"b{written:05d}", written)
                written += 1
                if written >= target:
                    reached.set()
                await asyncio.sleep(0)

        task = asyncio.create_task(writer())
        await asyncio.wait_for(reached.wait(), 30)
        await backup.create_backup(instance.settings, archive)
        at_backup_end = written
        target = written + 10  # the writer still writes after the copy
        reached.clear()
        await asyncio.wait_for(reached.wait(), 30)
        stop.set()
        await task
        return at_backup_end, written

    copied_at_most, total = run(lambda: instance.with_db(scenario))
    extracted = tmp_path / "copy.db"
    with tarfile.open(archive) as tar:
        member = tar.extractfile(backup.SQLITE_MEMBER)
        assert member is not None
        extracted.write_bytes(member.read())
    connection = sqlite3.connect(extracted)
    try:
        assert connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        keys = [
            row[0] for row in connection.execute("SELECT key FROM cog_setting WHERE cog='Load'")
        ]
    finally:
        connection.close()
    count = len(keys) // 2
    assert 20 <= count <= copied_at_most < total
    assert sorted(keys) == sorted(
        [f"a{n:05d}" for n in range(count)] + [f"b{n:05d}" for n in range(count)]
    )


def test_restore_refuses_while_the_bot_runs(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(seed))
    archive = tmp_path / "b.tar.gz"
    assert instance.cli("db", "backup", str(archive)).exit_code == 0
    with RunLock(instance.data_dir):
        result = instance.cli("db", "restore", str(archive), "--yes")
    assert result.exit_code == 1
    assert "A Fish Bot is running with this data folder" in " ".join(result.output.split())


def test_a_stale_lock_is_ignored(make_instance: Callable[[str], Instance], tmp_path: Path) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(seed))
    archive = tmp_path / "b.tar.gz"
    assert instance.cli("db", "backup", str(archive)).exit_code == 0
    instance.data_dir.mkdir(parents=True, exist_ok=True)
    (instance.data_dir / "fish_bot.pid").write_text(
        json.dumps({"pid": 2**22 + 12345, "host": __import__("socket").gethostname()})
    )
    result = instance.cli("db", "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output


def test_restore_needs_confirmation(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(seed))
    archive = tmp_path / "b.tar.gz"
    assert instance.cli("db", "backup", str(archive)).exit_code == 0
    before = rows(instance)
    result = instance.cli("db", "restore", str(archive))
    assert result.exit_code == 1
    assert "--yes" in result.output
    assert rows(instance) == before
    assert not (instance.data_dir / "backups").exists()


def _rewrite(
    archive: Path,
    target: Path,
    *,
    manifest: dict[str, object] | None = None,
    extra: tuple[str, bytes] | None = None,
) -> None:
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source:
            data = source.extractfile(member)
            if member.name == backup.MANIFEST and manifest is not None:
                payload = json.loads(data.read())  # type: ignore[union-attr]
                payload.update(manifest)
                raw = json.dumps(payload).encode()
                member.size = len(raw)
                out.addfile(member, io.BytesIO(raw))
            else:
                out.addfile(member, data)
        if extra is not None:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            out.addfile(info, io.BytesIO(extra[1]))


def test_restore_refuses_a_backup_from_a_newer_fish_bot(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(seed))
    archive = tmp_path / "b.tar.gz"
    assert instance.cli("db", "backup", str(archive)).exit_code == 0
    newer = tmp_path / "newer.tar.gz"
    _rewrite(archive, newer, manifest={"revision": "ffffffffffff"})
    result = instance.cli("db", "restore", str(newer), "--yes")
    assert result.exit_code == 1
    assert "made by a newer Fish Bot" in " ".join(result.output.split())


def test_restore_refuses_unsafe_paths(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(seed))
    archive = tmp_path / "b.tar.gz"
    assert instance.cli("db", "backup", str(archive)).exit_code == 0
    evil = tmp_path / "evil.tar.gz"
    _rewrite(archive, evil, extra=("cogs/../../escaped.txt", b"x"))
    result = instance.cli("db", "restore", str(evil), "--yes", "--no-keep-current")
    assert result.exit_code == 1
    assert "unsafe path" in result.output
    assert not (tmp_path / "one" / "escaped.txt").exists()


def test_backup_file_names_and_missing_database(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    result = instance.cli("db", "backup", str(tmp_path / "b.zip"))
    assert result.exit_code == 1
    assert ".tar.gz or .tgz" in result.output
    result = instance.cli("db", "backup", str(tmp_path / "b.tar.gz"))
    assert result.exit_code == 1
    assert "no SQLite database" in result.output


def test_default_backup_location(make_instance: Callable[[str], Instance]) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(seed))
    result = instance.cli("db", "backup")
    assert result.exit_code == 0, result.output
    assert len(list((instance.data_dir / "backups").glob("fish-bot-*.tar.gz"))) == 1


@pytest.mark.postgres
def test_postgresql_errors_are_clear(
    make_instance: Callable[[str], Instance], db_backend: str, tmp_path: Path
) -> None:
    pg = make_instance("pg")
    run(lambda: pg.with_db(seed))
    pg.extra_env["PATH"] = str(tmp_path / "empty-bin")
    result = pg.cli("db", "backup", str(tmp_path / "x.tar.gz"))
    assert result.exit_code == 1
    assert "pg_dump was not found on PATH" in result.output

    lite = Instance(tmp_path / "lite" / "data")  # SQLite
    run(lambda: lite.with_db(seed))
    archive = tmp_path / "lite.tar.gz"
    assert lite.cli("db", "backup", str(archive)).exit_code == 0
    del pg.extra_env["PATH"]
    result = pg.cli("db", "restore", str(archive), "--yes")
    assert result.exit_code == 1
    assert "this is a sqlite backup" in result.output


def test_restoring_an_older_revision_lets_the_bot_upgrade_again(
    make_instance: Callable[[str], Instance], db_backend: str, tmp_path: Path
) -> None:
    """A backup of an older schema over a newer database: no table of the newer one is left."""
    needs_pg_tools(db_backend)
    instance = make_instance("one")
    assert instance.cli("db", "upgrade", "0003_permissions").exit_code == 0
    archive = tmp_path / "old.tar.gz"
    assert instance.cli("db", "backup", str(archive)).exit_code == 0
    assert read_manifest_sync(archive).revision == "0003_permissions"
    assert instance.cli("db", "upgrade").exit_code == 0

    result = instance.cli("db", "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.output
    assert "upgrades it to" in result.output
    assert "0003_permissions" in instance.cli("db", "current").output
    result = instance.cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert head_revision() in result.output


# --- crafted archives: refused in one line, before anything is saved or changed ---------------


def craft(
    archive: Path,
    target: Path,
    *,
    manifest: bytes | None = None,
    manifest_update: dict[str, object] | None = None,
    replace: dict[str, bytes] | None = None,
    extra: list[tuple[str, bytes | None]] | None = None,
) -> None:
    """Copy a real backup, changing members; ``extra`` adds files (bytes) or folders (None)."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source:
            data = source.extractfile(member)
            raw = data.read() if data is not None else b""
            if member.name == backup.MANIFEST:
                if manifest_update is not None:
                    payload = json.loads(raw)
                    payload.update(manifest_update)
                    raw = json.dumps(payload).encode()
                if manifest is not None:
                    raw = manifest
            elif replace and member.name in replace:
                raw = replace[member.name]
            member.size = len(raw)
            out.addfile(member, io.BytesIO(raw))
        for name, content in extra or []:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                out.addfile(info)
            else:
                info.size = len(content)
                out.addfile(info, io.BytesIO(content))


@pytest.fixture
def restorable(make_instance: Callable[[str], Instance], tmp_path: Path) -> tuple[Instance, Path]:
    """An installation with data and cache files, and a good backup of it."""
    instance = make_instance("one")
    run(lambda: instance.with_db(seed))
    write_cache(instance, '{"v": 1}')
    archive = tmp_path / "good.tar.gz"
    assert instance.cli("db", "backup", str(archive)).exit_code == 0
    return instance, archive


def refused_restore(instance: Instance, archive: Path) -> str:
    """Restore ``archive``: refused in one line, and the installation is exactly as before."""
    before = rows(instance)
    cogs = instance.data_dir / "cogs"
    files_before = sorted(p.relative_to(cogs) for p in cogs.rglob("*"))
    result = instance.cli("db", "restore", str(archive), "--yes")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    output = " ".join(result.output.split())
    assert output.startswith("error: ")
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (instance.data_dir / "backups").exists()  # no pre-restore copy was written
    assert not list(instance.data_dir.glob(".fishbot-restore-*"))
    assert rows(instance) == before
    assert sorted(p.relative_to(cogs) for p in cogs.rglob("*")) == files_before
    return output


def test_the_manifest_records_the_unpacked_size(restorable: tuple[Instance, Path]) -> None:
    _instance, archive = restorable
    manifest = read_manifest_sync(archive)
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    assert members[-1].name == backup.MANIFEST  # written last, with the exact figures
    assert manifest.unpacked_size == sum(m.size for m in members if m.name != backup.MANIFEST)
    assert manifest.cog_files == 1


def test_a_manifest_that_is_not_utf8(restorable: tuple[Instance, Path], tmp_path: Path) -> None:
    instance, archive = restorable
    crafted = tmp_path / "latin.tar.gz"
    craft(archive, crafted, manifest='{"format": "fish-bot-backup", "x": "é"}'.encode("latin-1"))
    output = refused_restore(instance, crafted)
    assert "manifest is damaged: it is not UTF-8 text (byte 0xe9" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>not a database</html>" * 100, "is not a SQLite database"),
        (SQLITE_HEADER + b"\x00" * 4000, "cannot be read by SQLite"),
    ],
)
def test_a_database_member_that_is_not_sqlite(
    restorable: tuple[Instance, Path], tmp_path: Path, content: bytes, message: str
) -> None:
    instance, archive = restorable
    crafted = tmp_path / "notdb.tar.gz"
    craft(
        archive,
        crafted,
        replace={backup.SQLITE_MEMBER: content},
        manifest_update={"unpacked_size": 10**9},
    )
    assert message in refused_restore(instance, crafted)


@pytest.mark.parametrize(
    "extra",
    [
        [("cogs/example", b"a file"), ("cogs/example/more.json", b"{}")],
        [("cogs/other", None), ("cogs/other", b"a file")],
        [("cogs/twice.json", b"{}"), ("cogs/twice.json", b"{}")],
    ],
    ids=["file-then-folder", "folder-then-file", "twice"],
)
def test_a_file_and_a_folder_of_the_same_name(
    restorable: tuple[Instance, Path], tmp_path: Path, extra: list[tuple[str, bytes | None]]
) -> None:
    instance, archive = restorable
    crafted = tmp_path / "clash.tar.gz"
    craft(archive, crafted, extra=extra, manifest_update={"unpacked_size": 10**9})
    output = refused_restore(instance, crafted)
    assert "as a file and as a folder" in output or "twice" in output


@pytest.mark.parametrize(
    "name",
    ["cogs\\..\\..\\escaped.txt", "C:/escaped.txt", "cogs/C:escaped.txt", "c:escaped.txt"],
)
def test_backslashes_and_drive_letters_are_refused(
    restorable: tuple[Instance, Path], tmp_path: Path, name: str
) -> None:
    instance, archive = restorable
    crafted = tmp_path / "evil.tar.gz"
    craft(archive, crafted, extra=[(name, b"x")], manifest_update={"unpacked_size": 10**9})
    assert "unsafe path" in refused_restore(instance, crafted)


def test_an_archive_bigger_than_its_manifest_says(
    restorable: tuple[Instance, Path], tmp_path: Path
) -> None:
    instance, archive = restorable
    crafted = tmp_path / "bomb.tar.gz"
    craft(archive, crafted, extra=[("cogs/example/zeros.json", b"\0" * (4 * 1024 * 1024))])
    assert crafted.stat().st_size < 100 * 1024  # compresses to almost nothing
    output = refused_restore(instance, crafted)
    assert "more than the" in output
    assert "its manifest records" in output


def test_an_archive_bigger_than_the_free_disk_space(
    restorable: tuple[Instance, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance, archive = restorable
    monkeypatch.setattr(backup, "free_space", lambda folder: 1000)
    assert "the free disk space" in refused_restore(instance, archive)


def test_a_refused_archive_leaves_a_fresh_data_folder_absent(
    restorable: tuple[Instance, Path], make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    _instance, archive = restorable
    crafted = tmp_path / "notdb.tar.gz"
    craft(
        archive,
        crafted,
        replace={backup.SQLITE_MEMBER: b"garbage" * 100},
        manifest_update={"unpacked_size": 10**9},
    )
    fresh = make_instance("fresh")
    result = fresh.cli("db", "restore", str(crafted), "--yes")
    assert result.exit_code == 1
    assert "is not a SQLite database" in result.output
    assert not fresh.data_dir.exists()


def test_an_old_backup_without_unpacked_size_still_restores(
    restorable: tuple[Instance, Path], tmp_path: Path
) -> None:
    instance, archive = restorable
    old = tmp_path / "old.tar.gz"
    craft(archive, old, manifest_update={"unpacked_size": None})
    result = instance.cli("db", "restore", str(old), "--yes")
    assert result.exit_code == 0, result.output
