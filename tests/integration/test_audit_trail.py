"""The configuration audit trail through the real bot: each change is recorded with who made
it, listed by `audit` and posted to the server log."""

from __future__ import annotations

import pytest
import simcord

from fish_bot.database.models.audit import AuditEntry

from .conftest import World
from .moderation_helpers import assert_refused, fish, say, set_up_moderation

FLUSH = 5
pytestmark = pytest.mark.usefixtures("virtual_log_batches")


async def trail(env: simcord.Env, world: World) -> list[AuditEntry]:
    rows = await fish(env).db.audit.find_all({"guild_id": world.guild.id})
    return sorted(rows, key=lambda row: row.id or 0)


async def test_changes_are_recorded_with_who_and_what(env: simcord.Env, world: World) -> None:
    await set_up_moderation(env, world)  # ranks set by the test itself: an operator
    server_log = world.guild.create_text_channel("server-log")
    await env.settle()
    await say(world.admin, world.general, f"!config log server {server_log.mention}")
    await say(world.admin, world.general, "!settings set moderation dm_members false")
    await say(world.admin, world.general, f"!perm rank set {world.member_role.mention} 1")
    await say(world.admin, world.general, f"!perm deny kick {world.bot_commands.mention}")
    await say(world.admin, world.general, "!cog pause moderation")
    await env.advance_time(FLUSH)

    found = [
        (e.action, e.target, e.old_value, e.new_value, e.actor_id) for e in await trail(env, world)
    ]
    admin = world.admin.id
    assert ("config", "server_log_channel_id", None, server_log.id, admin) in found
    assert ("setting", "moderation.dm_members", None, False, admin) in found
    assert ("rank", f"role:{world.member_role.id}", None, 1, admin) in found
    assert ("rule", f"kick channel:{world.bot_commands.id}", None, "deny", admin) in found
    assert ("module", "moderation", "running", "paused", admin) in found
    operator = [e for e in found if e[0] == "rank" and e[1] == f"role:{world.mod_role.id}"]
    assert operator and operator[0][4] is None  # set outside any command

    posted = [embed.title for m in server_log.history() if m.author.bot for embed in m.embeds]
    assert "📝 Setting changed" in posted and "📝 Role rank changed" in posted


async def test_audit_lists_filters_and_pages(env: simcord.Env, world: World) -> None:
    await set_up_moderation(env, world)
    for number in range(12):
        await say(
            world.admin, world.general, f"!settings set logging new_account_days {number + 1}"
        )
    await say(world.owner, world.general, "!settings set logging ignore_bots false")

    await say(world.admin, world.general, "!audit")
    listing = [m for m in world.general.history() if m.author.bot][-1]
    embed = listing.embeds[0]
    assert embed.title == "Audit trail"
    assert "logging.ignore_bots" in (embed.description or "")  # newest first
    assert embed.footer.text is not None and "Page 1 of 2" in embed.footer.text
    await world.admin.click(listing, label="Next")
    turned = [m for m in world.general.history() if m.author.bot][-1]
    assert turned.embeds[0].footer.text is not None
    assert "Page 2 of 2" in turned.embeds[0].footer.text

    await say(world.admin, world.general, f"!audit {world.owner.mention} 1d")
    only = [m for m in world.general.history() if m.author.bot][-1].embeds[0]
    assert "logging.ignore_bots" in (only.description or "")
    assert "new_account_days" not in (only.description or "")


async def test_a_refused_change_records_nothing(env: simcord.Env, world: World) -> None:
    await set_up_moderation(env, world)
    reply = await say(world.admin, world.general, "!settings set logging new_account_days 500")
    assert_refused(env, reply, "must be between 0 and 365")

    assert [e for e in await trail(env, world) if e.action == "setting"] == []


async def test_only_ranked_members_see_the_trail(env: simcord.Env, world: World) -> None:
    await set_up_moderation(env, world)
    reply = await say(world.member, world.general, "!audit")
    assert_refused(env, reply, "needs")
