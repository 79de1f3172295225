"""CaseController on both databases: numbering, queries, restrictions, status changes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import discord
import pytest

from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.cases import CaseStatus, CaseType

Stored = Callable[..., Awaitable[list[dict[str, Any]]]]

GUILD = 1_200_000_000_000_000_001
OTHER = 1_200_000_000_000_000_002
MOD = 1_200_000_000_000_000_010
ALICE = 1_200_000_000_000_000_101
BOB = 1_200_000_000_000_000_102


class Boom(Exception):
    """Raised by a test to abort a transaction."""


async def add(
    db: DatabaseCoordinator,
    kind: CaseType,
    user: int = ALICE,
    *,
    guild: int = GUILD,
    reason: str | None = "reason",
    **extra: Any,
) -> Any:
    return await db.case.insert_case(
        guild_id=guild,
        case_user_id=user,
        case_moderator_id=MOD,
        case_type=kind,
        case_reason=reason,
        **extra,
    )


async def test_insert_case_numbers_cases_per_guild(db: DatabaseCoordinator, stored: Stored) -> None:
    first = await add(db, CaseType.WARN)
    second = await add(db, CaseType.BAN, BOB)
    elsewhere = await add(db, CaseType.KICK, guild=OTHER)
    third = await add(db, CaseType.NOTE)

    assert [first.case_number, second.case_number, third.case_number] == [1, 2, 3]
    assert elsewhere.case_number == 1
    assert first.status == CaseStatus.ACTIVE.value
    assert first.case_type == "WARN" and first.user_id == ALICE and first.moderator_id == MOD
    rows = await stored("case")
    assert sorted((r["guild_id"], r["case_number"]) for r in rows) == [
        (GUILD, 1),
        (GUILD, 2),
        (GUILD, 3),
        (OTHER, 1),
    ]
    counters = {r["id"]: r["case_count"] for r in await stored("guild")}
    assert counters == {GUILD: 3, OTHER: 1}


async def test_fifty_concurrent_inserts_get_numbers_one_to_fifty(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    cases = await asyncio.gather(
        *(add(db, CaseType.WARN, ALICE + i, reason=f"warn {i}") for i in range(50))
    )

    assert sorted(case.case_number for case in cases) == list(range(1, 51))
    rows = await stored("case")
    assert sorted(r["case_number"] for r in rows) == list(range(1, 51))
    assert len({r["user_id"] for r in rows}) == 50
    assert [r["case_count"] for r in await stored("guild")] == [50]


async def test_a_burst_of_cases_is_recorded_in_batches_without_gaps_or_twins(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    """Cases recorded while another is in flight are inserted together (each guild's counter
    raised once per batch); two guilds in one burst; then one case alone again."""
    await add(db, CaseType.WARN)  # the guild rows exist: the burst's cases can be batched
    await add(db, CaseType.WARN, guild=OTHER)
    coalescer = db.case._inserts
    cases = await asyncio.gather(
        *(
            add(db, CaseType.WARN, ALICE + i, guild=(GUILD, OTHER)[i % 2], reason=f"w{i}")
            for i in range(60)
        )
    )
    assert coalescer.batches >= 1 and coalescer.batched_items >= 30
    for guild in (GUILD, OTHER):
        numbers = sorted(c.case_number for c in cases if c.guild_id == guild)
        assert numbers == list(range(2, 32))
    by_user = {c.user_id: c for c in cases}
    assert by_user[ALICE + 7].reason == "w7" and by_user[ALICE + 7].guild_id == OTHER
    assert all(c.id is not None and c.status == CaseStatus.ACTIVE.value for c in cases)
    rows = await stored("case")
    assert len({(r["guild_id"], r["case_number"]) for r in rows}) == len(rows) == 62
    assert sorted(r["case_count"] for r in await stored("guild")) == [31, 31]
    alone = await add(db, CaseType.NOTE)
    assert alone.case_number == 32


async def test_mod_log_message_ids_of_a_burst_are_stored(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    cases = [await add(db, CaseType.WARN, ALICE + i) for i in range(20)]
    await asyncio.gather(
        *(db.case.set_mod_log_message(case.id, 9_000 + case.case_number) for case in cases)
    )
    assert db.case._mod_log_ids.batches >= 1
    rows = await stored("case")
    assert {r["case_number"]: r["mod_log_message_id"] for r in rows} == {
        n: 9_000 + n for n in range(1, 21)
    }


async def test_cases_looked_up_at_once_are_read_together_each_caller_its_own(
    db: DatabaseCoordinator,
) -> None:
    """A burst of lookups (two guilds, the same case asked for many times, a number that does
    not exist) is read in a batch: every caller gets the right case, as an object of its own."""
    for i in range(5):
        await add(db, CaseType.WARN, ALICE + i, reason=f"g{i}", case_extra={"tags": [i]})
        await add(db, CaseType.NOTE, ALICE + i, guild=OTHER, reason=f"o{i}")
    statements = db.service.stats.queries
    keys = [((GUILD, OTHER)[i % 2], i % 7 + 1) for i in range(80)]
    found = await asyncio.gather(*(db.case.get_case_by_number(g, n) for g, n in keys))

    assert db.case._reads.batches >= 1 and db.case._reads.batched_items >= 70
    assert db.service.stats.queries - statements <= 3  # not 80
    for (guild, number), case in zip(keys, found, strict=True):
        if number > 5:
            assert case is None
            continue
        assert case is not None and (case.guild_id, case.case_number) == (guild, number)
        assert case.reason == f"{'go'[guild == OTHER]}{number - 1}"
    twins = [c for (g, n), c in zip(keys, found, strict=True) if (g, n) == (GUILD, 1)]
    assert len(twins) > 1 and len({id(c) for c in twins}) == len(twins)
    twins[0].extra["tags"].append("changed")  # one caller's change stays its own
    assert twins[1].extra == {"tags": [0]}
    # A copy is a loaded row like the first: it can be changed through the controller.
    updated = await db.case.update_by_id(twins[1].id, reason="edited")
    assert updated is not None and updated.reason == "edited"


async def test_a_batch_of_lookups_whose_callers_all_left_reads_nothing(
    db: DatabaseCoordinator,
) -> None:
    statements = db.service.stats.queries
    assert await db.case._read_batch(lambda: []) == []
    assert db.service.stats.queries == statements


async def test_a_lookup_sees_what_was_committed_before_it_and_its_own_transaction(
    db: DatabaseCoordinator,
) -> None:
    first = await add(db, CaseType.WARN)
    readers = [asyncio.ensure_future(db.case.get_case_by_number(GUILD, 1)) for _ in range(5)]
    await asyncio.sleep(0)  # the first read is in flight, the others queued
    await db.case.update_by_id(first.id, reason="changed before the late readers")
    late = await asyncio.gather(*(db.case.get_case_by_number(GUILD, 1) for _ in range(5)))
    await asyncio.gather(*readers)
    assert all(
        case is not None and case.reason == "changed before the late readers" for case in late
    )
    async with db.transaction():
        second = await add(db, CaseType.NOTE)
        inside = await db.case.get_case_by_number(GUILD, second.case_number)
        assert inside is not None and inside.id == second.id


async def test_a_case_of_its_own_is_numbered_and_inserted_in_one_statement(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    """No BEGIN/COMMIT: one INSERT that takes the number (SQLite: 0014's trigger; PostgreSQL:
    a data-modifying CTE). Mixed with cases numbered inside transactions, no gap, no twin."""
    await add(db, CaseType.WARN)  # creates the guild row (and reads SQLite's trigger once)
    stats = db.service.stats
    before = (stats.transactions, stats.queries)
    second = await add(db, CaseType.NOTE)
    after = (stats.transactions, stats.queries)
    async with db.transaction():
        third = await add(db, CaseType.BAN)
    fourth = await add(db, CaseType.WARN, BOB)

    assert after == (before[0], before[1] + 1)
    assert [second.case_number, third.case_number, fourth.case_number] == [2, 3, 4]
    assert sorted(r["case_number"] for r in await stored("case")) == [1, 2, 3, 4]
    assert [r["case_count"] for r in await stored("guild")] == [4]


async def test_without_the_sqlite_counter_trigger_numbers_stay_unique(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    """A later table rebuild that dropped 0014's trigger must not give two cases one number
    (SQLite falls back to numbering in a transaction; PostgreSQL never had the trigger)."""
    from fish_bot.database.controllers.case_numbering import CASE_COUNTER_TRIGGER

    if db.service.is_sqlite:
        async with db.service.engine.begin() as connection:
            await connection.exec_driver_sql(f"DROP TRIGGER {CASE_COUNTER_TRIGGER}")
    cases = await asyncio.gather(*(add(db, CaseType.WARN, ALICE + i) for i in range(5)))

    assert sorted(case.case_number for case in cases) == [1, 2, 3, 4, 5]
    assert [r["case_count"] for r in await stored("guild")] == [5]


async def test_a_rolled_back_case_gives_its_number_back(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    await add(db, CaseType.WARN)
    with pytest.raises(Boom):
        async with db.transaction():
            case = await add(db, CaseType.BAN)
            assert case.case_number == 2
            raise Boom
    again = await add(db, CaseType.KICK)

    assert again.case_number == 2
    assert [(r["case_number"], r["case_type"]) for r in await stored("case")] == [
        (1, "WARN"),
        (2, "KICK"),
    ]


async def test_insert_case_stores_expiry_status_and_extra(db: DatabaseCoordinator) -> None:
    expires = discord.utils.utcnow() + timedelta(hours=2)
    case = await add(
        db,
        CaseType.JAIL,
        case_expires_at=expires,
        case_extra={"roles": [1, 2]},
        case_status=CaseStatus.ACTIVE,
    )
    loaded = await db.case.get_case_by_number(GUILD, case.case_number)

    assert loaded is not None and loaded.expires_at is not None
    assert abs((loaded.expires_at - expires).total_seconds()) < 1
    assert loaded.extra == {"roles": [1, 2]}
    assert loaded.reason == "reason"
    assert await db.case.get_case_by_number(GUILD, 99) is None
    with pytest.raises(ValueError):
        await add(db, "NOT_A_TYPE")  # type: ignore[arg-type]


async def test_queries_by_options_newest_first_and_paginated(db: DatabaseCoordinator) -> None:
    await add(db, CaseType.WARN, ALICE)
    await add(db, CaseType.BAN, BOB)
    await add(db, CaseType.WARN, BOB)
    await add(db, CaseType.NOTE, ALICE)
    await add(db, CaseType.WARN, ALICE, guild=OTHER)

    everything = await db.case.get_cases_by_options(GUILD)
    assert [c.case_number for c in everything] == [4, 3, 2, 1]
    alice = await db.case.get_cases_by_options(GUILD, {"user_id": ALICE})
    assert [c.case_number for c in alice] == [4, 1]
    warns = await db.case.get_cases_by_options(GUILD, {"case_type": [CaseType.WARN]})
    assert [c.case_number for c in warns] == [3, 1]
    bob_bans = await db.case.get_cases_by_options(GUILD, {"user_id": BOB, "case_type": "BAN"})
    assert [c.case_number for c in bob_bans] == [2]
    assert await db.case.get_cases_by_options(GUILD, {"moderator_id": ALICE}) == []
    assert len(await db.case.get_cases_by_options(GUILD, limit=2)) == 2
    numbers = await db.case.get_cases_by_numbers(GUILD, [1, 3, 42])
    assert sorted(numbers) == [1, 3]

    page = await db.case.paginate_cases(GUILD, page=2, per_page=3)
    assert page.total == 4
    assert [c.case_number for c in page.items] == [1]


async def test_restrictions_and_closing_them(db: DatabaseCoordinator) -> None:
    pollban = await add(db, CaseType.POLLBAN, ALICE)
    await add(db, CaseType.POLLBAN, BOB)
    await add(db, CaseType.TEMPBAN, ALICE)
    await add(db, CaseType.POLLBAN, ALICE, guild=OTHER)

    assert await db.case.is_user_under_restriction(
        GUILD, ALICE, CaseType.POLLBAN, CaseType.POLLUNBAN
    )
    assert await db.case.restricted_users(GUILD, CaseType.POLLBAN) == {ALICE, BOB}
    active = await db.case.get_active_restriction(GUILD, ALICE, [CaseType.BAN, CaseType.TEMPBAN])
    assert active is not None and active.case_type == "TEMPBAN"

    assert await db.case.close_active(GUILD, ALICE, [CaseType.POLLBAN]) == 1
    assert not await db.case.is_user_under_restriction(GUILD, ALICE, CaseType.POLLBAN)
    assert await db.case.restricted_users(GUILD, CaseType.POLLBAN) == {BOB}
    # The other guild keeps its own case.
    assert await db.case.restricted_users(OTHER, CaseType.POLLBAN) == {ALICE}
    closed = await db.case.get_case_by_number(GUILD, pollban.case_number)
    assert closed is not None and closed.status == CaseStatus.LIFTED.value
    assert closed.updated_at is not None
    # Closing again changes nothing.
    assert await db.case.close_active(GUILD, ALICE, [CaseType.POLLBAN]) == 0


async def test_set_status(db: DatabaseCoordinator) -> None:
    case = await add(db, CaseType.TEMPBAN)

    expired = await db.case.set_status(GUILD, case.case_number, CaseStatus.EXPIRED)
    assert expired is not None and expired.status == "expired"
    assert await db.case.get_active_restriction(GUILD, ALICE, [CaseType.TEMPBAN]) is None
    assert await db.case.set_status(GUILD, 999, CaseStatus.VOIDED) is None


async def test_pending_cases_are_listed_and_resolved_once(db: DatabaseCoordinator) -> None:
    """A case recorded before its Discord action: pending, then active or voided, once."""
    ban = await add(db, CaseType.TEMPBAN, case_status=CaseStatus.PENDING)
    kick = await add(db, CaseType.KICK, BOB, case_status=CaseStatus.PENDING, case_extra={"a": 1})
    elsewhere = await add(db, CaseType.BAN, guild=OTHER, case_status=CaseStatus.PENDING)
    await add(db, CaseType.WARN)

    # A pending case is not in force yet.
    assert await db.case.get_active_restriction(GUILD, ALICE, [CaseType.TEMPBAN]) is None
    found = await db.case.pending_cases()
    assert [(c.guild_id, c.case_number) for c in found] == [
        (GUILD, ban.case_number),
        (GUILD, kick.case_number),
        (OTHER, elsewhere.case_number),
    ]
    assert [c.case_number for c in await db.case.pending_cases([OTHER])] == [1]
    assert await db.case.pending_cases([]) == []

    assert await db.case.resolve_pending(ban.id, CaseStatus.ACTIVE)
    assert not await db.case.resolve_pending(ban.id, CaseStatus.VOIDED)  # not pending any more
    assert await db.case.resolve_pending(
        kick.id, CaseStatus.VOIDED, extra={"a": 1, "void_reason": "Discord refused"}
    )
    active = await db.case.get_active_restriction(GUILD, ALICE, [CaseType.TEMPBAN])
    assert active is not None and active.updated_at is not None
    voided = await db.case.get_case_by_number(GUILD, kick.case_number)
    assert voided is not None and voided.status == CaseStatus.VOIDED.value
    assert voided.extra == {"a": 1, "void_reason": "Discord refused"}
    assert [c.guild_id for c in await db.case.pending_cases()] == [OTHER]


async def test_a_pending_case_rolled_back_with_its_transaction(db: DatabaseCoordinator) -> None:
    with pytest.raises(Boom):
        async with db.transaction():
            await add(db, CaseType.BAN, case_status=CaseStatus.PENDING)
            raise Boom
    assert await db.case.pending_cases() == []
    assert (await add(db, CaseType.BAN, case_status=CaseStatus.PENDING)).case_number == 1


async def test_close_active_cases_closes_and_returns_them_in_one_statement(
    db: DatabaseCoordinator,
) -> None:
    old = await add(db, CaseType.TEMPBAN)
    ban = await add(db, CaseType.BAN)
    await add(db, CaseType.TEMPBAN, case_status=CaseStatus.PENDING)
    await add(db, CaseType.TEMPBAN, BOB)
    await add(db, CaseType.WARN)
    new = await add(db, CaseType.TEMPBAN)

    before = db.service.stats.queries
    closed = await db.case.close_active_cases(
        GUILD, ALICE, [CaseType.TEMPBAN, CaseType.BAN], keep=new.id
    )
    assert db.service.stats.queries - before <= 2  # the UPDATE (and SQLite's BEGIN)
    assert [(case.case_number, case.status) for case in closed] == [
        (old.case_number, "lifted"),
        (ban.case_number, "lifted"),
    ]
    statuses = {
        number: case.status
        for number, case in (await db.case.get_cases_by_numbers(GUILD, range(1, 7))).items()
    }
    assert statuses == {
        1: "lifted",
        2: "lifted",
        3: "pending",
        4: "active",
        5: "active",
        6: "active",
    }
    assert await db.case.close_active_cases(GUILD, ALICE, []) == []
