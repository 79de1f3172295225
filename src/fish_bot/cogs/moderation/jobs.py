"""Expiry of timed moderation cases through the persisted job scheduler.

A tempban, a timed jail, poll ban, snippet ban or timeout schedules one job when its case is
recorded (in the same transaction). The scheduler runs it on time, once, and right after
start-up when it came due while the bot was down. A case still pending (the bot stopped between
recording it and acting) is first settled against Discord. Each handler is idempotent: it
does nothing when the case is no longer active (lifted by hand, already expired), and an unban
that finds the user already unbanned just closes the case. Expiring marks the case EXPIRED and
posts to the mod log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.moderation.constants import (
    POLLUNBAN_JOB,
    SNIPPETUNBAN_JOB,
    UNBAN_JOB,
    UNJAIL_JOB,
    UNTIMEOUT_JOB,
)
from fish_bot.cogs.moderation.modlog import expiry_embed
from fish_bot.database.models.cases import Case, CaseStatus, CaseType

if TYPE_CHECKING:
    from fish_bot.cogs.moderation.cog import Moderation
    from fish_bot.core.scheduler import JobHandler
    from fish_bot.database.models.scheduler import ScheduledJob

#: What ends a case on Discord; returns the line shown in the mod log.
Undo = Callable[[discord.Guild, Case], Awaitable[str]]


class GuildUnavailable(RuntimeError):
    """The job's guild is not in the cache yet: the scheduler retries later."""


class ModerationJobs:
    """The scheduler handlers of the moderation cog."""

    def __init__(self, cog: Moderation) -> None:
        self.cog = cog

    @property
    def handlers(self) -> dict[str, JobHandler]:
        return {
            UNBAN_JOB: self.unban,
            UNJAIL_JOB: self.unjail,
            POLLUNBAN_JOB: self.pollunban,
            SNIPPETUNBAN_JOB: self.snippetunban,
            UNTIMEOUT_JOB: self.untimeout,
        }

    def register(self) -> None:
        for job_type, handler in self.handlers.items():
            self.cog.bot.scheduler.register_handler(job_type, handler)

    def unregister(self) -> None:
        """Jobs stay pending in the database until the cog is loaded again."""
        scheduler = self.cog.bot.scheduler
        for job_type in self.handlers:
            scheduler.unregister_handler(job_type)

    # --- handlers ------------------------------------------------------------------------

    async def unban(self, job: ScheduledJob) -> None:
        """A tempban ends: unban (already unbanned is fine), mark the case expired."""
        await self._expire(job, CaseType.TEMPBAN, self._lift_ban)

    async def unjail(self, job: ScheduledJob) -> None:
        """A timed jail ends: give back the roles when the member is here."""
        await self._expire(job, CaseType.JAIL, self._release)

    async def pollunban(self, job: ScheduledJob) -> None:
        await self._expire(job, CaseType.POLLBAN, self._allow_polls)

    async def snippetunban(self, job: ScheduledJob) -> None:
        await self._expire(job, CaseType.SNIPPETBAN, self._nothing("Snippets allowed again."))

    async def untimeout(self, job: ScheduledJob) -> None:
        """Discord lifted the timeout by itself; the case is marked expired on time."""
        await self._expire(job, CaseType.TIMEOUT, self._nothing("The timeout ended."))

    # --- what each expiry undoes ---------------------------------------------------------

    async def _lift_ban(self, guild: discord.Guild, case: Case) -> str:
        try:
            await guild.unban(
                discord.Object(case.user_id),
                reason=f"Temporary ban expired (Case #{case.case_number})",
            )
        except discord.NotFound:
            return "The user was already unbanned."
        return "The user was unbanned."

    async def _release(self, guild: discord.Guild, case: Case) -> str:
        member = guild.get_member(case.user_id)
        if member is None:
            return "The member is not in the server; they will not be jailed on return."
        role_id = await self.cog.jail_role_id(guild.id)
        role = guild.get_role(role_id) if role_id else None
        stored = (case.extra or {}).get("roles", [])
        roles = self.cog.restored_roles(member, role, stored)
        await member.edit(roles=roles, reason=f"Jail expired (Case #{case.case_number})")
        return "The member was released from jail and got their roles back."

    async def _allow_polls(self, guild: discord.Guild, case: Case) -> str:
        return "Polls allowed again."

    @staticmethod
    def _nothing(detail: str) -> Undo:
        async def undo(guild: discord.Guild, case: Case) -> str:
            return detail

        return undo

    # --- the shared expiry ---------------------------------------------------------------

    async def _expire(self, job: ScheduledJob, case_type: CaseType, undo: Undo) -> None:
        cog = self.cog
        async with cog.task_tracker.task_context(f"Expire {case_type.value.lower()}") as tracker:
            if job.guild_id is None:
                tracker.update_status("Job without a guild; dropped")
                return
            guild_id = int(job.guild_id)
            payload = job.payload or {}
            user_id = int(payload["user_id"])
            number = payload.get("case_number")
            if number is not None:
                case = await cog.db.case.get_case_by_number(guild_id, int(number))
            else:
                case = await cog.db.case.get_active_restriction(guild_id, user_id, [case_type])
            if (
                case is not None
                and case.status == CaseStatus.PENDING.value
                and case.case_type == case_type.value
            ):
                # Due before its action was confirmed (a crash in between): settle it first.
                pending_guild = cog.bot.get_guild(guild_id)
                if pending_guild is None:
                    raise GuildUnavailable(f"guild {guild_id} is not available")
                await cog.reconcile_case(pending_guild, case)
            if (
                case is None
                or case.id is None
                or case.status != CaseStatus.ACTIVE.value
                or case.case_type != case_type.value
            ):
                tracker.update_status("Case already closed; nothing to do")
                return
            guild = cog.bot.get_guild(guild_id)
            if guild is None:
                raise GuildUnavailable(f"guild {guild_id} is not available")
            detail = await undo(guild, case)
            changed = await cog.db.case.update_where(
                {"id": case.id, "status": CaseStatus.ACTIVE.value},
                {"status": CaseStatus.EXPIRED.value, "updated_at": discord.utils.utcnow()},
            )
            if not changed:  # closed by a moderator meanwhile
                tracker.update_status("Case closed meanwhile")
                return
            case.status = CaseStatus.EXPIRED.value
            if case_type is CaseType.POLLBAN:
                await cog.pollbans.discard(guild_id, user_id)
            await cog.post_mod_log(guild, expiry_embed(case, detail, cog.bot.get_user))
            tracker.update_status(f"Case #{case.case_number} expired")
