"""Components (buttons, selects) that keep working after a restart, and a View base class.

**Routed components.** A component's ``custom_id`` names its cog, an action and arguments::

    <prefix>:<action>:<arg>:<arg>...      e.g.  "example:press:1234"

The prefix is the cog's ``component_prefix`` class attribute, or its lowercased
``qualified_name``. A cog method decorated with :func:`component` handles one action, and its
signature declares the arguments the custom_id carries::

    class CommandsMixin:
        @component("press")
        async def on_press(self, interaction: discord.Interaction, guild_id: GuildId) -> None:
            await interaction.response.send_message("Pressed!", ephemeral=True)

:func:`make_custom_id` (or :func:`routed_button`) builds the id, at most 100 characters
(Discord's limit). Nothing is kept in memory per message: clicks are dispatched by discord.py's
own mechanism, a :class:`discord.ui.DynamicItem` (:class:`RoutedComponent`, registered once with
``bot.add_dynamic_items``) whose template matches ``<prefix>:<action>...``. At each click it
finds the loaded cog with that prefix, so a click on a message posted before a restart (or
before ``cog reload``) reaches the current cog.

**Arguments are checked before the handler runs** (:mod:`fish_bot.core.component_args`). A
custom_id is data the client sends back: anyone can forge one. Each handler parameter after
``interaction`` is annotated with one of

* ``str`` (or no annotation): the text as is;
* ``int``: ASCII digits (an optional ``-``), at most 19 of them;
* :data:`GuildId`, :data:`ChannelId`, :data:`MemberId`, :data:`MessageId`: an id that must be
  the server, channel, clicking member or message the component is clicked in.

A click whose action is unknown, whose arguments do not convert (a wrong count, ``②``, a
90-digit number) or do not match where it is clicked is answered "This button is no longer
supported." and the handler does not run. Then the cog must be ready, and
``cog.check_permissions`` applies the permission model (a paused cog, channel and role
settings; ``requires_rank``/``dm_allowed`` on the handler apply too). A denial and any
exception go through the bot's error policy (:func:`report_interaction_error`). A handler that
does not answer is acknowledged for it.

Send routed components in a :class:`RoutedView` (built with :func:`routed_button`): it is never
kept in discord.py's view store, so the dynamic item is the only thing that handles the click.

**Views.** :class:`FishView` is a :class:`discord.ui.View` bound to a cog: its
``interaction_check`` is the cog's permission check and its ``on_error`` the bot's error policy.
A routed custom_id belongs to its cog's handler: a FishView holding one leaves its clicks to it,
so no click is handled twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.core import error_policy
from fish_bot.core.component_args import (
    ChannelId,
    ComponentHandler,
    ComponentParam,
    GuildId,
    MemberId,
    MessageId,
)
from fish_bot.core.component_routing import (
    MAX_CUSTOM_ID_LENGTH,
    ROUTED_TEMPLATE,
    SEPARATOR,
    _clicked_custom_id,
    _Route,
    _route,
    component,
    component_handlers,
    component_prefix,
    make_custom_id,
    parse_custom_id,
    routed_cog,
)
from fish_bot.core.error_replies import send_interaction
from fish_bot.database.controllers.audit import ACTOR, acting_as
from fish_bot.exceptions import PermissionDenied

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.host import FishHost

__all__ = [
    "MAX_CUSTOM_ID_LENGTH",
    "UNSUPPORTED_COMPONENT",
    "ChannelId",
    "ComponentCommand",
    "ComponentHandler",
    "ComponentParam",
    "FishView",
    "GuildId",
    "MemberId",
    "MessageId",
    "RoutedComponent",
    "RoutedView",
    "component",
    "component_handlers",
    "component_prefix",
    "make_custom_id",
    "parse_custom_id",
    "report_interaction_error",
    "routed_button",
    "routed_cog",
]

UNSUPPORTED_COMPONENT = "This button is no longer supported."
STARTING_COMPONENT = "This module is starting; try again in a moment."


# --- sending routed components ---------------------------------------------------------------


class RoutedView(discord.ui.View):
    """A container for routed components: sent with a message, never kept in memory.

    It is stopped as soon as it is built, so discord.py does not keep it in its view store:
    every click goes to :class:`RoutedComponent` (before and after a restart).
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
    bot: FishHost, interaction: discord.Interaction, error: BaseException, *, where: str
) -> None:
    """Answer a failed component, view or modal with the bot's error policy (never a traceback).

    :func:`fish_bot.core.error_policy.respond` decides: a permission denial shows its reason, a
    :class:`UserFacingError` its message, a database outage says so; anything else is logged
    with a new error id and the user sees an apology naming that id.
    """
    text = error_policy.respond(bot, error, where=where)
    if text is not None:
        await send_interaction(interaction, text)


