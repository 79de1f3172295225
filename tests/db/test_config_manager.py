"""ConfigManager: settings resolved guild -> global -> default, validated, stored, reloaded."""

from __future__ import annotations

import asyncio

import pytest

from fish_bot.core.settings.manager import ConfigManager
from fish_bot.core.settings.specs import parse_settings_config
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.exceptions import SettingsConfigError, SettingValidationError, UnknownSettingError

COG = "Fishy"
CONFIG = {
    "interval": (300, "Update interval in seconds", ["type.int", "range(60,3600)"]),
    "delay": (5, "A delay", "time.minutes(1,60)"),
    "names": ([], "Names", ["type.list", "collection.list(item_type=str,unique=true)"]),
    "enabled": (True, "On or off", "type.bool"),
}


def manager_for(db: DatabaseCoordinator) -> ConfigManager:
    manager = ConfigManager(db)
    manager.register(COG, parse_settings_config(COG, CONFIG))
    return manager


async def reloaded(db: DatabaseCoordinator) -> ConfigManager:
    """A new manager reading what the database holds, as after a restart."""
    manager = manager_for(db)
    await manager.load()
    return manager


async def test_resolution_order_guild_then_global_then_default(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    await manager.load()
    assert manager.get(COG, "interval", 1) == 300  # declared default
    assert manager.get(COG, "undeclared", 1, default="x") == "x"
    await manager.set(COG, "interval", 600)  # global
    assert manager.get(COG, "interval", 1) == 600
    await manager.set(COG, "interval", 900, 1)  # guild 1
    assert manager.get(COG, "interval", 1) == 900
    assert manager.get(COG, "interval", 2) == 600
    assert manager.get(COG, "interval") == 600

    after = await reloaded(db)
    assert after.get(COG, "interval", 1) == 900
    assert after.get(COG, "interval", 2) == 600


async def test_defaults_are_normalised_by_their_rules(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    assert manager.get(COG, "delay") == 300  # time.minutes: 5 minutes, stored as seconds
    await manager.set(COG, "delay", "45m", from_text=True)
    assert manager.get(COG, "delay") == 2700


async def test_a_bad_value_is_refused_naming_setting_and_rule(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    with pytest.raises(SettingValidationError) as refused:
        manager.set(COG, "interval", 5)
    assert refused.value.setting == "interval"
    assert refused.value.rule == "range(60,3600)"
    assert "interval" in str(refused.value) and "range(60,3600)" in str(refused.value)
    with pytest.raises(UnknownSettingError):
        manager.set(COG, "nope", 1)
    assert await db.cog_setting.count() == 0
    assert manager.get(COG, "interval") == 300


async def test_update_is_all_or_nothing(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    await manager.load()
    with pytest.raises(SettingValidationError) as refused:
        manager.update(COG, {"interval": 120, "names": ["a", "a"], "enabled": "maybe"}, 7)
    text = str(refused.value)
    assert "names" in text and "enabled" in text and "nothing was changed" in text
    assert manager.get(COG, "interval", 7) == 300
    assert await db.cog_setting.count() == 0

    await manager.update(COG, {"interval": 120, "names": ["a", "b"]}, 7)
    after = await reloaded(db)
    assert after.get(COG, "interval", 7) == 120
    assert after.get(COG, "names", 7) == ["a", "b"]


async def test_reset_removes_the_value_at_that_scope(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    await manager.set(COG, "interval", 600)
    await manager.set(COG, "interval", 900, 1)
    await manager.reset(COG, "interval", 1)
    assert manager.get(COG, "interval", 1) == 600
    assert (await reloaded(db)).get(COG, "interval", 1) == 600


async def test_writes_not_awaited_are_stored_by_flush(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    manager.set(COG, "interval", 700)  # the guide's pattern: no await
    manager.set(COG, "enabled", False, 3)
    assert manager.get(COG, "interval") == 700  # the cache answers at once
    await manager.flush()
    after = await reloaded(db)
    assert after.get(COG, "interval") == 700
    assert after.get(COG, "enabled", 3) is False


async def test_a_failed_write_puts_the_old_value_back(
    db: DatabaseCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = manager_for(db)
    await manager.set(COG, "interval", 600)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(db.cog_setting), "set_value", broken)
    task = manager.set(COG, "interval", 1200)
    with pytest.raises(RuntimeError, match="disk full"):
        await task
    assert manager.get(COG, "interval") == 600
    monkeypatch.undo()
    assert (await reloaded(db)).get(COG, "interval") == 600


async def test_values_handed_out_are_copies(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    await manager.set(COG, "names", ["a"])
    names = manager.get(COG, "names")
    names.append("b")
    assert manager.get(COG, "names") == ["a"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"x": (1, "X", "range(5,1)")}, ["'Fishy'", "'x'", "range(5,1)"]),
        ({"x": (1, "X", "type.integer")}, ["'Fishy'", "'x'", "type.integer"]),
        ({"x": (500, "X", "range(1,10)")}, ["'x'", "range(1,10)", "default"]),
        ({"x": (1,)}, ["'x'", "expected (default, description)"]),
    ],
)
def test_a_malformed_settings_config_names_cog_setting_and_rule(
    config: dict[str, tuple[object, ...]], expected: list[str]
) -> None:
    with pytest.raises(SettingsConfigError) as refused:
        parse_settings_config(COG, config)
    for part in expected:
        assert part in str(refused.value)


async def test_concurrent_sets_of_one_setting_store_the_last(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    values = [60 + i for i in range(120)]
    tasks = [manager.set(COG, "interval", value, 7) for value in values]
    await asyncio.gather(*tasks)  # every write reports stored
    assert manager.get(COG, "interval", 7) == values[-1]
    assert (await reloaded(db)).get(COG, "interval", 7) == values[-1]


async def test_concurrent_sets_of_many_settings_lose_nothing(db: DatabaseCoordinator) -> None:
    manager = manager_for(db)
    tasks = []
    for guild_id in range(1, 41):
        tasks.append(manager.set(COG, "interval", 100 + guild_id, guild_id))
        tasks.append(manager.set(COG, "enabled", guild_id % 2 == 0, guild_id))
        tasks.append(manager.update(COG, {"names": [f"n{guild_id}"], "delay": 2}, guild_id))
    tasks.append(manager.reset(COG, "delay", 40))
    await asyncio.gather(*tasks)
    after = await reloaded(db)
    for guild_id in range(1, 41):
        assert after.get(COG, "interval", guild_id) == 100 + guild_id
        assert after.get(COG, "enabled", guild_id) is (guild_id % 2 == 0)
        assert after.get(COG, "names", guild_id) == [f"n{guild_id}"]
    assert after.get(COG, "delay", 39) == 120
    assert after.stored(COG, "delay", 40) == (False, None)


async def test_a_set_made_while_a_write_is_in_flight_is_stored(
    db: DatabaseCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = manager_for(db)
    controller = type(db.cog_setting)
    original = controller.set_value
    late: list[asyncio.Task[None]] = []

    async def slow(self: object, *args: object, **kwargs: object) -> None:
        if not late:  # a newer value arrives while the first one is being written
            late.append(manager.set(COG, "interval", 900))
        await original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(controller, "set_value", slow)
    await manager.set(COG, "interval", 600)
    await late[0]
    assert manager.get(COG, "interval") == 900
    assert (await reloaded(db)).get(COG, "interval") == 900


async def test_after_a_failed_batch_every_writer_is_told_and_the_next_set_is_stored(
    db: DatabaseCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = manager_for(db)
    await manager.set(COG, "interval", 600)
    controller = type(db.cog_setting)
    original = controller.set_value

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(controller, "set_value", broken)
    tasks = [manager.set(COG, "interval", value) for value in (700, 800, 900)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    assert manager.get(COG, "interval") == 600  # back to what is stored
    monkeypatch.setattr(controller, "set_value", original)
    await manager.set(COG, "interval", 1000)
    assert (await reloaded(db)).get(COG, "interval") == 1000
