"""The levels cog through the real bot in SimCord: XP, level-ups, rewards, flushes, commands."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import discord
import pytest
import simcord
from PIL import Image

from fish_bot.bot import FishBot
from fish_bot.cogs.levels.constants import CARD_SIZE
from fish_bot.cogs.levels.utils import xp_for_level
from fish_bot.core.views import RoutedView, make_custom_id

from .conftest import World, replies, say

COGS = ["fish_bot.cogs.admin", "fish_bot.cogs.levels"]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


def cog(env: simcord.Env) -> Any:
    found = env.bot.get_cog("Levels")
    assert found is not None
    return found


@pytest.fixture
async def lw(env: simcord.Env, world: World) -> World:
    """The world with a fixed 20 XP a message (no randomness) and the default 60 s cooldown."""
    levels = cog(env)
    await levels.update_settings({"xp_min": 20, "xp_max": 20}, world.guild.id)
    return world


def xp(env: simcord.Env, world: World, actor: Any) -> int:
    state = cog(env).store.cache.peek(world.guild.id)
    entry = state.members.get(actor.id) if state is not None else None
    return entry.xp if entry is not None else 0


async def chat(env: simcord.Env, actor: Any, channel: Any, times: int = 1) -> None:
    """``times`` messages, each after the cooldown (61 s of virtual time apart)."""
    for _ in range(times):
        await actor.send(channel, "hello fish")
        await env.advance_time(61)


def role_ids(env: simcord.Env, world: World, actor: Any) -> set[int]:
    member = env.bot.get_guild(world.guild.id).get_member(actor.id)
    assert member is not None
    return {role.id for role in member.roles if not role.is_default()}


async def stored_xp(env: simcord.Env, world: World, actor: Any) -> int:
    return (await env.bot.db.levels.get_xp_and_level(actor.id, world.guild.id))[0]


# --- earning XP --------------------------------------------------------------------------


async def test_a_message_earns_xp_once_per_cooldown(env: simcord.Env, lw: World) -> None:
    await lw.member.send(lw.general, "first")
    await lw.member.send(lw.general, "second, inside the cooldown")
    assert xp(env, lw, lw.member) == 20
    await env.advance_time(59)
    await lw.member.send(lw.general, "still inside")
    assert xp(env, lw, lw.member) == 20
    await env.advance_time(2)
    await lw.member.send(lw.general, "after the cooldown")
    assert xp(env, lw, lw.member) == 40


async def test_warm_messages_run_no_statement_inside_or_outside_the_cooldown(
    env: simcord.Env, lw: World
) -> None:
    await lw.member.send(lw.general, "warm-up: the guild's rows are read once")
    stats = env.bot.database.stats
    before = stats.queries
    await lw.member.send(lw.general, "inside the cooldown")
    await lw.member2.send(lw.general, "another member, first message")
    assert stats.queries == before
    await env.advance_time(61)  # the flush loop writes meanwhile
    before = stats.queries
    await lw.member.send(lw.general, "outside the cooldown")
    await lw.member2.send(lw.general, "outside too")
    assert stats.queries == before
    assert xp(env, lw, lw.member) == 40
    assert xp(env, lw, lw.member2) == 40


async def test_a_cold_guild_is_loaded_once_for_a_burst_of_first_messages(
    env: simcord.Env, lw: World
) -> None:
    chatters = [lw.guild.add_member(env.create_user(f"chatter{i}")) for i in range(6)]
    await env.settle()
    store = cog(env).store
    store.cache.invalidate(lw.guild.id)  # cold, as after a restart (the joins loaded it)
    loads = store.stats.loads
    for chatter in chatters:  # all arrive before the bot handles the first
        env.backend.create_message(lw.general.id, chatter.id, "hi all")
    await env.settle()
    assert store.stats.loads == loads + 1
    assert [xp(env, lw, chatter) for chatter in chatters] == [20] * 6


async def test_excluded_channels_roles_commands_dms_and_blacklist_earn_nothing(
    env: simcord.Env, lw: World
) -> None:
    levels = cog(env)
    quiet = lw.guild.create_text_channel("spam")
    muted = lw.guild.create_role("No XP")
    await levels.set_setting("excluded_channels", [quiet.id], lw.guild.id)
    await levels.set_setting("excluded_roles", [muted.id], lw.guild.id)
    await lw.member.send(quiet, "excluded channel")
    await lw.member.send(lw.general, "!rank")  # a command
    await lw.member.send_dm("a direct message")
    assert xp(env, lw, lw.member) == 0
    muted_member = lw.guild.add_member(env.create_user("muted"), roles=[muted])
    await env.settle()
    await muted_member.send(lw.general, "excluded role")
    assert xp(env, lw, muted_member) == 0
    await say(lw.admin, lw.general, f"!levels blacklist {lw.member2.mention}")
    await env.advance_time(61)
    await lw.member2.send(lw.general, "blacklisted")
    assert xp(env, lw, lw.member2) == 0
    await lw.member.send(lw.general, "an ordinary message")
    assert xp(env, lw, lw.member) == 20


async def test_the_highest_role_multiplier_applies(env: simcord.Env, lw: World) -> None:
    boost = lw.guild.create_role("Booster")
    await cog(env).set_setting(
        "role_multipliers", {str(lw.member_role.id): 1.5, str(boost.id): 3}, lw.guild.id
    )
    boosted = lw.guild.add_member(env.create_user("boosted"), roles=[lw.member_role, boost])
    await env.settle()
    await lw.member.send(lw.general, "member role")
    await boosted.send(lw.general, "both roles")
    assert xp(env, lw, lw.member) == 30
    assert xp(env, lw, boosted) == 60


async def test_a_bad_multiplier_is_refused(env: simcord.Env, lw: World) -> None:
    reply = await say(
        lw.owner,
        lw.general,
        f'!settings set levels role_multipliers {{"{lw.member_role.id}": 50}}',
    )
    assert "between 0 and 10" in reply.content
    env.errors  # noqa: B018 - acknowledge the refusal


# --- level-ups and rewards ---------------------------------------------------------------


async def test_level_up_at_the_exact_threshold_pings_only_the_member(
    env: simcord.Env, lw: World
) -> None:
    await cog(env).set_setting(
        "levelup_message",
        "@everyone {member} is level {level} <@&" + str(lw.admin_role.id) + ">",
        lw.guild.id,
    )
    start = await lw.member.send(lw.general, "one")
    await env.advance_time(61)
    await chat(env, lw.member, lw.general, 3)
    assert xp(env, lw, lw.member) == 80
    assert replies(lw.general, start) == []
    last = await lw.member.send(lw.general, "the fifth message: 100 XP")
    assert xp(env, lw, lw.member) == xp_for_level(1) == 100
    (announcement,) = replies(lw.general, last)
    assert announcement.content.startswith(f"@everyone {lw.member.mention} is level 1")
    pinged = env.backend.get_message(lw.general.id, announcement.id)  # what Discord pinged
    assert list(pinged.ping_user_ids) == [lw.member.id]
    assert not pinged.mention_everyone
    assert not pinged.ping_role_ids


async def test_level_up_by_dm_and_off(env: simcord.Env, lw: World) -> None:
    levels = cog(env)
    await levels.set_setting("levelup_destination", "dm", lw.guild.id)
    await say(lw.admin, lw.general, f"!levels setxp {lw.member.mention} 99")
    last = await lw.member.send(lw.general, "to level 1")
    assert replies(lw.general, last) == []
    assert "reached level 1" in lw.member.user.dm_channel.last_message.content
    await levels.set_setting("levelup_destination", "off", lw.guild.id)
    await say(lw.admin, lw.general, f"!levels setxp {lw.member2.mention} 99")
    last = await lw.member2.send(lw.general, "to level 1 quietly")
    assert replies(lw.general, last) == []


async def test_rewards_are_given_removed_and_restored_on_rejoin(
    env: simcord.Env, lw: World
) -> None:
    one = lw.guild.create_role("Minnow")
    two = lw.guild.create_role("Shark")
    reply = await say(lw.admin, lw.general, f"!levels rewards add 1 {one.mention}")
    assert reply.content.startswith("✅ Members reaching level 1 get")
    await say(lw.admin, lw.general, f"!levels rewards add 2 {two.mention}")
    listed = await say(lw.member, lw.general, "!levels rewards list")
    assert listed.embeds[0].description == f"Level 1: {one.mention}\nLevel 2: {two.mention}"

    await say(lw.admin, lw.general, f"!levels setxp {lw.member.mention} 99")
    await lw.member.send(lw.general, "to level 1")
    assert role_ids(env, lw, lw.member) == {lw.member_role.id, one.id}
    await say(lw.admin, lw.general, f"!levels set {lw.member.mention} 2")
    assert role_ids(env, lw, lw.member) == {lw.member_role.id, one.id, two.id}

    # highest only: the lower reward goes at the next change
    await cog(env).set_setting("reward_mode", "highest", lw.guild.id)
    await say(lw.admin, lw.general, f"!levels set {lw.member.mention} 2")
    assert role_ids(env, lw, lw.member) == {lw.member_role.id, two.id}

    lw.guild.remove_member(lw.member)
    await env.settle()
    back = lw.guild.add_member(lw.member.user)
    await env.settle()
    assert role_ids(env, lw, back) == {two.id}

    await say(lw.admin, lw.general, f"!levels reset {back.mention}")
    assert role_ids(env, lw, back) == set()
    assert await stored_xp(env, lw, back) == 0


async def test_a_reward_role_the_bot_may_not_give_is_refused(env: simcord.Env, lw: World) -> None:
    reply = await say(lw.admin, lw.general, f"!levels rewards add 3 {lw.mod_role.mention}")
    assert "can't be a level reward" in reply.content
    env.errors  # noqa: B018
    assert await env.bot.db.levels.get_rewards(lw.guild.id) == []


async def test_members_cannot_change_xp(env: simcord.Env, lw: World) -> None:
    reply = await say(lw.member, lw.general, f"!levels setxp {lw.member.mention} 5000")
    assert reply.content == "⛔ `levels setxp` needs permission rank 3; your rank is 0."
    env.errors  # noqa: B018
    assert xp(env, lw, lw.member) == 0


async def test_manual_changes_do_not_lose_buffered_xp(env: simcord.Env, lw: World) -> None:
    await lw.member.send(lw.general, "buffered")
    await say(lw.admin, lw.general, f"!levels blacklist {lw.member.mention}")
    row = await env.bot.db.levels.get_by_id((lw.guild.id, lw.member.id))
    assert row is not None and row.xp == 20 and row.blacklisted
    await say(lw.admin, lw.general, f"!levels blacklist {lw.member.mention}")
    assert not await env.bot.db.levels.is_blacklisted(lw.member.id, lw.guild.id)


# --- flushing ----------------------------------------------------------------------------


async def test_xp_is_written_at_the_flush_interval(env: simcord.Env, lw: World) -> None:
    await lw.member.send(lw.general, "hello")
    assert await stored_xp(env, lw, lw.member) == 0  # still in memory
    await env.advance_time(11)  # flush_interval: 10 s
    assert await stored_xp(env, lw, lw.member) == 20
    assert cog(env).store.dirty_rows == 0


async def test_xp_is_written_at_shutdown(
    env: simcord.Env, lw: World, make_bot: Callable[..., FishBot]
) -> None:
    await lw.member.send(lw.general, "hello")
    await lw.member2.send(lw.general, "hello too")
    await env.bot.close()
    await env.restart_bot(make_bot(COGS))
    assert await stored_xp(env, lw, lw.member) == 20
    assert await stored_xp(env, lw, lw.member2) == 20


async def test_a_crash_loses_at_most_one_interval_and_no_row_is_torn(
    env: simcord.Env, lw: World, make_bot: Callable[..., FishBot], monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat(env, lw.member, lw.general, 4)  # 80 XP, flushed meanwhile
    assert await stored_xp(env, lw, lw.member) == 80
    await lw.member.send(lw.general, "the fifth message: level 1, not flushed yet")
    assert xp(env, lw, lw.member) == 100

    async def killed(*_args: Any) -> int:  # kill -9: nothing more reaches the database
        return 0

    monkeypatch.setattr(cog(env).store, "flush", killed)
    await env.bot.close()
    await env.restart_bot(make_bot(COGS))
    row = await env.bot.db.levels.get_by_id((lw.guild.id, lw.member.id))
    assert row is not None
    assert (row.xp, row.level) == (80, 0)  # the last interval is lost, the row is whole
    await env.advance_time(61)
    await lw.member.send(lw.general, "after the restart")
    assert xp(env, lw, lw.member) == 100


async def test_a_cold_guild_is_dropped_and_read_again(env: simcord.Env, lw: World) -> None:
    await lw.member.send(lw.general, "hello")
    await env.advance_time(1800 + 20)  # idle_eviction: 30 minutes
    assert cog(env).store.cache.peek(lw.guild.id) is None
    await lw.member.send(lw.general, "back again")
    assert xp(env, lw, lw.member) == 40


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
