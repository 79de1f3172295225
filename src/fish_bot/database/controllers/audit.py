"""AuditController: the audit trail of the bot's configuration (``self.db.audit.log_action``).

Every change of a cog setting, a permission rule or rank, a guild configuration value or a
module's pause state writes one :class:`~fish_bot.database.models.audit.AuditEntry` *in the same
transaction as the change*, so a change and its entry commit or roll back together.

Who made a change is read from :data:`ACTOR`, a context variable the bot sets for the command or
component being handled (:func:`acting_as`); outside one (the command line, a settings import) it
is None, shown as "operator". Listeners (:meth:`AuditController.add_listener`) hear of each entry
once its transaction has committed: the server logs post it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import discord
import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController, Page
from fish_bot.database.models.audit import AuditEntry

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

#: The member whose command (or click) is being handled; None outside one.
ACTOR: ContextVar[int | None] = ContextVar("fish_bot_audit_actor", default=None)

_A = AuditEntry.__table__.c  # type: ignore[attr-defined]

#: Longest ``target`` kept.
MAX_TARGET = 200


class AuditChange(NamedTuple):
    """One change to record: :meth:`AuditController.log_actions` takes several."""

    guild_id: int | None
    action: str
    target: str
    old_value: Any = None
    new_value: Any = None
    #: Who made it; None: :data:`ACTOR` (the member whose command is being handled).
    actor_id: int | None = None


@contextmanager
def acting_as(user_id: int | None) -> Iterator[None]:
    """Attribute the changes made inside the block to ``user_id``."""
    token = ACTOR.set(user_id)
    try:
        yield
    finally:
        ACTOR.reset(token)


class AuditController(BaseController[AuditEntry]):
    """Audit entries: written beside each change, listed by `audit`."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(AuditEntry, service)
        self._listeners: list[Callable[[AuditEntry], None]] = []

    def add_listener(self, listener: Callable[[AuditEntry], None]) -> None:
        """Call ``listener(entry)`` for every entry once its transaction has committed."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[AuditEntry], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def log_action(
        self,
        guild_id: int | None,
        action: str,
        target: str,
        old_value: Any = None,
        new_value: Any = None,
        *,
        actor_id: int | None = None,
    ) -> AuditEntry:
        """Record one change (joins the open transaction); ``actor_id`` defaults to ACTOR."""
        change = AuditChange(guild_id, action, target, old_value, new_value, actor_id)
        (entry,) = await self.log_actions([change])
        return entry

    async def log_actions(self, changes: Sequence[AuditChange]) -> list[AuditEntry]:
        """Record several changes in one statement (a multi-row ``INSERT ... RETURNING``,
        joining the open transaction); the entries come back in the order given."""
        if not changes:
            return []
        now = discord.utils.utcnow()
        actor = ACTOR.get()
        rows = [
            {
                "guild_id": change.guild_id or None,
                "actor_id": change.actor_id if change.actor_id is not None else actor,
                "action": change.action,
                "target": change.target[:MAX_TARGET],
                "old_value": change.old_value,
                "new_value": change.new_value,
                "created_at": now,
            }
            for change in changes
        ]
        async with self._session(write=True, row=rows[0]) as session:
            result = await session.scalars(
                sa.insert(AuditEntry).returning(AuditEntry, sort_by_parameter_order=True), rows
            )
            entries = list(result)
        if self._listeners:
            await self.service.after_commit(lambda: self._tell_all(entries))
        return entries

    def _tell_all(self, entries: list[AuditEntry]) -> None:
        for entry in entries:
            self._tell(entry)

    def _tell(self, entry: AuditEntry) -> None:
        for listener in list(self._listeners):
            listener(entry)

    async def list_entries(
        self,
        guild_id: int,
        *,
        actor_id: int | None = None,
        since: datetime | None = None,
        page: int = 1,
        per_page: int = 10,
    ) -> Page[AuditEntry]:
        """A guild's entries, newest first, optionally by one member and since a moment."""
        filters: list[sa.ColumnElement[bool]] = [_A.guild_id == guild_id]
        if actor_id is not None:
            filters.append(_A.actor_id == actor_id)
        if since is not None:
            filters.append(_A.created_at >= since)
        return await self.paginate(
            page, per_page, filters=filters, order_by=[_A.created_at.desc(), _A.id.desc()]
        )
