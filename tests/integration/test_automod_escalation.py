"""Warning escalation: a guild's thresholds apply when any warn is added, manual or
automatic; the escalated action is a case by the bot that names the threshold (in `cases`)."""

from __future__ import annotations

from datetime import timedelta

import simcord

from fish_bot.database.models.cases import CaseType

from .automod_helpers import set_up_automod
from .conftest import World
from .moderation_helpers import cases, fish, say, set_up_moderation

DAY = 86400


async def test_three_manual_warns_in_a_week_time_out_five_kick(
    env: simcord.Env, world: World
) -> None:
    w = await set_up_moderation(env, world)
    await say(w.admin, w.bot_commands, "!automod escalation add 3 7d timeout 1h")
    await say(w.admin, w.bot_commands, "!automod escalation add 5 30d kick")

    for i in range(2):
        await say(w.moderator, w.bot_commands, f"!warn {w.member.mention} rude {i}")
    assert [c.case_type for c in await cases(env, w)] == ["WARN", "WARN"]

    await say(w.moderator, w.bot_commands, f"!warn {w.member.mention} rude 2")
    *_, escalated = await cases(env, w)
    assert escalated.case_type == CaseType.TIMEOUT.value
    assert escalated.moderator_id == fish(env).user.id
    assert escalated.reason == "Escalation: 3 warns in 1w → timeout 1h (reached with case #3)"
    assert escalated.expires_at == env.now() + timedelta(hours=1)
    assert w.member.member is not None and w.member.member.is_timed_out()

    # It shows in `cases`, with the threshold that fired.
    await w.moderator.send(w.bot_commands, "!cases view 4")
    shown = w.bot_commands.last_message.embeds[0]
    assert "Timeout" in str(shown.title)
    assert any("Escalation: 3 warns in 1w" in str(f.value) for f in shown.fields)

    await env.advance_time(2 * 3600)  # the timeout ends
    await say(w.moderator, w.bot_commands, f"!warn {w.member.mention} rude 3")
    assert [c.case_type for c in await cases(env, w)][-1] == "WARN"  # 4: no threshold
    await say(w.moderator, w.bot_commands, f"!warn {w.member.mention} rude 4")
    *_, kicked = await cases(env, w)
    assert kicked.case_type == CaseType.KICK.value and "5 warns in 4w 2d → kick" in (
        kicked.reason or ""
    )
    assert w.member.id not in w.guild.member_ids()


async def test_old_warns_outside_the_window_do_not_count(env: simcord.Env, world: World) -> None:
    w = await set_up_moderation(env, world)
    await say(w.admin, w.bot_commands, "!automod escalation add 2 1d timeout 10m")
    await say(w.moderator, w.bot_commands, f"!warn {w.member.mention} one")
    await env.advance_time(2 * DAY)
    await say(w.moderator, w.bot_commands, f"!warn {w.member.mention} two")
    assert [c.case_type for c in await cases(env, w)] == ["WARN", "WARN"]
    await say(w.moderator, w.bot_commands, f"!warn {w.member.mention} three")
    assert [c.case_type for c in await cases(env, w)][-1] == "TIMEOUT"


async def test_automatic_warns_escalate_too(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "words swearing warn words=heck")
    await say(w.admin, w.bot_commands, "!automod escalation add 2 1d ban")
    await w.member.send(w.general, "heck")
    await w.member.send(w.general, "heck again")
    kinds = [c.case_type for c in await cases(env, w)]
    assert kinds == ["WARN", "WARN", "BAN"]
    assert w.guild.get_ban(w.member) is not None


async def test_thresholds_are_validated_and_removable(env: simcord.Env, world: World) -> None:
    w = await set_up_moderation(env, world)
    assert "use one of: timeout, kick, ban" in await say(
        w.admin, w.bot_commands, "!automod escalation add 3 7d warn"
    )
    assert "needs a duration" in await say(
        w.admin, w.bot_commands, "!automod escalation add 3 7d timeout"
    )
    await say(w.admin, w.bot_commands, "!automod escalation add 3 7d kick")
    assert "already a threshold at 3" in await say(
        w.admin, w.bot_commands, "!automod escalation add 3 1d ban"
    )
    assert "3 warns in 1w → kick" in await say(w.admin, w.bot_commands, "!automod escalation show")
    assert "removed" in await say(w.admin, w.bot_commands, "!automod escalation remove 3")
    for _ in range(3):
        await say(w.moderator, w.bot_commands, f"!warn {w.member.mention} x")
    assert [c.case_type for c in await cases(env, w)] == ["WARN"] * 3
    env.errors  # noqa: B018 - the refusals above are acknowledged
