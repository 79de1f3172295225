"""Durations and moments: the one place that parses and formats them.

* :func:`parse_duration` reads what people type ("90s", "5m", "1h30m", "2 hours",
  "1 week 2 days"); :func:`format_duration` writes whole seconds back the same way ("1h 30m").
  A bare number ("5") has no unit and is refused with an example, unless the caller names the
  unit of a bare number (``default_unit``: the settings rules, whose unit is declared).
* :func:`parse_moment` reads a moment: a duration from now (in the future, or ago with
  ``past=True``) or a date and time.
* :func:`leading_duration` and :func:`split_duration` read the duration that starts a command's
  text: the longest run of words that is a duration ("5 days spamming" -> 5 days, "spamming").
* :func:`format_elapsed` writes how long an operation took ("12 ms", "1.25 s").

Used by the settings validator language (``time.*`` rules), moderation (timeouts, temporary
bans, case searches), reminders and the task statistics. Every parse error is a
:class:`ValueError` (more precisely a :class:`DurationError` for durations) whose message shows
an example of a good value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal, TypeVar

from fish_bot.core.text import clip

__all__ = [
    "DURATION_EXAMPLE",
    "MAX_DURATION_SECONDS",
    "MAX_DURATION_WORDS",
    "UNIT_SECONDS",
    "DurationError",
    "format_duration",
    "format_elapsed",
    "leading_duration",
    "looks_like_duration",
    "parse_duration",
    "parse_duration_or_datetime",
    "parse_moment",
    "split_duration",
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

#: Units refused on purpose: their length is not fixed (and ``m`` is minutes).
_VAGUE_UNITS: Final = frozenset(
    ("mo", "mos", "mon", "month", "months", "y", "yr", "yrs", "year", "years")
)

#: How many words :func:`leading_duration` looks at ("1 week 2 days 3 hours 30 minutes").
MAX_DURATION_WORDS: Final[int] = 8

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_BARE_NUMBER: Final = re.compile(_NUMBER)
# One "<number><unit>" part, then an optional separator (",", "and") before the next part.
_PART: Final = re.compile(
    rf"\s*(?P<num>{_NUMBER})\s*(?P<unit>[a-z]+)\s*(?P<sep>(?:,|and\b)\s*)?",
)
_ISO_DATE_START: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What a duration or a date starts with: a digit, a decimal point or a minus sign and a digit.
_DURATION_START: Final = re.compile(r"-?\s*\.?[0-9]")

#: ``invalid``: not a duration; ``no_unit``: a bare number where a unit is needed;
#: ``unknown_unit``: a number with a word that is not a unit of time; ``missing``: the text does
#: not start with a duration at all (:func:`leading_duration`).
T = TypeVar("T")

DurationProblem = Literal["invalid", "no_unit", "unknown_unit", "missing", "negative", "too_long"]


class DurationError(ValueError):
    """A duration could not be parsed; ``problem`` says why (see :data:`DurationProblem`)."""

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


def _no_unit(value: object) -> DurationError:
    number = str(value).strip()
    return DurationError(
        f"{_shown(value)} has no unit (a bare number is never read as seconds): write "
        f"{number}m, {number}h, {number}d or {number} days, {DURATION_EXAMPLE}",
        problem="no_unit",
    )


def _unknown_unit(value: object, unit: str) -> DurationError:
    if unit in _VAGUE_UNITS:
        return DurationError(
            f"{_shown(value)}: months and years have no fixed length; write days or weeks "
            f"(30d, 52w) or a date, {DURATION_EXAMPLE}",
            problem="unknown_unit",
        )
    return DurationError(
        f"{_shown(value)} is not a duration: {_shown(unit)} is not a unit of time; use s, m, "
        f"h, d or w (or second(s), minute(s), hour(s), day(s), week(s)), {DURATION_EXAMPLE}",
        problem="unknown_unit",
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


def parse_duration(text: str | int | float, *, default_unit: str | None = None) -> int:
    """Parse a duration and return it in whole seconds.

    Accepts unit text, case-insensitive: ``"90s"``, ``"5m"``, ``"2h"``, ``"7d"``, ``"1w2d"``,
    ``"1h30m"``, ``"1h 30m"``, ``"5 minutes"``, ``"2 hours"``, ``"1 week 2 days"``,
    ``"2 hours, 30 minutes"``, ``"1 day and 2 hours"``. Units are s, m, h, d and w, with their
    long forms (sec, min, hr, hour(s), day(s), week(s) ...). Months and years are refused (they
    have no fixed length, and ``m`` is minutes): write days, weeks or a date.

    A bare number (``5``, ``"5"``, ``1.5``) has no unit: without ``default_unit`` it is refused
    (``problem="no_unit"``), never read as seconds. ``default_unit`` (one of s, m, h, d, w)
    names the unit of a bare number where the caller declares one (a ``time.minutes`` setting:
    ``5`` is five minutes). The result is rounded to the nearest second.

    Raises :class:`DurationError` (a :class:`ValueError`) with an example of a good value for
    anything else, for negative durations and for durations longer than ten years.
    """
    unit: int | None = None
    if default_unit is not None:
        unit_name = _UNIT_NAMES.get(default_unit.strip().lower())
        if unit_name is None:
            raise ValueError(f"unknown default_unit {default_unit!r}; use one of s, m, h, d, w")
        unit = UNIT_SECONDS[unit_name]

    if isinstance(text, bool):
        raise _invalid(text)
    if isinstance(text, int | float):
        if isinstance(text, float) and not math.isfinite(text):
            raise _invalid(text)
        if unit is None:
            raise _no_unit(text)
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
        if unit is None:
            raise _no_unit(text)
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
                raise _unknown_unit(text, match["unit"])
            if match["sep"] and match["sep"].strip() == "and" and match.end() == len(cleaned):
                raise _invalid(text)  # "5 days and": the "and" belongs to the next words
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

    Accepts whatever :func:`parse_duration` accepts without a default unit (a bare number is
    refused) and ISO dates and date-times:
    ``"2026-12-01 18:00"``, ``"2026-12-01T18:00"``, ``"2026-12-01"`` (midnight), with an
    optional offset (``"Z"``, ``"+02:00"``). A date-time without an offset is in UTC; a naive
    ``now`` is taken as UTC too.

    By default the moment is in the future: a duration counts from ``now`` (``"2h"``: in two
    hours) and a date must be after ``now`` and at most ten years away. With ``past=True`` a
    duration counts back (``"7d"``: seven days ago) and a date must not be after ``now``.

    Raises :class:`ValueError` with an example for anything else (a :class:`DurationError`
    when the text is not a duration, with its ``problem``).
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
            raise DurationError(
                f"{_shown(text)} is not a duration or a date; use {example}"
            ) from None
        raise DurationError(
            f"{exc}; or a date like {example_moment} (UTC)", problem=exc.problem
        ) from None
    if past:
        return (now - timedelta(seconds=seconds)).astimezone(UTC)
    if seconds <= 0:
        raise ValueError(f"the time must be in the future, got {_shown(text)}; use {example}")
    return (now + timedelta(seconds=seconds)).astimezone(UTC)


def parse_duration_or_datetime(text: str | int | float, now: datetime) -> datetime:
    """A moment in the future: :func:`parse_moment` (kept for the callers that use this name)."""
    return parse_moment(text, now)


def looks_like_duration(word: str) -> bool:
    """Whether ``word`` starts the way a duration or a date does (a digit, ``.5``, ``-5``)."""
    return _DURATION_START.match(word.strip()) is not None


def leading_duration(words: Sequence[str], parse: Callable[[str], T]) -> tuple[T, int]:
    """The duration that starts ``words``: ``parse`` of the longest run of leading words it reads.

    ``parse`` is :func:`parse_duration` (seconds) or a :func:`parse_moment` call (a moment).
    Greedy: ``["5", "days", "spamming"]`` gives ``(parse("5 days"), 2)``; ``["1", "week", "2",
    "days"]`` takes all four words; ``["2026-12-01", "18:00", "x"]`` (with :func:`parse_moment`)
    two. At most :data:`MAX_DURATION_WORDS` words are read. Returns the value and how many words
    it took (at least one).

    Raises :class:`DurationError`: ``problem="missing"`` when the first word does not start
    like a duration (``"spamming"``), else the error of what the words meant: a bare number
    followed by a word that is not a unit has no unit (``"5 parsecs"``, ``"10 too loud"``).
    """
    if not words or not looks_like_duration(words[0]):
        raise DurationError(
            f"{_shown(words[0] if words else '')} is not a duration; give a duration first, "
            f"{DURATION_EXAMPLE}",
            problem="missing",
        )
    first_error: ValueError | None = None
    for count in range(min(len(words), MAX_DURATION_WORDS), 0, -1):
        try:
            return parse(" ".join(words[:count])), count
        except ValueError as error:
            first_error = error
    assert first_error is not None
    number = words[0].strip()
    if _BARE_NUMBER.fullmatch(number) and len(words) > 1 and words[1].isalpha():
        unit = words[1].lower()
        if unit in _VAGUE_UNITS:
            try:
                parse(f"{number} {unit}")
            except ValueError as error:
                first_error = error  # months and years: say why they are refused
        elif unit not in _UNIT_NAMES:
            raise DurationError(
                f"{_shown(number)} has no unit ({_shown(words[1])} is not a unit of time; use "
                f"s, m, h, d or w): write {number}m, {number}h, {number}d or {number} days, "
                f"{DURATION_EXAMPLE}",
                problem="unknown_unit",
            )
    if isinstance(first_error, DurationError):
        raise first_error
    raise DurationError(str(first_error)) from None


def split_duration(text: str) -> tuple[int, str]:
    """``"5 days spamming"`` -> ``(432000, "spamming")``: the leading duration and the rest.

    The words of ``text`` are split on whitespace and read by :func:`leading_duration`; the rest
    is the words after the duration, joined by single spaces. Raises :class:`DurationError`.
    """
    words = text.split()
    seconds, count = leading_duration(words, parse_duration)
    return seconds, " ".join(words[count:])
