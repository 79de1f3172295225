"""Constants of the automod cog: rule kinds and their parameters, actions, limits, jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from fish_bot.core.permissions import RankRequirement
from fish_bot.database.models.cases import CaseType

# --- actions -------------------------------------------------------------------------------

#: What a rule (or an escalation threshold) does, and the case type it records.
ACTION_CASES: Final[dict[str, CaseType]] = {
    "delete": CaseType.DELETE,
    "warn": CaseType.WARN,
    "timeout": CaseType.TIMEOUT,
    "kick": CaseType.KICK,
    "ban": CaseType.BAN,
}
#: Most severe first: when several rules fire on one message, the most severe acts.
SEVERITY: Final[dict[str, int]] = {"delete": 0, "warn": 1, "timeout": 2, "kick": 3, "ban": 4}
#: What an escalation threshold may do (a warn escalating to a warn would loop).
ESCALATION_ACTIONS: Final = ("timeout", "kick", "ban")

# --- rule kinds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of a rule kind."""

    name: str
    help: str
    #: int, percent, list (words, domains...), pattern (repeatable), or a choice.
    type: str = "int"
    default: object = None
    choices: tuple[str, ...] = ()
    minimum: int = 1
    maximum: int = 1000


@dataclass(frozen=True)
class Kind:
    """A rule kind: what it detects and its parameters."""

    name: str
    help: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    #: Whether it needs several messages (``automod test`` cannot show it firing).
    stateful: bool = False


_MODE = ("block", "allow")

KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind(
            "spam",
            "N messages in T seconds by one member",
            (
                Param("count", "messages", default=5, minimum=2, maximum=50),
                Param("seconds", "seconds", default=5, maximum=600),
            ),
            stateful=True,
        ),
        Kind(
            "duplicates",
            "the same message N times in T seconds by one member",
            (
                Param("count", "repeats", default=3, minimum=2, maximum=50),
                Param("seconds", "seconds", default=30, maximum=3600),
            ),
            stateful=True,
        ),
        Kind(
            "mentions",
            "N or more distinct user or role mentions in one message",
            (Param("count", "mentions", default=5, maximum=100),),
        ),
        Kind(
            "invites",
            "invite links to other servers (this server's own invites pass)",
            (Param("allow", "invite codes or server ids that pass", type="list", default=()),),
        ),
        Kind(
            "links",
            "links to domains on a block-list, or off an allow-list",
            (
                Param("mode", "block or allow", type="choice", default="block", choices=_MODE),
                Param("domains", "domains (subdomains included)", type="list", default=()),
            ),
        ),
        Kind(
            "words",
            "banned words (whole words, any case) and patterns (a safe regex subset)",
            (
                Param("words", "banned words", type="list", default=()),
                Param("pattern", "a pattern (repeat the key for more)", type="pattern", default=()),
            ),
        ),
        Kind(
            "caps",
            "mostly capital letters",
            (
                Param("percent", "share of capitals", type="percent", default=70, maximum=100),
                Param("min_length", "letters before it counts", default=10, maximum=2000),
            ),
        ),
        Kind(
            "zalgo",
            "stacked combining marks (zalgo text)",
            (Param("marks", "combining marks on one character", default=4, maximum=100),),
        ),
        Kind(
            "emoji",
            "N or more emoji in one message",
            (Param("count", "emoji", default=10, maximum=200),),
        ),
        Kind(
            "attachments",
            "attachments by type (extension like exe, or MIME prefix like image/)",
            (
                Param("mode", "block or allow", type="choice", default="block", choices=_MODE),
                Param("types", "extensions or MIME prefixes", type="list", default=()),
            ),
        ),
    )
}

#: Keys every rule accepts besides its kind's parameters.
COMMON_KEYS: Final = ("duration", "silent", "exempt_roles", "exempt_channels", "exempt_rank")

# --- limits --------------------------------------------------------------------------------

#: Rules per guild.
MAX_RULES: Final = 50
#: Escalation thresholds per guild.
MAX_THRESHOLDS: Final = 10
#: Items in one list parameter (words, domains, types, patterns).
MAX_LIST_ITEMS: Final = 200
#: Longest word, domain or type.
MAX_ITEM_LENGTH: Final = 100
#: Longest pattern, and how many patterns one rule may hold.
MAX_PATTERN_LENGTH: Final = 200
MAX_PATTERNS: Final = 20
#: Characters of a message that the patterns look at (Discord allows at most 4000).
MAX_SCANNED: Final = 4000
#: Time all pattern matching of one message may take, in seconds.
MATCH_BUDGET: Final = 0.05
#: Characters of the offending excerpt quoted in the case reason.
EXCERPT_LENGTH: Final = 120
#: Longest automod timeout (Discord's limit).
MAX_TIMEOUT_SECONDS: Final = 28 * 86400

# --- jobs ----------------------------------------------------------------------------------

#: Restores one channel's @everyone overwrite when a timed lockdown ends.
UNLOCK_JOB: Final = "automod.unlock"
#: Puts the server's verification level back when an automatic raid gate ends.
RAID_END_JOB: Final = "automod.raid_end"

#: Default permission ranks of the commands.
#: The rank each command group needs, and the Discord permission that decides instead on a
#: server with no ranks configured.
DEFAULT_RANKS: Final[dict[str, RankRequirement]] = {
    "automod": RankRequirement(5, "manage_guild"),
    "lockdown": RankRequirement(3, "manage_channels"),
}

#: What the raid mode does: only alert, raise the verification level, or lock every channel.
RAID_ACTIONS: Final = ("alert", "verification", "lockdown")

COLOUR_AUTOMOD: Final = 0xE67E22
COLOUR_RAID: Final = 0xC0392B
