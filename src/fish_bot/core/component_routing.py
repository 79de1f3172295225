"""Routed custom_ids and where a click on one leads.

Building and parsing ``<prefix>:<action>:<arg>...`` ids (:func:`make_custom_id`,
:func:`parse_custom_id`), the :func:`component` marker on cog methods, and resolving a click to
the loaded cog and handler it names (:func:`routed_cog`, :func:`component_handlers`, with the
handler's arguments bound). :mod:`fish_bot.core.views` describes routed components, re-exports
these names (cogs import them from there) and holds the dispatch, :class:`RoutedComponent`.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord.ext import commands

from fish_bot.core.component_args import ComponentHandler, ComponentParam, _handler_params

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

__all__ = [
    "COMPONENT_MARKER",
    "MAX_CUSTOM_ID_LENGTH",
    "ROUTED_TEMPLATE",
    "SEPARATOR",
    "component",
    "component_handlers",
    "component_prefix",
    "make_custom_id",
    "parse_custom_id",
    "routed_cog",
]

log = logging.getLogger(__name__)

#: Discord refuses a custom_id longer than this.
MAX_CUSTOM_ID_LENGTH = 100
SEPARATOR = ":"
COMPONENT_MARKER = "__fishbot_component__"

#: The template of every routed custom_id: ``<prefix>:<action>`` then ``:<arg>`` parts.
ROUTED_TEMPLATE = r"(?P<prefix>[^:]+):(?P<action>[^:]+)(?P<args>(?::[^:]*)*)"

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


# --- declaring handlers and building ids -----------------------------------------------------


def component(action: str) -> Callable[[F], F]:
    """Make a cog method handle the component action ``action`` (see :mod:`fish_bot.core.views`).

    The method is called as ``handler(interaction, *args)`` with the custom_id's arguments
    converted to the types its signature declares (``str``, ``int``, :data:`GuildId`...); a
    click whose arguments do not fit never reaches it.
    :func:`~fish_bot.core.permissions.requires_rank` and
    :func:`~fish_bot.core.permissions.dm_allowed` may decorate it as well.
    """
    _check_part(action, "action")

    def decorator(func: F) -> F:
        setattr(func, COMPONENT_MARKER, ComponentHandler(action, _handler_params(func)))
        return func

    return decorator


def component_prefix(cog: Any) -> str:
    """The custom_id prefix of a cog: ``component_prefix``, else its slug (else the lowercased
    qualified name). The built-in cogs' slugs are their old prefixes, so posted buttons work."""
    for attribute in ("component_prefix", "slug"):
        prefix = getattr(cog, attribute, None)
        if isinstance(prefix, str) and prefix:
            return prefix
    return str(cog.qualified_name).lower()


def _check_part(text: str, what: str) -> None:
    if not isinstance(text, str) or not text:
        raise ValueError(f"the {what} of a custom_id must be non-empty text")
    if SEPARATOR in text:
        raise ValueError(f"the {what} of a custom_id must not contain {SEPARATOR!r}: {text!r}")


def make_custom_id(cog: BaseCog | str, action: str, *args: object) -> str:
    """``"<prefix>:<action>:<args...>"`` for a routed component.

    ``cog`` is the cog (its :func:`component_prefix` is used) or the prefix itself. Arguments are
    turned into text and must not contain ``":"``. Raises :class:`ValueError` when the id would
    be longer than Discord's 100 characters.
    """
    prefix = cog if isinstance(cog, str) else component_prefix(cog)
    _check_part(prefix, "prefix")
    _check_part(action, "action")
    parts = [prefix, action]
    for arg in args:
        text = str(arg)
        if SEPARATOR in text:
            raise ValueError(f"a custom_id argument must not contain {SEPARATOR!r}: {text!r}")
        parts.append(text)
    custom_id = SEPARATOR.join(parts)
    if len(custom_id) > MAX_CUSTOM_ID_LENGTH:
        raise ValueError(
            f"custom_id {custom_id[:40]!r}... is {len(custom_id)} characters; "
            f"Discord allows at most {MAX_CUSTOM_ID_LENGTH}"
        )
    return custom_id


def parse_custom_id(custom_id: str) -> tuple[str, str, list[str]] | None:
    """``(prefix, action, args)`` of a routed custom_id, or None when it has no action."""
    parts = custom_id.split(SEPARATOR)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1], parts[2:]


# --- finding the cog and handler a click names ----------------------------------------------


_HANDLER_TABLES: weakref.WeakKeyDictionary[type, dict[str, tuple[str, ComponentHandler]]] = (
    weakref.WeakKeyDictionary()
)
_WARNED_CLASHES: set[tuple[str, str]] = set()


def component_handlers(cog: Any) -> dict[str, tuple[str, ComponentHandler]]:
    """``{action: (method name, handler)}`` of a cog's class, mixins included (cached)."""
    cls = type(cog)
    table = _HANDLER_TABLES.get(cls)
    if table is None:
        table = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                handler = getattr(value, COMPONENT_MARKER, None)
                if isinstance(handler, ComponentHandler):
                    table[handler.action] = (attr, handler)
        _HANDLER_TABLES[cls] = table
    return table


def routed_cog(client: discord.Client, prefix: str) -> BaseCog | None:
    """The loaded Fish cog whose component prefix is ``prefix`` and that has handlers."""
    from fish_bot.core.base_cog import BaseCog

    if not isinstance(client, (commands.Bot, commands.AutoShardedBot)):
        return None
    found: BaseCog | None = None
    for cog in client.cogs.values():
        if not isinstance(cog, BaseCog) or component_prefix(cog) != prefix:
            continue
        if not component_handlers(cog):
            continue
        if found is None:
            found = cog
            continue
        clash = (found.qualified_name, cog.qualified_name)
        if clash not in _WARNED_CLASHES:
            _WARNED_CLASHES.add(clash)
            log.warning(
                "Cogs %s and %s share the component prefix %r; %s wins", *clash, prefix, clash[0]
            )
    return found


def _clicked_custom_id(interaction: discord.Interaction) -> str | None:
    data: Any = interaction.data or {}
    custom_id = data.get("custom_id")
    return custom_id if isinstance(custom_id, str) else None


@dataclass
class _Route:
    """What a click on a routed custom_id resolved to."""

    cog: BaseCog | None
    name: str
    attr: str | None = None
    handler: ComponentHandler | None = None
    bound: list[tuple[ComponentParam, object]] | None = None
    refusal: str | None = None


def _route(client: discord.Client, prefix: str, action: str, args: Sequence[str]) -> _Route:
    cog = routed_cog(client, prefix)
    name = f"{prefix}:{action}"
    if cog is None:
        return _Route(None, name)
    entry = component_handlers(cog).get(action)
    if entry is None:
        return _Route(cog, name, refusal="unknown action")
    attr, handler = entry
    bound = handler.bind(args)
    if bound is None:
        return _Route(cog, name, attr, handler, refusal="arguments do not fit the handler")
    return _Route(cog, name, attr, handler, bound)
