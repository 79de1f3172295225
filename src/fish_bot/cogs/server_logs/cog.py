"""The Logging cog class: settings, routing an event to its log channel, the sender."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord

from fish_bot.cogs.server_logs.audit import AuditMixin
from fish_bot.cogs.server_logs.commands import CommandsMixin
from fish_bot.cogs.server_logs.constants import EVENTS
from fish_bot.cogs.server_logs.listeners import ListenersMixin
from fish_bot.cogs.server_logs.sender import LogEntry, LogSender
from fish_bot.cogs.server_logs.utils import check_events, check_routes, parse_routes
from fish_bot.core.base_cog import BaseCog
from fish_bot.database.models.core import LogKind

if TYPE_CHECKING:
    from fish_bot.bot import FishBot

_LIST = "collection.list(item_type=str,unique=true,max_length=32)"


class Logging(CommandsMixin, AuditMixin, ListenersMixin, BaseCog):
    """Server logs: deleted and edited messages, members, channels and roles, moderation done
    by hand, posted to the log channels of `config log` as batched embeds."""

    slug = "logging"

    settings_config = {
        "disabled_events": (
            [],
            "Events that are not logged (names as `logs show` lists them)",
            [_LIST, check_events],
        ),
        "routes": (
            [],
            "Events sent to another log than their own, as event=kind (kind: message, member, "
            "server or off), e.g. message_edit=server",
            [_LIST, check_routes],
        ),
        "ignored_channels": (
            [],
            "Channels whose message deletes and edits are not logged (the log channels never are)",
            "collection.list(item_type=channel,unique=true,max_length=100)",
        ),
        "ignore_bots": (
            True,
            "Leave out the messages of bots, and bots joining or leaving",
            "type.bool",
        ),
        "new_account_days": (
            7,
            "A joining account younger than this many days is flagged",
            ["type.int", "range(0,365)"],
        ),
        "batch_delay": (
            2,
            "How long a log channel gathers a burst of entries before posting them",
            "time.seconds(0,60)",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        self._audit_tasks: set[asyncio.Task[None]] = set()
        self.sender = LogSender(
            self.bot.get_channel, lambda: float(self.get_setting("batch_delay", 2))
        )

    async def cog_initialize(self) -> None:
        async with self.task_tracker.task_context("Initialization") as tracker:
            await super().cog_initialize()
            self.db.audit.add_listener(self.on_audit_entry)
            self.set_ready(True)
            tracker.update_status("Ready")

    async def cog_unload(self) -> None:
        self.db.audit.remove_listener(self.on_audit_entry)
        if self._audit_tasks:
            await asyncio.gather(*self._audit_tasks, return_exceptions=True)
        await self.sender.close()
        await super().cog_unload()

    # --- routing --------------------------------------------------------------------------

    def kind_of(self, guild_id: int, event: str) -> str:
        """The log an event goes to in a guild: message, member, server or off."""
        if event in self.get_setting("disabled_events", [], guild_id):
            return "off"
        routed = parse_routes(self.get_setting("routes", [], guild_id)).get(event)
        return routed or EVENTS[event][0].value

    async def log_channels(self, guild_id: int) -> dict[str, int]:
        """The guild's configured log channels by kind (mod, message, member, server)."""
        config = await self.bot.guild_configs.get(guild_id)
        if config is None:
            return {}
        found = {
            LogKind.MOD.value: config.mod_log_channel_id,
            LogKind.MESSAGE.value: config.message_log_channel_id,
            LogKind.MEMBER.value: config.member_log_channel_id,
            LogKind.SERVER.value: config.server_log_channel_id,
        }
        return {kind: channel for kind, channel in found.items() if channel}

    async def emit(self, guild_id: int, event: str, entries: list[LogEntry]) -> None:
        """Queue an event's entries for the channel its log goes to (nothing when it is off)."""
        kind = self.kind_of(guild_id, event)
        if kind == "off":
            return
        channel_id = (await self.log_channels(guild_id)).get(kind)
        if channel_id is None:
            return
        for entry in entries:
            self.sender.put(channel_id, entry)

    async def ignores_messages_in(self, guild_id: int, channel_id: int | None) -> bool:
        """Whether deletes and edits in this channel are left out (ignored, or a log channel)."""
        if channel_id is None:
            return False
        ignored = self.get_setting("ignored_channels", [], guild_id)
        return channel_id in ignored or channel_id in (await self.log_channels(guild_id)).values()

    def ignores_author(self, guild_id: int, author: discord.abc.User | None) -> bool:
        return (
            author is not None
            and author.bot
            and bool(self.get_setting("ignore_bots", True, guild_id))
        )

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        embed.add_field(name="Queued entries", value=str(self.sender.pending()))
        embed.add_field(name="Log messages sent", value=str(self.sender.sent_messages))
        if self.sender.dropped:
            embed.add_field(name="Dropped (queue full)", value=str(self.sender.dropped))