# --- dispatch: one DynamicItem for every routed component -----------------------------------


@dataclass
class ComponentCommand:
    """What the permission model sees for a component handler (its name and markers)."""

    qualified_name: str
    callback: Callable[..., Any]
    extras: dict[str, Any] = field(default_factory=dict)
    parent: Any = None


class RoutedComponent(discord.ui.DynamicItem[discord.ui.Item[Any]], template=ROUTED_TEMPLATE):
    """The dynamic item behind every routed component (``<prefix>:<action>:<args...>``).

    discord.py builds one per click from the message's component; it is never constructed by
    a cog. A custom_id whose prefix no loaded cog handles is left alone (another View's).
    """

    def __init__(self, item: discord.ui.Item[Any], route: _Route | None = None) -> None:
        super().__init__(item)
        self.route = route if route is not None else _Route(None, "")

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> RoutedComponent:
        args = match["args"]
        parts = args[1:].split(SEPARATOR) if args else []
        return cls(item, _route(interaction.client, match["prefix"], match["action"], parts))

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Refuse forged or stale ids, then apply the cog's readiness and permission model.

        Every refusal is answered here: discord.py drops a click this returns False for. An
        action the cog has no handler for is left to the cog's own ``on_interaction`` listener
        or a View holding the id, when there is one (:mod:`fish_bot.core.listener_guard`).
        """
        from fish_bot.core.listener_guard import answered_by_cog_or_view

        route = self.route
        cog = route.cog
        if cog is None:
            return False  # not a Fish cog's component: a live View handles it
        try:
            refusal = route.refusal
            if refusal is None and route.bound is not None:
                refusal = next(
                    (
                        reason
                        for param, value in route.bound
                        if (reason := param.misplaced(value, interaction)) is not None
                    ),
                    None,
                )
            if refusal == "unknown action" and answered_by_cog_or_view(cog, interaction):
                return False  # the cog's own on_interaction listener or a live View answers
            if refusal is not None:
                cog.logger.info(
                    "Component %s refused for %s: %s (custom_id %r)",
                    route.name,
                    interaction.user,
                    refusal,
                    (_clicked_custom_id(interaction) or "")[:MAX_CUSTOM_ID_LENGTH],
                )
                await send_interaction(interaction, UNSUPPORTED_COMPONENT)
                return False
            if not cog.is_ready:
                await send_interaction(interaction, STARTING_COMPONENT)
                return False
            await cog.check_permissions(interaction, command=self._command())
        except PermissionDenied as denial:
            cog.logger.info(
                "Component %s denied for %s: %s", route.name, interaction.user, denial.message
            )
            await report_interaction_error(
                cog.bot, interaction, denial, where=f"component {route.name}"
            )
            return False
        except Exception as error:
            await report_interaction_error(
                cog.bot, interaction, error, where=f"component {route.name}"
            )
            return False
        return True

    def _command(self) -> ComponentCommand:
        route = self.route
        assert route.cog is not None and route.attr is not None
        method = getattr(route.cog, route.attr)
        return ComponentCommand(route.name, getattr(method, "__func__", method))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Run the handler with the converted arguments; errors go to the error policy."""
        route = self.route
        cog = route.cog
        assert cog is not None and route.attr is not None and route.bound is not None
        method = getattr(cog, route.attr)
        try:
            assert route.handler is not None
            with acting_as(interaction.user.id):  # its changes are audited as the clicker's
                async with cog.task_tracker.task_context(f"Component {route.handler.action}"):
                    await method(interaction, *(value for _, value in route.bound))
            if not interaction.response.is_done():
                await interaction.response.defer()
        except Exception as error:
            await report_interaction_error(
                cog.bot, interaction, error, where=f"component {route.name}"
            )


# --- views -----------------------------------------------------------------------------------


class FishView(discord.ui.View):
    """A View bound to a cog: the cog's permission check, the bot's error policy.

    Subclasses add items with ``@discord.ui.button`` as usual. A denied click is answered
    ephemerally with the reason; an exception in a callback gets the user-facing message or
    an apology with an error id. A routed component in the view (:func:`routed_button`) is
    left to its ``@component`` handler.
    """

    def __init__(self, cog: BaseCog, *, timeout: float | None = 180.0) -> None:
        super().__init__(timeout=timeout)
        self.cog = cog

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Apply the cog's permission model to the click."""
        ACTOR.set(interaction.user.id)  # the callback runs in this task: audited as the clicker
        custom_id = _clicked_custom_id(interaction)
        parsed = parse_custom_id(custom_id) if custom_id is not None else None
        if parsed is not None and routed_cog(interaction.client, parsed[0]) is not None:
            return False  # a routed component: RoutedComponent answers it
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
