"""The advertise cog through the real bot: the form, the forum post, cooldowns, expiry across a
restart, posts deleted by hand, the moderators' commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import simcord

from fish_bot.bot import FishBot
from fish_bot.database.models.adverts import Advert

from .conftest import World
from .moderation_helpers import calm_scheduler, fish, restart, say

HOUR = 3600
EXPIRE = "advertise.expire"


@pytest.fixture
async def forum(env: simcord.Env, world: World) -> Any:
    """An `ads` forum with three tags, set as the cog's forum channel."""
    calm_scheduler(env)
    channel = world.guild.create_forum_channel("ads")
    tags = [
        {
            "id": str(env.backend.snowflake()),
            "name": name,
            "moderated": False,
            "emoji_id": None,
            "emoji_name": None,
        }
        for name in ("Server", "Member", "Gaming")
    ]
    env.backend.edit_channel(channel.id, {"available_tags": tags})
    env._mark_mutation()
    await env.settle()
    await cog(env).set_setting("forum_channel", channel.id, world.guild.id)
    return channel


def cog(env: simcord.Env) -> Any:
    found = fish(env).get_cog("UnifiedAdvertise")
    assert found is not None
    return found


def member_form(**changes: str) -> dict[str, str]:
    form = {
        "kind": "member",
        "title": "Python tutor for hire",
        "description": "I teach Python. @everyone welcome!",
        "tags": "gaming",
        "contact": "DM me",
    }
    return form | changes


async def post(
    env: simcord.Env, actor: Any, world: World, form: dict[str, str], **options: Any
) -> str:
    """Open the form with `/advertise post`, submit it; the last answer the member got.

    A refusal is recorded by the bot's error policy; it is acknowledged here.
    """
    shown = await actor.slash(world.general, "advertise post", **options)
    if shown.modal is None:
        assert shown.response is not None
        text = str(shown.response.content)
    else:
        result = await actor.submit_modal(shown, form)
        answer = result.followups[-1] if result.followups else result.response
        assert answer is not None
        text = str(answer.content)
    if "Your ad is posted" not in text:
        env.errors  # noqa: B018  (the refusal was recorded)
        assert shown.response is None or shown.response.ephemeral or shown.modal is not None
    return text


async def ads(env: simcord.Env) -> list[Advert]:
    return sorted(await fish(env).db.advert.find_all(), key=lambda a: a.id or 0)


def posts(forum: Any) -> list[Any]:
    return forum.threads


async def test_an_ad_becomes_a_forum_post_with_tags_and_no_pings(
    env: simcord.Env, world: World, forum: Any
) -> None:
    answer = await post(env, world.member, world, member_form())
    assert "Your ad is posted" in answer
    [thread] = posts(forum)
    assert thread.name == "Python tutor for hire"
    [starter] = thread.history()
    assert world.member.mention in starter.content  # the author is named
    assert starter.embeds[0].description == "I teach Python. @everyone welcome!"
    stored = env.backend.get_channel(thread.id)
    tag_names = {
        tag["name"]
        for tag in env.backend.get_channel(forum.id).available_tags
        if int(tag["id"]) in stored.applied_tags
    }
    assert tag_names == {"Member", "Gaming"}  # the type's tag and the one named
    sent = env.backend.messages[thread.id][starter.id]
    assert (sent.mention_everyone, sent.ping_role_ids, sent.ping_user_ids) == (False, [], [])
    [ad] = await ads(env)
    assert ad.thread_id == thread.id and ad.author_id == world.member.id


async def test_a_second_ad_inside_the_cooldown_is_refused_with_when(
    env: simcord.Env, world: World, forum: Any
) -> None:
    await post(env, world.member, world, member_form())
    refused = await post(env, world.member, world, member_form(title="Again"))
    assert "your next one is allowed" in refused and "<t:" in refused
    assert len(posts(forum)) == 1
    # Another member may post.
    assert "Your ad is posted" in await post(env, world.member2, world, member_form(title="Other"))


