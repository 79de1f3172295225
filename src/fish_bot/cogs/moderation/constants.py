"""Constants of the moderation cog: ranks, job types, limits, and how each action looks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal

import discord

from fish_bot.core.permissions import RankRequirement
from fish_bot.database.models.cases import CaseType

# --- permission ranks --------------------------------------------------------------------

#: What each moderation command needs by default: a permission rank (a guild can change it per
#: command), and the Discord permission that decides on a server without ranks (it also hides
#: the slash command from members without it). The permission is the one the action itself
#: needs on Discord where there is one; warn, note, and the poll and snippet bans restrict a
#: member, so they need Timeout Members (``moderate_members``), as do the `cases` commands.
DEFAULT_RANKS: Final[dict[str, RankRequirement]] = {
    "note": RankRequirement(2, "moderate_members"),
    "warn": RankRequirement(2, "moderate_members"),
    "timeout": RankRequirement(2, "moderate_members"),
    "untimeout": RankRequirement(2, "moderate_members"),
    "purge": RankRequirement(2, "manage_messages"),
    "slowmode": RankRequirement(2, "manage_channels"),
    "pollban": RankRequirement(2, "moderate_members"),
    "pollunban": RankRequirement(2, "moderate_members"),
    "snippetban": RankRequirement(2, "moderate_members"),
    "snippetunban": RankRequirement(2, "moderate_members"),
    "jail": RankRequirement(3, "manage_roles"),
    "unjail": RankRequirement(3, "manage_roles"),
    "kick": RankRequirement(3, "kick_members"),
    "ban": RankRequirement(4, "ban_members"),
    "tempban": RankRequirement(4, "ban_members"),
    "unban": RankRequirement(4, "ban_members"),
    "cases": RankRequirement(2, "moderate_members"),
    "cases modify": RankRequirement(4, "moderate_members"),
}

#: What the ranks 0..10 are usually called (guilds map their own roles onto these numbers).
RANK_NAMES: Final[tuple[str, ...]] = (
    "Member",
    "Trusted",
    "Helper",
    "Junior Moderator",
    "Moderator",
    "Senior Moderator",
    "Administrator",
    "Head Administrator",
    "Co-owner",
    "Owner",
    "Server Owner",
)

# --- scheduled jobs ------------------------------------------------------------------------

UNBAN_JOB: Final = "moderation.unban"
UNJAIL_JOB: Final = "moderation.unjail"
POLLUNBAN_JOB: Final = "moderation.pollunban"
SNIPPETUNBAN_JOB: Final = "moderation.snippetunban"
#: Discord lifts a timeout by itself; this job only marks the case expired on time.
UNTIMEOUT_JOB: Final = "moderation.untimeout"

#: The job that ends a timed case of each type.
EXPIRY_JOBS: Final[dict[CaseType, str]] = {
    CaseType.TEMPBAN: UNBAN_JOB,
    CaseType.JAIL: UNJAIL_JOB,
    CaseType.POLLBAN: POLLUNBAN_JOB,
    CaseType.SNIPPETBAN: SNIPPETUNBAN_JOB,
    CaseType.TIMEOUT: UNTIMEOUT_JOB,
}

# --- the record before the action ---------------------------------------------------------

#: The refusal when the case cannot be recorded: nothing happens on Discord then.
DATABASE_DOWN: Final = "⛔ The database is unavailable; nothing was done."
#: ``Case.extra`` key: the case types a pending case closes once it is confirmed.
CLOSES_KEY: Final = "closes"
#: ``Case.extra`` key: why a case was voided (Discord refused, or not done before a crash).
VOID_REASON_KEY: Final = "void_reason"
#: Why start-up voids a pending case whose action is not visible on Discord.
RECONCILED_VOID_REASON: Final = (
    "Not done on Discord: the bot stopped between recording the case and acting "
    "(voided at start-up)."
)
#: The mod-log footer of a pending case that start-up found done on Discord.
RECONCILED_ACTIVE_NOTE: Final = "Confirmed at start-up: the action is in force on Discord."

# --- limits --------------------------------------------------------------------------------

#: Discord's longest timeout.
MAX_TIMEOUT: Final = timedelta(days=28)
#: Longest reason kept (an embed field holds 1024 characters).
MAX_REASON_LENGTH: Final = 1000
#: Discord keeps at most 512 characters of an audit-log reason.
AUDIT_REASON_LENGTH: Final = 512
#: Most messages one purge deletes, and how far back it looks for one member's messages.
PURGE_MAX: Final = 500
PURGE_SCAN_LIMIT: Final = 1000
#: Discord's longest slow mode: six hours.
SLOWMODE_MAX_SECONDS: Final = 21600
#: Days of messages a ban may delete (Discord allows up to 7).
MAX_PURGE_DAYS: Final = 7
#: Words in a reason that mean "do not DM the member".
SILENT_FLAGS: Final = frozenset({"--silent", "-s", "—silent"})
#: How long the short notices of prefix commands stay (purge result, removed poll).
NOTICE_SECONDS: Final = 10.0

# --- how actions look ----------------------------------------------------------------------

PermissionName = str

#: When the member is told: before a removal (they cannot be reached after), after, or never.
DmWhen = Literal["before", "after", "never"]


@dataclass(frozen=True)
class ActionSpec:
    """Everything the shared action flow needs to know about one kind of action."""

    case_type: CaseType
    #: The command word, used in refusals: "You can't {verb} yourself."
    verb: str
    #: What the reply says was done; ``{user}`` is the target: "Banned {user}".
    done: str
    emoji: str
    #: The case type's name in embeds.
    label: str
    colour: discord.Colour
    #: The Discord permission the moderator needs, and the one the bot needs (None: none).
    user_permission: PermissionName | None = None
    bot_permission: PermissionName | None = None
    #: When the member is told (never when the moderator adds --silent).
    dm: DmWhen = "never"
    #: The DM's first line; ``{guild}`` is the server's name.
    dm_text: str = ""
    #: Whether the target must be a member of the server.
    needs_member: bool = True


ACTIONS: Final[dict[CaseType, ActionSpec]] = {
    spec.case_type: spec
    for spec in (
        ActionSpec(
            CaseType.BAN,
            verb="ban",
            done="Banned {user}",
            emoji="🔨",
            label="Ban",
            colour=discord.Colour.dark_red(),
            user_permission="ban_members",
            bot_permission="ban_members",
            dm="before",
            dm_text="🔨 You were banned from **{guild}**.",
            needs_member=False,
        ),
        ActionSpec(
            CaseType.TEMPBAN,
            verb="tempban",
            done="Temporarily banned {user}",
            emoji="⏳",
            label="Temporary ban",
            colour=discord.Colour.red(),
            user_permission="ban_members",
            bot_permission="ban_members",
            dm="before",
            dm_text="⏳ You were temporarily banned from **{guild}**.",
            needs_member=False,
        ),
        ActionSpec(
            CaseType.UNBAN,
            verb="unban",
            done="Unbanned {user}",
            emoji="🔓",
            label="Unban",
            colour=discord.Colour.green(),
            user_permission="ban_members",
            bot_permission="ban_members",
            needs_member=False,
        ),
        ActionSpec(
            CaseType.KICK,
            verb="kick",
            done="Kicked {user}",
            emoji="👢",
            label="Kick",
            colour=discord.Colour.orange(),
            user_permission="kick_members",
            bot_permission="kick_members",
            dm="before",
            dm_text="👢 You were kicked from **{guild}**.",
        ),
        ActionSpec(
            CaseType.WARN,
            verb="warn",
            done="Warned {user}",
            emoji="⚠️",
            label="Warning",
            colour=discord.Colour.gold(),
            dm="after",
            dm_text="⚠️ You received a warning in **{guild}**.",
        ),
        ActionSpec(
            CaseType.TIMEOUT,
            verb="time out",
            done="Timed out {user}",
            emoji="🔇",
            label="Timeout",
            colour=discord.Colour.dark_orange(),
            user_permission="moderate_members",
            bot_permission="moderate_members",
            dm="after",
            dm_text="🔇 You were timed out in **{guild}**.",
        ),
        ActionSpec(
            CaseType.UNTIMEOUT,
            verb="remove the timeout of",
            done="Removed the timeout of {user}",
            emoji="🔊",
            label="Timeout removed",
            colour=discord.Colour.green(),
            user_permission="moderate_members",
            bot_permission="moderate_members",
            dm="after",
            dm_text="🔊 Your timeout in **{guild}** was removed.",
        ),
        ActionSpec(
            CaseType.JAIL,
            verb="jail",
            done="Jailed {user}",
            emoji="🔒",
            label="Jail",
            colour=discord.Colour.dark_grey(),
            user_permission="manage_roles",
            bot_permission="manage_roles",
            dm="after",
            dm_text="🔒 You were jailed in **{guild}**.",
        ),
        ActionSpec(
            CaseType.UNJAIL,
            verb="unjail",
            done="Released {user} from jail",
            emoji="🔑",
            label="Unjail",
            colour=discord.Colour.green(),
            user_permission="manage_roles",
            bot_permission="manage_roles",
            dm="after",
            dm_text="🔑 You were released from jail in **{guild}**.",
        ),
        ActionSpec(
            CaseType.POLLBAN,
            verb="poll-ban",
            done="Banned {user} from posting polls",
            emoji="📊",
            label="Poll ban",
            colour=discord.Colour.purple(),
            bot_permission="manage_messages",
            dm="after",
            dm_text="📊 You may no longer post polls in **{guild}**.",
            needs_member=False,
        ),
        ActionSpec(
            CaseType.POLLUNBAN,
            verb="poll-unban",
            done="Allowed {user} to post polls again",
            emoji="📊",
            label="Poll ban lifted",
            colour=discord.Colour.green(),
            dm="after",
            dm_text="📊 You may post polls in **{guild}** again.",
            needs_member=False,
        ),
        ActionSpec(
            CaseType.SNIPPETBAN,
            verb="snippet-ban",
            done="Banned {user} from snippets",
            emoji="✂️",
            label="Snippet ban",
            colour=discord.Colour.purple(),
            dm="after",
            dm_text="✂️ You may no longer use snippets in **{guild}**.",
            needs_member=False,
        ),
        ActionSpec(
            CaseType.SNIPPETUNBAN,
            verb="snippet-unban",
            done="Allowed {user} to use snippets again",
            emoji="✂️",
            label="Snippet ban lifted",
            colour=discord.Colour.green(),
            dm="after",
            dm_text="✂️ You may use snippets in **{guild}** again.",
            needs_member=False,
        ),
        ActionSpec(
            CaseType.NOTE,
            verb="add a note about",
            done="Added a note to the record of {user}",
            emoji="📝",
            label="Note",
            colour=discord.Colour.light_grey(),
            needs_member=False,
        ),
        ActionSpec(
            CaseType.DELETE,
            verb="delete a message of",
            done="Deleted a message of {user}",
            emoji="🗑️",
            label="Message deleted",
            colour=discord.Colour.light_grey(),
            dm="after",
            dm_text="🗑️ A message of yours was removed in **{guild}**.",
            needs_member=False,
        ),
    )
}

#: Colour of expiry notices and of the purge/slowmode log lines.
EXPIRED_COLOUR: Final = discord.Colour.teal()
INFO_COLOUR: Final = discord.Colour.blurple()
