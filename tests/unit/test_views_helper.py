"""Routed component ids: building, parsing, limits, handler discovery and typed arguments."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from fish_bot.core.component_routing import ROUTED_TEMPLATE
from fish_bot.core.views import (
    MAX_CUSTOM_ID_LENGTH,
    ChannelId,
    ComponentHandler,
    GuildId,
    MemberId,
    MessageId,
    RoutedComponent,
    RoutedView,
    component,
    component_handlers,
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


def test_handlers_are_found_through_mixins() -> None:
    class Mixin:
        @component("press")
        async def on_press(self, interaction: Any, *args: str) -> None: ...

    class Cog(Mixin):
        qualified_name = "Example"

        @component("other")
        async def on_other(self, interaction: Any, *args: str) -> None: ...

    found = {action: attr for action, (attr, _) in component_handlers(Cog()).items()}
    assert found == {"press": "on_press", "other": "on_other"}


async def test_routed_view_is_never_registered_by_discord_py() -> None:
    view = RoutedView(routed_button("example", "press", 1, label="Press"))
    assert view.is_finished()  # discord.py stores only views that are not finished
    assert view.is_dispatchable()
    button = view.children[0]
    assert isinstance(button, discord.ui.Button)
    assert button.custom_id == "example:press:1"


# --- typed arguments -----------------------------------------------------------------------


def handler_of(func: Any) -> ComponentHandler:
    spec = func.__fishbot_component__
    assert isinstance(spec, ComponentHandler)
    return spec


def values(spec: ComponentHandler, *args: str) -> list[object] | None:
    bound = spec.bind(list(args))
    return None if bound is None else [value for _, value in bound]


def test_arguments_are_converted_to_the_declared_types() -> None:
    @component("go")
    async def go(self: Any, interaction: Any, guild: GuildId, count: int, note: str) -> None: ...

    spec = handler_of(go)
    assert values(spec, "123", "-4", "hi") == [123, -4, "hi"]
    assert values(spec, "123", "4") is None  # an argument missing
    assert values(spec, "123", "4", "hi", "more") is None  # one too many
    for bad in ("②", "²", "١٢٣", "1e3", " 1", "0x1", "7" * 90):
        assert values(spec, bad, "1", "x") is None, bad
        assert values(spec, "1", bad, "x") is None, bad
    assert values(spec, "0", "1", "x") is None  # no id is 0
    assert values(spec, str(2**64), "1", "x") is None
    assert values(spec, "1", str(2**63), "x") is None


def test_defaults_and_variadic_arguments() -> None:
    @component("page")
    async def page(self: Any, interaction: Any, number: int = 1, *rest: str) -> None: ...

    spec = handler_of(page)
    assert values(spec) == []
    assert values(spec, "3") == [3]
    assert values(spec, "3", "a", "b") == [3, "a", "b"]
    assert values(spec, "x") is None

    @component("legacy")
    async def legacy(self: Any, interaction: Any, *args) -> None: ...  # type: ignore[no-untyped-def]

    assert values(handler_of(legacy), "a", "②") == ["a", "②"]  # text is text


def test_an_unsupported_annotation_is_refused_when_the_cog_is_defined() -> None:
    with pytest.raises(TypeError, match="must be annotated with"):

        @component("bad")
        async def bad(self: Any, interaction: Any, when: float) -> None: ...

    with pytest.raises(TypeError, match="positional"):

        @component("bad")
        async def keyword(self: Any, interaction: Any, *, guild: int) -> None: ...


class Place:
    """The parts of an interaction the place checks read."""

    def __init__(self, guild: int | None, channel: int, user: int, message: int) -> None:
        self.guild_id = guild
        self.channel_id = channel
        self.user = type("User", (), {"id": user})()
        self.message = type("Message", (), {"id": message})()


def test_ids_must_name_where_the_component_is_clicked() -> None:
    @component("all")
    async def every(
        self: Any,
        interaction: Any,
        guild: GuildId,
        channel: ChannelId,
        member: MemberId,
        message: MessageId,
    ) -> None: ...

    spec = handler_of(every)
    bound = spec.bind(["1", "2", "3", "4"])
    assert bound is not None

    def misplaced(here: Place) -> list[str]:
        return [
            reason
            for param, value in bound
            if (reason := param.misplaced(value, here)) is not None  # type: ignore[arg-type]
        ]

    assert misplaced(Place(1, 2, 3, 4)) == []
    assert misplaced(Place(9, 2, 3, 4)) == ["guild is not this server"]
    assert misplaced(Place(None, 2, 3, 4)) == ["guild is not this server"]  # a DM
    assert misplaced(Place(1, 9, 3, 4)) == ["channel is not this channel"]
    assert misplaced(Place(1, 2, 9, 4)) == ["member is not this member"]
    assert misplaced(Place(1, 2, 3, 9)) == ["message is not this message"]


def test_the_dynamic_item_template_matches_routed_ids_only() -> None:
    import re

    template = re.compile(ROUTED_TEMPLATE)
    assert RoutedComponent.__discord_ui_compiled_template__.pattern == ROUTED_TEMPLATE
    assert template.fullmatch("example:press:1:abc")
    assert template.fullmatch("example:press")
    assert not template.fullmatch("0123456789abcdef0123456789abcdef")  # a View's own id
    assert not template.fullmatch("example")
    assert not template.fullmatch("example:")
