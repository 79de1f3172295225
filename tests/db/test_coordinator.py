"""DatabaseCoordinator: the lazy controller hub handed to cogs as ``self.db``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fish_bot.database.controllers import (
    BaseController,
    CogSettingController,
    GuildConfigController,
    GuildController,
)
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models import CogSetting, Guild
from fish_bot.database.models.cases import CaseType
from fish_bot.database.service import DatabaseService

#: The ``stored`` fixture (tests/db/conftest.py): committed rows of a table.
Stored = Callable[..., Awaitable[list[dict[str, Any]]]]


class Boom(Exception):
    """Raised by a test to abort a transaction."""


class CountingFactory:
    """A controller factory that records how often it was called."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, hub: DatabaseCoordinator) -> BaseController[Guild]:
        self.calls += 1
        return BaseController(Guild, hub.service)


def test_built_in_controllers() -> None:
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    assert isinstance(db.guild, GuildController)
    assert isinstance(db.guild_config, GuildConfigController)
    assert isinstance(db.cog_setting, CogSettingController)
    assert {"guild", "guild_config", "cog_setting"} <= set(db.registered())
    # Building controllers needs no connection.
    assert not db.service.connected


def test_controllers_are_created_once_and_reused() -> None:
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    assert db.guild is db.guild
    assert db.get("guild") is db.guild
    assert db.guild_config is db.get("guild_config")
    assert db.cog_setting is db.cog_setting
    assert db.guild.service is db.service
    assert db.cog_setting.service is db.service


def test_each_coordinator_has_its_own_controllers() -> None:
    first = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///a.db"))
    second = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///b.db"))
    assert first.guild is not second.guild
    assert first.guild.service is first.service
    assert second.guild.service is second.service


def test_controllers_are_created_lazily() -> None:
    factory = CountingFactory()
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    db.register("lazy_probe", factory)
    assert factory.calls == 0  # nothing is built until first use

    first = db.get("lazy_probe")
    second = db.get("lazy_probe", BaseController)

    assert first is second
    assert factory.calls == 1
    assert first.service is db.service


def test_unknown_controller_raises() -> None:
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    with pytest.raises(KeyError, match="no_such_thing"):
        db.get("no_such_thing")
    with pytest.raises(AttributeError):
        _ = db.no_such_thing  # type: ignore[attr-defined]
    assert not hasattr(db, "nothing_here")


def test_get_with_a_kind_checks_the_controller_type() -> None:
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    assert db.get("guild", GuildController) is db.guild
    with pytest.raises(TypeError, match="GuildController, not a CogSettingController"):
        db.get("guild", CogSettingController)


async def test_registered_controller_works_against_the_database(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    db.register("settings_probe", lambda hub: BaseController(CogSetting, hub.service))
    assert "settings_probe" in db.registered()

    await db.get("settings_probe").create(cog="probe", guild_id=1, key="k", value=[1])
    assert await db.cog_setting.count({"cog": "probe"}) == 1
    assert [r["value"] for r in await stored("cog_setting")] == [[1]]


def test_register_refuses_a_different_factory_under_a_taken_name() -> None:
    factory = CountingFactory()
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    db.register("taken_probe", factory)
    db.register("taken_probe", factory)  # the same factory again is fine

    with pytest.raises(ValueError, match="taken_probe"):
        db.register("taken_probe", CountingFactory())
    with pytest.raises(ValueError, match="guild"):
        db.register("guild", CountingFactory())

    assert isinstance(db.guild, GuildController)  # the built-in one is kept
    db.get("taken_probe")
    assert factory.calls == 1


def test_registrations_belong_to_one_hub() -> None:
    first = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///a.db"))
    second = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///b.db"))
    first.register("own_probe", CountingFactory())
    assert "own_probe" in first.registered()
    assert "own_probe" not in second.registered()
    with pytest.raises(KeyError):
        second.get("own_probe")


def test_controllers_get_their_siblings_from_the_hub() -> None:
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    assert db.case.guilds is db.guild
    assert db.guild_config.guilds is db.guild
    assert db.permissions.guilds is db.guild


async def test_instrumentation_sees_calls_a_controller_makes_on_a_sibling(
    db: DatabaseCoordinator,
) -> None:
    calls: list[str] = []

    def instrumentation(name: str, controller: BaseController[Any]) -> None:
        original = controller.__class__
        for method in ("ensure", "next_case_number"):
            if hasattr(original, method):
                bound = getattr(controller, method)

                async def traced(*args: Any, _bound: Any = bound, _m: str = method) -> Any:
                    calls.append(f"{name}.{_m}")
                    return await _bound(*args)

                setattr(controller, method, traced)

    fresh = DatabaseCoordinator(db.service)
    fresh.instrument(instrumentation)
    await fresh.case.insert_case(
        guild_id=7, case_user_id=1, case_moderator_id=2, case_type=CaseType.WARN
    )
    await fresh.guild_config.get_or_create_config(8)
    await fresh.permissions.set_role_rank(9, 99, 3)
    assert calls == ["guild.next_case_number", "guild.ensure", "guild.ensure"]


async def test_coordinator_transaction_is_the_services(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    async with db.transaction() as session:
        assert db.service.current_session() is session
        async with db.session() as inner:
            assert inner is session
        await db.guild.create(id=1)
        await db.cog_setting.set_value("c", "k", 1, guild_id=1)

    assert [r["id"] for r in await stored("guild")] == [1]

    with pytest.raises(Boom):
        async with db.transaction():
            await db.guild.create(id=2)
            await db.cog_setting.set_value("c", "k", 2, guild_id=2)
            raise Boom
    assert [r["id"] for r in await stored("guild")] == [1]
    assert [r["guild_id"] for r in await stored("cog_setting")] == [1]


async def test_coordinator_session_runs_custom_queries(db: DatabaseCoordinator) -> None:
    await db.guild.create(id=5, case_count=3)
    async with db.session() as session:
        guild = await session.get(Guild, 5)
    assert guild is not None
    assert guild.case_count == 3


async def test_coordinator_health(db: DatabaseCoordinator, db_backend: str) -> None:
    health = await db.health()
    assert health["ok"] is True
    assert health["dialect"] == db_backend
