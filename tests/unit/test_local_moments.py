"""parse_local_moment and parse_leading_moment: moments as people write them, in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fish_bot.core.local_time import parse_leading_moment, parse_local_moment

NOW = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # a Tuesday
BERLIN = ZoneInfo("Europe/Berlin")  # 23:30 local


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10m", NOW + timedelta(minutes=10)),
        ("2 hours", NOW + timedelta(hours=2)),
        ("in 3 days", NOW + timedelta(days=3)),
        ("1d12h", NOW + timedelta(hours=36)),
        ("2026-12-24 18:00", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("2026-12-24", datetime(2026, 12, 24, 8, 0, tzinfo=UTC)),
        ("2026-12-24 18:00+00:00", datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        ("tomorrow 9:00", datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 12, 2, 8, 0, tzinfo=UTC)),
        ("friday 17:30", datetime(2026, 12, 4, 16, 30, tzinfo=UTC)),
        ("fri 5:30pm", datetime(2026, 12, 4, 16, 30, tzinfo=UTC)),
        ("tuesday 9am", datetime(2026, 12, 8, 8, 0, tzinfo=UTC)),  # today's has passed
        ("23:45", datetime(2026, 12, 1, 22, 45, tzinfo=UTC)),  # still today
        ("at 8:00", datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),  # tomorrow
        ("2027-07-01 12:00", datetime(2027, 7, 1, 10, 0, tzinfo=UTC)),  # summer time
    ],
)
def test_moments_in_berlin(text: str, expected: datetime) -> None:
    assert parse_local_moment(text, NOW, BERLIN) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", "has no unit"),
        ("soon", "is not a time"),
        ("2020-01-01 10:00", "is in the past"),
        ("today 9:00", "has already passed"),
        ("tomorrow 25:00", "is not a time of day"),
        ("2026-13-01", "is not a valid date"),
        ("", "give a time"),
    ],
)
def test_refusals_explain(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_local_moment(text, NOW, BERLIN)


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("2 hours stretch your legs", "stretch your legs"),
        ("tomorrow 9:00 call the bank", "call the bank"),
        ("friday dinner", "dinner"),
        ("10m 5 push-ups", "5 push-ups"),
        ("2026-12-24 18:00 gifts", "gifts"),
        ("1h", ""),
    ],
)
def test_the_leading_moment_and_the_rest(text: str, rest: str) -> None:
    assert parse_leading_moment(text, NOW, BERLIN)[1] == rest


def test_a_number_without_a_unit_is_named() -> None:
    with pytest.raises(ValueError, match="5 needs a unit"):
        parse_leading_moment("5 tea", NOW, BERLIN)


@given(
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    offset=st.integers(0, 400 * 24 * 60),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
)
def test_a_clock_time_is_its_next_occurrence(
    hour: int, minute: int, offset: int, zone: str
) -> None:
    now = NOW + timedelta(minutes=offset)
    moment = parse_local_moment(f"{hour}:{minute:02d}", now, ZoneInfo(zone))
    assert now < moment <= now + timedelta(hours=25)  # 25: a day with an extra hour
    local = moment.astimezone(ZoneInfo(zone))
    # Only a time skipped by a clock change moves (to just after the gap).
    assert (local.hour, local.minute) == (hour, minute) or local.hour == hour + 1
