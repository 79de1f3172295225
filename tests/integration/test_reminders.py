"""Reminders through the real bot: `remind`, `reminders`, delivery on time, once, after restarts.

Virtual time (``env.advance_time``) drives the persisted job scheduler that delivers them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import discord
import pytest
import simcord

from fish_bot.bot import FishBot
from fish_bot.core.views import RoutedView, make_custom_id
from fish_bot.database.models.reminders import Reminder, ReminderStatus

from .conftest import World
from .moderation_helpers import assert_refused, calm_scheduler, fish, restart, say

HOUR = 3600


@pytest.fixture(autouse=True)
def _calm(env: simcord.Env) -> None:
    calm_scheduler(env)


async def stored(env: simcord.Env) -> list[Reminder]:
    rows = await fish(env).db.reminder.find_all()
    return sorted(rows, key=lambda row: row.id or 0)


def deliveries(channel: Any) -> list[Any]:
    """The reminders the bot posted in ``channel``."""
    return [
        m for m in channel.history() if m.author.bot and "you asked me to remind you" in m.content
    ]


def pings(env: simcord.Env, message: Any) -> tuple[bool, list[int], list[int]]:
    """What SimCord resolved the message to ping: (@everyone, role ids, user ids)."""
    sent = env.backend.messages[message.channel.id][message.id]
    return bool(sent.mention_everyone), list(sent.ping_role_ids), list(sent.ping_user_ids)


def cog(env: simcord.Env) -> Any:
    found = fish(env).get_cog("Reminders")
    assert found is not None
    return found


# --- setting one and getting it ---------------------------------------------------------------


async def test_a_reminder_in_words_is_delivered_on_time_once(
    env: simcord.Env, world: World
) -> None:
    reply = await say(world.member, world.general, "!remind 2 hours stretch your legs")

    assert reply.startswith("⏰ Reminder #1 set for <t:")
    [reminder] = await stored(env)
    assert reminder.due_at == env.now() + timedelta(hours=2)
    assert reminder.text == "stretch your legs"

    await env.advance_time(2 * HOUR - 5)
    assert deliveries(world.general) == []
    await env.advance_time(10)
    [delivered] = deliveries(world.general)
    assert delivered.content.startswith(
        f"⏰ {world.member.mention}, you asked me to remind you: stretch your legs"
    )
    assert "Reminder #1 ·" in delivered.content and "late by" not in delivered.content
    assert f"/channels/{world.guild.id}/{world.general.id}/" in delivered.content  # a jump link
    assert pings(env, delivered) == (False, [], [world.member.id])

    await env.advance_time(24 * HOUR)
    assert len(deliveries(world.general)) == 1
    [reminder] = await stored(env)
    assert reminder.status == ReminderStatus.DELIVERED.value


async def test_the_alias_and_compact_durations(env: simcord.Env, world: World) -> None:
    await say(world.member, world.general, "!remindme 1d12h renew the domain")
    [reminder] = await stored(env)
    assert reminder.due_at == env.now() + timedelta(hours=36)
    assert reminder.text == "renew the domain"


async def test_the_text_pings_nobody_but_its_author(env: simcord.Env, world: World) -> None:
    text = f"@everyone {world.member2.mention} {world.mod_role.mention} party"
    await say(world.member, world.general, f"!remind 10m {text}")
    await env.advance_time(601)

    [delivered] = deliveries(world.general)
    assert pings(env, delivered) == (False, [], [world.member.id])


async def test_slash_remind_and_its_errors(env: simcord.Env, world: World) -> None:
    result = await world.member.slash(world.general, "remind me", when="30m", text="tea")
    assert result.response is not None and "Reminder #1 set" in result.response.content

    bad = await world.member.slash(world.general, "remind me", when="5", text="tea")
    assert bad.response is not None and "/remind me" in bad.response.content
    assert_refused(env, bad.response.content, "has no unit")

    words = await world.member.slash(world.general, "remind me", when="soonish", text="tea")
    assert words.response is not None
    assert_refused(env, words.response.content, "is not a time")
    assert len(await stored(env)) == 1


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("!remind 5 tea", "5 needs a unit"),
        ("!remind 5 parsecs tea", "'5 parsecs' is not a time"),
        ("!remind 2h", "What should I remind you of?"),
        ("!remind 2000-01-01 12:00 party", "is in the past"),
        ("!remind 3 years tea", "years"),
        ("!remind 1000d tea", "too far ahead"),
        ("!remind every 30m tea", "at least 1 hour"),
        ("!remind every week tea", "is not an interval"),
    ],
)
async def test_bad_times_are_refused_with_an_example(
    env: simcord.Env, world: World, text: str, answer: str
) -> None:
    reply = await say(world.member, world.general, text)

    assert_refused(env, reply, answer)
    assert await stored(env) == []


async def test_more_than_the_pending_limit_is_refused(env: simcord.Env, world: World) -> None:
    await cog(env).set_setting("max_pending", 3, world.guild.id)
    for number in range(3):
        await say(world.member, world.general, f"!remind {number + 1}h tea {number}")

    reply = await say(world.member, world.general, "!remind 4h one too many")

    assert_refused(env, reply, "You already have 3 reminders waiting")
    assert len(await stored(env)) == 3
    # Another member has their own allowance.
    assert "set for" in await say(world.member2, world.general, "!remind 4h mine")


async def test_too_long_a_text_is_refused(env: simcord.Env, world: World) -> None:
    reply = await say(world.member, world.general, "!remind 1h " + "x" * 1600)
    assert_refused(env, reply, "at most 1500 characters")
    assert await stored(env) == []


# --- time zones --------------------------------------------------------------------------------


async def test_absolute_times_are_read_in_the_members_time_zone(
    env: simcord.Env, world: World
) -> None:
    reply = await say(world.member, world.general, "!remind timezone europe/berlin")
    assert "Europe/Berlin" in reply
    year = env.now().year + 1
    berlin = ZoneInfo("Europe/Berlin")

    await say(world.member, world.general, f"!remind {year}-01-15 18:00 winter")
    await say(world.member, world.general, f"!remind {year}-07-15 18:00 summer")
    # 02:30 does not exist on the morning clocks go forward: it lands just after the gap.
    await say(world.member, world.general, f"!remind {year}-03-28 02:30 gap")

    winter, summer, gap = await stored(env)
    assert winter.due_at == datetime(year, 1, 15, 17, 0, tzinfo=UTC)  # CET, UTC+1
    assert summer.due_at == datetime(year, 7, 15, 16, 0, tzinfo=UTC)  # CEST, UTC+2
    assert gap.due_at == datetime(year, 3, 28, 1, 30, tzinfo=UTC)
    assert gap.due_at.astimezone(berlin).hour == 3


async def test_tomorrow_and_a_weekday_in_the_time_zone(env: simcord.Env, world: World) -> None:
    await say(world.member, world.general, "!remind timezone America/New_York")
    await say(world.member, world.general, "!remind tomorrow 9:00 call the bank")
    await say(world.member, world.general, "!remind friday 5:30pm go home")

    tomorrow, friday = await stored(env)
    zone = ZoneInfo("America/New_York")
    local_now = env.now().astimezone(zone)
    due = tomorrow.due_at.astimezone(zone)
    assert (due.date(), due.hour, due.minute) == (
        (local_now + timedelta(days=1)).date(),
        9,
        0,
    )
    assert tomorrow.text == "call the bank"
    due = friday.due_at.astimezone(zone)
    assert (due.weekday(), due.hour, due.minute) == (4, 17, 30)
    assert timedelta(0) < friday.due_at - env.now() <= timedelta(days=7)
    assert friday.text == "go home"


async def test_an_unknown_time_zone_is_refused(env: simcord.Env, world: World) -> None:
    reply = await say(world.member, world.general, "!remind timezone Mars/Olympus")
    assert "Europe/Berlin" in reply
    assert_refused(env, reply, "is not a time zone")
    reply = await say(world.member, world.general, "!remind timezone ../../etc/passwd")
    assert_refused(env, reply, "is not a time zone")
    shown = await say(world.member, world.general, "!remind timezone")
    assert "UTC" in shown


# --- repeating --------------------------------------------------------------------------------


async def test_a_repeating_reminder_comes_back_until_cancelled(
    env: simcord.Env, world: World
) -> None:
    reply = await say(world.member, world.general, "!remind every 2 hours drink water")
    assert "then every 2h" in reply

    await env.advance_time(2 * HOUR + 1)
    await env.advance_time(2 * HOUR)
    first, second = deliveries(world.general)
    assert "Reminder #1 (1) ·" in first.content and "Reminder #1 (2) ·" in second.content
    assert "repeats every 2h" in first.content

    assert "is cancelled" in await say(world.member, world.general, "!reminders cancel 1")
    await env.advance_time(6 * HOUR)
    assert len(deliveries(world.general)) == 2


# --- the list, cancelling, privacy ------------------------------------------------------------


async def test_reminders_are_listed_by_dm_and_only_the_owner_can_cancel(
    env: simcord.Env, world: World
) -> None:
    await say(world.member, world.general, "!remind 1h first thing")
    await say(world.member, world.general, "!remind 2h second thing")

    reply = await say(world.member, world.general, "!reminders")
    assert "direct message" in reply
    [listing] = list(world.member.user.dm_channel.history())
    description = listing.embeds[0].description
    assert "first thing" in description and "second thing" in description
    assert "second thing" not in "".join(m.content for m in world.general.history() if m.author.bot)

    # Someone else cannot cancel it, by command or by a forged button.
    refused = await say(world.member2, world.general, "!reminders cancel 1")
    assert_refused(env, refused, "You have no reminder #1")
    assert (await stored(env))[0].status == ReminderStatus.PENDING.value

    clicked = await world.member.user.click(listing, label="Cancel #1")
    assert clicked is not None
    [first, second] = await stored(env)
    assert first.status == ReminderStatus.CANCELLED.value
    assert second.status == ReminderStatus.PENDING.value
    await env.advance_time(3 * HOUR)
    assert [m.content.split(": ", 1)[1].split("\n")[0] for m in deliveries(world.general)] == [
        "second thing"
    ]


async def test_a_forged_cancel_button_naming_another_member_changes_nothing(
    env: simcord.Env, world: World
) -> None:
    """A component's member argument must be the member who clicks (issue 16): member2 clicks
    a button the bot posted in #general that names member's reminder, and nothing happens."""
    await say(world.member, world.general, "!remind 1h first thing")
    channel = fish(env).get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    custom_id = make_custom_id("reminders", "cancel", world.member.id, 1, 1)
    button: discord.ui.Button[Any] = discord.ui.Button(label="Forged", custom_id=custom_id)
    forged = await channel.send("forged", view=RoutedView(button))

    result = await world.member2.click(forged, label="Forged")
    assert result.response is not None and result.response.ephemeral
    assert result.response.content == "This button is no longer supported."
    [reminder] = await stored(env)
    assert reminder.status == ReminderStatus.PENDING.value
    # The same button works for the member it names.
    result = await world.member.click(forged, label="Forged")
    assert result.response is not None
    [reminder] = await stored(env)
    assert reminder.status == ReminderStatus.CANCELLED.value


