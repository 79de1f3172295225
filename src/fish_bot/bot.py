"""FishBot: the bot class that wires the data layer, the framework and the cogs together."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from importlib.metadata import entry_points
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.config import Settings
from fish_bot.core.base_cog import AppPermissionCheckFailure, BaseCog, PermissionCheckFailure
from fish_bot.core.errors import apology, new_error_id, send_interaction, send_reply, unwrap
from fish_bot.core.permissions import PermissionManager
from fish_bot.core.settings.manager import ConfigManager
from fish_bot.core.views import ComponentRouter
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.service import DatabaseService
from fish_bot.exceptions import FishBotError, PermissionDenied, UserFacingError
from fish_bot.monitoring import Monitor

log = logging.getLogger(__name__)

#: Cogs that ship with Fish Bot and load by default.
BUILTIN_COGS: tuple[str, ...] = (
    "fish_bot.cogs.admin",
    "fish_bot.cogs.server_config",
    "fish_bot.cogs.moderation",
)

#: Entry-point group through which installed packages offer cogs.
ENTRY_POINT_GROUP = "fish_bot.cogs"

#: CogSetting scope that holds the bot's own state (application command hash).
BOT_STATE_COG = "__bot__"
APP_COMMANDS_HASH_KEY = "__app_commands_hash__"


def default_intents() -> discord.Intents:
    """The gateway intents Fish Bot needs.

    * ``guilds``, ``guild_messages``, ``dm_messages``: commands and their replies.
    * ``message_content`` (privileged): prefix commands, snippets, moderation of polls.
    * ``members`` (privileged): member ranks, jail re-applied on rejoin, moderation targets.
    * ``moderation``: ban and unban events for the case log.
    """
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents


class FishBot(commands.AutoShardedBot):
    """A Fish Bot instance: one per process, built from a :class:`Settings`."""

    def __init__(
        self,
        settings: Settings,
        *,
        cogs: Sequence[str] | None = None,
        intents: discord.Intents | None = None,
        **options: Any,
    ) -> None:
        owner_ids = set(settings.owner_ids)
        # Fish Bot has no voice features: don't warn that the voice libraries are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=_command_prefix,
            intents=intents or default_intents(),
            owner_ids=owner_ids or None,
            allowed_mentions=discord.AllowedMentions.none(),  # code opts in per message
            case_insensitive=True,
            strip_after_prefix=True,
            **options,
        )
        self.settings = settings
        self.database = DatabaseService.from_settings(settings)
        self.db = DatabaseCoordinator(self.database)
        self.config_manager = ConfigManager(self.db)
        self.permissions = PermissionManager(self)
        self.permission_store: Any = None
        self.scheduler: Any = None
        self.prefixes: dict[int, str] = {}
        self.extensions_to_load: list[str] = list(BUILTIN_COGS if cogs is None else cogs)
        self.cog_load_errors: dict[str, str] = {}
        self.started_at = discord.utils.utcnow()
        self.app_commands_synced = False
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        #: Routes "<cog>:<action>:<args>" component clicks to @component handlers (restart-proof).
        self.component_router = ComponentRouter(self)
        self.add_listener(self.component_router.on_interaction, "on_interaction")
        #: Metrics, the health endpoint and Sentry (fish_bot.monitoring).
        self.monitor = Monitor(self)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """Count the event for /metrics (one dictionary update), then dispatch it."""
        self.monitor.count_event(event_name)
        super().dispatch(event_name, *args, **kwargs)

    # --- start-up --------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Connect and migrate the database, load settings and cogs, sync slash commands."""
        from fish_bot.core.scheduler import JobScheduler
        from fish_bot.database import migrations

        await self.monitor.start()
        await self.database.connect()
        if self.settings.migrate_on_start:
            await migrations.upgrade(self.database)
        else:
            current = await migrations.current_revision(self.database)
            if current != migrations.head_revision():
                log.warning(
                    "The database is at %s, not %s: run `fish-bot db upgrade`.",
                    current,
                    migrations.head_revision(),
                )
        await self.config_manager.load()
        await self.load_prefixes()
        # Jobs scheduled by this process wake the runner themselves; the poll only finds jobs
        # that another process (a second bot on the same database) added.
        self.scheduler = JobScheduler(
            self.db, logger=logging.getLogger("fish_bot.scheduler"), poll_interval=300
        )
        self._install_permission_store()
        for name in self.all_cog_packages():
            await self.load_cog(name)
        await self.sync_app_commands()

    def _install_permission_store(self) -> None:
        try:
            module = importlib.import_module("fish_bot.core.permission_store")
        except ModuleNotFoundError:
            return
        self.permission_store = module.PermissionStore(self.db)

    async def on_ready(self) -> None:
        """Start the job scheduler once the guild cache is filled (jobs need guilds)."""
        if self.scheduler is not None and not self.scheduler.is_running:
            await self.scheduler.start()
        log.info("Ready as %s in %d guilds.", self.user, len(self.guilds))

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
        except commands.ExtensionNotFound:
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
            log.error("Cog %s failed to load", name, exc_info=original)
        else:
            self.cog_load_errors.pop(name, None)
            return None
        self.cog_load_errors[name] = reason
        log.error("Cog %s was not loaded: %s", name, reason)
        return reason

    async def load_prefixes(self) -> None:
        """Cache every guild's prefix so a message needs no database read."""
        configs = await self.db.guild_config.find_all()
        self.prefixes = {c.guild_id: c.prefix for c in configs if c.prefix}

    def fish_cogs(self) -> list[BaseCog]:
        return [cog for cog in self.cogs.values() if isinstance(cog, BaseCog)]

    # --- application commands --------------------------------------------------------------

    def app_commands_hash(self) -> str:
        """A hash of the global application command definitions."""
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

    # --- shutdown ---------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop jobs, unload cogs (saving their data), flush settings, close the database."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        for name in list(self.extensions):
            try:
                await self.unload_extension(name)
            except Exception:
                log.exception("Unloading %s failed", name)
        await self.config_manager.flush()
        await self.monitor.stop()
        await super().close()
        await self.database.disconnect()

    # --- errors -----------------------------------------------------------------------------

    async def on_command_error(
        self, ctx: commands.Context[Any], error: commands.CommandError
    ) -> None:
        """One error policy for prefix and hybrid commands: no raw exception reaches a user."""
        if ctx.command is not None and ctx.command.has_error_handler():
            return
        cog = ctx.cog
        if cog is not None and cog.has_error_handler():
            return
        message = self.describe_command_error(ctx, error)
        if message is None:
            return
        await send_reply(ctx, message)

    def describe_command_error(self, ctx: commands.Context[Any], error: Exception) -> str | None:
        """The text a user sees for an error, or None to stay silent."""
        original = unwrap(error)
        if isinstance(original, commands.CommandNotFound):
            return None
        if isinstance(original, (PermissionCheckFailure, AppPermissionCheckFailure)):
            return f"⛔ {original.denial.message}"
        if isinstance(original, PermissionDenied):
            return f"⛔ {original.message}"
        if isinstance(original, UserFacingError):
            return original.message
        if isinstance(original, commands.UserInputError):
            usage = self.usage(ctx)
            return f"{_input_error_text(original)}\nUsage: `{usage}`"
        if isinstance(original, app_commands.TransformerError):
            # The slash side of a hybrid command, e.g. a user who is not a member for a Member.
            return f"{_transformer_error_text(original)}\nUsage: `{self.usage(ctx)}`"
        if isinstance(original, commands.CommandOnCooldown):
            return f"Slow down: try again in {original.retry_after:.0f} s."
        if isinstance(original, commands.MaxConcurrencyReached):
            return "This command is already running; wait until it finishes."
        if isinstance(
            original,
            (
                commands.MissingPermissions,
                commands.BotMissingPermissions,
                commands.MissingRole,
                commands.MissingAnyRole,
                commands.NoPrivateMessage,
                commands.PrivateMessageOnly,
                commands.NotOwner,
                commands.DisabledCommand,
            ),
        ):
            return f"⛔ {original}"
        if isinstance(original, commands.CheckFailure):
            return "⛔ You can't use this command here."
        name = ctx.command.qualified_name if ctx.command else "?"
        return self.report_unexpected(original, f"command {name}")

    def usage(self, ctx: commands.Context[Any]) -> str:
        command = ctx.command
        if command is None:
            return ""
        prefix = "/" if ctx.interaction is not None else (ctx.clean_prefix or self.settings.prefix)
        return f"{prefix}{command.qualified_name} {command.signature}".strip()

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Errors of pure slash commands (hybrid commands go through on_command_error)."""
        original = unwrap(error)
        self.monitor.app_command_failed(interaction, original)
        if isinstance(original, (PermissionCheckFailure, AppPermissionCheckFailure)):
            text = f"⛔ {original.denial.message}"
        elif isinstance(original, UserFacingError):
            text = original.message
        elif isinstance(original, app_commands.CheckFailure):
            text = f"⛔ {original}" if str(original) else "⛔ You can't use this command here."
        elif isinstance(original, app_commands.TransformerError):
            text = f"That value is not valid: {original.value!r}."
        else:
            name = interaction.command.qualified_name if interaction.command else "?"
            text = self.report_unexpected(original, f"slash command {name}")
        await send_interaction(interaction, text)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        if error is None:
            log.error("Error in event %s (no exception)", event_method)
            return
        self.report_unexpected(error, f"event {event_method}")

    def report_unexpected(self, error: BaseException, where: str) -> str:
        """Log an unexpected error under a new error id; returns the apology a user sees.

        Dispatches ``fishbot_error`` (error id, error): the monitor counts it and sends it to
        Sentry with the error id as a tag.
        """
        error_id = new_error_id()
        log.error("Error %s in %s", error_id, where, exc_info=error)
        self.dispatch("fishbot_error", error_id, error)
        return apology(error_id)


def _transformer_error_text(error: app_commands.TransformerError) -> str:
    value = error.value
    if isinstance(value, discord.abc.User) and error.type is discord.AppCommandOptionType.user:
        return f"{value.mention} is not a member of this server."
    return f"That value is not valid: {str(value)[:100]}."


def _input_error_text(error: commands.UserInputError) -> str:
    if isinstance(error, commands.MissingRequiredArgument):
        return f"Missing `{error.param.name}`."
    if isinstance(error, commands.TooManyArguments):
        return "Too many arguments."
    if isinstance(error, commands.BadFlagArgument):
        if isinstance(error.original, commands.UserInputError):
            return _input_error_text(error.original)
        shown = error.argument.replace("`", "'")[:100]
        return f"`{shown}` is not a valid value for `{error.flag.name}:`."
    if isinstance(error, commands.MissingRequiredFlag):
        return f"Missing `{error.flag.name}:`."
    if isinstance(
        error, commands.BadArgument | commands.BadUnionArgument | commands.ArgumentParsingError
    ):
        text = str(error)
        return text if len(text) < 300 else "That argument is not valid."
    return "That input is not valid."


async def _command_prefix(bot: commands.Bot, message: discord.Message) -> list[str]:
    """The guild's prefix (from the cache), the default prefix in DMs, and a mention."""
    assert isinstance(bot, FishBot)
    prefix = bot.settings.prefix
    if message.guild is not None:
        prefix = bot.prefixes.get(message.guild.id, prefix)
    return commands.when_mentioned_or(prefix)(bot, message)


async def run_bot(settings: Settings, cogs: Iterable[str] | None = None) -> int:
    """Run the bot until it stops; returns the process exit code."""
    bot = FishBot(settings, cogs=list(cogs) if cogs is not None else None)
    try:
        async with bot:
            await bot.start(settings.discord_token.strip())
    except discord.LoginFailure:
        log.error("Discord refused the token: copy it again from the developer portal.")
        return 2
    except discord.PrivilegedIntentsRequired:
        log.error(
            "Enable the Message Content and Server Members intents on the Bot page of the "
            "Discord developer portal."
        )
        return 2
    except (OSError, discord.GatewayNotFound, discord.HTTPException) as error:
        log.error("Could not reach Discord: %s", error)
        return 1
    return 0
