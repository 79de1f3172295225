"""The levels cog's commands in SimCord: rank cards, the leaderboard, export and import."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import discord
import pytest
import simcord
from PIL import Image

from fish_bot.cogs.levels.constants import CARD_SIZE
from fish_bot.core.views import RoutedView, make_custom_id

from .conftest import World, replies, say
from .levels_helpers import COGS, cog, lw, stored_xp, xp

__all__ = ["lw"]  # the fixture, imported for pytest


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


# --- rank and leaderboard ----------------------------------------------------------------


async def test_rank_as_a_text_embed_when_images_are_off(env: simcord.Env, lw: World) -> None:
    await cog(env).set_setting("rank_card_images", False, lw.guild.id)
    await say(lw.admin, lw.general, f"!levels setxp {lw.member.mention} 300")
    shown = await say(lw.member2, lw.general, f"!level {lw.member.mention}")
    fields = {f.name: f.value for f in shown.embeds[0].fields}
    assert fields == {
        "Level": "2",
        "Rank": "#1",
        "XP": "45 / 220 (total 300)",
        "To next level": "175 XP",
    }


async def test_rank_card_image(
    env: simcord.Env, lw: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    avatar = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(avatar, format="PNG")

    async def fetched(member: Any) -> bytes:
        return avatar.getvalue()

    monkeypatch.setattr(cog(env), "fetch_avatar", fetched)
    await lw.member.send(lw.general, "hello")
    shown = await say(lw.member, lw.general, "!rank")
    (attachment,) = shown.attachments
    assert attachment.filename == "rank.png"
    data = await attachment.read()
    with Image.open(io.BytesIO(data)) as card:
        assert card.format == "PNG"
        assert card.size == CARD_SIZE


async def test_a_default_avatar_is_drawn_without_fetching_it(
    env: simcord.Env, lw: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No avatar of their own: the card is drawn at once (no wait on Discord's CDN)."""

    async def no_fetch(asset: discord.Asset) -> bytes:
        raise AssertionError(f"fetched {asset.url}")

    monkeypatch.setattr(discord.Asset, "read", no_fetch)
    assert lw.member.user.avatar is None
    shown = await say(lw.member, lw.general, "!rank")
    (attachment,) = shown.attachments
    assert attachment.filename == "rank.png"


async def test_an_avatar_is_fetched_once_at_the_cards_size(
    env: simcord.Env, lw: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 20, 20)).save(picture, format="PNG")
    fetched: list[str] = []

    async def read(asset: discord.Asset) -> bytes:
        fetched.append(asset.url)
        return picture.getvalue()

    monkeypatch.setattr(discord.Asset, "read", read)
    painter = lw.guild.add_member(env.create_user("painter", avatar="a" * 32))
    await env.settle()
    for _ in range(2):
        shown = await say(painter, lw.general, "!rank")
        assert shown.attachments[0].filename == "rank.png"

    assert len(fetched) == 1 and "size=256" in fetched[0]


