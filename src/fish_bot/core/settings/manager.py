"""ConfigManager: every cog's settings, validated on every write, cached in memory.

Values live in the ``cog_setting`` table (guild_id 0 holds global values) and are all loaded
once at start-up, so reading a setting never does I/O. A write validates first (a bad value is
refused with a message naming the setting and the rule), then updates the cache and persists.

``set``/``update``/``reset`` return an :class:`asyncio.Task` that completes when the value is
stored (or a later value of the same setting is: writes waiting together are stored together,
in one short transaction, the latest value of each setting winning). Awaiting it is optional:
the spec's pattern ``self.set_setting("x", 1)`` works without ``await`` (validation still
happens at once and raises at once), and :meth:`flush` waits for every pending write at
shutdown. When a write fails to persist, the cached value goes back to the stored one, the
failure is logged, and awaiting the task raises it.

Across processes (several bot processes on one PostgreSQL database): every stored batch
announces, in its own transaction, each (cog, scope) it changed on the cache bus (topic
``settings``, see ``database/notify.py``); the other processes re-read those rows from the
database (keys with a write of their own still pending keep theirs). After the bus
reconnects, every value is read again. Pause state is stored here too, so it follows.

The declarations are parsed in :mod:`fish_bot.core.settings.specs` (``SettingSpec``,
``parse_settings_config``); the batched write path (generations, rollback, the store's
transaction and its announcement) is :class:`~fish_bot.core.settings.writes.SettingsWriter`,
which this class is built on.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from fish_bot.core.settings.audit import SettingsAudit
from fish_bot.core.settings.specs import INTERNAL_PREFIX, SettingSpec
from fish_bot.core.settings.writes import BUS_TOPIC, SettingKey, SettingsWriter
from fish_bot.database.models.core import GLOBAL_SCOPE
from fish_bot.exceptions import SettingValidationError, UnknownSettingError

if TYPE_CHECKING:
    import discord

    from fish_bot.database.coordinator import DatabaseCoordinator
    from fish_bot.database.notify import Invalidation

log = logging.getLogger(__name__)


class ConfigManager(SettingsWriter):
    """Holds, validates and persists the settings of every cog."""

    def __init__(self, db: DatabaseCoordinator) -> None:
        self.db = db
        self._values: dict[SettingKey, Any] = {}
        self._specs: dict[str, dict[str, SettingSpec]] = {}
        #: Other names of a scope (a cog's display name), lowercased -> the scope (its slug).
        self._aliases: dict[str, str] = {}
        #: The name users see for a scope (the cog's display name, e.g. ``Example``).
        self._display: dict[str, str] = {}
        self._write_lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()
        # Write bookkeeping (see _persist): every change of a key bumps its generation.
        self._generation: dict[SettingKey, int] = {}
        #: Keys changed in the cache but not stored yet, with their latest generation.
        self._dirty: dict[SettingKey, int] = {}
        #: The stored value of each dirty key (``_MISSING``: none), for a rollback.
        self._saved: dict[SettingKey, Any] = {}
        #: The latest generation of each key known to be stored.
        self._stored_generation: dict[SettingKey, int] = {}
        #: The latest failed generation of a key and its error.
        self._failed: dict[SettingKey, tuple[int, BaseException]] = {}
        #: Changes waiting to be written to the audit trail with the batch that stores them.
        self._audit = SettingsAudit()
        self.loaded = False
        #: Re-reads of what other processes changed, running now.
        self._refreshes: set[asyncio.Task[int]] = set()
        self.db.service.bus.subscribe(BUS_TOPIC, self._remote_change)

    # --- start-up and registration -----------------------------------------------------

    async def load(self) -> int:
        """Read every stored value into memory; returns how many there were."""
        rows = await self.db.cog_setting.find_all()
        self._values = {(row.cog, row.guild_id, row.key): row.value for row in rows}
        self.loaded = True
        return len(rows)

    def register(
        self, cog: str, specs: dict[str, SettingSpec], *, aliases: Iterable[str] = ()
    ) -> None:
        """Declare a cog's settings (replacing what an earlier load of the cog declared).

        ``cog`` is the scope the values are stored under (the cog's slug); ``aliases`` are
        other names that find it (its display name), matched case-insensitively.
        """
        names = list(aliases)
        self._specs[cog] = specs
        self._display[cog] = names[0] if names else cog
        for alias in (cog, *names):
            self._aliases[alias.lower()] = cog

    def unregister(self, cog: str) -> None:
        self._specs.pop(self.scope(cog), None)

    def resolve(self, name: str) -> str | None:
        """The registered scope ``name`` means (its slug or display name, any case), or None."""
        if name in self._specs:
            return name
        scope = self._aliases.get(name.strip().lower())
        return scope if scope in self._specs else None

    def scope(self, name: str) -> str:
        """The scope ``name`` stands for: a known slug or alias resolved, else ``name`` itself."""
        if name in self._specs:
            return name
        return self._aliases.get(name.lower(), name)

    def display_name(self, name: str) -> str:
        """The name users see for a scope: the cog's display name (``Example``)."""
        scope = self.scope(name)
        return self._display.get(scope, scope)

    def cogs(self) -> list[str]:
        return sorted(self._specs)

    def specs(self, cog: str) -> dict[str, SettingSpec]:
        return self._specs.get(self.scope(cog), {})

    def spec(self, cog: str, name: str) -> SettingSpec:
        cog = self.scope(cog)
        spec = self._specs.get(cog, {}).get(name)
        if spec is None:
            known = ", ".join(sorted(self._specs.get(cog, {}))) or "none"
            raise UnknownSettingError(
                f"{self.display_name(cog)} has no setting '{name}'. Its settings: {known}."
            )
        return spec

    # --- reading -------------------------------------------------------------------------

    def get(self, cog: str, name: str, guild_id: int | None = None, default: Any = None) -> Any:
        """Guild value, then global value, then the declared default, then ``default``."""
        cog = self.scope(cog)
        if guild_id:
            key = (cog, guild_id, name)
            if key in self._values:
                return _copy(self._values[key])
        key = (cog, GLOBAL_SCOPE, name)
        if key in self._values:
            return _copy(self._values[key])
        spec = self._specs.get(cog, {}).get(name)
        if spec is not None and spec.default is not None:
            return _copy(spec.default)
        return default

    def flag(self, cog: str, name: str, guild_id: int | None = None) -> bool:
        """Whether a flag (an internal true/false value, such as a cog's pause) is set
        globally or in this guild: no copy, for the checks every event makes."""
        values = self._values
        cog = self.scope(cog)
        if values.get((cog, GLOBAL_SCOPE, name)):
            return True
        return (
            guild_id is not None
            and guild_id != GLOBAL_SCOPE
            and bool(values.get((cog, guild_id, name)))
        )

    def stored(self, cog: str, name: str, guild_id: int | None = None) -> tuple[bool, Any]:
        """Whether a value is stored at exactly this scope, and the value."""
        key = (self.scope(cog), guild_id or GLOBAL_SCOPE, name)
        return key in self._values, _copy(self._values.get(key))

    def stored_values(self, cog: str | None = None) -> dict[SettingKey, Any]:
        """Every stored value (of one cog), keyed by (cog, guild_id, name)."""
        cog = None if cog is None else self.scope(cog)
        return {k: copy.deepcopy(v) for k, v in self._values.items() if cog is None or k[0] == cog}

    # --- validation ----------------------------------------------------------------------

    def validate(
        self,
        cog: str,
        name: str,
        value: Any,
        *,
        guild: discord.Guild | None = None,
        from_text: bool = False,
    ) -> Any:
        """Return the normalised value, or raise SettingValidationError naming setting and rule."""
        spec = self.spec(cog, name)
        try:
            if from_text and isinstance(value, str):
                value = spec.rules.convert_text(value)
            return spec.rules.validate(value, guild=guild)
        except SettingValidationError as error:
            raise error.with_setting(name) from None

    # --- writing -------------------------------------------------------------------------

    def set(
        self,
        cog: str,
        name: str,
        value: Any,
        guild_id: int | None = None,
        *,
        guild: discord.Guild | None = None,
        from_text: bool = False,
    ) -> asyncio.Task[None]:
        """Validate, cache and persist one value."""
        cog = self.scope(cog)
        normalised = self.validate(cog, name, value, guild=guild, from_text=from_text)
        return self._write(cog, {name: normalised}, guild_id, delete=())

    def update(
        self,
        cog: str,
        values: Mapping[str, Any],
        guild_id: int | None = None,
        *,
        guild: discord.Guild | None = None,
        from_text: bool = False,
    ) -> asyncio.Task[None]:
        """Validate every value first; store all of them together, or none."""
        cog = self.scope(cog)
        normalised: dict[str, Any] = {}
        problems: list[SettingValidationError] = []
        for name, value in values.items():
            try:
                normalised[name] = self.validate(cog, name, value, guild=guild, from_text=from_text)
            except (SettingValidationError, UnknownSettingError) as error:
                problems.append(
                    error
                    if isinstance(error, SettingValidationError)
                    else SettingValidationError(str(error), setting=name)
                )
        if problems:
            if len(problems) == 1:
                raise problems[0]
            raise SettingValidationError(
                "; ".join(str(problem) for problem in problems) + " (nothing was changed)"
            )
        return self._write(cog, normalised, guild_id, delete=())

    def reset(self, cog: str, name: str, guild_id: int | None = None) -> asyncio.Task[None]:
        """Remove the stored value at this scope (the next scope up applies again)."""
        cog = self.scope(cog)
        self.spec(cog, name)
        return self._write(cog, {}, guild_id, delete=(name,))

    def set_internal(
        self, cog: str, name: str, value: Any, guild_id: int | None = None
    ) -> asyncio.Task[None]:
        """Store framework state (e.g. pause) that is not a declared setting."""
        if not name.startswith(INTERNAL_PREFIX):
            raise ValueError("internal keys start with '__'")
        cog = self.scope(cog)
        if value is None:
            return self._write(cog, {}, guild_id, delete=(name,))
        return self._write(cog, {name: value}, guild_id, delete=())

    def import_values(self, values: Iterable[tuple[str, int, str, Any]]) -> asyncio.Task[None]:
        """Store many (cog, guild_id, name, value) entries at once; all validated first."""
        entries = list(values)
        problems = []
        checked: list[tuple[str, int, str, Any]] = []
        for cog, guild_id, name, value in entries:
            cog = self.scope(cog)
            try:
                checked.append((cog, guild_id, name, self.validate(cog, name, value)))
            except (SettingValidationError, UnknownSettingError) as error:
                problems.append(f"{cog} (guild {guild_id or 'global'}): {error}")
        if problems:
            raise SettingValidationError("; ".join(problems) + " (nothing was changed)")
        return self._spawn(self._persist_many(checked))

    # --- other processes ---------------------------------------------------------------

    def _remote_change(self, event: Invalidation) -> None:
        """Another process stored values (or the bus reconnected): read them again."""
        if not self.loaded:
            return
        cog = None if event.resync else event.key
        scope = None if event.resync else event.guild_id
        task = asyncio.get_running_loop().create_task(self.refresh(cog, scope))
        self._refreshes.add(task)
        task.add_done_callback(self._refreshed)

    def _refreshed(self, task: asyncio.Task[int]) -> None:
        self._refreshes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("Re-reading changed settings failed", exc_info=task.exception())

    async def refresh(self, cog: str | None = None, guild_id: int | None = None) -> int:
        """Read stored values again: of one cog at one scope (``guild_id`` 0: global), of one
        cog, or (both ``None``) every value. A key with a write of this process pending, or
        written while the read ran, keeps the value this process gave it. Returns how many
        values were read."""
        filters: dict[str, Any] = {}
        if cog is not None:
            filters["cog"] = cog
            if guild_id is not None:
                filters["guild_id"] = guild_id
        before = dict(self._generation)
        rows = await self.db.cog_setting.find_all(filters or None)

        def covered(key: SettingKey) -> bool:
            return (cog is None or key[0] == cog) and (guild_id is None or key[1] == guild_id)

        def mine(key: SettingKey) -> bool:
            return key in self._dirty or self._generation.get(key, 0) != before.get(key, 0)

        fresh = {(row.cog, row.guild_id, row.key): row.value for row in rows}
        for key in [key for key in self._values if covered(key)]:
            if key not in fresh and not mine(key):
                del self._values[key]
        for key, value in fresh.items():
            if not mine(key):
                self._values[key] = value
        return len(rows)

    async def flush(self) -> None:
        """Wait until every pending write is stored (errors are logged, not raised)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


#: Values read as they are: nothing in them can be changed by the caller.
_IMMUTABLE = (bool, int, float, str, type(None))


def _copy(value: Any) -> Any:
    """A value the caller may change freely: a deep copy, except for the immutable values
    nearly every setting holds (read on every message: no copy machinery for them), and a
    plain copy of a list of such values (channel and role ids)."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is list and all(type(item) in _IMMUTABLE for item in value):
        return value.copy()
    return copy.deepcopy(value)
