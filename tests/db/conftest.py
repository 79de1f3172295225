"""Helpers for the data-layer tests.

``stored`` reads a table through a connection of its own (never the ORM session, never the
ambient transaction), so an assertion on it shows what is really committed in the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from fish_bot.database.models.base import metadata
from fish_bot.database.service import DatabaseService

Stored = Callable[..., Awaitable[list[dict[str, Any]]]]


async def read_table(service: DatabaseService, table: str, *where: Any) -> list[dict[str, Any]]:
    """Every committed row of ``table`` matching ``where``, ordered by primary key."""
    t = metadata.tables[table]
    query = sa.select(t).where(*where).order_by(*t.primary_key.columns)
    async with service.engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


@pytest.fixture
def stored(db_service: DatabaseService) -> Stored:
    """``await stored("guild", <where>...)``: the committed rows of a table."""

    async def _stored(table: str, *where: Any) -> list[dict[str, Any]]:
        return await read_table(db_service, table, *where)

    return _stored
