"""Compiled automod rules: what each rule kind checks in a message, without any I/O.

A guild's stored rules are compiled once into a :class:`CompiledGuild` (kept in a
:class:`~fish_bot.core.guild_cache.GuildCache` by the cog and dropped after every committed
change). Checking a message is then pure CPU on data in memory: set lookups for the
exemptions, precompiled regular expressions, and in-memory sliding windows for the kinds that
need several messages (:class:`SlidingWindows`: spam, duplicates; the raid mode's joins).
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from fish_bot.cogs.automod.constants import EXCERPT_LENGTH, KINDS, MAX_SCANNED, SEVERITY
from fish_bot.cogs.automod.safe_regex import PatternSet
from fish_bot.core.text import clip
from fish_bot.database.models.automod import AutomodRule, WarnThreshold

_INVITE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:discord(?:app)?\.com/invite|discord\.gg|discord\.me)/"
    r"([A-Za-z0-9-]{2,32})",
    re.IGNORECASE,
)
_URL = re.compile(r"(?:https?://|www\.)([^\s/<>?#]+)", re.IGNORECASE)
_CUSTOM_EMOJI = re.compile(r"<a?:\w{2,32}:\d{15,21}>")
_UNICODE_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6ff"
    "\U0001f900-\U0001f9ff\U0001fa70-\U0001faff\u2600-\u27bf\u2b50\u2b55\u2934\u2935]"
)


@dataclass(frozen=True)
class MessageFacts:
    """What the rules look at in a message (built once per message, from memory)."""

    guild_id: int
    author_id: int
    channel_ids: frozenset[int]  # the channel, its parent (thread) and its category
    role_ids: frozenset[int]
    content: str
    mentions: int
    attachments: tuple[tuple[str, str], ...] = ()  # (file name, content type)
    now: float = 0.0


@dataclass(frozen=True)
class Hit:
    """A rule that fired, with what it found (quoted in the case reason)."""

    rule: CompiledRule
    detail: str
    excerpt: str

    @property
    def severity(self) -> int:
        return SEVERITY[self.rule.action]


class SlidingWindows:
    """Timestamps per key within a window (in-memory; bounded per key and in keys)."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._events: dict[Hashable, deque[float]] = {}
        self.max_keys = max_keys

    def add(self, key: Hashable, now: float, seconds: float, limit: int) -> int:
        """Record an event; how many ``key`` had in the last ``seconds`` (at most ``limit``)."""
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self.prune(now, seconds)
            events = self._events[key] = deque(maxlen=limit)
        events.append(now)
        while events and events[0] <= now - seconds:
            events.popleft()
        return len(events)

    def clear(self, key: Hashable) -> None:
        self._events.pop(key, None)

    def prune(self, now: float, seconds: float) -> None:
        """Forget keys with no event in the last ``seconds`` (or every key when all are live)."""
        stale = [
            key for key, events in self._events.items() if not events or events[-1] <= now - seconds
        ]
        for key in stale:
            del self._events[key]
        if len(self._events) >= self.max_keys:
            self._events.clear()

    def __len__(self) -> int:
        return len(self._events)


def excerpt_of(text: str) -> str:
    return clip(" ".join(text.split()), EXCERPT_LENGTH)


def _host_matches(host: str, domains: frozenset[str]) -> bool:
    host = host.lower().rstrip(".").split(":")[0]
    while host:
        if host in domains:
            return True
        _, _, host = host.partition(".")
    return False


Check = Callable[[MessageFacts, "SlidingWindows"], tuple[str, str] | None]


@dataclass
class CompiledRule:
    """A stored rule, ready to check messages."""

    id: int
    name: str
    kind: str
    action: str
    duration_seconds: int | None
    silent: bool
    enabled: bool
    exempt_roles: frozenset[int]
    exempt_channels: frozenset[int]
    exempt_rank: int | None
    params: dict[str, Any]
    check: Check = field(repr=False)
    patterns: PatternSet | None = field(default=None, repr=False)

    def exempt_here(self, facts: MessageFacts) -> bool:
        """Exempt by channel or role (the rank exemption needs the rank store)."""
        return bool(self.exempt_channels & facts.channel_ids or self.exempt_roles & facts.role_ids)

    def describe(self) -> str:
        """``timeout 1h``-style action text."""
        from fish_bot.core.durations import format_duration

        if self.action == "timeout" and self.duration_seconds:
            return f"timeout {format_duration(self.duration_seconds)}"
        return self.action


