"""GuildController, GuildConfigController and CogSettingController on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models import LogKind
from fish_bot.database.models.core import GLOBAL_SCOPE

#: The ``stored`` fixture (tests/db/conftest.py): committed rows of a table.
Stored = Callable[..., Awaitable[list[dict[str, Any]]]]

GUILD = 1_100_000_000_000_000_001
OTHER = 1_100_000_000_000_000_002


class Boom(Exception):
    """Raised by a test to abort a transaction."""


# --- GuildController --------------------------------------------------------------------------


async def test_ensure_creates_the_guild_once(db: DatabaseCoordinator, stored: Stored) -> None:
    first = await db.guild.ensure(GUILD)
    await db.guild.update_by_id(GUILD, case_count=4)
    second = await db.guild.ensure(GUILD)

    assert first.id == second.id == GUILD
    assert second.case_count == 4
    assert [(r["id"], r["case_count"]) for r in await stored("guild")] == [(GUILD, 4)]


async def test_next_case_number_counts_per_guild(db: DatabaseCoordinator, stored: Stored) -> None:
    await db.guild.ensure(GUILD)

    assert [await db.guild.next_case_number(GUILD) for _ in range(3)] == [1, 2, 3]
    # A guild without a row gets one, starting at 1.
    assert await db.guild.next_case_number(OTHER) == 1
    assert await db.guild.next_case_number(GUILD) == 4

    rows = {r["id"]: r["case_count"] for r in await stored("guild")}
    assert rows == {GUILD: 4, OTHER: 1}


@pytest.mark.parametrize("guild_exists", [True, False], ids=["existing", "new"])
async def test_next_case_number_is_unique_under_concurrency(
    db: DatabaseCoordinator, stored: Stored, guild_exists: bool
) -> None:
    if guild_exists:
        await db.guild.ensure(GUILD)

    numbers = await asyncio.gather(*(db.guild.next_case_number(GUILD) for _ in range(50)))

    assert sorted(numbers) == list(range(1, 51))
    assert [(r["id"], r["case_count"]) for r in await stored("guild")] == [(GUILD, 50)]


async def test_next_case_number_concurrently_in_two_guilds(db: DatabaseCoordinator) -> None:
    calls = [db.guild.next_case_number(g) for _ in range(10) for g in (GUILD, OTHER)]
    numbers = await asyncio.gather(*calls)

    assert sorted(numbers[0::2]) == list(range(1, 11))
    assert sorted(numbers[1::2]) == list(range(1, 11))


async def test_case_numbers_of_a_rolled_back_transaction_are_given_back(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    assert await db.guild.next_case_number(GUILD) == 1

    with pytest.raises(Boom):
        async with db.transaction():
            assert await db.guild.next_case_number(GUILD) == 2
            assert await db.guild.next_case_number(GUILD) == 3
            raise Boom

    assert await db.guild.next_case_number(GUILD) == 2
    assert [r["case_count"] for r in await stored("guild")] == [2]


async def test_case_number_of_a_new_guild_in_a_rolled_back_transaction(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    with pytest.raises(Boom):
        async with db.transaction():
            assert await db.guild.next_case_number(GUILD) == 1
            raise Boom

    assert await stored("guild") == []
    assert await db.guild.next_case_number(GUILD) == 1


async def test_case_numbers_in_a_committed_transaction_are_kept(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    async with db.transaction():
        numbers = [await db.guild.next_case_number(GUILD) for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert [r["case_count"] for r in await stored("guild")] == [3]


# --- GuildConfigController --------------------------------------------------------------------


async def test_config_is_missing_until_created(db: DatabaseCoordinator, stored: Stored) -> None:
    assert await db.guild_config.get_config(GUILD) is None
    assert await db.guild_config.get_prefix(GUILD) is None
    assert await db.guild_config.get_log_channel(GUILD, LogKind.MOD) is None
    assert await db.guild_config.get_jail_role_id(GUILD) is None
    assert await db.guild_config.get_jail_channel_id(GUILD) is None
    # Reading never creates rows.
    assert await stored("guild") == []
    assert await stored("guild_config") == []


async def test_get_or_create_config_creates_guild_and_config_once(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    config = await db.guild_config.get_or_create_config(GUILD)
    again = await db.guild_config.get_or_create_config(GUILD)

    assert config.guild_id == again.guild_id == GUILD
    assert config.prefix is None
    assert config.reason_required is False
    assert [r["id"] for r in await stored("guild")] == [GUILD]
    assert [r["guild_id"] for r in await stored("guild_config")] == [GUILD]


async def test_concurrent_get_or_create_config_makes_one_row(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    configs = await asyncio.gather(*(db.guild_config.get_or_create_config(GUILD) for _ in range(5)))
    assert {c.guild_id for c in configs} == {GUILD}
    assert len(await stored("guild")) == 1
    assert len(await stored("guild_config")) == 1


async def test_update_config_creates_when_missing_and_changes_values(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    updated = await db.guild_config.update_config(GUILD, prefix="$", reason_required=True)
    assert (updated.prefix, updated.reason_required) == ("$", True)

    again = await db.guild_config.update_config(GUILD, prefix="!")
    assert (again.prefix, again.reason_required) == ("!", True)

    assert await db.guild_config.get_prefix(GUILD) == "!"
    rows = await stored("guild_config")
    assert [(r["guild_id"], r["prefix"], r["reason_required"]) for r in rows] == [
        (GUILD, "!", True)
    ]


async def test_update_config_unknown_column_changes_nothing(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    with pytest.raises(ValueError, match="prefx"):
        await db.guild_config.update_config(GUILD, prefx="!")
    assert await stored("guild") == []
    assert await stored("guild_config") == []


async def test_log_channels_per_kind(db: DatabaseCoordinator, stored: Stored) -> None:
    channels = {kind: 2_000_000_000_000_000_000 + i for i, kind in enumerate(LogKind)}
    for kind, channel in channels.items():
        await db.guild_config.set_log_channel(GUILD, kind, channel)

    for kind, channel in channels.items():
        assert await db.guild_config.get_log_channel(GUILD, kind) == channel
        assert await db.guild_config.get_log_channel(GUILD, kind.value) == channel

    await db.guild_config.set_log_channel(GUILD, "message", None)
    assert await db.guild_config.get_log_channel(GUILD, LogKind.MESSAGE) is None
    assert await db.guild_config.get_log_channel(GUILD, LogKind.MOD) == channels[LogKind.MOD]
    row = (await stored("guild_config"))[0]
    assert row["message_log_channel_id"] is None
    assert row["server_log_channel_id"] == channels[LogKind.SERVER]


async def test_unknown_log_kind_raises_value_error(db: DatabaseCoordinator, stored: Stored) -> None:
    with pytest.raises(ValueError):
        await db.guild_config.set_log_channel(GUILD, "audit", 1)
    with pytest.raises(ValueError):
        await db.guild_config.get_log_channel(GUILD, "audit")
    assert await stored("guild_config") == []
    await db.guild_config.set_log_channel(GUILD, "mod", 1)
    with pytest.raises(ValueError):
        await db.guild_config.get_log_channel(GUILD, "audit")


async def test_jail_role_and_channel(db: DatabaseCoordinator) -> None:
    await db.guild_config.update_jail_role_id(GUILD, 11)
    await db.guild_config.update_jail_channel_id(GUILD, 22)
    assert await db.guild_config.get_jail_role_id(GUILD) == 11
    assert await db.guild_config.get_jail_channel_id(GUILD) == 22

    await db.guild_config.update_jail_role_id(GUILD, None)
    assert await db.guild_config.get_jail_role_id(GUILD) is None
    assert await db.guild_config.get_jail_channel_id(GUILD) == 22


async def test_config_is_removed_with_its_guild(db: DatabaseCoordinator, stored: Stored) -> None:
    await db.guild_config.update_config(GUILD, prefix="!")
    await db.guild_config.update_config(OTHER, prefix="?")

    assert await db.guild.delete_by_id(GUILD) is True

    assert await db.guild_config.get_config(GUILD) is None
    assert [r["guild_id"] for r in await stored("guild_config")] == [OTHER]


async def test_config_changes_roll_back_with_the_callers_transaction(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    with pytest.raises(Boom):
        async with db.transaction():
            await db.guild_config.update_config(GUILD, prefix="!")
            raise Boom
    assert await stored("guild") == []
    assert await stored("guild_config") == []


# --- CogSettingController ---------------------------------------------------------------------


async def test_set_value_global_and_per_guild(db: DatabaseCoordinator, stored: Stored) -> None:
    await db.cog_setting.set_value("levels", "xp_rate", 1.5)
    await db.cog_setting.set_value("levels", "xp_rate", 3, guild_id=GUILD)
    await db.cog_setting.set_value("afk", "enabled", True)

    rows = {(r["cog"], r["guild_id"], r["key"]): r["value"] for r in await stored("cog_setting")}
    assert rows == {
        ("levels", GLOBAL_SCOPE, "xp_rate"): 1.5,
        ("levels", GUILD, "xp_rate"): 3,
        ("afk", GLOBAL_SCOPE, "enabled"): True,
    }
    values = await db.cog_setting.values_for_cog("levels")
    assert {(v.guild_id, v.value) for v in values} == {(GLOBAL_SCOPE, 1.5), (GUILD, 3)}
    assert await db.cog_setting.values_for_cog("nothing") == []


async def test_set_value_replaces_the_stored_value(db: DatabaseCoordinator, stored: Stored) -> None:
    await db.cog_setting.set_value("levels", "roles", [1, 2], guild_id=GUILD)
    first = (await stored("cog_setting"))[0]["updated_at"]

    await db.cog_setting.set_value("levels", "roles", {"a": [3]}, guild_id=GUILD)

    rows = await stored("cog_setting")
    assert len(rows) == 1
    assert rows[0]["value"] == {"a": [3]}
    assert rows[0]["updated_at"] >= first
    assert rows[0]["updated_at"].tzinfo is not None


JSON_VALUES: list[Any] = [
    0,
    -7,
    2**53,
    1.25,
    "",
    "text ✓",
    True,
    False,
    None,
    [],
    [1, "a", None],
    {},
    {"k": {"n": [1]}},
]


async def test_json_values_round_trip(db: DatabaseCoordinator) -> None:
    for index, value in enumerate(JSON_VALUES):
        await db.cog_setting.set_value("cog", f"key{index}", value, guild_id=GUILD)

    for index, value in enumerate(JSON_VALUES):
        row = await db.cog_setting.get_by_id(("cog", GUILD, f"key{index}"))
        assert row is not None
        assert row.value == value
        assert type(row.value) is type(value)


async def test_set_values_stores_all(db: DatabaseCoordinator, stored: Stored) -> None:
    await db.cog_setting.set_values("levels", {"a": 1, "b": [2], "c": {"d": 3}}, guild_id=GUILD)
    rows = {r["key"]: r["value"] for r in await stored("cog_setting")}
    assert rows == {"a": 1, "b": [2], "c": {"d": 3}}


async def test_set_values_is_all_or_nothing(db: DatabaseCoordinator, stored: Stored) -> None:
    await db.cog_setting.set_value("levels", "a", "old")

    # The third value cannot be stored as JSON: nothing of the call may remain.
    with pytest.raises((TypeError, ValueError, sa.exc.StatementError)):
        await db.cog_setting.set_values("levels", {"a": "new", "b": 2, "c": {1, 2}})

    rows = {r["key"]: r["value"] for r in await stored("cog_setting")}
    assert rows == {"a": "old"}


async def test_delete_value(db: DatabaseCoordinator, stored: Stored) -> None:
    await db.cog_setting.set_value("levels", "a", 1)
    await db.cog_setting.set_value("levels", "a", 2, guild_id=GUILD)

    assert await db.cog_setting.delete_value("levels", "a", guild_id=GUILD) is True
    assert await db.cog_setting.delete_value("levels", "a", guild_id=GUILD) is False
    assert [(r["guild_id"], r["value"]) for r in await stored("cog_setting")] == [(GLOBAL_SCOPE, 1)]
    assert await db.cog_setting.delete_value("levels", "a") is True
    assert await stored("cog_setting") == []


# --- GuildConfigController change listeners (the caches of bot.guild_configs) -----------------


async def test_every_guild_config_write_notifies_its_listeners(db: DatabaseCoordinator) -> None:
    seen: list[int | None] = []
    db.guild_config.add_change_listener(seen.append)

    await db.guild_config.update_config(GUILD, prefix="?")
    assert GUILD in seen
    seen.clear()
    await db.guild_config.set_log_channel(GUILD, LogKind.MOD, 5)
    await db.guild_config.update_jail_role_id(OTHER, 6)
    assert set(seen) == {GUILD, OTHER}
    seen.clear()
    await db.guild_config.update_where({"guild_id": GUILD}, {"prefix": "!"})
    await db.guild_config.delete_by_id(OTHER)
    assert seen == [None, OTHER]
    seen.clear()
    await db.guild_config.get_or_create_config(GUILD)  # exists already: no write, no notice
    assert seen == []


async def test_a_guild_config_write_in_a_transaction_notifies_again_after_commit(
    db: DatabaseCoordinator,
) -> None:
    seen: list[str] = []
    db.guild_config.add_change_listener(
        lambda guild_id: seen.append("in" if db.service.in_transaction() else "after")
    )
    async with db.transaction():
        await db.guild_config.update_config(GUILD, reason_required=True)
        assert "after" not in seen
    assert seen[-1] == "after"

    seen.clear()
    with pytest.raises(Boom):
        async with db.transaction():
            await db.guild_config.update_config(GUILD, reason_required=False)
            raise Boom
    assert "after" not in seen  # rolled back: only the immediate notices were sent
