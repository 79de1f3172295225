"""Controllers of the core tables: guilds, guild configuration, cog settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa

from fish_bot.database.controllers.audit import AuditController
from fish_bot.database.controllers.base import BaseController, ChangeNotifier
from fish_bot.database.controllers.query import Filters, PrimaryKey
from fish_bot.database.models import CogSetting, Guild, GuildConfig, LogKind
from fish_bot.database.models.core import GLOBAL_SCOPE

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService


class GuildController(BaseController[Guild]):
    """Guild rows and the per-guild case counter."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(Guild, service)

    async def ensure(self, guild_id: int) -> Guild:
        """The guild's row, created when missing."""
        guild, _ = await self.get_or_create(id=guild_id)
        return guild

    async def next_case_number(self, guild_id: int) -> int:
        """Allocate the guild's next case number atomically (no gap, no duplicate).

        One ``UPDATE ... RETURNING`` takes the row lock, so concurrent callers on SQLite and
        PostgreSQL each get their own number. Inside a transaction that later rolls back, the
        number is given back too.
        """
        column = self.table.c.case_count
        statement = (
            sa.update(self.table)
            .where(self.table.c.id == guild_id)
            .values(case_count=column + 1)
            .returning(column)
        )
        async with self._session(write=True) as session:
            number = (await session.execute(statement)).scalar_one_or_none()
            if number is None:
                await self._insert_missing(session, guild_id)
                number = (await session.execute(statement)).scalar_one()
            return int(number)

    async def _insert_missing(self, session: Any, guild_id: int) -> None:
        insert = (
            sa.dialects.sqlite.insert if self.service.is_sqlite else sa.dialects.postgresql.insert
        )
        await session.execute(
            insert(Guild.__table__)  # type: ignore[attr-defined]
            .values(id=guild_id, joined_at=discord.utils.utcnow(), case_count=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )


class GuildConfigController(ChangeNotifier, BaseController[GuildConfig]):
    """Per-guild configuration: prefix, log channels, jail, moderation rules.

    Every write through this controller tells its change listeners which guild changed
    (``None``: possibly every guild), at once and again after the commit, so a cache of the
    configuration (``bot.guild_configs``, ``bot.prefixes``) never keeps a replaced value.
    """

    change_topic = "guild_config"

    def __init__(
        self,
        service: DatabaseService,
        guilds: GuildController | None = None,
        audit: AuditController | None = None,
    ) -> None:
        super().__init__(GuildConfig, service)
        #: The hub's guild controller (``db.guild``), for the guild row a config refers to.
        self.guilds = guilds if guilds is not None else GuildController(service)
        #: The hub's audit trail (``db.audit``): every changed value is recorded beside it.
        self.audit = audit if audit is not None else AuditController(service)
        self._listeners: list[Callable[[int | None], None]] = []

    # --- the generic writes, with notification -----------------------------------------------

    async def create(self, **values: Any) -> GuildConfig:
        row = await super().create(**values)
        await self._changed(row.guild_id)
        return row

    async def update_by_id(self, pk: PrimaryKey, **values: Any) -> GuildConfig | None:
        row = await super().update_by_id(pk, **values)
        await self._changed(int(self._pk_values(pk)[0]))
        return row

    async def update_where(self, filters: Filters, values: Mapping[str, Any]) -> int:
        count = await super().update_where(filters, values)
        await self._changed(None)
        return count

    async def delete_by_id(self, pk: PrimaryKey) -> bool:
        deleted = await super().delete_by_id(pk)
        await self._changed(int(self._pk_values(pk)[0]))
        return deleted

    async def delete_where(self, filters: Filters) -> int:
        count = await super().delete_where(filters)
        await self._changed(None)
        return count

    async def upsert(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        conflict_columns: Sequence[str] | None = None,
        update_columns: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> GuildConfig:
        row = await super().upsert(
            values, conflict_columns=conflict_columns, update_columns=update_columns, **kwargs
        )
        await self._changed(row.guild_id)
        return row

    async def get_or_create(
        self, defaults: Mapping[str, Any] | None = None, **lookup: Any
    ) -> tuple[GuildConfig, bool]:
        row, created = await super().get_or_create(defaults, **lookup)
        if created:
            await self._changed(row.guild_id)
        return row, created

    async def bulk_create(self, rows: Sequence[Mapping[str, Any]]) -> int:
        count = await super().bulk_create(rows)
        await self._changed(None)
        return count

    async def bulk_update(self, rows: Sequence[Mapping[str, Any]]) -> int:
        count = await super().bulk_update(rows)
        await self._changed(None)
        return count

    async def bulk_delete(self, pks: Iterable[PrimaryKey]) -> int:
        count = await super().bulk_delete(pks)
        await self._changed(None)
        return count

    # --- configuration -----------------------------------------------------------------------

    async def get_config(self, guild_id: int) -> GuildConfig | None:
        return await self.get_by_id(guild_id)

    async def get_or_create_config(self, guild_id: int) -> GuildConfig:
        """The guild's configuration, created with defaults (and its guild row) when missing."""
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            config, _ = await self.get_or_create(guild_id=guild_id)
            return config

    async def update_config(self, guild_id: int, **values: Any) -> GuildConfig:
        """Change configuration values, creating the configuration when missing."""
        self._check_columns(values)
        async with self.service.transaction():
            current = await self.get_or_create_config(guild_id)
            before = {name: getattr(current, name) for name in values}
            updated = await self.update_by_id(guild_id, **values)
            assert updated is not None
            for name, old in before.items():
                new = getattr(updated, name)
                if new != old:
                    await self.audit.log_action(guild_id, "config", name, old, new)
            return updated

    async def get_prefix(self, guild_id: int) -> str | None:
        config = await self.get_config(guild_id)
        return config.prefix if config else None

    async def get_log_channel(self, guild_id: int, kind: LogKind | str) -> int | None:
        """The channel id for a kind of log (``mod``, ``message``, ``member``, ``server``)."""
        column = GuildConfig.log_column(kind)  # an unknown kind fails even without a config
        config = await self.get_config(guild_id)
        return getattr(config, column) if config else None

    async def set_log_channel(
        self, guild_id: int, kind: LogKind | str, channel_id: int | None
    ) -> None:
        await self.update_config(guild_id, **{GuildConfig.log_column(kind): channel_id})

    async def get_jail_role_id(self, guild_id: int) -> int | None:
        config = await self.get_config(guild_id)
        return config.jail_role_id if config else None

    async def update_jail_role_id(self, guild_id: int, role_id: int | None) -> None:
        await self.update_config(guild_id, jail_role_id=role_id)

    async def get_jail_channel_id(self, guild_id: int) -> int | None:
        config = await self.get_config(guild_id)
        return config.jail_channel_id if config else None

    async def update_jail_channel_id(self, guild_id: int, channel_id: int | None) -> None:
        await self.update_config(guild_id, jail_channel_id=channel_id)


class CogSettingController(BaseController[CogSetting]):
    """Stored cog settings; guild_id 0 holds a cog's global values."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(CogSetting, service)

    async def values_for_cog(self, cog: str) -> list[CogSetting]:
        """Every stored value of one cog, global and per guild."""
        return await self.find_all({"cog": cog})

    async def set_value(self, cog: str, key: str, value: Any, guild_id: int | None = None) -> None:
        """Store one value (insert or replace)."""
        await self.upsert(
            cog=cog,
            key=key,
            guild_id=guild_id or GLOBAL_SCOPE,
            value=value,
            updated_at=discord.utils.utcnow(),
        )

    async def set_values(
        self, cog: str, values: dict[str, Any], guild_id: int | None = None
    ) -> None:
        """Store several values in one transaction: all are written or none."""
        async with self.service.transaction():
            for key, value in values.items():
                await self.set_value(cog, key, value, guild_id)

    async def delete_value(self, cog: str, key: str, guild_id: int | None = None) -> bool:
        """Remove a stored value; returns whether there was one."""
        return await self.delete_by_id((cog, guild_id or GLOBAL_SCOPE, key))
