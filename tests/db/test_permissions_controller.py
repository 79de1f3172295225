"""Permission rules and ranks: the controller, the CHECK constraints and the rule store's cache.

Runs on SQLite and, when FISHBOT_TEST_DATABASE_URL is set, on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy.exc

from fish_bot.core.permission_store import PermissionStore
from fish_bot.database import migrations
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models import RuleTarget
from fish_bot.exceptions import DatabaseError, IntegrityViolation, UserFacingError

Stored = Callable[..., Awaitable[list[dict[str, Any]]]]

BASE = 900_000_000_000_000_000  # real snowflakes need 64 bits
G1, G2 = BASE + 1, BASE + 2
ROLE_A, ROLE_B, ROLE_C = BASE + 11, BASE + 12, BASE + 13
CHAN_A, CHAN_B = BASE + 21, BASE + 22


async def seed(db: DatabaseCoordinator) -> None:
    perms = db.permissions
    await perms.set_rule(G1, "ping", RuleTarget.ROLE, ROLE_A, allow=True)
    await perms.set_rule(G1, "ping", "role", ROLE_B, allow=False)
    await perms.set_rule(G1, "ping", "channel", CHAN_A, allow=False)
    await perms.set_rule(G1, "perm show", "channel", CHAN_B, allow=True)
    await perms.set_role_rank(G1, ROLE_A, 3)
    await perms.set_role_rank(G1, ROLE_B, 10)
    await perms.set_command_rank(G1, "ping", 5)
    await perms.set_rule(G2, "ping", "role", ROLE_C, allow=True)
    await perms.set_role_rank(G2, ROLE_C, 1)


def selects(db: DatabaseCoordinator) -> int:
    """How many SELECT statements the database service has run so far."""
    return db.service.stats.by_statement.get("SELECT", 0)


def assert_domain_error(error: BaseException) -> None:
    assert isinstance(error, DatabaseError)
    assert isinstance(error, UserFacingError)
    assert not isinstance(error, sqlalchemy.exc.SQLAlchemyError)
    assert "traceback" not in str(error).lower()


async def test_migration_matches_models(db: DatabaseCoordinator) -> None:
    assert await migrations.current_revision(db.service) == migrations.head_revision()
    assert await migrations.pending_changes(db.service) == []


async def test_migration_downgrade_and_upgrade(db: DatabaseCoordinator) -> None:
    await migrations.downgrade(db.service, "0002_scheduled_job")
    assert await migrations.current_revision(db.service) == "0002_scheduled_job"
    await migrations.upgrade(db.service)
    assert await migrations.pending_changes(db.service) == []


async def test_writes_are_stored_and_guild_rows_created(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    await seed(db)
    rules = await stored("command_rule")
    assert {
        (r["guild_id"], r["command"], r["target_type"], r["target_id"], r["allow"]) for r in rules
    } == {
        (G1, "ping", "role", ROLE_A, True),
        (G1, "ping", "role", ROLE_B, False),
        (G1, "ping", "channel", CHAN_A, False),
        (G1, "perm show", "channel", CHAN_B, True),
        (G2, "ping", "role", ROLE_C, True),
    }
    assert {(r["guild_id"], r["role_id"], r["rank"]) for r in await stored("role_rank")} == {
        (G1, ROLE_A, 3),
        (G1, ROLE_B, 10),
        (G2, ROLE_C, 1),
    }
    assert [(r["guild_id"], r["command"], r["rank"]) for r in await stored("command_rank")] == [
        (G1, "ping", 5)
    ]
    # The tables refer to the guild: writing created the guild rows.
    assert {r["id"] for r in await stored("guild")} == {G1, G2}


async def test_set_replaces_and_remove_reports(db: DatabaseCoordinator, stored: Stored) -> None:
    await seed(db)
    perms = db.permissions
    # Allowing a denied role flips the same row (one rule per target).
    await perms.set_rule(G1, "ping", "role", ROLE_B, allow=True)
    rows = await stored("command_rule")
    assert [(r["target_id"], r["allow"]) for r in rows if r["target_id"] == ROLE_B] == [
        (ROLE_B, True)
    ]
    await perms.set_role_rank(G1, ROLE_A, 7)
    await perms.set_command_rank(G1, "ping", 0)
    assert {r["role_id"]: r["rank"] for r in await stored("role_rank") if r["guild_id"] == G1}[
        ROLE_A
    ] == 7

    assert await perms.remove_rule(G1, "ping", "channel", CHAN_A) is True
    assert await perms.remove_rule(G1, "ping", "channel", CHAN_A) is False
    assert await perms.remove_role_rank(G1, ROLE_A) is True
    assert await perms.remove_role_rank(G1, ROLE_A) is False
    assert await perms.remove_command_rank(G1, "ping") is True
    assert await perms.remove_command_rank(G1, "ping") is False
    assert await perms.clear_command(G1, "ping") == 2  # ROLE_A and ROLE_B
    assert {(r["guild_id"], r["command"]) for r in await stored("command_rule")} == {
        (G1, "perm show"),
        (G2, "ping"),
    }


async def test_load_guild_is_one_query_per_table(db: DatabaseCoordinator) -> None:
    await seed(db)
    before, selects_before = db.service.stats.queries, selects(db)
    loaded = await db.permissions.load_guild(G1)
    # One SELECT per table, plus at most the transaction's BEGIN on SQLite.
    assert selects(db) - selects_before == 3
    assert db.service.stats.queries - before <= 4
    assert {(r.command, r.target_type, r.target_id, r.allow) for r in loaded.rules} == {
        ("ping", "role", ROLE_A, True),
        ("ping", "role", ROLE_B, False),
        ("ping", "channel", CHAN_A, False),
        ("perm show", "channel", CHAN_B, True),
    }
    assert loaded.role_ranks == {ROLE_A: 3, ROLE_B: 10}
    assert loaded.command_ranks == {"ping": 5}
    empty = await db.permissions.load_guild(BASE + 99)
    assert (empty.rules, empty.role_ranks, empty.command_ranks) == ([], {}, {})


async def test_guild_delete_cascades(db: DatabaseCoordinator, stored: Stored) -> None:
    await seed(db)
    assert await db.guild.delete_by_id(G1) is True
    for table in ("command_rule", "role_rank", "command_rank"):
        assert all(row["guild_id"] == G2 for row in await stored(table)), table
    assert len(await stored("command_rule")) == 1
    assert len(await stored("role_rank")) == 1


@pytest.mark.parametrize("rank", [11, -1])
async def test_check_constraint_refuses_bad_rank(
    db: DatabaseCoordinator, stored: Stored, rank: int
) -> None:
    await db.guild.ensure(G1)
    # The controller writes whatever it is given: the database's CHECK refuses it, as a
    # domain error that names the table (never a raw driver error).
    with pytest.raises(IntegrityViolation) as role_error:
        await db.permissions.set_role_rank(G1, ROLE_A, rank)
    assert_domain_error(role_error.value)
    assert "role_rank" in str(role_error.value)
    with pytest.raises(IntegrityViolation) as command_error:
        await db.permissions.set_command_rank(G1, "ping", rank)
    assert_domain_error(command_error.value)
    assert "command_rank" in str(command_error.value)
    assert await stored("role_rank") == []
    assert await stored("command_rank") == []


async def test_check_constraint_refuses_unknown_target_type(db: DatabaseCoordinator) -> None:
    await db.guild.ensure(G1)
    with pytest.raises(IntegrityViolation) as error:
        await db.permissions.create(
            guild_id=G1, command="ping", target_type="user", target_id=1, allow=True
        )
    assert_domain_error(error.value)


async def test_rule_store_validates_before_writing(db: DatabaseCoordinator, stored: Stored) -> None:
    store = PermissionStore(db)
    for bad in (11, -1):
        with pytest.raises(UserFacingError, match="from 0 to 10"):
            await store.set_role_rank(G1, ROLE_A, bad)
        with pytest.raises(UserFacingError, match="from 0 to 10"):
            await store.set_command_rank(G1, "ping", bad)
    with pytest.raises(UserFacingError, match="Name a command"):
        await store.allow(G1, "   ", "role", ROLE_A)
    with pytest.raises(UserFacingError, match="at most 100"):
        await store.deny(G1, "x" * 101, "channel", CHAN_A)
    assert await stored("role_rank") == []
    assert await stored("command_rank") == []
    assert await stored("command_rule") == []
    # Nothing was written, so nothing was created either.
    assert await stored("guild") == []


async def test_rule_store_serves_from_cache_after_load(db: DatabaseCoordinator) -> None:
    await seed(db)
    store = PermissionStore(db)
    assert not store.is_loaded(G1)

    before, selects_before = db.service.stats.queries, selects(db)
    rules = await store.command_rules(G1, "ping")
    # One batch: a SELECT per table (and SQLite's BEGIN).
    assert selects(db) - selects_before == 3
    assert db.service.stats.queries - before <= 4
    assert rules == {
        "allow_roles": {ROLE_A},
        "deny_roles": {ROLE_B},
        "allow_channels": set(),
        "deny_channels": {CHAN_A},
    }

    before = db.service.stats.queries
    for _ in range(20):
        assert await store.command_rules(G1, "ping") == rules
        assert await store.command_rules(G1, "perm show") == {
            "allow_roles": set(),
            "deny_roles": set(),
            "allow_channels": {CHAN_B},
            "deny_channels": set(),
        }
        assert await store.command_rules(G1, "unknown") == {
            "allow_roles": set(),
            "deny_roles": set(),
            "allow_channels": set(),
            "deny_channels": set(),
        }
        assert await store.command_rank(G1, "ping") == 5
        assert await store.command_rank(G1, "perm show") is None
        assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_B: 10}
    assert db.service.stats.queries == before, "a loaded guild must be served from memory"

    # What the caller gets is a copy: changing it does not change the cache.
    (await store.role_ranks(G1))[ROLE_C] = 9
    (await store.command_rules(G1, "ping"))["deny_roles"].add(ROLE_C)
    assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_B: 10}
    assert (await store.command_rules(G1, "ping"))["deny_roles"] == {ROLE_B}

    # Another guild is loaded on its own.
    before = db.service.stats.queries
    assert await store.role_ranks(G2) == {ROLE_C: 1}
    assert db.service.stats.queries > before


async def test_rule_store_writes_update_cache_and_database(db: DatabaseCoordinator) -> None:
    await seed(db)
    store = PermissionStore(db)
    await store.command_rules(G1, "ping")  # load

    await store.deny(G1, "ping", "role", ROLE_A)  # flips the allow rule
    await store.allow(G1, "ping", "channel", CHAN_B)
    await store.set_role_rank(G1, ROLE_C, 6)
    await store.remove_role_rank(G1, ROLE_B)
    await store.set_command_rank(G1, "perm show", 9)
    assert await store.reset_command_rank(G1, "ping") is True
    assert await store.remove_rule(G1, "ping", "channel", CHAN_A) is True

    expected_rules = {
        "allow_roles": set(),
        "deny_roles": {ROLE_A, ROLE_B},
        "allow_channels": {CHAN_B},
        "deny_channels": set(),
    }
    before = db.service.stats.queries
    assert await store.command_rules(G1, "ping") == expected_rules
    assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_C: 6}
    assert await store.command_rank(G1, "perm show") == 9
    assert await store.command_rank(G1, "ping") is None
    assert db.service.stats.queries == before

    # A fresh store (a restart) reads the same from the database.
    fresh = PermissionStore(db)
    assert await fresh.command_rules(G1, "ping") == expected_rules
    assert await fresh.role_ranks(G1) == {ROLE_A: 3, ROLE_C: 6}
    assert await fresh.command_rank(G1, "perm show") == 9
    assert await fresh.command_rank(G1, "ping") is None

    assert await store.clear_command(G1, "ping") == 3
    assert await store.command_rules(G1, "ping") == {
        "allow_roles": set(),
        "deny_roles": set(),
        "allow_channels": set(),
        "deny_channels": set(),
    }
    snapshot = await store.snapshot(G1)
    assert set(snapshot.commands) == {"perm show"}


async def test_rule_store_write_in_transaction_rolls_back_cleanly(
    db: DatabaseCoordinator,
) -> None:
    await seed(db)
    store = PermissionStore(db)
    assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_B: 10}

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction():
            await store.set_role_rank(G1, ROLE_C, 4)
            raise Boom
    # The rolled-back write is not served from the cache.
    assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_B: 10}


async def test_rule_store_write_in_transaction_shows_after_commit_without_a_reload(
    db: DatabaseCoordinator,
) -> None:
    await seed(db)
    store = PermissionStore(db)
    loads = 0
    load_guild = db.permissions.load_guild

    async def counting(guild_id: int) -> Any:
        nonlocal loads
        loads += 1
        return await load_guild(guild_id)

    db.permissions.load_guild = counting  # type: ignore[method-assign]
    assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_B: 10}
    async with db.transaction():
        await store.set_role_rank(G1, ROLE_C, 4)
        assert not store.is_loaded(G1)  # not yet committed: dropped, not changed
        # A read inside the transaction sees its own write but is not kept in the cache.
        assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_B: 10, ROLE_C: 4}
        assert not store.is_loaded(G1)
    assert loads == 2
    assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_B: 10, ROLE_C: 4}
    assert loads == 3  # read once after the commit, then from memory
    await store.remove_role_rank(G1, ROLE_C)  # outside a transaction: changed in place
    assert await store.role_ranks(G1) == {ROLE_A: 3, ROLE_B: 10}
    assert loads == 3
