"""BaseController[Model]: the generic data operations every controller inherits.

Each method opens its own session through :class:`DatabaseService` (so it is its own
transaction) unless the calling task has a ``db.transaction()`` open, in which case it joins it.

``filters`` everywhere may be a SQLAlchemy expression, a list of expressions (joined with AND),
or a dict ``{column_name: value}``. Primary keys may be a scalar, a tuple (composite keys, in
the order of the table's primary key) or a dict ``{column_name: value}``.

Integrity errors become :class:`DuplicateError`, :class:`NotFoundError` or
:class:`IntegrityViolation` with a message naming the table and key; a driver error never
reaches the caller raw.

The helpers the methods build on (the session with domain errors, filters, primary keys, the
SELECT) are in :mod:`fish_bot.database.controllers.query`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached

from fish_bot.database.controllers.query import Filters, ModelT, PrimaryKey, QueryHelpersMixin
from fish_bot.exceptions import DuplicateError

if TYPE_CHECKING:
    from fish_bot.database.notify import Invalidation
    from fish_bot.database.service import DatabaseService

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """One page of results."""

    items: list[ItemT]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


class ChangeNotifier:
    """Change listeners of a controller whose rows a cache keeps per guild.

    :meth:`_changed` tells every listener which guild changed (``None``: possibly every
    guild), at once and, inside a transaction, again after the commit
    (:meth:`DatabaseService.after_commit`): a cache never keeps a value that a write replaced,
    nor one another task read while the write's transaction was still open. It also announces
    the change on the cache bus (topic :attr:`change_topic`, in the write's transaction), and
    the listeners hear the changes other processes announce (a resync: ``None``).
    """

    service: DatabaseService
    _listeners: list[Callable[[int | None], None]]
    #: The cache bus topic of this controller's changes (see ``database/notify.py``).
    change_topic: str = "rows"
    _bus_subscribed: bool = False

    def add_change_listener(self, listener: Callable[[int | None], None]) -> None:
        """Call ``listener(guild_id)`` after every write (``None``: any guild may have changed),
        in this process and, through the cache bus, after the writes of the other processes."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        if not self._bus_subscribed:
            self._bus_subscribed = True
            self.service.bus.subscribe(self.change_topic, self._remote_change)

    def remove_change_listener(self, listener: Callable[[int | None], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, guild_id: int | None) -> None:
        for listener in list(self._listeners):
            listener(guild_id)

    def _remote_change(self, event: Invalidation) -> None:
        self._notify(event.guild_id)

    async def _changed(self, guild_id: int | None) -> None:
        self._notify(guild_id)
        await self.service.bus.publish(self.change_topic, guild_id)
        if self.service.in_transaction():
            # Readers of other tasks may cache the old row until the commit: tell them again.
            await self.service.after_commit(lambda: self._notify(guild_id))


def detached_copy(instance: ModelT) -> ModelT:
    """A second, independent instance of a loaded row (its own copies of JSON values), in the
    same state as the first: detached, with the same identity. Several callers handed one row
    by a shared read each get their own object, so one caller's change cannot reach another."""
    mapper = sa.inspect(type(instance))
    values = {attr.key: copy.deepcopy(getattr(instance, attr.key)) for attr in mapper.column_attrs}
    clone = type(instance)(**values)
    make_transient_to_detached(clone)
    return clone


class BaseController(QueryHelpersMixin[ModelT]):
    """Generic CRUD, pagination and bulk operations for one model."""

    def __init__(self, model: type[ModelT], service: DatabaseService) -> None:
        if service is None:
            raise TypeError(f"{type(self).__name__} needs a DatabaseService")
        self.model = model
        self.service = service
        self.table: sa.Table = model.__table__  # type: ignore[attr-defined]
        self._pk_columns: tuple[sa.Column[Any], ...] = tuple(self.table.primary_key.columns)
        self._column_names = frozenset(self.table.columns.keys())

    # --- reads ---------------------------------------------------------------------------

    async def get_by_id(
        self, pk: PrimaryKey, *, options: Sequence[Any] | None = None
    ) -> ModelT | None:
        """The row with this primary key, or None."""
        async with self._session(read_only=True) as session:
            return await session.get(self.model, self._pk_values(pk), options=options)

    async def find_one(
        self, filters: Filters = None, *, order_by: Any = None, options: Sequence[Any] | None = None
    ) -> ModelT | None:
        """The first row matching ``filters``, or None."""
        async with self._session(read_only=True) as session:
            result = await session.execute(self._select(filters, order_by, 1, None, options))
            return result.scalars().first()

    async def find_all(
        self,
        filters: Filters = None,
        *,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        options: Sequence[Any] | None = None,
    ) -> list[ModelT]:
        """Every row matching ``filters``."""
        async with self._session(read_only=True) as session:
            result = await session.execute(self._select(filters, order_by, limit, offset, options))
            return list(result.scalars().all())

    async def count(self, filters: Filters = None) -> int:
        """How many rows match ``filters``."""
        async with self._session(read_only=True) as session:
            query = sa.select(sa.func.count()).select_from(self.table).where(*self._where(filters))
            return int((await session.execute(query)).scalar_one())

    async def exists(self, filters: Filters = None) -> bool:
        """Whether any row matches ``filters``."""
        async with self._session(read_only=True) as session:
            query = sa.select(sa.exists().where(*self._where(filters)).select_from(self.table))
            return bool((await session.execute(query)).scalar())

    async def paginate(
        self,
        page: int = 1,
        per_page: int = 20,
        *,
        filters: Filters = None,
        order_by: Any = None,
        options: Sequence[Any] | None = None,
    ) -> Page[ModelT]:
        """One page (1-based) of the rows matching ``filters``, with the total count."""
        if page < 1:
            raise ValueError("page starts at 1")
        if not 1 <= per_page <= 1000:
            raise ValueError("per_page must be between 1 and 1000")
        if order_by is None:
            order_by = list(self._pk_columns)
        async with self._session() as session:
            count_query = sa.select(sa.func.count()).select_from(self.table)
            total = int(
                (await session.execute(count_query.where(*self._where(filters)))).scalar_one()
            )
            query = self._select(filters, order_by, per_page, (page - 1) * per_page, options)
            items = list((await session.execute(query)).scalars().all())
        return Page(items=items, total=total, page=page, per_page=per_page)

    # --- writes --------------------------------------------------------------------------

    async def create(self, **values: Any) -> ModelT:
        """Insert one row and return it."""
        self._check_columns(values)
        instance = self.model(**values)
        async with self._session(write=True, row=values) as session:
            session.add(instance)
            await session.flush()  # INSERT ... RETURNING brings the generated key back
            if sa.inspect(instance).expired_attributes:
                # Columns the database filled in (server defaults): read them.
                await session.refresh(instance)
        return instance

    async def update_by_id(self, pk: PrimaryKey, **values: Any) -> ModelT | None:
        """Change columns of one row; returns the row, or None when it does not exist."""
        self._check_columns(values)
        if not values:
            return await self.get_by_id(pk)
        async with self._session(write=True, single=True) as session:
            # One statement: UPDATE ... RETURNING (the row as stored, or none).
            statement = (
                sa.update(self.model)
                .where(self._pk_clause(pk))
                .values(**values)
                .returning(self.model)
                .execution_options(populate_existing=True, synchronize_session=False)
            )
            instance: ModelT | None = (await session.execute(statement)).scalar_one_or_none()
            return instance

    async def update_where(self, filters: Filters, values: Mapping[str, Any]) -> int:
        """Change columns of every matching row; returns how many rows changed."""
        self._check_columns(values)
        if not values:
            return 0
        async with self._session(write=True) as session:
            query = sa.update(self.model).where(*self._where(filters)).values(**values)
            result = await session.execute(query.execution_options(synchronize_session="fetch"))
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def delete_by_id(self, pk: PrimaryKey) -> bool:
        """Delete one row; returns whether it existed."""
        async with self._session(write=True) as session:
            query = sa.delete(self.model).where(self._pk_clause(pk))
            result = await session.execute(query.execution_options(synchronize_session="fetch"))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete_where(self, filters: Filters) -> int:
        """Delete every matching row; returns how many were deleted."""
        async with self._session(write=True) as session:
            query = sa.delete(self.model).where(*self._where(filters))
            result = await session.execute(query.execution_options(synchronize_session="fetch"))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def _upsert_insert(self, table: sa.Table) -> Any:
        """``INSERT`` with ``ON CONFLICT`` for this database (its dialect's construct, imported
        on first use: a bot on SQLite never loads the PostgreSQL dialect, nor the reverse)."""
        if self.service.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    async def upsert(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        conflict_columns: Sequence[str] | None = None,
        update_columns: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> ModelT:
        """Insert a row, or update it when its key (or ``conflict_columns``) already exists.

        Atomic on both databases (``INSERT ... ON CONFLICT DO UPDATE``). Returns the row as
        stored after the statement.
        """
        data = {**(values or {}), **kwargs}
        self._check_columns(data)
        instance = self.model(**data)  # applies defaults and model validation
        row = {
            name: getattr(instance, name) for name in self._column_names if hasattr(instance, name)
        }
        row = {k: v for k, v in row.items() if k in data or v is not None}
        conflict = list(conflict_columns or [col.name for col in self._pk_columns])
        updates = list(update_columns or [k for k in data if k not in conflict])
        statement = self._upsert_insert(self.table).values(**row)
        if updates:
            statement = statement.on_conflict_do_update(
                index_elements=conflict,
                set_={name: statement.excluded[name] for name in updates},
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=conflict)
        # With updates, one statement: the row comes back with RETURNING (both databases
        # support it). Without, a row that existed is read by a second statement.
        async with self._session(write=True, single=bool(updates)) as session:
            returning = sa.select(self.model).from_statement(statement.returning(*self.table.c))
            found = (
                await session.execute(returning.execution_options(populate_existing=True))
            ).scalar_one_or_none()
            if found is not None:
                return found
            # ON CONFLICT DO NOTHING returns no row when the row existed: read it.
            query = (
                sa.select(self.model)
                .where(*(self.table.c[name] == row[name] for name in conflict))
                .execution_options(populate_existing=True)
            )
            return (await session.execute(query)).scalar_one()

    async def get_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookup: Any
    ) -> tuple[ModelT, bool]:
        """The row matching ``lookup``, created with ``defaults`` when missing.

        Returns ``(row, created)``. Safe under concurrency: when another writer creates the row
        first, its row is returned.
        """
        self._check_columns(lookup)
        self._check_columns(defaults or {})
        existing = await self.find_one(lookup)
        if existing is not None:
            return existing, False
        try:
            async with self._session(write=True) as session, session.begin_nested():
                instance = self.model(**{**(defaults or {}), **lookup})
                session.add(instance)
                await session.flush()
                await session.refresh(instance)
                return instance, True
        except DuplicateError:
            found = await self.find_one(lookup)
            if found is None:
                raise
            return found, False

    async def bulk_create(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert many rows in one statement; returns how many were inserted."""
        if not rows:
            return 0
        for row in rows:
            self._check_columns(row)
        instances = [self.model(**dict(row)) for row in rows]
        async with self._session(write=True) as session:
            session.add_all(instances)
            await session.flush()
        return len(instances)

    async def bulk_update(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Update many rows by primary key (each mapping holds the key and the new values).

        Returns how many existing rows were updated; keys that match no row are ignored.
        """
        if not rows:
            return 0
        pk_names = [col.name for col in self._pk_columns]
        for row in rows:
            self._check_columns(row)
            missing = [name for name in pk_names if name not in row]
            if missing:
                raise ValueError(f"bulk_update row lacks primary key {', '.join(missing)}")
        total = 0
        async with self._session(write=True) as session:
            for row in rows:
                values = {k: v for k, v in row.items() if k not in pk_names}
                if not values:
                    continue
                query = (
                    sa.update(self.model)
                    .where(self._pk_clause({name: row[name] for name in pk_names}))
                    .values(**values)
                    .execution_options(synchronize_session="fetch")
                )
                result = await session.execute(query)
                total += int(result.rowcount)  # type: ignore[attr-defined]
        return total

    async def bulk_delete(self, pks: Iterable[PrimaryKey]) -> int:
        """Delete the rows with these primary keys; returns how many were deleted."""
        keys = list(pks)
        if not keys:
            return 0
        async with self._session(write=True) as session:
            query = sa.delete(self.model).where(self._pks_clause(keys))
            result = await session.execute(query.execution_options(synchronize_session="fetch"))
            return int(result.rowcount)  # type: ignore[attr-defined]
