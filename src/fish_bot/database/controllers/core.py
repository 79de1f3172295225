"""Controllers of the core tables: guilds, guild configuration, cog settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController
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


class GuildConfigController(BaseController[GuildConfig]):
    """Per-guild configuration: prefix, log channels, jail, moderation rules."""

    def __init__(self, service: DatabaseService) -> None:
        super().__init__(GuildConfig, service)

    async def get_config(self, guild_id: int) -> GuildConfig | None:
        return await self.get_by_id(guild_id)

    async def get_or_create_config(self, guild_id: int) -> GuildConfig:
        """The guild's configuration, created with defaults (and its guild row) when missing."""
        async with self.service.transaction():
            await GuildController(self.service).ensure(guild_id)
            config, _ = await self.get_or_create(guild_id=guild_id)
            return config

    async def update_config(self, guild_id: int, **values: Any) -> GuildConfig:
        """Change configuration values, creating the configuration when missing."""
        self._check_columns(values)
        async with self.service.transaction():
            await self.get_or_create_config(guild_id)
            updated = await self.update_by_id(guild_id, **values)
            assert updated is not None
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
