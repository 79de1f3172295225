"""The settings manager's write path: cache changes batched into short transactions.

:class:`SettingsWriter` is the part of
:class:`~fish_bot.core.settings.manager.ConfigManager` that stores what a write put in the
cache: every change of a key bumps its generation, writes queue on one lock, and the first to
get it stores every key changed so far (the latest value of each) with its audit entries and the
cache-bus announcement in one transaction. A failed batch rolls each key it covered back to the
stored value, and every write it covered raises the error.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from fish_bot.core.settings.audit import SettingChange, SettingsAudit
from fish_bot.database.models.core import GLOBAL_SCOPE

if TYPE_CHECKING:
    from fish_bot.database.coordinator import DatabaseCoordinator

__all__ = ["BUS_TOPIC", "SettingKey", "SettingsWriter"]

log = logging.getLogger(__name__)

#: A stored value's key: (cog, guild_id or 0 for global, setting).
SettingKey = tuple[str, int, str]

#: The cache bus topic of settings changes (guild_id: the scope, 0 for global; key: the cog).
BUS_TOPIC = "settings"


class SettingsWriter:
    """Stores the cache's changes; the state it keeps is set up by ``ConfigManager``."""

    db: DatabaseCoordinator
    _values: dict[SettingKey, Any]
    _write_lock: asyncio.Lock
    _pending: set[asyncio.Task[None]]
    _generation: dict[SettingKey, int]
    _dirty: dict[SettingKey, int]
    _saved: dict[SettingKey, Any]
    _stored_generation: dict[SettingKey, int]
    _failed: dict[SettingKey, tuple[int, BaseException]]
    _audit: SettingsAudit

    def _write(
        self, cog: str, values: dict[str, Any], guild_id: int | None, delete: Iterable[str]
    ) -> asyncio.Task[None]:
        scope = guild_id or GLOBAL_SCOPE
        changes = {name: copy.deepcopy(value) for name, value in values.items()}
        changes.update({name: _MISSING for name in delete})
        return self._spawn(self._persist(self._change(cog, scope, changes)))

    def _change(self, cog: str, scope: int, changes: dict[str, Any]) -> dict[SettingKey, int]:
        """Put values (``_MISSING``: removed) in the cache; returns each key's new generation."""
        generations: dict[SettingKey, int] = {}
        for name, value in changes.items():
            key = (cog, scope, name)
            self._audit.note(
                cog, scope, name, self._values.get(key), None if value is _MISSING else value
            )
            if key not in self._dirty:
                # The key is clean: its cached value is the stored one, kept for a rollback.
                self._saved[key] = self._values.get(key, _MISSING)
            if value is _MISSING:
                self._values.pop(key, None)
            else:
                self._values[key] = value
            generation = self._generation.get(key, 0) + 1
            self._generation[key] = generation
            self._dirty[key] = generation
            generations[key] = generation
        return generations

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("A settings write failed", exc_info=task.exception())

    def _settled(self, generations: Mapping[SettingKey, int]) -> bool:
        """Whether these generations are stored already (or a later write of each key is),
        raising the error of the write that failed to store one of them."""
        settled = True
        for key, generation in generations.items():
            if self._stored_generation.get(key, 0) >= generation:
                continue
            failed = self._failed.get(key)
            if failed is not None and failed[0] >= generation:
                raise failed[1]
            settled = False
        return settled

    async def _persist(self, generations: dict[SettingKey, int]) -> None:
        """Store the cache's changed values (this write's and every other one waiting).

        Writes queue on one lock; the first to get it stores every key changed so far, in one
        short transaction, with the values the cache holds *now* (the latest of each key). A
        write whose keys were stored meanwhile (by that batch) is done without a statement, so
        a burst of sets costs a few transactions, not one each, and the last value set is the
        one stored. When the batch fails, each key still holding the value it tried goes back
        to the stored value, and every write that batch covered raises the error.
        """
        async with self._write_lock:
            if self._settled(generations):
                return
            batch = dict(self._dirty)
            values = {key: self._values.get(key, _MISSING) for key in batch}
            audited = self._audit.take()  # rolled back with the batch if it fails
            try:
                await self._store(values, audited)
            except BaseException as error:
                for key, generation in batch.items():
                    self._failed[key] = (generation, error)
                    if self._generation.get(key) == generation:  # not changed since: roll back
                        old = self._saved.pop(key, _MISSING)
                        if old is _MISSING:
                            self._values.pop(key, None)
                        else:
                            self._values[key] = old
                        del self._dirty[key]
                raise
            for key, generation in batch.items():
                self._stored_generation[key] = generation
                self._failed.pop(key, None)
                if self._dirty.get(key) == generation:
                    del self._dirty[key]
                    self._saved.pop(key, None)
                else:  # changed again during the transaction: that value is stored next
                    self._saved[key] = values[key]

    async def _store(self, values: dict[SettingKey, Any], audited: list[SettingChange]) -> None:
        """Write a batch and its audit entries: one value with no entry (framework state) is
        one statement (an upsert, atomic by itself); anything else one transaction, so a
        change and its audit entry commit or roll back together."""
        controller = self.db.cog_setting
        if len(values) == 1 and not audited and not self.db.service.bus.enabled:
            ((cog, scope, name), value), *_ = values.items()
            if value is not _MISSING:
                await controller.set_value(cog, name, value, scope)
                return
        async with self.db.transaction():
            await self._audit.write(self.db, audited)
            for (cog, scope, name), value in values.items():
                if value is _MISSING:
                    await controller.delete_value(cog, name, scope)
                else:
                    await controller.set_value(cog, name, value, scope)
            await self._announce(values)

    async def _persist_many(self, entries: list[tuple[str, int, str, Any]]) -> None:
        async with self._write_lock, self.db.transaction():
            imported = SettingsAudit()  # this import's own entries, in its transaction
            for cog, guild_id, name, value in entries:
                key = (cog, guild_id or GLOBAL_SCOPE, name)
                imported.note(cog, key[1], name, self._values.get(key), value)
            await imported.write(self.db, imported.take())
            for cog, guild_id, name, value in entries:
                await self.db.cog_setting.set_value(cog, name, value, guild_id)
            await self._announce(
                (cog, guild_id or GLOBAL_SCOPE, name) for cog, guild_id, name, _ in entries
            )
        for cog, guild_id, name, value in entries:
            key = (cog, guild_id or GLOBAL_SCOPE, name)
            self._values[key] = copy.deepcopy(value)
            generation = self._generation.get(key, 0) + 1
            self._generation[key] = self._stored_generation[key] = generation
            self._dirty.pop(key, None)
            self._saved.pop(key, None)

    async def _announce(self, keys: Iterable[SettingKey]) -> None:
        """Tell the other processes which (cog, scope) pairs this transaction changes."""
        bus = self.db.service.bus
        for cog, scope in sorted({(cog, scope) for cog, scope, _ in keys}):
            await bus.publish(BUS_TOPIC, scope, cog)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
