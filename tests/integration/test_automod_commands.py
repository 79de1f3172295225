"""automod show/test, the safe pattern subset and timed matching, slash commands, and the
speed promise: an ordinary message does no database I/O."""

from __future__ import annotations

import simcord

from fish_bot.cogs.automod.safe_regex import PatternSet, UnsafePattern, check_pattern

from .automod_helpers import gone, set_up_automod, statements
from .conftest import World
from .moderation_helpers import cases, fish, say, set_up_moderation

CATASTROPHIC = "(a+)+$"
#: Passes the subset (no nesting) but is polynomial of degree 10 on a line of commas.
SLOW_BUT_FLAT = ".*," * 10 + "Z"


async def test_show_lists_rules_and_thresholds(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(
        env, world, "spam flood timeout count=4 seconds=5 duration=10m exempt_rank=3"
    )
    await say(w.admin, w.bot_commands, "!automod escalation add 3 7d timeout 1h")
    await w.admin.send(w.bot_commands, "!automod show")
    embed = w.bot_commands.last_message.embeds[0]
    rules = embed.fields[0].value
    assert "**flood**: spam → timeout 10m" in rules and "count=4 seconds=5" in rules
    assert "rank ≥ 3" in rules
    assert "3 warns in 1w → timeout 1h" in embed.fields[1].value


async def test_test_shows_the_rule_without_acting(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "words swearing warn words=heck", "caps loud delete")
    answer = await say(w.admin, w.bot_commands, "!automod test oh HECK")
    assert "`swearing` (words) → warn: a banned word" in answer
    assert "would act" in answer
    assert await say(w.admin, w.bot_commands, "!automod test hello there") == (
        "✅ No rule would fire on that text."
    )
    assert await cases(env, w) == []


async def test_bad_options_are_refused_with_the_reason(env: simcord.Env, world: World) -> None:
    w = await set_up_moderation(env, world)
    cases_ = [
        ("!automod add nope x delete", "Unknown rule kind `nope`"),
        ("!automod add spam x explode", "Unknown action `explode`"),
        ("!automod add spam x timeout", "A timeout needs a duration"),
        ("!automod add spam x delete count=1", "`count` of a spam rule is 2 to 50"),
        ("!automod add links x delete", "needs `domains=`"),
        ("!automod add spam x delete colour=red", "has no option `colour`"),
        ("!automod add spam Bad!Name delete", "A rule name is 1-32"),
    ]
    for command, text in cases_:
        assert text in await say(w.admin, w.bot_commands, command), command
    await say(w.admin, w.bot_commands, "!automod add spam dup delete")
    assert "already a rule called `dup`" in await say(
        w.admin, w.bot_commands, "!automod add caps dup delete"
    )
    env.errors.clear()


async def test_catastrophic_patterns_are_refused(env: simcord.Env, world: World) -> None:
    w = await set_up_moderation(env, world)
    for pattern in (CATASTROPHIC, r"(\w*)*x", r"(a)\1", r"(?<=a)b", r"(?=a)"):
        answer = await say(
            w.admin, w.bot_commands, f'!automod add words bad delete pattern="{pattern}"'
        )
        assert "is refused" in answer, (pattern, answer)
    env.errors.clear()
    answer = await say(
        w.admin, w.bot_commands, '!automod add words nitro delete pattern="fr[e3]+ n[i1]tro"'
    )
    assert answer.startswith("🛡️ Rule `nitro` added")
    caught = await w.member.send(w.general, "get FREE N1TRO now")
    assert gone(env, w.general, caught.id)


async def test_a_slow_pattern_cannot_stall_the_bot(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, f'words slow delete pattern="{SLOW_BUT_FLAT}"')
    sent = await w.member.send(w.general, "," * 1900)
    # Matching ran out of its time budget: no match, no action, and the bot goes on.
    assert not gone(env, w.general, sent.id)
    cog = fish(env).get_cog("Automod")
    compiled = cog.compiled.peek(w.guild.id)  # type: ignore[union-attr]
    assert compiled is not None and compiled.rules[0].patterns.timeouts == 1  # type: ignore[union-attr]
    assert (await say(w.member, w.general, "!ping")).startswith("Pong")


def test_the_safe_subset_and_the_timed_matcher() -> None:
    for bad in (CATASTROPHIC, "(x+x+)+y", "(?:.*,){10}Z", "(a{2})+", "x{e<=1}", "(?R)", "a" * 201):
        try:
            check_pattern(bad)
        except UnsafePattern:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    for good in ("fr[e3]+ n[i1]tro", "(foo|bar)+", "a{2,3}", r"\(a+\)+", "(a+)?"):
        check_pattern(good)
    patterns = PatternSet([SLOW_BUT_FLAT, "z"])
    assert patterns.search("," * 3000) is None and patterns.timeouts == 1
    hit = PatternSet(["n[i1]tro"]).search("free NITRO")
    assert hit is not None and hit.matched == "NITRO"


async def test_slash_add_and_test(env: simcord.Env, world: World) -> None:
    w = await set_up_moderation(env, world)
    result = await w.admin.slash(
        w.bot_commands,
        "automod add",
        kind="words",
        name="swearing",
        action="delete",
        options="words=heck",
    )
    assert result.response is not None and "Rule `swearing` added" in result.response.content
    result = await w.admin.slash(w.bot_commands, "automod test", text="heck no")
    assert result.response is not None and "`swearing`" in result.response.content


async def test_commands_need_their_rank(env: simcord.Env, world: World) -> None:
    w = await set_up_moderation(env, world)
    answer = await say(w.member, w.bot_commands, "!automod add spam x delete")
    assert "needs permission rank 5" in answer
    answer = await say(w.member, w.general, "!lockdown")
    assert "needs permission rank 3" in answer
    env.errors.clear()


async def test_an_ordinary_message_does_no_database_io(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(
        env,
        world,
        "spam flood timeout count=30 seconds=5 duration=10m",
        "duplicates copies delete",
        "words swearing warn words=heck,darn",
        "links badsites delete domains=evil.com",
        "invites ads delete",
        "caps loud delete",
        "mentions pings warn",
        "zalgo glitch delete",
        "emoji emojiflood delete",
        "attachments exes delete types=exe exempt_rank=5",
    )
    await w.member.send(w.general, "warm-up: the rules are loaded")
    before = statements(env)
    for i in range(20):
        await w.member.send(w.general, f"an ordinary message number {i}, see https://python.org")
    assert statements(env) == before
    # A rule change is seen at once (the cache is dropped after the commit).
    await say(w.admin, w.bot_commands, "!automod add words newword delete words=sardine")
    caught = await w.member.send(w.general, "sardine")
    assert gone(env, w.general, caught.id)


async def test_with_the_database_down_messages_are_still_deleted(
    env: simcord.Env, world: World
) -> None:
    w = await set_up_automod(env, world, "words swearing warn words=heck")
    await w.member.send(w.general, "warm-up: the rules are loaded")
    await fish(env).database.disconnect()
    try:
        caught = await w.member.send(w.general, "heck")
        assert gone(env, w.general, caught.id)  # harm control needs no database
    finally:
        await fish(env).database.connect()
    assert await cases(env, w) == []  # no case could be recorded: none was invented
    titles = [m.embeds[0].title for m in w.mod_log.history() if m.embeds]
    assert titles == ["🗑️ Message deleted by automod"]


async def test_rules_work_after_the_module_is_reloaded(
    env: simcord.Env, world: World, owner: object
) -> None:
    w = await set_up_automod(env, world, "words swearing delete words=heck")
    answer = await say(w.owner, w.bot_commands, "!cog reload automod")
    assert "eloaded" in answer, answer
    caught = await w.member.send(w.general, "heck")
    assert gone(env, w.general, caught.id)


async def test_rule_and_threshold_changes_are_audited(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "spam flood timeout count=4 seconds=5 duration=10m")
    await say(w.admin, w.bot_commands, "!automod disable flood")
    await say(w.admin, w.bot_commands, "!automod escalation add 3 7d timeout 1h")
    await say(w.admin, w.bot_commands, "!automod remove flood")

    rows = await fish(env).db.audit.find_all({"guild_id": w.guild.id, "action": "automod"})
    found = [(row.target, row.old_value, row.new_value, row.actor_id) for row in rows]
    assert ("rule flood", None, "off", w.admin.id) in found
    assert ("escalation at 3 warns", None, "3 warns in 1w → timeout 1h", w.admin.id) in found
    assert ("rule flood", "present", None, w.admin.id) in found
    assert any(target == "rule flood" and isinstance(new, dict) for target, _, new, _ in found)
