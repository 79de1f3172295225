"""FishBot: the bot class that wires the data layer, the framework and the cogs together."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from importlib.metadata import entry_points
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.config import Settings
from fish_bot.core import error_policy
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.cluster import ClusterInfo
from fish_bot.core.cluster_membership import ClusterMembership
from fish_bot.core.django import DjangoManager, DjangoUnavailable
from fish_bot.core.error_replies import send_interaction, send_reply
from fish_bot.core.guild_cache import GuildCache
from fish_bot.core.permission_store import PermissionStore
from fish_bot.core.permissions import PermissionManager
from fish_bot.core.scheduler import JobScheduler
from fish_bot.core.settings.manager import ConfigManager
from fish_bot.core.slash_visibility import apply_slash_visibility
from fish_bot.core.views import RoutedComponent
from fish_bot.database.controllers.audit import ACTOR, acting_as
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.core import GuildConfig
from fish_bot.database.service import DatabaseService
from fish_bot.exceptions import FishBotError
from fish_bot.monitoring import Monitor

log = logging.getLogger(__name__)

#: Cogs that ship with Fish Bot and load by default.
BUILTIN_COGS: tuple[str, ...] = (
    "fish_bot.cogs.admin",
    "fish_bot.cogs.server_config",
    "fish_bot.cogs.moderation",
    "fish_bot.cogs.help",
    "fish_bot.cogs.afk",
    "fish_bot.cogs.snippets",
    "fish_bot.cogs.reminders",
    "fish_bot.cogs.server_logs",
    "fish_bot.cogs.levels",
    "fish_bot.cogs.automod",
    "fish_bot.cogs.advertise",
)

#: Asked, in order, about a prefix command nobody has; True: it handled the message.
UnknownCommandHook = Callable[[commands.Context[Any]], Awaitable[bool]]

#: Entry-point group through which installed packages offer cogs.
ENTRY_POINT_GROUP = "fish_bot.cogs"

#: CogSetting scope that holds the bot's own state (application command hash).
BOT_STATE_COG = "__bot__"
APP_COMMANDS_HASH_KEY = "__app_commands_hash__"


async def _note_actor(interaction: discord.Interaction[Any], /) -> bool:
    """Before a slash command runs (in its own task): its changes are audited as the user's."""
    ACTOR.set(interaction.user.id)
    return True


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
        node: ClusterInfo | None = None,
        **options: Any,
    ) -> None:
        owner_ids = set(settings.owner_ids)
        #: This process's place in the cluster (docs/scaling.md); ``node`` given (by fish-bot
        #: run): it registers in cluster_node and, on PostgreSQL, leases its jobs.
        self.cluster = node or ClusterInfo.from_settings(settings)
        for name, value in self.cluster.gateway_options().items():
            options.setdefault(name, value)
        # Fish Bot has no voice features: don't warn that the voice libraries are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        # No help until the help cog (fish_bot.cogs.help) routes ``send_help`` to its pages.
        options.setdefault("help_command", None)
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
        #: Django for cogs that set ``requires_django`` (set up in setup_hook).
        self.django = DjangoManager(settings.django_settings_module)
        #: Stored permission rules and ranks, cached per guild (layers 5 and 6).
        self.permission_store = PermissionStore(self.db)
        # Jobs scheduled by this process wake the runner themselves; the poll only finds jobs
        # that another process (a second bot on the same database) added.
        self.scheduler = JobScheduler(
            self.db, logger=logging.getLogger("fish_bot.scheduler"), poll_interval=300, cluster=node
        )
        self.membership = ClusterMembership.of_node(self.db, node, lambda: len(self.guilds))
        self._identify_gate: Any = None
        #: Each guild's GuildConfig row (None: none stored), read once per guild.
        # Both are GuildCaches, forgotten on every GuildConfigController write; rows read inside
        # an open transaction (which may still roll back) are not kept.
        self.guild_configs: GuildCache[GuildConfig | None] = GuildCache(
            self.db.guild_config.get_config, name="guild config", cacheable=self._may_cache
        )
        #: Each guild's own prefix (None: the default), read for every message from memory.
        self.prefixes: GuildCache[str | None] = GuildCache(
            self._load_prefix, name="prefix", cacheable=self._may_cache
        )
        self.db.guild_config.add_change_listener(self._guild_config_changed)
        self.extensions_to_load: list[str] = list(BUILTIN_COGS if cogs is None else cogs)
        self.cog_load_errors: dict[str, str] = {}
        #: Asked before the error policy answers an unknown prefix command (a snippet
        #: shortcut): the first hook that returns True handled the message.
        self.unknown_command_hooks: list[UnknownCommandHook] = []
        self.started_at = discord.utils.utcnow()
        self.app_commands_synced = False
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        self.tree.interaction_check = _note_actor  # type: ignore[method-assign]
        #: "<cog>:<action>:<args>" component clicks reach @component handlers (restart-proof).
        self.add_dynamic_items(RoutedComponent)
        #: Metrics, the health endpoint and Sentry (fish_bot.monitoring).
        self.monitor = Monitor(self)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """Count the event for /metrics (one dictionary update), then dispatch it."""
        self.monitor.count_event(event_name)
        super().dispatch(event_name, *args, **kwargs)

    # --- start-up --------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Connect and migrate the database, load settings and cogs, sync slash commands."""
        from fish_bot.database import migrations

        await self.monitor.start()
        await self.database.connect()
        # The usual restart finds the database at the newest revision: Alembic is not loaded.
        if not await migrations.is_at_head(self.database):
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
        # Listen for other processes' changes before the caches are read: nothing is missed.
        self.database.bus.configure(redis_url=self.settings.redis_url)
        if self.database.bus.autostart:
            await self.database.bus.start()
        if self.membership is not None:
            await self.membership.start()  # ShardClaimConflict: another node runs our shards
        await self.config_manager.load()
        await self.load_prefixes()
        await self.setup_django()
        for name in self.all_cog_packages():
            await self.load_cog(name)
        await self.sync_app_commands()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """IDENTIFY in turn with every process of the cluster (a PostgreSQL advisory lock)."""
        if self.membership is None or self.database.is_sqlite:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        from fish_bot.core.identify_lock import IdentifyGate

        self._identify_gate = self._identify_gate or await IdentifyGate.for_bot(self)
        await self._identify_gate.wait_turn(shard_id)

    async def on_ready(self) -> None:
        """Start the job scheduler once the guild cache is filled (jobs need guilds).

        A start that fails (the database refuses its first write) is retried with backoff
        in the background until it works; ``/healthz`` and ``status`` report it meanwhile.
        """
        self.scheduler.start_soon()
        log.info("Ready as %s in %d guilds.", self.user, len(self.guilds))

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

    async def load_prefixes(self) -> None:
        """Read every guild's configuration once, so a message needs no database read."""
        configs = await self.db.guild_config.find_all()
        self.guild_configs.invalidate()
        self.prefixes.invalidate()
        self.guild_configs.fill({config.guild_id: config for config in configs})
        self.prefixes.fill({config.guild_id: config.prefix or None for config in configs})

    async def _load_prefix(self, guild_id: int) -> str | None:
        config = await self.guild_configs.get(guild_id)
        if config is None or not config.prefix:
            return None
        return config.prefix

    def _may_cache(self) -> bool:
        return not self.database.in_transaction()

    def _guild_config_changed(self, guild_id: int | None) -> None:
        """A GuildConfig write: forget the cached row (and prefix) of that guild, or all."""
        self.guild_configs.invalidate(guild_id)
        self.prefixes.invalidate(guild_id)

    async def prefix_for(self, guild_id: int | None) -> str:
        """The prefix commands use in a guild (the default prefix in DMs).

        From memory once the guild is loaded. When the database cannot be read (an outage,
        before the guild was ever read) the default prefix is used, so the bot still answers.
        """
        if guild_id is None:
            return self.settings.prefix
        try:
            own = await self.prefixes.get(guild_id)
        except Exception as error:
            log.warning("The prefix of guild %s could not be read: %s", guild_id, error)
            own = None
        return own or self.settings.prefix

    def fish_cogs(self) -> list[BaseCog]:
        return [cog for cog in self.cogs.values() if isinstance(cog, BaseCog)]

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

    # --- shutdown ---------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop jobs, unload cogs (saving their data), flush settings, close the database."""
        await self.scheduler.stop()
        for part in (self.membership, self._identify_gate):
            if part is not None:
                await part.stop()
        for name in list(self.extensions):
            try:
                await self.unload_extension(name)
            except Exception:
                log.exception("Unloading %s failed", name)
        await self.config_manager.flush()
        await self.django.close()
        await self.monitor.stop()
        await super().close()
        await self.database.bus.stop()
        await self.database.disconnect()

    # --- errors -----------------------------------------------------------------------------
    # What a user sees for an error is decided by fish_bot.core.error_policy, for every kind of
    # invocation; the methods here only say where the error happened and send the answer.

    async def invoke(self, ctx: commands.Context[Any], /) -> None:
        """Run a command; an error raised outside its body (a check, a hook) reaches the policy.

        discord.py hands only :class:`~discord.ext.commands.CommandError` to the error
        handlers; anything else raised while preparing the command would end the invocation
        with no answer at all.
        """
        try:
            with acting_as(ctx.author.id):  # the changes it makes are audited as the author's
                await super().invoke(ctx)
        except commands.CommandError:
            raise
        except Exception as error:
            if ctx.command is None:
                raise
            await ctx.command.dispatch_error(ctx, commands.CommandInvokeError(error))

    async def on_command_error(
        self, ctx: commands.Context[Any], error: commands.CommandError
    ) -> None:
        """One error policy for prefix and hybrid commands: no raw exception reaches a user."""
        if isinstance(error, commands.CommandNotFound) and await self._unknown_handled(ctx):
            return
        if ctx.command is not None and ctx.command.has_error_handler():
            return
        cog = ctx.cog
        if cog is not None and cog.has_error_handler():
            return
        message = self.describe_command_error(ctx, error)
        if message is None:
            return
        await send_reply(ctx, message)

    async def _unknown_handled(self, ctx: commands.Context[Any]) -> bool:
        """Whether an :attr:`unknown_command_hooks` hook took the unknown command."""
        for hook in list(self.unknown_command_hooks):
            try:
                if await hook(ctx):
                    return True
            except Exception as error:
                self.report_unexpected(error, "unknown command hook")
        return False

    def describe_command_error(self, ctx: commands.Context[Any], error: Exception) -> str | None:
        """The text a user sees for an error (logged as the policy says), or None: silence."""
        name = ctx.command.qualified_name if ctx.command else "?"
        parameter = ctx.current_parameter
        situation = error_policy.Situation(
            usage=self.usage(ctx),
            argument=ctx.current_argument,
            parameter=parameter.name if parameter is not None else None,
        )
        return error_policy.respond(self, error, where=f"command {name}", situation=situation)

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
        self.monitor.app_command_failed(interaction, error)
        command = interaction.command
        name = command.qualified_name if command else "?"
        situation = error_policy.Situation(usage=_slash_usage(command))
        text = error_policy.respond(self, error, where=f"slash command {name}", situation=situation)
        if text is not None:
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
        return error_policy.report(self, error, where)