async def test_a_server_is_on_cooldown_whoever_advertises_it(
    env: simcord.Env, world: World, forum: Any
) -> None:
    other = env.create_guild(name="Other Server", owner=env.create_user("other-owner"))
    lobby = other.create_text_channel("lobby")
    code = env.backend.create_invite(lobby.id, env.backend.bot_user.id).code
    form = member_form(kind="guild", title="Join Other", contact=f"https://discord.gg/{code}")
    assert "Your ad is posted" in await post(env, world.member, world, form)
    refused = await post(env, world.member2, world, form)
    assert "That server was advertised here recently" in refused
    [ad] = await ads(env)
    assert ad.advertised_guild_id == other.id
    bad = await post(env, world.member2, world, member_form(kind="guild", contact="come by"))
    assert "needs the server's invite link" in bad
    assert len(posts(forum)) == 1


async def test_bad_forms_are_refused(env: simcord.Env, world: World, forum: Any) -> None:
    assert "Type must be" in await post(env, world.member, world, member_form(kind="planet"))
    unknown = await post(env, world.member, world, member_form(tags="cooking"))
    assert "no tag `cooking`" in unknown and "`Gaming`" in unknown
    assert posts(forum) == [] and await ads(env) == []


async def test_without_a_forum_channel_it_says_how_to_configure(
    env: simcord.Env, world: World
) -> None:
    answer = await post(env, world.member, world, member_form())
    assert "settings set advertise forum_channel" in answer
    prefix = await say(world.member, world.general, "!advertise")
    assert "settings set advertise forum_channel" in prefix
    await cog(env).set_setting("forum_channel", world.general.id, world.guild.id)
    answer = await post(env, world.member, world, member_form())
    assert "is not a forum channel" in answer
    env.errors  # noqa: B018  (the refusals were recorded)


async def test_the_ad_expires_on_time_across_a_restart_with_a_dm(
    db_backend: str,
    env: simcord.Env,
    world: World,
    forum: Any,
    make_bot: Callable[..., FishBot],
) -> None:
    await post(env, world.member, world, member_form())
    await restart(env, make_bot)
    await env.advance_time(23 * HOUR)
    assert len(posts(forum)) == 1
    await env.advance_time(2 * HOUR)
    assert posts(forum) == []
    [ad] = await ads(env)
    assert ad.deleted_reason == "expired"
    dm = world.member.user.dm_channel.history()
    assert "has ended" in dm[-1].content
    # The cooldown ended with it: a new ad is allowed, and the form can be filled from the last.
    shown = await world.member.slash(world.general, "advertise post", reuse=True)
    assert shown.modal is not None
    values = {
        item["components"][0]["custom_id"]: item["components"][0].get("value")
        for item in shown.modal["components"]
    }
    assert values["title"] == "Python tutor for hire" and values["tags"] == "gaming"
    # The job running again (at-least-once) changes nothing and sends no second message.
    [job] = [j for j in await fish(env).db.scheduled_job.find_all() if j.job_type == EXPIRE]
    await cog(env).expire(job)
    assert len(world.member.user.dm_channel.history()) == len(dm)


async def test_a_form_opened_before_the_first_ad_is_refused_when_sent(
    env: simcord.Env, world: World, forum: Any
) -> None:
    first = await world.member.slash(world.general, "advertise post")
    second = await world.member.slash(world.general, "advertise post")
    assert first.modal is not None and second.modal is not None
    await world.member.submit_modal(first, member_form())
    refused = await world.member.submit_modal(second, member_form(title="Twice"))
    assert refused.response is not None and refused.response.ephemeral
    assert "your next one is allowed" in refused.response.content
    assert len(posts(forum)) == 1 and len(await ads(env)) == 1
    env.errors  # noqa: B018  (the refusal was recorded)


async def test_reuse_button_fills_the_form(env: simcord.Env, world: World, forum: Any) -> None:
    await post(env, world.member, world, member_form())
    await say(world.moderator, world.general, f"!advertise clear-cooldown {world.member.mention}")
    prompt = await world.member.send(world.general, "!advertise")
    reply = world.general.history()[-1]
    assert reply.id > prompt.id
    shown = await world.member.click(reply, label="Re-use my last ad")
    assert shown.modal is not None
    # Somebody else cannot use the member's button.
    other = await world.member2.click(reply, label="Open the form")
    assert other.modal is None


