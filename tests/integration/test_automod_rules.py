"""Each automod rule through the real bot in SimCord: it fires (the message is deleted, the
action is a case by the bot with the rule and the excerpt, posted to the mod log, DM'd unless
silent, the deleted message logged with its content), and its exemptions hold."""

from __future__ import annotations

from datetime import timedelta

import simcord

from fish_bot.database.models.cases import CaseStatus, CaseType

from .automod_helpers import gone, mod_log_titles, set_up_automod
from .conftest import World
from .moderation_helpers import cases, dms, fish, say


async def test_a_banned_word_is_deleted_warned_logged_and_dmd(
    env: simcord.Env, world: World
) -> None:
    w = await set_up_automod(env, world, "words swearing warn words=darn,heck")

    sent = await w.member.send(w.general, "well DARN it <@&1> @everyone")

    assert gone(env, w.general, sent.id)
    [case] = await cases(env, w)
    assert case.case_type == CaseType.WARN.value
    assert case.moderator_id == fish(env).user.id
    assert case.reason is not None and "`swearing`" in case.reason and "DARN" in case.reason
    assert case.extra["automod_rule"] == "swearing"
    titles = mod_log_titles(w)
    assert "🗑️ Message deleted by automod" in titles
    assert any(t.startswith("⚠️ Case #1") for t in titles)
    deleted = next(m for m in w.mod_log.history() if m.embeds[0].title.startswith("🗑️"))
    content = next(f.value for f in deleted.embeds[0].fields if f.name == "Content")
    assert "well DARN it" in content
    assert "received a warning" in dms(w.member)[-1]
    # Nothing the bot posted pings: every message went out with no allowed mentions.
    assert all(not m.mentions and not m.role_mentions for m in w.mod_log.history())

    ok = await w.member.send(w.general, "darned good weather")  # not the whole word
    assert not gone(env, w.general, ok.id)


async def test_a_silent_delete_rule_records_a_delete_case_without_dm(
    env: simcord.Env, world: World
) -> None:
    w = await set_up_automod(env, world, "caps shouting delete percent=80 min_length=8 silent=yes")

    sent = await w.member.send(w.general, "WHY IS NOBODY ANSWERING ME")

    assert gone(env, w.general, sent.id)
    [case] = await cases(env, w)
    assert case.case_type == CaseType.DELETE.value and "capital letters" in (case.reason or "")
    assert dms(w.member) == []
    kept = await w.member.send(w.general, "Hello Everyone, NASA rocks")
    assert not gone(env, w.general, kept.id)


async def test_message_spam_times_out_on_the_nth_message(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "spam flood timeout count=4 seconds=5 duration=10m")

    first = [await w.member.send(w.general, f"msg {i}") for i in range(3)]
    assert not any(gone(env, w.general, m.id) for m in first)
    fourth = await w.member.send(w.general, "msg 3")

    assert gone(env, w.general, fourth.id)
    [case] = await cases(env, w)
    assert case.case_type == CaseType.TIMEOUT.value and case.status == CaseStatus.ACTIVE.value
    assert case.expires_at == env.now() + timedelta(minutes=10)
    assert w.member.member is not None and w.member.member.is_timed_out()
    assert "4 messages in 5s" in (case.reason or "")


async def test_spam_spread_over_time_does_not_fire(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "spam flood delete count=3 seconds=5")
    for i in range(5):
        sent = await w.member.send(w.general, f"slow {i}")
        assert not gone(env, w.general, sent.id)
        await env.advance_time(3)
    assert await cases(env, w) == []


async def test_duplicates_fire_on_the_same_text_only(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "duplicates copies delete count=3 seconds=30")
    await w.member.send(w.general, "buy my stuff")
    await w.member.send(w.general, "something else")
    await w.member.send(w.general, "Buy  my stuff")
    third = await w.member.send(w.general, "buy my STUFF")
    assert gone(env, w.general, third.id)
    [case] = await cases(env, w)
    assert "the same message 3 times" in (case.reason or "")


async def test_mention_spam(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "mentions pings warn count=3")
    fine = await w.member.send(w.general, f"{w.admin.mention} {w.moderator.mention}")
    assert not gone(env, w.general, fine.id)
    many = await w.member.send(
        w.general, f"{w.admin.mention} {w.moderator.mention} {w.member2.mention}"
    )
    assert gone(env, w.general, many.id)
    [case] = await cases(env, w)
    assert "3 mentions" in (case.reason or "")


