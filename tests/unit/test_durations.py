"""Duration parsing and formatting (fish_bot.core.durations)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fish_bot.core.durations import (
    MAX_DURATION_SECONDS,
    DurationError,
    format_duration,
    format_elapsed,
    leading_duration,
    parse_duration,
    parse_duration_or_datetime,
    parse_moment,
    split_duration,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("2h", 7200),
        ("7d", 604_800),
        ("1w", 604_800),
        ("1w2d", 777_600),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("1H30M", 5400),
        ("5 minutes", 300),
        ("1 minute", 60),
        ("2 hours", 7200),
        ("1 day", 86_400),
        ("3 weeks", 1_814_400),
        ("10 sec", 10),
        ("2 hrs, 15 mins", 8100),
        ("1 hour and 30 minutes", 5400),
        ("1.5h", 5400),
        ("0s", 0),
        ("5 days", 432_000),
        ("5d", 432_000),
        ("90m", 5400),
        ("1 week 2 days", 777_600),
        ("1 week, 2 days and 3 hours", 788_400),
        ("2 HOURS", 7200),
    ],
)
def test_parse_duration_accepts(text: str | int | float, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("value", [90, 0, 2.5, "90", " 90 ", "1.5", "-90"])
def test_parse_duration_refuses_a_bare_number_with_an_example(value: str | int | float) -> None:
    with pytest.raises(
        DurationError, match=r"has no unit.*never read as seconds.*e\.g\. 30m"
    ) as info:
        parse_duration(value)
    assert info.value.problem == "no_unit"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90), (0, 0), (2.4, 2), (2.5, 3), ("90", 90), (" 90 ", 90)],
)
def test_parse_duration_reads_a_bare_number_in_the_declared_unit(
    value: str | int | float, seconds: int
) -> None:
    assert parse_duration(value, default_unit="s") == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5 parsecs", "'parsecs' is not a unit of time"),
        ("5x", "'x' is not a unit of time"),
        ("1 month", "months and years have no fixed length"),
        ("2y", "months and years have no fixed length"),
        ("3 mo", "months and years have no fixed length"),
    ],
)
def test_parse_duration_names_the_unit_it_does_not_know(text: str, message: str) -> None:
    with pytest.raises(DurationError, match=message) as info:
        parse_duration(text)
    assert info.value.problem == "unknown_unit"
    assert "e.g. 30m, 2h, 7d or 1w2d" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "5x",
        "1h30",
        "h",
        "5 lightyears",
        "1..5h",
        "1e3",
        "5m-",
        "∞",
        "٣m",
        "5 days and",
        "5 days spamming",
    ],
)
def test_parse_duration_refuses_garbage_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 30m, 2h, 7d or 1w2d") as info:
        parse_duration(text)
    assert isinstance(info.value, DurationError)
    assert info.value.problem in ("invalid", "unknown_unit")


@pytest.mark.parametrize("value", [True, False, None, [1], float("nan"), float("inf")])
def test_parse_duration_refuses_other_types(value: object) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 30m"):
        parse_duration(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, -0.5, "-5m", "-90", "- 1h"])
def test_parse_duration_refuses_negative(value: str | int | float) -> None:
    with pytest.raises(DurationError, match=r"cannot be negative.*e\.g\. 30m") as info:
        parse_duration(value, default_unit="s")
    assert info.value.problem == "negative"


@pytest.mark.parametrize("value", [MAX_DURATION_SECONDS + 1, "3651d", "99999999999w", "9" * 5000])
def test_parse_duration_refuses_absurd_sizes(value: str | int) -> None:
    with pytest.raises(DurationError, match=r"too long.*e\.g\. 30m") as info:
        parse_duration(value, default_unit="s")
    assert info.value.problem == "too_long"


def test_parse_duration_accepts_the_limit() -> None:
    assert parse_duration(MAX_DURATION_SECONDS, default_unit="s") == MAX_DURATION_SECONDS
    assert parse_duration("3650d") == MAX_DURATION_SECONDS


def test_parse_duration_default_unit_applies_to_bare_numbers_only() -> None:
    assert parse_duration(5, default_unit="m") == 300
    assert parse_duration("5", default_unit="m") == 300
    assert parse_duration(1.5, default_unit="h") == 5400
    assert parse_duration("30s", default_unit="m") == 30
    with pytest.raises(ValueError, match="default_unit"):
        parse_duration(5, default_unit="parsec")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (5400, "1h 30m"),
        (172_800, "2d"),
        (777_600, "1w 2d"),
        (90_061, "1d 1h 1m 1s"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=MAX_DURATION_SECONDS))
def test_format_then_parse_round_trips(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@settings(max_examples=200)
@given(st.text(max_size=30) | st.text(alphabet="0123456789.smhdw -,and", max_size=20))
def test_parse_duration_only_raises_value_error(text: str) -> None:
    try:
        result = parse_duration(text)
    except ValueError:
        return
    assert isinstance(result, int)
    assert 0 <= result <= MAX_DURATION_SECONDS


# --- parse_duration_or_datetime ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW + timedelta(hours=2)),
        ("1w2d", NOW + timedelta(days=9)),
        ("90 seconds", NOW + timedelta(seconds=90)),
        ("5 days", NOW + timedelta(days=5)),
        ("2026-12-01 18:00", datetime(2026, 12, 1, 18, 0, tzinfo=UTC)),
        ("2026-12-01T18:00", datetime(2026, 12, 1, 18, 0, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01T18:00:30Z", datetime(2026, 12, 1, 18, 0, 30, tzinfo=UTC)),
        ("2026-12-01T18:00+02:00", datetime(2026, 12, 1, 16, 0, tzinfo=UTC)),
    ],
)
def test_parse_duration_or_datetime_accepts(text: str | int, expected: datetime) -> None:
    result = parse_duration_or_datetime(text, NOW)
    assert result == expected
    assert result.tzinfo is not None
    assert result.utcoffset() == timedelta(0)


def test_parse_duration_or_datetime_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_duration_or_datetime("1h", naive) == NOW + timedelta(hours=1)


def test_parse_duration_or_datetime_converts_other_zones_of_now() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=2)))
    assert parse_duration_or_datetime("2026-12-01 18:00", paris) == datetime(
        2026, 12, 1, 18, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-01-01 10:00", "in the past"),
        ("2026-06-01 12:00", "in the past"),
        ("0s", "in the future"),
        ("-5m", "negative"),
        ("tomorrow", "not a duration or a date"),
        ("2026-13-01", "not a valid date"),
        ("2040-01-01", "more than 10 years"),
        ("11000d", "too long"),
        ("90", "has no unit"),
        ("5 parsecs", "'parsecs' is not a unit of time"),
    ],
)
def test_parse_duration_or_datetime_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_duration_or_datetime(text, NOW)
    assert "e.g." in str(info.value) or "2026-06-02 12:00" in str(info.value)


# --- parse_moment -------------------------------------------------------------------------


def test_parse_moment_is_in_the_future_by_default() -> None:
    assert parse_moment("2h", NOW) == NOW + timedelta(hours=2)
    assert parse_moment("2026-12-01", NOW) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_duration_or_datetime("2h", NOW) == parse_moment("2h", NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("0s", NOW),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2026-06-01T13:00+02:00", datetime(2026, 6, 1, 11, 0, tzinfo=UTC)),
    ],
)
def test_parse_moment_in_the_past(text: str, expected: datetime) -> None:
    assert parse_moment(text, NOW, past=True) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-01-01", "in the future"),
        ("yesterday", "not a duration or a date"),
        ("²d", "not a duration or a date"),
        ("9999-12-31T23:59-05:00", "not a valid date"),
        ("0001-01-01T00:00+01:00", "not a valid date"),
        ("-5m", "negative"),
    ],
)
def test_parse_moment_in_the_past_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_moment(text, NOW, past=True)
    assert "e.g." in str(info.value) or "2026-05-25" in str(info.value)


def test_parse_moment_refuses_dates_beyond_what_datetime_holds() -> None:
    with pytest.raises(ValueError, match="not a valid date"):
        parse_moment("9999-12-31T23:59-05:00", NOW)


@given(st.text(max_size=40))
@settings(max_examples=300)
def test_parse_moment_only_raises_value_error(text: str) -> None:
    for past in (False, True):
        try:
            result = parse_moment(text, NOW, past=past)
        except ValueError:
            continue
        assert result.tzinfo is not None


# --- format_elapsed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0001, "<1 ms"),
        (0.012, "12 ms"),
        (1.25, "1.25 s"),
        (125, "2 min 5 s"),
        (7260, "2 h 1 min"),
    ],
)
def test_format_elapsed(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


# --- leading durations (the words a command starts with) -----------------------------------


@pytest.mark.parametrize(
    ("text", "seconds", "rest"),
    [
        ("5 days spamming", 432_000, "spamming"),
        ("2 hours spamming", 7200, "spamming"),
        ("5d spamming links", 432_000, "spamming links"),
        ("1h30m", 5400, ""),
        ("1 week 2 days raid", 777_600, "raid"),
        ("90m be nice", 5400, "be nice"),
        ("1h 30m 2", 5400, "2"),
        ("5 days and more", 432_000, "and more"),
        ("7d --silent", 604_800, "--silent"),
    ],
)
def test_split_duration_takes_the_longest_leading_duration(
    text: str, seconds: int, rest: str
) -> None:
    assert split_duration(text) == (seconds, rest)


@pytest.mark.parametrize(
    ("text", "problem", "message"),
    [
        ("spamming 5d", "missing", "give a duration first"),
        ("", "missing", "give a duration first"),
        ("5 parsecs", "unknown_unit", r"'5' has no unit \('parsecs' is not a unit of time"),
        ("10 too loud", "unknown_unit", r"'10' has no unit \('too' is not a unit of time"),
        ("3 months x", "unknown_unit", "months and years have no fixed length"),
        ("5", "no_unit", "has no unit"),
        ("5 --silent", "no_unit", "has no unit"),
        ("-5m rude", "negative", "cannot be negative"),
    ],
)
def test_split_duration_refuses(text: str, problem: str, message: str) -> None:
    with pytest.raises(DurationError, match=message) as info:
        split_duration(text)
    assert info.value.problem == problem


def test_leading_duration_reads_a_date_and_time_of_two_words() -> None:
    moment, count = leading_duration(
        ["2026-12-01", "18:00", "spamming"], lambda text: parse_moment(text, NOW)
    )
    assert (moment, count) == (datetime(2026, 12, 1, 18, 0, tzinfo=UTC), 2)


_UNIT_WORDS = {
    "s": ["s", "sec", "secs", "second", "seconds"],
    "m": ["m", "min", "mins", "minute", "minutes"],
    "h": ["h", "hr", "hrs", "hour", "hours"],
    "d": ["d", "day", "days"],
    "w": ["w", "wk", "week", "weeks"],
}
_SIZES = {"w": 604_800, "d": 86_400, "h": 3600, "m": 60, "s": 1}

_parts = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=99),
        st.sampled_from(list(_UNIT_WORDS)).flatmap(
            lambda letter: st.tuples(st.just(letter), st.sampled_from(_UNIT_WORDS[letter]))
        ),
        st.booleans(),
    ),
    min_size=1,
    max_size=3,
)
_reason_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz!?'", min_size=1, max_size=8).filter(
    lambda word: word not in ("and",)
)


@settings(max_examples=300)
@given(_parts, st.lists(_reason_word, max_size=4))
def test_a_duration_then_a_reason_splits_into_both(
    parts: list[tuple[int, tuple[str, str], bool]], reason: list[str]
) -> None:
    """However a moderator writes the duration ("5 days", "5d", "1 week 2 days"), the words
    after it are the reason, untouched."""
    text = " ".join(
        f"{count} {word}" if spaced else f"{count}{word}" for count, (_, word), spaced in parts
    )
    seconds = sum(count * _SIZES[letter] for count, (letter, _), _ in parts)
    assert split_duration(" ".join([text, *reason])) == (seconds, " ".join(reason))


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**6), st.lists(_reason_word, max_size=3))
def test_a_bare_number_is_never_read_as_seconds(number: int, reason: list[str]) -> None:
    # "5 days" is a duration, not a bare number.
    assume(not reason or reason[0] not in {w for words in _UNIT_WORDS.values() for w in words})
    with pytest.raises(DurationError) as info:
        split_duration(" ".join([str(number), *reason]))
    assert info.value.problem in ("no_unit", "unknown_unit")
    with pytest.raises(DurationError):
        parse_duration(number)


@settings(max_examples=300)
@given(st.lists(st.text(max_size=12), max_size=6))
def test_leading_duration_only_raises_duration_error(words: list[str]) -> None:
    try:
        value, count = leading_duration(words, parse_duration)
    except DurationError:
        return
    assert 1 <= count <= len(words)
    assert 0 <= value <= MAX_DURATION_SECONDS
