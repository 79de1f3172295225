"""Start and stop the real FishBot against SimCord's simulated Discord, on the sandbox's data.

:class:`Sandbox` is what every sandbox mode (browser preview, console, script) runs in:

* the bot is the real :class:`~fish_bot.bot.FishBot` with every cog it would load in production
  (``BUILTIN_COGS``, ``FISHBOT_COG_PACKAGES`` and installed cog entry points);
* its data folder is ``<data_dir>/sandbox/`` (the SQLite file ``fish_bot.db`` and the cogs'
  cache data), or the database of ``FISHBOT_DATABASE_URL`` when one is configured;
* the demo server of :mod:`fish_bot.sandbox.world` is created with the same ids every run;
* SimCord's virtual clock starts at the real time, and :func:`follow_wall_clock` keeps it there
  in the interactive modes, so uptimes, timestamps, reminders and temporary bans behave as they
  would on Discord and stay consistent with what earlier runs stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import discord
import simcord

from fish_bot.config import Settings
from fish_bot.operations.lock import LOCK_FILES, RunLock
from fish_bot.sandbox.world import OWNER_ID, SandboxWorld, build_world, seed_database

log = logging.getLogger("fish_bot.sandbox")

#: How long one simulated user action may keep the bot busy before it counts as hung.
SETTLE_TIMEOUT = 30.0


class SandboxError(Exception):
    """The sandbox cannot run as asked; ``code`` is the process exit code to use.

    Not a :class:`~fish_bot.exceptions.FishBotError`, so that the command line's generic error
    handling (exit code 1) leaves it to the ``sandbox`` command, which exits with ``code``.
    """

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


#: Production services the sandbox must not reach: no health port, no Sentry, no log file.
_OFF_IN_SANDBOX: dict[str, Any] = {"health_port": None, "sentry_dsn": "", "log_file": None}


def sandbox_settings(settings: Settings) -> Settings:
    """The settings the sandbox bot runs with: its own data folder, the world's owner as owner.

    The monitoring settings are switched off, so a sandbox started next to a production bot
    neither takes its health port nor reports to its Sentry.
    """
    owners = list(dict.fromkeys([*settings.owner_ids, OWNER_ID]))
    update: dict[str, Any] = {"data_dir": settings.data_dir / "sandbox", "owner_ids": owners}
    update.update({k: v for k, v in _OFF_IN_SANDBOX.items() if k in Settings.model_fields})
    return settings.model_copy(update=update)


def describe_storage(settings: Settings) -> str:
    """Where the sandbox keeps its state, for people to read."""
    if settings.database_url:
        return f"{settings.data_dir} (cache data) and the FISHBOT_DATABASE_URL database"
    return str(settings.data_dir)


def env_is_idle(env: simcord.Env) -> bool:
    """Whether no SimCord operation (an actor, a preview action, a refresh) is running.

    SimCord 3.2.1 does not expose this; its operation guard keeps the running operation in
    ``_operation_task``. Starting an operation while another runs raises ``SetupError``.
    """
    return getattr(env, "_operation_task", None) is None


class Sandbox:
    """The running sandbox: ``async with Sandbox(settings) as sandbox: ...``."""

    def __init__(
        self,
        settings: Settings,
        *,
        fresh: bool = False,
        cogs: list[str] | None = None,
    ) -> None:
        self.base_settings = settings
        self.settings = sandbox_settings(settings)
        self.fresh = fresh
        self.cogs = cogs
        self._env: simcord.Env | None = None
        self._world: SandboxWorld | None = None
        self.seeded = False
        self._started = False
        self._lock: RunLock | None = None

    @property
    def env(self) -> simcord.Env:
        if self._env is None:
            raise SandboxError("the sandbox is not running")
        return self._env

    @property
    def world(self) -> SandboxWorld:
        if self._world is None:
            raise SandboxError("the sandbox is not running")
        return self._world

    @property
    def bot(self) -> Any:
        """The running :class:`~fish_bot.bot.FishBot`."""
        return self.env.bot

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    async def reset(self) -> None:
        """Remove the sandbox's own data (``--fresh``)."""
        if self.settings.database_url:
            raise SandboxError(
                "--fresh only resets the sandbox's own SQLite database, and FISHBOT_DATABASE_URL "
                "is set. Unset it to use <data_dir>/sandbox/fish_bot.db, or reset that database "
                "yourself (`fish-bot db downgrade base`).",
                code=2,
            )
        await asyncio.to_thread(_empty_folder, self.data_dir, keep=LOCK_FILES)
        log.info("Removed the sandbox data in %s", self.data_dir)

    async def start(self) -> None:
        """Reset (``fresh``), build the world, start the bot and wait until it is ready."""
        # One sandbox per data folder: a second one would share its database and cache files.
        lock = RunLock(self.data_dir)
        await asyncio.to_thread(lock.acquire)
        self._lock = lock
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        from fish_bot.bot import FishBot

        if self.fresh:
            await self.reset()
        bot = FishBot(self.settings, cogs=self.cogs)
        # FishBot is an AutoShardedBot: SimCord needs to be told how many shards to simulate.
        env = simcord.Env(bot, shard_count=1, check_errors=False, settle_timeout=SETTLE_TIMEOUT)
        self._world = build_world(env)
        # Start the virtual clock at the real time, after the world (whose ids are pinned).
        lag = (datetime.now(UTC) - env.now()).total_seconds()
        if lag > 0:
            env.backend.advance_clock(lag)
        self._env = env
        try:
            await env.start()
        except BaseException:
            self._env = None
            with contextlib.suppress(Exception):
                await bot.close()
            raise
        self._started = True
        # On Discord the bot fills its member cache at start-up (members intent); SimCord does
        # not chunk guilds that exist before the bot connects, so ask for it.
        for guild in bot.guilds:
            if not guild.chunked:
                await guild.chunk()
        # A new SimCord world has no application commands, but the stored command hash can say
        # they are synced (an earlier run synced them): sync every run.
        await bot.sync_app_commands(force=True)
        self.seeded = await seed_database(bot)
        await env.settle()
        if bot.cog_load_errors:
            for name, reason in sorted(bot.cog_load_errors.items()):
                log.warning("Cog %s was not loaded: %s", name, reason)

    async def stop(self) -> None:
        """Stop the bot cleanly (``bot.close`` saves everything), then the simulation."""
        env, lock = self._env, self._lock
        self._env = self._lock = None
        try:
            if env is not None:
                try:
                    if self._started:
                        await env.bot.close()
                finally:
                    self._started = False
                    await env.shutdown()
        finally:
            if lock is not None:
                await asyncio.to_thread(lock.release)

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- helpers for the modes --------------------------------------------------------------

    def can_read(self, person: simcord.MemberActor, channel: simcord.ChannelHandle) -> bool:
        """Whether ``person`` can see ``channel`` and its history (from the bot's cache)."""
        guild = self.bot.get_guild(self.world.guild.id)
        member = guild.get_member(person.id) if guild else None
        target = self.bot.get_channel(channel.id)
        if member is None or not isinstance(target, discord.abc.GuildChannel):
            return False
        permissions = target.permissions_for(member)
        return permissions.view_channel and permissions.read_message_history


def _empty_folder(folder: Path, *, keep: frozenset[str]) -> None:
    """Delete everything in ``folder`` except the names in ``keep``."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


async def follow_wall_clock(env: simcord.Env, interval: float = 1.0) -> None:
    """Keep SimCord's virtual clock at the real time while nothing else is running.

    SimCord's clock moves only when the bot's timers fire; without this, ``status`` would show
    an uptime of 0 s and every message the time the sandbox started. Moving the clock is
    synchronous and happens only between operations, so it never races an action.
    """
    while True:
        await asyncio.sleep(interval)
        if not env_is_idle(env):
            continue
        lag = (datetime.now(UTC) - env.now()).total_seconds()
        if lag > 0:
            env.backend.advance_clock(lag)
