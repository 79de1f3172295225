"""Components (buttons, selects) that keep working after a restart, and a View base class.

**Routed components.** A component's ``custom_id`` names its cog, an action and arguments::

    <prefix>:<action>:<arg>:<arg>...      e.g.  "example:press:1234"

The prefix is the cog's ``component_prefix`` class attribute, or its lowercased
``qualified_name``. A cog method decorated with :func:`component` handles one action::

    class CommandsMixin:
        @component("press")
        async def on_press(self, interaction: discord.Interaction, *args: str) -> None:
            await interaction.response.send_message("Pressed!", ephemeral=True)

and :func:`make_custom_id` builds the id (at most 100 characters, Discord's limit). Nothing is
kept in memory per message: when the bot restarts, a click on an old message still reaches the
handler. The bot's :class:`ComponentRouter` dispatches a click when

* its ``custom_id`` starts with the prefix of a loaded cog that has ``@component`` handlers, and
* no live :class:`discord.ui.View` (or dynamic item) in the view store claims it (a View
  handles its own clicks; the router never handles one twice).

Before the handler runs, ``cog.check_permissions`` applies the permission model (a paused cog,
channel and role settings; ``requires_rank``/``dm_allowed`` on the handler apply too). A denial
is answered ephemerally with its reason; an unknown action with "This button is no longer
supported"; an exception with the bot's error policy (a user-facing message, or an apology with
an error id that is also in the log). A handler that does not answer is acknowledged for it.

Send routed components in a :class:`RoutedView` (built with :func:`routed_button`): it is never
registered in the view store, so the router sees every click.

**Views.** :class:`FishView` is a :class:`discord.ui.View` bound to a cog: its
``interaction_check`` is the cog's permission check and its ``on_error`` the bot's error policy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from fish_bot.core.errors import send_interaction
from fish_bot.exceptions import PermissionDenied, UserFacingError

if TYPE_CHECKING:
    from fish_bot.bot import FishBot
    from fish_bot.core.base_cog import BaseCog

__all__ = [
    "MAX_CUSTOM_ID_LENGTH",
    "UNSUPPORTED_COMPONENT",
    "ComponentCommand",
    "ComponentRouter",
    "FishView",
    "RoutedView",
    "component",
    "component_prefix",
    "make_custom_id",
    "parse_custom_id",
    "report_interaction_error",
    "routed_button",
]

log = logging.getLogger(__name__)

#: Discord refuses a custom_id longer than this.
MAX_CUSTOM_ID_LENGTH = 100
SEPARATOR = ":"
COMPONENT_MARKER = "__fishbot_component__"
UNSUPPORTED_COMPONENT = "This button is no longer supported."
STARTING_COMPONENT = "This module is starting; try again in a moment."

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


# --- declaring handlers and building ids -----------------------------------------------------


def component(action: str) -> Callable[[F], F]:
    """Make a cog method handle the component action ``action`` (see the module docs).

    The method is called as ``handler(interaction, *args)`` with the custom_id's arguments as
    text. :func:`~fish_bot.core.permissions.requires_rank` and
    :func:`~fish_bot.core.permissions.dm_allowed` may decorate it as well.
    """
    _check_part(action, "action")

    def decorator(func: F) -> F:
        setattr(func, COMPONENT_MARKER, action)
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


class RoutedView(discord.ui.View):
    """A container for routed components: sent with a message, never kept in memory.

    It is stopped as soon as it is built, so discord.py does not register it in the view
    store and every click goes to the :class:`ComponentRouter` (before and after a restart).
    """

    def __init__(self, *items: discord.ui.Item[Any]) -> None:
        super().__init__(timeout=None)
        for item in items:
            self.add_item(item)
        self.stop()


def routed_button(
    cog: BaseCog | str,
    action: str,
    *args: object,
    label: str | None = None,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    emoji: str | None = None,
    disabled: bool = False,
) -> discord.ui.Button[Any]:
    """A button whose clicks go to ``cog``'s ``@component(action)`` handler."""
    return discord.ui.Button(
        label=label,
        style=style,
        emoji=emoji,
        disabled=disabled,
        custom_id=make_custom_id(cog, action, *args),
    )


# --- errors ----------------------------------------------------------------------------------


async def report_interaction_error(
    bot: FishBot, interaction: discord.Interaction, error: BaseException, *, where: str
) -> None:
    """Answer a failed component or view with the bot's error policy (never a traceback).

    A permission denial shows its reason, a :class:`UserFacingError` its message; anything
    else is logged with a new error id and the user sees an apology naming that id.
    """
    denial = getattr(error, "denial", None)
    if isinstance(denial, PermissionDenied):
        text = f"⛔ {denial.message}"
    elif isinstance(error, PermissionDenied):
        text = f"⛔ {error.message}"
    elif isinstance(error, UserFacingError):
        text = error.message
    else:
        text = bot.report_unexpected(error, where)
    await send_interaction(interaction, text)


# --- the router ------------------------------------------------------------------------------


@dataclass
class ComponentCommand:
    """What the permission model sees for a component handler (its name and markers)."""

    qualified_name: str
    callback: Callable[..., Any]
    extras: dict[str, Any] = field(default_factory=dict)
    parent: Any = None


