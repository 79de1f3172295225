"""The automod tables' controller on SQLite and, when FISHBOT_TEST_DATABASE_URL is set, on
PostgreSQL (the ``db`` fixture): rules, thresholds, warn counts and lockdown state."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest

from fish_bot.database.controllers.automod import AutomodController
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.cases import CaseStatus, CaseType
from fish_bot.exceptions import DuplicateError, IntegrityViolation

BASE = 900_000_000_000_000_000
G1, G2 = BASE + 1, BASE + 2
USER = BASE + 31
CHANNEL = BASE + 41


def controller(db: DatabaseCoordinator) -> AutomodController:
    db.register("automod", lambda hub: AutomodController(hub.service, guilds=hub.guild))
    return db.get("automod", AutomodController)


async def test_rules_and_thresholds_load_per_guild(db: DatabaseCoordinator) -> None:
    store = controller(db)
    await store.add_rule(G1, name="spam", kind="spam", action="delete", params={"count": 5})
    await store.add_rule(
        G1, name="ads", kind="invites", action="ban", exemptions={"roles": [BASE + 9]}
    )
    await store.add_rule(G2, name="other", kind="caps", action="warn")
    await store.add_threshold(
        G1, warn_count=3, window_seconds=604800, action="timeout", duration_seconds=3600
    )
    await store.add_threshold(G1, warn_count=5, window_seconds=86400, action="kick")

    loaded = await store.load_guild(G1)
    assert [rule.name for rule in loaded.rules] == ["ads", "spam"]
    assert loaded.rules[1].params == {"count": 5} and loaded.rules[1].enabled is True
    assert loaded.rules[0].exemptions == {"roles": [BASE + 9]}
    assert [(t.warn_count, t.action, t.duration_seconds) for t in loaded.thresholds] == [
        (3, "timeout", 3600),
        (5, "kick", None),
    ]
    assert [rule.name for rule in (await store.load_guild(G2)).rules] == ["other"]

    assert await store.set_rule_enabled(G1, "spam", False)
    assert not (await store.load_guild(G1)).rules[1].enabled
    assert await store.remove_rule(G1, "spam") and not await store.remove_rule(G1, "spam")
    assert await store.remove_threshold(G1, 3) and not await store.remove_threshold(G1, 3)


async def test_names_and_counts_are_unique_per_guild(db: DatabaseCoordinator) -> None:
    store = controller(db)
    await store.add_rule(G1, name="spam", kind="spam", action="delete")
    with pytest.raises((DuplicateError, IntegrityViolation)):
        await store.add_rule(G1, name="spam", kind="caps", action="warn")
    await store.add_rule(G2, name="spam", kind="spam", action="delete")
    await store.add_threshold(G1, warn_count=3, window_seconds=60, action="kick")
    with pytest.raises((DuplicateError, IntegrityViolation)):
        await store.add_threshold(G1, warn_count=3, window_seconds=120, action="ban")


async def test_warn_count_counts_active_warns_in_the_window(db: DatabaseCoordinator) -> None:
    store = controller(db)
    now = discord.utils.utcnow()
    await db.guild.ensure(G1)
    for status, age in ((CaseStatus.ACTIVE, 1), (CaseStatus.ACTIVE, 3), (CaseStatus.VOIDED, 1)):
        case = await db.case.insert_case(
            guild_id=G1,
            case_user_id=USER,
            case_moderator_id=BASE,
            case_type=CaseType.WARN,
            case_status=status,
        )
        assert case.id is not None
        await db.case.update_by_id(case.id, created_at=now - timedelta(days=age))
    await db.case.insert_case(
        guild_id=G1, case_user_id=USER, case_moderator_id=BASE, case_type=CaseType.NOTE
    )
    assert await store.count_warns(G1, USER, now - timedelta(days=2)) == 1
    assert await store.count_warns(G1, USER, now - timedelta(days=7)) == 2
    assert await store.count_warns(G2, USER, now - timedelta(days=7)) == 0


async def test_lockdown_state_keeps_the_exact_overwrites(db: DatabaseCoordinator) -> None:
    store = controller(db)
    previous = {"everyone": {"allow": 2048, "deny": 64}, "bot": None}
    await store.save_lockdown(G1, CHANNEL, previous=previous, moderator_id=USER, reason="raid")
    state = await store.lockdown(G1, CHANNEL)
    assert state is not None and state.previous == previous and state.ends_at is None
    assert [s.channel_id for s in await store.guild_lockdowns(G1)] == [CHANNEL]
    assert await store.forget_lockdown(G1, CHANNEL)
    assert await store.lockdown(G1, CHANNEL) is None
    assert not await store.forget_lockdown(G1, CHANNEL)
