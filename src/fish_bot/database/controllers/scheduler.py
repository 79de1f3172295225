"""ScheduledJobController: the state machine of persisted jobs.

Every state change is one conditional ``UPDATE`` (``... WHERE id = ? AND status = ?``), so two
runners, or a runner and a moderator cancelling, can race without a job running twice or a
cancelled job running at all: whoever's statement changes the row wins, the other sees
``rowcount == 0``.

Delivery is *at least once*: a job that was ``running`` when the process died is put back to
``pending`` at the next start-up (:meth:`ScheduledJobController.reset_stale_running`) and runs
again. Handlers must therefore be idempotent (unbanning someone who is not banned, or deleting
an ad that is already gone, must be harmless).

``guild_id=None`` in the query methods means "any guild", not "jobs without a guild".

Cluster mode (PostgreSQL, several processes) claims with :meth:`ScheduledJobController.claim_leased`
instead: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks due jobs of the caller's shards (and jobs
without a guild), and the same statement marks them ``running`` with a *lease*
(``lease_owner``, ``lease_expires_at``) that the runner renews (:meth:`renew_leases`). A job
whose lease expired (its runner died) is claimable again, by the process that owns its guild.
``finish``/``fail``/``release`` with ``owner`` only touch a run that is still that owner's.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController
from fish_bot.database.models.scheduler import JobStatus, ScheduledJob

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

#: Longest error text kept in ``last_error``.
MAX_ERROR_TEXT = 4000

_T = ScheduledJob.__table__.c  # type: ignore[attr-defined]

#: The PostgreSQL NOTIFY channel that tells other processes a job was scheduled.
JOBS_CHANNEL = "fish_bot_jobs"


def _owned(
    shard_count: int | None, shard_ids: Sequence[int] | None
) -> sa.ColumnElement[bool] | None:
    """Jobs without a guild, or of a guild on one of these shards (None: every job)."""
    if shard_count is None or shard_ids is None:
        return None
    shard = _T.guild_id.op(">>")(sa.literal_column("22")).op("%")(
        sa.literal_column(str(int(shard_count)))
    )
    return sa.or_(_T.guild_id.is_(None), shard.in_([int(value) for value in shard_ids]))


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (use discord.utils.utcnow())")
    return value


def _payload_matches(payload: Any, wanted: Mapping[str, Any]) -> bool:
    """Whether ``payload`` holds every key of ``wanted`` with an equal value."""
    if not isinstance(payload, Mapping):
        return not wanted
    missing = object()
    return all(payload.get(key, missing) == value for key, value in wanted.items())


class ScheduledJobController(BaseController[ScheduledJob]):
    """Persisted jobs: add, claim, finish, fail, cancel and the runner's queries."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(ScheduledJob, service)

    # --- writes --------------------------------------------------------------------------

    async def add(
        self,
        job_type: str,
        run_at: datetime,
        payload: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        max_attempts: int = 5,
        *,
        notify: bool = False,
    ) -> ScheduledJob:
        """Store a pending job; ``run_at`` must be aware (a time in the past means "now").

        ``payload`` must be JSON-serialisable (ids as ints, times as ISO strings). ``notify``
        (PostgreSQL): send a NOTIFY on :data:`JOBS_CHANNEL` in the same transaction as the
        insert, so the process owning the guild wakes when (and only if) it commits.
        """
        if not job_type or len(job_type) > 64:
            raise ValueError("job_type must be 1 to 64 characters")
        _aware(run_at, "run_at")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        data = dict(payload or {})
        try:
            json.dumps(data)
        except (TypeError, ValueError) as error:
            raise ValueError(f"payload of a {job_type!r} job is not JSON: {error}") from None
        now = discord.utils.utcnow()
        values: dict[str, Any] = {
            "job_type": job_type,
            "run_at": run_at,
            "payload": data,
            "guild_id": guild_id,
            "max_attempts": max_attempts,
            "status": JobStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        if not notify or self.service.dialect != "postgresql":
            return await self.create(**values)
        instance = ScheduledJob(**values)
        message = json.dumps({"guild_id": guild_id, "run_at": run_at.isoformat()})
        async with self._session(write=True, row=values) as session:
            session.add(instance)
            await session.flush()
            await session.execute(sa.select(sa.func.pg_notify(JOBS_CHANNEL, message)))
        return instance

    async def claim_job(self, job_id: int, *, now: datetime | None = None) -> ScheduledJob | None:
        """Take a pending job for running; returns it (attempts counted) or None.

        One ``UPDATE ... WHERE id = ? AND status = 'pending'`` decides: only one caller gets
        the row. With ``now``, the job must also be due (``run_at <= now``), so a job that
        another runner already tried and pushed back to a later retry is not run early.
        """
        conditions = [_T.id == job_id, _T.status == JobStatus.PENDING.value]
        if now is not None:
            conditions.append(_T.run_at <= _aware(now, "now"))
        statement = (
            sa.update(ScheduledJob)
            .where(*conditions)
            .values(
                status=JobStatus.RUNNING.value,
                attempts=_T.attempts + 1,
                updated_at=discord.utils.utcnow(),
            )
            .returning(ScheduledJob)
            .execution_options(populate_existing=True)
        )
        async with self._session(write=True) as session:
            return (await session.execute(statement)).scalars().first()

    async def claim_leased(
        self,
        now: datetime,
        limit: int,
        *,
        job_types: Collection[str],
        owner: str,
        lease_seconds: float,
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
    ) -> list[ScheduledJob]:
        """Claim up to ``limit`` due jobs for ``owner`` with a lease (PostgreSQL).

        Due means pending with ``run_at <= now``, or running with an expired lease (its
        runner died). Only jobs of ``job_types``, and of guilds on ``shard_ids`` (or without
        a guild). Rows another runner is claiming are skipped (``SKIP LOCKED``), never waited
        for, so concurrent runners split the work and no job is claimed twice.
        """
        _aware(now, "now")
        claimable = sa.or_(
            sa.and_(_T.status == JobStatus.PENDING.value, _T.run_at <= now),
            sa.and_(
                _T.status == JobStatus.RUNNING.value,
                sa.or_(_T.lease_expires_at.is_(None), _T.lease_expires_at <= now),
            ),
        )
        conditions: list[sa.ColumnElement[bool]] = [claimable, _T.job_type.in_(list(job_types))]
        owned = _owned(shard_count, shard_ids)
        if owned is not None:
            conditions.append(owned)
        picked = (
            sa.select(_T.id)
            .where(*conditions)
            .order_by(_T.run_at, _T.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("picked")
        )
        statement = (
            sa.update(ScheduledJob)
            .where(_T.id.in_(sa.select(picked.c.id)))
            .values(
                status=JobStatus.RUNNING.value,
                attempts=_T.attempts + 1,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                updated_at=discord.utils.utcnow(),
            )
            .returning(ScheduledJob)
            .execution_options(populate_existing=True)
        )
        async with self._session(write=True) as session:
            jobs = list((await session.execute(statement)).scalars().all())
        jobs.sort(key=lambda job: (job.run_at, job.id or 0))
        return jobs

    async def renew_leases(self, owner: str, job_ids: Collection[int], until: datetime) -> int:
        """Extend ``owner``'s leases of these running jobs to ``until``; how many."""
        if not job_ids:
            return 0
        return await self.update_where(
            [
                _T.id.in_(list(job_ids)),
                _T.status == JobStatus.RUNNING.value,
                _T.lease_owner == owner,
            ],
            {"lease_expires_at": _aware(until, "until")},
        )

    async def next_wake_at(
        self,
        *,
        job_types: Collection[str],
        owner: str,
        shard_count: int | None = None,
        shard_ids: Sequence[int] | None = None,
    ) -> datetime | None:
        """When this owner has something to claim next: a pending job, or another's lease."""
        owned = _owned(shard_count, shard_ids)
        extra = [] if owned is None else [owned]
        types = _T.job_type.in_(list(job_types))
        pending = sa.select(sa.func.min(_T.run_at)).where(
            _T.status == JobStatus.PENDING.value, types, *extra
        )
        leases = sa.select(sa.func.min(_T.lease_expires_at)).where(
            _T.status == JobStatus.RUNNING.value, _T.lease_owner != owner, types, *extra
        )
        async with self._session() as session:
            times = [
                (await session.execute(pending)).scalar_one_or_none(),
                (await session.execute(leases)).scalar_one_or_none(),
            ]
        found = [value for value in times if value is not None]
        return min(found) if found else None

    async def claim(self, job_id: int, *, now: datetime | None = None) -> bool:
        """Take a pending job for running; True means this caller owns the run."""
        return await self.claim_job(job_id, now=now) is not None

    def _running(self, job_id: int, owner: str | None) -> list[sa.ColumnElement[bool]]:
        conditions = [_T.id == job_id, _T.status == JobStatus.RUNNING.value]
        if owner is not None:
            conditions.append(_T.lease_owner == owner)
        return conditions

    async def finish(self, job_id: int, *, owner: str | None = None) -> bool:
        """Mark a running job done; False when it was not running (or not ``owner``'s)."""
        now = discord.utils.utcnow()
        changed = await self.update_where(
            self._running(job_id, owner),
            {
                "status": JobStatus.DONE.value,
                "finished_at": now,
                "updated_at": now,
                "lease_expires_at": None,
            },
        )
        return changed > 0

    async def fail(
        self, job_id: int, error_text: str, retry_at: datetime | None, *, owner: str | None = None
    ) -> JobStatus | None:
        """Record a failed run of a running job.

        The job goes back to ``pending`` at ``retry_at``, or becomes ``failed`` when
        ``retry_at`` is None or its attempts have reached ``max_attempts``. Returns the new
        status, or None when the job was not running.
        """
        if retry_at is not None:
            _aware(retry_at, "retry_at")
        text = (error_text or "error")[:MAX_ERROR_TEXT]
        now = discord.utils.utcnow()
        async with self._session(write=True) as session:
            row = (
                await session.execute(
                    sa.select(_T.attempts, _T.max_attempts).where(*self._running(job_id, owner))
                )
            ).first()
            if row is None:
                return None
            attempts, max_attempts = row
            values: dict[str, Any] = {
                "last_error": text,
                "updated_at": now,
                "lease_owner": None,
                "lease_expires_at": None,
            }
            if retry_at is None or attempts >= max_attempts:
                status = JobStatus.FAILED
                values.update(status=status.value, finished_at=now)
            else:
                status = JobStatus.PENDING
                values.update(status=status.value, run_at=retry_at)
            statement = (
                sa.update(ScheduledJob)
                .where(*self._running(job_id, owner))
                .values(**values)
                .execution_options(synchronize_session="fetch")
            )
            await session.execute(statement)
            return status

    async def release(self, job_id: int, *, owner: str | None = None) -> bool:
        """Give an interrupted run back: running -> pending, the attempt not counted.

        Used when the bot shuts down while a handler runs.
        """
        changed = await self.update_where(
            self._running(job_id, owner),
            {
                "status": JobStatus.PENDING.value,
                "attempts": sa.case((_T.attempts > 0, _T.attempts - 1), else_=0),
                "updated_at": discord.utils.utcnow(),
                "lease_owner": None,
                "lease_expires_at": None,
            },
        )
        return changed > 0

    async def cancel(self, job_id: int) -> bool:
        """Cancel a pending job; False when it is not pending (running, done, gone...)."""
        now = discord.utils.utcnow()
        changed = await self.update_where(
            [_T.id == job_id, _T.status == JobStatus.PENDING.value],
            {"status": JobStatus.CANCELLED.value, "finished_at": now, "updated_at": now},
        )
        return changed > 0

    async def cancel_where(
        self,
        job_type: str,
        guild_id: int | None = None,
        payload_filter: Mapping[str, Any] | None = None,
    ) -> int:
        """Cancel the pending jobs of a type (in a guild, with matching payload values).

        ``payload_filter={"user_id": 42}`` cancels the jobs whose payload has ``user_id``
        equal to 42 (other keys may differ). The payload match is done in Python over the
        candidate rows, the same way on every database. Returns how many were cancelled.
        """
        wanted = dict(payload_filter or {})
        conditions = [_T.job_type == job_type, _T.status == JobStatus.PENDING.value]
        if guild_id is not None:
            conditions.append(_T.guild_id == guild_id)
        async with self._session(write=True) as session:
            rows = (await session.execute(sa.select(_T.id, _T.payload).where(*conditions))).all()
            ids = [job_id for job_id, payload in rows if _payload_matches(payload, wanted)]
            if not ids:
                return 0
            now = discord.utils.utcnow()
            statement = (
                sa.update(ScheduledJob)
                .where(_T.id.in_(ids), _T.status == JobStatus.PENDING.value)
                .values(status=JobStatus.CANCELLED.value, finished_at=now, updated_at=now)
                .execution_options(synchronize_session="fetch")
            )
            result = await session.execute(statement)
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def reset_stale_running(self) -> int:
        """Put jobs left ``running`` by a crash back to ``pending``; returns how many.

        Call it once at start-up, before any runner of this database starts (one scheduler
        process per database). Those jobs run again, so handlers must be idempotent.
        """
        return await self.update_where(
            {"status": JobStatus.RUNNING.value},
            {"status": JobStatus.PENDING.value, "updated_at": discord.utils.utcnow()},
        )

    # --- reads ---------------------------------------------------------------------------

    def _pending_conditions(
        self, job_types: Collection[str] | None
    ) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = [_T.status == JobStatus.PENDING.value]
        if job_types is not None:
            conditions.append(_T.job_type.in_(list(job_types)))
        return conditions

    async def due(
        self, now: datetime, limit: int = 50, *, job_types: Collection[str] | None = None
    ) -> list[ScheduledJob]:
        """Pending jobs with ``run_at <= now``, oldest first (only ``job_types`` when given)."""
        conditions = [*self._pending_conditions(job_types), _T.run_at <= _aware(now, "now")]
        return await self.find_all(conditions, order_by=[_T.run_at, _T.id], limit=limit)

    async def next_run_at(self, *, job_types: Collection[str] | None = None) -> datetime | None:
        """The earliest ``run_at`` of a pending job (of ``job_types`` when given), or None."""
        query = (
            sa.select(_T.run_at)
            .where(*self._pending_conditions(job_types))
            .order_by(_T.run_at)
            .limit(1)
        )
        async with self._session() as session:
            value: datetime | None = (await session.execute(query)).scalar_one_or_none()
            return value

    async def count_pending(
        self, job_types: Collection[str] | None = None, guild_id: int | None = None
    ) -> int:
        """How many jobs are pending (of ``job_types``, in a guild), with one COUNT query."""
        conditions = self._pending_conditions(job_types)
        if guild_id is not None:
            conditions.append(_T.guild_id == guild_id)
        return await self.count(conditions)

    async def pending(
        self, job_type: str | None = None, guild_id: int | None = None
    ) -> list[ScheduledJob]:
        """Pending jobs (of a type, in a guild), in the order they will run."""
        conditions = self._pending_conditions(None if job_type is None else [job_type])
        if guild_id is not None:
            conditions.append(_T.guild_id == guild_id)
        return await self.find_all(conditions, order_by=[_T.run_at, _T.id])
