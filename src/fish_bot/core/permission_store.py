"""PermissionStore: the stored permission layers 5 (per-command rules) and 6 (ranks), cached
per guild.

:class:`~fish_bot.core.permissions.PermissionManager` reads a guild's rules through these hooks
(:meth:`PermissionStore.command_rules`, :meth:`PermissionStore.command_rank`,
:meth:`PermissionStore.role_ranks`; :meth:`PermissionStore.commands_with_rules` says which
commands have rules at all, so a check on a guild without any reads none).
The first read of a guild loads everything it stored with one round of batch queries (one per
table); later reads are served from memory, so a permission check does no I/O.

Every write goes to the database first and then updates the cached guild once the write is
committed (``DatabaseService.after_commit``), so the cache never shows a rule the database does
not hold. A write made inside an open ``db.transaction()`` (which may still roll back) drops the
guild from the cache at once; the change is applied after the commit, or the guild is read
again after a rollback. The cache is a :class:`~fish_bot.core.guild_cache.GuildCache`.
Every write announces its guild on the cache bus (topic ``permissions``, in the write's
transaction); another process drops that guild's cached rules and reads them again on use.
Writes validate their input and raise :class:`~fish_bot.exceptions.UserFacingError` with a
message fit to show (rank outside 0..10, empty or too long command name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, KeysView
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fish_bot.core.guild_cache import GuildCache
from fish_bot.database.models.permissions import COMMAND_NAME_LENGTH, MAX_RANK, RuleTarget
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.database.controllers.permissions import GuildPermissions, PermissionController
    from fish_bot.database.coordinator import DatabaseCoordinator

#: The cache bus topic of permission rule and rank changes (see ``database/notify.py``).
BUS_TOPIC = "permissions"

RULE_KEYS = ("allow_roles", "deny_roles", "allow_channels", "deny_channels")


def _rule_key(target: RuleTarget, allow: bool) -> str:
    return f"{'allow' if allow else 'deny'}_{target.value}s"


@dataclass
class GuildRules:
    """One guild's stored rules and ranks, as the permission model reads them."""

    guild_id: int
    #: command qualified name -> {"allow_roles": {...}, "deny_roles": ..., ...}
    commands: dict[str, dict[str, set[int]]] = field(default_factory=dict)
    #: role id -> rank
    role_ranks: dict[int, int] = field(default_factory=dict)
    #: command qualified name -> the rank the guild requires instead of the declared one
    command_ranks: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: GuildPermissions) -> GuildRules:
        rules = cls(
            guild_id=stored.guild_id,
            role_ranks=dict(stored.role_ranks),
            command_ranks=dict(stored.command_ranks),
        )
        for row in stored.rules:
            rules._set(row.command, RuleTarget(row.target_type), row.target_id, row.allow)
        return rules

    def _entry(self, command: str) -> dict[str, set[int]]:
        entry = self.commands.get(command)
        if entry is None:
            entry = {key: set() for key in RULE_KEYS}
            self.commands[command] = entry
        return entry

    def _set(self, command: str, target: RuleTarget, target_id: int, allow: bool) -> None:
        self._discard(command, target, target_id)
        self._entry(command)[_rule_key(target, allow)].add(target_id)

    def _discard(self, command: str, target: RuleTarget, target_id: int) -> None:
        entry = self.commands.get(command)
        if entry is None:
            return
        entry[_rule_key(target, True)].discard(target_id)
        entry[_rule_key(target, False)].discard(target_id)
        if not any(entry.values()):
            del self.commands[command]

    def rules_for(self, command: str) -> dict[str, set[int]]:
        """A copy of one command's rules (every key present, sets possibly empty)."""
        entry = self.commands.get(command)
        if entry is None:
            return {key: set() for key in RULE_KEYS}
        return {key: set(entry[key]) for key in RULE_KEYS}

    def copy(self) -> GuildRules:
        return GuildRules(
            guild_id=self.guild_id,
            commands={name: self.rules_for(name) for name in self.commands},
            role_ranks=dict(self.role_ranks),
            command_ranks=dict(self.command_ranks),
        )


def validate_rank(rank: int) -> int:
    """A permission rank, or a UserFacingError that says what is allowed."""
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank <= MAX_RANK:
        raise UserFacingError(
            f"A permission rank is a whole number from 0 to {MAX_RANK}; {rank!r} is not."
        )
    return rank


def parse_rank(value: str) -> int | None:
    """Text typed for a rank: ``0``..``10``, or ``default`` (None)."""
    text = value.strip().lower()
    if text in {"default", "reset", "none"}:
        return None
    if not re.fullmatch(r"-?\d+", text):
        raise UserFacingError(f"A rank is a number from 0 to {MAX_RANK}, or `default`.")
    return validate_rank(int(text))


def validate_command_name(command: str) -> str:
    """A command's qualified name with its spaces normalised, or a UserFacingError."""
    name = " ".join(str(command).split())
    if not name:
        raise UserFacingError("Name a command.")
    if len(name) > COMMAND_NAME_LENGTH:
        raise UserFacingError(
            f"`{name[:40]}…` is not a command (names are at most {COMMAND_NAME_LENGTH} characters)."
        )
    return name


