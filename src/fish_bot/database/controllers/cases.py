"""CaseController: moderation cases with per-guild sequential numbers.

How a case is numbered and inserted (alone, in a burst, in a transaction) is
:mod:`~fish_bot.database.controllers.case_numbering`; the lookups, searches, restrictions
and status changes are here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa

from fish_bot.database.batching import Coalescer
from fish_bot.database.controllers.base import Page, detached_copy
from fish_bot.database.controllers.case_numbering import CaseNumbering
from fish_bot.database.controllers.core import GuildController
from fish_bot.database.models.cases import Case, CaseStatus, CaseType

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService

#: Case types that put a restriction in force, and the type that lifts each.
RESTRICTIONS: dict[CaseType, CaseType] = {
    CaseType.BAN: CaseType.UNBAN,
    CaseType.TEMPBAN: CaseType.UNBAN,
    CaseType.TIMEOUT: CaseType.UNTIMEOUT,
    CaseType.JAIL: CaseType.UNJAIL,
    CaseType.POLLBAN: CaseType.POLLUNBAN,
    CaseType.SNIPPETBAN: CaseType.SNIPPETUNBAN,
}


class CaseController(CaseNumbering):
    """Moderation cases. The case number is allocated atomically per guild."""

    def __init__(self, service: DatabaseService, guilds: GuildController | None = None) -> None:
        super().__init__(service, guilds)
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