async def test_rank_falls_back_to_text_when_the_avatar_cannot_be_fetched(
    env: simcord.Env, lw: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(member: Any) -> None:
        return None

    monkeypatch.setattr(cog(env), "fetch_avatar", unavailable)
    result = await lw.member.slash(lw.general, "rank")
    assert result.response is not None
    assert result.response.embeds[0].title == f"Rank of {lw.member.user.name}"


async def test_leaderboard_pages_buttons_and_own_position(env: simcord.Env, lw: World) -> None:
    levels = cog(env)
    state = await levels.store.guild(lw.guild.id)
    fans = [lw.guild.add_member(env.create_user(f"fan{i}")) for i in range(11)]
    await env.settle()
    for position, fan in enumerate(fans):
        state.set_xp(fan.id, 1000 - position)
    state.set_xp(lw.member.id, 5)
    board = await say(lw.member, lw.general, "!top")
    embed = board.embeds[0]
    lines = embed.description.splitlines()
    assert len(lines) == 10
    assert lines[0] == f"`#1` {fans[0].mention} · level 4 · 1,000 XP"
    assert embed.fields[0].value == f"`#12` {lw.member.mention} · level 0 · 5 XP"
    assert embed.footer.text == "Page 1 of 2"

    second = await lw.member.click(board, label="Next ▶")
    assert second.response is not None
    page_two = second.response.embeds[0]
    assert page_two.description.splitlines() == [
        f"`#11` {fans[10].mention} · level 4 · 990 XP",
        f"`#12` {lw.member.mention} · level 0 · 5 XP",
    ]
    assert page_two.footer.text == "Page 2 of 2"

    # Someone else's click shows the clicker's own position (the message is on page 2 now).
    again = await lw.member2.click(board, label="◀ Previous")
    assert again.response is not None
    assert again.response.embeds[0].footer.text == "Page 1 of 2"
    assert again.response.embeds[0].fields[0].value.startswith("You are not ranked yet")


# --- export and import -------------------------------------------------------------------


async def test_export_and_import(env: simcord.Env, lw: World) -> None:
    csv = f"member_id,xp\n{lw.member.id},300\n{lw.member2.id},1200\n".encode()
    sent = await lw.admin.send(lw.general, "!levels import", attachments=[("xp.csv", csv)])
    (done,) = replies(lw.general, sent)
    assert done.content == "✅ Imported the XP of 2 members."
    assert await stored_xp(env, lw, lw.member2) == 1200
    assert xp(env, lw, lw.member) == 300

    exported = await say(lw.admin, lw.general, "!levels export")
    (attachment,) = exported.attachments
    text = (await attachment.read()).decode()
    assert text.splitlines() == [
        "member_id,xp,level,blacklisted",
        f"{lw.member2.id},1200,5,no",
        f"{lw.member.id},300,2,no",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"member,xp\n1,2\nabc,5\n", "line 3"),
        (b"111111111111111111,10\n111111111111111111,20\n", "appears twice"),
        (b"111111111111111111,-4\n", "not a whole number"),
        (b"111111111111111111,99999999999\n", "more than the maximum"),
        (b"\xff\xfe", "not UTF-8"),
        (b"", "no rows"),
    ],
)
async def test_a_bad_import_changes_nothing(
    env: simcord.Env, lw: World, content: bytes, problem: str
) -> None:
    await say(lw.admin, lw.general, f"!levels setxp {lw.member.mention} 77")
    sent = await lw.admin.send(lw.general, "!levels import", attachments=[("xp.csv", content)])
    (refusal,) = replies(lw.general, sent)
    assert refusal.content.startswith("❌ Nothing was imported:")
    assert problem in refusal.content
    env.errors  # noqa: B018
    assert await env.bot.db.levels.count({"guild_id": lw.guild.id}) == 1
    assert xp(env, lw, lw.member) == 77


async def test_slash_commands_change_xp_and_show_the_board(env: simcord.Env, lw: World) -> None:
    result = await lw.admin.slash(lw.general, "levels setxp", member=lw.member, xp=480)
    assert result.response is not None
    assert result.response.content == f"✅ {lw.member.mention} has 480 XP: level 3."
    board = await lw.member.slash(lw.general, "leaderboard")
    assert board.response is not None
    assert board.response.embeds[0].description == f"`#1` {lw.member.mention} · level 3 · 480 XP"


async def test_a_forged_page_button_for_another_server_is_refused(
    env: simcord.Env, lw: World
) -> None:
    other = env.create_guild(name="Elsewhere", owner=env.create_user("other owner"))
    channel = env.bot.get_channel(lw.general.id)
    assert isinstance(channel, discord.TextChannel)
    button: discord.ui.Button[Any] = discord.ui.Button(
        label="Forged", custom_id=make_custom_id("levels", "page", other.id, 2)
    )
    forged = await channel.send("forged", view=RoutedView(button))
    result = await lw.member.click(forged, label="Forged")
    assert result.response is not None
    assert result.response.content == "This button is no longer supported."


async def test_import_as_a_slash_command(env: simcord.Env, lw: World) -> None:
    data = f"{lw.member.id},770\n".encode()
    result = await lw.admin.slash(lw.general, "levels import", file=("xp.csv", data))
    assert result.response is not None
    assert result.response.content == "✅ Imported the XP of 1 member."
    assert await stored_xp(env, lw, lw.member) == 770


async def test_bots_are_not_given_xp(env: simcord.Env, lw: World) -> None:
    reply = await say(lw.admin, lw.general, f"!levels setxp <@{env.bot.user.id}> 500")
    assert reply.content == "❌ Bots don't earn XP."
    env.errors  # noqa: B018 - acknowledge the refusal
    assert await env.bot.db.levels.count({"guild_id": lw.guild.id}) == 0