async def test_a_post_deleted_by_hand_ends_the_ad(
    env: simcord.Env, world: World, forum: Any
) -> None:
    await post(env, world.member, world, member_form())
    [thread] = posts(forum)
    env.backend.delete_channel(thread.id)
    env._mark_mutation()
    await env.settle()
    [ad] = await ads(env)
    assert ad.deleted_reason == "by hand"
    assert await fish(env).scheduler.pending_count("advertise.expire") == 0


async def test_the_hourly_check_finds_posts_deleted_while_the_cog_was_away(
    env: simcord.Env, world: World, forum: Any
) -> None:
    await post(env, world.member, world, member_form())
    [thread] = posts(forum)
    # Through the owner's commands, as an operator would: the cog's loops then start in the
    # bot's own work, which SimCord waits on (loaded from the test's task, the first check ran
    # beside the clock and its write could land after the assertion).
    env.bot.owner_ids = {world.owner.id}
    unloaded = await say(world.owner, world.general, "!cog unload advertise")
    assert unloaded == "✅ Unloaded `fish_bot.cogs.advertise`."
    env.backend.delete_channel(thread.id)
    env._mark_mutation()
    await env.settle()
    loaded = await say(world.owner, world.general, "!cog load advertise")
    assert loaded.startswith("✅ Loaded `fish_bot.cogs.advertise`.")
    await env.advance_time(HOUR + 60)
    [ad] = await ads(env)
    assert ad.deleted_reason == "by hand"


async def test_moderator_list_delete_and_clear_cooldown(
    env: simcord.Env, world: World, forum: Any
) -> None:
    await post(env, world.member, world, member_form())
    [ad] = await ads(env)
    denied = await say(world.member, world.general, "!advertise list")
    assert "Manage Messages" in denied
    await world.moderator.send(world.general, "!advertise list")
    listing = world.general.history()[-1]
    assert f"#{ad.id}" in listing.embeds[0].description
    deleted = await say(world.moderator, world.general, f"!advertise delete {ad.id}")
    assert f"Ad #{ad.id}" in deleted and "deleted" in deleted
    assert posts(forum) == []
    assert "your next one is allowed" in await post(env, world.member, world, member_form())
    cleared = await say(
        world.moderator, world.general, f"!advertise clear-cooldown {world.member.mention}"
    )
    assert "may post a new ad now" in cleared
    assert "Your ad is posted" in await post(env, world.member, world, member_form(title="New"))
    gone = await say(world.moderator, world.general, "!advertise delete 999")
    assert "No ad up here" in gone
    env.errors  # noqa: B018  (the refusals were recorded)


async def test_weekly_cleanup_removes_orphaned_records(
    env: simcord.Env, world: World, forum: Any
) -> None:
    await post(env, world.member, world, member_form())
    [ad] = await ads(env)
    db = fish(env).db
    await db.advert.create(
        guild_id=123456789,
        author_id=1,
        kind="member",
        title="left",
        description="x",
        contact="x",
        expires_at=ad.expires_at,
    )
    removed = await cog(env)._cleanup_cooldowns()
    assert removed == 1
    assert [a.id for a in await ads(env)] == [ad.id]


async def test_a_post_discord_refuses_leaves_no_ad_and_no_cooldown(
    env: simcord.Env, world: World, forum: Any
) -> None:
    env.inject_error(
        "POST", f"/channels/{forum.id}/threads", status=403, code=50013, message="Missing Access"
    )
    refused = await post(env, world.member, world, member_form())
    assert "I could not post in" in refused and "cooldown did not start" in refused
    assert await ads(env) == []
    assert await fish(env).scheduler.pending_count(EXPIRE) == 0
    assert "Your ad is posted" in await post(env, world.member, world, member_form())


async def test_slash_list_and_the_status_embed(env: simcord.Env, world: World, forum: Any) -> None:
    await post(env, world.member, world, member_form())
    listed = await world.moderator.slash(world.general, "advertise list")
    assert listed.response is not None
    assert "Python tutor for hire" in listed.response.embeds[0].description
    env.bot.owner_ids = {world.owner.id}
    await world.owner.send(world.general, "!status advertise")
    embed = world.general.history()[-1].embeds[0]
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Ads up"] == "1" and fields["Pending expiries"] == "1"
    assert "Deletion check: running" in fields["Loops"]
