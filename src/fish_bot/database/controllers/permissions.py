"""The permission tables' controller: per-command rules and permission ranks.

Reads are batched per guild: :meth:`PermissionController.load_guild` reads a guild's rules,
role ranks and command ranks with one query per table, in one session. The rule store
(:mod:`fish_bot.core.permission_store`) caches that result, so a permission check does no
query once a guild is loaded.

Writes create the guild row when it is missing (the tables refer to it) and run in one
transaction. A rank outside 0..10 is refused by the database's CHECK constraint, which arrives
as :class:`~fish_bot.exceptions.IntegrityViolation` (never a raw driver error); the rule store
refuses it earlier with a friendlier message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from fish_bot.database.controllers.base import BaseController
from fish_bot.database.controllers.core import GuildController
from fish_bot.database.models import CommandRank, CommandRule, RoleRank, RuleTarget

if TYPE_CHECKING:
    from fish_bot.database.service import DatabaseService


@dataclass
class GuildPermissions:
    """Everything a guild stored for the permission layers 5 and 6."""

    guild_id: int
    rules: list[CommandRule] = field(default_factory=list)
    role_ranks: dict[int, int] = field(default_factory=dict)
    command_ranks: dict[str, int] = field(default_factory=dict)


class PermissionController(BaseController[CommandRule]):
    """Command rules (this controller's own table), role ranks and command ranks."""

    def __init__(self, service: DatabaseService, guilds: GuildController | None = None) -> None:
        super().__init__(CommandRule, service)
        #: The hub's guild controller (``db.guild``), for the guild rows the tables refer to.
        self.guilds = guilds if guilds is not None else GuildController(service)
        #: Generic operations on ``role_rank`` and ``command_rank``.
        self.role_ranks: BaseController[RoleRank] = BaseController(RoleRank, service)
        self.command_ranks: BaseController[CommandRank] = BaseController(CommandRank, service)

    # --- reads ---------------------------------------------------------------------------

    async def load_guild(self, guild_id: int) -> GuildPermissions:
        """A guild's rules and ranks: one query per table, in one session."""
        rule_query = (
            sa.select(CommandRule)
            .where(self.table.c.guild_id == guild_id)
            .order_by(*self._pk_columns)
        )
        role_table = self.role_ranks.table
        command_table = self.command_ranks.table
        role_query = sa.select(role_table.c.role_id, role_table.c.rank).where(
            role_table.c.guild_id == guild_id
        )
        command_query = sa.select(command_table.c.command, command_table.c.rank).where(
            command_table.c.guild_id == guild_id
        )
        async with self._session() as session:
            rules = list((await session.execute(rule_query)).scalars().all())
            role_rows = (await session.execute(role_query)).all()
            command_rows = (await session.execute(command_query)).all()
        return GuildPermissions(
            guild_id=guild_id,
            rules=rules,
            role_ranks={int(row.role_id): int(row.rank) for row in role_rows},
            command_ranks={str(row.command): int(row.rank) for row in command_rows},
        )

    async def rules_for_command(self, guild_id: int, command: str) -> list[CommandRule]:
        """The rules a guild stored for one command."""
        return await self.find_all(
            {"guild_id": guild_id, "command": command}, order_by=list(self._pk_columns)
        )

    # --- command rules -------------------------------------------------------------------

    async def set_rule(
        self,
        guild_id: int,
        command: str,
        target_type: RuleTarget | str,
        target_id: int,
        *,
        allow: bool,
    ) -> CommandRule:
        """Allow or deny a role or channel for a command (replaces an existing rule)."""
        target = RuleTarget(target_type).value
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.upsert(
                guild_id=guild_id,
                command=command,
                target_type=target,
                target_id=target_id,
                allow=allow,
            )

    async def remove_rule(
        self, guild_id: int, command: str, target_type: RuleTarget | str, target_id: int
    ) -> bool:
        """Remove one rule; returns whether it existed."""
        target = RuleTarget(target_type).value
        return await self.delete_by_id((guild_id, command, target, target_id))

    async def clear_command(self, guild_id: int, command: str) -> int:
        """Remove every rule of one command; returns how many there were."""
        return await self.delete_where({"guild_id": guild_id, "command": command})

    # --- ranks ---------------------------------------------------------------------------

    async def set_role_rank(self, guild_id: int, role_id: int, rank: int) -> RoleRank:
        """Give a role a permission rank (0..10)."""
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.role_ranks.upsert(guild_id=guild_id, role_id=role_id, rank=rank)

    async def remove_role_rank(self, guild_id: int, role_id: int) -> bool:
        """Forget a role's rank (it counts as 0); returns whether it had one."""
        return await self.role_ranks.delete_by_id((guild_id, role_id))

    async def set_command_rank(self, guild_id: int, command: str, rank: int) -> CommandRank:
        """Override the rank a command needs in a guild (0..10)."""
        async with self.service.transaction():
            await self.guilds.ensure(guild_id)
            return await self.command_ranks.upsert(guild_id=guild_id, command=command, rank=rank)

    async def remove_command_rank(self, guild_id: int, command: str) -> bool:
        """Go back to the command's declared rank; returns whether there was an override."""
        return await self.command_ranks.delete_by_id((guild_id, command))

    # --- whole guild ---------------------------------------------------------------------

    async def clear_guild(self, guild_id: int) -> int:
        """Remove every rule and rank of a guild (one transaction); returns rows removed."""
        async with self.service.transaction():
            removed = await self.delete_where({"guild_id": guild_id})
            removed += await self.role_ranks.delete_where({"guild_id": guild_id})
            removed += await self.command_ranks.delete_where({"guild_id": guild_id})
        return removed
