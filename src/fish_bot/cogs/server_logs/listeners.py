"""The events the server logs listen to; each builds its entry and hands it to ``emit``.

Bans, unbans and timeouts made by someone other than the bot come from the guild's audit log
(``on_audit_log_entry_create``, which names the moderator and the reason). When the bot may not
read the audit log, Discord sends no such entries: the ban and unban events and the member's
timeout are logged instead, with the moderator unknown, unless the bot made them itself (its
moderation records a case first, which is looked up).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.server_logs import embeds
from fish_bot.core.decorators import cog_listener
from fish_bot.database.models.cases import Case, CaseType

if TYPE_CHECKING:
    from fish_bot.cogs.server_logs.sender import LogEntry
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object

#: A case of the bot's own this recent explains a ban, unban or timeout event.
_OWN_ACTION_WINDOW = timedelta(minutes=2)


def _reads_audit_log(guild: discord.Guild) -> bool:
    return guild.me is not None and guild.me.guild_permissions.view_audit_log


class ListenersMixin(_MixinBase):
    """Listeners of the server logs."""

    if TYPE_CHECKING:  # provided by the Logging class

        async def emit(self, guild_id: int, event: str, entries: list[LogEntry]) -> None: ...
        async def ignores_messages_in(self, guild_id: int, channel_id: int | None) -> bool: ...
        def ignores_author(self, guild_id: int, author: discord.abc.User | None) -> bool: ...

    # --- messages -------------------------------------------------------------------------

    @cog_listener("on_raw_message_delete")
    async def log_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        guild_id = payload.guild_id
        if guild_id is None or await self.ignores_messages_in(guild_id, payload.channel_id):
            return
        message = payload.cached_message
        if message is not None and self.ignores_author(guild_id, message.author):
            return
        channel = self.bot.get_channel(payload.channel_id)
        entries = embeds.message_deleted(message, channel, payload.channel_id, payload.message_id)
        await self.emit(guild_id, "message_delete", entries)

    @cog_listener("on_raw_bulk_message_delete")
    async def log_bulk_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        guild_id = payload.guild_id
        if guild_id is None or await self.ignores_messages_in(guild_id, payload.channel_id):
            return
        cached = [m for m in payload.cached_messages if not self.ignores_author(guild_id, m.author)]
        channel = self.bot.get_channel(payload.channel_id)
        entries = embeds.bulk_deleted(channel, payload.channel_id, payload.message_ids, cached)
        await self.emit(guild_id, "message_bulk_delete", entries)

    @cog_listener("on_raw_message_edit")
    async def log_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        guild_id = payload.guild_id
        after = payload.message
        if guild_id is None or after.edited_at is None:  # an embed unfurled, not an edit
            return
        before = payload.cached_message
        if before is not None and before.content == after.content:
            return
        if self.ignores_author(guild_id, after.author):
            return
        if await self.ignores_messages_in(guild_id, payload.channel_id):
            return
        await self.emit(guild_id, "message_edit", embeds.message_edited(before, after))

    # --- members --------------------------------------------------------------------------

    @cog_listener("on_member_join")
    async def log_member_join(self, member: discord.Member) -> None:
        if self.ignores_author(member.guild.id, member):
            return
        days = self.get_setting("new_account_days", 7, member.guild.id)
        await self.emit(member.guild.id, "member_join", embeds.member_joined(member, days))

    @cog_listener("on_member_remove")
    async def log_member_leave(self, member: discord.Member) -> None:
        if self.ignores_author(member.guild.id, member):
            return
        await self.emit(member.guild.id, "member_leave", embeds.member_left(member))

    @cog_listener("on_member_update")
    async def log_member_update(self, before: discord.Member, after: discord.Member) -> None:
        guild = after.guild
        if before.nick != after.nick:
            await self.emit(guild.id, "member_nickname", embeds.nickname_changed(before, after))
        if set(before.roles) != set(after.roles):
            await self.emit(guild.id, "member_roles", embeds.roles_changed(before, after))
        if before.timed_out_until != after.timed_out_until and not _reads_audit_log(guild):
            kinds = (CaseType.TIMEOUT, CaseType.UNTIMEOUT)
            if not await self._bot_did_it(guild.id, after.id, kinds):
                until = after.timed_out_until
                what = "timed out" if until is not None else "no longer timed out"
                entries = embeds.moderation_done(what, after, after.id, None, None, None, until)
                await self.emit(guild.id, "member_timeout", entries)

    # --- moderation by hand ---------------------------------------------------------------

    @cog_listener("on_audit_log_entry_create")
    async def log_audit_entry(self, entry: discord.AuditLogEntry) -> None:
        me = self.bot.user
        if me is not None and entry.user_id == me.id:
            return  # the bot's own action: its case and mod-log post say it
        target_id = getattr(entry.target, "id", None)
        if not isinstance(target_id, int):
            return
        user = self.bot.get_user(target_id)
        moderator = entry.user
        reason = entry.reason
        guild_id = entry.guild.id
        if entry.action is discord.AuditLogAction.ban:
            done = embeds.moderation_done(
                "banned", user, target_id, moderator, entry.user_id, reason
            )
            await self.emit(guild_id, "member_ban", done)
        elif entry.action is discord.AuditLogAction.unban:
            done = embeds.moderation_done(
                "unbanned", user, target_id, moderator, entry.user_id, reason
            )
            await self.emit(guild_id, "member_unban", done)
        elif entry.action is discord.AuditLogAction.member_update:
            before = getattr(entry.changes.before, "timed_out_until", None)
            after = getattr(entry.changes.after, "timed_out_until", None)
            if before == after:
                return
            what = "timed out" if after is not None else "no longer timed out"
            done = embeds.moderation_done(
                what, user, target_id, moderator, entry.user_id, reason, after
            )
            await self.emit(guild_id, "member_timeout", done)

    @cog_listener("on_member_ban")
    async def log_ban_without_audit_log(self, guild: discord.Guild, user: discord.abc.User) -> None:
        if _reads_audit_log(guild):
            return  # logged from the audit log entry, with the moderator
        if await self._bot_did_it(guild.id, user.id, (CaseType.BAN, CaseType.TEMPBAN)):
            return
        done = embeds.moderation_done("banned", user, user.id, None, None, None)
        await self.emit(guild.id, "member_ban", done)

    @cog_listener("on_member_unban")
    async def log_unban_without_audit_log(self, guild: discord.Guild, user: discord.User) -> None:
        if _reads_audit_log(guild):
            return
        if await self._bot_did_it(guild.id, user.id, (CaseType.UNBAN,)):
            return
        done = embeds.moderation_done("unbanned", user, user.id, None, None, None)
        await self.emit(guild.id, "member_unban", done)

    async def _bot_did_it(self, guild_id: int, user_id: int, kinds: tuple[CaseType, ...]) -> bool:
        """Whether the bot recorded a case of these kinds for the user a moment ago."""
        since = discord.utils.utcnow() - _OWN_ACTION_WINDOW
        table: Any = Case.__table__  # type: ignore[attr-defined]
        return await self.db.case.exists(
            [
                table.c.guild_id == guild_id,
                table.c.user_id == user_id,
                table.c.case_type.in_([kind.value for kind in kinds]),
                table.c.created_at >= since,
            ]
        )

    # --- the server -----------------------------------------------------------------------

    @cog_listener("on_guild_channel_create")
    async def log_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        await self.emit(
            channel.guild.id, "channel_create", embeds.channel_event("created", channel)
        )

    @cog_listener("on_guild_channel_delete")
    async def log_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.emit(
            channel.guild.id, "channel_delete", embeds.channel_event("deleted", channel)
        )

    @cog_listener("on_guild_channel_update")
    async def log_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        changes = embeds.channel_changes(before, after)
        if changes:
            entries = embeds.channel_event("changed", after, changes)
            await self.emit(after.guild.id, "channel_update", entries)

    @cog_listener("on_guild_role_create")
    async def log_role_create(self, role: discord.Role) -> None:
        await self.emit(role.guild.id, "role_create", embeds.role_event("created", role))

    @cog_listener("on_guild_role_delete")
    async def log_role_delete(self, role: discord.Role) -> None:
        await self.emit(role.guild.id, "role_delete", embeds.role_event("deleted", role))

    @cog_listener("on_guild_role_update")
    async def log_role_update(self, before: discord.Role, after: discord.Role) -> None:
        changes = embeds.role_changes(before, after)
        if changes:
            await self.emit(
                after.guild.id, "role_update", embeds.role_event("changed", after, changes)
            )
