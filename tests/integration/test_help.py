"""The help cog through SimCord: `help` (prefix and slash), the module menu, who sees what, and
the answer to an unknown command (issue 9 "help that looks like a finished bot"; issue 15: help
logs no INFO line per hidden command)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
import pytest
import simcord
from discord.ext import commands
from simcord.results import to_discord_message

from fish_bot.bot import BUILTIN_COGS
from fish_bot.cogs.help.utils import modules
from fish_bot.cogs.help.views import module_menu
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.decorators import examples, hybrid_command
from fish_bot.core.error_unwrap import unwrap
from fish_bot.core.views import RoutedView
from fish_bot.exceptions import UserFacingError

from .conftest import World, replies, say
from .moderation_helpers import fish

COGS = [*BUILTIN_COGS, "fish_bot.cogs.example"]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


@pytest.fixture
async def ranked(env: simcord.Env, world: World) -> World:
    """The world with the Moderator role at rank 4 (every moderation command but config)."""
    await fish(env).permission_store.set_role_rank(world.guild.id, world.mod_role.id, 4)
    return world


def embed_of(message: Any) -> discord.Embed:
    assert message.embeds, message.content
    return message.embeds[0]


def text_of(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{item.name}\n{item.value}" for item in embed.fields]
    return "\n".join(parts)


def field_of(embed: discord.Embed, name: str) -> str:
    found = [item.value for item in embed.fields if item.name == name]
    assert found, f"no field {name!r} in {[item.name for item in embed.fields]}"
    return str(found[0])


def acknowledge_refusals(env: simcord.Env) -> None:
    """A help refusal (an unknown name) is a UserFacingError that SimCord records: meant."""
    assert all(isinstance(unwrap(error), UserFacingError) for error in env.errors)


def option_values(message: Any) -> list[str]:
    rows = message.components
    select = rows[0].children[0]
    return [option.value for option in select.options]


# --- the overview ------------------------------------------------------------------------------


async def test_a_member_sees_fewer_commands_than_a_moderator(
    env: simcord.Env, ranked: World
) -> None:
    member = text_of(embed_of(await say(ranked.member, ranked.general, "!help")))
    moderator = text_of(embed_of(await say(ranked.moderator, ranked.general, "!help")))
    for shown in ("`!ping`", "`!status`", "`!help`"):
        assert shown in member and shown in moderator
    for hidden in ("`!ban`", "`!cases`", "`!warn`", "`!perm`", "`!sync`", "Moderation"):
        assert hidden not in member
    for shown in ("`!ban`", "`!warn`", "Moderation"):
        assert shown in moderator
    # `cog` is a group whose subcommands need rank 8 or a bot owner: not listed for either.
    assert "`!cog`" not in member and "`!cog`" not in moderator
    assert "`!config`" not in moderator  # it needs rank 7
    # A group that is a command itself (`afk lunch`, `snippet rules`) is listed for a member
    # even though its moderator subcommands are not.
    assert "`!afk`" in member and "`!snippet`" in member
    # The owner (a bot owner) sees the owner-only commands.
    fish(env).owner_ids = {ranked.owner.id}
    owner = text_of(embed_of(await say(ranked.owner, ranked.general, "!help")))
    assert "`!sync`" in owner and "`!cog`" in owner and "`!config`" in owner


async def test_the_overview_is_about_this_channel(env: simcord.Env, ranked: World) -> None:
    command = f"!settings set moderation restricted_channels {ranked.general.mention}"
    await say(ranked.admin, ranked.general, command)
    here = text_of(embed_of(await say(ranked.moderator, ranked.general, "!help")))
    elsewhere = text_of(embed_of(await say(ranked.moderator, ranked.bot_commands, "!help")))
    assert "`!ban`" not in here and "Moderation" not in here
    assert "`!ban`" in elsewhere
    page = embed_of(await say(ranked.moderator, ranked.general, "!help ban"))
    assert "⛔ You can't use it here: Moderation commands are not allowed in this channel." in (
        field_of(page, "Who may use it")
    )


async def test_the_overview_has_one_line_per_command_and_fits(
    env: simcord.Env, ranked: World
) -> None:
    embed = embed_of(await say(ranked.moderator, ranked.general, "!help"))
    moderation = "\n".join(
        str(item.value) for item in embed.fields if str(item.name).startswith("Moderation")
    )
    lines = moderation.splitlines()
    assert lines[0].startswith("`!ban` — Ban a member")
    assert any(line.startswith("`!cases` — ") and "(+4 subcommands)" in line for line in lines)
    assert all(len(str(item.value)) <= 1024 for item in embed.fields)
    assert "…" not in moderation  # split over fields rather than cut


async def test_help_uses_the_servers_prefix(env: simcord.Env, ranked: World) -> None:
    await say(ranked.admin, ranked.general, "!config prefix ?")
    embed = embed_of(await say(ranked.moderator, ranked.general, "?help ban"))
    assert embed.title == "?ban"
    assert field_of(embed, "Usage").startswith("`?ban <user>")
    assert "`?ban @bob spamming`" in field_of(embed, "Examples")
    overview = text_of(embed_of(await say(ranked.moderator, ranked.general, "?help")))
    assert "`?ping`" in overview and "`!ping`" not in overview


async def test_help_logs_no_info_line_per_hidden_command(
    env: simcord.Env, ranked: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="fish_bot"):
        await say(ranked.member, ranked.general, "!help")
        await say(ranked.member, ranked.general, "!help moderation")
    infos = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert not [r for r in infos if "Permission denied" in r.getMessage()], infos
    debug = [r.getMessage() for r in caplog.records if r.name == "fish_bot.cogs.help"]
    assert any("commands not shown" in line for line in debug)
    acknowledge_refusals(env)  # the member can use no Moderation command


# --- one command ---------------------------------------------------------------------------------


async def test_help_of_a_command_shows_usage_arguments_who_and_examples(
    env: simcord.Env, ranked: World
) -> None:
    embed = embed_of(await say(ranked.member, ranked.general, "!help kick"))
    assert embed.title == "!kick"
    assert "Kick a member" in str(embed.description)
    usage = field_of(embed, "Usage")
    assert usage.startswith("`!kick <member> [reason]`")
    assert "Slash: `/kick`" in usage
    arguments = field_of(embed, "Arguments").splitlines()
    assert arguments == [
        "`member` — The member to kick",
        "`reason` (optional) — Why (shown to the member and in the mod log); add --silent to "
        "skip the DM",
    ]
    assert "No description given" not in text_of(embed)
    who = field_of(embed, "Who may use it")
    assert "Permission rank 3 or higher." in who
    assert "⛔ You can't use it here: `kick` needs permission rank 3; your rank is 0." in who
    assert field_of(embed, "Examples").splitlines() == [
        "`!kick @bob spamming`",
        "`!kick @bob spamming --silent`",
    ]
    assert str(embed.footer.text).startswith("Moderation module · !help <command>")
    moderator = embed_of(await say(ranked.moderator, ranked.general, "!help kick"))
    assert "✅ You can use it here." in field_of(moderator, "Who may use it")
    # The name may be written with the prefix, a slash, in any case, with extra spaces.
    for query in ("!kick", "/kick", "KICK", "  kick  "):
        again = embed_of(await say(ranked.member, ranked.general, f"!help {query}"))
        assert again.title == "!kick", query


async def test_who_may_use_follows_the_servers_rank_and_rules(
    env: simcord.Env, ranked: World
) -> None:
    await say(ranked.admin, ranked.general, "!perm rank command warn 1")
    await say(ranked.admin, ranked.general, f"!perm allow warn {ranked.member_role.mention}")
    embed = embed_of(await say(ranked.member, ranked.general, "!help warn"))
    who = field_of(embed, "Who may use it")
    assert "Permission rank 1 or higher (this server's setting; 2 by default)." in who
    assert f"Command rule: only the roles {ranked.member_role.mention}." in who
    assert "✅ You can use it here." in who
    overview = text_of(embed_of(await say(ranked.member, ranked.general, "!help")))
    assert "`!warn`" in overview  # the rule lets the member use it: help lists it


async def test_a_subcommand_is_titled_with_its_full_name(env: simcord.Env, ranked: World) -> None:
    embed = embed_of(await say(ranked.moderator, ranked.general, "!help cases search"))
    assert embed.title == "!cases search"
    assert field_of(embed, "Usage").startswith(
        "`!cases search [user:] [moderator:] [type:] [status:] [since:] [until:]`"
    )
    arguments = field_of(embed, "Arguments")
    assert "`user:` (optional) — Cases about this user" in arguments
    assert "`since:` (optional)" in arguments
    group = embed_of(await say(ranked.moderator, ranked.general, "!help cases"))
    assert group.title == "!cases"
    assert "`!cases search` — Find cases" in field_of(group, "Subcommands")


async def test_an_alias_and_an_alias_command_are_shown(env: simcord.Env, ranked: World) -> None:
    class Fishing(BaseCog):
        """Fishing commands."""

        @hybrid_command(name="cast", aliases=["throw"])
        @examples("cast")
        async def cast(self, ctx: commands.Context[Any]) -> None:
            """Cast a line."""
            await self.reply(ctx, "🎣")

    await fish(env).add_cog(Fishing(fish(env)))
    embed = embed_of(await say(ranked.member, ranked.general, "!help throw"))
    assert embed.title == "!cast"
    assert field_of(embed, "Aliases") == "`!throw`"
    fish(env).owner_ids = {ranked.owner.id}
    alias = embed_of(await say(ranked.owner, ranked.general, "!help config ranks set"))
    assert "Another name for `perm rank set`" in field_of(alias, "Who may use it")


async def test_help_of_a_module(env: simcord.Env, ranked: World) -> None:
    embed = embed_of(await say(ranked.moderator, ranked.general, "!help Moderation"))
    assert embed.title == "Moderation module"
    lines = str(embed.description).splitlines()
    assert "`!cases search` — Find cases by user, moderator, type, status and time." in lines
    assert "`!warn` — Warn a member: recorded as a case and sent to them by DM." in lines
    reply = await say(ranked.member, ranked.general, "!help moderation")
    assert reply.content == (
        "The Moderation module has no commands you can use here. `!help` lists what you can use."
    )
    acknowledge_refusals(env)


async def test_an_unknown_name_suggests_the_closest_commands(
    env: simcord.Env, ranked: World
) -> None:
    reply = await say(ranked.moderator, ranked.general, "!help bann")
    assert reply.content.startswith(
        "There is no command or module called `bann`. Did you mean `!ban`"
    )
    reply = await say(ranked.moderator, ranked.general, "!help cases serch")
    assert "`!cases search`" in reply.content
    reply = await say(ranked.moderator, ranked.general, "!help moderatoin")
    assert "`Moderation`" in reply.content
    # Only commands the member may run are suggested.
    reply = await say(ranked.member, ranked.general, "!help bann")
    assert "`!ban`" not in reply.content
    reply = await say(ranked.member, ranked.general, "!help pign")
    assert "Did you mean `!ping`?" in reply.content
    acknowledge_refusals(env)


async def test_a_long_or_hostile_name_is_quoted_clipped(env: simcord.Env, ranked: World) -> None:
    name = "x`@everyone\u202e" * 200
    reply = await say(ranked.member, ranked.general, f"!help {name}"[:2000])
    assert len(reply.content) < 300
    assert "@everyone" in reply.content and "`x'@everyone" in reply.content
    assert "\u202e" not in reply.content
    stored = env.backend.get_message(reply.channel.id, reply.id)
    assert not stored.mention_everyone
    acknowledge_refusals(env)


# --- slash -------------------------------------------------------------------------------------


async def test_slash_help_and_its_autocomplete(env: simcord.Env, ranked: World) -> None:
    result = await ranked.member.slash(ranked.general, "help")
    assert result.response is not None
    overview = text_of(result.response.embeds[0])
    assert "`!ping`" in overview and "`!ban`" not in overview
    result = await ranked.moderator.slash(ranked.general, "help", query="cases search")
    assert result.response is not None
    assert result.response.embeds[0].title == "!cases search"
    offered = await ranked.moderator.autocomplete(ranked.general, "help", "query", "cas")
    names = [choice["value"] for choice in offered]
    assert names[:2] == ["cases", "cases history"] and "cases search" in names
    assert await ranked.member.autocomplete(ranked.general, "help", "query", "cas") == []
    offered = await ranked.member.autocomplete(ranked.general, "help", "query", "")
    assert {"ping", "help", "Core"} <= {choice["value"] for choice in offered}
    # Only 25 choices fit: with more modules loaded, later names need a letter or two.
    offered = await ranked.member.autocomplete(ranked.general, "help", "query", "sta")
    assert "status" in {choice["value"] for choice in offered}


async def test_slash_help_of_an_unknown_name(env: simcord.Env, ranked: World) -> None:
    result = await ranked.moderator.slash(ranked.general, "help", query="wran")
    assert result.response is not None and result.response.ephemeral
    assert "Did you mean `!warn`" in result.response.content
    acknowledge_refusals(env)


# --- the module menu -----------------------------------------------------------------------------


async def test_the_menu_switches_modules_for_whoever_asked(env: simcord.Env, ranked: World) -> None:
    message = await say(ranked.moderator, ranked.general, "!help")
    values = option_values(message)
    assert values[0] == "__overview__" and len(values) == len(set(values))
    assert {"core", "example", "help", "moderation"} <= set(values)
    member_menu = await say(ranked.member, ranked.general, "!help")
    assert "moderation" not in option_values(member_menu)
    result = await ranked.moderator.select(message, ["moderation"])
    assert result.response is not None and not result.response.ephemeral
    edited = result.response.message
    assert edited.id == message.id
    assert embed_of(edited).title == "Moderation module"
    result = await ranked.moderator.select(edited, ["__overview__"])
    assert result.response is not None
    assert embed_of(result.response.message).title == "Help"


async def test_someone_else_using_the_menu_gets_their_own_page(
    env: simcord.Env, ranked: World
) -> None:
    message = await say(ranked.moderator, ranked.general, "!help")
    result = await ranked.member.select(message, ["moderation"])
    assert result.response is not None and result.response.ephemeral
    assert result.response.content == (
        "The Moderation module has no commands you can use here. `!help` lists what you can use."
    )
    result = await ranked.member.select(message, ["core"])
    assert result.response is not None and result.response.ephemeral
    page = result.response.embeds[0]
    assert page.title == "Core module" and "`!ban`" not in str(page.description)
    # The asker's message still shows the overview.
    stored = env.backend.get_message(ranked.general.id, message.id)
    assert embed_of(to_discord_message(env, stored)).title == "Help"
    acknowledge_refusals(env)


async def test_a_menu_posted_for_another_channel_is_refused(
    env: simcord.Env, ranked: World
) -> None:
    cog = fish(env).get_cog("Help")
    assert isinstance(cog, BaseCog)
    view = module_menu(
        cog,
        channel_id=ranked.mod_log.id,
        author_id=ranked.moderator.id,
        listed=modules(fish(env)),
        current=None,
    )
    assert isinstance(view, RoutedView)
    channel = fish(env).get_channel(ranked.general.id)
    assert isinstance(channel, discord.TextChannel)
    posted = await channel.send("help", view=view)
    message = ranked.general.history()[-1]
    assert message.id == posted.id
    result = await ranked.moderator.select(message, ["moderation"])
    assert result.response is not None and result.response.ephemeral
    assert result.response.content == "This button is no longer supported."


# --- direct messages and send_help ---------------------------------------------------------------


async def test_help_in_direct_messages_lists_what_works_there(
    env: simcord.Env, ranked: World
) -> None:
    await ranked.member.send_dm("!help")
    text = text_of(embed_of(ranked.member.user.dm_channel.last_message))
    assert "`!help` — " in text and "`!example` — " in text
    assert "`!ping`" not in text  # not marked usable in direct messages
    await ranked.member.send_dm("!help example")
    embed = embed_of(ranked.member.user.dm_channel.last_message)
    assert field_of(embed, "Subcommands").splitlines() == [
        "`!example about` — What this module is (works in direct messages too)."
    ]


async def test_send_help_of_a_group_shows_its_page(env: simcord.Env, ranked: World) -> None:
    embed = embed_of(await say(ranked.member, ranked.general, "!example"))
    assert embed.title == "!example"
    assert "`!example count`" in field_of(embed, "Subcommands")


# --- an unknown command ---------------------------------------------------------------------------


async def test_an_unknown_command_suggests_the_closest(env: simcord.Env, ranked: World) -> None:
    reply = await say(ranked.moderator, ranked.general, f"!bann {ranked.member.mention} spam")
    assert reply.content == "No command `bann`; did you mean `!ban` or `!unban`?"
    stored = env.backend.get_message(reply.channel.id, reply.id)
    assert stored.ping_user_ids == [] and not stored.mention_everyone
    reply = await say(ranked.member, ranked.bot_commands, "!pnig")
    assert reply.content == "No command `pnig`; did you mean `!ping`?"


async def test_no_suggestion_unless_the_prefix_was_meant(env: simcord.Env, ranked: World) -> None:
    for text in ("!!!", "! hi", "!1", "!?", "!" + "a" * 40, "!zzzzzz"):
        sent = await ranked.moderator.send(ranked.general, text)
        assert replies(ranked.general, sent) == [], text
    # A member is not told about commands they may not run.
    sent = await ranked.member.send(ranked.general, "!bann")
    assert replies(ranked.general, sent) == []


async def test_suggestions_are_rate_limited_per_channel(env: simcord.Env, ranked: World) -> None:
    assert (await say(ranked.member, ranked.general, "!pnig")).content.startswith("No command")
    sent = await ranked.member.send(ranked.general, "!stauts")
    assert replies(ranked.general, sent) == []
    other = await say(ranked.member, ranked.bot_commands, "!stauts")
    assert other.content == "No command `stauts`; did you mean `!status`?"
    await env.advance_time(31)
    again = await say(ranked.member, ranked.general, "!stauts")
    assert again.content == "No command `stauts`; did you mean `!status`?"


async def test_the_setting_turns_suggestions_off(env: simcord.Env, ranked: World) -> None:
    reply = await say(
        ranked.admin, ranked.general, "!settings set help suggest_unknown_commands off"
    )
    assert "suggest_unknown_commands" in reply.content
    sent = await ranked.member.send(ranked.general, "!pnig")
    assert replies(ranked.general, sent) == []
    await say(ranked.admin, ranked.general, "!settings reset help suggest_unknown_commands")
    assert (await say(ranked.member, ranked.general, "!pnig")).content.startswith("No command")
