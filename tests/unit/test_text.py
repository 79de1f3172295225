"""Text shown on Discord (fish_bot.core.text): clipped to Discord's limits, input made harmless."""

from __future__ import annotations

import discord
from hypothesis import given
from hypothesis import strategies as st

from fish_bot.core.text import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_COUNT_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    clip,
    embed_size,
    field,
    fit_embed,
    plain,
)


def test_clip_keeps_short_text_and_marks_a_cut() -> None:
    assert clip("hello", 10) == "hello"
    assert clip("hello", 5) == "hello"
    assert clip("hello world", 5) == "hell…"
    assert clip("x" * 5000) == "x" * (CONTENT_LIMIT - 1) + "…"
    assert clip("abc", 0) == ""


@given(st.text(), st.integers(min_value=1, max_value=3000))
def test_clip_never_exceeds_the_limit(text: str, limit: int) -> None:
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    assert text.startswith(clipped) or clipped.endswith("…")


def test_plain_is_one_line_without_backticks_or_invisible_characters() -> None:
    assert plain("a `b`\n\n c") == "a 'b' c"
    assert plain("x\u200by\u202ez\u2066") == "xyz"
    assert plain("@everyone") == "@everyone"  # inside inline code: no markdown, no ping
    assert plain("y" * 500, 60) == "y" * 59 + "…"
    assert plain("") == ""


def test_field_is_never_empty_nor_too_long() -> None:
    assert field("") == "—"
    assert field("  ") == "—"
    assert field("ok") == "ok"
    assert len(field("z" * 5000)) == FIELD_VALUE_LIMIT
    assert len(field("z" * 5000, 100)) == 100


def test_fit_embed_clips_every_part() -> None:
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    embed.set_footer(text="f" * 3000)
    embed.set_author(name="a" * 300)
    for number in range(30):
        embed.add_field(name=f"{number}" * 300, value="v" * 2000)
    fitted = fit_embed(embed)
    assert fitted is embed
    assert len(embed.title or "") == TITLE_LIMIT
    assert len(embed.description or "") <= DESCRIPTION_LIMIT
    assert len(embed.footer.text or "") <= FOOTER_LIMIT
    assert len(embed.author.name or "") <= 256
    assert len(embed.fields) <= FIELD_COUNT_LIMIT
    assert all(len(f.name or "") <= FIELD_NAME_LIMIT for f in embed.fields)
    assert all(len(f.value or "") <= FIELD_VALUE_LIMIT for f in embed.fields)
    assert embed_size(embed) <= EMBED_TOTAL_LIMIT


def test_fit_embed_leaves_a_fitting_embed_alone() -> None:
    embed = discord.Embed(title="Status", description="All good")
    embed.add_field(name="Uptime", value="5m", inline=True)
    before = embed.to_dict()
    assert fit_embed(embed).to_dict() == before


def test_fit_embed_fills_empty_field_values() -> None:
    embed = discord.Embed()
    embed.add_field(name="", value="")
    fit_embed(embed)
    assert embed.fields[0].name == "—"
    assert embed.fields[0].value == "—"