# --- the checks of each kind ----------------------------------------------------------------


def _spam(rule: dict[str, Any], rule_id: int) -> Check:
    count, seconds = int(rule["count"]), int(rule["seconds"])

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        key = ("spam", rule_id, facts.guild_id, facts.author_id)
        if windows.add(key, facts.now, seconds, count) >= count:
            windows.clear(key)
            return f"{count} messages in {seconds}s", excerpt_of(facts.content)
        return None

    return check


def _duplicates(rule: dict[str, Any], rule_id: int) -> Check:
    count, seconds = int(rule["count"]), int(rule["seconds"])

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        normal = " ".join(facts.content.casefold().split())
        if not normal:
            return None
        key = ("dup", rule_id, facts.guild_id, facts.author_id, hash(normal))
        if windows.add(key, facts.now, seconds, count) >= count:
            windows.clear(key)
            return f"the same message {count} times in {seconds}s", excerpt_of(facts.content)
        return None

    return check


def _mentions(rule: dict[str, Any], rule_id: int) -> Check:
    count = int(rule["count"])

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        if facts.mentions >= count:
            return f"{facts.mentions} mentions (limit {count - 1})", excerpt_of(facts.content)
        return None

    return check


def _invites(rule: dict[str, Any], rule_id: int) -> Check:
    allowed = frozenset(str(item).lower() for item in rule.get("allow", ()))

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        if "/" not in facts.content:
            return None
        for found in _INVITE.finditer(facts.content):
            code = found.group(1)
            if code.lower() not in allowed:
                return f"an invite link ({code})", found.group(0)
        return None

    return check


def invite_codes(text: str) -> list[str]:
    """The invite codes in a text."""
    return [found.group(1) for found in _INVITE.finditer(text)]


def _links(rule: dict[str, Any], rule_id: int) -> Check:
    block = rule.get("mode", "block") == "block"
    domains = frozenset(str(item).lower().lstrip(".") for item in rule.get("domains", ()))

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        content = facts.content
        if "http" not in content.lower() and "www." not in content.lower():
            return None
        for found in _URL.finditer(content):
            host = found.group(1)
            listed = _host_matches(host, domains)
            if listed == block:
                why = "a blocked domain" if block else "a domain not on the allow-list"
                return f"a link to {why} ({host.lower()})", found.group(0)
        return None

    return check


def _words(rule: dict[str, Any], rule_id: int) -> tuple[Check, PatternSet]:
    words = [str(word) for word in rule.get("words", ()) if str(word)]
    if words:
        import regex  # 8 MB of Unicode tables: loaded by the first guild with such a rule
    word_re = (
        regex.compile(
            r"(?<!\w)(?:"
            + "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))
            + r")(?!\w)",
            regex.IGNORECASE,
        )
        if words
        else None
    )
    patterns = PatternSet([str(p) for p in rule.get("pattern", ())])

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        text = facts.content[:MAX_SCANNED]
        if not text:
            return None
        if word_re is not None:
            found = word_re.search(text)
            if found is not None:
                return "a banned word", found.group(0)
        if patterns:
            hit = patterns.search(text)
            if hit is not None:
                return f"the banned pattern `{hit.pattern}`", hit.matched
        return None

    return check, patterns


def _caps(rule: dict[str, Any], rule_id: int) -> Check:
    percent, min_length = int(rule["percent"]), int(rule["min_length"])

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        content = facts.content
        if len(content) < min_length:
            return None
        letters = [ch for ch in content if ch.isalpha()]
        if len(letters) < min_length:
            return None
        upper = sum(1 for ch in letters if ch.isupper())
        share = upper * 100 // len(letters)
        if share >= percent:
            return f"{share}% capital letters", excerpt_of(content)
        return None

    return check


