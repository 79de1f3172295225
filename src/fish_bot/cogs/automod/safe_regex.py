"""Banned patterns: a safe regex subset, compiled with the ``regex`` package, matched with a
time limit.

Two lines of defence keep a pattern from stalling the bot:

1. :func:`check_pattern` refuses, when the rule is added, what makes backtracking explode or
   what the subset does not need: patterns longer than
   :data:`~fish_bot.cogs.automod.constants.MAX_PATTERN_LENGTH`, backreferences (``\\1``,
   ``(?P=name)``, ``\\g<1>``, ``\\k<name>``), lookarounds (``(?=``, ``(?!``, ``(?<=``, ``(?<!``),
   conditionals and recursion (``(?(``, ``(?R)``, ``(?1)``), fuzzy matching (``{e<=1}``) and
   nested quantifiers (a quantified group that holds a quantifier: ``(a+)+``, ``(\\w*)*``,
   ``(?:.*,){10}``).
2. :class:`PatternSet` matches with the ``regex`` package's ``timeout=``: all the patterns of one
   message share :data:`~fish_bot.cogs.automod.constants.MATCH_BUDGET` seconds and look at most
   at :data:`~fish_bot.cogs.automod.constants.MAX_SCANNED` characters. A pattern that runs out
   of time counts as no match and is logged, so even a slow pattern the subset let through
   (``.*,.*,.*,...``) costs one message at most that budget.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from fish_bot.cogs.automod.constants import MATCH_BUDGET, MAX_PATTERN_LENGTH, MAX_SCANNED

log = logging.getLogger(__name__)

_QUANTIFIERS = "*+?{"
#: Escapes that refer back to a group.
_BACKREF_ESCAPES = frozenset("123456789gk")


class UnsafePattern(ValueError):
    """A pattern outside the safe subset; the message says what is refused."""


def _bounded_brace(pattern: str, start: int) -> int | None:
    """The index after ``{m}``, ``{m,}`` or ``{m,n}`` at ``start`` (None: a literal brace)."""
    end = pattern.find("}", start)
    if end == -1:
        return None
    body = pattern[start + 1 : end]
    parts = body.split(",")
    if len(parts) > 2 or not parts[0].isdigit() or not all(p == "" or p.isdigit() for p in parts):
        if any(ch in body for ch in "<=e"):
            raise UnsafePattern("fuzzy matching (`{e<=1}`) is not allowed")
        return None
    return end + 1


def check_pattern(pattern: str) -> None:
    """Raise :class:`UnsafePattern` unless ``pattern`` is in the safe subset and compiles."""
    if not pattern:
        raise UnsafePattern("the pattern is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"a pattern is at most {MAX_PATTERN_LENGTH} characters")
    # Each open group: whether it holds a quantifier so far.
    stack: list[bool] = []
    in_class = False
    i = 0
    last_closed_had_quantifier = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if not in_class and nxt in _BACKREF_ESCAPES and nxt:
                raise UnsafePattern("backreferences (`\\1`, `\\g<1>`, `\\k<name>`) are not allowed")
            i += 2
            last_closed_had_quantifier = False
            continue
        if in_class:
            if ch == "]":
                in_class = False
            i += 1
            continue
        if ch == "[":
            in_class = True
            # A ']' right after '[' or '[^' is a literal.
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":
                i += 1
            last_closed_had_quantifier = False
            continue
        if ch == "(":
            head = pattern[i + 1 : i + 4]
            if head.startswith("?"):
                if head[1:2] in ("=", "!") or head[1:3] in ("<=", "<!"):
                    raise UnsafePattern(
                        "lookarounds (`(?=`, `(?!`, `(?<=`, `(?<!`) are not allowed"
                    )
                if head[1:3] == "P=" or head[1:2] in ("(", "R", "&", "|") or head[1:2].isdigit():
                    raise UnsafePattern(
                        "backreferences, conditionals and recursion are not allowed"
                    )
            stack.append(False)
            i += 1
            last_closed_had_quantifier = False
            continue
        if ch == ")":
            if not stack:
                raise UnsafePattern("unbalanced parenthesis")
            had = stack.pop()
            last_closed_had_quantifier = had
            if stack and had:
                stack[-1] = True
            i += 1
            continue
        if ch in _QUANTIFIERS:
            after = i + 1
            if ch == "{":
                bounded = _bounded_brace(pattern, i)
                if bounded is None:
                    last_closed_had_quantifier = False
                    i += 1
                    continue
                after = bounded
            if last_closed_had_quantifier and ch != "?":
                raise UnsafePattern("nested quantifiers like `(a+)+` are not allowed")
            if stack:
                stack[-1] = True
            last_closed_had_quantifier = False
            i = after
            continue
        last_closed_had_quantifier = False
        i += 1
    if stack:
        raise UnsafePattern("unbalanced parenthesis")
    import regex  # loaded by the first pattern (8 MB of Unicode tables), not at start-up

    try:
        regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)
    except regex.error as error:
        raise UnsafePattern(f"it does not compile: {error}") from None


@dataclass
class PatternHit:
    """A pattern that matched (and what it matched)."""

    pattern: str
    matched: str


class PatternSet:
    """Compiled patterns, matched within a shared time budget."""

    def __init__(self, patterns: list[str], *, budget: float = MATCH_BUDGET) -> None:
        self.patterns = list(patterns)
        self.budget = budget
        self._compiled = []
        if patterns:
            import regex  # loaded by the first guild with a pattern, not at start-up

            self._compiled = [
                (text, regex.compile(text, regex.IGNORECASE | regex.VERSION0)) for text in patterns
            ]
        #: Matches given up because the budget ran out (logged; shown by ``automod show``).
        self.timeouts = 0

    def __bool__(self) -> bool:
        return bool(self._compiled)

    def search(self, text: str) -> PatternHit | None:
        """The first pattern that matches ``text`` in time (None: none did)."""
        text = text[:MAX_SCANNED]
        deadline = time.perf_counter() + self.budget
        for source, compiled in self._compiled:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                self.timeouts += 1
                log.warning("Automod patterns ran out of time; the rest were skipped")
                return None
            try:
                found = compiled.search(text, timeout=remaining)
            except TimeoutError:
                self.timeouts += 1
                log.warning("Automod pattern %r ran out of time and was skipped", source)
                return None
            if found is not None:
                return PatternHit(source, found.group(0))
        return None
