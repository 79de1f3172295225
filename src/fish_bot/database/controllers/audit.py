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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any

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
        entry = await self.create(
            guild_id=guild_id or None,
            actor_id=actor_id if actor_id is not None else ACTOR.get(),
            action=action,
            target=target[:MAX_TARGET],
            old_value=old_value,
            new_value=new_value,
        )
        if self._listeners:
            await self.service.after_commit(lambda: self._tell(entry))
        return entry

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
