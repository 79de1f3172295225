"""Routed component ids: building, parsing, limits and handler discovery."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from fish_bot.core.views import (
    MAX_CUSTOM_ID_LENGTH,
    ComponentRouter,
    RoutedView,
    component,
    component_prefix,
    make_custom_id,
    parse_custom_id,
    routed_button,
)


class Named:
    qualified_name = "Example"


class Prefixed:
    qualified_name = "Moderation"
    component_prefix = "mod"


def test_custom_id_round_trip() -> None:
    custom_id = make_custom_id(Named(), "press", 123, "abc")  # type: ignore[arg-type]
    assert custom_id == "example:press:123:abc"
    assert parse_custom_id(custom_id) == ("example", "press", ["123", "abc"])
    assert make_custom_id("example", "press") == "example:press"
    assert parse_custom_id("example:press") == ("example", "press", [])


def test_prefix_is_the_lowercased_name_or_the_class_attribute() -> None:
    assert component_prefix(Named()) == "example"
    assert component_prefix(Prefixed()) == "mod"


def test_ids_that_are_not_routed() -> None:
    assert parse_custom_id("0123456789abcdef") is None
    assert parse_custom_id(":press") is None
    assert parse_custom_id("example:") is None


def test_discord_limit_and_separator_are_enforced() -> None:
    longest = make_custom_id("x", "y", "z" * (MAX_CUSTOM_ID_LENGTH - 4))
    assert len(longest) == MAX_CUSTOM_ID_LENGTH
    with pytest.raises(ValueError, match="100"):
        make_custom_id("x", "y", "z" * (MAX_CUSTOM_ID_LENGTH - 3))
    with pytest.raises(ValueError):
        make_custom_id("x", "a:b")
    with pytest.raises(ValueError):
        make_custom_id("x", "y", "1:2")
    with pytest.raises(ValueError):
        component("")


def test_router_finds_handlers_through_mixins() -> None:
    class Mixin:
        @component("press")
        async def on_press(self, interaction: Any, *args: str) -> None: ...

    class Cog(Mixin):
        qualified_name = "Example"

        @component("other")
        async def on_other(self, interaction: Any, *args: str) -> None: ...

    router = ComponentRouter(bot=None)  # type: ignore[arg-type]
    assert router.handlers(Cog()) == {"press": "on_press", "other": "on_other"}


async def test_routed_view_is_never_registered_by_discord_py() -> None:
    view = RoutedView(routed_button("example", "press", 1, label="Press"))
    assert view.is_finished()  # discord.py stores only views that are not finished
    assert view.is_dispatchable()
    button = view.children[0]
    assert isinstance(button, discord.ui.Button)
    assert button.custom_id == "example:press:1"
