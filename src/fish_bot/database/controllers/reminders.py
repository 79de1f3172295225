"""ReminderController and ReminderPreferenceController: members' reminders and preferences.

State changes of a reminder are conditional ``UPDATE``s on its status and occurrence
(``... WHERE id = ? AND status = 'pending' AND occurrence = ?``): a delivery that runs twice, or a
delivery racing a cancel, changes the row at most once; the loser sees ``None``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController, Page
from fish_bot.database.models.reminders import Reminder, ReminderPreference, ReminderStatus

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

_R = Reminder.__table__.c  # type: ignore[attr-defined]

#: The reminders ``reminders`` lists: waiting ones and the ones whose delivery failed.
LISTED = (ReminderStatus.PENDING.value, ReminderStatus.FAILED.value)


class ReminderController(BaseController[Reminder]):
    """Reminders: add, list, cancel, and the delivery's state changes."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(Reminder, service)

    # --- reads ---------------------------------------------------------------------------

    async def count_pending(self, member_id: int) -> int:
        """How many reminders of this member wait to be delivered."""
        return await self.count({"member_id": member_id, "status": ReminderStatus.PENDING.value})

    async def list_for_member(
        self, member_id: int, page: int = 1, per_page: int = 5
    ) -> Page[Reminder]:
        """One page of a member's waiting and failed reminders, soonest first."""
        return await self.paginate(
            page,
            per_page,
            filters=[_R.member_id == member_id, _R.status.in_(LISTED)],
            order_by=[_R.due_at, _R.id],
        )

    async def get_for_member(self, reminder_id: int, member_id: int) -> Reminder | None:
        """The member's own waiting or failed reminder with this id (None for anyone else's)."""
        return await self.find_one(
            [_R.id == reminder_id, _R.member_id == member_id, _R.status.in_(LISTED)]
        )

    # --- the owner's changes -------------------------------------------------------------

    async def cancel(self, reminder_id: int, member_id: int) -> Reminder | None:
        """Cancel the member's own waiting or failed reminder; None when there is none."""
        return await self._change(
            [_R.id == reminder_id, _R.member_id == member_id, _R.status.in_(LISTED)],
            status=ReminderStatus.CANCELLED.value,
        )

    async def cancel_all(self, member_id: int) -> list[Reminder]:
        """Cancel every waiting or failed reminder of the member; the cancelled ones."""
        async with self._session(write=True) as session:
            statement = (
                sa.update(Reminder)
                .where(_R.member_id == member_id, _R.status.in_(LISTED))
                .values(status=ReminderStatus.CANCELLED.value)
                .returning(Reminder)
                .execution_options(populate_existing=True, synchronize_session=False)
            )
            return list((await session.execute(statement)).scalars().all())

    # --- delivery ------------------------------------------------------------------------

    def _occurrence(self, reminder_id: int, occurrence: int) -> list[sa.ColumnElement[bool]]:
        return [
            _R.id == reminder_id,
            _R.status == ReminderStatus.PENDING.value,
            _R.occurrence == occurrence,
        ]

    async def mark_sending(
        self, reminder_id: int, occurrence: int, at: datetime
    ) -> Reminder | None:
        """Note that this occurrence is about to be sent; None when it is no longer due."""
        return await self._change(self._occurrence(reminder_id, occurrence), sending_at=at)

    async def mark_delivered(
        self, reminder_id: int, occurrence: int, at: datetime
    ) -> Reminder | None:
        """A one-off reminder was delivered."""
        return await self._change(
            self._occurrence(reminder_id, occurrence),
            status=ReminderStatus.DELIVERED.value,
            occurrence=occurrence + 1,
            delivered_at=at,
            sending_at=None,
            last_error=None,
        )

    async def advance(
        self, reminder_id: int, occurrence: int, at: datetime, next_due: datetime
    ) -> Reminder | None:
        """A repeating reminder's occurrence was delivered: the next one is due at ``next_due``."""
        return await self._change(
            self._occurrence(reminder_id, occurrence),
            occurrence=occurrence + 1,
            due_at=next_due,
            delivered_at=at,
            sending_at=None,
            last_error=None,
        )

    async def mark_failed(self, reminder_id: int, occurrence: int, error: str) -> Reminder | None:
        """Neither the channel nor a direct message took the reminder."""
        return await self._change(
            self._occurrence(reminder_id, occurrence),
            status=ReminderStatus.FAILED.value,
            sending_at=None,
            last_error=error[:500],
        )

    async def set_job(self, reminder_id: int, job_id: int) -> None:
        """Remember the scheduler job that delivers the next occurrence."""
        await self.update_by_id(reminder_id, job_id=job_id)

    async def _change(self, where: list[sa.ColumnElement[bool]], **values: Any) -> Reminder | None:
        async with self._session(write=True) as session:
            statement = (
                sa.update(Reminder)
                .where(*where)
                .values(**values)
                .returning(Reminder)
                .execution_options(populate_existing=True, synchronize_session=False)
            )
            return (await session.execute(statement)).scalar_one_or_none()


class ReminderPreferenceController(BaseController[ReminderPreference]):
    """Members' reminder preferences: time zone and direct-message delivery."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(ReminderPreference, service)

    async def get_preference(self, member_id: int) -> ReminderPreference:
        """The member's preferences (the defaults when they set none)."""
        found = await self.get_by_id(member_id)
        return found if found is not None else ReminderPreference(member_id=member_id)

    async def set_timezone(self, member_id: int, timezone: str | None) -> ReminderPreference:
        """Store the member's time zone (None: back to UTC)."""
        return await self.upsert(member_id=member_id, timezone=timezone)

    async def set_dm(self, member_id: int, dm: bool) -> ReminderPreference:
        """Deliver the member's reminders by direct message (or not)."""
        return await self.upsert(member_id=member_id, dm=dm)
