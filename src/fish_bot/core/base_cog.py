"""BaseCog: the foundation every Fish Bot cog extends.

It gives a cog, with the names the guide uses: asynchronous initialisation with a ready state,
declared and validated settings, cache data with atomic saves, a TaskTracker, pause/resume,
status embeds, the database hub as ``self.db``, and the permission checks for prefix commands,
slash commands and components.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from fish_bot.core.data import CogDataStore
from fish_bot.core.settings.manager import SettingSpec, parse_settings_config
from fish_bot.core.task_tracker import TaskTracker
from fish_bot.core.tasks import start_cog_loop
from fish_bot.exceptions import PermissionDenied

if TYPE_CHECKING:
    from fish_bot.bot import FishBot
    from fish_bot.database.coordinator import DatabaseCoordinator

#: Settings every cog has, used by the permission layer (DESIGN.md, permissions rule 4).
PERMISSION_SETTINGS: dict[str, tuple[Any, str, Any]] = {
    "allowed_channels": (
        [],
        "When set, the cog's commands work only in these channels",
        "collection.list(item_type=channel,unique=true)",
    ),
    "restricted_channels": (
        [],
        "The cog's commands never work in these channels",
        "collection.list(item_type=channel,unique=true)",
    ),
    "required_roles": (
        [],
        "When set, members need one of these roles to use the cog's commands",
        "collection.list(item_type=role,unique=true)",
    ),
}

PAUSED_KEY = "__paused__"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class PermissionCheckFailure(commands.CheckFailure):
    """A Fish Bot permission rule refused a prefix or hybrid command."""

    def __init__(self, denial: PermissionDenied) -> None:
        super().__init__(denial.message)
        self.denial = denial


class AppPermissionCheckFailure(discord.app_commands.CheckFailure):
    """A Fish Bot permission rule refused a slash command or component."""

    def __init__(self, denial: PermissionDenied) -> None:
        super().__init__(denial.message)
        self.denial = denial


class BaseCog(commands.Cog):
    """Base class of every Fish Bot cog.

    Subclasses declare ``settings_config`` in ``__init__`` as the guide shows::

        def __init__(self, bot):
            settings_config = {
                "interval": (300, "Update interval in seconds", ["type.int", "range(60,3600)"]),
            }
            super().__init__(bot, settings_config)
    """

    #: Commands of this cog that keep working while it is paused (e.g. the core cog's).
    works_while_paused: bool = False

    def __init__(self, bot: FishBot, settings_config: dict[str, Any] | None = None) -> None:
        self.bot = bot
        self.logger = logging.getLogger(f"fish_bot.cogs.{_snake(type(self).__name__)}")
        self.task_tracker = TaskTracker()
        self._has_errors = False
        self._last_error: str | None = None
        self._ready = asyncio.Event()
        self.tasks: Any = None
        config = {**PERMISSION_SETTINGS, **(settings_config or {})}
        self.settings_config = config
        # Raises SettingsConfigError naming the cog, setting and rule: the cog does not load.
        self._setting_specs: dict[str, SettingSpec] = parse_settings_config(
            self.qualified_name, config
        )
        self._data = CogDataStore(
            Path(bot.settings.data_dir) / "cogs" / _snake(type(self).__name__),
            self.logger,
            max_file_bytes=bot.settings.cache_file_max_bytes,
            start_loop=functools.partial(start_cog_loop, self),
        )

    # --- the database and the bot ----------------------------------------------------------

    @property
    def db(self) -> DatabaseCoordinator:
        """The controller hub (``self.db.guild_config``, ``self.db.transaction()``...)."""
        return self.bot.db

    # --- lifecycle -------------------------------------------------------------------------

    async def cog_load(self) -> None:
        """discord.py's load hook: registers settings, then runs :meth:`cog_initialize`."""
        self.bot.config_manager.register(self.qualified_name, self._setting_specs)
        try:
            await self.cog_initialize()
        except Exception as error:
            self._has_errors = True
            self._last_error = f"{type(error).__name__}: {error}"
            if self.tasks is not None and hasattr(self.tasks, "stop_tasks"):
                self.tasks.stop_tasks()
            self._data.cancel_save_tasks()
            self.bot.config_manager.unregister(self.qualified_name)
            raise

    async def cog_initialize(self) -> None:
        """Asynchronous set-up; subclasses call ``await super().cog_initialize()`` first.

        The base marks the cog ready when the subclass does not override this method; a
        subclass calls ``self.set_ready(True)`` when its own set-up is done.
        """
        if type(self).cog_initialize is BaseCog.cog_initialize:
            self.set_ready(True)

    async def cog_unload(self) -> None:
        """Stop loops, save modified cache data and cancel save tasks."""
        self.set_ready(False)
        if self.tasks is not None and hasattr(self.tasks, "stop_tasks"):
            self.tasks.stop_tasks()
        await self._data.close()
        self.bot.config_manager.unregister(self.qualified_name)

    def set_ready(self, ready: bool = True) -> None:
        if ready:
            self._ready.set()
        else:
            self._ready.clear()

    @property
    def is_ready(self) -> bool:
        return self._ready.is_set()

    async def wait_until_ready(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until the cog is ready; returns False when ``timeout`` passed first."""
        if timeout is None:
            await self._ready.wait()
            return True
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # --- pause -----------------------------------------------------------------------------

    @property
    def is_paused(self) -> bool:
        """Whether the cog is paused everywhere (loops skip their work while paused)."""
        return bool(self.bot.config_manager.stored(self.qualified_name, PAUSED_KEY)[1])

    def is_paused_in(self, guild_id: int | None) -> bool:
        """Whether the cog is paused globally or in this guild."""
        if self.is_paused:
            return True
        if not guild_id:
            return False
        return bool(self.bot.config_manager.stored(self.qualified_name, PAUSED_KEY, guild_id)[1])

    async def pause(self, guild_id: int | None = None) -> None:
        """Pause the cog globally or in one guild (kept across restarts)."""
        await self.bot.config_manager.set_internal(self.qualified_name, PAUSED_KEY, True, guild_id)

    async def resume(self, guild_id: int | None = None) -> None:
        await self.bot.config_manager.set_internal(self.qualified_name, PAUSED_KEY, None, guild_id)

    # --- settings ---------------------------------------------------------------------------

    def get_setting(self, name: str, default: Any = None, guild_id: int | None = None) -> Any:
        """Guild value, then global value, then the declared default (no I/O)."""
        return self.bot.config_manager.get(self.qualified_name, name, guild_id, default)

    def set_setting(self, name: str, value: Any, guild_id: int | None = None) -> asyncio.Task[None]:
        """Validate and store one setting; await the result to wait until it is saved."""
        return self.bot.config_manager.set(
            self.qualified_name, name, value, guild_id, guild=self._guild(guild_id)
        )

    def update_settings(
        self, values: dict[str, Any], guild_id: int | None = None
    ) -> asyncio.Task[None]:
        """Validate every value first, then store them all together (or none)."""
        return self.bot.config_manager.update(
            self.qualified_name, values, guild_id, guild=self._guild(guild_id)
        )

    def reset_setting(self, name: str, guild_id: int | None = None) -> asyncio.Task[None]:
        """Remove the stored value at this scope."""
        return self.bot.config_manager.reset(self.qualified_name, name, guild_id)

    def _guild(self, guild_id: int | None) -> discord.Guild | None:
        return self.bot.get_guild(guild_id) if guild_id else None

    # --- cache data -------------------------------------------------------------------------

    @property
    def data_directory(self) -> Path:
        """This cog's folder for cache data: ``<data_dir>/cogs/<cog_name>/``."""
        return self._data.directory

    async def load_data(self, path: str | Path, default: Any = None) -> Any:
        return await self._data.load_data(path, default)

    async def save_data(self, data: Any, path: str | Path) -> None:
        await self._data.save_data(data, path)

    async def save_data_if_modified(self, data: Any, path: str | Path, force: bool = False) -> bool:
        return await self._data.save_data_if_modified(data, path, force=force)

    def mark_data_modified(self, path: str | Path | None = None) -> None:
        self._data.mark_data_modified(path)

    def is_data_modified(self, path: str | Path | None = None) -> bool:
        return self._data.is_data_modified(path)

    async def create_periodic_save_task(
        self, data: Any, path: str | Path, save_interval: float
    ) -> asyncio.Task[None]:
        return await self._data.create_periodic_save_task(data, path, save_interval)

    def cancel_save_tasks(self) -> None:
        self._data.cancel_save_tasks()

    # --- permissions ------------------------------------------------------------------------

    async def check_permissions(
        self, source: commands.Context[Any] | discord.Interaction, *, command: Any = None
    ) -> bool:
        """Apply the permission model; raises ChannelUnauthorized/UserUnauthorized when denied.

        ``command`` stands in for the source's command (a component handler has none).
        """
        decision = await self.bot.permissions.evaluate(source, cog=self, command=command)
        if not decision.allowed:
            raise decision.to_error()
        return True

    async def cog_check(self, ctx: commands.Context[Any]) -> bool:
        """Permission check for prefix commands (and hybrid commands used as slash commands)."""
        try:
            return await self.check_permissions(ctx)
        except PermissionDenied as denial:
            self.logger.info("Permission denied for %s: %s", ctx.author, denial.message)
            raise PermissionCheckFailure(denial) from None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Permission check for the cog's pure slash commands.

        A hybrid command used as a slash command is checked by :meth:`cog_check`, which
        discord.py runs right after this hook; deciding here too would evaluate it twice.
        """
        if isinstance(interaction.command, commands.hybrid.HybridAppCommand):
            return True
        try:
            return await self.check_permissions(interaction)
        except PermissionDenied as denial:
            self.logger.info("Permission denied for %s: %s", interaction.user, denial.message)
            raise AppPermissionCheckFailure(denial) from None

    # --- status -----------------------------------------------------------------------------

    def state_text(self) -> str:
        if self._has_errors:
            return "Error"
        if self.is_paused:
            return "Paused"
        return "Ready" if self.is_ready else "Starting"

    async def create_status_embed(self) -> discord.Embed:
        """A status embed: state, last operation, task statistics, errors, then cog fields."""
        colour = discord.Color.red() if self._has_errors else discord.Color.blue()
        embed = discord.Embed(title=f"{self.qualified_name} status", color=colour)
        embed.add_field(name="State", value=self.state_text(), inline=True)
        last = self.task_tracker.last_operation
        if last is not None:
            outcome = "ok" if last.success else "failed"
            embed.add_field(
                name="Last operation",
                value=f"{last.name} ({outcome}) <t:{int(last.finished_at.timestamp())}:R>",
                inline=True,
            )
        lines = self.task_tracker.summary_lines(limit=8)
        if lines:
            embed.add_field(name="Tasks", value="\n".join(lines)[:1024], inline=False)
        errors = self._error_lines()
        if errors:
            embed.add_field(name="Errors", value="\n".join(errors)[:1024], inline=False)
        await self._add_status_fields(embed)
        return embed

    def _error_lines(self) -> list[str]:
        lines = []
        if self._last_error:
            lines.append(self._last_error)
        for original, _moved_to, error in self._data.corrupt_files:
            lines.append(f"Corrupt data file {Path(original).name} moved aside: {error}")
        for name, stats in self.task_tracker.all_stats().items():
            if stats.last_error:
                lines.append(f"{name}: {stats.last_error}")
        return lines[:10]

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        """Hook for subclasses to add their own fields to the status embed."""

    def status_summary(self) -> dict[str, Any]:
        """Machine-readable state for /healthz and the status command."""
        return {
            "ready": self.is_ready,
            "paused": self.is_paused,
            "errors": self._has_errors,
            "last_error": self._last_error,
        }

    def record_error(self, error: BaseException) -> None:
        """Note an error for the status embed (the cog keeps running)."""
        self._has_errors = True
        self._last_error = f"{type(error).__name__}: {error}"[:300]

    def setting_specs(self) -> dict[str, SettingSpec]:
        return dict(self._setting_specs)


def command_meta(command: Any, key: str, default: Any = None) -> Any:
    """Read a Fish Bot marker (rank, dm_allowed, admin_override) from a command."""
    extras = getattr(command, "extras", None) or {}
    if key in extras:
        return extras[key]
    callback: Callable[..., Any] | None = getattr(command, "callback", None)
    meta = getattr(callback, "__fishbot_meta__", {}) if callback else {}
    if key in meta:
        return meta[key]
    parent = getattr(command, "parent", None)
    if parent is not None and parent is not command:
        return command_meta(parent, key, default)
    return default
