"""How a moderation case gets its number: the insert half of :class:`CaseController`.

A case's number is the guild's next one (``guild.case_count``), allocated atomically with the
row:

* one case alone is numbered and inserted by ONE statement (PostgreSQL: a data-modifying CTE;
  SQLite: ``INSERT ... SELECT`` with migration 0014's counter trigger), with a transaction as
  the fallback when the guild has no row yet or the trigger is gone;
* cases recorded at the same time (a burst of warns) are inserted together by a
  :class:`~fish_bot.database.batching.Coalescer`: each guild's counter raised once, the rows
  in one multi-row ``INSERT ... RETURNING``;
* inside the caller's transaction, the number and the row are two statements of it.

``CaseController`` is composed of :class:`CaseNumbering`; nothing else uses it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from fish_bot.database.batching import Coalescer
from fish_bot.database.controllers.base import BaseController
from fish_bot.database.controllers.core import GuildController
from fish_bot.database.models.cases import Case, CaseStatus, CaseType

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

#: SQLite's trigger (migration 0014) that raises ``guild.case_count`` on each case insert.
CASE_COUNTER_TRIGGER = "case_number_advances_guild_counter"

#: The case's fields that have a default, but for the id and the number (set by the insert).
_DEFAULTED_FIELDS = tuple(
    (name, field)
    for name, field in Case.model_fields.items()
    if name not in ("id", "case_number") and not field.is_required()
)


def _with_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """A case's values with the model's defaults of the fields not given (created_at...)."""
    row = dict(values)
    for name, field in _DEFAULTED_FIELDS:
        if name not in row:
            row[name] = field.get_default(call_default_factory=True)
    return row


class CaseNumbering(BaseController[Case]):
    """Cases inserted with the guild's next number, alone or in a burst."""

    def __init__(self, service: DatabaseService, guilds: GuildController | None = None) -> None:
        super().__init__(Case, service)
        #: The hub's guild controller (``db.guild``), which allocates case numbers.
        self.guilds = guilds if guilds is not None else GuildController(service)
        #: SQLite: whether migration 0014's counter trigger is there (read once).
        self._sqlite_trigger: bool | None = None
        self._trigger_lock = asyncio.Lock()
        #: The one-statement inserts, by the set of columns a case has values for.
        self._one_statement: dict[tuple[str, ...], Any] = {}
        #: Cases recorded at the same time (a burst of warns) are inserted together.
        self._inserts: Coalescer[dict[str, Any], Case] = Coalescer(
            self._insert_alone, self._insert_batch
        )

    async def insert_case(
        self,
        *,
        guild_id: int,
        case_user_id: int,
        case_moderator_id: int,
        case_type: CaseType | str,
        case_reason: str | None = None,
        case_expires_at: datetime | None = None,
        case_status: CaseStatus | str = CaseStatus.ACTIVE,
        case_extra: Mapping[str, Any] | None = None,
    ) -> Case:
        """Record a case with the guild's next number (number and row in one transaction)."""
        values = {
            "guild_id": guild_id,
            "case_type": CaseType(case_type).value,
            "user_id": case_user_id,
            "moderator_id": case_moderator_id,
            "reason": case_reason,
            "expires_at": case_expires_at,
            "status": CaseStatus(case_status).value,
            "extra": dict(case_extra or {}),
        }
        if self.service.in_transaction():
            # The caller's transaction makes number and row atomic: no SAVEPOINT round trips.
            return await self._insert_numbered(values)
        self._check_columns(values)
        return await self._inserts.submit(values)

    async def _insert_alone(self, values: dict[str, Any]) -> Case:
        """One case, when no other is being recorded: number and row in ONE statement, atomic
        by itself (no BEGIN/COMMIT round trips); without the counter trigger, a transaction."""
        if await self._one_statement_numbering():
            case = await self._insert_numbered_in_one_statement(values)
            if case is not None:
                return case
        async with self.service.transaction():
            return await self._insert_numbered(values)

    async def _one_statement_numbering(self) -> bool:
        """PostgreSQL always; SQLite while migration 0014's trigger exists (a later table
        rebuild that dropped it falls back to the transaction, never to duplicate numbers)."""
        if not self.service.is_sqlite:
            return True
        if self._sqlite_trigger is None:
            async with self._trigger_lock:  # a burst of first cases reads it once, not each
                if self._sqlite_trigger is None:
                    query = sa.text(
                        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = :name"
                    )
                    async with self.service.session(read_only=True) as session:
                        found = await session.execute(query, {"name": CASE_COUNTER_TRIGGER})
                        self._sqlite_trigger = found.first() is not None
        return self._sqlite_trigger

    async def _insert_numbered_in_one_statement(self, values: dict[str, Any]) -> Case | None:
        """One statement that numbers and inserts the case; None when the guild has no row yet.

        PostgreSQL: ``WITH n AS (UPDATE guild ... RETURNING case_count) INSERT INTO case
        SELECT ...`` (a data-modifying CTE). SQLite has none: ``INSERT INTO case SELECT
        guild.case_count + 1, ... FROM guild``, and the trigger of migration 0014 raises the
        counter in the same statement.
        """
        row = _with_defaults(values)
        names = tuple(c.name for c in self.table.c if row.get(c.name) is not None)
        statement = self._one_statement.get(names)
        if statement is None:
            statement = self._one_statement[names] = self._numbered_insert(names)
        params = {f"v_{name}": row[name] for name in names}
        async with self._session(write=True, single=True, row=values) as session:
            result = await session.execute(
                statement, params, execution_options={"populate_existing": True}
            )
            return result.scalar_one_or_none()

    def _numbered_insert(self, names: tuple[str, ...]) -> Any:
        """The one-statement insert for cases with these columns set (built once per set;
        the values are bound parameters ``v_<column>``)."""
        table = self.table
        binds = {name: sa.bindparam(f"v_{name}", type_=table.c[name].type) for name in names}
        guild = self.guilds.table
        if self.service.is_sqlite:
            select = sa.select(guild.c.case_count + 1, *binds.values()).where(
                guild.c.id == binds["guild_id"]
            )
        else:
            number = (
                sa.update(guild)
                .where(guild.c.id == binds["guild_id"])
                .values(case_count=guild.c.case_count + 1)
                .returning(guild.c.case_count)
                .cte("next_case_number")
            )
            select = sa.select(number.c.case_count, *binds.values())
        insert = sa.insert(table).from_select(["case_number", *names], select).returning(*table.c)
        return sa.select(Case).from_statement(insert)

    async def _insert_batch(self, take: Callable[[], list[dict[str, Any]]]) -> list[Case]:
        """The cases that queued while another was recorded, in one transaction: each guild's
        counter raised once by its number of cases (``UPDATE ... RETURNING``), then the rows
        with their numbers in one multi-row ``INSERT ... RETURNING``."""
        async with self._session(write=True) as session:
            batch = take()
            rows = [_with_defaults(values) for values in batch]
            counts = Counter(row["guild_id"] for row in rows)
            guild = self.guilds.table
            numbers: dict[int, Iterator[int]] = {}
            for guild_id, count in counts.items():
                top = await session.scalar(
                    sa.update(guild)
                    .where(guild.c.id == guild_id)
                    .values(case_count=guild.c.case_count + count)
                    .returning(guild.c.case_count)
                )
                if top is None:  # no guild row yet: each case alone creates it
                    raise LookupError(f"guild {guild_id} has no row")
                numbers[guild_id] = iter(range(top - count + 1, top + 1))
            for row in rows:
                row["case_number"] = next(numbers[row["guild_id"]])
            inserted = await session.scalars(
                sa.insert(Case).returning(Case), rows, execution_options={"populate_existing": True}
            )
            by_number = {(case.guild_id, case.case_number): case for case in inserted}
        return [by_number[(row["guild_id"], row["case_number"])] for row in rows]

    async def _insert_numbered(self, values: dict[str, Any]) -> Case:
        number = await self.guilds.next_case_number(values["guild_id"])
        return await self.create(case_number=number, **values)
