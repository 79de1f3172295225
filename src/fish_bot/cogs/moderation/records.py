"""Cases and their expiry jobs in the database: recorded, confirmed, voided, closed.

Every write here is one transaction (``async with self.db.transaction()``): a case and its
expiry job commit together, and closing a case cancels its job in the same transaction. The
restriction caches (poll bans) change only once the write committed
(:meth:`~fish_bot.database.service.DatabaseService.after_commit`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.moderation.constants import (
    CLOSES_KEY,
    DATABASE_DOWN,
    EXPIRY_JOBS,
    MAX_REASON_LENGTH,
    VOID_REASON_KEY,
)
from fish_bot.cogs.moderation.modlog import ModLogMixin
from fish_bot.cogs.moderation.utils import ModerationError
from fish_bot.core.database_outage import is_database_outage
from fish_bot.core.error_policy import report
from fish_bot.core.text import clip
from fish_bot.database.models.cases import Case, CaseStatus, CaseType

if TYPE_CHECKING:
    from fish_bot.cogs.moderation.utils import RestrictionCache


class CaseRecordsMixin(ModLogMixin):
    """Cases and expiry jobs: record, confirm, void, close (each one transaction)."""

    if TYPE_CHECKING:  # provided by the Moderation class
        #: The restriction caches by case type (POLLBAN: ``pollbans``).
        restrictions: dict[CaseType, RestrictionCache]

    async def jail_role_id(self, guild_id: int) -> int | None:
        """The id of the guild's jail role (None: none set), from the cached configuration."""
        config = await self.guild_config(guild_id)
        return config.jail_role_id if config is not None else None

    @contextlib.contextmanager
    def database_required(self) -> Iterator[None]:
        """Turn a database outage inside the block into the refusal :data:`DATABASE_DOWN`.

        Used where nothing has happened on Discord yet: the moderator is told that nothing
        was done, and the action is not attempted.
        """
        try:
            yield
        except Exception as error:
            if not is_database_outage(error):
                raise
            self.logger.warning("Moderation action refused, the database is unavailable: %s", error)
            raise ModerationError(DATABASE_DOWN) from None

    async def record_case(
        self,
        guild_id: int,
        user_id: int,
        moderator_id: int,
        case_type: CaseType,
        *,
        reason: str | None = None,
        expires_at: datetime | None = None,
        extra: dict[str, Any] | None = None,
        close_types: Iterable[CaseType] = (),
    ) -> Case:
        """Insert an active case, close what it lifts, cancel their jobs, schedule its expiry.

        For actions that happen only in the record (warn, note, poll and snippet bans). A
        case that closes nothing and expires never (a warn, a note) is the insert alone: no
        transaction of its own here (on PostgreSQL one statement numbers and inserts it).
        """
        alone = not close_types and (expires_at is None or CaseType(case_type) not in EXPIRY_JOBS)
        async with contextlib.nullcontext() if alone else self.db.transaction():
            if not alone:
                await self._close_lifted(guild_id, user_id, close_types)
            case = await self.db.case.insert_case(
                guild_id=guild_id,
                case_user_id=user_id,
                case_moderator_id=moderator_id,
                case_type=case_type,
                case_reason=reason,
                case_expires_at=expires_at,
                case_extra=extra,
            )
            if not alone:
                await self._schedule_expiry(case)
            await self._restriction_changed(case, added=True)
            await self._case_recorded(case)
        return case

    async def _case_recorded(self, case: Case) -> None:
        """The hook other cogs listen to (automod's warning escalation): dispatched as
        ``on_fish_case_recorded(case)`` once the case is committed, for every case recorded
        active at once (warn, note...), from a command or from automod."""
        await self.db.service.after_commit(partial(self.bot.dispatch, "fish_case_recorded", case))

    async def record_pending(
        self,
        guild_id: int,
        user_id: int,
        moderator_id: int,
        case_type: CaseType,
        *,
        reason: str | None = None,
        expires_at: datetime | None = None,
        extra: dict[str, Any] | None = None,
        close_types: Iterable[CaseType] = (),
    ) -> Case:
        """Commit a ``pending`` case and its expiry job, before the Discord action.

        The case types it closes once confirmed are kept on it (``extra["closes"]``), so a
        start-up reconciliation can finish the job after a crash.
        """
        data = dict(extra or {})
        closes = [CaseType(kind).value for kind in close_types]
        if closes:
            data[CLOSES_KEY] = closes
        async with self.db.transaction():
            case = await self.db.case.insert_case(
                guild_id=guild_id,
                case_user_id=user_id,
                case_moderator_id=moderator_id,
                case_type=case_type,
                case_reason=reason,
                case_expires_at=expires_at,
                case_status=CaseStatus.PENDING,
                case_extra=data,
            )
            await self._schedule_expiry(case)
        return case

    async def activate_case(
        self, case: Case, close_types: Iterable[CaseType] | None = None
    ) -> bool:
        """A pending case whose action Discord did becomes active; it closes what it lifts.

        ``close_types`` defaults to the types stored on the case. False when the case was no
        longer pending (resolved meanwhile).
        """
        assert case.id is not None
        if close_types is None:
            close_types = [CaseType(kind) for kind in (case.extra or {}).get(CLOSES_KEY, [])]
        async with self.db.transaction():
            changed = await self.db.case.resolve_pending(case.id, CaseStatus.ACTIVE)
            if changed:
                await self._close_lifted(case.guild_id, case.user_id, close_types, keep=case.id)
        if changed:
            case.status = CaseStatus.ACTIVE.value
        return changed

    async def void_pending(self, case: Case, reason: str) -> bool:
        """A pending case whose action did not happen: voided with ``reason``, its job cancelled.

        False when the case was no longer pending.
        """
        assert case.id is not None
        extra = {**(case.extra or {}), VOID_REASON_KEY: clip(reason, MAX_REASON_LENGTH)}
        async with self.db.transaction():
            changed = await self.db.case.resolve_pending(case.id, CaseStatus.VOIDED, extra=extra)
            if changed:
                await self._cancel_expiry(case.guild_id, case.user_id, case.case_type, [case])
        if changed:
            case.status = CaseStatus.VOIDED.value
            case.extra = extra
        return changed

    async def _void_after_refusal(self, case: Case, refusal: str) -> bool:
        try:
            return await self.void_pending(case, f"{refusal}.")
        except Exception as error:
            # Still pending: the start-up reconciliation finds no action and voids it.
            self.record_error(error)
            report(self.bot, error, f"moderation: voiding case #{case.case_number}")
            return False

    async def _restriction_changed(self, case: Case, *, added: bool) -> None:
        """Keep the restriction cache of the case's type (poll bans) in step, once committed."""
        cache = self.restrictions.get(CaseType(case.case_type))
        if cache is None:
            return
        change = cache.add if added else cache.discard
        await self.db.service.after_commit(partial(change, case.guild_id, case.user_id))

    async def _schedule_expiry(self, case: Case) -> None:
        job_type = EXPIRY_JOBS.get(CaseType(case.case_type))
        if case.expires_at is not None and job_type is not None:
            await self.bot.scheduler.schedule(
                job_type,
                case.expires_at,
                {"user_id": case.user_id, "case_number": case.case_number},
                guild_id=case.guild_id,
            )

    async def _close_lifted(
        self,
        guild_id: int,
        user_id: int,
        close_types: Iterable[CaseType],
        *,
        keep: int | None = None,
    ) -> None:
        """Close the user's active cases of these types (lifted) and cancel their expiry jobs.

        ``keep``: the id of the case doing the closing (a tempban closes older tempbans).
        """
        close = [CaseType(kind) for kind in close_types]
        if not close:
            return
        # One statement: UPDATE ... RETURNING the cases it closed.
        closing = await self.db.case.close_active_cases(guild_id, user_id, close, keep=keep)
        if not closing:
            return
        for closed in closing:
            await self._restriction_changed(closed, added=False)
        for kind in close:
            await self._cancel_expiry(
                guild_id, user_id, kind, [c for c in closing if c.case_type == kind.value]
            )

    async def _cancel_expiry(
        self, guild_id: int, user_id: int, case_type: CaseType | str, cases: Iterable[Case]
    ) -> None:
        """Cancel the pending expiry jobs of these cases (by case number)."""
        job_type = EXPIRY_JOBS.get(CaseType(case_type))
        if job_type is None:
            return
        for case in cases:
            await self.bot.scheduler.cancel_where(
                job_type, guild_id, {"user_id": user_id, "case_number": case.case_number}
            )

    async def lift_cases(self, guild_id: int, user_id: int, case_types: Iterable[CaseType]) -> int:
        """Close active cases (lifted) and cancel their expiry jobs, without a new case."""
        types = list(case_types)
        async with self.db.transaction():
            closed = await self.db.case.close_active(guild_id, user_id, types, CaseStatus.LIFTED)
            for case_type in types:
                cache = self.restrictions.get(case_type)
                if closed and cache is not None:
                    await self.db.service.after_commit(partial(cache.discard, guild_id, user_id))
                job_type = EXPIRY_JOBS.get(case_type)
                if job_type is not None:
                    await self.bot.scheduler.cancel_where(job_type, guild_id, {"user_id": user_id})
        return closed

    # --- jail roles -----------------------------------------------------------------------

    async def jail_role(self, guild: discord.Guild) -> discord.Role:
        """The server's jail role, or a ModerationError saying what to fix."""
        role_id = await self.jail_role_id(guild.id)
        role = guild.get_role(role_id) if role_id else None
        if role is None:
            raise ModerationError(
                "⛔ This server has no jail role (or it was deleted); an administrator sets one "
                "with `config jail role`."
            )
        if not role.is_assignable():
            raise ModerationError(
                f"⛔ I can't give the jail role ({role.name}): it must be below my top role and "
                "not managed by an integration."
            )
        return role

    @staticmethod
    def restored_roles(
        member: discord.Member, jail: discord.Role | None, stored: Iterable[int]
    ) -> list[discord.Role]:
        """The member's roles after leaving jail: current ones without the jail role, plus the
        stored ones that still exist and that the bot can give."""
        guild = member.guild
        roles = [r for r in member.roles if not r.is_default() and (jail is None or r != jail)]
        for role_id in stored:
            role = guild.get_role(int(role_id))
            if role is not None and role.is_assignable() and role not in roles:
                roles.append(role)
        return roles