def _slash_usage(command: Any) -> str | None:
    """``/name <required> [optional]`` of a pure slash command (None for a context menu)."""
    if not isinstance(command, app_commands.Command):
        return None
    parts = [f"/{command.qualified_name}"]
    for parameter in command.parameters:
        parts.append(f"<{parameter.name}>" if parameter.required else f"[{parameter.name}]")
    return " ".join(parts)


async def _command_prefix(bot: commands.Bot, message: discord.Message) -> list[str]:
    """The guild's prefix (from the cache), the default prefix in DMs, and a mention."""
    assert isinstance(bot, FishBot)
    prefix = await bot.prefix_for(message.guild.id if message.guild is not None else None)
    return commands.when_mentioned_or(prefix)(bot, message)


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


async def run_bot(
    settings: Settings, cogs: Iterable[str] | None = None, *, node: ClusterInfo | None = None
) -> int:
    """Run the bot until it stops; returns the process exit code."""
    from fish_bot.core.identify_lock import apply_api_base
    from fish_bot.database.controllers.cluster import ShardClaimConflict

    apply_api_base(settings.discord_api_base)
    bot = FishBot(settings, cogs=list(cogs) if cogs is not None else None, node=node)
    tune_garbage_collector(bot)
    try:
        async with bot:
            await bot.start(settings.discord_token.strip())
    except ShardClaimConflict as error:
        log.error("%s", error)
        return 2
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
