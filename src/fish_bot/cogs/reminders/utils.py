"""Reading what `remind` was given, time zones, and how a delivered reminder reads."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

import discord

from fish_bot.cogs.reminders.constants import LATE_AFTER_SECONDS, MAX_TEXT, MIN_REPEAT_SECONDS
from fish_bot.core.durations import (
    DurationError,
    format_duration,
    parse_duration,
)
from fish_bot.core.local_time import parse_leading_moment, parse_local_moment
from fish_bot.core.text import plain
from fish_bot.database.models.reminders import Reminder
from fish_bot.exceptions import UserFacingError

#: A bare number: a duration needs a unit.
_BARE = re.compile(r"[0-9]+(?:\.[0-9]*)?")
#: What an IANA time zone name looks like (checked before zoneinfo opens any file).
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")


@dataclass(frozen=True)
class Plan:
    """When a reminder is due, how often it repeats (seconds, or None), and its text."""

    due: datetime
    repeat_seconds: int | None
    text: str


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> str:
    """The IANA time zone called ``name`` (any case), as it is spelt; refused otherwise."""
    cleaned = name.strip()
    if _ZONE_NAME.fullmatch(cleaned) and len(cleaned) <= 64:
        by_lower = {zone.lower(): zone for zone in _zone_names()}
        found = by_lower.get(cleaned.lower())
        if found is not None:
            return found
    raise UserFacingError(
        f"`{plain(name, 64)}` is not a time zone; use an IANA name such as Europe/Berlin, "
        "America/New_York or Asia/Tokyo (see "
        "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)."
    )


def zone_of(name: str | None) -> tzinfo:
    """The time zone of a stored name (UTC when there is none or it is no longer known)."""
    if not name:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _interval(words: list[str]) -> tuple[int, int]:
    """The longest leading run of ``words`` that is a duration: (seconds, words used)."""
    for count in range(min(len(words), 6), 0, -1):
        candidate = " ".join(words[:count])
        if _BARE.fullmatch(candidate):
            continue
        try:
            return parse_duration(candidate), count
        except DurationError:
            continue
    shown = plain(words[0], 40) if words else ""
    raise UserFacingError(
        f"`every {shown}` is not an interval; write e.g. `every 1d`, `every 12 hours` or "
        "`every 1w`."
    )


def plan_reminder(
    when: str, text: str | None, now: datetime, zone: tzinfo, *, example: str
) -> Plan:
    """Read ``when`` (and ``text``); with ``text`` None, ``when`` holds both, time first.

    Refuses, with ``example``, what is not a time, a time in the past, a repeat shorter than an
    hour and an empty text.
    """
    words = when.split()
    if words and words[0].lower() == "every":
        rest = words[1:] + (text.split() if text is not None else [])
        seconds, used = _interval(rest)
        if text is not None and used != len(words) - 1:
            raise UserFacingError(f"`{plain(when, 60)}` is not an interval; e.g. `every 1d`.")
        if seconds < MIN_REPEAT_SECONDS:
            raise UserFacingError(
                f"A repeating reminder needs at least 1 hour between reminders, not "
                f"{format_duration(seconds)}."
            )
        reminder_text = " ".join(rest[used:]) if text is None else text
        return Plan(now + timedelta(seconds=seconds), seconds, _text(reminder_text, example))
    try:
        if text is None:
            due, reminder_text = parse_leading_moment(when, now, zone)
        else:
            due, reminder_text = parse_local_moment(when, now, zone), text
    except ValueError as error:
        raise UserFacingError(f"❌ {error}. For example: {example}") from None
    return Plan(due, None, _text(reminder_text, example))


def _text(text: str, example: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise UserFacingError(f"What should I remind you of? For example: {example}")
    if len(cleaned) > MAX_TEXT:
        raise UserFacingError(
            f"A reminder can be at most {MAX_TEXT} characters; this one is {len(cleaned)}."
        )
    return cleaned


def marker(reminder: Reminder) -> str:
    """The line that identifies a delivery (and lets an interrupted one be found again)."""
    if reminder.repeat_seconds:
        return f"Reminder #{reminder.id} ({reminder.occurrence + 1})"
    return f"Reminder #{reminder.id}"


def origin_link(reminder: Reminder) -> str | None:
    """A link to the message that set the reminder (or its channel, for a slash command)."""
    if reminder.guild_id is None:
        return None
    base = f"https://discord.com/channels/{reminder.guild_id}/{reminder.channel_id}"
    return f"{base}/{reminder.message_id}" if reminder.message_id else base


def delivery_text(reminder: Reminder, now: datetime) -> str:
    """What the delivered reminder says: the author's mention, the text, then one small line."""
    details = [marker(reminder), f"set {discord.utils.format_dt(reminder.created_at, 'R')}"]
    link = origin_link(reminder)
    if link is not None:
        details.append(f"[jump]({link})")
    late = (now - reminder.due_at).total_seconds()
    if late >= LATE_AFTER_SECONDS:
        details.append(f"late by {format_duration(int(late) // 60 * 60)}: I was offline")
    if reminder.repeat_seconds:
        details.append(f"repeats every {format_duration(reminder.repeat_seconds)}")
    return (
        f"⏰ <@{reminder.member_id}>, you asked me to remind you: {reminder.text}\n"
        f"-# {' · '.join(details)}"
    )


def next_due(reminder: Reminder, now: datetime) -> datetime:
    """The next occurrence of a repeating reminder after ``now`` (missed ones are skipped)."""
    assert reminder.repeat_seconds
    step = timedelta(seconds=reminder.repeat_seconds)
    due = reminder.due_at + step
    if due <= now:
        missed = (now - due) // step + 1
        due += step * missed
    return due
