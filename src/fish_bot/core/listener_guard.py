"""A cog's own ``on_interaction`` listener beside the framework's components (the guide's
"Message Component Handling"): each click is answered once.

``BaseCog.__init_subclass__`` wraps every ``on_interaction`` listener of a cog class
(:func:`guard_interaction_listeners`) so that it is not called for a click that
:func:`handled_elsewhere` names: a live or persistent View holds its custom_id, it is a routed
``<prefix>:<action>`` with an ``@component`` handler, or it was answered already. The other way
round, :class:`~fish_bot.core.views.RoutedComponent` leaves a routed id whose action has no
handler to the cog's listener or the View (:func:`answered_by_cog_or_view`) instead of answering
"This button is no longer supported.".
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from fish_bot.core.component_routing import (
    _clicked_custom_id,
    component_handlers,
    parse_custom_id,
    routed_cog,
)

__all__ = ["answered_by_cog_or_view", "guard_interaction_listeners", "handled_elsewhere"]

GUARD_MARKER = "__fishbot_guarded_listener__"


def _live_view_item(interaction: discord.Interaction, custom_id: str) -> Any:
    """The item of a View in discord.py's view store that this click reaches (a live View
    sent with the message, or a persistent one added with ``bot.add_view``), if any."""
    state = getattr(interaction, "_state", None)
    store = getattr(state, "_view_store", None)
    views = getattr(store, "_views", None)
    if not isinstance(views, dict):
        return None
    data: Any = interaction.data or {}
    key = (data.get("component_type"), custom_id)
    message = interaction.message
    item = views.get(message.id, {}).get(key) if message is not None else None
    return item if item is not None else views.get(None, {}).get(key)


def _has_interaction_listener(cog: Any) -> bool:
    return any(name == "on_interaction" for name, _ in cog.get_listeners())


def answered_by_cog_or_view(cog: Any, interaction: discord.Interaction) -> bool:
    custom_id = _clicked_custom_id(interaction)
    if custom_id is None:
        return False
    return _has_interaction_listener(cog) or _live_view_item(interaction, custom_id) is not None


def handled_elsewhere(interaction: Any) -> bool:
    """Whether a component click is answered by the framework or a View, so that a cog's own
    ``on_interaction`` listener must leave it alone: a live or persistent View holds its
    custom_id, or it is a routed ``<prefix>:<action>`` with an ``@component`` handler, or it
    has been answered already."""
    if not isinstance(interaction, discord.Interaction):
        return False
    if interaction.type is not discord.InteractionType.component:
        return False
    if interaction.response.is_done():
        return True
    custom_id = _clicked_custom_id(interaction)
    if custom_id is None:
        return False
    if _live_view_item(interaction, custom_id) is not None:
        return True
    parsed = parse_custom_id(custom_id)
    if parsed is None:
        return False
    cog = routed_cog(interaction.client, parsed[0])
    return cog is not None and parsed[1] in component_handlers(cog)


def guard_interaction_listeners(cls: type) -> None:
    """Wrap the ``on_interaction`` listeners of a cog class (the guide's "Message Component
    Handling") so they skip the clicks :func:`handled_elsewhere` names: one answer per click.

    Called by ``BaseCog.__init_subclass__``, before discord.py collects the listeners."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        for attr, value in list(vars(klass).items()):
            if attr in seen:
                continue
            seen.add(attr)
            names = getattr(value, "__cog_listener_names__", None)
            if not names or "on_interaction" not in names or getattr(value, GUARD_MARKER, False):
                continue
            if not callable(value) or isinstance(value, staticmethod):
                continue
            setattr(cls, attr, _guarded(value))


def _guarded(listener: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(listener)
    async def guarded(self: Any, interaction: Any, *args: Any, **kwargs: Any) -> Any:
        if handled_elsewhere(interaction):
            return None
        return await listener(self, interaction, *args, **kwargs)

    guarded.__cog_listener_names__ = list(listener.__cog_listener_names__)  # type: ignore[attr-defined]
    setattr(guarded, GUARD_MARKER, True)
    return guarded