class PermissionStore:
    """Per-guild permission rules and ranks with an in-memory cache (a :class:`GuildCache`)."""

    def __init__(self, db: DatabaseCoordinator) -> None:
        self.db = db
        self._cache: GuildCache[GuildRules] = GuildCache(
            self._load,
            name="permission rules",
            # Rows read inside an open transaction may still roll back: don't keep them.
            cacheable=lambda: not self.db.service.in_transaction(),
        )
        # Another process changed a guild's rules (None: every guild, after a reconnect).
        self.db.service.bus.subscribe(BUS_TOPIC, lambda event: self.invalidate(event.guild_id))

    @property
    def controller(self) -> PermissionController:
        return self.db.permissions

    # --- cache ---------------------------------------------------------------------------

    async def _load(self, guild_id: int) -> GuildRules:
        return GuildRules.from_stored(await self.controller.load_guild(guild_id))

    async def _guild(self, guild_id: int) -> GuildRules:
        return await self._cache.get(guild_id)

    def is_loaded(self, guild_id: int) -> bool:
        """Whether a guild's rules are in memory."""
        return self._cache.is_loaded(guild_id)

    def invalidate(self, guild_id: int | None = None) -> None:
        """Forget the cached rules of one guild (or of every guild); they are read again."""
        self._cache.invalidate(guild_id)

    async def preload(self, guild_ids: Iterable[int]) -> None:
        """Load several guilds' rules ahead of their first check."""
        await self._cache.preload(guild_ids)

    async def _written(
        self, outer: bool, guild_id: int, change: Callable[[GuildRules], object]
    ) -> None:
        """After a write: apply ``change`` to the cached guild once the write is committed.

        Written in the caller's transaction (``outer``), the guild is dropped from the cache
        now (its rows may still roll back, and a read inside that transaction must see its own
        write) and the change is applied only after the commit; a rollback leaves the guild to
        be read again. Written in the store's own short transaction (with its audit entry),
        the cached guild keeps its committed value until that commit and is changed in place.
        """
        if outer:
            self._cache.invalidate(guild_id)
        await self.db.service.bus.publish(BUS_TOPIC, guild_id)  # sent with the commit
        await self.db.service.after_commit(lambda: self._cache.mutate(guild_id, change))

    # --- hooks read by PermissionManager -------------------------------------------------

    async def command_rules(self, guild_id: int, command_name: str) -> dict[str, set[int]]:
        """allow_roles, deny_roles, allow_channels, deny_channels of one command."""
        return (await self._guild(guild_id)).rules_for(command_name)

    async def commands_with_rules(self, guild_id: int) -> KeysView[str]:
        """The commands of a guild that have stored rules (none on most guilds; a live view,
        read at once): a check reads the rules of its command's levels only when one of them
        is here."""
        return (await self._guild(guild_id)).commands.keys()

    async def command_rank(self, guild_id: int, command_name: str) -> int | None:
        """The guild's override of the rank a command needs, or None."""
        return (await self._guild(guild_id)).command_ranks.get(command_name)

    async def role_ranks(self, guild_id: int) -> dict[int, int]:
        """role id -> rank (0..10) for a guild."""
        return dict((await self._guild(guild_id)).role_ranks)

    async def has_role_ranks(self, guild_id: int) -> bool:
        """Whether any role of the guild has a rank (the guild uses ranks)."""
        return bool((await self._guild(guild_id)).role_ranks)

    async def snapshot(self, guild_id: int) -> GuildRules:
        """A copy of everything a guild stored (for ``perm show``)."""
        return (await self._guild(guild_id)).copy()

    # --- writes: command rules -----------------------------------------------------------
    #
    # Each write and its audit entry (``db.audit.log_action``) share one transaction.

    async def _rule_state(
        self, guild_id: int, command: str, target: RuleTarget, target_id: int
    ) -> str | None:
        """``allow``, ``deny`` or None: the rule a role or channel has on a command now.

        Read before a write takes the guild's lock (reading may load the guild under it).
        """
        rules = (await self._guild(guild_id)).rules_for(command)
        if target_id in rules[_rule_key(target, True)]:
            return "allow"
        if target_id in rules[_rule_key(target, False)]:
            return "deny"
        return None

    async def set_rule(
        self, guild_id: int, command: str, target: RuleTarget | str, target_id: int, *, allow: bool
    ) -> None:
        """Allow or deny a role or channel for a command (replacing the opposite rule)."""
        name = validate_command_name(command)
        kind = RuleTarget(target)
        old = await self._rule_state(guild_id, name, kind, target_id)
        outer = self.db.service.in_transaction()  # the caller's transaction, or ours
        async with self._cache.lock(guild_id), self.db.transaction():
            await self.controller.set_rule(guild_id, name, kind, target_id, allow=allow)
            new = "allow" if allow else "deny"
            target_text = f"{name} {kind.value}:{target_id}"
            await self.db.audit.log_action(guild_id, "rule", target_text, old, new)
            await self._written(
                outer, guild_id, lambda rules: rules._set(name, kind, target_id, allow)
            )

    async def allow(
        self, guild_id: int, command: str, target: RuleTarget | str, target_id: int
    ) -> None:
        """Allow a role or channel for a command."""
        await self.set_rule(guild_id, command, target, target_id, allow=True)

    async def deny(
        self, guild_id: int, command: str, target: RuleTarget | str, target_id: int
    ) -> None:
        """Deny a role or channel for a command."""
        await self.set_rule(guild_id, command, target, target_id, allow=False)

    async def remove_rule(
        self, guild_id: int, command: str, target: RuleTarget | str, target_id: int
    ) -> bool:
        """Remove the rule about one role or channel; returns whether there was one."""
        name = validate_command_name(command)
        kind = RuleTarget(target)
        old = await self._rule_state(guild_id, name, kind, target_id)
        outer = self.db.service.in_transaction()  # the caller's transaction, or ours
        async with self._cache.lock(guild_id), self.db.transaction():
            removed = await self.controller.remove_rule(guild_id, name, kind, target_id)
            if removed:
                target_text = f"{name} {kind.value}:{target_id}"
                await self.db.audit.log_action(guild_id, "rule", target_text, old, None)
            await self._written(
                outer, guild_id, lambda rules: rules._discard(name, kind, target_id)
            )
        return removed

    async def clear_command(self, guild_id: int, command: str) -> int:
        """Remove every allow/deny rule of a command; returns how many there were."""
        name = validate_command_name(command)
        current = (await self._guild(guild_id)).rules_for(name)
        old = {key: sorted(ids) for key, ids in current.items() if ids}
        outer = self.db.service.in_transaction()  # the caller's transaction, or ours
        async with self._cache.lock(guild_id), self.db.transaction():
            removed = await self.controller.clear_command(guild_id, name)
            if removed:
                await self.db.audit.log_action(guild_id, "rule", f"{name} (all)", old, None)
            await self._written(outer, guild_id, lambda rules: rules.commands.pop(name, None))
        return removed

    # --- writes: ranks -------------------------------------------------------------------

    async def set_role_rank(self, guild_id: int, role_id: int, rank: int) -> None:
        """Give a role a permission rank (0..10)."""
        value = validate_rank(rank)
        old = (await self._guild(guild_id)).role_ranks.get(role_id)
        outer = self.db.service.in_transaction()  # the caller's transaction, or ours
        async with self._cache.lock(guild_id), self.db.transaction():
            await self.controller.set_role_rank(guild_id, role_id, value)
            if old != value:
                await self.db.audit.log_action(guild_id, "rank", f"role:{role_id}", old, value)
            await self._written(
                outer, guild_id, lambda rules: rules.role_ranks.update({role_id: value})
            )

    async def remove_role_rank(self, guild_id: int, role_id: int) -> bool:
        """Forget a role's rank; returns whether it had one."""
        old = (await self._guild(guild_id)).role_ranks.get(role_id)
        outer = self.db.service.in_transaction()  # the caller's transaction, or ours
        async with self._cache.lock(guild_id), self.db.transaction():
            removed = await self.controller.remove_role_rank(guild_id, role_id)
            if removed:
                await self.db.audit.log_action(guild_id, "rank", f"role:{role_id}", old, None)
            await self._written(outer, guild_id, lambda rules: rules.role_ranks.pop(role_id, None))
        return removed

    async def set_command_rank(self, guild_id: int, command: str, rank: int) -> None:
        """Make a command need ``rank`` in this guild instead of its declared rank."""
        name = validate_command_name(command)
        value = validate_rank(rank)
        old = (await self._guild(guild_id)).command_ranks.get(name)
        outer = self.db.service.in_transaction()  # the caller's transaction, or ours
        async with self._cache.lock(guild_id), self.db.transaction():
            await self.controller.set_command_rank(guild_id, name, value)
            if old != value:
                await self.db.audit.log_action(guild_id, "command_rank", name, old, value)
            await self._written(
                outer, guild_id, lambda rules: rules.command_ranks.update({name: value})
            )

    async def reset_command_rank(self, guild_id: int, command: str) -> bool:
        """Go back to the command's declared rank; returns whether there was an override."""
        name = validate_command_name(command)
        old = (await self._guild(guild_id)).command_ranks.get(name)
        outer = self.db.service.in_transaction()  # the caller's transaction, or ours
        async with self._cache.lock(guild_id), self.db.transaction():
            removed = await self.controller.remove_command_rank(guild_id, name)
            if removed:
                await self.db.audit.log_action(guild_id, "command_rank", name, old, None)
            await self._written(outer, guild_id, lambda rules: rules.command_ranks.pop(name, None))
        return removed

    async def clear_guild(self, guild_id: int) -> int:
        """Remove every rule and rank of a guild; returns how many rows went."""
        async with self._cache.lock(guild_id):
            removed = await self.controller.clear_guild(guild_id)
            self.invalidate(guild_id)
            await self.db.service.bus.publish(BUS_TOPIC, guild_id)
            await self.db.service.after_commit(lambda: self.invalidate(guild_id))
        return removed
