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
from fish_bot.database.service import DatabaseService

#: The ``stored`` fixture (tests/db/conftest.py): committed rows of a table.
Stored = Callable[..., Awaitable[list[dict[str, Any]]]]


class Boom(Exception):
    """Raised by a test to abort a transaction."""


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by the test are dropped afterwards."""
    monkeypatch.setattr(DatabaseCoordinator, "_factories", dict(DatabaseCoordinator._factories))


class CountingFactory:
    """A controller factory that records how often it was called."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, service: DatabaseService) -> BaseController[Guild]:
        self.calls += 1
        return BaseController(Guild, service)


def test_built_in_controllers() -> None:
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    assert isinstance(db.guild, GuildController)
    assert isinstance(db.guild_config, GuildConfigController)
    assert isinstance(db.cog_setting, CogSettingController)
    assert {"guild", "guild_config", "cog_setting"} <= set(DatabaseCoordinator.registered())
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


@pytest.mark.usefixtures("isolated_registry")
def test_controllers_are_created_lazily() -> None:
    factory = CountingFactory()
    DatabaseCoordinator.register("lazy_probe", factory)
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    assert factory.calls == 0  # nothing is built until first use

    first = db.lazy_probe
    second = db.get("lazy_probe")

    assert first is second
    assert factory.calls == 1
    assert first.service is db.service


def test_unknown_controller_raises_attribute_error() -> None:
    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = db.no_such_thing
    with pytest.raises(AttributeError):
        db.get("no_such_thing")
    with pytest.raises(AttributeError):
        _ = db._private
    assert not hasattr(db, "nothing_here")


@pytest.mark.usefixtures("isolated_registry")
async def test_registered_controller_works_against_the_database(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    DatabaseCoordinator.register("settings_probe", lambda s: BaseController(CogSetting, s))
    assert "settings_probe" in DatabaseCoordinator.registered()

    await db.settings_probe.create(cog="probe", guild_id=1, key="k", value=[1])
    assert await db.cog_setting.count({"cog": "probe"}) == 1
    assert [r["value"] for r in await stored("cog_setting")] == [[1]]


@pytest.mark.usefixtures("isolated_registry")
def test_register_refuses_a_different_factory_under_a_taken_name() -> None:
    factory = CountingFactory()
    DatabaseCoordinator.register("taken_probe", factory)
    DatabaseCoordinator.register("taken_probe", factory)  # the same factory again is fine

    with pytest.raises(ValueError, match="taken_probe"):
        DatabaseCoordinator.register("taken_probe", CountingFactory())
    with pytest.raises(ValueError, match="guild"):
        DatabaseCoordinator.register("guild", CountingFactory())

    db = DatabaseCoordinator(DatabaseService("sqlite+aiosqlite:///unused.db"))
    assert isinstance(db.guild, GuildController)  # the built-in one is kept
    _ = db.taken_probe
    assert factory.calls == 1


def test_registry_is_clean_after_the_registering_tests() -> None:
    """The registry fixture undoes registrations (checked in whatever order tests run)."""
    names = set(DatabaseCoordinator.registered())
    assert not {n for n in names if n.endswith("_probe")}


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
