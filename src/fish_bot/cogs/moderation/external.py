"""Moderation done in Discord's own interface becomes a case, so `cases history` is complete.

A ban, unban, kick or timeout made by hand (not through the bot) reaches the bot as a guild audit
log entry (``on_audit_log_entry_create``; Discord sends these only when the bot may view the
audit log). It is recorded as an active case with the moderator and the reason from the entry,
and posted to the mod log. The bot's own actions are in the audit log too, under the bot's
name: those already have their case and are skipped, so nothing is recorded twice.
"""

from __future__ import annotations

from datetime import datetime

import discord

from fish_bot.cogs.moderation.flow import ModerationUtilsMixin
from fish_bot.core.decorators import cog_listener
from fish_bot.database.models.cases import CaseType

#: ``Case.extra`` marks a case recorded from Discord's audit log.
SOURCE_KEY = "source"
SOURCE_DISCORD = "discord"

#: The reason recorded when the moderator gave none.
NO_REASON = "Done in Discord, no reason given"

#: What each recorded action closes (the same as the bot's own commands).
_CLOSES: dict[CaseType, tuple[CaseType, ...]] = {
    CaseType.BAN: (),
    CaseType.UNBAN: (CaseType.BAN, CaseType.TEMPBAN),
    CaseType.KICK: (),
    CaseType.TIMEOUT: (CaseType.TIMEOUT,),
    CaseType.UNTIMEOUT: (CaseType.TIMEOUT,),
}


def _action_of(entry: discord.AuditLogEntry) -> tuple[CaseType, datetime | None] | None:
    """The case an audit log entry stands for (and its expiry), or None for other entries."""
    action = entry.action
    if action is discord.AuditLogAction.ban:
        return CaseType.BAN, None
    if action is discord.AuditLogAction.unban:
        return CaseType.UNBAN, None
    if action is discord.AuditLogAction.kick:
        return CaseType.KICK, None
    if action is discord.AuditLogAction.member_update:
        before = getattr(entry.changes.before, "timed_out_until", None)
        after = getattr(entry.changes.after, "timed_out_until", None)
        if before == after:
            return None
        return (CaseType.TIMEOUT, after) if after is not None else (CaseType.UNTIMEOUT, None)
    return None


class ExternalActionsMixin(ModerationUtilsMixin):
    """Cases for moderation done by hand in Discord."""

    @cog_listener("on_audit_log_entry_create")
    async def record_external_action(self, entry: discord.AuditLogEntry) -> None:
        """Record a hand-made ban, unban, kick or timeout as a case and post it to the mod log."""
        me = self.bot.user
        if me is None or entry.user_id is None or entry.user_id == me.id:
            return
        found = _action_of(entry)
        target_id = getattr(entry.target, "id", None)
        if found is None or not isinstance(target_id, int):
            return
        case_type, expires_at = found
        guild = entry.guild
        case = await self.record_case(
            guild.id,
            target_id,
            entry.user_id,
            case_type,
            reason=entry.reason or NO_REASON,
            expires_at=expires_at,
            extra={SOURCE_KEY: SOURCE_DISCORD},
            close_types=_CLOSES[case_type],
        )
        await self.log_case(
            guild, case, user=self.bot.get_user(target_id), note="Done in Discord's interface"
        )
