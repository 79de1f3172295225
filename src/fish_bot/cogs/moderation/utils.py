"""The shared moderation action flow, embeds and helpers (one place for every command).

Every action command runs the same steps::

    target = await self.prepare_action(ctx, user, ACTIONS[CaseType.BAN], reason)   # 1. checks
    await self.execute_action(ctx, target, action=lambda: guild.ban(...))           # 2.-5.

1. :meth:`ModerationUtilsMixin.prepare_action`: not yourself, not the bot, not the server owner;
   the moderator's Discord permission; the moderator's top role above the target's (the server
   owner stands above everyone); the bot's top role above the target's; the bot's Discord
   permission; a reason when the server requires one. A failed check raises
   :class:`ModerationError` naming the check, before anything changed.
2. :meth:`ModerationUtilsMixin.execute_action` records first (DESIGN rule 12): the case, as
   ``pending``, and its expiry job commit in one transaction before anything happens on
   Discord. When the database is unavailable the moderator is told
   :data:`~fish_bot.cogs.moderation.constants.DATABASE_DOWN` and nothing is done. Actions that
   exist only in the record (warn, note, poll and snippet bans) commit ``active`` at once.
3. It DMs the member before a removal (ban, tempban, kick) unless ``--silent``; a closed DM is
   noted in the reply, not an error.
4. It performs the Discord action. When it succeeds, the case becomes ``active``, closing the
   cases it lifts and cancelling their expiry jobs in one transaction. When Discord refuses,
   the case is ``voided`` with Discord's reason and its expiry job cancelled. A crash between
   the steps leaves a pending case that :meth:`ModerationUtilsMixin.reconcile_pending_cases`
   settles at start-up against the guild's bans, timeouts and members.
5. It DMs the member after the other actions (warn, timeout, jail...) unless ``--silent``,
   posts the case embed to the mod-log channel and stores the message id on the case.

All user-provided text goes out with ``AllowedMentions.none()``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands
from sqlalchemy.exc import DBAPIError

from fish_bot.cogs.moderation.constants import (
    ACTIONS,
    AUDIT_REASON_LENGTH,
    CLOSES_KEY,
    DATABASE_DOWN,
    EXPIRED_COLOUR,
    EXPIRY_JOBS,
    MAX_REASON_LENGTH,
    RECONCILED_ACTIVE_NOTE,
    RECONCILED_VOID_REASON,
    SILENT_FLAGS,
    VOID_REASON_KEY,
    ActionSpec,
)
from fish_bot.core.durations import format_duration, parse_duration_or_datetime
from fish_bot.core.errors import new_error_id
from fish_bot.core.guild_cache import GuildCache
from fish_bot.core.permissions import bypasses_permissions
from fish_bot.database.models.cases import Case, CaseStatus, CaseType
from fish_bot.exceptions import DatabaseUnavailable, UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.database.coordinator import DatabaseCoordinator

    _MixinBase = BaseCog
else:
    _MixinBase = object

log = logging.getLogger(__name__)

#: Replies, DMs and mod-log posts never ping anyone.
NO_PINGS = discord.AllowedMentions.none()

_SILENT = re.compile(
    r"(?<!\S)(?:" + "|".join(re.escape(flag) for flag in sorted(SILENT_FLAGS)) + r")(?!\S)",
    re.IGNORECASE,
)


class ModerationError(UserFacingError):
    """A moderation check refused an action, or Discord did: the message says which."""


#: PostgreSQL error codes that mean "no database right now": connection exceptions (class 08),
#: an administrator or crash shutdown, "cannot connect now", too many connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def database_down(error: BaseException) -> bool:
    """Whether an error means the database cannot be reached right now."""
    if isinstance(error, DatabaseUnavailable):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error.orig, (OSError, ConnectionError)):
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def discord_refusal(spec: ActionSpec, mention: str, error: discord.HTTPException) -> str:
    """What Discord said when it refused an action, as one sentence (no final stop)."""
    if isinstance(error, discord.Forbidden):
        detail = error.text or "missing permissions"
        return f"Discord refused to let me {spec.verb} {mention}: {detail}"
    if isinstance(error, discord.NotFound):
        return f"Discord could not {spec.verb} {mention}: {error.text or 'not found'}"
    return f"Discord failed to {spec.verb} {mention} (HTTP {error.status}: {error.text or 'error'})"


# --- parsing ---------------------------------------------------------------------------------


def split_reason(text: str | None) -> tuple[str | None, bool]:
    """The reason without its ``--silent`` / ``-s`` flag, and whether the flag was there."""
    if not text:
        return None, False
    silent = _SILENT.search(text) is not None
    cleaned = re.sub(r"[ \t]{2,}", " ", _SILENT.sub("", text)).strip()
    if len(cleaned) > MAX_REASON_LENGTH:
        raise ModerationError(
            f"❌ The reason is too long ({len(cleaned)} characters; at most {MAX_REASON_LENGTH})."
        )
    return cleaned or None, silent


class FutureTime(commands.Converter[datetime]):
    """A duration (``30m``, ``2h``, ``7d``, ``1w2d``) or a UTC date-time, as a future moment."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> datetime:
        try:
            return parse_duration_or_datetime(argument, discord.utils.utcnow())
        except ValueError as error:
            raise commands.BadArgument(str(error)) from None


