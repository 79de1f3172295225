"""The level curve, XP rules and the import file's format.

The curve is the one server owners know from MEE6: going from level ``L`` to ``L + 1`` takes
``5 * L**2 + 50 * L + 100`` XP. :func:`xp_for_level` (the total XP a level needs) and
:func:`level_from_xp` are exact inverses, in integers (no floating-point drift).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Mapping

from fish_bot.cogs.levels.constants import MAX_IMPORT_ROWS, MAX_LEVEL

#: The largest Discord snowflake (64-bit).
_MAX_SNOWFLAKE = 2**63 - 1


def xp_to_next(level: int) -> int:
    """XP needed to go from ``level`` to ``level + 1``: ``5L² + 50L + 100``."""
    return 5 * level * level + 50 * level + 100


def xp_for_level(level: int) -> int:
    """The total XP at which a member reaches ``level`` (0 for level 0).

    The sum of :func:`xp_to_next` for 0..level-1, in closed form:
    ``5(L-1)L(2L-1)/6 + 25L(L-1) + 100L``.
    """
    if level <= 0:
        return 0
    n = level
    return (5 * (n - 1) * n * (2 * n - 1)) // 6 + 25 * n * (n - 1) + 100 * n


def level_from_xp(xp: int) -> int:
    """The level a total of ``xp`` gives: the largest ``L`` with ``xp_for_level(L) <= xp``."""
    if xp < xp_to_next(0):
        return 0
    # xp_for_level(L) ~ 5L³/3: start from the cube root and correct in integers.
    level = max(0, round((xp * 3 / 5) ** (1 / 3)))
    while level > 0 and xp_for_level(level) > xp:
        level -= 1
    while xp_for_level(level + 1) <= xp:
        level += 1
    return level


#: The most XP a member can hold (the XP of the highest level).
MAX_XP = xp_for_level(MAX_LEVEL)


def progress(xp: int) -> tuple[int, int, int]:
    """``(level, XP into the level, XP the level needs)`` for a total of ``xp``."""
    level = level_from_xp(xp)
    return level, xp - xp_for_level(level), xp_to_next(level)


def multiplier(role_ids: Iterable[int], multipliers: Mapping[str, float]) -> float:
    """The highest XP factor of the member's roles (1.0 when none of them has one)."""
    factors = [float(multipliers[key]) for key in map(str, role_ids) if key in multipliers]
    return max(factors) if factors else 1.0


def roll_xp(low: int, high: int, factor: float, rng: random.Random | None = None) -> int:
    """A random XP amount between ``low`` and ``high`` (either order), times ``factor``."""
    low, high = min(low, high), max(low, high)
    amount = (rng or random).randint(low, high)
    return max(0, round(amount * factor))


def check_multipliers(value: object) -> str | None:
    """Setting rule of ``role_multipliers``: every factor between 0 and 10."""
    if not isinstance(value, dict):
        return None  # the dictionary rule reports it
    for key, factor in value.items():
        if not isinstance(factor, (int, float)) or not 0 <= float(factor) <= 10:
            raise ValueError(f"the factor of role {key} must be between 0 and 10, got {factor!r}")
    return None


def render_template(template: str, member_mention: str, level: int) -> str:
    """The level-up message: ``{member}`` and ``{level}`` replaced, nothing else read."""
    return template.replace("{member}", member_mention).replace("{level}", str(level))


class ImportRefused(ValueError):
    """The import file is refused; the message names the line and the problem."""


def parse_import(data: bytes) -> dict[int, int]:
    """Read an import file: CSV rows of ``member id, xp``; returns ``{member id: xp}``.

    A first line that is not two numbers is taken as a header. The whole file is checked
    before anything is stored: a bad line refuses the import and names the line.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("the file is not UTF-8 text") from None
    found: dict[int, int] = {}
    reader = csv.reader(io.StringIO(text))
    for number, row in enumerate(reader, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) < 2:
            raise ImportRefused(f"line {number}: expected `member id, xp`")
        member_text, xp_text = cells[0], cells[1]
        if number == 1 and not (member_text.isascii() and member_text.isdigit()):
            continue  # a header
        if not (member_text.isascii() and member_text.isdigit()) or len(member_text) > 20:
            raise ImportRefused(f"line {number}: {member_text[:25]!r} is not a member id")
        member_id = int(member_text)
        if not 0 < member_id <= _MAX_SNOWFLAKE:
            raise ImportRefused(f"line {number}: {member_text[:25]!r} is not a member id")
        if not (xp_text.isascii() and xp_text.isdigit()) or len(xp_text) > 12:
            raise ImportRefused(f"line {number}: XP {xp_text[:25]!r} is not a whole number")
        xp = int(xp_text)
        if xp > MAX_XP:
            raise ImportRefused(f"line {number}: {xp} XP is more than the maximum ({MAX_XP})")
        if member_id in found:
            raise ImportRefused(f"line {number}: member {member_id} appears twice")
        found[member_id] = xp
        if len(found) > MAX_IMPORT_ROWS:
            raise ImportRefused(f"the file has more than {MAX_IMPORT_ROWS} rows")
    if not found:
        raise ImportRefused("the file has no rows")
    return found


def export_csv(rows: Iterable[tuple[int, int, int, bool]]) -> bytes:
    """``member_id,xp,level,blacklisted`` lines (a file ``levels import`` reads back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["member_id", "xp", "level", "blacklisted"])
    for member_id, xp, level, blacklisted in rows:
        writer.writerow([member_id, xp, level, "yes" if blacklisted else "no"])
    return out.getvalue().encode("utf-8")
