"""A cog that sets ``requires_django`` on a bot with no Django configured does not load: one
line names the cog and ``FISHBOT_DJANGO_SETTINGS_MODULE``; the rest of the bot runs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest
import simcord

from .conftest import say

COGS = ["fish_bot.cogs.admin", "django_project.notes_cog"]
PACKAGE = "django_project.notes_cog"


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


async def test_a_django_cog_without_django_is_refused_in_one_line(
    caplog: pytest.LogCaptureFixture, env: simcord.Env, world: Any, owner: Any
) -> None:
    assert env.bot.settings.django_settings_module == ""
    assert env.bot.get_cog("Notes") is None
    reason = env.bot.cog_load_errors[PACKAGE]
    assert reason.startswith("Notes needs Django")
    assert "FISHBOT_DJANGO_SETTINGS_MODULE is not set" in reason

    logged = [r for r in caplog.get_records("setup") if PACKAGE in r.getMessage()]
    assert [r.levelno for r in logged] == [logging.ERROR]  # one line...
    assert logged[0].exc_info is None  # ...and no traceback
    assert "Notes" in logged[0].getMessage()
    assert "FISHBOT_DJANGO_SETTINGS_MODULE" in logged[0].getMessage()

    # The owner sees why; the cog's commands are not there; the rest of the bot answers.
    listing = await say(owner, world.general, "!cog list")
    failed = {f.name: f.value for f in listing.embeds[0].fields}["Failed to load"]
    assert PACKAGE in failed and "FISHBOT_DJANGO_SETTINGS_MODULE" in failed
    assert env.bot.get_command("note") is None
    assert "Pong" in (await say(world.member, world.general, "!ping")).content


async def test_a_settings_module_that_does_not_import_refuses_the_cog_with_the_reason(
    env: simcord.Env, world: Any, make_bot: Any
) -> None:
    await env.bot.close()
    bot = make_bot(COGS, django_settings_module="no_such_project.settings")
    await env.restart_bot(bot)
    assert bot.get_cog("Notes") is None
    reason = bot.cog_load_errors[PACKAGE]
    assert reason.startswith("Notes needs Django") and "no_such_project.settings" in reason
    assert "Pong" in (await say(world.member, world.general, "!ping")).content
