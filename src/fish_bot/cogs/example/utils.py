"""Helpers of the example cog: the shape of its cache data."""

from __future__ import annotations

from typing import Any

#: Sections of the cache data that map a guild id (as text: JSON keys are text) to a count.
COUNTER_SECTIONS: tuple[str, ...] = ("counters", "presses", "messages")


def default_cache() -> dict[str, Any]:
    """The cache data of a fresh install (also what replaces a corrupt file)."""
    return {"counters": {}, "presses": {}, "messages": {}, "ticks": 0}


def repair_cache(data: Any) -> tuple[dict[str, Any], bool]:
    """Check loaded cache data; returns it (fixed in place when possible) and whether it changed.

    Data of the wrong shape (a list, a count that is not a whole number...) is replaced piece by
    piece with the defaults, so one bad entry does not lose the others.
    """
    if not isinstance(data, dict):
        return default_cache(), True
    changed = False
    for section in COUNTER_SECTIONS:
        counts = data.get(section)
        if not isinstance(counts, dict):
            data[section] = {}
            changed = True
            continue
        for key, value in list(counts.items()):
            if not key.isdigit() or not isinstance(value, int) or isinstance(value, bool):
                del counts[key]
                changed = True
    ticks = data.get("ticks")
    if not isinstance(ticks, int) or isinstance(ticks, bool) or ticks < 0:
        data["ticks"] = 0
        changed = True
    return data, changed


def guild_key(guild_id: int) -> str:
    """A guild id as a cache key."""
    return str(guild_id)
