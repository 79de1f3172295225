"""The helpers every :class:`~fish_bot.database.controllers.base.BaseController` method builds on.

* ``_session``: a session of the :class:`DatabaseService` whose driver errors become domain
  errors (:class:`DuplicateError`, :class:`NotFoundError`, :class:`IntegrityViolation`,
  :class:`DatabaseUnavailable`) naming the table and key.
* ``filters`` turned into WHERE clauses, primary keys (scalar, tuple or mapping) into values and
  clauses, column names checked, and the SELECT of ``find_one``, ``find_all`` and ``paginate``.

``BaseController`` is composed of :class:`QueryHelpersMixin`; subclasses use these helpers in
their own queries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlmodel import SQLModel

from fish_bot.exceptions import (
    DatabaseUnavailable,
    DuplicateError,
    IntegrityViolation,
    NotFoundError,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fish_bot.database.service import DatabaseService

ModelT = TypeVar("ModelT", bound=SQLModel)

Filters = Any  # an expression, a sequence of expressions, a mapping, or None
PrimaryKey = Any  # a scalar, a tuple, or a mapping


def _classify(error: IntegrityError) -> str:
    text = str(error.orig if error.orig is not None else error).lower()
    if "unique" in text or "duplicate key" in text or "primary key" in text:
        return "duplicate"
    if "foreign key" in text:
        return "foreign"
    return "other"


def _is_data_error(error: DBAPIError) -> bool:
    """A value refused by its column type (SQLSTATE class 22; asyncpg reports no DataError)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return isinstance(error, DataError) or (isinstance(sqlstate, str) and sqlstate[:2] == "22")


class QueryHelpersMixin(Generic[ModelT]):
    """Sessions with domain errors, filters, primary keys, column checks and SELECTs."""

    if TYPE_CHECKING:  # set by BaseController.__init__
        model: type[ModelT]
        service: DatabaseService
        table: sa.Table
        _pk_columns: tuple[sa.Column[Any], ...]
        _column_names: frozenset[str]

    @property
    def name(self) -> str:
        return self.table.name

    @asynccontextmanager
    async def _session(
        self,
        *,
        write: bool = False,
        read_only: bool = False,
        single: bool = False,
        row: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[AsyncSession]:
        """A session with driver errors turned into domain errors.

        ``read_only``: the block runs one read statement; ``single`` (with ``write``): one
        write statement (no transaction round trips either way, see
        :meth:`DatabaseService.session`). ``row`` holds the values being written, so an
        integrity error can name the key.
        """
        try:
            async with self.service.session(
                write=write, read_only=read_only, single=single
            ) as session:
                yield session
        except IntegrityError as error:
            raise self._integrity_error(error, row) from None
        except DatabaseUnavailable:
            raise
        except DBAPIError as error:
            if error.connection_invalidated:
                raise DatabaseUnavailable(
                    f"Lost the database connection during a {self.name} operation"
                ) from error
            if _is_data_error(error):
                # A value the column's type refuses (e.g. too long for a VARCHAR on PostgreSQL).
                text = str(error.orig if error.orig is not None else error).strip()
                detail = text.splitlines()[0] if text else "bad value"
                raise IntegrityViolation(
                    f"The {self.name} row holds a value the database refuses: {detail}"
                ) from None
            raise

    def _integrity_error(
        self, error: IntegrityError, row: Mapping[str, Any] | None = None
    ) -> Exception:
        kind = _classify(error)
        params = row if row is not None else error.params
        if not isinstance(params, Mapping):
            params = {}
        keys = ", ".join(
            f"{col.name}={params[col.name]!r}" for col in self._pk_columns if col.name in params
        )
        where = f" ({keys})" if keys else ""
        if kind == "duplicate":
            return DuplicateError(f"A {self.name} row with the same key already exists{where}.")
        if kind == "foreign":
            return NotFoundError(
                f"A {self.name} row refers to something that does not exist{where}."
            )
        detail = str(error.orig).splitlines()[0] if error.orig is not None else "integrity rule"
        return IntegrityViolation(f"The {self.name} row breaks a database rule{where}: {detail}")

    def _where(self, filters: Filters) -> list[sa.ColumnElement[bool]]:
        if filters is None:
            return []
        if isinstance(filters, Mapping):
            clauses = []
            for name, value in filters.items():
                if name not in self._column_names:
                    raise ValueError(f"{self.name} has no column {name!r}")
                column = self.table.c[name]
                clauses.append(column.is_(None) if value is None else column == value)
            return clauses
        if isinstance(filters, (list, tuple)):
            return [clause for item in filters for clause in self._where(item)]
        return [filters]

    def _pk_values(self, pk: PrimaryKey) -> tuple[Any, ...]:
        if isinstance(pk, Mapping):
            try:
                return tuple(pk[col.name] for col in self._pk_columns)
            except KeyError as missing:
                raise ValueError(f"{self.name} primary key needs {missing.args[0]!r}") from None
        values = tuple(pk) if isinstance(pk, (tuple, list)) else (pk,)
        if len(values) != len(self._pk_columns):
            names = ", ".join(col.name for col in self._pk_columns)
            raise ValueError(f"{self.name} primary key is ({names}); got {len(values)} value(s)")
        return values

    def _pk_clause(self, pk: PrimaryKey) -> sa.ColumnElement[bool]:
        values = self._pk_values(pk)
        return sa.and_(*(col == value for col, value in zip(self._pk_columns, values, strict=True)))

    def _pks_clause(self, pks: Iterable[PrimaryKey]) -> sa.ColumnElement[bool]:
        values = [self._pk_values(pk) for pk in pks]
        if len(self._pk_columns) == 1:
            return self._pk_columns[0].in_([v[0] for v in values])
        return sa.tuple_(*self._pk_columns).in_(values)

    def _check_columns(self, values: Mapping[str, Any]) -> None:
        unknown = set(values) - self._column_names
        if unknown:
            raise ValueError(f"{self.name} has no column(s) {', '.join(sorted(unknown))}")

    def _select(
        self,
        filters: Filters = None,
        order_by: Any = None,
        limit: int | None = None,
        offset: int | None = None,
        options: Sequence[Any] | None = None,
    ) -> sa.Select[Any]:
        query = sa.select(self.model).where(*self._where(filters))
        if order_by is not None:
            orders = order_by if isinstance(order_by, (list, tuple)) else [order_by]
            query = query.order_by(*orders)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        if options:
            query = query.options(*options)
        return query
