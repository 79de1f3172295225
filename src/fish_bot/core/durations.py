"""Durations and moments: the one place that parses and formats them.

* :func:`parse_duration` reads what people type ("90s", "5m", "1h30m", "2 hours");
  :func:`format_duration` writes whole seconds back the same way ("1h 30m").
* :func:`parse_moment` reads a moment: a duration from now (in the future, or ago with
  ``past=True``) or a date and time.
* :func:`format_elapsed` writes how long an operation took ("12 ms", "1.25 s").

Used by the settings validator language (``time.*`` rules), moderation (timeouts, temporary
bans, case searches), reminders and the task statistics. Every parse error is a
:class:`ValueError` (more precisely a :class:`DurationError` for durations) whose message shows
an example of a good value.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from fish_bot.core.text import clip

__all__ = [
    "DURATION_EXAMPLE",
    "LOCAL_MOMENT_EXAMPLE",
    "MAX_DURATION_SECONDS",
    "UNIT_SECONDS",
    "DurationError",
    "format_duration",
    "format_elapsed",
    "parse_duration",
    "parse_duration_or_datetime",
    "parse_leading_moment",
    "parse_local_moment",
    "parse_moment",
]

#: Seconds in one of each unit letter.
UNIT_SECONDS: Final[dict[str, int]] = {
    "w": 7 * 24 * 3600,
    "d": 24 * 3600,
    "h": 3600,
    "m": 60,
    "s": 1,
}

#: The longest duration accepted: ten years of 365 days.
MAX_DURATION_SECONDS: Final[int] = 10 * 365 * 24 * 3600

#: The example appended to every error message.
DURATION_EXAMPLE: Final[str] = "e.g. 30m, 2h, 7d or 1w2d"

_UNIT_NAMES: Final[dict[str, str]] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "w"),
}

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_BARE_NUMBER: Final = re.compile(_NUMBER)
# One "<number><unit>" part, then an optional separator (",", "and") before the next part.
_PART: Final = re.compile(
    rf"\s*(?P<num>{_NUMBER})\s*(?P<unit>[a-z]+)\s*(?:(?:,|and\b)\s*)?",
)
_ISO_DATE_START: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

DurationProblem = Literal["invalid", "negative", "too_long"]


class DurationError(ValueError):
    """A duration could not be parsed; ``problem`` says why (invalid, negative or too long)."""

    def __init__(self, message: str, *, problem: DurationProblem = "invalid") -> None:
        super().__init__(message)
        self.problem: DurationProblem = problem


def _shown(value: object, limit: int = 40) -> str:
    """``repr(value)``, shortened so error messages stay short."""
    try:
        text = repr(value)
    except Exception:  # e.g. an int too large to print
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def _invalid(value: object) -> DurationError:
    return DurationError(
        f"{_shown(value)} is not a duration; use a number with a unit (s, m, h, d or w), "
        f"{DURATION_EXAMPLE}"
    )


def _checked_seconds(amount: Decimal, original: object) -> int:
    """Round ``amount`` (seconds) to whole seconds and apply the sign and size limits."""
    if amount < 0:
        raise DurationError(
            f"a duration cannot be negative, got {_shown(original)}; use {DURATION_EXAMPLE}",
            problem="negative",
        )
    if amount > MAX_DURATION_SECONDS:
        raise DurationError(
            f"{_shown(original)} is too long (at most 10 years); use {DURATION_EXAMPLE}",
            problem="too_long",
        )
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def parse_duration(text: str | int | float, *, default_unit: str = "s") -> int:
    """Parse a duration and return it in whole seconds.

    Accepts a number of seconds (``90``, ``1.5``, ``"90"``) and unit text, case-insensitive:
    ``"90s"``, ``"5m"``, ``"2h"``, ``"7d"``, ``"1w2d"``, ``"1h30m"``, ``"1h 30m"``,
    ``"5 minutes"``, ``"2 hours, 30 minutes"``, ``"1 day and 2 hours"``. Units are s, m, h, d and
    w, with their long forms (sec, min, hr, hour(s), day(s), week(s) ...).

    ``default_unit`` (one of s, m, h, d, w) is the unit of a bare number: with
    ``default_unit="m"``, ``5`` and ``"5"`` mean five minutes. The result is rounded to the
    nearest second.

    Raises :class:`DurationError` (a :class:`ValueError`) with an example of a good value for
    anything else, for negative durations and for durations longer than ten years.
    """
    unit_name = _UNIT_NAMES.get(default_unit.strip().lower()) if default_unit else None
    if unit_name is None:
        raise ValueError(f"unknown default_unit {default_unit!r}; use one of s, m, h, d, w")
    unit = UNIT_SECONDS[unit_name]

    if isinstance(text, bool):
        raise _invalid(text)
    if isinstance(text, int):
        return _checked_seconds(Decimal(text) * unit, text)
    if isinstance(text, float):
        if not math.isfinite(text):
            raise _invalid(text)
        return _checked_seconds(Decimal(text) * unit, text)
    if not isinstance(text, str):
        raise _invalid(text)

    cleaned = text.strip().lower()
    negative = cleaned.startswith("-")
    if negative:
        cleaned = cleaned[1:].lstrip()
    if not cleaned:
        raise _invalid(text)

    if _BARE_NUMBER.fullmatch(cleaned):
        total = Decimal(cleaned) * unit
    else:
        total = Decimal(0)
        pos = 0
        while pos < len(cleaned):
            match = _PART.match(cleaned, pos)
            if match is None:
                raise _invalid(text)
            letter = _UNIT_NAMES.get(match["unit"])
            if letter is None:
                raise _invalid(text)
            total += Decimal(match["num"]) * UNIT_SECONDS[letter]
            pos = match.end()
    return _checked_seconds(-total if negative else total, text)


def format_duration(seconds: int) -> str:
    """Format whole seconds as short text: ``"1h 30m"``, ``"2d"``, ``"1w 2d"``, ``"45s"``, ``"0s"``.

    The result parses back with :func:`parse_duration`. Raises :class:`ValueError` for negative
    values.
    """
    remaining = int(seconds)
    if remaining < 0:
        raise ValueError(f"a duration cannot be negative, got {_shown(seconds)}")
    if remaining == 0:
        return "0s"
    parts: list[str] = []
    for letter, size in UNIT_SECONDS.items():
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{letter}")
    return " ".join(parts)


def format_elapsed(seconds: float) -> str:
    """How long something took: ``"<1 ms"``, ``"12 ms"``, ``"1.25 s"``, ``"2 min 5 s"``."""
    if seconds < 0.001:
        return "<1 ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def parse_moment(text: str | int | float, now: datetime, *, past: bool = False) -> datetime:
    """Parse a moment: a duration from ``now`` or an absolute date-time; returns aware UTC.

    Accepts whatever :func:`parse_duration` accepts and ISO dates and date-times:
    ``"2026-12-01 18:00"``, ``"2026-12-01T18:00"``, ``"2026-12-01"`` (midnight), with an
    optional offset (``"Z"``, ``"+02:00"``). A date-time without an offset is in UTC; a naive
    ``now`` is taken as UTC too.

    By default the moment is in the future: a duration counts from ``now`` (``"2h"``: in two
    hours) and a date must be after ``now`` and at most ten years away. With ``past=True`` a
    duration counts back (``"7d"``: seven days ago) and a date must not be after ``now``.

    Raises :class:`ValueError` with an example for anything else.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if past:
        example_moment = (now - timedelta(days=7)).astimezone(UTC).strftime("%Y-%m-%d")
        example = f"e.g. 7d or 12h (that long ago) or a date like {example_moment}"
    else:
        example_moment = (now + timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        example = f"e.g. 30m, 2h, 7d, 1w2d or {example_moment} (UTC)"

    if isinstance(text, str) and _ISO_DATE_START.match(text.strip()):
        try:
            moment = datetime.fromisoformat(text.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            moment = moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise ValueError(f"{_shown(text)} is not a valid date or time; use {example}") from None
        if past:
            if moment > now:
                raise ValueError(f"{_shown(text)} is in the future; give a past time, {example}")
            return moment
        if moment <= now:
            raise ValueError(f"{_shown(text)} is in the past; give a future time, {example}")
        if moment - now > timedelta(seconds=MAX_DURATION_SECONDS):
            raise ValueError(f"{_shown(text)} is more than 10 years away; use {example}")
        return moment

    try:
        seconds = parse_duration(text)
    except DurationError as exc:
        if exc.problem == "invalid":
            raise ValueError(f"{_shown(text)} is not a duration or a date; use {example}") from None
        raise ValueError(f"{exc}; or a date like {example_moment} (UTC)") from None
    if past:
        return (now - timedelta(seconds=seconds)).astimezone(UTC)
    if seconds <= 0:
        raise ValueError(f"the time must be in the future, got {_shown(text)}; use {example}")
    return (now + timedelta(seconds=seconds)).astimezone(UTC)


def parse_duration_or_datetime(text: str | int | float, now: datetime) -> datetime:
    """A moment in the future: :func:`parse_moment` (kept for the callers that use this name)."""
    return parse_moment(text, now)


# --- moments written in a member's time zone (reminders) ------------------------------------

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