async def test_invites_to_other_servers_go_own_and_allowed_ones_stay(
    env: simcord.Env, world: World
) -> None:
    w = await set_up_automod(env, world, "invites ads delete allow=friends1")
    channel = fish(env).get_channel(w.general.id)
    own = await channel.create_invite()  # type: ignore[union-attr]

    kept_own = await w.member.send(w.general, f"join us: https://discord.gg/{own.code}")
    kept_allowed = await w.member.send(w.general, "partner: discord.gg/friends1")
    removed = await w.member.send(w.general, "free nitro discord.gg/scam123")

    assert not gone(env, w.general, kept_own.id)
    assert not gone(env, w.general, kept_allowed.id)
    assert gone(env, w.general, removed.id)
    [case] = await cases(env, w)
    assert "scam123" in (case.reason or "")


async def test_links_block_list_and_allow_list(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(
        env,
        world,
        "links badsites delete domains=evil.com",
        "links onlydocs delete mode=allow domains=python.org",
    )
    sub = await w.member.send(w.general, "see https://www.evil.com/x")
    assert gone(env, w.general, sub.id)
    fine = await w.member.send(w.general, "docs at https://docs.python.org/3/")
    assert not gone(env, w.general, fine.id)
    other = await w.member.send(w.general, "look https://example.net")
    assert gone(env, w.general, other.id)
    reasons = [c.reason or "" for c in await cases(env, w)]
    assert "`badsites`" in reasons[0] and "`onlydocs`" in reasons[1]


async def test_zalgo_and_emoji_floods(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(
        env, world, "zalgo glitch delete marks=3", "emoji emojiflood delete count=5"
    )
    zalgo = await w.member.send(w.general, "he\u0301\u0302\u0303\u0304llo")
    assert gone(env, w.general, zalgo.id)
    accent = await w.member.send(w.general, "café déjà vu")
    assert not gone(env, w.general, accent.id)
    flood = await w.member.send(w.general, "🐟🐟🐟 <:fish:123456789012345678> 🎉")
    assert gone(env, w.general, flood.id)
    few = await w.member.send(w.general, "🐟 nice 🎉")
    assert not gone(env, w.general, few.id)
    assert [c.case_type for c in await cases(env, w)] == ["DELETE", "DELETE"]


async def test_attachments_by_type(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "attachments exes delete types=exe,bat")
    bad = await w.member.send(w.general, "run this", attachments=[("setup.EXE", b"MZ")])
    assert gone(env, w.general, bad.id)
    good = await w.member.send(w.general, "a cat", attachments=[("cat.png", b"\x89PNG")])
    assert not gone(env, w.general, good.id)
    deleted = next(m for m in w.mod_log.history() if m.embeds[0].title.startswith("🗑️"))
    assert any(f.name == "Attachments" and "setup.EXE" in f.value for f in deleted.embeds[0].fields)


async def test_exemptions_by_role_channel_and_rank(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(
        env,
        world,
        f"words swearing delete words=heck exempt_roles={world.mod_role.id} "
        f"exempt_channels=#bot-commands",
        "words swearing2 delete words=darn exempt_rank=5",
    )
    by_role = await w.moderator.send(w.general, "heck")
    in_channel = await w.member.send(w.bot_commands, "heck")
    by_rank = await w.moderator.send(w.general, "darn")
    assert not gone(env, w.general, by_role.id)
    assert not gone(env, w.bot_commands, in_channel.id)
    assert not gone(env, w.general, by_rank.id)
    caught = await w.member.send(w.general, "darn")
    assert gone(env, w.general, caught.id)
    # Administrators and the server owner are never checked.
    admin = await w.admin.send(w.general, "heck")
    assert not gone(env, w.general, admin.id)
    assert len(await cases(env, w)) == 1


async def test_disabled_and_removed_rules_stop_at_once(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(env, world, "words swearing delete words=heck")
    assert (await say(w.admin, w.bot_commands, "!automod disable swearing")).endswith("is off.")
    kept = await w.member.send(w.general, "heck")
    assert not gone(env, w.general, kept.id)
    await say(w.admin, w.bot_commands, "!automod enable swearing")
    caught = await w.member.send(w.general, "heck")
    assert gone(env, w.general, caught.id)
    assert "removed" in await say(w.admin, w.bot_commands, "!automod remove swearing")
    after = await w.member.send(w.general, "heck")
    assert not gone(env, w.general, after.id)


async def test_the_most_severe_rule_acts_once(env: simcord.Env, world: World) -> None:
    w = await set_up_automod(
        env, world, "words soft delete words=heck", "words hard kick words=heck"
    )
    await w.member.send(w.general, "heck")
    [case] = await cases(env, w)
    assert case.case_type == CaseType.KICK.value
    assert w.member.id not in w.guild.member_ids()
