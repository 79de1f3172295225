"""FishBot: the bot class that wires the data layer, the framework and the cogs together."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import discord
from discord.ext import commands

from fish_bot.bot_errors import ErrorHooksMixin, UnknownCommandHook
from fish_bot.bot_events import EventsMixin
from fish_bot.bot_startup import StartupMixin, tune_garbage_collector
from fish_bot.config import Settings
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.cluster import ClusterInfo
from fish_bot.core.cluster_membership import ClusterMembership
from fish_bot.core.django import DjangoManager
from fish_bot.core.guild_cache import GuildCache
from fish_bot.core.permission_store import PermissionStore
from fish_bot.core.permissions import PermissionManager
from fish_bot.core.scheduler import JobScheduler
from fish_bot.core.settings.manager import ConfigManager
from fish_bot.core.views import RoutedComponent
from fish_bot.database.controllers.audit import ACTOR
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.core import GuildConfig
from fish_bot.database.service import DatabaseService
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


class FishBot(EventsMixin, ErrorHooksMixin, StartupMixin, commands.AutoShardedBot):
    """A Fish Bot instance: one per process, built from a :class:`Settings`.

    Its start-up parts (cog loading, the application command sync) are in
    :mod:`fish_bot.bot_startup`, its error hooks in :mod:`fish_bot.bot_errors`, its event
    dispatch (one task per message for the cogs' listeners, event hooks) in
    :mod:`fish_bot.bot_events`.
    """

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
        #: FishBot._listener_plan's work, per event: (the listeners' ids, the plan).
        self._listener_plans: dict[str, tuple[tuple[int, ...], list[Any]]] = {}
        self._mention_prefixes: tuple[int, list[str]] = (0, [])
        #: Plain functions called inside dispatch, per event name without ``on_``
        #: (FishBot.add_event_hook).
        self.event_hooks: dict[str, list[Callable[..., object]]] = {}
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

    def mention_prefixes(self) -> list[str]:
        """``<@id> `` and ``<@!id> ``: a mention of the bot works as a prefix everywhere."""
        user = self.user
        if user is None:
            return []
        if self._mention_prefixes[0] != user.id:
            self._mention_prefixes = (user.id, [f"<@{user.id}> ", f"<@!{user.id}> "])
        return self._mention_prefixes[1]

    async def prefix_for(self, guild_id: int | None) -> str:
        """The prefix commands use in a guild (the default prefix in DMs).

        From memory once the guild is loaded. When the database cannot be read (an outage,
        before the guild was ever read) the default prefix is used, so the bot still answers.
        """
        if guild_id is None:
            return self.settings.prefix
        if self.prefixes.is_loaded(guild_id):  # every message: no load to wait for
            return self.prefixes.peek(guild_id) or self.settings.prefix
        try:
            own = await self.prefixes.get(guild_id)
        except Exception as error:
            log.warning("The prefix of guild %s could not be read: %s", guild_id, error)
            own = None
        return own or self.settings.prefix

    def fish_cogs(self) -> list[BaseCog]:
        return [cog for cog in self.cogs.values() if isinstance(cog, BaseCog)]

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


async def _command_prefix(bot: commands.Bot, message: discord.Message) -> list[str]:
    """The guild's prefix (from the cache), the default prefix in DMs, and a mention."""
    assert isinstance(bot, FishBot)
    prefix = await bot.prefix_for(message.guild.id if message.guild is not None else None)
    return [*bot.mention_prefixes(), prefix]


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