async def test_slash_list_is_ephemeral_and_clear_cancels_all(
    env: simcord.Env, world: World
) -> None:
    for hours in (1, 2, 3):
        await say(world.member, world.general, f"!remind {hours}h thing {hours}")

    listed = await world.member.slash(world.general, "reminders list")
    assert listed.response is not None and listed.response.ephemeral
    assert "thing 1" in listed.response.embeds[0].description

    cleared = await say(world.member, world.general, "!reminders clear")
    assert "Cancelled 3 reminders" in cleared
    await env.advance_time(4 * HOUR)
    assert deliveries(world.general) == []


async def test_the_list_pages_with_buttons(env: simcord.Env, world: World) -> None:
    for hours in range(1, 8):
        await say(world.member, world.general, f"!remind {hours}h item {hours}")

    await say(world.member, world.general, "!reminders")
    [listing] = list(world.member.user.dm_channel.history())
    assert "item 1" in listing.embeds[0].description
    assert "item 6" not in listing.embeds[0].description
    await world.member.user.click(listing, label="Next")
    [listing] = list(world.member.user.dm_channel.history())
    assert "item 6" in listing.embeds[0].description
    assert listing.embeds[0].footer.text.startswith("Page 2 of 2")


# --- where it goes ----------------------------------------------------------------------------