def permission_label(name: str) -> str:
    """``ban_members`` -> ``Ban Members``."""
    return name.replace("_", " ").title().replace("Guild", "Server")


def audit_reason(moderator: discord.abc.User, reason: str | None) -> str:
    """The reason shown in the server's audit log."""
    return f"{moderator} ({moderator.id}): {reason or 'no reason given'}"[:AUDIT_REASON_LENGTH]


def timestamp(moment: datetime, style: str = "f") -> str:
    """A Discord timestamp that every reader sees in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def until_text(moment: datetime) -> str:
    """``until <date> (in 2h)``."""
    seconds = max(0, round((moment - discord.utils.utcnow()).total_seconds()))
    return f"until {timestamp(moment)} ({format_duration(seconds)})"


def clip(text: str, limit: int = 1024) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user_label(user: discord.abc.User | None, user_id: int) -> str:
    """``<@id> (`name`, `id`)``: readable even when the user is not cached."""
    if user is None:
        return f"<@{user_id}> (`{user_id}`)"
    name = discord.utils.escape_markdown(str(user))
    return f"<@{user_id}> ({name}, `{user_id}`)"


# --- embeds ----------------------------------------------------------------------------------


def spec_of(case: Case) -> ActionSpec:
    return ACTIONS[CaseType(case.case_type)]


def case_embed(
    case: Case, *, user: discord.abc.User | None = None, note: str | None = None
) -> discord.Embed:
    """The embed of a case (posted to the mod log; reusable by the `cases` commands)."""
    spec = spec_of(case)
    embed = discord.Embed(
        title=f"{spec.emoji} Case #{case.case_number} · {spec.label}",
        colour=spec.colour,
        timestamp=case.created_at,
    )
    embed.add_field(name="User", value=user_label(user, case.user_id), inline=True)
    embed.add_field(name="Moderator", value=f"<@{case.moderator_id}>", inline=True)
    if case.expires_at is not None:
        embed.add_field(
            name="Expires",
            value=f"{timestamp(case.expires_at)} ({timestamp(case.expires_at, 'R')})",
            inline=True,
        )
    if case.status != CaseStatus.ACTIVE.value:
        embed.add_field(name="Status", value=str(case.status).capitalize(), inline=True)
    embed.add_field(name="Reason", value=clip(case.reason or "No reason given."), inline=False)
    void_reason = (case.extra or {}).get(VOID_REASON_KEY)
    if case.status == CaseStatus.VOIDED.value and void_reason:
        embed.add_field(name="Voided", value=clip(str(void_reason)), inline=False)
    if note:
        embed.set_footer(text=note)
    return embed


def expiry_embed(case: Case, detail: str) -> discord.Embed:
    """The mod-log post when a timed case ends on time."""
    spec = spec_of(case)
    embed = discord.Embed(
        title=f"⌛ Case #{case.case_number} · {spec.label} expired",
        colour=EXPIRED_COLOUR,
        timestamp=discord.utils.utcnow(),
    )
    embed.add_field(name="User", value=user_label(None, case.user_id), inline=True)
    embed.add_field(name="Moderator", value=f"<@{case.moderator_id}>", inline=True)
    embed.add_field(name="Result", value=detail, inline=False)
    return embed


# --- the poll-ban cache ----------------------------------------------------------------------


class RestrictionCache:
    """The users under one restriction (e.g. POLLBAN), per guild, read once per guild.

    A :class:`~fish_bot.core.guild_cache.GuildCache`: :meth:`contains` does no I/O once a guild
    is loaded. Writers call :meth:`add` and :meth:`discard` after their transaction committed;
    a load running at that moment does not keep what it read, so the change is never lost.
    """

    def __init__(self, db: DatabaseCoordinator, case_type: CaseType) -> None:
        self.db = db
        self.case_type = case_type
        self._cache: GuildCache[set[int]] = GuildCache(
            self._load, name=f"{case_type.value.lower()} users"
        )

    async def _load(self, guild_id: int) -> set[int]:
        return await self.db.case.restricted_users(guild_id, self.case_type)

    def is_loaded(self, guild_id: int) -> bool:
        return self._cache.is_loaded(guild_id)

    async def users(self, guild_id: int) -> set[int]:
        """The restricted users of a guild (loaded from the database on first use)."""
        return await self._cache.get(guild_id)

    async def contains(self, guild_id: int, user_id: int) -> bool:
        return user_id in await self.users(guild_id)

    async def add(self, guild_id: int, user_id: int) -> None:
        self._cache.mutate(guild_id, lambda users: users.add(user_id))

    async def discard(self, guild_id: int, user_id: int) -> None:
        self._cache.mutate(guild_id, lambda users: users.discard(user_id))

    def invalidate(self, guild_id: int | None = None) -> None:
        """Forget a guild (or every guild): read again on next use (after a case is voided)."""
        self._cache.invalidate(guild_id)


# --- the action flow -------------------------------------------------------------------------


@dataclass
class ActionTarget:
    """A target that passed the checks, with the parsed reason."""

    spec: ActionSpec
    user: discord.abc.User
    member: discord.Member | None
    reason: str | None
    silent: bool

    @property
    def mention(self) -> str:
        return f"<@{self.user.id}>"


@dataclass
class ActionResult:
    """What :meth:`ModerationUtilsMixin.execute_action` did."""

    case: Case | None
    #: True: delivered; False: their DMs are closed; None: not attempted.
    dm_sent: bool | None
    mod_log_message: discord.Message | None


Action = Callable[[], Awaitable[Any]]


class ModerationUtilsMixin(_MixinBase):
    """The shared action flow (checks → pending case → DM → Discord action → active or voided
    case → mod log)."""

    # --- small helpers --------------------------------------------------------------------

    async def _bot_owner_bypass(self, user: discord.abc.User) -> bool:
        """Bot owners pass the moderator checks (permission rule 1), unless switched off."""
        return await bypasses_permissions(self.bot, user)

    @staticmethod
    def _guild_of(ctx: commands.Context[Any]) -> discord.Guild:
        if ctx.guild is None:  # guild_only() runs first; this keeps type checkers honest
            raise commands.NoPrivateMessage()
        return ctx.guild

    async def reply(self, ctx: commands.Context[Any], text: str, **kwargs: Any) -> None:  # type: ignore[override]
        """Answer the moderator; never pings (reasons may hold mentions)."""
        kwargs.setdefault("allowed_mentions", NO_PINGS)
        await ctx.send(clip(text, 2000), **kwargs)

    async def require_reason(self, guild_id: int, reason: str | None, spec: ActionSpec) -> None:
        """Refuse an action without a reason when the server requires one."""
        if reason:
            return
        config = await self.db.guild_config.get_config(guild_id)
        if config is not None and config.reason_required:
            raise ModerationError(
                f"⛔ This server requires a reason for every moderation action; "
                f"add one after the member, e.g. `{spec.case_type.value.lower()} @member spamming`."
            )

    def check_bot_permission(self, guild: discord.Guild, permission: str, what: str) -> None:
        """Refuse when the bot lacks a server-wide Discord permission."""
        if not getattr(guild.me.guild_permissions, permission):
            raise ModerationError(
                f"⛔ I need the **{permission_label(permission)}** permission to {what}."
            )

    async def check_user_permission(
        self, ctx: commands.Context[Any], permission: str, what: str
    ) -> None:
        """Refuse when the moderator lacks a server-wide Discord permission."""
        author = ctx.author
        if not isinstance(author, discord.Member) or await self._bot_owner_bypass(author):
            return
        if not getattr(author.guild_permissions, permission):
            raise ModerationError(
                f"⛔ You need the **{permission_label(permission)}** permission to {what}."
            )

    # --- step 1: checks -------------------------------------------------------------------

    async def prepare_action(
        self,
        ctx: commands.Context[Any],
        user: discord.abc.User,
        spec: ActionSpec,
        reason_text: str | None,
        *,
        reason_required: bool = False,
        flags: bool = True,
    ) -> ActionTarget:
        """Run the checks of an action; raises :class:`ModerationError` naming the failed one.

        ``flags=False`` keeps the text as it is (a note may well contain ``-s``).
        """
        guild = self._guild_of(ctx)
        author = ctx.author
        verb = spec.verb
        if flags:
            reason, silent = split_reason(reason_text)
        else:
            reason, silent = (reason_text or "").strip() or None, False
            if reason is not None and len(reason) > MAX_REASON_LENGTH:
                raise ModerationError(
                    f"❌ The text is too long ({len(reason)} characters; at most "
                    f"{MAX_REASON_LENGTH})."
                )
        member = user if isinstance(user, discord.Member) else guild.get_member(user.id)
        if member is not None and member.guild.id != guild.id:
            member = guild.get_member(user.id)
        mention = f"<@{user.id}>"

        if user.id == author.id:
            raise ModerationError(f"⛔ You can't {verb} yourself.")
        if self.bot.user is not None and user.id == self.bot.user.id:
            raise ModerationError(f"⛔ I can't {verb} myself.")
        if user.id == guild.owner_id:
            raise ModerationError(f"⛔ You can't {verb} the server owner.")
        if spec.needs_member and member is None:
            raise ModerationError(f"⛔ {mention} is not a member of this server.")
        if spec.user_permission:
            await self.check_user_permission(ctx, spec.user_permission, f"{verb} members")
        if member is not None:
            if (
                isinstance(author, discord.Member)
                and author.id != guild.owner_id
                and not await self._bot_owner_bypass(author)
                and author.top_role <= member.top_role
            ):
                raise ModerationError(
                    f"⛔ Your top role ({author.top_role.name}) must be above the top role of "
                    f"{mention} ({member.top_role.name}) to {verb} them."
                )
            me = guild.me
            if me.top_role <= member.top_role:
                raise ModerationError(
                    f"⛔ My top role ({me.top_role.name}) must be above the top role of "
                    f"{mention} ({member.top_role.name}) to {verb} them; move my role higher "
                    "in Server Settings → Roles."
                )
        if spec.bot_permission:
            self.check_bot_permission(guild, spec.bot_permission, f"{verb} members")
        if reason_required and not reason:
            raise ModerationError(
                f"❌ Give a reason: `{spec.case_type.value.lower()} @member <reason>`."
            )
        with self.database_required():
            await self.require_reason(guild.id, reason, spec)
        return ActionTarget(spec=spec, user=user, member=member, reason=reason, silent=silent)

    # --- steps 2-5 ------------------------------------------------------------------------

    async def notify_member(
        self,
        guild: discord.Guild,
        target: ActionTarget,
        *,
        expires_at: datetime | None = None,
    ) -> bool:
        """DM the member about an action; False when their DMs are closed."""
        lines = [target.spec.dm_text.format(guild=discord.utils.escape_markdown(guild.name))]
        if expires_at is not None:
            lines.append(f"**Until:** {timestamp(expires_at)} ({timestamp(expires_at, 'R')})")
        lines.append(f"**Reason:** {target.reason or 'No reason given.'}")
        recipient = target.member
        if recipient is None:
            return False
        try:
            await recipient.send(clip("\n".join(lines), 2000), allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            self.logger.info(
                "Could not DM %s about a %s: %s", target.user.id, target.spec.verb, error
            )
            return False
        return True

    def _should_dm(self, target: ActionTarget, when: str) -> bool:
        if target.silent or target.spec.dm != when or target.member is None:
            return False
        guild_id = target.member.guild.id
        return bool(self.get_setting("dm_members", True, guild_id))

    async def execute_action(
        self,
        ctx: commands.Context[Any],
        target: ActionTarget,
        *,
        action: Action | None,
        expires_at: datetime | None = None,
        extra: dict[str, Any] | None = None,
        close_types: Iterable[CaseType] = (),
        on_commit: Callable[[Case], Awaitable[None]] | None = None,
        details: str = "",
    ) -> ActionResult:
        """Record, DM, perform ``action``, confirm the case, post it to the mod log, answer.

        The case is committed before anything happens on Discord (DESIGN rule 12): with an
        ``action``, as ``pending`` together with its expiry job; it becomes ``active`` once
        Discord did the action (closing the cases it lifts, ``close_types``, and cancelling
        their expiry jobs in that transaction), or ``voided`` with the reason when Discord
        refused. Without an action (warn, note, poll and snippet bans) the record is the
        action: it is committed ``active`` at once. No database, no action.
        """
        guild = self._guild_of(ctx)
        spec = target.spec
        user = target.user
        if ctx.interaction is not None and not ctx.interaction.response.is_done():
            await ctx.defer()
        done = spec.done.format(user=target.mention)

        # 1. The record first: nothing happens on Discord unless it is committed.
        with self.database_required():
            if action is None:
                case = await self.record_case(
                    guild.id,
                    user.id,
                    ctx.author.id,
                    spec.case_type,
                    reason=target.reason,
                    expires_at=expires_at,
                    extra=extra,
                    close_types=close_types,
                )
            else:
                case = await self.record_pending(
                    guild.id,
                    user.id,
                    ctx.author.id,
                    spec.case_type,
                    reason=target.reason,
                    expires_at=expires_at,
                    extra=extra,
                    close_types=close_types,
                )

        # 2. DM before a removal (the member cannot be reached afterwards).
        dm_sent: bool | None = None
        if self._should_dm(target, "before"):
            dm_sent = await self.notify_member(guild, target, expires_at=expires_at)

        # 3. The Discord action; a refusal voids the pending case.
        pending_error: str | None = None
        if action is not None:
            try:
                await action()
            except discord.HTTPException as error:
                refusal = discord_refusal(spec, target.mention, error)
                voided = await self._void_after_refusal(case, refusal)
                outcome = (
                    f"Nothing was done (case #{case.case_number} is voided)."
                    if voided
                    else "Nothing was done."
                )
                raise ModerationError(f"❌ {refusal}. {outcome}") from None
            # 4. Confirm: the case becomes active and closes what it lifts.
            try:
                await self.activate_case(case, close_types)
            except Exception as error:
                pending_error = self.report_failure(
                    error, f"confirming {spec.case_type.value} case #{case.case_number}"
                )
        if on_commit is not None and case.status == CaseStatus.ACTIVE.value:
            await on_commit(case)

        # 5. DM after the other actions.
        if self._should_dm(target, "after"):
            dm_sent = await self.notify_member(guild, target, expires_at=expires_at)

        # 6. The mod log.
        note = None
        if target.silent:
            note = "Silent: the member was not told."
        elif dm_sent is False:
            note = "The member's DMs are closed: they were not told."
        elif dm_sent:
            note = "The member was told by DM."
        message = await self.log_case(guild, case, user=user, note=note)

        # The answer.
        text = f"{spec.emoji} {done} (Case #{case.case_number})"
        if details:
            text += f" {details}"
        text += "."
        if target.reason:
            text += f"\n**Reason:** {target.reason}"
        if target.silent:
            text += "\n🤫 Silent: no DM was sent."
        elif dm_sent is False:
            text += "\n📭 Their DMs are closed; they were not told."
        if pending_error is not None:
            text += (
                f"\n⚠️ The database failed right after the action (error id `{pending_error}`): "
                "the case stays pending and is confirmed against Discord at the next start-up."
            )
        await self.reply(ctx, text)
        return ActionResult(case=case, dm_sent=dm_sent, mod_log_message=message)

    @contextlib.contextmanager
    def database_required(self) -> Iterator[None]:
        """Turn a database outage inside the block into the refusal :data:`DATABASE_DOWN`.

        Used where nothing has happened on Discord yet: the moderator is told that nothing
        was done, and the action is not attempted.
        """
        try:
            yield
        except Exception as error:
            if not database_down(error):
                raise
            self.logger.warning("Moderation action refused, the database is unavailable: %s", error)
            raise ModerationError(DATABASE_DOWN) from None

    async def record_case(
        self,
        guild_id: int,
        user_id: int,
        moderator_id: int,
        case_type: CaseType,
        *,
        reason: str | None = None,
        expires_at: datetime | None = None,
        extra: dict[str, Any] | None = None,
        close_types: Iterable[CaseType] = (),
    ) -> Case:
        """Insert an active case, close what it lifts, cancel their jobs, schedule its expiry.

        For actions that happen only in the record (warn, note, poll and snippet bans).
        """
        async with self.db.transaction():
            await self._close_lifted(guild_id, user_id, close_types)
            case = await self.db.case.insert_case(
                guild_id=guild_id,
                case_user_id=user_id,
                case_moderator_id=moderator_id,
                case_type=case_type,
                case_reason=reason,
                case_expires_at=expires_at,
                case_extra=extra,
            )
            await self._schedule_expiry(case)
        return case

    async def record_pending(
        self,
        guild_id: int,
        user_id: int,
        moderator_id: int,
        case_type: CaseType,
        *,
        reason: str | None = None,
        expires_at: datetime | None = None,
        extra: dict[str, Any] | None = None,
        close_types: Iterable[CaseType] = (),
    ) -> Case:
        """Commit a ``pending`` case and its expiry job, before the Discord action.

        The case types it closes once confirmed are kept on it (``extra["closes"]``), so a
        start-up reconciliation can finish the job after a crash.
        """
        data = dict(extra or {})
        closes = [CaseType(kind).value for kind in close_types]
        if closes:
            data[CLOSES_KEY] = closes
        async with self.db.transaction():
            case = await self.db.case.insert_case(
                guild_id=guild_id,
                case_user_id=user_id,
                case_moderator_id=moderator_id,
                case_type=case_type,
                case_reason=reason,
                case_expires_at=expires_at,
                case_status=CaseStatus.PENDING,
                case_extra=data,
            )
            await self._schedule_expiry(case)
        return case

    async def activate_case(
        self, case: Case, close_types: Iterable[CaseType] | None = None
    ) -> bool:
        """A pending case whose action Discord did becomes active; it closes what it lifts.

        ``close_types`` defaults to the types stored on the case. False when the case was no
        longer pending (resolved meanwhile).
        """
        assert case.id is not None
        if close_types is None:
            close_types = [CaseType(kind) for kind in (case.extra or {}).get(CLOSES_KEY, [])]
        async with self.db.transaction():
            changed = await self.db.case.resolve_pending(case.id, CaseStatus.ACTIVE)
            if changed:
                await self._close_lifted(case.guild_id, case.user_id, close_types, keep=case.id)
        if changed:
            case.status = CaseStatus.ACTIVE.value
        return changed

    async def void_pending(self, case: Case, reason: str) -> bool:
        """A pending case whose action did not happen: voided with ``reason``, its job cancelled.

        False when the case was no longer pending.
        """
        assert case.id is not None
        extra = {**(case.extra or {}), VOID_REASON_KEY: reason[:MAX_REASON_LENGTH]}
        async with self.db.transaction():
            changed = await self.db.case.resolve_pending(case.id, CaseStatus.VOIDED, extra=extra)
            if changed:
                await self._cancel_expiry(case.guild_id, case.user_id, case.case_type, [case])
        if changed:
            case.status = CaseStatus.VOIDED.value
            case.extra = extra
        return changed

    async def _void_after_refusal(self, case: Case, refusal: str) -> bool:
        try:
            return await self.void_pending(case, f"{refusal}.")
        except Exception as error:
            # Still pending: the start-up reconciliation finds no action and voids it.
            self.report_failure(error, f"voiding case #{case.case_number}")
            return False

    async def _schedule_expiry(self, case: Case) -> None:
        job_type = EXPIRY_JOBS.get(CaseType(case.case_type))
        if case.expires_at is not None and job_type is not None:
            await self.bot.scheduler.schedule(
                job_type,
                case.expires_at,
                {"user_id": case.user_id, "case_number": case.case_number},
                guild_id=case.guild_id,
            )

    async def _close_lifted(
        self,
        guild_id: int,
        user_id: int,
        close_types: Iterable[CaseType],
        *,
        keep: int | None = None,
    ) -> None:
        """Close the user's active cases of these types (lifted) and cancel their expiry jobs.

        ``keep``: the id of the case doing the closing (a tempban closes older tempbans).
        """
        close = [CaseType(kind) for kind in close_types]
        if not close:
            return
        found = await self.db.case.get_cases_by_options(
            guild_id, {"user_id": user_id, "case_type": close, "status": CaseStatus.ACTIVE}
        )
        closing = [c for c in found if c.id is not None and c.id != keep]
        if not closing:
            return
        await self.db.case.close_cases([c.id for c in closing if c.id is not None])
        for kind in close:
            await self._cancel_expiry(
                guild_id, user_id, kind, [c for c in closing if c.case_type == kind.value]
            )

    async def _cancel_expiry(
        self, guild_id: int, user_id: int, case_type: CaseType | str, cases: Iterable[Case]
    ) -> None:
        """Cancel the pending expiry jobs of these cases (by case number)."""
        job_type = EXPIRY_JOBS.get(CaseType(case_type))
        if job_type is None:
            return
        for case in cases:
            await self.bot.scheduler.cancel_where(
                job_type, guild_id, {"user_id": user_id, "case_number": case.case_number}
            )

    async def lift_cases(self, guild_id: int, user_id: int, case_types: Iterable[CaseType]) -> int:
        """Close active cases (lifted) and cancel their expiry jobs, without a new case."""
        types = list(case_types)
        async with self.db.transaction():
            closed = await self.db.case.close_active(guild_id, user_id, types, CaseStatus.LIFTED)
            for case_type in types:
                job_type = EXPIRY_JOBS.get(case_type)
                if job_type is not None:
                    await self.bot.scheduler.cancel_where(job_type, guild_id, {"user_id": user_id})
        return closed

    # --- pending cases after a crash --------------------------------------------------------

    async def action_visible(self, guild: discord.Guild, case: Case) -> bool:
        """Whether a pending case's action is visible on Discord (the guild's bans, timeouts,
        members and the jail role). Raises :class:`discord.HTTPException` when Discord cannot
        tell (the case stays pending)."""
        kind = CaseType(case.case_type)
        if kind in (CaseType.BAN, CaseType.TEMPBAN, CaseType.UNBAN):
            try:
                await guild.fetch_ban(discord.Object(case.user_id))
                banned = True
            except discord.NotFound:
                banned = False
            return banned if kind is not CaseType.UNBAN else not banned
        if kind not in (
            CaseType.KICK,
            CaseType.TIMEOUT,
            CaseType.UNTIMEOUT,
            CaseType.JAIL,
            CaseType.UNJAIL,
        ):
            return True  # no Discord action: the record is the action
        member = guild.get_member(case.user_id)
        if member is None:
            try:
                member = await guild.fetch_member(case.user_id)
            except discord.NotFound:
                member = None
        if kind is CaseType.KICK:
            return member is None
        if kind is CaseType.TIMEOUT:
            return member is not None and member.is_timed_out()
        if kind is CaseType.UNTIMEOUT:
            return member is None or not member.is_timed_out()
        role_id = await self.db.guild_config.get_jail_role_id(guild.id)
        jailed = member is not None and any(role.id == role_id for role in member.roles)
        return jailed if kind is CaseType.JAIL else not jailed

    async def reconcile_case(self, guild: discord.Guild, case: Case) -> CaseStatus:
        """Settle one pending case against Discord: active if its action is visible, voided
        otherwise. Returns the case's status afterwards."""
        if case.status != CaseStatus.PENDING.value:
            return CaseStatus(case.status)
        if await self.action_visible(guild, case):
            if await self.activate_case(case):
                await self.log_case(guild, case, note=RECONCILED_ACTIVE_NOTE)
        else:
            await self.void_pending(case, RECONCILED_VOID_REASON)
        fresh = await self.db.case.get_case_by_number(guild.id, case.case_number)
        if fresh is not None:
            case.status = fresh.status
        return CaseStatus(case.status)

    async def reconcile_pending_cases(self) -> dict[str, int]:
        """Settle the pending cases of every guild the bot is in (run at start-up)."""
        counts = {"active": 0, "voided": 0, "unresolved": 0}
        guilds = {guild.id: guild for guild in self.bot.guilds}
        if not guilds:
            return counts
        for case in await self.db.case.pending_cases(guilds):
            try:
                status = await self.reconcile_case(guilds[case.guild_id], case)
            except discord.HTTPException as error:
                self.logger.warning(
                    "Pending case #%s of guild %s stays pending (Discord: %s)",
                    case.case_number,
                    case.guild_id,
                    error,
                )
                counts["unresolved"] += 1
                continue
            key = status.value if status.value in counts else "unresolved"
            counts[key] += 1
        if any(counts.values()):
            self.logger.info(
                "Pending cases reconciled: %(active)d active, %(voided)d voided, "
                "%(unresolved)d unresolved",
                counts,
            )
        return counts

    def report_failure(self, error: BaseException, what: str) -> str:
        """Log an unexpected error loudly with an id (shown to the moderator) and note it."""
        error_id = new_error_id()
        self.logger.error("Error %s while %s", error_id, what, exc_info=error)
        self.record_error(error)
        self.bot.dispatch("fishbot_error", error_id, error)
        return error_id

    # --- the mod log ----------------------------------------------------------------------

    async def post_mod_log(
        self, guild: discord.Guild, embed: discord.Embed
    ) -> discord.Message | None:
        """Post an embed to the guild's mod-log channel (None when none is set or it failed)."""
        try:
            channel_id = await self.db.guild_config.get_log_channel(guild.id, "mod")
        except Exception:
            self.logger.exception("Could not read the mod-log channel of guild %s", guild.id)
            return None
        if not channel_id:
            return None
        channel = guild.get_channel_or_thread(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            self.logger.warning("Mod-log channel %s of guild %s is gone", channel_id, guild.id)
            return None
        try:
            return await channel.send(embed=embed, allowed_mentions=NO_PINGS)
        except discord.HTTPException as error:
            self.logger.warning("Could not post to the mod log of guild %s: %s", guild.id, error)
            return None

    async def log_case(
        self,
        guild: discord.Guild,
        case: Case,
        *,
        user: discord.abc.User | None = None,
        note: str | None = None,
    ) -> discord.Message | None:
        """Post a case to the mod log and remember the message on the case."""
        message = await self.post_mod_log(guild, case_embed(case, user=user, note=note))
        if message is not None and case.id is not None:
            try:
                await self.db.case.update_by_id(case.id, mod_log_message_id=message.id)
                case.mod_log_message_id = message.id
            except Exception:
                self.logger.exception("Could not store the mod-log message of case %s", case.id)
        return message

    # --- jail roles -----------------------------------------------------------------------

    async def jail_role(self, guild: discord.Guild) -> discord.Role:
        """The server's jail role, or a ModerationError saying what to fix."""
        role_id = await self.db.guild_config.get_jail_role_id(guild.id)
        role = guild.get_role(role_id) if role_id else None
        if role is None:
            raise ModerationError(
                "⛔ This server has no jail role (or it was deleted); an administrator sets one "
                "with `config jail role`."
            )
        if not role.is_assignable():
            raise ModerationError(
                f"⛔ I can't give the jail role ({role.name}): it must be below my top role and "
                "not managed by an integration."
            )
        return role

    @staticmethod
    def restored_roles(
        member: discord.Member, jail: discord.Role | None, stored: Iterable[int]
    ) -> list[discord.Role]:
        """The member's roles after leaving jail: current ones without the jail role, plus the
        stored ones that still exist and that the bot can give."""
        guild = member.guild
        roles = [r for r in member.roles if not r.is_default() and (jail is None or r != jail)]
        for role_id in stored:
            role = guild.get_role(int(role_id))
            if role is not None and role.is_assignable() and role not in roles:
                roles.append(role)
        return roles


def expires_in_text(expires_at: datetime | None) -> str:
    """`until <date> (2h)` or `permanently`."""
    return until_text(expires_at) if expires_at is not None else "permanently"
