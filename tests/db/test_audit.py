"""The audit trail on both databases: each change and its entry commit or roll back together."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import discord
import pytest

from fish_bot.core.permission_store import PermissionStore
from fish_bot.core.settings.manager import ConfigManager
from fish_bot.core.settings.specs import parse_settings_config
from fish_bot.database.controllers.audit import acting_as
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.audit import AuditEntry

GUILD = 1_400_000_000_000_000_001
ROLE = 1_400_000_000_000_000_002
ADMIN = 1_400_000_000_000_000_101


class Boom(Exception):
    """Raised by a test to abort a transaction."""


async def entries(db: DatabaseCoordinator) -> list[AuditEntry]:
    return sorted(await db.audit.find_all(), key=lambda entry: entry.id or 0)


def summary(found: list[AuditEntry]) -> list[tuple[Any, ...]]:
    return [(e.guild_id, e.actor_id, e.action, e.target, e.old_value, e.new_value) for e in found]


async def test_a_config_change_is_recorded_with_its_actor(db: DatabaseCoordinator) -> None:
    with acting_as(ADMIN):
        await db.guild_config.update_config(GUILD, prefix="?")
        await db.guild_config.update_config(GUILD, prefix="?")  # no change: no entry
    await db.guild_config.update_config(GUILD, prefix="!", reason_required=True)

    assert summary(await entries(db)) == [
        (GUILD, ADMIN, "config", "prefix", None, "?"),
        (GUILD, None, "config", "prefix", "?", "!"),
        (GUILD, None, "config", "reason_required", False, True),
    ]


async def test_a_rolled_back_change_leaves_no_entry(db: DatabaseCoordinator) -> None:
    store = PermissionStore(db)
    with pytest.raises(Boom):
        async with db.transaction():
            await db.guild_config.update_config(GUILD, prefix="?")
            await store.set_role_rank(GUILD, ROLE, 5)
            raise Boom

    assert await entries(db) == []
    assert await store.role_ranks(GUILD) == {}
    assert await db.guild_config.get_prefix(GUILD) is None


async def test_rules_and_ranks_are_recorded(db: DatabaseCoordinator) -> None:
    store = PermissionStore(db)
    with acting_as(ADMIN):
        await store.set_role_rank(GUILD, ROLE, 5)
        await store.set_role_rank(GUILD, ROLE, 6)
        await store.deny(GUILD, "kick", "role", ROLE)
        await store.allow(GUILD, "kick", "role", ROLE)
        await store.set_command_rank(GUILD, "kick", 4)
        await store.remove_role_rank(GUILD, ROLE)

    assert summary(await entries(db)) == [
        (GUILD, ADMIN, "rank", f"role:{ROLE}", None, 5),
        (GUILD, ADMIN, "rank", f"role:{ROLE}", 5, 6),
        (GUILD, ADMIN, "rule", f"kick role:{ROLE}", None, "deny"),
        (GUILD, ADMIN, "rule", f"kick role:{ROLE}", "deny", "allow"),
        (GUILD, ADMIN, "command_rank", "kick", None, 4),
        (GUILD, ADMIN, "rank", f"role:{ROLE}", 6, None),
    ]


async def test_settings_and_pause_are_recorded_and_a_failed_write_is_not(
    db: DatabaseCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = ConfigManager(db)
    config = {"delay": (5, "A delay", "time.minutes(1,60)")}
    manager.register("fishy", parse_settings_config("fishy", config))
    with acting_as(ADMIN):
        await manager.set("fishy", "delay", "10m", GUILD)
        await manager.set_internal("fishy", "__paused__", True, GUILD)
        await manager.set_internal("fishy", "__other__", 1, GUILD)  # bookkeeping: not audited

    async def refuse(*args: Any) -> None:
        raise Boom

    monkeypatch.setattr(db.cog_setting, "set_value", refuse)
    with pytest.raises(Boom):
        await manager.set("fishy", "delay", "15m", GUILD)

    assert summary(await entries(db)) == [
        (GUILD, ADMIN, "setting", "fishy.delay", None, 600),
        (GUILD, ADMIN, "module", "fishy", "running", "paused"),
    ]


async def test_the_list_filters_by_member_and_time(db: DatabaseCoordinator) -> None:
    with acting_as(ADMIN):
        await db.guild_config.update_config(GUILD, prefix="?")
    await db.guild_config.update_config(GUILD, prefix="!")
    old = await db.audit.log_action(GUILD, "config", "prefix", "!", "$", actor_id=ADMIN)
    await db.audit.update_by_id(old.id, created_at=discord.utils.utcnow() - timedelta(days=30))

    everything = await db.audit.list_entries(GUILD)
    assert [e.new_value for e in everything.items] == ["!", "?", "$"]
    by_admin = await db.audit.list_entries(GUILD, actor_id=ADMIN)
    assert [e.new_value for e in by_admin.items] == ["?", "$"]
    recent = await db.audit.list_entries(
        GUILD, actor_id=ADMIN, since=discord.utils.utcnow() - timedelta(days=7)
    )
    assert [e.new_value for e in recent.items] == ["?"]


async def test_a_burst_of_setting_changes_writes_its_entries_in_one_statement(
    db: DatabaseCoordinator,
) -> None:
    """Sets that arrive together are stored in a few batches; each batch's audit entries are
    one multi-row INSERT, in the order they were made, and listeners hear of them after the
    commit, each once."""
    manager = ConfigManager(db)
    config = {"delay": (5, "A delay", "time.minutes(1,60)")}
    manager.register("fishy", parse_settings_config("fishy", config))
    heard: list[Any] = []
    db.audit.add_listener(lambda entry: heard.append(entry.new_value))
    inserts: list[int] = []
    real = db.audit.log_actions

    async def counted(changes: Any) -> list[AuditEntry]:
        inserts.append(len(changes))
        return await real(changes)

    db.audit.log_actions = counted  # type: ignore[method-assign]
    try:
        with acting_as(ADMIN):
            await asyncio.gather(
                *(manager.set("fishy", "delay", f"{m}m", GUILD) for m in range(1, 41))
            )
    finally:
        del db.audit.log_actions

    stored = await entries(db)
    assert [e.new_value for e in stored] == [m * 60 for m in range(1, 41)]
    assert [e.old_value for e in stored] == [None, *(m * 60 for m in range(1, 40))]
    assert {e.actor_id for e in stored} == {ADMIN}
    assert sum(inserts) == 40 and len(inserts) < 40  # batches, not one statement per set
    assert heard == [m * 60 for m in range(1, 41)]
    assert manager.get("fishy", "delay", GUILD) == 40 * 60


async def test_log_actions_of_nothing_writes_nothing(db: DatabaseCoordinator) -> None:
    assert await db.audit.log_actions([]) == []
    assert await entries(db) == []
