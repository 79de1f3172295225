"""CaseController: moderation cases with per-guild sequential numbers."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa

from fish_bot.database.batching import Coalescer
from fish_bot.database.controllers.base import BaseController, Page, detached_copy
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


#: Case types that put a restriction in force, and the type that lifts each.
RESTRICTIONS: dict[CaseType, CaseType] = {
    CaseType.BAN: CaseType.UNBAN,
    CaseType.TEMPBAN: CaseType.UNBAN,
    CaseType.TIMEOUT: CaseType.UNTIMEOUT,
    CaseType.JAIL: CaseType.UNJAIL,
    CaseType.POLLBAN: CaseType.POLLUNBAN,
    CaseType.SNIPPETBAN: CaseType.SNIPPETUNBAN,
}


class CaseController(BaseController[Case]):
    """Moderation cases. The case number is allocated atomically per guild."""

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
        #: Stores mod-log message ids: bound parameters ``b_case`` and ``b_message``.
        self._mod_log_update = (
            sa.update(self.table)
            .where(self.table.c.id == sa.bindparam("b_case"))
            .values(mod_log_message_id=sa.bindparam("b_message"))
        )
        #: Mod-log message ids of cases posted at the same time, stored together.
        self._mod_log_ids: Coalescer[tuple[int, int], None] = Coalescer(
            self._store_mod_log_ids_alone, self._store_mod_log_ids
        )
        #: Cases looked up at the same time (a burst of ``cases view``) are read together.
        self._reads: Coalescer[tuple[int, int], Case | None] = Coalescer(
            self._read_alone, self._read_batch
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

    async def set_mod_log_message(self, case_id: int, message_id: int) -> None:
        """Remember the mod-log message of a case (the ids of a burst of posts are stored
        together, in one statement)."""
        if self.service.in_transaction():
            await self._store_mod_log_ids(lambda: [(case_id, message_id)])
            return
        await self._mod_log_ids.submit((case_id, message_id))

    async def _store_mod_log_ids_alone(self, item: tuple[int, int]) -> None:
        await self._store_mod_log_ids(lambda: [item])

    async def _store_mod_log_ids(self, take: Callable[[], list[tuple[int, int]]]) -> list[None]:
        async with self._session(write=True, single=True) as session:
            items = take()
            params = [{"b_case": case, "b_message": message} for case, message in items]
            await session.execute(self._mod_log_update, params)
        return [None] * len(items)

    async def _insert_numbered(self, values: dict[str, Any]) -> Case:
        number = await self.guilds.next_case_number(values["guild_id"])
        return await self.create(case_number=number, **values)

    async def get_case_by_number(self, guild_id: int, case_number: int) -> Case | None:
        """The case, or None. Lookups that arrive while one is being read are read together,
        in one statement; each caller gets its own instance."""
        if self.service.in_transaction():
            # The caller's transaction sees its own uncommitted writes: read in it.
            return await self._read_alone((guild_id, case_number))
        return await self._reads.submit((guild_id, case_number))

    async def _read_alone(self, key: tuple[int, int]) -> Case | None:
        guild_id, case_number = key
        return await self.find_one({"guild_id": guild_id, "case_number": case_number})

    async def _read_batch(self, take: Callable[[], list[tuple[int, int]]]) -> list[Case | None]:
        """The lookups that queued while another was read: one ``SELECT`` for them all."""
        async with self._session(read_only=True) as session:
            keys = take()
            if not keys:  # every caller of the batch was cancelled
                return []
            wanted: defaultdict[int, set[int]] = defaultdict(set)
            for guild_id, number in keys:
                wanted[guild_id].add(number)
            table = self.table
            found = await session.scalars(
                sa.select(Case).where(
                    sa.or_(
                        *(
                            sa.and_(
                                table.c.guild_id == guild_id,
                                table.c.case_number.in_(sorted(numbers)),
                            )
                            for guild_id, numbers in wanted.items()
                        )
                    )
                )
            )
            by_key = {(case.guild_id, case.case_number): case for case in found}
        cases: list[Case | None] = []
        handed: set[tuple[int, int]] = set()
        for key in keys:
            case = by_key.get(key)
            if case is not None and key in handed:
                case = detached_copy(case)
            handed.add(key)
            cases.append(case)
        return cases

    async def get_cases_by_numbers(self, guild_id: int, numbers: Iterable[int]) -> dict[int, Case]:
        """Several cases in one query, keyed by number."""
        wanted = list(numbers)
        if not wanted:
            return {}
        rows = await self.find_all(
            [Case.guild_id == guild_id, Case.case_number.in_(wanted)]  # type: ignore[attr-defined]
        )
        return {row.case_number: row for row in rows}

    def _option_filters(self, guild_id: int, options: Mapping[str, Any]) -> list[Any]:
        table = self.table.c
        filters: list[Any] = [table.guild_id == guild_id]
        if options.get("user_id") is not None:
            filters.append(table.user_id == options["user_id"])
        if options.get("moderator_id") is not None:
            filters.append(table.moderator_id == options["moderator_id"])
        types = options.get("case_type")
        if types is not None:
            values = [
                CaseType(t).value
                for t in (types if isinstance(types, (list, tuple, set)) else [types])
            ]
            filters.append(table.case_type.in_(values))
        statuses = options.get("status")
        if statuses is not None:
            values = [
                CaseStatus(s).value
                for s in (statuses if isinstance(statuses, (list, tuple, set)) else [statuses])
            ]
            filters.append(table.status.in_(values))
        if options.get("since") is not None:
            filters.append(table.created_at >= options["since"])
        if options.get("until") is not None:
            filters.append(table.created_at <= options["until"])
        return filters

    async def get_cases_by_options(
        self, guild_id: int, options: Mapping[str, Any] | None = None, *, limit: int | None = None
    ) -> list[Case]:
        """Cases matching options (user_id, moderator_id, case_type, status, since, until),
        newest first."""
        return await self.find_all(
            self._option_filters(guild_id, options or {}),
            order_by=self.table.c.case_number.desc(),
            limit=limit,
        )

    async def paginate_cases(
        self,
        guild_id: int,
        options: Mapping[str, Any] | None = None,
        *,
        page: int = 1,
        per_page: int = 10,
    ) -> Page[Case]:
        """One page of matching cases, newest first, with the total."""
        return await self.paginate(
            page,
            per_page,
            filters=self._option_filters(guild_id, options or {}),
            order_by=self.table.c.case_number.desc(),
        )

    async def get_active_restriction(
        self, guild_id: int, user_id: int, case_types: Iterable[CaseType | str]
    ) -> Case | None:
        """The newest active case of these types for the user, if any."""
        values = [CaseType(t).value for t in case_types]
        table = self.table.c
        return await self.find_one(
            [
                table.guild_id == guild_id,
                table.user_id == user_id,
                table.case_type.in_(values),
                table.status == CaseStatus.ACTIVE.value,
            ],
            order_by=table.case_number.desc(),
        )

    async def is_user_under_restriction(
        self,
        guild_id: int,
        user_id: int,
        active_restriction_type: CaseType | str,
        inactive_restriction_type: CaseType | str | None = None,
    ) -> bool:
        """Whether the user has an active case of ``active_restriction_type``.

        ``inactive_restriction_type`` (the lifting type, e.g. POLLUNBAN) is accepted for the
        spec's call shape; lifting a restriction marks its case ``lifted``, so the status of the
        newest restriction case is what decides.
        """
        del inactive_restriction_type
        case = await self.get_active_restriction(guild_id, user_id, [active_restriction_type])
        return case is not None

    async def restricted_users(self, guild_id: int, case_type: CaseType | str) -> set[int]:
        """Every user with an active case of this type in the guild (one query)."""
        table = self.table.c
        async with self._session() as session:
            result = await session.execute(
                sa.select(table.user_id)
                .where(
                    table.guild_id == guild_id,
                    table.case_type == CaseType(case_type).value,
                    table.status == CaseStatus.ACTIVE.value,
                )
                .distinct()
            )
            return {int(row[0]) for row in result}

    async def set_status(
        self, guild_id: int, case_number: int, status: CaseStatus | str
    ) -> Case | None:
        """Change a case's status; returns the case, or None when it does not exist."""
        case = await self.get_case_by_number(guild_id, case_number)
        if case is None or case.id is None:
            return None
        return await self.update_by_id(
            case.id, status=CaseStatus(status).value, updated_at=discord.utils.utcnow()
        )

    async def close_active(
        self,
        guild_id: int,
        user_id: int,
        case_types: Iterable[CaseType | str],
        status: CaseStatus | str = CaseStatus.LIFTED,
    ) -> int:
        """Close every active case of these types for the user; returns how many."""
        table = self.table.c
        return await self.update_where(
            [
                table.guild_id == guild_id,
                table.user_id == user_id,
                table.case_type.in_([CaseType(t).value for t in case_types]),
                table.status == CaseStatus.ACTIVE.value,
            ],
            {"status": CaseStatus(status).value, "updated_at": discord.utils.utcnow()},
        )

    async def close_active_cases(
        self,
        guild_id: int,
        user_id: int,
        case_types: Iterable[CaseType | str],
        status: CaseStatus | str = CaseStatus.LIFTED,
        *,
        keep: int | None = None,
    ) -> list[Case]:
        """Close the user's active cases of these types (except the case ``keep``) and return
        them as closed, in one statement (``UPDATE ... RETURNING``), oldest first."""
        types = [CaseType(t).value for t in case_types]
        if not types:
            return []
        table = self.table.c
        filters = [
            table.guild_id == guild_id,
            table.user_id == user_id,
            table.case_type.in_(types),
            table.status == CaseStatus.ACTIVE.value,
        ]
        if keep is not None:
            filters.append(table.id != keep)
        statement = (
            sa.update(Case)
            .where(*filters)
            .values(status=CaseStatus(status).value, updated_at=discord.utils.utcnow())
            .returning(Case)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        async with self._session(write=True) as session:
            closed = list((await session.execute(statement)).scalars().all())
        return sorted(closed, key=lambda case: case.case_number)

    # --- pending cases (recorded before their Discord action) ------------------------------

    async def pending_cases(self, guild_ids: Iterable[int] | None = None) -> list[Case]:
        """Cases still ``pending`` (of these guilds, or every guild), oldest first."""
        table = self.table.c
        filters: list[Any] = [table.status == CaseStatus.PENDING.value]
        if guild_ids is not None:
            filters.append(table.guild_id.in_(list(guild_ids)))
        return await self.find_all(filters, order_by=(table.guild_id, table.case_number))

    async def resolve_pending(
        self, case_id: int, status: CaseStatus | str, *, extra: Mapping[str, Any] | None = None
    ) -> bool:
        """Move a pending case to ``status`` (active or voided); False when it was not pending.

        ``extra`` replaces the case's extra data in the same statement (e.g. a void reason).
        """
        values: dict[str, Any] = {
            "status": CaseStatus(status).value,
            "updated_at": discord.utils.utcnow(),
        }
        if extra is not None:
            values["extra"] = dict(extra)
        changed = await self.update_where(
            {"id": case_id, "status": CaseStatus.PENDING.value}, values
        )
        return bool(changed)
