"""Checks of the server-logs settings: event names and routes."""

from __future__ import annotations

from typing import Any

from fish_bot.cogs.server_logs.constants import EVENTS, ROUTE_KINDS


def check_events(value: Any) -> None:
    """Every item is an event name (refuses with the list of known events otherwise)."""
    for item in value:
        if item not in EVENTS:
            raise ValueError(f"{item!r} is not an event; events: {', '.join(EVENTS)}")


def check_routes(value: Any) -> None:
    """Every item is ``event=kind`` with a known event and kind."""
    for item in value:
        event, sep, kind = str(item).partition("=")
        if not sep or event not in EVENTS or kind not in ROUTE_KINDS:
            raise ValueError(
                f"{item!r} is not a route; write event=kind, e.g. message_edit=server "
                f"(kinds: {', '.join(ROUTE_KINDS)})"
            )


def parse_routes(value: Any) -> dict[str, str]:
    """The ``routes`` setting as ``{event: kind}`` (invalid items are ignored)."""
    found: dict[str, str] = {}
    for item in value or []:
        event, sep, kind = str(item).partition("=")
        if sep and event in EVENTS and kind in ROUTE_KINDS:
            found[event] = kind
    return found
