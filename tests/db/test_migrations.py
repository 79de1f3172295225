"""The shipped Alembic migrations, run through a DatabaseService on both databases."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import os
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import fish_bot.database.migrations as migrations
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.migrations import (
    MIGRATIONS_DIR,
    current_revision,
    downgrade,
    head_revision,
    history,
    pending_changes,
    upgrade,
)
from fish_bot.database.models.base import metadata
from fish_bot.database.service import DatabaseService
from fish_bot.exceptions import NotFoundError

CORE_TABLES = {"guild", "guild_config", "cog_setting"}


@pytest.fixture
async def service(db_target: Any) -> AsyncIterator[DatabaseService]:
    """A connected service over an empty database (no migration run)."""
    service: DatabaseService = db_target.service()
    await service.connect()
    try:
        yield service
    finally:
        await service.disconnect()


@pytest.fixture
def stored_rows(service: DatabaseService) -> Any:
    """``await stored_rows("guild")``: the committed rows of a table, read on a new connection."""

    async def _stored(table: str) -> list[dict[str, Any]]:
        t = metadata.tables[table]
        async with service.engine.connect() as conn:
            result = await conn.execute(sa.select(t).order_by(*t.primary_key.columns))
            return [dict(row._mapping) for row in result]

    return _stored


async def table_names(service: DatabaseService) -> set[str]:
    async with service.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


def shipped_revisions() -> dict[str, str | None]:
    """``revision -> down_revision`` read from the files in versions/."""
    found: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in {"revision", "down_revision"}
            ):
                values[node.targets[0].id] = ast.literal_eval(node.value)
        if "revision" in values:
            found[values["revision"]] = values.get("down_revision")
    return found


def oldest_first() -> list[str]:
    return [rev for rev, _down, _doc in reversed(history())]


# --- history ----------------------------------------------------------------------------------


def test_history_lists_every_shipped_revision_newest_first() -> None:
    rows = history()
    shipped = shipped_revisions()

    assert "0001_core" in shipped
    assert {rev: down for rev, down, _doc in rows} == shipped
    assert rows[0][0] == head_revision()
    assert rows[-1][1] is None  # the first migration starts from an empty database
    # A single line: each revision follows the one listed after it.
    for (_rev, down, _doc), (older, _d, _o) in itertools.pairwise(rows):
        assert down == older
    assert all(doc.strip() for _rev, _down, doc in rows)
    core = next(row for row in rows if row[0] == "0001_core")
    assert "guild" in core[2].lower()


# --- upgrade / downgrade ----------------------------------------------------------------------


async def test_empty_database_has_no_revision_and_pending_changes(
    service: DatabaseService,
) -> None:
    assert await current_revision(service) is None
    assert await table_names(service) == set()
    changes = await pending_changes(service)
    added = {change[1].name for change in changes if change[0] == "add_table"}
    # The check does see a difference when there is one: every model table is missing.
    assert added == set(metadata.tables)
    assert added >= CORE_TABLES


async def test_upgrade_to_head_matches_the_models(service: DatabaseService) -> None:
    await upgrade(service)

    assert await current_revision(service) == head_revision()
    assert await table_names(service) == set(metadata.tables) | {"alembic_version"}
    assert await table_names(service) >= CORE_TABLES
    assert await pending_changes(service) == []


async def test_upgrade_twice_is_harmless(service: DatabaseService) -> None:
    await upgrade(service)
    await DatabaseCoordinator(service).guild.create(id=1)

    await upgrade(service)

    assert await current_revision(service) == head_revision()
    assert await DatabaseCoordinator(service).guild.count() == 1


async def test_downgrade_to_base_removes_every_table(service: DatabaseService) -> None:
    await upgrade(service)
    await DatabaseCoordinator(service).guild_config.get_or_create_config(1)

    await downgrade(service, "base")

    assert await current_revision(service) is None
    assert await table_names(service) - {"alembic_version"} == set()


async def test_round_trip_upgrade_downgrade_upgrade(service: DatabaseService) -> None:
    await upgrade(service)
    await downgrade(service, "base")
    await upgrade(service)

    assert await current_revision(service) == head_revision()
    assert await pending_changes(service) == []
    # The recreated schema works, foreign key and cascade included.
    db = DatabaseCoordinator(service)
    await db.guild_config.update_config(7, prefix="!")
    assert await db.guild_config.get_prefix(7) == "!"
    assert await db.guild.delete_by_id(7) is True
    assert await db.guild_config.count() == 0


async def test_every_revision_upgrades_and_downgrades_one_step_at_a_time(
    service: DatabaseService,
) -> None:
    revisions = oldest_first()
    for revision in revisions:
        await upgrade(service, revision)
        assert await current_revision(service) == revision
    assert await pending_changes(service) == []

    for expected in [*reversed(revisions[:-1]), None]:
        await downgrade(service, "-1")
        assert await current_revision(service) == expected
    assert await table_names(service) - {"alembic_version"} == set()


async def test_pending_changes_reports_drift_from_the_models(service: DatabaseService) -> None:
    await upgrade(service)
    async with service.engine.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE guild_config ADD COLUMN stray INTEGER"))

    changes = await pending_changes(service)

    assert [(c[0], c[2], c[3].name) for c in changes if c[0] == "remove_column"] == [
        ("remove_column", "guild_config", "stray")
    ]


# --- a later migration that rebuilds a referenced table -----------------------------------------

#: A migration like the ones autogenerate writes for SQLite (batch mode): changing a column of
#: ``guild`` rebuilds the table there (copy, DROP, rename). It lives in the test's tmp folder,
#: never among the shipped migrations.
REBUILD_GUILD = """
import sqlalchemy as sa
from alembic import op

