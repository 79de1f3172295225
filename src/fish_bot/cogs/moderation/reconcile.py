"""Pending cases left by a crash, settled against Discord (at start-up, or when due).

A case is committed ``pending`` before its Discord action (DESIGN rule 12). When the bot stops
between the two, the case stays pending; :meth:`ReconcileMixin.reconcile_pending_cases` looks
at the guild's bans, timeouts, members and jail role: the case becomes ``active`` when the
action is visible, ``voided`` otherwise.
"""

from __future__ import annotations

import discord

from fish_bot.cogs.moderation.constants import RECONCILED_ACTIVE_NOTE, RECONCILED_VOID_REASON
from fish_bot.cogs.moderation.records import CaseRecordsMixin
from fish_bot.database.models.cases import Case, CaseStatus, CaseType


class ReconcileMixin(CaseRecordsMixin):
    """Settle pending cases against what Discord shows."""

    async def action_visible(self, guild: discord.Guild, case: Case) -> bool:
        """Whether a pending case's action is visible on Discord (the guild's bans, timeouts,
        members and the jail role). Raises :class:`discord.HTTPException` when Discord cannot
        tell (the case stays pending)."""
        kind = CaseType(case.case_type)
        if kind in (CaseType.BAN, CaseType.TEMPBAN, CaseType.UNBAN):
            try:
                await guild.fetch_ban(discord.Object(case.user_id))
                banned = True
            except discord.NotFound:
                banned = False
            return banned if kind is not CaseType.UNBAN else not banned
        if kind not in (
            CaseType.KICK,
            CaseType.TIMEOUT,
            CaseType.UNTIMEOUT,
            CaseType.JAIL,
            CaseType.UNJAIL,
        ):
            return True  # no Discord action: the record is the action
        member = guild.get_member(case.user_id)
        if member is None:
            try:
                member = await guild.fetch_member(case.user_id)
            except discord.NotFound:
                member = None
        if kind is CaseType.KICK:
            return member is None
        if kind is CaseType.TIMEOUT:
            return member is not None and member.is_timed_out()
        if kind is CaseType.UNTIMEOUT:
            return member is None or not member.is_timed_out()
        role_id = await self.jail_role_id(guild.id)
        jailed = member is not None and any(role.id == role_id for role in member.roles)
        return jailed if kind is CaseType.JAIL else not jailed

    async def reconcile_case(self, guild: discord.Guild, case: Case) -> CaseStatus:
        """Settle one pending case against Discord: active if its action is visible, voided
        otherwise. Returns the case's status afterwards."""
        if case.status != CaseStatus.PENDING.value:
            return CaseStatus(case.status)
        if await self.action_visible(guild, case):
            if await self.activate_case(case):
                await self.log_case(guild, case, note=RECONCILED_ACTIVE_NOTE)
        else:
            await self.void_pending(case, RECONCILED_VOID_REASON)
        fresh = await self.db.case.get_case_by_number(guild.id, case.case_number)
        if fresh is not None:
            case.status = fresh.status
        return CaseStatus(case.status)

    async def reconcile_pending_cases(self) -> dict[str, int]:
        """Settle the pending cases of every guild the bot is in (run at start-up)."""
        counts = {"active": 0, "voided": 0, "unresolved": 0}
        guilds = {guild.id: guild for guild in self.bot.guilds}
        if not guilds:
            return counts
        for case in await self.db.case.pending_cases(guilds):
            try:
                status = await self.reconcile_case(guilds[case.guild_id], case)
            except discord.HTTPException as error:
                self.logger.warning(
                    "Pending case #%s of guild %s stays pending (Discord: %s)",
                    case.case_number,
                    case.guild_id,
                    error,
                )
                counts["unresolved"] += 1
                continue
            key = status.value if status.value in counts else "unresolved"
            counts[key] += 1
        if any(counts.values()):
            self.logger.info(
                "Pending cases reconciled: %(active)d active, %(voided)d voided, "
                "%(unresolved)d unresolved",
                counts,
            )
        return counts
