"""Event listeners of the automod cog: messages checked against the rules, warning
escalation after every warn, and the raid mode on joins.

An ordinary message costs no database I/O: the guild's compiled rules come from memory after
the first message (:attr:`Automod.compiled`), the spam windows are in memory, and the member's
rank is read (from the cached rank store) only when a rule with a rank exemption fired.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.automod.actions import act, enforce, threshold_text
from fish_bot.cogs.automod.constants import ESCALATION_ACTIONS, RAID_END_JOB
from fish_bot.cogs.automod.rules import Hit, MessageFacts, invite_codes
from fish_bot.core.database_outage import is_database_outage
from fish_bot.core.decorators import cog_listener
from fish_bot.database.models.cases import CaseType

if TYPE_CHECKING:
    from fish_bot.cogs.automod.lockdown import Lockdowns
    from fish_bot.cogs.automod.rules import CompiledGuild, SlidingWindows
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.guild_cache import GuildCache
    from fish_bot.database.controllers.automod import AutomodController
    from fish_bot.database.models.cases import Case
    from fish_bot.database.models.scheduler import ScheduledJob

    _MixinBase = BaseCog
else:
    _MixinBase = object


def message_facts(message: discord.Message, member: discord.Member) -> MessageFacts:
    """What the rules look at, read from the message in memory."""
    channel: Any = message.channel
    channel_ids = {channel.id}
    parent_id = getattr(channel, "parent_id", None)
    if parent_id:
        channel_ids.add(parent_id)
    category_id = getattr(channel, "category_id", None)
    if category_id:
        channel_ids.add(category_id)
    content = message.content
    mentions = 0
    if "<@" in content:
        mentions = len(set(message.raw_mentions)) + len(set(message.raw_role_mentions))
    if message.mention_everyone:
        mentions += 1
    return MessageFacts(
        guild_id=member.guild.id,
        author_id=member.id,
        channel_ids=frozenset(channel_ids),
        role_ids=frozenset(role.id for role in member.roles),
        content=content,
        mentions=mentions,
        attachments=tuple((a.filename, a.content_type or "") for a in message.attachments),
        now=discord.utils.utcnow().timestamp(),
    )


def never_checked(member: discord.Member) -> bool:
    """Bots, the server owner and Administrators are not checked by automod."""
    return (
        member.bot or member.id == member.guild.owner_id or member.guild_permissions.administrator
    )


class AutomodListenersMixin(_MixinBase):
    """Messages against the rules, escalation on warns, the raid mode on joins."""

    if TYPE_CHECKING:  # provided by the Automod class
        compiled: GuildCache[CompiledGuild]
        windows: SlidingWindows
        joins: SlidingWindows
        raid_until: dict[int, float]
        invite_guilds: dict[str, int | None]
        lockdowns: Lockdowns

        @property
        def automod_db(self) -> AutomodController: ...

        async def post_notice(self, guild: discord.Guild, title: str, text: str) -> None: ...

    # --- messages -------------------------------------------------------------------------

    def _may_break_rules(self, message: discord.Message) -> bool:
        """False when the message's server is known to have no rule (no need to look)."""
        if message.guild is None:
            return False
        compiled = self.compiled.peek(message.guild.id)
        return compiled is None or compiled.has_rules

    @cog_listener("on_message", when=_may_break_rules)
    async def check_message(self, message: discord.Message) -> None:
        """Check a member's message against the guild's rules; the most severe hit acts."""
        guild = message.guild
        member = message.author
        if guild is None or not isinstance(member, discord.Member) or member.bot:
            return
        compiled = self.compiled.peek(guild.id)
        if compiled is None:
            compiled = await self._load_rules(guild.id)
            if compiled is None:
                return
        if not compiled.has_rules or never_checked(member):  # the rules first: cheaper
            return
        for hit in compiled.hits(message_facts(message, member), self.windows):
            if await self._exempt_by_rank(member, hit) or await self._own_invite(guild, hit):
                continue
            await enforce(self, message, member, hit)
            return

    async def _load_rules(self, guild_id: int) -> CompiledGuild | None:
        """The guild's rules, read once; None while the database is down (not checked then)."""
        try:
            return await self.compiled.get(guild_id)
        except Exception as error:
            if not is_database_outage(error):
                raise
            self.logger.warning(
                "Automod rules of guild %s could not be read (database down): %s", guild_id, error
            )
            return None

    async def _exempt_by_rank(self, member: discord.Member, hit: Hit) -> bool:
        rank = hit.rule.exempt_rank
        if rank is None:
            return False
        return await self.bot.permissions.member_rank(member) >= rank

    async def _own_invite(self, guild: discord.Guild, hit: Hit) -> bool:
        """An invites hit whose invites all lead to this server passes."""
        if hit.rule.kind != "invites":
            return False
        allowed = {str(item).lower() for item in hit.rule.params.get("allow", ())}
        for code in invite_codes(hit.excerpt):
            if code.lower() in allowed:
                continue
            target = await self._invite_guild(guild, code)
            if target is None or (target != guild.id and str(target) not in allowed):
                return False
        return True

    async def _invite_guild(self, guild: discord.Guild, code: str) -> int | None:
        """The server an invite leads to (None: unknown), resolved once per code.

        Discord names the invite's server; when it does not, the server's own invite list
        (read only then) tells whether the invite is this server's.
        """
        if code in self.invite_guilds:
            return self.invite_guilds[code]
        found: int | None = None
        try:
            bot: Any = self.bot  # a commands.Bot (FishHost states only what core/ needs)
            invite = await bot.fetch_invite(code, with_counts=False)
            if invite.guild is not None:
                found = invite.guild.id
            elif code in {own.code for own in await guild.invites()}:
                found = guild.id
        except discord.HTTPException as error:
            self.logger.info("Invite %s could not be resolved: %s", code, error)
        if len(self.invite_guilds) > 10_000:
            self.invite_guilds.clear()
        self.invite_guilds[code] = found
        return found

    # --- warning escalation ---------------------------------------------------------------

    @cog_listener("on_fish_case_recorded")
    async def escalate(self, case: Case) -> None:
        """After any warn (a command's or automod's): apply the threshold it reaches."""
        if case.case_type != CaseType.WARN.value:
            return
        guild = self.bot.get_guild(case.guild_id)
        if guild is None:
            return
        compiled = await self._load_rules(guild.id)
        if compiled is None or not compiled.thresholds:
            return
        member = guild.get_member(case.user_id)
        if member is None or never_checked(member):
            return
        now = discord.utils.utcnow()
        counts: dict[int, int] = {}
        # The highest threshold reached exactly by this warn acts.
        for threshold in sorted(compiled.thresholds, key=lambda t: t.warn_count, reverse=True):
            window = threshold.window_seconds
            if window not in counts:
                since = now - timedelta(seconds=window)
                counts[window] = await self.automod_db.count_warns(guild.id, member.id, since)
            if counts[window] != threshold.warn_count or threshold.action not in ESCALATION_ACTIONS:
                continue
            text = threshold_text(
                threshold.warn_count,
                window,
                threshold.action,
                threshold.duration_seconds,
            )
            await act(
                self,
                member,
                threshold.action,
                f"Escalation: {text} (reached with case #{case.case_number})",
                duration_seconds=threshold.duration_seconds,
                extra={"escalation": {"warn_case": case.case_number, "threshold": text}},
            )
            return

    # --- raid mode ------------------------------------------------------------------------

    @cog_listener("on_member_join")
    async def watch_joins(self, member: discord.Member) -> None:
        """More than ``raid_joins`` joins in ``raid_seconds``: the raid mode's action."""
        guild = member.guild
        limit = int(self.get_setting("raid_joins", 0, guild.id) or 0)
        if limit <= 0:
            return
        seconds = int(self.get_setting("raid_seconds", 10, guild.id))
        now = discord.utils.utcnow().timestamp()
        if self.joins.add(guild.id, now, seconds, limit + 1) <= limit:
            return
        if self.raid_until.get(guild.id, 0.0) > now:
            return  # already handled; the gate or lockdown is on
        duration = int(self.get_setting("raid_duration", 600, guild.id))
        self.raid_until[guild.id] = now + duration
        await self.raid_detected(guild, limit, seconds, duration)

    async def raid_detected(
        self, guild: discord.Guild, limit: int, seconds: int, duration: int
    ) -> None:
        from fish_bot.core.durations import format_duration

        action = str(self.get_setting("raid_action", "alert", guild.id))
        ends_at = discord.utils.utcnow() + timedelta(seconds=duration)
        done = "Only this alert (raid_action is alert)."
        if action == "verification":
            previous = guild.verification_level
            if previous.value < discord.VerificationLevel.high.value:
                try:
                    await guild.edit(
                        verification_level=discord.VerificationLevel.high,
                        reason="Automod raid mode",
                    )
                    await self.bot.scheduler.schedule(
                        RAID_END_JOB,
                        ends_at,
                        {"verification_level": previous.value},
                        guild_id=guild.id,
                    )
                    done = (
                        f"Verification level raised to High for {format_duration(duration)} "
                        f"(was {previous.name})."
                    )
                except discord.HTTPException as error:
                    done = f"Could not raise the verification level: {error.text or error.status}."
            else:
                done = "The verification level is already High or above."
        elif action == "lockdown":
            locked = 0
            for channel in guild.text_channels:
                try:
                    if await self.lockdowns.lock(
                        channel, guild.me.id, "Automod raid mode", ends_at
                    ):
                        locked += 1
                except discord.HTTPException:
                    continue
            done = f"Locked {locked} channel(s) for {format_duration(duration)}."
        await self.post_notice(
            guild,
            "🚨 Raid detected",
            f"More than {limit} members joined within {format_duration(seconds)}. {done}",
        )

    async def raid_end_job(self, job: ScheduledJob) -> None:
        """The raid gate ends: put the verification level back (idempotent)."""
        if job.guild_id is None:
            return
        guild = self.bot.get_guild(int(job.guild_id))
        if guild is None:
            raise RuntimeError(f"guild {job.guild_id} is not available")
        level = discord.VerificationLevel(int((job.payload or {})["verification_level"]))
        if guild.verification_level != level:
            await guild.edit(verification_level=level, reason="Automod raid mode ended")
        self.raid_until.pop(guild.id, None)
        await self.post_notice(
            guild, "✅ Raid gate ended", f"The verification level is {level.name} again."
        )