class ComponentRouter:
    """Dispatches routed component clicks to the ``@component`` handlers of loaded cogs."""

    def __init__(self, bot: FishBot) -> None:
        self.bot = bot
        self._tables: dict[type, dict[str, str]] = {}
        self._warned: set[tuple[str, str]] = set()
        self.stats: dict[str, int] = {"routed": 0, "denied": 0, "unknown": 0, "failed": 0}

    # -- handler tables -------------------------------------------------------------------

    def handlers(self, cog: Any) -> dict[str, str]:
        """``{action: method name}`` of a cog's class (computed once per class)."""
        cls = type(cog)
        table = self._tables.get(cls)
        if table is None:
            table = {}
            for klass in reversed(cls.__mro__):
                for attr, value in vars(klass).items():
                    action = getattr(value, COMPONENT_MARKER, None)
                    if isinstance(action, str):
                        table[action] = attr
            self._tables[cls] = table
        return table

    def routed_cogs(self) -> dict[str, BaseCog]:
        """``{prefix: cog}`` of the loaded Fish cogs that have component handlers."""
        result: dict[str, BaseCog] = {}
        for cog in self.bot.fish_cogs():
            if not self.handlers(cog):
                continue
            prefix = component_prefix(cog)
            if prefix in result:
                clash = (result[prefix].qualified_name, cog.qualified_name)
                if clash not in self._warned:
                    self._warned.add(clash)
                    log.warning(
                        "Cogs %s and %s share the component prefix %r; %s wins",
                        *clash,
                        prefix,
                        clash[0],
                    )
                continue
            result[prefix] = cog
        return result

    # -- dispatch ---------------------------------------------------------------------------

    def claimed_by_view(self, interaction: discord.Interaction, custom_id: str) -> bool:
        """Whether a live View or dynamic item in discord.py's view store handles this click."""
        store = getattr(getattr(self.bot, "_connection", None), "_view_store", None)
        if store is None:
            return False
        data: Any = interaction.data or {}
        key = (data.get("component_type"), custom_id)
        views: dict[Any, dict[Any, Any]] = getattr(store, "_views", {})
        message = interaction.message
        if message is not None and key in views.get(message.id, {}):
            return True
        if key in views.get(None, {}):
            return True
        patterns: dict[Any, Any] = getattr(store, "_dynamic_items", {})
        return any(pattern.fullmatch(custom_id) for pattern in patterns)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """The bot's ``on_interaction`` listener: route the click if it is one of ours."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: Any = interaction.data or {}
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str):
            return
        parsed = parse_custom_id(custom_id)
        if parsed is None:
            return
        prefix, action, args = parsed
        cog = self.routed_cogs().get(prefix)
        if cog is None or self.claimed_by_view(interaction, custom_id):
            return
        await self.dispatch(interaction, cog, action, args)

    async def dispatch(
        self, interaction: discord.Interaction, cog: BaseCog, action: str, args: list[str]
    ) -> None:
        """Check permissions, run the handler, and answer whatever happens."""
        attr = self.handlers(cog).get(action)
        if attr is None:
            self.stats["unknown"] += 1
            await send_interaction(interaction, UNSUPPORTED_COMPONENT)
            return
        if not cog.is_ready:
            await send_interaction(interaction, STARTING_COMPONENT)
            return
        handler = getattr(cog, attr)
        prefix = component_prefix(cog)
        pseudo = ComponentCommand(f"{prefix}:{action}", getattr(handler, "__func__", handler))
        try:
            await cog.check_permissions(interaction, command=pseudo)
        except PermissionDenied as denial:
            self.stats["denied"] += 1
            cog.logger.info(
                "Component %s denied for %s: %s",
                pseudo.qualified_name,
                interaction.user,
                denial.message,
            )
            await send_interaction(interaction, f"⛔ {denial.message}")
            return
        except Exception as error:
            self.stats["failed"] += 1
            await report_interaction_error(
                self.bot, interaction, error, where=f"component {pseudo.qualified_name}"
            )
            return
        self.stats["routed"] += 1
        try:
            async with cog.task_tracker.task_context(f"Component {action}"):
                await handler(interaction, *args)
            if not interaction.response.is_done():
                await interaction.response.defer()
        except Exception as error:
            self.stats["failed"] += 1
            await report_interaction_error(
                self.bot, interaction, error, where=f"component {pseudo.qualified_name}"
            )


# --- views -----------------------------------------------------------------------------------


class FishView(discord.ui.View):
    """A View bound to a cog: the cog's permission check, the bot's error policy.

    Subclasses add items with ``@discord.ui.button`` as usual. A denied click is answered
    ephemerally with the reason; an exception in a callback gets the user-facing message or
    an apology with an error id.
    """

    def __init__(self, cog: BaseCog, *, timeout: float | None = 180.0) -> None:
        super().__init__(timeout=timeout)
        self.cog = cog

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Apply the cog's permission model to the click."""
        try:
            return await self.cog.check_permissions(interaction)
        except PermissionDenied as denial:
            self.cog.logger.info("View click denied for %s: %s", interaction.user, denial.message)
            await send_interaction(interaction, f"⛔ {denial.message}")
            return False

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        """Answer with the bot's error policy."""
        await report_interaction_error(
            self.cog.bot, interaction, error, where=f"view {type(self).__name__}"
        )
