"""The automod tables' controller: rules, warning-escalation thresholds, lockdown state.

:meth:`AutomodController.load_guild` reads a guild's rules and thresholds with one query per
table, in one session; the automod cog compiles and caches that, so an ordinary message does
no query. Writes create the guild row when it is missing (the tables refer to it). A rule name
or threshold count that a guild already has is refused by the unique constraints, which
arrive as :class:`~fish_bot.exceptions.IntegrityViolation`.

Registered on the coordinator by the automod cog (``bot.db.register("automod", ...)``) and
read back as ``bot.db.get("automod", AutomodController)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController
from fish_bot.database.controllers.core import GuildController
from fish_bot.database.models.automod import AutomodRule, LockdownState, WarnThreshold
from fish_bot.database.models.cases import Case, CaseStatus

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService


@dataclass
class GuildAutomod:
    """A guild's stored rules (by name) and escalation thresholds (by count)."""

    guild_id: int
    rules: list[AutomodRule] = field(default_factory=list)
    thresholds: list[WarnThreshold] = field(default_factory=list)


class AutomodController(BaseController[AutomodRule]):
    """Automod rules (this controller's own table), thresholds and lockdown state."""

    def __init__(self, service: DatabaseService, guilds: GuildController | None = None) -> None:
        super().__init__(AutomodRule, service)
        self.guilds = guilds if guilds is not None else GuildController(service)
        self.thresholds: BaseController[WarnThreshold] = BaseController(WarnThreshold, service)
        self.lockdowns: BaseController[LockdownState] = BaseController(LockdownState, service)

    # --- rules and thresholds ------------------------------------------------------------

    async def load_guild(self, guild_id: int) -> GuildAutomod:
        """A guild's rules (by name) and thresholds (by count): one query per table."""
        rules = sa.select(AutomodRule).where(self.table.c.guild_id == guild_id)
        table = self.thresholds.table
        thresholds = sa.select(WarnThreshold).where(table.c.guild_id == guild_id)
        async with self._session(read_only=True) as session:
            rule_rows = list((await session.execute(rules)).scalars().all())
            threshold_rows = list((await session.execute(thresholds)).scalars().all())
        return GuildAutomod(
            guild_id=guild_id,
            rules=sorted(rule_rows, key=lambda rule: rule.name),
            thresholds=sorted(threshold_rows, key=lambda row: row.warn_count),
        )

    async def add_rule(self, guild_id: int, **values: Any) -> AutomodRule:
        """Store a new rule (the guild row is created when missing)."""
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.create(guild_id=guild_id, **values)

    async def remove_rule(self, guild_id: int, name: str) -> bool:
        """Delete a rule by name; False when the guild has no such rule."""
        return await self.delete_where({"guild_id": guild_id, "name": name}) > 0

    async def set_rule_enabled(self, guild_id: int, name: str, enabled: bool) -> bool:
        """Switch a rule on or off; False when the guild has no such rule."""
        changed = await self.update_where(
            {"guild_id": guild_id, "name": name}, {"enabled": enabled}
        )
        return changed > 0

    async def add_threshold(self, guild_id: int, **values: Any) -> WarnThreshold:
        """Store a threshold (the guild row is created when missing)."""
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.thresholds.create(guild_id=guild_id, **values)

    async def remove_threshold(self, guild_id: int, warn_count: int) -> bool:
        """Delete the threshold of ``warn_count`` warns; False when there is none."""
        removed = await self.thresholds.delete_where(
            {"guild_id": guild_id, "warn_count": warn_count}
        )
        return removed > 0

    async def count_warns(self, guild_id: int, user_id: int, since: datetime) -> int:
        """The member's warns since ``since`` that still stand (active; voided ones do not)."""
        table = Case.__table__  # type: ignore[attr-defined]
        query = (
            sa.select(sa.func.count())
            .select_from(table)
            .where(
                table.c.guild_id == guild_id,
                table.c.user_id == user_id,
                table.c.case_type == "WARN",
                table.c.status == CaseStatus.ACTIVE.value,
                table.c.created_at >= since,
            )
        )
        async with self._session(read_only=True) as session:
            return int((await session.execute(query)).scalar_one())

    # --- lockdown state ------------------------------------------------------------------

    async def lockdown(self, guild_id: int, channel_id: int) -> LockdownState | None:
        """The channel's lockdown (None: not locked)."""
        return await self.lockdowns.get_by_id({"guild_id": guild_id, "channel_id": channel_id})

    async def guild_lockdowns(self, guild_id: int) -> list[LockdownState]:
        """Every locked channel of a guild."""
        return await self.lockdowns.find_all({"guild_id": guild_id})

    async def save_lockdown(self, guild_id: int, channel_id: int, **values: Any) -> LockdownState:
        """Remember a channel's previous overwrite (the guild row is created when missing)."""
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.lockdowns.create(guild_id=guild_id, channel_id=channel_id, **values)

    async def forget_lockdown(self, guild_id: int, channel_id: int) -> bool:
        """Drop a channel's lockdown row once its overwrite is restored."""
        return await self.lockdowns.delete_by_id({"guild_id": guild_id, "channel_id": channel_id})
