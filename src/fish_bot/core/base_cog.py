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
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import discord
from discord.ext import commands

from fish_bot.core.cog_errors import CogErrorsMixin
from fish_bot.core.cog_permissions import CogPermissionsMixin
from fish_bot.core.data import CogDataStore
from fish_bot.core.django import DjangoAccess
from fish_bot.core.error_unwrap import CheckError
from fish_bot.core.listener_guard import guard_interaction_listeners
from fish_bot.core.settings.specs import SettingSpec, parse_settings_config
from fish_bot.core.status import START_WARNING_SECONDS, CogStatusMixin
from fish_bot.core.task_tracker import TaskTracker
from fish_bot.core.tasks import start_cog_loop, stop_cog_loops
from fish_bot.core.text import CONTENT_LIMIT, clip, fit_embed
from fish_bot.exceptions import PermissionDenied, UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.host import FishHost
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

_SLUG = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def derive_slug(class_name: str) -> str:
    """The default slug of a cog class: its name in snake case (``ServerConfig`` ->
    ``server_config``), the same name its data folder and logger always had."""
    slug = re.sub(r"[^a-z0-9_]", "_", _snake(class_name.lstrip("_")))[:64]
    return slug if slug[:1].isalpha() else f"cog_{slug}"[:64]


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


class BaseCog(CogPermissionsMixin, CogErrorsMixin, CogStatusMixin, DjangoAccess, commands.Cog):
    """Base class of every Fish Bot cog.

    A cog declares its settings on the class (readable without building the cog, e.g. by
    ``fish-bot settings export``)::

        class Levels(BaseCog):
            settings_config = {
                "interval": (300, "Update interval in seconds", ["type.int", "range(60,3600)"]),
            }

    or, as the guide shows, in ``__init__``, handing them to ``BaseCog.__init__``; both may be
    used together (the ``__init__`` entries win).
    """

    #: The cog's identity: its data folder, logger, component prefix and settings scope.
    #: Derived from the class name when a class does not set it (``ServerConfig`` ->
    #: ``server_config``); lower-case letters, digits and underscores.
    slug: ClassVar[str] = ""
    #: Settings declared on the class: ``name: (default, description[, rules])``.
    settings_config: Mapping[str, Any] = MappingProxyType({})
    #: Whether the cog is ready as soon as :meth:`cog_initialize` returns without error; a cog
    #: that becomes ready later (after its first sync, say) sets this to False and calls
    #: ``self.set_ready(True)`` itself.
    ready_after_initialize: ClassVar[bool] = True
    #: Commands of this cog that keep working while it is paused (e.g. the core cog's).
    works_while_paused: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slug" not in cls.__dict__ or not cls.__dict__["slug"]:
            cls.slug = derive_slug(cls.__name__)
        if not _SLUG.fullmatch(cls.slug):
            raise TypeError(
                f"{cls.__name__}.slug {cls.slug!r} must be lower-case letters, digits and "
                "underscores, starting with a letter (at most 64 characters)"
            )
        guard_interaction_listeners(cls)

    @classmethod
    def declared_settings(cls) -> dict[str, SettingSpec]:
        """The settings the class declares (with the permission settings), parsed.

        Needs no instance and no bot. Raises SettingsConfigError naming the cog, setting and
        rule when a declaration is malformed. Settings a cog adds only in ``__init__`` are not
        in it (they are in :meth:`setting_specs` of an instance).
        """
        config = {**PERMISSION_SETTINGS, **cls.settings_config}
        return parse_settings_config(cls.__cog_name__, config)

    def __init__(self, bot: FishHost, settings_config: dict[str, Any] | None = None) -> None:
        self.bot = bot
        self.logger = logging.getLogger(f"fish_bot.cogs.{self.slug}")
        self.task_tracker = TaskTracker()
        self._has_errors = False
        self._last_error: str | None = None
        self._ready = asyncio.Event()
        self._start_overdue = False
        self._start_timer: asyncio.TimerHandle | None = None
        self.tasks: Any = None
        self._note_built()
        config = {**PERMISSION_SETTINGS, **type(self).settings_config, **(settings_config or {})}
        self.settings_config = config
        # Raises SettingsConfigError naming the cog, setting and rule: the cog does not load.
        self._setting_specs: dict[str, SettingSpec] = parse_settings_config(
            self.qualified_name, config
        )
        self._data = CogDataStore(
            Path(bot.settings.data_dir) / "cogs" / self.slug,
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
        """discord.py's load hook: registers settings, then runs :meth:`cog_initialize`.

        When it returns without error the cog is ready (unless ``ready_after_initialize`` is
        False); a cog still not ready :data:`START_WARNING_SECONDS` later is logged as a
        warning and shown as "Not ready" in ``status``.
        """
        if self.requires_django:  # refused, naming the cog, when Django is not configured
            await self.bot.django.require(self.qualified_name)
        manager = self.bot.config_manager
        manager.register(self.slug, self._setting_specs, aliases=(self.qualified_name,))
        try:
            await self.cog_initialize()
        except Exception as error:
            self._has_errors = True
            self._last_error = f"{type(error).__name__}: {error}"
            if self.tasks is not None and hasattr(self.tasks, "stop_tasks"):
                self.tasks.stop_tasks()
            stop_cog_loops(self)
            self._data.cancel_save_tasks()
            manager.unregister(self.slug)
            raise
        if self.ready_after_initialize:
            self.set_ready(True)
        elif not self.is_ready:
            self._start_timer = asyncio.get_running_loop().call_later(
                START_WARNING_SECONDS, self._warn_not_ready
            )

    def _warn_not_ready(self) -> None:
        self._start_timer = None
        if self.is_ready:
            return
        self._start_overdue = True
        self.logger.warning(
            "%s is still not ready %d s after it loaded (it has ready_after_initialize = "
            "False and has not called set_ready(True))",
            self.qualified_name,
            START_WARNING_SECONDS,
        )

    async def cog_initialize(self) -> None:
        """Asynchronous set-up; subclasses call ``await super().cog_initialize()`` first.

        The cog becomes ready when this returns without error (see ``ready_after_initialize``).
        """

    async def cog_unload(self) -> None:
        """Stop loops, save modified cache data and cancel save tasks."""
        self.set_ready(False)
        if self._start_timer is not None:
            self._start_timer.cancel()
            self._start_timer = None
        if self.tasks is not None and hasattr(self.tasks, "stop_tasks"):
            self.tasks.stop_tasks()
        stop_cog_loops(self)
        await self._data.close()
        self.bot.config_manager.unregister(self.slug)

    async def _eject(self, bot: Any, guild_ids: Any) -> None:
        """discord.py's removal of the cog; afterwards every loop of the cog and of its tasks
        holder is stopped, also when an overridden ``cog_unload`` forgot to."""
        try:
            await super()._eject(bot, guild_ids)
        finally:
            stop_cog_loops(self)

    def set_ready(self, ready: bool = True) -> None:
        if ready:
            self._ready.set()
            self._start_overdue = False
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
        return self.bot.config_manager.flag(self.slug, PAUSED_KEY)

    def is_paused_in(self, guild_id: int | None) -> bool:
        """Whether the cog is paused globally or in this guild."""
        return self.bot.config_manager.flag(self.slug, PAUSED_KEY, guild_id)

    async def pause(self, guild_id: int | None = None) -> None:
        """Pause the cog globally or in one guild (kept across restarts)."""
        await self.bot.config_manager.set_internal(self.slug, PAUSED_KEY, True, guild_id)

    async def resume(self, guild_id: int | None = None) -> None:
        await self.bot.config_manager.set_internal(self.slug, PAUSED_KEY, None, guild_id)

    # --- settings ---------------------------------------------------------------------------

    def get_setting(self, name: str, default: Any = None, guild_id: int | None = None) -> Any:
        """Guild value, then global value, then the declared default (no I/O)."""
        return self.bot.config_manager.get(self.slug, name, guild_id, default)

    def set_setting(self, name: str, value: Any, guild_id: int | None = None) -> asyncio.Task[None]:
        """Validate and store one setting; await the result to wait until it is saved."""
        return self.bot.config_manager.set(
            self.slug, name, value, guild_id, guild=self._guild(guild_id)
        )

    def update_settings(
        self, values: dict[str, Any], guild_id: int | None = None
    ) -> asyncio.Task[None]:
        """Validate every value first, then store them all together (or none)."""
        return self.bot.config_manager.update(
            self.slug, values, guild_id, guild=self._guild(guild_id)
        )

    def reset_setting(self, name: str, guild_id: int | None = None) -> asyncio.Task[None]:
        """Remove the stored value at this scope."""
        return self.bot.config_manager.reset(self.slug, name, guild_id)

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

    # --- replies ----------------------------------------------------------------------------

    async def reply(
        self,
        ctx: commands.Context[Any],
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
        ephemeral: bool = False,
        file: discord.File | None = None,
    ) -> discord.Message:
        """Answer a command: content clipped to 2,000 characters, the embed fitted to Discord's
        limits, and nobody pinged (``ephemeral`` only applies to slash commands); ``file`` is
        an attachment (a rank card, an export)."""
        extra: dict[str, Any] = {}
        if embed is not None:
            extra["embed"] = fit_embed(embed)
        if view is not None:
            extra["view"] = view
        if file is not None:
            extra["file"] = file
        return await ctx.send(
            clip(content, CONTENT_LIMIT) if content else None,
            ephemeral=ephemeral,
            allowed_mentions=discord.AllowedMentions.none(),
            **extra,
        )

    @staticmethod
    def require_guild(ctx: commands.Context[Any]) -> discord.Guild:
        """The server the command was used in; in direct messages a UserFacingError says so."""
        if ctx.guild is None:
            raise UserFacingError("This command only works in a server.")
        return ctx.guild

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
        except Exception as error:  # e.g. the database is down: the error policy answers it
            raise CheckError(error) from error

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
        except Exception as error:  # e.g. the database is down: the error policy answers it
            raise CheckError(error) from error

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