async def test_dm_delivery_when_chosen_and_when_the_channel_is_gone(
    env: simcord.Env, world: World
) -> None:
    await say(world.member, world.general, "!remind dm on")
    await say(world.member, world.general, "!remind 1h by dm")
    await say(world.member2, world.bot_commands, "!remind 1h channel gone")
    env.backend.delete_channel(world.bot_commands.id)
    await env.settle()

    await env.advance_time(HOUR + 1)

    assert deliveries(world.general) == []
    assert [m.content for m in world.member.user.dm_channel.history() if "by dm" in m.content]
    assert [
        m.content for m in world.member2.user.dm_channel.history() if "channel gone" in m.content
    ]


async def test_a_reminder_nobody_can_take_is_marked_failed(env: simcord.Env, world: World) -> None:
    await say(world.member, world.general, "!remind 1h undeliverable")
    env.inject_error("POST", "/channels/*/messages", status=403, code=50013, times=None)

    await env.advance_time(HOUR + 1)

    [reminder] = await stored(env)
    assert reminder.status == ReminderStatus.FAILED.value
    assert reminder.last_error
    env.backend.faults.clear()
    listed = await world.member.slash(world.general, "reminders list")
    assert listed.response is not None
    assert "Not delivered" in listed.response.embeds[0].description


