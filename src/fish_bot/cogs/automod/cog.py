"""The Automod cog class, composed of its mixins."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.automod.commands import AutomodCommandsMixin
from fish_bot.cogs.automod.constants import RAID_END_JOB, UNLOCK_JOB
from fish_bot.cogs.automod.listeners import AutomodListenersMixin
from fish_bot.cogs.automod.lockdown import Lockdowns
from fish_bot.cogs.automod.lockdown_commands import LockdownCommandsMixin
from fish_bot.cogs.automod.rules import CompiledGuild, SlidingWindows, compile_guild
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.guild_cache import GuildCache
from fish_bot.database.controllers.automod import AutomodController
from fish_bot.database.notify import Invalidation

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


def _controller(hub: object) -> AutomodController:
    return AutomodController(hub.service, guilds=hub.guild)  # type: ignore[attr-defined]


#: The cache-bus topic of a guild's automod rules and thresholds.
AUTOMOD_TOPIC = "automod"


class Automod(AutomodCommandsMixin, LockdownCommandsMixin, AutomodListenersMixin, BaseCog):
    """Automatic moderation: message rules, warning escalation, lockdowns, raid protection."""

    slug = "automod"
    settings_config = {
        "raid_joins": (
            0,
            "Raid mode: more than this many joins within `raid_seconds` is a raid (0: off)",
            ["type.int", "range(0,1000)"],
        ),
        "raid_seconds": (
            10,
            "Raid mode: the window in which joins are counted",
            "time.seconds(1,600)",
        ),
        "raid_action": (
            "alert",
            "Raid mode: alert (the mod log only), verification (raise the verification level) "
            "or lockdown (lock every text channel)",
            ["type.str", r"pattern(alert|verification|lockdown)"],
        ),
        "raid_duration": (
            600,
            "Raid mode: how long the verification gate or lockdown lasts",
            "time.seconds(60,86400)",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        if "automod" not in bot.db.registered():  # a reloaded module brings a new factory
            bot.db.register("automod", _controller)
        #: A guild's compiled rules and thresholds; forgotten after every committed change.
        self.compiled: GuildCache[CompiledGuild] = GuildCache(
            self._load_guild, name="automod rules"
        )
        self._unsubscribe: Callable[[], None] | None = None
        #: In-memory sliding windows of the spam and duplicate rules and of the raid mode.
        self.windows = SlidingWindows()
        self.joins = SlidingWindows(max_keys=10_000)
        #: Guild id -> when its raid mode may fire again (virtual-clock timestamp).
        self.raid_until: dict[int, float] = {}
        #: Invite code -> the id of its server (None: unknown invite), resolved once.
        self.invite_guilds: dict[str, int | None] = {}
        self.lockdowns = Lockdowns(self)

    @property
    def automod_db(self) -> AutomodController:
        return self.db.get("automod", AutomodController)

    async def _load_guild(self, guild_id: int) -> CompiledGuild:
        stored = await self.automod_db.load_guild(guild_id)
        return compile_guild(guild_id, stored.rules, stored.thresholds)

    async def rules_changed(self, guild_id: int) -> None:
        """Forget the guild's compiled rules once the change committed, here and (through the
        cache bus, sent with the commit) in every other process."""
        await self.db.service.bus.publish(AUTOMOD_TOPIC, guild_id)
        await self.db.service.after_commit(lambda: self.compiled.invalidate(guild_id))

    def _remote_rules_change(self, event: Invalidation) -> None:
        """Another process changed a guild's rules (None: anything may have changed)."""
        self.compiled.invalidate(event.guild_id)

    async def cog_initialize(self) -> None:
        try:
            async with self.task_tracker.task_context("Initialization") as tracker:
                await super().cog_initialize()
                self._unsubscribe = self.db.service.bus.subscribe(
                    AUTOMOD_TOPIC, self._remote_rules_change
                )
                self.bot.scheduler.register_handler(UNLOCK_JOB, self.lockdowns.unlock_job)
                self.bot.scheduler.register_handler(RAID_END_JOB, self.raid_end_job)
                self.set_ready(True)
                tracker.update_status("Ready")
        except Exception:
            self._has_errors = True
            raise

    async def cog_unload(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.bot.scheduler.unregister_handler(UNLOCK_JOB)
        self.bot.scheduler.unregister_handler(RAID_END_JOB)
        self.compiled.invalidate()
        await super().cog_unload()

    async def post_notice(self, guild: discord.Guild, title: str, text: str) -> None:
        """An automod notice in the mod log (through the Moderation cog, when loaded)."""
        from fish_bot.cogs.automod.actions import moderation_of
        from fish_bot.cogs.automod.constants import COLOUR_RAID

        moderation = moderation_of(self)
        if moderation is None:
            return
        embed = discord.Embed(
            title=title, description=text, colour=COLOUR_RAID, timestamp=discord.utils.utcnow()
        )
        await moderation.post_mod_log(guild, embed)
