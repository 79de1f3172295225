"""Snippets behind the commands (SimCord): the per-guild cache (no database read when warm,
forgotten on every change, right across a rolled-back transaction), buffered use counts,
restarts, the `<prefix><name>` shortcut, import and export."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import simcord
import yaml

from fish_bot.bot import FishBot

from .conftest import World, say
from .moderation_helpers import restart
from .snippet_helpers import assert_refused, cog, fish, post, set_up, slash_text


class Boom(Exception):
    """Raised by a test to abort a transaction."""


@pytest.fixture
async def sw(env: simcord.Env, world: World) -> World:
    world = await set_up(env, world)
    await say(world.member, world.general, "!s create rules Be nice.")
    return world


def updates(env: simcord.Env) -> int:
    return fish(env).database.stats.by_statement.get("UPDATE", 0)


async def stored_uses(env: simcord.Env, world: World, name: str) -> int:
    row = await fish(env).db.snippet.get_snippet_by_name_and_guild_id(name, world.guild.id)
    assert row is not None
    return row.uses


# --- the cache -------------------------------------------------------------------------------


async def test_a_warm_snippet_does_no_database_io(env: simcord.Env, sw: World) -> None:
    stats = fish(env).database.stats
    await say(sw.member2, sw.general, "!s rules")  # warms every cache of the guild
    before = stats.queries
    for _ in range(5):
        assert (await say(sw.member2, sw.general, "!s rules")).content == "Be nice."
    result = await sw.member2.slash(sw.general, "snippet show", name="rules")
    assert slash_text(result) == "Be nice."
    assert stats.queries == before

    cog(env).cache.invalidate(sw.guild.id)  # cold: the guild's snippets in one query
    await say(sw.member2, sw.general, "!s rules")
    assert stats.queries == before + 1


async def test_every_change_is_seen_at_once(env: simcord.Env, sw: World) -> None:
    await say(sw.member2, sw.general, "!s rules")
    await say(sw.member, sw.general, "!s edit rules Be kind.")
    assert (await say(sw.member2, sw.general, "!s rules")).content == "Be kind."
    row = await fish(env).db.snippet.get_snippet_by_name_and_guild_id("rules", sw.guild.id)
    assert row is not None and row.id is not None
    await fish(env).db.snippet.edit_snippet(row.id, "Changed elsewhere.", sw.owner.id)
    assert (await say(sw.member2, sw.general, "!s rules")).content == "Changed elsewhere."


async def test_the_cache_is_right_across_a_rolled_back_and_a_committed_transaction(
    env: simcord.Env, sw: World
) -> None:
    db = fish(env).db
    row = await db.snippet.get_snippet_by_name_and_guild_id("rules", sw.guild.id)
    assert row is not None and row.id is not None
    await say(sw.member2, sw.general, "!s rules")

    with pytest.raises(Boom):
        async with db.transaction():
            await db.snippet.edit_snippet(row.id, "never committed", sw.owner.id)
            # Read meanwhile by the bot (another task): the committed text.
            assert (await say(sw.member2, sw.general, "!s rules")).content == "Be nice."
            raise Boom
    assert (await say(sw.member2, sw.general, "!s rules")).content == "Be nice."

    async with db.transaction():
        await db.snippet.edit_snippet(row.id, "committed", sw.owner.id)
        assert (await say(sw.member2, sw.general, "!s rules")).content == "Be nice."
    assert (await say(sw.member2, sw.general, "!s rules")).content == "committed"


# --- use counts --------------------------------------------------------------------------------


async def test_uses_are_buffered_and_written_in_one_batch_every_30_seconds(
    env: simcord.Env, sw: World
) -> None:
    await say(sw.member, sw.general, "!s create faq Read the docs.")
    before = updates(env)
    for _ in range(4):
        await say(sw.member2, sw.general, "!s rules")
    await say(sw.member2, sw.general, "!s faq")
    assert updates(env) == before  # nothing written per use
    assert await stored_uses(env, sw, "rules") == 0
    info = await say(sw.member, sw.general, "!s info rules")
    assert {f.name: f.value for f in info.embeds[0].fields}["Uses"] == "4"  # counted already

    await env.advance_time(31)
    assert updates(env) == before + 1  # both snippets in one UPDATE
    assert await stored_uses(env, sw, "rules") == 4
    assert await stored_uses(env, sw, "faq") == 1
    info = await say(sw.member, sw.general, "!s info rules")
    assert {f.name: f.value for f in info.embeds[0].fields}["Uses"] == "4"  # not counted twice
    await env.advance_time(31)
    assert updates(env) == before + 1  # nothing new: nothing written
    await say(sw.member2, sw.general, "!s rules")
    status = await say(sw.owner, sw.general, "!status snippets")
    fields = {f.name: f.value for f in status.embeds[0].fields}
    assert fields["Uses not written yet"] == "1" and fields["Servers in memory"] == "1"
    assert "Write use counts: running" in fields["Loops"]


async def clean_restart(env: simcord.Env, make_bot: Callable[..., FishBot]) -> None:
    """Stop the bot cleanly (cogs unload: buffered uses are written) and start a new one."""
    await fish(env).close()
    await restart(env, make_bot)


async def test_a_restart_keeps_snippets_and_their_use_counts(
    env: simcord.Env, sw: World, make_bot: Callable[..., FishBot]
) -> None:
    await say(sw.member, sw.general, "!s alias r rules")
    await say(sw.moderator, sw.general, "!s lock rules")
    for _ in range(3):
        await say(sw.member2, sw.general, "!s r")
    await clean_restart(env, make_bot)  # the unload writes the buffered uses
    assert await stored_uses(env, sw, "rules") == 3
    assert (await say(sw.member2, sw.general, "!s r")).content == "Be nice."
    info = (await say(sw.member, sw.general, "!s info rules")).embeds[0]
    fields = {f.name: f.value for f in info.fields}
    assert fields["Uses"] == "4" and fields["Aliases"] == "`r`" and "Locked" in fields


async def test_a_crash_keeps_the_uses_flushed_before_it(
    env: simcord.Env, sw: World, make_bot: Callable[..., FishBot]
) -> None:
    for _ in range(3):
        await say(sw.member2, sw.general, "!s rules")
    await env.advance_time(31)
    await say(sw.member2, sw.general, "!s rules")  # not flushed yet when the bot dies
    await restart(env, make_bot)  # no clean shutdown
    assert await stored_uses(env, sw, "rules") == 3
    assert (await say(sw.member2, sw.general, "!s rules")).content == "Be nice."


# --- the shortcut --------------------------------------------------------------------------


async def test_the_shortcut_is_off_by_default(env: simcord.Env, sw: World) -> None:
    assert await post(sw.member2, sw.general, "!rules") == []


async def test_the_shortcut_posts_a_snippet_no_command_is_named_after(
    env: simcord.Env, sw: World
) -> None:
    reply = await say(sw.owner, sw.general, "!settings set snippets shortcut on")
    assert "shortcut" in reply.content
    assert [m.content for m in await post(sw.member2, sw.general, "!rules")] == ["Be nice."]
    assert [m.content for m in await post(sw.member2, sw.general, "!RULES")] == ["Be nice."]
    assert await post(sw.member2, sw.general, "!rules and more words") == []
    assert await post(sw.member2, sw.general, "!nothing") == []
    # A command wins over a snippet of the same name.
    await fish(env).db.snippet.import_snippets(sw.guild.id, [("ping", "not pong")], sw.owner.id)
    answer = await post(sw.member2, sw.general, "!ping")
    assert answer and answer[0].content != "not pong"
    # The module's rules apply to the shortcut as to `snippet <name>`.
    await say(sw.owner, sw.general, f"!settings set snippets restricted_channels {sw.general.id}")
    assert await post(sw.member2, sw.general, "!rules") == []


# --- import and export -----------------------------------------------------------------------


async def test_import_a_json_file_attached_to_the_message(env: simcord.Env, sw: World) -> None:
    data = [
        {"name": "install", "content": "pip install fish-bot", "aliases": ["setup"]},
        {"name": "Docs", "content": "See the docs."},
    ]
    await sw.moderator.send(
        sw.general, "!s import", attachments=[("snippets.json", json.dumps(data).encode())]
    )
    assert sw.general.last_message.content == "📥 Imported 2 snippets and 1 aliases."
    assert (await say(sw.member, sw.general, "!s setup")).content == "pip install fish-bot"
    assert (await say(sw.member, sw.general, "!s docs")).content == "See the docs."


async def test_import_a_yaml_file_by_slash(env: simcord.Env, sw: World) -> None:
    text = "- name: one\n  content: First\n- name: two\n  content: |\n    Second\n    line\n"
    result = await sw.moderator.slash(
        sw.general, "snippet import", file=("snippets.yaml", text.encode())
    )
    assert slash_text(result) == "📥 Imported 2 snippets."
    assert (await say(sw.member, sw.general, "!s two")).content == "Second\nline"


async def test_import_is_all_or_nothing_with_a_line_per_refused_entry(
    env: simcord.Env, sw: World
) -> None:
    data = [
        {"name": "good", "content": "fine"},
        {"name": "Bad Name", "content": "x"},
        {"name": "rules", "content": "taken"},
        {"name": "long", "content": "y" * 4001},
        {"name": "empty"},
        {"name": "good", "content": "twice"},
        "not a mapping",
        {"name": "list", "content": "a subcommand"},
    ]
    await sw.moderator.send(
        sw.general, "!s import", attachments=[("s.json", json.dumps(data).encode())]
    )
    reply = sw.general.last_message.content
    assert_refused(env, reply, "7 entries were refused, so nothing was imported:")
    lines = reply.splitlines()[1:]
    assert len(lines) == 7
    assert lines[0].startswith("• entry 2: `Bad Name` is not a valid name")
    assert lines[1] == "• entry 3: `rules` already exists here (or earlier in the file)"
    assert lines[2].startswith("• entry 4 (`long`): the content is 4,001 characters")
    assert lines[3] == "• entry 5 (`empty`): it has no `content` text"
    assert lines[4] == "• entry 6: `good` already exists here (or earlier in the file)"
    assert lines[5] == "• entry 7: not a mapping with `name` and `content`"
    assert lines[6] == "• entry 8: `list` is the name of a `snippet` subcommand"
    names = [s.name for s in await fish(env).db.snippet.get_all_snippets_by_guild_id(sw.guild.id)]
    assert names == ["rules"]


@pytest.mark.parametrize(
    ("filename", "payload", "message"),
    [
        ("s.txt", b"[]", "attach a `.json`, `.yaml` or `.yml` file"),
        ("s.json", b"{not json", "is not valid JSON"),
        ("s.json", b"\xff\xfe", "is not UTF-8 text"),
        ("s.yaml", b"a: &a [*a]", "refers to a value that contains it"),
        (
            "s.json",
            json.dumps([{"name": f"n{i}", "content": "x"} for i in range(501)]).encode(),
            "holds 501 snippets; at most 500",
        ),
        ("s.json", b"[]", "holds no snippets"),
    ],
)
async def test_bad_import_files_are_refused(
    env: simcord.Env, sw: World, filename: str, payload: bytes, message: str
) -> None:
    await sw.moderator.send(sw.general, "!s import", attachments=[(filename, payload)])
    assert_refused(env, sw.general.last_message.content, message)


async def test_import_needs_a_file_and_the_moderator_rank(env: simcord.Env, sw: World) -> None:
    reply = await say(sw.moderator, sw.general, "!s import")
    assert_refused(env, reply.content, "Attach a `.json` or `.yaml` file")
    await sw.member.send(sw.general, "!s import", attachments=[("s.json", b"[]")])
    assert_refused(env, sw.general.last_message.content, "`snippet import` needs permission rank 2")


@pytest.mark.parametrize("kind", ["json", "yaml"])
async def test_export_writes_a_file_that_import_reads_back(
    env: simcord.Env, sw: World, kind: str
) -> None:
    await say(sw.member, sw.general, "!s alias r rules")
    await say(sw.member, sw.general, "!s create faq Line one\nLine two")
    reply = await say(sw.member, sw.general, f"!s export {kind}")
    assert reply.content == "📤 2 snippets of this server."
    (attachment,) = reply.attachments
    assert attachment.filename == f"snippets.{kind}"
    raw = env.backend.cdn.get(attachment.url)
    assert raw is not None
    document = json.loads(raw) if kind == "json" else yaml.safe_load(raw)
    assert document == [
        {"name": "faq", "content": "Line one\nLine two"},
        {"name": "rules", "content": "Be nice.", "aliases": ["r"]},
    ]
    for name in ("faq", "rules"):
        await say(sw.member, sw.general, f"!s delete {name}")
    await sw.moderator.send(sw.general, "!s import", attachments=[(attachment.filename, raw)])
    assert sw.general.last_message.content == "📥 Imported 2 snippets and 1 aliases."
    assert (await say(sw.member2, sw.general, "!s r")).content == "Be nice."


async def test_unload_writes_the_buffered_uses(env: simcord.Env, sw: World) -> None:
    await say(sw.member2, sw.general, "!s rules")
    await say(sw.member2, sw.general, "!s rules")
    await fish(env).unload_extension("fish_bot.cogs.snippets")
    assert await stored_uses(env, sw, "rules") == 2
    hooks = fish(env).unknown_command_hooks  # the shortcut's hook went with the module
    assert [getattr(hook, "__name__", "") for hook in hooks] == ["suggest_command"]  # help's


# --- concurrency ---------------------------------------------------------------------------


async def test_twenty_simultaneous_creates_of_one_name_give_one_snippet(
    env: simcord.Env, world: World, db_backend: str
) -> None:
    members = [world.guild.add_member(env.create_user(f"racer{i}")) for i in range(20)]
    await env.settle()
    last = world.general.last_message
    after = last.id if last is not None else 0
    for i, member in enumerate(members):  # all arrive before the bot handles one
        env.backend.create_message(world.general.id, member.id, f"!s create Race text {i}")
    await env.settle()
    answers = [m.content for m in world.general.history() if m.author.bot and m.id > after]
    assert len(answers) == 20
    assert answers.count("✅ Created the snippet `race`.") == 1
    assert answers.count("❌ A snippet named `race` already exists here.") == 19
    env.errors  # noqa: B018  (the 19 refusals, acknowledged)
    rows = await fish(env).db.snippet.get_all_snippets_by_guild_id(world.guild.id)
    assert [row.name for row in rows] == ["race"]
