"""BaseController: every generic operation, on SQLite and (when configured) PostgreSQL.

The generic controller is exercised through the shipped models, which cover the shapes that
matter: ``Guild`` (one BIGINT key), ``CogSetting`` (composite key ``(cog, guild_id, key)`` and
a JSON value) and ``GuildConfig`` (foreign key to ``guild`` with ON DELETE CASCADE).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.exc

from fish_bot.database.controllers.base import BaseController, Page
from fish_bot.database.models import CogSetting, Guild, GuildConfig
from fish_bot.database.service import DatabaseService
from fish_bot.exceptions import (
    DatabaseError,
    DuplicateError,
    IntegrityViolation,
    NotFoundError,
    UserFacingError,
)

#: The ``stored`` fixture (tests/db/conftest.py): committed rows of a table.
Stored = Callable[..., Awaitable[list[dict[str, Any]]]]

#: Real snowflakes do not fit in 32 bits: make sure BIGINT round-trips.
BASE = 900_000_000_000_000_000


def gid(n: int) -> int:
    return BASE + n


@pytest.fixture
def guilds(db_service: DatabaseService) -> BaseController[Guild]:
    return BaseController(Guild, db_service)


@pytest.fixture
def configs(db_service: DatabaseService) -> BaseController[GuildConfig]:
    return BaseController(GuildConfig, db_service)


@pytest.fixture
def settings(db_service: DatabaseService) -> BaseController[CogSetting]:
    return BaseController(CogSetting, db_service)


async def make_guilds(guilds: BaseController[Guild], *numbers: int) -> None:
    for n in numbers:
        await guilds.create(id=gid(n), case_count=n)


async def make_settings(settings: BaseController[CogSetting]) -> None:
    """Six settings over two cogs and three scopes."""
    await settings.bulk_create(
        [
            {"cog": "levels", "guild_id": 0, "key": "xp_rate", "value": 1},
            {"cog": "levels", "guild_id": gid(1), "key": "xp_rate", "value": 2},
            {"cog": "levels", "guild_id": gid(1), "key": "enabled", "value": True},
            {"cog": "levels", "guild_id": gid(2), "key": "xp_rate", "value": 3},
            {"cog": "afk", "guild_id": 0, "key": "max_reason", "value": 100},
            {"cog": "afk", "guild_id": gid(1), "key": "max_reason", "value": {"n": 50}},
        ]
    )


def assert_domain_error(error: BaseException) -> None:
    """A data-layer error a user may see: never a raw SQLAlchemy/driver exception."""
    assert isinstance(error, DatabaseError)
    assert isinstance(error, UserFacingError)
    assert not isinstance(error, sqlalchemy.exc.SQLAlchemyError)
    text = str(error).lower()
    for leak in ("sqlalchemy", "asyncpg", "sqlite3", "insert into", "update guild", "<class"):
        assert leak not in text


def test_controller_needs_a_service() -> None:
    with pytest.raises(TypeError):
        BaseController(Guild, None)  # type: ignore[arg-type]


# --- create -----------------------------------------------------------------------------------


async def test_create_returns_row_with_defaults_and_stores_it(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    before = datetime.now(UTC)
    guild = await guilds.create(id=gid(1))

    assert guild.id == gid(1)
    assert guild.case_count == 0
    assert guild.joined_at.tzinfo is not None
    assert guild.joined_at.utcoffset() == timedelta(0)
    window = timedelta(seconds=5)
    assert before - window <= guild.joined_at <= datetime.now(UTC) + window

    rows = await stored("guild")
    assert [(row["id"], row["case_count"]) for row in rows] == [(gid(1), 0)]


async def test_create_composite_key_with_json_value(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    value = {"roles": [1, 2, 3], "name": "ünïcode", "nested": {"ok": True, "none": None}}
    row = await settings.create(cog="levels", guild_id=gid(1), key="rewards", value=value)

    assert (row.cog, row.guild_id, row.key) == ("levels", gid(1), "rewards")
    assert row.value == value
    fetched = await settings.get_by_id(("levels", gid(1), "rewards"))
    assert fetched is not None
    assert fetched.value == value
    assert len(await stored("cog_setting")) == 1


async def test_create_duplicate_primary_key_raises_duplicate_error(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    await guilds.create(id=gid(1), case_count=3)

    with pytest.raises(DuplicateError) as caught:
        await guilds.create(id=gid(1), case_count=9)

    assert_domain_error(caught.value)
    assert "guild" in str(caught.value)
    rows = await stored("guild")
    assert [(row["id"], row["case_count"]) for row in rows] == [(gid(1), 3)]


async def test_create_duplicate_composite_key_raises_duplicate_error(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    await settings.create(cog="afk", guild_id=gid(1), key="k", value=1)
    # Same cog and key in another scope is a different row.
    await settings.create(cog="afk", guild_id=gid(2), key="k", value=2)

    with pytest.raises(DuplicateError) as caught:
        await settings.create(cog="afk", guild_id=gid(1), key="k", value=3)

    assert_domain_error(caught.value)
    assert "cog_setting" in str(caught.value)
    assert [row["value"] for row in await stored("cog_setting")] == [1, 2]


async def test_create_with_missing_foreign_row_raises_not_found(
    configs: BaseController[GuildConfig], stored: Stored
) -> None:
    """Foreign keys are enforced on both databases (SQLite runs with foreign_keys=ON)."""
    with pytest.raises(NotFoundError) as caught:
        await configs.create(guild_id=gid(404), prefix="!")

    assert_domain_error(caught.value)
    assert "guild_config" in str(caught.value)
    assert await stored("guild_config") == []


async def test_create_with_an_unknown_column_raises_value_error(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    with pytest.raises(ValueError, match="case_cuont"):
        await guilds.create(id=gid(1), case_cuont=4)
    assert await stored("guild") == []


async def test_not_null_violation_raises_integrity_violation(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    await make_guilds(guilds, 1)

    with pytest.raises(IntegrityViolation) as caught:
        await guilds.update_where({"id": gid(1)}, {"case_count": None})

    assert_domain_error(caught.value)
    assert "guild" in str(caught.value)
    assert [row["case_count"] for row in await stored("guild")] == [1]


async def test_value_too_long_for_its_column_is_not_a_raw_driver_error(
    db_backend: str,
    guilds: BaseController[Guild],
    configs: BaseController[GuildConfig],
    stored: Stored,
) -> None:
    await make_guilds(guilds, 1)
    too_long = "x" * 40  # guild_config.prefix is VARCHAR(16)

    if db_backend == "sqlite":  # SQLite does not enforce VARCHAR lengths
        await configs.create(guild_id=gid(1), prefix=too_long)
        assert [r["prefix"] for r in await stored("guild_config")] == [too_long]
        return
    with pytest.raises(IntegrityViolation) as caught:
        await configs.create(guild_id=gid(1), prefix=too_long)
    assert_domain_error(caught.value)
    assert "guild_config" in str(caught.value)
    assert too_long not in str(caught.value)
    assert await stored("guild_config") == []


# --- get_by_id --------------------------------------------------------------------------------


async def test_get_by_id_single_key(guilds: BaseController[Guild]) -> None:
    await make_guilds(guilds, 1, 2)

    found = await guilds.get_by_id(gid(2))
    assert found is not None
    assert (found.id, found.case_count) == (gid(2), 2)
    assert await guilds.get_by_id(gid(3)) is None
    # A one-element tuple or a dict work for a single-column key too.
    assert (await guilds.get_by_id((gid(1),))).id == gid(1)  # type: ignore[union-attr]
    assert (await guilds.get_by_id({"id": gid(1)})).id == gid(1)  # type: ignore[union-attr]


async def test_get_by_id_with_options_none(guilds: BaseController[Guild]) -> None:
    await make_guilds(guilds, 1)
    found = await guilds.get_by_id(gid(1), options=None)
    assert found is not None
    assert found.id == gid(1)


async def test_get_by_id_composite_key_as_tuple_and_dict(
    settings: BaseController[CogSetting],
) -> None:
    await make_settings(settings)

    by_tuple = await settings.get_by_id(("levels", gid(1), "xp_rate"))
    by_list = await settings.get_by_id(["levels", gid(2), "xp_rate"])
    by_dict = await settings.get_by_id({"key": "max_reason", "cog": "afk", "guild_id": gid(1)})

    assert by_tuple is not None
    assert by_tuple.value == 2
    assert by_list is not None
    assert by_list.value == 3
    assert by_dict is not None
    assert by_dict.value == {"n": 50}
    assert await settings.get_by_id(("levels", gid(3), "xp_rate")) is None
    assert await settings.get_by_id({"cog": "nope", "guild_id": 0, "key": "x"}) is None


async def test_get_by_id_with_a_malformed_key_raises_value_error(
    settings: BaseController[CogSetting],
) -> None:
    with pytest.raises(ValueError, match="primary key"):
        await settings.get_by_id(("levels", 0))
    with pytest.raises(ValueError, match="primary key"):
        await settings.get_by_id("levels")
    with pytest.raises(ValueError, match="key"):
        await settings.get_by_id({"cog": "levels", "guild_id": 0})


# --- find_one / find_all: filters, order, limit, offset ---------------------------------------


async def test_find_one(guilds: BaseController[Guild]) -> None:
    await make_guilds(guilds, 1, 2, 3)

    found = await guilds.find_one(Guild.case_count >= 2, order_by=Guild.case_count)
    assert found is not None
    assert found.id == gid(2)
    highest = await guilds.find_one(order_by=sa.desc(Guild.case_count), options=None)
    assert highest is not None
    assert highest.id == gid(3)
    by_dict = await guilds.find_one({"case_count": 1})
    assert by_dict is not None
    assert by_dict.id == gid(1)
    assert await guilds.find_one({"case_count": 99}) is None


async def test_find_all_without_filters_returns_every_row(guilds: BaseController[Guild]) -> None:
    assert await guilds.find_all() == []
    await make_guilds(guilds, 3, 1, 2)
    rows = await guilds.find_all(order_by=Guild.id, options=None)
    assert [g.id for g in rows] == [gid(1), gid(2), gid(3)]


async def test_find_all_filters_as_expression_list_and_dict(
    settings: BaseController[CogSetting],
) -> None:
    await make_settings(settings)

    def keys(rows: list[CogSetting]) -> set[tuple[str, int, str]]:
        return {(r.cog, r.guild_id, r.key) for r in rows}

    expression = await settings.find_all(CogSetting.cog == "afk")
    assert keys(expression) == {("afk", 0, "max_reason"), ("afk", gid(1), "max_reason")}

    as_list = await settings.find_all([CogSetting.cog == "levels", CogSetting.guild_id == gid(1)])
    assert keys(as_list) == {("levels", gid(1), "xp_rate"), ("levels", gid(1), "enabled")}

    as_dict = await settings.find_all({"cog": "levels", "key": "xp_rate"})
    assert keys(as_dict) == {
        ("levels", 0, "xp_rate"),
        ("levels", gid(1), "xp_rate"),
        ("levels", gid(2), "xp_rate"),
    }

    mixed = await settings.find_all([{"key": "xp_rate"}, CogSetting.guild_id != 0])
    assert keys(mixed) == {("levels", gid(1), "xp_rate"), ("levels", gid(2), "xp_rate")}

    assert await settings.find_all({"cog": "missing"}) == []


async def test_find_all_dict_filter_with_none_matches_null(
    guilds: BaseController[Guild], configs: BaseController[GuildConfig]
) -> None:
    await make_guilds(guilds, 1, 2, 3)
    await configs.create(guild_id=gid(1), prefix="!")
    await configs.create(guild_id=gid(2))
    await configs.create(guild_id=gid(3), prefix=None, jail_role_id=gid(33))

    no_prefix = await configs.find_all({"prefix": None}, order_by=GuildConfig.guild_id)
    assert [c.guild_id for c in no_prefix] == [gid(2), gid(3)]

    both_null = await configs.find_all({"prefix": None, "jail_role_id": None})
    assert [c.guild_id for c in both_null] == [gid(2)]

    assert await configs.count({"prefix": None}) == 2
    assert await configs.exists({"prefix": None, "reason_required": True}) is False


async def test_find_all_order_by_single_list_and_descending(
    settings: BaseController[CogSetting],
) -> None:
    await make_settings(settings)

    by_scope = await settings.find_all({"key": "xp_rate"}, order_by=sa.desc(CogSetting.guild_id))
    assert [r.guild_id for r in by_scope] == [gid(2), gid(1), 0]

    by_two = await settings.find_all(
        CogSetting.guild_id == gid(1), order_by=[CogSetting.cog, sa.desc(CogSetting.key)]
    )
    assert [(r.cog, r.key) for r in by_two] == [
        ("afk", "max_reason"),
        ("levels", "xp_rate"),
        ("levels", "enabled"),
    ]


async def test_find_all_limit_and_offset(guilds: BaseController[Guild]) -> None:
    await make_guilds(guilds, *range(1, 8))

    def ids(rows: list[Guild]) -> list[int]:
        return [g.id - BASE for g in rows]

    assert ids(await guilds.find_all(order_by=Guild.id, limit=3)) == [1, 2, 3]
    assert ids(await guilds.find_all(order_by=Guild.id, limit=3, offset=3)) == [4, 5, 6]
    assert ids(await guilds.find_all(order_by=Guild.id, offset=5)) == [6, 7]
    assert ids(await guilds.find_all(order_by=Guild.id, limit=3, offset=6)) == [7]
    assert await guilds.find_all(order_by=Guild.id, limit=3, offset=10) == []
    assert ids(await guilds.find_all(Guild.case_count > 2, order_by=Guild.id, limit=2)) == [3, 4]


async def test_unknown_column_in_filters_raises_value_error(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    await make_guilds(guilds, 1)
    with pytest.raises(ValueError, match="nope"):
        await guilds.find_all({"nope": 1})
    with pytest.raises(ValueError, match="nope"):
        await guilds.find_one({"nope": 1})
    with pytest.raises(ValueError, match="nope"):
        await guilds.count({"nope": 1})
    with pytest.raises(ValueError, match="nope"):
        await guilds.exists([{"nope": 1}])
    with pytest.raises(ValueError, match="nope"):
        await guilds.delete_where({"nope": 1})
    with pytest.raises(ValueError, match="nope"):
        await guilds.update_where({"nope": 1}, {"case_count": 5})
    with pytest.raises(ValueError, match="nope"):
        await guilds.paginate(filters={"nope": 1})
    assert [row["case_count"] for row in await stored("guild")] == [1]


# --- count / exists ---------------------------------------------------------------------------


async def test_count_and_exists(settings: BaseController[CogSetting]) -> None:
    assert await settings.count() == 0
    assert await settings.exists() is False

    await make_settings(settings)

    assert await settings.count() == 6
    assert await settings.count({"cog": "levels"}) == 4
    assert await settings.count([CogSetting.cog == "levels", CogSetting.guild_id == gid(1)]) == 2
    assert await settings.count(CogSetting.key == "nothing") == 0
    assert await settings.exists() is True
    assert await settings.exists({"cog": "afk", "guild_id": 0}) is True
    assert await settings.exists(CogSetting.guild_id == gid(9)) is False


# --- paginate ---------------------------------------------------------------------------------


async def test_paginate_pages_through_every_row(guilds: BaseController[Guild]) -> None:
    await make_guilds(guilds, *range(1, 8))  # 7 rows

    first = await guilds.paginate(1, 3)
    assert isinstance(first, Page)
    assert [g.id - BASE for g in first.items] == [1, 2, 3]  # default order: primary key
    assert (first.total, first.page, first.per_page, first.pages) == (7, 1, 3, 3)
    assert first.has_next is True
    assert first.has_previous is False

    middle = await guilds.paginate(2, 3, options=None)
    assert [g.id - BASE for g in middle.items] == [4, 5, 6]
    assert middle.has_next is True
    assert middle.has_previous is True

    last = await guilds.paginate(3, 3)
    assert [g.id - BASE for g in last.items] == [7]  # last, partial page
    assert (last.total, last.pages) == (7, 3)
    assert last.has_next is False

    beyond = await guilds.paginate(4, 3)
    assert beyond.items == []
    assert (beyond.total, beyond.page, beyond.pages) == (7, 4, 3)
    assert beyond.has_next is False

    exact = await guilds.paginate(1, 7)
    assert exact.pages == 1
    assert len(exact.items) == 7


async def test_paginate_with_filters_and_order(guilds: BaseController[Guild]) -> None:
    await make_guilds(guilds, *range(1, 11))

    page = await guilds.paginate(
        2, 2, filters=Guild.case_count > 3, order_by=sa.desc(Guild.case_count)
    )
    assert page.total == 7
    assert page.pages == 4
    assert [g.case_count for g in page.items] == [8, 7]

    by_dict = await guilds.paginate(1, 5, filters={"case_count": 4})
    assert [g.case_count for g in by_dict.items] == [4]
    assert (by_dict.total, by_dict.pages) == (1, 1)


async def test_paginate_empty_table(settings: BaseController[CogSetting]) -> None:
    page = await settings.paginate()
    assert page.items == []
    assert (page.total, page.page, page.per_page, page.pages) == (0, 1, 20, 1)
    assert page.has_next is False
    assert page.has_previous is False


async def test_paginate_composite_key_orders_by_the_whole_key(
    settings: BaseController[CogSetting],
) -> None:
    await make_settings(settings)
    seen = []
    for number in (1, 2, 3):
        page = await settings.paginate(number, 2)
        assert page.total == 6
        assert page.pages == 3
        seen.extend((r.cog, r.guild_id, r.key) for r in page.items)
    assert seen == sorted(seen)
    assert len(set(seen)) == 6


async def test_paginate_rejects_bad_page_or_per_page(guilds: BaseController[Guild]) -> None:
    for page, per_page in [(0, 10), (-1, 10), (1, 0), (1, -5), (1, 1001)]:
        with pytest.raises(ValueError):
            await guilds.paginate(page, per_page)
    assert (await guilds.paginate(1, 1000)).per_page == 1000


# --- update_by_id / update_where --------------------------------------------------------------


async def test_update_by_id_changes_the_row_and_returns_it(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    await make_guilds(guilds, 1, 2)

    updated = await guilds.update_by_id(gid(1), case_count=42)

    assert updated is not None
    assert (updated.id, updated.case_count) == (gid(1), 42)
    rows = await stored("guild")
    assert [(row["id"] - BASE, row["case_count"]) for row in rows] == [(1, 42), (2, 2)]


async def test_update_by_id_of_a_missing_row_returns_none(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    assert await guilds.update_by_id(gid(5), case_count=1) is None
    assert await stored("guild") == []


async def test_update_by_id_composite_key(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    await make_settings(settings)

    by_tuple = await settings.update_by_id(("levels", gid(1), "xp_rate"), value=[1, 2])
    by_dict = await settings.update_by_id(
        {"cog": "afk", "guild_id": 0, "key": "max_reason"}, value="long"
    )
    missing = await settings.update_by_id(("levels", gid(9), "xp_rate"), value=0)

    assert by_tuple is not None
    assert by_tuple.value == [1, 2]
    assert by_dict is not None
    assert by_dict.value == "long"
    assert missing is None
    values = {(r["cog"], r["guild_id"], r["key"]): r["value"] for r in await stored("cog_setting")}
    assert values[("levels", gid(1), "xp_rate")] == [1, 2]
    assert values[("afk", 0, "max_reason")] == "long"
    assert values[("levels", gid(2), "xp_rate")] == 3  # untouched
    assert len(values) == 6


async def test_update_by_id_unknown_column_raises_value_error(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    await make_guilds(guilds, 1)
    with pytest.raises(ValueError, match="bogus"):
        await guilds.update_by_id(gid(1), bogus=1, case_count=7)
    assert [row["case_count"] for row in await stored("guild")] == [1]


async def test_update_where_returns_the_number_of_changed_rows(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    await make_guilds(guilds, *range(1, 6))

    assert await guilds.update_where(Guild.case_count > 3, {"case_count": 0}) == 2
    assert await guilds.update_where({"id": gid(1)}, {"case_count": 10}) == 1
    assert await guilds.update_where({"id": gid(99)}, {"case_count": 10}) == 0
    assert await guilds.update_where({"id": gid(1)}, {}) == 0

    rows = await stored("guild")
    assert [row["case_count"] for row in rows] == [10, 2, 3, 0, 0]

    # No filter: every row.
    assert await guilds.update_where(None, {"case_count": 7}) == 5
    assert {row["case_count"] for row in await stored("guild")} == {7}


async def test_update_where_unknown_column_raises_value_error(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    await make_guilds(guilds, 1)
    with pytest.raises(ValueError, match="bogus"):
        await guilds.update_where({"id": gid(1)}, {"bogus": 1})
    assert [row["case_count"] for row in await stored("guild")] == [1]


# --- delete_by_id / delete_where --------------------------------------------------------------


async def test_delete_by_id(guilds: BaseController[Guild], stored: Stored) -> None:
    await make_guilds(guilds, 1, 2)

    assert await guilds.delete_by_id(gid(1)) is True
    assert await guilds.delete_by_id(gid(1)) is False
    assert await guilds.delete_by_id(gid(99)) is False
    assert [row["id"] for row in await stored("guild")] == [gid(2)]


async def test_delete_by_id_composite_key(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    await make_settings(settings)

    assert await settings.delete_by_id(("levels", gid(1), "xp_rate")) is True
    assert await settings.delete_by_id({"cog": "afk", "guild_id": 0, "key": "max_reason"}) is True
    assert await settings.delete_by_id(("levels", gid(1), "xp_rate")) is False

    left = {(r["cog"], r["guild_id"], r["key"]) for r in await stored("cog_setting")}
    assert left == {
        ("levels", 0, "xp_rate"),
        ("levels", gid(1), "enabled"),
        ("levels", gid(2), "xp_rate"),
        ("afk", gid(1), "max_reason"),
    }


async def test_deleting_a_guild_cascades_to_its_config(
    guilds: BaseController[Guild], configs: BaseController[GuildConfig], stored: Stored
) -> None:
    await make_guilds(guilds, 1, 2)
    await configs.create(guild_id=gid(1), prefix="?")
    await configs.create(guild_id=gid(2), prefix="!")

    assert await guilds.delete_by_id(gid(1)) is True

    assert [row["guild_id"] for row in await stored("guild_config")] == [gid(2)]
    assert await configs.get_by_id(gid(1)) is None


async def test_delete_where_returns_the_number_of_deleted_rows(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    await make_settings(settings)

    assert await settings.delete_where({"cog": "levels", "key": "xp_rate"}) == 3
    assert await settings.delete_where(CogSetting.cog == "levels") == 1
    assert await settings.delete_where({"cog": "levels"}) == 0
    assert [(r["cog"], r["guild_id"]) for r in await stored("cog_setting")] == [
        ("afk", 0),
        ("afk", gid(1)),
    ]
    assert await settings.delete_where(None) == 2
    assert await stored("cog_setting") == []


# --- upsert -----------------------------------------------------------------------------------


async def test_upsert_inserts_then_updates(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    key = {"cog": "levels", "guild_id": gid(1), "key": "xp_rate"}

    inserted = await settings.upsert(**key, value=1)
    assert inserted.value == 1
    first_updated_at = inserted.updated_at

    updated = await settings.upsert(key, value={"rate": 2})
    assert updated.value == {"rate": 2}
    # Only the given non-key columns change: updated_at keeps the stored value.
    assert updated.updated_at == first_updated_at

    rows = await stored("cog_setting")
    assert len(rows) == 1
    assert rows[0]["value"] == {"rate": 2}


async def test_upsert_returns_the_stored_row(guilds: BaseController[Guild], stored: Stored) -> None:
    created = await guilds.create(id=gid(1), case_count=5)

    # joined_at is not given: the stored value stays and is what upsert returns.
    row = await guilds.upsert(id=gid(1), case_count=6)

    assert row.case_count == 6
    assert row.joined_at == created.joined_at
    rows = await stored("guild")
    assert [(r["id"], r["case_count"], r["joined_at"]) for r in rows] == [
        (gid(1), 6, created.joined_at)
    ]


async def test_upsert_with_only_the_key_keeps_the_existing_row(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    inserted = await guilds.upsert(id=gid(1))
    assert inserted.case_count == 0
    await guilds.update_by_id(gid(1), case_count=3)

    again = await guilds.upsert(id=gid(1))

    assert again.case_count == 3
    assert [row["case_count"] for row in await stored("guild")] == [3]


async def test_upsert_update_columns_limits_what_changes(
    guilds: BaseController[Guild], configs: BaseController[GuildConfig], stored: Stored
) -> None:
    await make_guilds(guilds, 1)
    await configs.create(guild_id=gid(1), prefix="!", jail_role_id=gid(10))

    row = await configs.upsert(
        guild_id=gid(1), prefix="?", jail_role_id=gid(20), update_columns=["prefix"]
    )

    assert (row.prefix, row.jail_role_id) == ("?", gid(10))
    rows = await stored("guild_config")
    assert [(r["prefix"], r["jail_role_id"]) for r in rows] == [("?", gid(10))]


async def test_upsert_inside_a_transaction_returns_fresh_values(
    db_service: DatabaseService, settings: BaseController[CogSetting]
) -> None:
    await settings.create(cog="afk", guild_id=0, key="k", value="old")
    async with db_service.transaction():
        loaded = await settings.get_by_id(("afk", 0, "k"))  # now in the session
        assert loaded is not None
        row = await settings.upsert(cog="afk", guild_id=0, key="k", value="new")
        assert row.value == "new"
    fetched = await settings.get_by_id(("afk", 0, "k"))
    assert fetched is not None
    assert fetched.value == "new"


async def test_upsert_unknown_column_and_missing_foreign_row(
    configs: BaseController[GuildConfig], stored: Stored
) -> None:
    with pytest.raises(ValueError, match="bogus"):
        await configs.upsert(guild_id=gid(1), bogus=1)
    with pytest.raises(NotFoundError):
        await configs.upsert(guild_id=gid(1), prefix="!")
    assert await stored("guild_config") == []


# --- get_or_create ----------------------------------------------------------------------------


async def test_get_or_create_creates_once(guilds: BaseController[Guild], stored: Stored) -> None:
    row, created = await guilds.get_or_create({"case_count": 5}, id=gid(1))
    assert created is True
    assert (row.id, row.case_count) == (gid(1), 5)

    again, created_again = await guilds.get_or_create({"case_count": 99}, id=gid(1))
    assert created_again is False
    assert (again.id, again.case_count) == (gid(1), 5)  # defaults ignored for an existing row

    assert [(r["id"], r["case_count"]) for r in await stored("guild")] == [(gid(1), 5)]


async def test_get_or_create_composite_key(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    row, created = await settings.get_or_create(
        {"value": {"on": True}}, cog="afk", guild_id=gid(1), key="enabled"
    )
    assert created is True
    assert row.value == {"on": True}

    other, created_other = await settings.get_or_create(cog="afk", guild_id=gid(2), key="enabled")
    assert created_other is True
    assert other.value is None

    same, created_same = await settings.get_or_create(
        {"value": "ignored"}, cog="afk", guild_id=gid(1), key="enabled"
    )
    assert created_same is False
    assert same.value == {"on": True}
    assert len(await stored("cog_setting")) == 2


async def test_get_or_create_concurrently_creates_exactly_one_row(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    results = await asyncio.gather(
        *(guilds.get_or_create({"case_count": n}, id=gid(7)) for n in range(10))
    )

    created = [row for row, was_created in results if was_created]
    assert len(created) == 1
    assert {row.id for row, _ in results} == {gid(7)}
    # Everyone sees the one stored row.
    assert {row.case_count for row, _ in results} == {created[0].case_count}
    rows = await stored("guild")
    assert [(r["id"], r["case_count"]) for r in rows] == [(gid(7), created[0].case_count)]


async def test_get_or_create_unknown_column_raises_value_error(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    with pytest.raises(ValueError, match="nope"):
        await guilds.get_or_create(nope=1)
    with pytest.raises(ValueError, match="nope"):
        await guilds.get_or_create({"nope": 1}, id=gid(1))
    assert await stored("guild") == []


async def test_get_or_create_missing_foreign_row_raises_not_found(
    configs: BaseController[GuildConfig], stored: Stored
) -> None:
    with pytest.raises(NotFoundError):
        await configs.get_or_create(guild_id=gid(1))
    assert await stored("guild_config") == []


# --- bulk operations --------------------------------------------------------------------------


async def test_bulk_create(guilds: BaseController[Guild], stored: Stored) -> None:
    assert await guilds.bulk_create([]) == 0

    count = await guilds.bulk_create([{"id": gid(n), "case_count": n} for n in range(1, 26)])

    assert count == 25
    rows = await stored("guild")
    assert [(r["id"] - BASE, r["case_count"]) for r in rows] == [(n, n) for n in range(1, 26)]


async def test_bulk_create_is_all_or_nothing(guilds: BaseController[Guild], stored: Stored) -> None:
    await make_guilds(guilds, 3)

    with pytest.raises(DuplicateError) as caught:
        await guilds.bulk_create([{"id": gid(n)} for n in (1, 2, 3, 4)])

    assert_domain_error(caught.value)
    assert [r["id"] for r in await stored("guild")] == [gid(3)]


async def test_bulk_create_unknown_column_raises_value_error(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    with pytest.raises(ValueError, match="bogus"):
        await guilds.bulk_create([{"id": gid(1)}, {"id": gid(2), "bogus": 1}])
    assert await stored("guild") == []


async def test_bulk_update_counts_only_existing_rows(
    guilds: BaseController[Guild], stored: Stored
) -> None:
    await make_guilds(guilds, 1, 2, 3)

    count = await guilds.bulk_update(
        [
            {"id": gid(1), "case_count": 10},
            {"id": gid(2), "case_count": 20},
            {"id": gid(404), "case_count": 40},  # no such row
        ]
    )

    assert count == 2
    rows = await stored("guild")
    assert [(r["id"] - BASE, r["case_count"]) for r in rows] == [(1, 10), (2, 20), (3, 3)]
    assert await guilds.bulk_update([]) == 0
    # A row that holds only its key changes nothing.
    assert await guilds.bulk_update([{"id": gid(3)}]) == 0


async def test_bulk_update_composite_keys(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    await make_settings(settings)

    count = await settings.bulk_update(
        [
            {"cog": "levels", "guild_id": 0, "key": "xp_rate", "value": 10},
            {"cog": "levels", "guild_id": gid(2), "key": "xp_rate", "value": 30},
            {"cog": "levels", "guild_id": gid(3), "key": "xp_rate", "value": 99},  # missing
        ]
    )

    assert count == 2
    values = {(r["cog"], r["guild_id"], r["key"]): r["value"] for r in await stored("cog_setting")}
    assert values[("levels", 0, "xp_rate")] == 10
    assert values[("levels", gid(2), "xp_rate")] == 30
    assert values[("levels", gid(1), "xp_rate")] == 2
    assert ("levels", gid(3), "xp_rate") not in values


async def test_bulk_update_rejects_rows_without_key_or_with_unknown_columns(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    await make_settings(settings)
    before = await stored("cog_setting")

    with pytest.raises(ValueError, match="guild_id"):
        await settings.bulk_update([{"cog": "levels", "key": "xp_rate", "value": 1}])
    with pytest.raises(ValueError, match="bogus"):
        await settings.bulk_update(
            [{"cog": "levels", "guild_id": 0, "key": "xp_rate", "value": 5, "bogus": 1}]
        )
    assert await stored("cog_setting") == before


async def test_bulk_update_is_all_or_nothing(guilds: BaseController[Guild], stored: Stored) -> None:
    await make_guilds(guilds, 1, 2)

    with pytest.raises(IntegrityViolation):
        await guilds.bulk_update(
            [{"id": gid(1), "case_count": 100}, {"id": gid(2), "case_count": None}]
        )
    assert [r["case_count"] for r in await stored("guild")] == [1, 2]


async def test_bulk_delete_single_key(guilds: BaseController[Guild], stored: Stored) -> None:
    await make_guilds(guilds, 1, 2, 3, 4)

    assert await guilds.bulk_delete([gid(1), gid(3), gid(404)]) == 2
    assert await guilds.bulk_delete([]) == 0
    assert await guilds.bulk_delete(iter([gid(1)])) == 0
    assert [r["id"] - BASE for r in await stored("guild")] == [2, 4]


async def test_bulk_delete_composite_keys(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    await make_settings(settings)

    deleted = await settings.bulk_delete(
        [
            ("levels", 0, "xp_rate"),
            ("levels", gid(1), "enabled"),
            {"cog": "afk", "guild_id": gid(1), "key": "max_reason"},
            ("levels", gid(5), "xp_rate"),  # missing
        ]
    )

    assert deleted == 3
    left = {(r["cog"], r["guild_id"], r["key"]) for r in await stored("cog_setting")}
    assert left == {
        ("levels", gid(1), "xp_rate"),
        ("levels", gid(2), "xp_rate"),
        ("afk", 0, "max_reason"),
    }


async def test_bulk_delete_malformed_key_raises_value_error(
    settings: BaseController[CogSetting], stored: Stored
) -> None:
    await make_settings(settings)
    with pytest.raises(ValueError, match="primary key"):
        await settings.bulk_delete([("levels", 0, "xp_rate"), ("levels", 0)])
    assert len(await stored("cog_setting")) == 6
