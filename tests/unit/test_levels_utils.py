"""The level curve (a Hypothesis property), XP rules, the import format and the rank card."""

from __future__ import annotations

import io
import random

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from fish_bot.cogs.levels.card import CardData, render_card
from fish_bot.cogs.levels.constants import CARD_SIZE, MAX_LEVEL
from fish_bot.cogs.levels.utils import (
    MAX_XP,
    ImportRefused,
    level_from_xp,
    multiplier,
    parse_import,
    render_template,
    roll_xp,
    xp_for_level,
    xp_to_next,
)


def test_the_curve_is_the_well_known_one() -> None:
    assert [xp_to_next(level) for level in range(4)] == [100, 155, 220, 295]
    assert [xp_for_level(level) for level in range(6)] == [0, 100, 255, 475, 770, 1150]


@given(st.integers(min_value=0, max_value=MAX_LEVEL * 2))
def test_level_from_xp_inverts_xp_for_level(level: int) -> None:
    assert level_from_xp(xp_for_level(level)) == level
    assert level_from_xp(xp_for_level(level + 1) - 1) == level
    assert xp_for_level(level + 1) - xp_for_level(level) == xp_to_next(level)


@given(st.integers(min_value=0, max_value=MAX_XP * 8))
def test_xp_for_level_inverts_level_from_xp(xp: int) -> None:
    level = level_from_xp(xp)
    assert xp_for_level(level) <= xp < xp_for_level(level + 1)


def test_multiplier_takes_the_highest_role_factor() -> None:
    assert multiplier([1, 2, 3], {"2": 1.5, "3": 2.0, "9": 5.0}) == 2.0
    assert multiplier([1], {"2": 3.0}) == 1.0
    assert roll_xp(20, 20, 1.5) == 30
    assert 15 <= roll_xp(25, 15, 1.0, random.Random(4)) <= 25  # bounds in either order


def test_the_template_reads_only_its_two_fields() -> None:
    assert render_template("{member} is {level} {0} {__class__}", "<@1>", 3) == (
        "<@1> is 3 {0} {__class__}"
    )


def test_import_reads_a_header_and_rows() -> None:
    assert parse_import(
        b"\xef\xbb\xbfuser,xp\n111111111111111111, 40\n\n222222222222222222,0\n"
    ) == {
        111111111111111111: 40,
        222222222222222222: 0,
    }


def test_import_refuses_too_many_rows(monkeypatch: object) -> None:
    import fish_bot.cogs.levels.utils as utils

    rows = b"".join(b"%d,1\n" % (10**17 + i) for i in range(utils.MAX_IMPORT_ROWS + 1))
    try:
        parse_import(rows)
    except ImportRefused as refusal:
        assert "more than" in str(refusal)
    else:
        raise AssertionError("an oversized import was accepted")


def test_a_rank_card_is_a_png_of_the_card_size() -> None:
    avatar = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(avatar, format="PNG")
    data = CardData("a very long display name that goes on", 12, 3, 400, 1020, 10_000)
    for picture in (avatar.getvalue(), None, b"not an image"):
        png = render_card(data, picture)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(png)) as card:
            assert card.format == "PNG"
            assert card.size == CARD_SIZE
