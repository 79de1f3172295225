"""FishBot's start-up parts: finding and loading the cog packages, setting Django up, syncing
the application commands (only when their definitions changed), and tuning the garbage
collector of the bot's own process.

:class:`~fish_bot.bot.FishBot` is composed of :class:`StartupMixin`; ``fish_bot.bot`` imports
``tune_garbage_collector`` for ``run_bot``.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from fish_bot.core.django import DjangoUnavailable
from fish_bot.core.slash_visibility import apply_slash_visibility
from fish_bot.exceptions import FishBotError

if TYPE_CHECKING:
    from fish_bot.config import Settings
    from fish_bot.core.django import DjangoManager
    from fish_bot.core.settings.manager import ConfigManager

    _MixinBase = commands.AutoShardedBot
else:
    _MixinBase = object

#: The bot's logger: these parts log as they did when they were in ``fish_bot.bot``.
log = logging.getLogger("fish_bot.bot")

#: Entry-point group through which installed packages offer cogs.
ENTRY_POINT_GROUP = "fish_bot.cogs"

#: CogSetting scope that holds the bot's own state (application command hash).
BOT_STATE_COG = "__bot__"
APP_COMMANDS_HASH_KEY = "__app_commands_hash__"


class StartupMixin(_MixinBase):
    """Cog package discovery and loading, Django set-up and the application command sync."""

    if TYPE_CHECKING:  # provided by FishBot
        settings: Settings
        django: DjangoManager
        config_manager: ConfigManager
        extensions_to_load: list[str]
        cog_load_errors: dict[str, str]
        app_commands_synced: bool

    async def setup_django(self) -> None:
        """Set Django up (in a worker thread) before any cog initialises, when it is
        configured. When it cannot be, each cog that needs it is refused with the reason."""
        if not self.django.configured:
            return
        try:
            await self.django.setup()
        except DjangoUnavailable as error:
            log.error("%s", error)

    def all_cog_packages(self) -> list[str]:
        """Built-in cogs, then those named in settings, then installed entry points."""
        names: list[str] = [*self.extensions_to_load, *self.settings.cog_packages]
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            names.append(entry.value.split(":", 1)[0])
        seen: dict[str, None] = {}
        for name in names:
            seen.setdefault(name, None)
        return list(seen)

    async def load_cog(self, name: str) -> str | None:
        """Load a cog package; returns None on success or why it failed (also logged)."""
        try:
            await self.load_extension(name)
        except commands.ExtensionAlreadyLoaded:
            return "already loaded"
        except (commands.ExtensionNotFound, ModuleNotFoundError):  # "a.b" where a is no package
            reason = f"no cog package named {name!r}"
        except commands.NoEntryPointError:
            reason = f"{name!r} has no setup() function"
        except commands.ExtensionFailed as error:
            original = error.original
            reason = (
                str(original)
                if isinstance(original, FishBotError)
                else f"{type(original).__name__}: {original}"
            )
            if not isinstance(original, DjangoUnavailable):  # that one is one line, below
                log.error("Cog %s failed to load", name, exc_info=original)
        else:
            self.cog_load_errors.pop(name, None)
            return None
        self.cog_load_errors[name] = reason
        log.error("Cog %s was not loaded: %s", name, reason)
        return reason

    # --- application commands --------------------------------------------------------------

    def prepare_app_commands(self) -> None:
        """Derive who sees each slash command (``default_member_permissions``, guild-only) from
        the permission declarations (:mod:`fish_bot.core.slash_visibility`)."""
        apply_slash_visibility(self, self.tree)

    def app_commands_hash(self) -> str:
        """A hash of the global application command definitions (as they will be synced)."""
        self.prepare_app_commands()
        payload = sorted(
            (command.to_dict(self.tree) for command in self.tree.get_commands()),
            key=lambda item: (item.get("type", 1), item["name"]),
        )
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    async def sync_app_commands(
        self, *, force: bool = False, guild: discord.abc.Snowflake | None = None
    ) -> int | None:
        """Sync slash commands when their definitions changed (or when forced).

        Returns how many commands were synced, or None when nothing needed syncing.
        """
        if guild is not None:
            self.prepare_app_commands()
            return len(await self.tree.sync(guild=guild))
        digest = self.app_commands_hash()
        stored = self.config_manager.stored(BOT_STATE_COG, APP_COMMANDS_HASH_KEY)[1]
        if not force and stored == digest:
            log.info("Application commands unchanged; not syncing.")
            return None
        synced = await self.tree.sync()
        await self.config_manager.set_internal(BOT_STATE_COG, APP_COMMANDS_HASH_KEY, digest)
        self.app_commands_synced = True
        log.info("Synced %d application commands.", len(synced))
        return len(synced)


#: The garbage collector's thresholds in a bot process (Python's default: 700, 10, 10).
#: A chat message allocates a few hundred container objects; with the default, a young
#: collection runs every few messages and a full one every thousand or so.
GC_THRESHOLDS = (10_000, 20, 10)


def tune_garbage_collector(bot: commands.bot.BotBase) -> None:
    """Fewer collections, and none that walks the start-up heap again.

    Once the bot is ready, what start-up built (modules, classes, the cogs, the guild and
    member caches) lives as long as the process: ``gc.freeze()`` moves it out of the
    collector's generations, so a full collection walks only what was made since. Only for
    the bot's own process (``run_bot``): a frozen heap is never freed.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    frozen = False

    async def freeze_startup_heap() -> None:
        nonlocal frozen
        if frozen:
            return
        frozen = True
        gc.collect()
        gc.freeze()
        log.debug("Froze %d start-up objects out of the garbage collector.", gc.get_freeze_count())

    bot.add_listener(freeze_startup_heap, "on_ready")
