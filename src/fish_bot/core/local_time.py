"""Moments as people write them in their own time zone: "tomorrow 9:00", "friday 17:30".

Built on the one duration parser (:mod:`fish_bot.core.durations`): a duration ("2 hours") is
read by :func:`~fish_bot.core.durations.parse_duration`; this module adds dates, days and times
of day read in a member's time zone (reminders use it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

from fish_bot.core.durations import (
    _BARE_NUMBER,
    _ISO_DATE_START,
    DurationError,
    _shown,
    parse_duration,
)

__all__ = ["LOCAL_MOMENT_EXAMPLE", "parse_leading_moment", "parse_local_moment"]

#: The example shown with every error of :func:`parse_local_moment`.
LOCAL_MOMENT_EXAMPLE: Final[str] = (
    "e.g. 10m, 2 hours, 1d12h, tomorrow 9:00, friday 17:30 or 2026-12-24 18:00"
)

_WEEKDAYS: Final[dict[str, int]] = {
    **dict.fromkeys(("monday", "mon"), 0),
    **dict.fromkeys(("tuesday", "tue", "tues"), 1),
    **dict.fromkeys(("wednesday", "wed"), 2),
    **dict.fromkeys(("thursday", "thu", "thurs"), 3),
    **dict.fromkeys(("friday", "fri"), 4),
    **dict.fromkeys(("saturday", "sat"), 5),
    **dict.fromkeys(("sunday", "sun"), 6),
}
_CLOCK: Final = re.compile(
    r"(?P<hour>[0-9]{1,2})(?::(?P<minute>[0-9]{2}))?\s*(?P<half>am|pm)?", re.IGNORECASE
)
#: When a day is named without a time ("tomorrow", "friday", "2026-12-24").
_DEFAULT_CLOCK: Final = (9, 0)


def _clock(text: str) -> tuple[int, int] | None:
    """``"17:30"``, ``"9"`` with am/pm, ``"5:30pm"`` -> (hour, minute); None when not a time."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None or (match["minute"] is None and match["half"] is None):
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if match["half"] is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["half"].lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return hour, minute


def _local(day: datetime, clock: tuple[int, int], zone: tzinfo) -> datetime:
    """The moment ``clock`` on ``day``'s date in ``zone``, as aware UTC.

    A time that does not exist (skipped by a daylight-saving change) is read with the offset in
    force before the change, so it lands just after the gap; an ambiguous one is the first.
    """
    local = datetime(day.year, day.month, day.day, clock[0], clock[1], tzinfo=zone)
    return local.astimezone(UTC)


def parse_local_moment(text: str, now: datetime, zone: tzinfo = UTC) -> datetime:
    """A future moment as people write it, in their time zone ``zone``; returns aware UTC.

    * a duration from now: ``"10m"``, ``"2 hours"``, ``"1d12h"``, ``"in 3 days"``
      (a bare number is refused: it has no unit);
    * a date-time or date: ``"2026-12-24 18:00"``, ``"2026-12-24"`` (at 9:00), with an optional
      offset (``"+02:00"``), otherwise in ``zone``;
    * a day and a time: ``"today 18:00"``, ``"tomorrow 9:00"``, ``"tomorrow"`` (9:00),
      ``"friday 17:30"``, ``"fri 5:30pm"``, ``"friday"`` (9:00): the next such day;
    * a time alone: ``"17:30"``, ``"9am"``: its next occurrence (today or tomorrow).

    Raises :class:`ValueError` with an example for anything else and for a moment in the past.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    cleaned = " ".join(text.split()).lower()
    if cleaned.startswith("at "):
        cleaned = cleaned[3:]
    if not cleaned:
        raise ValueError(f"give a time, {LOCAL_MOMENT_EXAMPLE}")
    local_now = now.astimezone(zone)

    if _ISO_DATE_START.match(cleaned):
        try:
            moment = datetime.fromisoformat(cleaned.upper().replace(" ", "T", 1))
        except (ValueError, OverflowError):
            raise ValueError(
                f"{_shown(text)} is not a valid date or time; use {LOCAL_MOMENT_EXAMPLE}"
            ) from None
        if moment.tzinfo is not None:
            found = moment.astimezone(UTC)
        elif len(cleaned) == 10:  # a date alone
            found = _local(moment, _DEFAULT_CLOCK, zone)
        else:
            found = _local(moment, (moment.hour, moment.minute), zone)
        if found <= now:
            raise ValueError(f"{_shown(text)} is in the past; give a future time")
        return found

    day_word, _, rest = cleaned.partition(" ")
    if day_word in ("today", "tomorrow") or day_word in _WEEKDAYS:
        clock = _clock(rest) if rest else _DEFAULT_CLOCK
        if clock is None:
            raise ValueError(f"{_shown(rest)} is not a time of day; use e.g. 9:00 or 5:30pm")
        if day_word == "today":
            found = _local(local_now, clock, zone)
            if found <= now:
                raise ValueError(f"{clock[0]:02d}:{clock[1]:02d} today has already passed")
            return found
        if day_word == "tomorrow":
            return _local(local_now + timedelta(days=1), clock, zone)
        ahead = (_WEEKDAYS[day_word] - local_now.weekday()) % 7
        found = _local(local_now + timedelta(days=ahead), clock, zone)
        return found if found > now else _local(local_now + timedelta(days=ahead or 7), clock, zone)

    clock = _clock(cleaned)
    if clock is not None:
        found = _local(local_now, clock, zone)
        return found if found > now else _local(local_now + timedelta(days=1), clock, zone)

    duration = cleaned[3:] if cleaned.startswith("in ") else cleaned
    if _BARE_NUMBER.fullmatch(duration):
        raise ValueError(
            f"{_shown(text)} has no unit; write e.g. {duration}m, {duration}h or {duration}d"
        )
    try:
        seconds = parse_duration(duration)
    except DurationError as exc:
        if exc.problem == "invalid":
            raise ValueError(f"{_shown(text)} is not a time; use {LOCAL_MOMENT_EXAMPLE}") from None
        raise ValueError(str(exc)) from None
    if seconds <= 0:
        raise ValueError(f"the time must be in the future; use {LOCAL_MOMENT_EXAMPLE}")
    return now + timedelta(seconds=seconds)


def parse_leading_moment(
    text: str, now: datetime, zone: tzinfo = UTC, *, max_words: int = 6
) -> tuple[datetime, str]:
    """Read a moment from the start of ``text``; returns it and the words after it.

    The longest run of leading words that :func:`parse_local_moment` accepts wins, so
    ``"2 hours stretch your legs"`` is two hours and ``"stretch your legs"``. Raises the
    error of the first word alone when no leading words are a moment.
    """
    words = text.split()
    for count in range(min(len(words), max_words), 0, -1):
        try:
            moment = parse_local_moment(" ".join(words[:count]), now, zone)
        except ValueError:
            continue
        return moment, " ".join(words[count:])
    # Nothing fits: "5 parsecs" or "5 tea" (a number without a unit), else the first word's error.
    if len(words) > 1 and _BARE_NUMBER.fullmatch(words[0]):
        number = words[0]
        raise ValueError(
            f"{_shown(' '.join(words[:2]))} is not a time: {number} needs a unit, "
            f"e.g. {number}m, {number}h or {number}d"
        )
    parse_local_moment(words[0] if words else "", now, zone)
    raise ValueError(f"{_shown(text)} does not start with a time; use {LOCAL_MOMENT_EXAMPLE}")