revision = "9999_rebuild_guild"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("guild") as batch:
        batch.alter_column("case_count", existing_type=sa.Integer(), server_default="1")


def downgrade():
    with op.batch_alter_table("guild") as batch:
        batch.alter_column("case_count", existing_type=sa.Integer(), server_default="0")
"""


@pytest.fixture
def rebuild_guild_migration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[str, str]:
    """Add one revision (kept in tmp_path) after the shipped head: (new, shipped head)."""
    shipped_head = head_revision()
    assert shipped_head is not None
    folder = tmp_path / "extra_versions"
    folder.mkdir()
    text = textwrap.dedent(REBUILD_GUILD).format(head=shipped_head)
    (folder / "9999_rebuild_guild.py").write_text(text, encoding="utf-8")
    shipped_config = migrations.alembic_config

    def config_with_extra() -> Any:
        config = shipped_config()
        shipped = config.get_main_option("version_locations")
        config.set_main_option("version_locations", f"{shipped}{os.pathsep}{folder.as_posix()}")
        return config

    monkeypatch.setattr(migrations, "alembic_config", config_with_extra)
    return "9999_rebuild_guild", shipped_head


async def test_rebuilding_a_referenced_table_keeps_the_referencing_rows(
    service: DatabaseService, rebuild_guild_migration: tuple[str, str], stored_rows: Any
) -> None:
    """On SQLite a batch rebuild drops the old table; ON DELETE CASCADE must not fire."""
    new, shipped_head = rebuild_guild_migration
    await upgrade(service, shipped_head)
    db = DatabaseCoordinator(service)
    await db.guild_config.update_config(1, prefix="!")
    await db.guild_config.update_config(2, prefix="?")
    await db.cog_setting.set_value("levels", "rate", 2, guild_id=1)

    await upgrade(service)
    assert await current_revision(service) == new
    await db.guild.delete_by_id(2)  # the rebuilt table still cascades
    await downgrade(service, "-1")

    assert await current_revision(service) == shipped_head
    assert [(r["guild_id"], r["prefix"]) for r in await stored_rows("guild_config")] == [(1, "!")]
    assert [r["id"] for r in await stored_rows("guild")] == [1]
    assert len(await stored_rows("cog_setting")) == 1
    # Foreign keys are enforced again on every pooled connection afterwards.
    with pytest.raises(NotFoundError):
        await db.guild_config.create(guild_id=404)
    if service.is_sqlite:
        async with service.session() as session:
            assert (await session.execute(sa.text("PRAGMA foreign_keys"))).scalar() == 1


# --- 0005_cog_slugs: settings move from display names to slugs ---------------------------------


async def _insert_settings(service: DatabaseService, rows: list[tuple[str, int, str, Any]]) -> None:
    table = metadata.tables["cog_setting"]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    async with service.engine.begin() as conn:
        for number, (cog, guild_id, key, value) in enumerate(rows):
            await conn.execute(
                sa.insert(table).values(
                    cog=cog,
                    guild_id=guild_id,
                    key=key,
                    value=value,
                    updated_at=start + dt.timedelta(minutes=number),
                )
            )


def _settings(rows: list[dict[str, Any]]) -> dict[tuple[str, int, str], Any]:
    return {(row["cog"], row["guild_id"], row["key"]): row["value"] for row in rows}


OLD_SCOPES: list[tuple[str, int, str, Any]] = [
    ("Core", 0, "allowed_channels", [11]),
    ("Core", 5, "__paused__", True),
    ("Example", 0, "count_step", 3),
    ("Example", 5, "tags", ["a", "b"]),
    ("Moderation", 5, "dm_members", False),
    ("GuildConfig", 5, "required_roles", [21]),  # written before the cog was renamed...
    ("GuildConfig", 5, "allowed_channels", [31]),
    ("ServerConfig", 5, "required_roles", [22]),  # ...and the same key after: the newer wins
    ("LevelsCog", 0, "rate", 2),  # a third-party cog: its class name becomes its slug
    ("__bot__", 0, "__app_commands_hash__", "abc"),  # the bot's own state stays
]


async def test_cog_slugs_migration_moves_every_setting_and_back(
    service: DatabaseService, stored_rows: Any
) -> None:
    await upgrade(service, "0004_cases")
    await _insert_settings(service, OLD_SCOPES)

    await upgrade(service, "0005_cog_slugs")

    assert _settings(await stored_rows("cog_setting")) == {
        ("core", 0, "allowed_channels"): [11],
        ("core", 5, "__paused__"): True,
        ("example", 0, "count_step"): 3,
        ("example", 5, "tags"): ["a", "b"],
        ("moderation", 5, "dm_members"): False,
        ("server_config", 5, "required_roles"): [22],
        ("server_config", 5, "allowed_channels"): [31],
        ("levels_cog", 0, "rate"): 2,
        ("__bot__", 0, "__app_commands_hash__"): "abc",
    }

    await downgrade(service, "0004_cases")

    assert _settings(await stored_rows("cog_setting")) == {
        ("Core", 0, "allowed_channels"): [11],
        ("Core", 5, "__paused__"): True,
        ("Example", 0, "count_step"): 3,
        ("Example", 5, "tags"): ["a", "b"],
        ("Moderation", 5, "dm_members"): False,
        ("ServerConfig", 5, "required_roles"): [22],
        ("ServerConfig", 5, "allowed_channels"): [31],
        ("LevelsCog", 0, "rate"): 2,
        ("__bot__", 0, "__app_commands_hash__"): "abc",
    }


async def test_cog_slugs_migration_leaves_slug_scopes_alone_and_reads_through_the_bot_api(
    service: DatabaseService,
) -> None:
    await upgrade(service, "0004_cases")
    await _insert_settings(
        service, [("Example", 7, "greeting", "hi"), ("example", 7, "count_step", 4)]
    )

    await upgrade(service)

    rows = await DatabaseCoordinator(service).cog_setting.values_for_cog("example")
    assert {(row.guild_id, row.key): row.value for row in rows} == {
        (7, "greeting"): "hi",
        (7, "count_step"): 4,
    }
    assert await DatabaseCoordinator(service).cog_setting.values_for_cog("Example") == []


# --- the start-up check -----------------------------------------------------------------------


def test_the_shipped_head_is_read_from_the_files_as_alembic_reads_it() -> None:
    assert migrations.shipped_head() == head_revision()


@pytest.mark.parametrize(
    ("files", "head"),
    [
        # a chain, a typed assignment and single quotes
        (
            {
                "a": 'revision = "a"\ndown_revision = None\n',
                "b": "revision: str = 'b'\ndown_revision: str | None = 'a'\n",
            },
            "b",
        ),
        # a merge revision: two parents in a tuple
        (
            {
                "a": 'revision = "a"\ndown_revision = None\n',
                "b": 'revision = "b"\ndown_revision = "a"\n',
                "c": 'revision = "c"\ndown_revision = "a"\n',
                "m": 'revision = "m"\ndown_revision = ("b", "c")\n',
            },
            "m",
        ),
        # two heads: Alembic must decide
        (
            {
                "a": 'revision = "a"\ndown_revision = None\n',
                "b": 'revision = "b"\ndown_revision = None\n',
            },
            None,
        ),
        # a value this reader does not understand: Alembic must decide
        ({"a": 'revision = "a"\ndown_revision = PARENT\n'}, None),
        ({"a": 'revision = "a"\nrevision = "b"\n'}, None),
        # a module without a revision is not one
        ({"helpers": "X = 1\n", "a": 'revision = "a"\ndown_revision = None\n'}, "a"),
    ],
)
def test_the_shipped_head_reader_understands_chains_and_merges_or_declines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], head: str | None
) -> None:
    (tmp_path / "versions").mkdir()
    for name, text in files.items():
        (tmp_path / "versions" / f"{name}.py").write_text(
            '"""A revision."""\n\nfrom alembic import op\n\n' + text, encoding="utf-8"
        )
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", tmp_path)
    assert migrations.shipped_head() == head


def test_the_shipped_head_reader_declines_a_file_that_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "a.py").write_bytes(b'revision = "a"\n# caf\xe9\n')
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", tmp_path)
    assert migrations.shipped_head() is None


async def test_is_at_head_only_once_upgraded(service: DatabaseService) -> None:
    assert await migrations.is_at_head(service) is False  # empty database
    await upgrade(service, "0001_core")
    assert await migrations.is_at_head(service) is False
    await upgrade(service)
    assert await migrations.is_at_head(service) is True


def test_a_restart_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    """What ``fish-bot run`` does at start-up on a migrated database loads no Alembic/Mako."""
    import subprocess
    import sys

    url = f"sqlite+aiosqlite:///{(tmp_path / 'fish_bot.db').as_posix()}"
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from fish_bot.database import migrations
        from fish_bot.database.service import DatabaseService

        async def main():
            service = DatabaseService({url!r})
            await service.connect()
            if sys.argv[1] == "migrate":
                await migrations.upgrade(service)
            else:
                assert await migrations.is_at_head(service)
                loaded = sorted(m for m in ("alembic", "mako", "pygments") if m in sys.modules)
                print("loaded:", loaded)
            await service.disconnect()

        asyncio.run(main())
        """
    )
    subprocess.run([sys.executable, "-c", script, "migrate"], check=True)
    result = subprocess.run(
        [sys.executable, "-c", script, "check"], check=True, capture_output=True, text=True
    )
    assert "loaded: []" in result.stdout