def _zalgo(rule: dict[str, Any], rule_id: int) -> Check:
    marks = int(rule["marks"])

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        content = facts.content
        if content.isascii():
            return None
        run = 0
        for ch in content:
            if unicodedata.combining(ch):
                run += 1
                if run >= marks:
                    return f"{marks}+ stacked combining marks", excerpt_of(content)
            else:
                run = 0
        return None

    return check


def _emoji(rule: dict[str, Any], rule_id: int) -> Check:
    count = int(rule["count"])

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        content = facts.content
        found = len(_CUSTOM_EMOJI.findall(content)) if "<" in content else 0
        if not content.isascii():
            found += len(_UNICODE_EMOJI.findall(content))
        if found >= count:
            return f"{found} emoji (limit {count - 1})", excerpt_of(content)
        return None

    return check


def _attachments(rule: dict[str, Any], rule_id: int) -> Check:
    block = rule.get("mode", "block") == "block"
    types = tuple(str(item).lower().lstrip(".") for item in rule.get("types", ()))
    mimes = tuple(t for t in types if "/" in t)
    extensions = frozenset(t for t in types if "/" not in t)

    def listed(name: str, content_type: str) -> bool:
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        return extension in extensions or any(content_type.lower().startswith(m) for m in mimes)

    def check(facts: MessageFacts, windows: SlidingWindows) -> tuple[str, str] | None:
        for name, content_type in facts.attachments:
            if listed(name, content_type) == block:
                why = "a blocked file type" if block else "a file type not on the allow-list"
                return f"an attachment of {why}", name
        return None

    return check


_BUILDERS: dict[str, Callable[[dict[str, Any], int], Any]] = {
    "spam": _spam,
    "duplicates": _duplicates,
    "mentions": _mentions,
    "invites": _invites,
    "links": _links,
    "words": _words,
    "caps": _caps,
    "zalgo": _zalgo,
    "emoji": _emoji,
    "attachments": _attachments,
}
assert set(_BUILDERS) == set(KINDS)


def compile_rule(rule: AutomodRule) -> CompiledRule:
    """Compile one stored rule (its parameters were validated when it was added)."""
    params = dict(rule.params or {})
    built = _BUILDERS[rule.kind](params, int(rule.id or 0))
    check, patterns = built if isinstance(built, tuple) else (built, None)
    exemptions = rule.exemptions or {}
    rank = exemptions.get("rank")
    return CompiledRule(
        id=int(rule.id or 0),
        name=rule.name,
        kind=rule.kind,
        action=rule.action,
        duration_seconds=rule.duration_seconds,
        silent=rule.silent,
        enabled=rule.enabled,
        exempt_roles=frozenset(int(r) for r in exemptions.get("roles", ())),
        exempt_channels=frozenset(int(c) for c in exemptions.get("channels", ())),
        exempt_rank=int(rank) if rank is not None else None,
        params=params,
        check=check,
        patterns=patterns,
    )


@dataclass
class CompiledGuild:
    """A guild's compiled rules (enabled ones in ``active``) and escalation thresholds."""

    guild_id: int
    rules: list[CompiledRule]
    thresholds: list[WarnThreshold]

    def __post_init__(self) -> None:
        self._active = [rule for rule in self.rules if rule.enabled]

    @property
    def has_rules(self) -> bool:
        """Whether any rule is enabled (none: a message is not looked at)."""
        return bool(self._active)

    def hits(self, facts: MessageFacts, windows: SlidingWindows) -> list[Hit]:
        """The rules that fire on a message, most severe first (exempt channels and roles
        skipped; the rank exemption is left to the caller)."""
        found: list[Hit] = []
        for rule in self._active:
            if rule.exempt_here(facts):
                continue
            result = rule.check(facts, windows)
            if result is not None:
                found.append(Hit(rule, *result))
        found.sort(key=lambda hit: hit.severity, reverse=True)
        return found


def compile_guild(
    guild_id: int, rules: list[AutomodRule], thresholds: list[WarnThreshold]
) -> CompiledGuild:
    return CompiledGuild(guild_id, [compile_rule(rule) for rule in rules], list(thresholds))