async def test_reminders_work_in_direct_messages(env: simcord.Env, world: World) -> None:
    user = world.member.user
    await user.send_dm("!remind 1h from my dms")
    [reminder] = await stored(env)
    assert reminder.guild_id is None

    await env.advance_time(HOUR + 1)

    assert [m for m in user.dm_channel.history() if "from my dms" in m.content and m.author.bot]


# --- restarts ---------------------------------------------------------------------------------


async def test_a_reminder_survives_a_restart(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    await say(world.member, world.general, "!remind 1h after restart")
    await restart(env, make_bot)

    await env.advance_time(HOUR + 1)

    assert len(deliveries(world.general)) == 1


async def test_a_reminder_due_while_the_bot_was_down_is_late_and_says_so(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot]
) -> None:
    await say(world.member, world.general, "!remind 1h while down")
    await fish(env).scheduler.stop()
    await env.advance_time(3 * HOUR)
    assert deliveries(world.general) == []

    await restart(env, make_bot)

    [delivered] = deliveries(world.general)
    assert "late by 2h" in delivered.content
    await restart(env, make_bot)
    await env.advance_time(HOUR)
    assert len(deliveries(world.general)) == 1


async def test_an_interrupted_delivery_is_not_sent_twice(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot], monkeypatch: Any
) -> None:
    """The process dies between posting the reminder and recording it: after the restart the
    job runs again, finds its message, and records it without posting a second one."""
    await say(world.member, world.general, "!remind 1h exactly once")
    reminders_cog = cog(env)

    async def crash(*args: Any) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(reminders_cog, "_record", crash)
    env.check_errors = False
    await env.advance_time(HOUR + 1)
    assert len(deliveries(world.general)) == 1
    [reminder] = await stored(env)
    assert reminder.status == ReminderStatus.PENDING.value and reminder.sending_at is not None

    await restart(env, make_bot)
    await env.advance_time(2 * HOUR)

    assert len(deliveries(world.general)) == 1
    [reminder] = await stored(env)
    assert reminder.status == ReminderStatus.DELIVERED.value
