"""The `cases` commands end to end: the real FishBot under SimCord.

Cases are seeded straight through the controller (``bot.db.case.insert_case``), so these tests
do not depend on the moderation action commands. Ranks: the Moderator role has rank 4 (it may
modify cases), a Helper role rank 2 (it may read them), the Member role none.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
import simcord
from discord.ext import commands

from fish_bot.cogs.moderation.cases_display import CASES_VIEW_TIMEOUT
from fish_bot.core.base_cog import PermissionCheckFailure
from fish_bot.database.models.cases import Case, CaseStatus, CaseType

from .conftest import World, show_slash_commands
from .moderation_helpers import fish, moderation


@pytest.fixture
async def cases_world(env: simcord.Env, world: World) -> World:
    """The world with ranks: Moderator 4, Helper 2 (the moderation cog is built in)."""
    bot = fish(env)
    moderation(env)
    store = bot.permission_store
    await store.set_role_rank(world.guild.id, world.mod_role.id, 4)
    helper = world.guild.create_role("Helper")
    await store.set_role_rank(world.guild.id, helper.id, 2)
    world.member2 = world.guild.add_member(env.create_user("helper"), roles=[helper])
    # The server uses ranks: it shows the slash commands to every rank (Integrations).
    show_slash_commands(env, world.guild)
    return world


async def seed(
    env: simcord.Env,
    world: World,
    *,
    user: Any = None,
    moderator: Any = None,
    case_type: CaseType = CaseType.WARN,
    reason: str | None = "Spamming",
    status: CaseStatus = CaseStatus.ACTIVE,
    days_ago: float | None = None,
) -> Case:
    db = fish(env).db.case
    case = await db.insert_case(
        guild_id=world.guild.id,
        case_user_id=(user or world.member).id,
        case_moderator_id=(moderator or world.moderator).id,
        case_type=case_type,
        case_reason=reason,
        case_status=status,
    )
    if days_ago is not None:
        assert case.id is not None
        moved = await db.update_by_id(
            case.id, created_at=discord.utils.utcnow() - timedelta(days=days_ago)
        )
        assert moved is not None
        case = moved
    return case


async def log_case(
    env: simcord.Env, world: World, case: Case, note: str | None = None
) -> discord.Message:
    """Post the case to the mod log through the moderation cog (as its actions do)."""
    bot = fish(env)
    cog = moderation(env)
    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    message = await cog.log_case(guild, case, note=note)
    assert message is not None
    stored = await bot.db.case.get_case_by_number(world.guild.id, case.case_number)
    assert stored is not None and stored.mod_log_message_id == message.id
    return message


async def say(actor: Any, channel: Any, text: str) -> discord.Message:
    await actor.send(channel, text)
    last = channel.last_message
    assert last is not None
    return last


def description(message: Any) -> str:
    embeds = message.embeds
    assert embeds, message.content
    return str(embeds[0].description or "")


def footer(message: Any) -> str:
    return str(message.embeds[0].footer.text or "")


def fields_of(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


def numbers_in(text: str) -> list[int]:
    """The case numbers listed in an embed description (``#12`` in inline code)."""
    import re

    return [int(n) for n in re.findall(r"`#(\d+)`", text)]


# --- the list and its buttons ---------------------------------------------------------------


async def test_list_pages_through_25_cases(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    for _ in range(25):
        await seed(env, world)
    message = await say(world.moderator, world.general, "!cases")
    assert message.embeds[0].title == "Cases in Fish Tank"
    assert footer(message) == "Page 1/3 · 25 cases"
    assert numbers_in(description(message)) == list(range(25, 15, -1))

    result = await world.moderator.click(message, label="Next")
    assert result.response is not None
    assert result.response.embeds[0].footer.text == "Page 2/3 · 25 cases"
    assert numbers_in(str(result.response.embeds[0].description)) == list(range(15, 5, -1))

    result = await world.moderator.click(message, label="Next")
    assert result.response is not None
    page3 = result.response.embeds[0]
    assert page3.footer.text == "Page 3/3 · 25 cases"
    assert numbers_in(str(page3.description)) == [5, 4, 3, 2, 1]
    # On the last page "Next" is disabled; "Previous" goes back.
    with pytest.raises(simcord.SetupError, match="disabled"):
        await world.moderator.click(message, label="Next")
    result = await world.moderator.click(message, label="Previous")
    assert result.response is not None
    assert result.response.embeds[0].footer.text == "Page 2/3 · 25 cases"


async def test_only_the_invoker_can_turn_pages(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    for _ in range(12):
        await seed(env, world)
    message = await say(world.member2, world.general, "!cases")
    assert footer(message) == "Page 1/2 · 12 cases"

    refused = await world.moderator.click(message, label="Next")
    assert refused.response is not None and refused.response.ephemeral
    assert refused.response.content.startswith(f"⛔ Only <@{world.member2.id}> can turn these")
    channel_message = world.general.last_message
    assert channel_message is not None and footer(channel_message) == "Page 1/2 · 12 cases"

    # The buttons follow the permission model: once the helper's rank is gone, clicks stop.
    helper_role = world.guild.roles["Helper"]
    await fish(env).permission_store.remove_role_rank(world.guild.id, helper_role.id)
    denied = await world.member2.click(message, label="Next")
    assert denied.response is not None and denied.response.ephemeral
    assert denied.response.content == "⛔ `cases` needs permission rank 2; your rank is 0."
    assert footer(world.general.last_message) == "Page 1/2 · 12 cases"


async def test_buttons_are_disabled_after_the_timeout(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    for _ in range(11):
        await seed(env, world)
    message = await say(world.moderator, world.general, "!cases")
    await world.moderator.click(message, label="Next")
    await env.advance_time(CASES_VIEW_TIMEOUT + 5)
    with pytest.raises(simcord.SetupError, match="disabled"):
        await world.moderator.click(message, label="Previous")


async def test_a_single_page_has_no_buttons_and_slash_works(
    env: simcord.Env, cases_world: World
) -> None:
    world = cases_world
    message = await say(world.moderator, world.general, "!cases")
    assert description(message) == "No cases match."
    assert footer(message) == "Page 1/1 · 0 cases"
    assert not message.components

    await seed(env, world, reason="Posting @everyone")
    result = await world.moderator.slash(world.general, "cases list")
    assert result.response is not None
    embed = result.response.embeds[0]
    assert numbers_in(str(embed.description)) == [1]
    assert "Posting @everyone" in str(embed.description)
    assert not result.response.components


async def test_slash_list_pages_with_the_same_rules(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    for _ in range(11):
        await seed(env, world)
    result = await world.member2.slash(world.general, "cases list")
    assert result.response is not None
    message = result.response.message
    assert result.response.embeds[0].footer.text == "Page 1/2 · 11 cases"

    turned = await world.member2.click(message, label="Next")
    assert turned.response is not None
    assert numbers_in(str(turned.response.embeds[0].description)) == [1]
    refused = await world.moderator.click(message, label="Previous")
    assert refused.response is not None and refused.response.ephemeral
    assert refused.response.content.startswith("⛔ Only")


# --- view -----------------------------------------------------------------------------------


async def test_view_found_and_not_found(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    await seed(env, world)
    await seed(env, world, case_type=CaseType.BAN, reason="Raiding <@&1> @everyone")

    message = await say(world.member2, world.general, "!cases view 2")
    embed = message.embeds[0]
    fields = fields_of(embed)
    assert embed.title == "🔨 Case #2 · Ban"
    assert fields["User"] == f"<@{world.member.id}> (member, `{world.member.id}`)"
    # Names next to the mentions: readable where a client shows the raw mention.
    assert fields["Moderator"] == f"<@{world.moderator.id}> (moderator, `{world.moderator.id}`)"
    assert fields["Status"] == "Active"
    assert fields["Reason"] == "Raiding <@&1> @everyone"

    message = await say(world.member2, world.general, "!cases view #1")
    assert message.embeds[0].title == "⚠️ Case #1 · Warning"

    result = await world.member2.slash(world.general, "cases view", number=2)
    assert result.response is not None
    assert result.response.embeds[0].title == "🔨 Case #2 · Ban"

    message = await say(world.member2, world.general, "!cases view 99")
    assert message.content == "There is no case #99 in this server."
    simcord.assert_error(env, contains="There is no case #99")
    message = await say(world.member2, world.general, "!cases view abc")
    assert message.content.startswith("`abc` is not a case number")
    simcord.assert_error(env, commands.BadArgument)


async def test_members_without_rank_are_refused(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    await seed(env, world)
    message = await say(world.member, world.general, "!cases view 1")
    assert message.content == "⛔ `cases view` needs permission rank 2; your rank is 0."
    simcord.assert_error(env, PermissionCheckFailure)
    message = await say(world.member, world.general, "!cases")
    assert message.content == "⛔ `cases` needs permission rank 2; your rank is 0."
    simcord.assert_error(env, PermissionCheckFailure)
    result = await world.member.slash(world.general, "cases list")
    assert result.response is not None and result.response.ephemeral
    assert result.response.content == "⛔ `cases` needs permission rank 2; your rank is 0."
    simcord.assert_error(env, contains="needs permission rank 2")
    # Rank 2 reads cases but may not modify them.
    message = await say(world.member2, world.general, "!cases modify 1 status:voided")
    assert message.content == "⛔ `cases modify` needs permission rank 4; your rank is 2."
    simcord.assert_error(env, PermissionCheckFailure)


# --- search ---------------------------------------------------------------------------------


async def test_search_filters(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    other_mod = world.admin
    await seed(env, world, case_type=CaseType.WARN, days_ago=30)  # 1
    await seed(env, world, case_type=CaseType.BAN, days_ago=10)  # 2
    await seed(env, world, user=world.member2, case_type=CaseType.BAN, days_ago=3)  # 3
    await seed(env, world, case_type=CaseType.TIMEOUT, status=CaseStatus.EXPIRED, days_ago=2)  # 4
    await seed(env, world, user=world.member2, moderator=other_mod, case_type=CaseType.KICK)  # 5
    await seed(env, world, case_type=CaseType.TEMPBAN, status=CaseStatus.LIFTED)  # 6

    async def search(text: str) -> list[int]:
        message = await say(world.moderator, world.general, f"!cases search {text}")
        assert message.embeds, message.content
        return numbers_in(description(message))

    assert await search(f"user:{world.member.mention}") == [6, 4, 2, 1]
    assert await search(f"user: {world.member2.id}") == [5, 3]
    assert await search(f"moderator:{other_mod.mention}") == [5]
    assert await search("type:ban") == [3, 2]
    assert await search("type:ban,tempban") == [6, 3, 2]
    assert await search("status:active") == [5, 3, 2, 1]
    assert await search("status:expired,lifted") == [6, 4]
    assert await search("since:7d") == [6, 5, 4, 3]
    assert await search("since:7d until:1d") == [4, 3]
    assert await search(f"user:{world.member.mention} type:ban status:active since:14d") == [2]
    assert await search("type:warn since:7d") == []

    message = await say(world.moderator, world.general, "!cases search type:ban since:7d")
    assert description(message).startswith("Filters: type ban · since "), description(message)

    # The same through the slash command's options.
    result = await world.moderator.slash(
        world.general, "cases search", user=world.member2, type="BAN"
    )
    assert result.response is not None
    assert numbers_in(str(result.response.embeds[0].description)) == [3]
    result = await world.moderator.slash(world.general, "cases search", since="7d", status="active")
    assert result.response is not None
    assert numbers_in(str(result.response.embeds[0].description)) == [5, 3]


async def test_search_bad_inputs(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    message = await say(world.moderator, world.general, "!cases search type:bann")
    assert message.content.startswith("Unknown case type `bann`: use one of ban, unban")
    simcord.assert_error(env, commands.BadArgument)
    message = await say(world.moderator, world.general, "!cases search status:open")
    assert message.content.startswith("Unknown case status `open`: use one of active")
    simcord.assert_error(env, commands.BadArgument)
    message = await say(world.moderator, world.general, "!cases search since:soon")
    assert message.content.startswith("'soon' is not a duration or a date; use e.g. 7d or 12h")
    simcord.assert_error(env, commands.BadArgument)
    message = await say(world.moderator, world.general, "!cases search since:1d until:7d")
    assert message.content == "`since:` must be before `until:`."
    simcord.assert_error(env, contains="must be before")


# --- history --------------------------------------------------------------------------------


async def test_history_of_a_user(env: simcord.Env, cases_world: World) -> None:
    world = cases_world
    await seed(env, world, case_type=CaseType.WARN)
    await seed(env, world, user=world.member2, case_type=CaseType.WARN)
    await seed(env, world, case_type=CaseType.TIMEOUT)
    await seed(env, world, case_type=CaseType.BAN, status=CaseStatus.LIFTED)

    message = await say(world.moderator, world.general, f"!cases history {world.member.mention}")
    embed = message.embeds[0]
    assert embed.title == f"Case history of {world.member.name}"
    text = str(embed.description)
    assert text.startswith(f"<@{world.member.id}> (`{world.member.id}`)\nIn force: 🔇 Timeout `#3`")
    assert numbers_in(text) == [3, 4, 3, 1]  # "In force" names #3, then the list
    assert footer(message) == "Page 1/1 · 3 cases"

    result = await world.moderator.slash(world.general, "cases history", user=world.member2)
    assert result.response is not None
    assert numbers_in(str(result.response.embeds[0].description)) == [2]
    assert "In force" not in str(result.response.embeds[0].description)


# --- modify ---------------------------------------------------------------------------------


async def test_modify_reason_and_status_edits_the_mod_log_message(
    env: simcord.Env, cases_world: World
) -> None:
    world = cases_world
    bot = fish(env)
    await bot.db.guild_config.set_log_channel(world.guild.id, "mod", world.mod_log.id)
    case = await seed(env, world, case_type=CaseType.BAN, reason="first reason")
    # Posted to the mod log the way the moderation actions post their cases.
    await log_case(env, world, case, note="The member was told by DM.")
    logged = world.mod_log.last_message.embeds[0]
    assert fields_of(logged)["Reason"] == "first reason"

    message = await say(world.moderator, world.general, "!cases modify 1 Evading a ban @everyone")
    assert message.content.startswith(
        "✏️ Case #1 updated: reason changed. The moderation-log message was updated"
    )
    stored = await bot.db.case.get_case_by_number(world.guild.id, 1)
    assert stored is not None
    assert stored.reason == "Evading a ban @everyone"
    assert stored.status == CaseStatus.ACTIVE.value
    assert stored.extra["edits"][0]["reason"] == "first reason"
    logged_embed = world.mod_log.last_message.embeds[0]
    logged = fields_of(logged_embed)
    assert logged_embed.title == "🔨 Case #1 · Ban"
    assert logged["Reason"] == "Evading a ban @everyone"
    assert "Status" not in logged  # the mod log shows a status once it is not active
    assert logged["Last edited"].startswith(f"by <@{world.moderator.id}> (moderator, ")
    assert logged_embed.footer.text == "The member was told by DM."

    result = await world.moderator.slash(
        world.general, "cases modify", number=1, status="voided", reason="Wrong member"
    )
    assert result.response is not None
    assert result.response.content.startswith(
        "✏️ Case #1 updated: reason changed, status Active → Voided."
    )
    stored = await bot.db.case.get_case_by_number(world.guild.id, 1)
    assert stored is not None
    assert (stored.reason, stored.status) == ("Wrong member", "voided")
    logged = fields_of(world.mod_log.last_message.embeds[0])
    assert (logged["Reason"], logged["Status"]) == ("Wrong member", "Voided")

    message = await say(world.moderator, world.general, "!cases modify 1 status:lifted")
    assert message.content.startswith("✏️ Case #1 updated: status Voided → Lifted.")
    assert fields_of(world.mod_log.last_message.embeds[0])["Status"] == "Lifted"

    # Nothing to change, nothing given, and bad values.
    message = await say(world.moderator, world.general, "!cases modify 1 status:lifted")
    assert message.content == "Case #1 already has that reason and status: nothing changed."
    message = await say(world.moderator, world.general, "!cases modify 1")
    assert message.content.startswith("Give a new reason, a new status or both")
    simcord.assert_error(env, contains="Give a new reason")
    message = await say(world.moderator, world.general, "!cases modify 1 status:gone")
    assert message.content.startswith("Unknown case status `gone`")
    simcord.assert_error(env, commands.BadArgument)
    message = await say(world.moderator, world.general, "!cases modify 7 status:voided")
    assert message.content == "There is no case #7 in this server."
    simcord.assert_error(env, contains="There is no case #7")
    message = await say(world.moderator, world.general, "!cases modify 1 " + "x" * 1001)
    assert message.content == "A reason is at most 1000 characters; this one has 1001."
    simcord.assert_error(env, contains="at most 1000 characters")


async def test_modify_says_when_the_mod_log_message_is_gone(
    env: simcord.Env, cases_world: World
) -> None:
    world = cases_world
    bot = fish(env)
    await bot.db.guild_config.set_log_channel(world.guild.id, "mod", world.mod_log.id)
    gone = await seed(env, world, reason="one")
    log_message = await log_case(env, world, gone)
    await log_message.delete()
    never_logged = await seed(env, world, reason="two")

    message = await say(world.moderator, world.general, "!cases modify 1 new reason")
    assert message.content == (
        "✏️ Case #1 updated: reason changed. "
        "Its moderation-log message is gone (deleted, or the log moved to another channel), "
        "so only the case was updated."
    )
    assert message.embeds[0].title == "⚠️ Case #1 · Warning"
    message = await say(world.moderator, world.general, "!cases modify 2 status:voided")
    assert message.content == (
        "✏️ Case #2 updated: status Active → Voided. It has no moderation-log message to update."
    )
    stored = await bot.db.case.get_cases_by_numbers(world.guild.id, [1, 2])
    assert stored[1].reason == "new reason"
    assert stored[2].status == "voided"
    assert never_logged.reason == "two"
