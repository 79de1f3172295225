"""What automod does when a rule fires, or a warning threshold is reached.

Every automod action is a case made through the Moderation cog's flow
(:meth:`~fish_bot.cogs.moderation.flow.ModerationUtilsMixin.perform_action`): the bot is the
moderator, the reason names the rule and quotes the offending excerpt (as plain text: nothing
the bot sends pings), the case goes to the mod log and the member is told by DM unless the
rule is silent (or the server switched the moderation DMs off). The record comes before the
Discord action (a timeout, kick or ban is pending until Discord did it).

The offending message is deleted first, before the case: deleting it is harm control, not a
sanction, and still happens when the database is down. The deleted message is posted to the
mod log with its content and attachments' names.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.automod.constants import ACTION_CASES, COLOUR_AUTOMOD
from fish_bot.core.durations import format_duration
from fish_bot.core.text import field
from fish_bot.database.models.cases import CaseType

if TYPE_CHECKING:
    from fish_bot.cogs.automod.rules import Hit
    from fish_bot.cogs.moderation.cog import Moderation
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.models.cases import Case

#: The case types each action closes once it is in force.
_CLOSES: dict[str, list[CaseType]] = {
    "timeout": [CaseType.TIMEOUT],
    "ban": [CaseType.BAN, CaseType.TEMPBAN],
}


def moderation_of(cog: BaseCog) -> Moderation | None:
    """The loaded Moderation cog (None: not loaded; automod then only deletes)."""
    bot: Any = cog.bot  # FishHost states only what core/ needs; the bot is a commands.Bot
    found = bot.get_cog("Moderation")
    if found is None or not hasattr(found, "perform_action"):
        return None
    moderation: Moderation = found
    return moderation


def can_act_on(member: discord.Member, action: str) -> str | None:
    """Why the bot cannot ``action`` this member (None: it can try)."""
    guild = member.guild
    if member.id == guild.owner_id:
        return "the member owns the server"
    if action in ("delete", "warn"):
        return None
    if action == "timeout" and member.guild_permissions.administrator:
        return "Discord does not let anyone time out an Administrator"
    if guild.me.top_role <= member.top_role:
        return "my top role is not above the member's"
    return None


async def act(
    cog: BaseCog,
    member: discord.Member,
    action: str,
    reason: str,
    *,
    duration_seconds: int | None = None,
    silent: bool = False,
    extra: dict[str, Any] | None = None,
) -> Case | None:
    """Record and carry out one automatic action; the case, or None when it was not done."""
    moderation = moderation_of(cog)
    if moderation is None:
        cog.logger.warning("Automod %s of %s skipped: moderation is not loaded", action, member.id)
        return None
    refusal = can_act_on(member, action)
    if refusal is not None:
        cog.logger.info("Automod cannot %s %s: %s", action, member.id, refusal)
        if extra is not None and "escalation" in extra:
            return None
        action = "delete"  # the message is gone; the case records that much
    from fish_bot.cogs.moderation.constants import ACTIONS
    from fish_bot.cogs.moderation.utils import ActionTarget, ModerationError

    guild = member.guild
    spec = ACTIONS[ACTION_CASES[action]]
    target = ActionTarget(spec=spec, user=member, member=member, reason=reason, silent=silent)
    bot_reason = f"Automod: {reason}"[:512]
    expires_at = None
    perform: Any = None
    if action == "timeout":
        if member.is_timed_out():
            return None
        seconds = duration_seconds or 600
        expires_at = discord.utils.utcnow() + timedelta(seconds=seconds)
        until = expires_at

        async def perform() -> None:
            await member.timeout(until, reason=bot_reason)

    elif action == "kick":

        async def perform() -> None:
            await member.kick(reason=bot_reason)

    elif action == "ban":

        async def perform() -> None:
            await guild.ban(member, reason=bot_reason, delete_message_seconds=0)

    moderator_id = guild.me.id
    try:
        result = await moderation.perform_action(
            guild,
            target,
            moderator_id,
            action=perform,
            expires_at=expires_at,
            extra=extra,
            close_types=_CLOSES.get(action, ()),
        )
    except ModerationError as error:
        cog.logger.warning("Automod %s of %s not done: %s", action, member.id, error.message)
        return None
    return result.case


def hit_reason(hit: Hit) -> str:
    """``Automod rule `invites` (invites): an invite link (abc). Excerpt: "..."``."""
    excerpt = discord.utils.escape_markdown(hit.excerpt).replace("`", "'")
    return f'Automod rule `{hit.rule.name}` ({hit.rule.kind}): {hit.detail}. Excerpt: "{excerpt}"'


async def log_deleted(cog: BaseCog, message: discord.Message, hit: Hit) -> None:
    """Post the deleted message (content, attachments) to the mod log."""
    moderation = moderation_of(cog)
    if moderation is None or message.guild is None:
        return
    embed = discord.Embed(
        title="🗑️ Message deleted by automod",
        colour=COLOUR_AUTOMOD,
        timestamp=message.created_at,
    )
    author = message.author
    embed.add_field(name="Author", value=f"<@{author.id}> (`{author.id}`)", inline=True)
    embed.add_field(name="Channel", value=f"<#{message.channel.id}>", inline=True)
    embed.add_field(
        name="Rule", value=f"`{hit.rule.name}` ({hit.rule.kind}): {hit.detail}", inline=False
    )
    embed.add_field(name="Content", value=field(message.content or "(no text)"), inline=False)
    if message.attachments:
        names = ", ".join(attachment.filename for attachment in message.attachments)
        embed.add_field(name="Attachments", value=field(names), inline=False)
    await moderation.post_mod_log(message.guild, embed)


async def enforce(cog: BaseCog, message: discord.Message, member: discord.Member, hit: Hit) -> None:
    """A rule fired on ``message``: delete it, log it, and make the rule's case."""
    deleted = False
    try:
        await message.delete()
        deleted = True
    except discord.NotFound:
        deleted = True
    except discord.HTTPException as error:
        cog.logger.warning("Automod could not delete message %s: %s", message.id, error)
    if deleted:
        with contextlib.suppress(Exception):
            await log_deleted(cog, message, hit)
    rule = hit.rule
    await act(
        cog,
        member,
        rule.action,
        hit_reason(hit),
        duration_seconds=rule.duration_seconds,
        silent=rule.silent,
        extra={"automod_rule": rule.name},
    )


def threshold_text(count: int, window_seconds: int, action: str, seconds: int | None) -> str:
    """``3 warns in 7d -> timeout 1h``."""
    what = f"{action} {format_duration(seconds)}" if seconds else action
    return f"{count} warns in {format_duration(window_seconds)} → {what}"
