"""ReminderController and ReminderPreferenceController on both databases."""

from __future__ import annotations

from datetime import timedelta

import discord

from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.reminders import Reminder, ReminderStatus

GUILD = 1_300_000_000_000_000_001
CHANNEL = 1_300_000_000_000_000_002
ALICE = 1_300_000_000_000_000_101
BOB = 1_300_000_000_000_000_102


async def add(
    db: DatabaseCoordinator, member: int = ALICE, hours: int = 1, **extra: object
) -> Reminder:
    now = discord.utils.utcnow()
    return await db.reminder.create(
        guild_id=GUILD,
        channel_id=CHANNEL,
        member_id=member,
        text=f"in {hours}h",
        created_at=now,
        due_at=now + timedelta(hours=hours),
        **extra,
    )


async def test_a_member_lists_and_counts_only_their_own(db: DatabaseCoordinator) -> None:
    for hours in (3, 1, 2):
        await add(db, ALICE, hours)
    await add(db, BOB, 1)

    assert await db.reminder.count_pending(ALICE) == 3
    page = await db.reminder.list_for_member(ALICE, 1, 2)
    assert [r.text for r in page.items] == ["in 1h", "in 2h"]
    assert (page.total, page.pages) == (3, 2)
    first = page.items[0]
    assert first.id is not None
    assert await db.reminder.get_for_member(first.id, BOB) is None
    assert await db.reminder.get_for_member(first.id, ALICE) is not None


async def test_only_the_owner_cancels(db: DatabaseCoordinator) -> None:
    reminder = await add(db)
    assert reminder.id is not None

    assert await db.reminder.cancel(reminder.id, BOB) is None
    cancelled = await db.reminder.cancel(reminder.id, ALICE)
    assert cancelled is not None and cancelled.status == ReminderStatus.CANCELLED.value
    assert await db.reminder.cancel(reminder.id, ALICE) is None  # only once
    assert await db.reminder.count_pending(ALICE) == 0


async def test_cancel_all_returns_what_it_cancelled(db: DatabaseCoordinator) -> None:
    await add(db, ALICE, 1, job_id=11)
    await add(db, ALICE, 2, job_id=12)
    await add(db, BOB, 1, job_id=13)

    cancelled = await db.reminder.cancel_all(ALICE)

    assert sorted(r.job_id or 0 for r in cancelled) == [11, 12]
    assert await db.reminder.count_pending(BOB) == 1


async def test_a_delivery_changes_the_row_once(db: DatabaseCoordinator) -> None:
    reminder = await add(db)
    assert reminder.id is not None
    now = discord.utils.utcnow()

    marked = await db.reminder.mark_sending(reminder.id, 0, now)
    assert marked is not None and marked.sending_at == now
    assert await db.reminder.mark_sending(reminder.id, 1, now) is None  # not that occurrence
    done = await db.reminder.mark_delivered(reminder.id, 0, now)
    assert done is not None and done.status == ReminderStatus.DELIVERED.value
    assert done.sending_at is None and done.occurrence == 1
    assert await db.reminder.mark_delivered(reminder.id, 0, now) is None  # a second run


async def test_a_repeating_reminder_advances_and_a_failure_is_kept(
    db: DatabaseCoordinator,
) -> None:
    reminder = await add(db, repeat_seconds=7200)
    assert reminder.id is not None
    now = discord.utils.utcnow()

    advanced = await db.reminder.advance(reminder.id, 0, now, now + timedelta(hours=2))
    assert advanced is not None
    assert (advanced.occurrence, advanced.status) == (1, ReminderStatus.PENDING.value)
    assert advanced.due_at == now + timedelta(hours=2)
    assert await db.reminder.advance(reminder.id, 0, now, now) is None

    failed = await db.reminder.mark_failed(reminder.id, 1, "x" * 900)
    assert failed is not None and failed.status == ReminderStatus.FAILED.value
    assert failed.last_error == "x" * 500
    # A failed reminder is still listed (and can be cancelled) by its owner.
    assert [r.id for r in (await db.reminder.list_for_member(ALICE)).items] == [reminder.id]


async def test_preferences_default_and_upsert(db: DatabaseCoordinator) -> None:
    default = await db.reminder_preference.get_preference(ALICE)
    assert (default.timezone, default.dm) == (None, False)

    await db.reminder_preference.set_timezone(ALICE, "Europe/Berlin")
    await db.reminder_preference.set_dm(ALICE, True)

    stored = await db.reminder_preference.get_preference(ALICE)
    assert (stored.timezone, stored.dm) == ("Europe/Berlin", True)
    await db.reminder_preference.set_timezone(ALICE, None)
    assert (await db.reminder_preference.get_preference(ALICE)).dm is True
