"""The Django bridge through the real bot: a cog written as the guide shows (``requires_django``,
``self._django.get_model``, ``self._django.run``) reads and writes the test Django project's
``Note`` model (``tests/django_project``) on SQLite, with Django's tables in a file of their own
or in the bot's own database file; the notes survive a restart; a model call through the helper
can neither raise ``SynchronousOnlyOperation`` nor use a dropped connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import simcord
from asgiref.sync import sync_to_async
from django.core.exceptions import SynchronousOnlyOperation
from django.db import connections
from django.db.utils import Error as DjangoDatabaseError

from django_project import testing
from fish_bot.bot import FishBot
from fish_bot.config import Settings
from fish_bot.core import django as django_bridge

from .conftest import say

COGS = ["fish_bot.cogs.admin", "django_project.notes_cog", "django_project.notes_cog.late"]


@pytest.fixture
def bot_cogs() -> Sequence[str]:
    return COGS


@pytest.fixture
def django_location() -> str:
    """Where Django's tables live: "own file" or "bot's file" (the bot's SQLite database)."""
    return "own file"


@pytest.fixture
async def django_db(tmp_path: Path, django_location: str) -> Path:
    """The test's Django database file, migrated (the bot's data folder is tmp_path/data)."""
    if django_location == "bot's file":
        path = tmp_path / "data" / "fish_bot.db"
    else:
        path = tmp_path / "django" / "notes.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    await testing.use_database(path)
    await testing.migrate()
    return path


@pytest.fixture
def fish_settings(fish_settings: Settings, django_db: Path) -> Settings:
    return fish_settings.model_copy(update={"django_settings_module": testing.SETTINGS_MODULE})


def stored_notes() -> list[tuple[int, str]]:
    """The rows of the Note table, read in Django's thread (blocking: call via run)."""
    return list(testing.note_model().objects.order_by("id").values_list("guild_id", "text"))


@pytest.mark.parametrize("django_location", ["own file", "bot's file"])
async def test_notes_are_written_read_and_survive_a_restart(
    env: simcord.Env, world: Any, make_bot: Callable[..., FishBot], django_db: Path
) -> None:
    assert "django_project.notes_cog" not in env.bot.cog_load_errors
    added = await say(world.member, world.general, "!note add buy fish food")
    assert added.content == "📝 Note #1 saved."
    slash = await world.member2.slash(world.general, "note add", text="clean the @everyone tank")
    assert slash.response is not None and slash.response.content == "📝 Note #2 saved."

    listed = await say(world.member, world.general, "!note list")
    assert listed.content == "#1 buy fish food\n#2 clean the @everyone tank"
    assert not listed.mentions  # nobody pinged from note text

    await env.bot.close()
    await env.restart_bot(make_bot(COGS))

    assert (await say(world.member, world.general, "!note count")).content == (
        "2 note(s) in this server."
    )
    assert (await say(world.member, world.general, "!note list")).content.startswith(
        "#1 buy fish food"
    )
    rows = await env.bot.django.run(stored_notes)
    assert rows == [(world.guild.id, "buy fish food"), (world.guild.id, "clean the @everyone tank")]
    with closing(sqlite3.connect(django_db)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "notes_note" in tables
    # In the bot's own file, its tables and Django's live side by side.
    assert ("alembic_version" in tables) == (django_db.name == "fish_bot.db")


async def test_notes_are_per_server(env: simcord.Env, world: Any, django_db: Path) -> None:
    await say(world.member, world.general, "!note add first")
    other = env.create_guild(name="Other", owner=env.create_user("other-owner"))
    channel = other.create_text_channel("general")
    member = other.add_member(env.create_user("someone"))
    assert (await say(member, channel, "!note list")).content == "No notes yet."
    assert (await say(member, channel, "!note count")).content == "0 note(s) in this server."


async def test_a_cog_setting_requires_django_after_init_loads_and_missing_models_are_none(
    env: simcord.Env, world: Any, django_db: Path
) -> None:
    late = env.bot.get_cog("LateNotes")
    assert late is not None, env.bot.cog_load_errors
    assert late.note_model is testing.note_model()
    assert late.missing_model is None  # get_model of a model the app does not have
    assert env.bot.django.get_model("no_such_app", "Note") is None
    await say(world.member, world.general, "!note add one")
    assert (await say(world.member, world.general, "!notecount")).content == (
        "1 note(s) in the Django project."
    )


async def test_a_direct_orm_call_on_the_loop_raises_but_run_works(
    env: simcord.Env, django_db: Path
) -> None:
    note = testing.note_model()
    with pytest.raises(SynchronousOnlyOperation):
        note.objects.count()  # what the project this comes from kept doing
    manager = env.bot.django
    assert await manager.run(note.objects.count) == 0
    created = await manager.run(note.objects.create, guild_id=1, author_id=2, text="hi")
    assert created.pk == 1
    # A QuerySet comes back evaluated: iterating it here makes no query on the loop.
    found = await manager.run(note.objects.filter, guild_id=1)
    assert [n.text for n in found] == ["hi"]
    with pytest.raises(TypeError):
        await manager.run(sync_to_async(note.objects.count))  # type: ignore[arg-type]


def _drop_connection() -> None:
    """Close the raw connection under Django's back, as a server that dropped it would."""
    connection = connections["default"]
    connection.ensure_connection()
    connection.connection.close()


async def test_run_replaces_a_connection_the_database_dropped(
    env: simcord.Env, django_db: Path
) -> None:
    note = testing.note_model()
    in_django_thread = sync_to_async(_drop_connection, thread_sensitive=True)
    await in_django_thread()
    # Without the helper, the next call uses the dead connection and fails...
    with pytest.raises(DjangoDatabaseError):
        await sync_to_async(note.objects.count, thread_sensitive=True)()
    await in_django_thread()
    # ...through it, the stale connection is closed first and a fresh one is used.
    assert await env.bot.django.run(note.objects.count) == 0


async def test_django_is_set_up_once_in_a_worker_thread_before_the_cogs(
    env: simcord.Env,
    make_bot: Callable[..., FishBot],
    django_db: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bool, bool]] = []
    real = django_bridge.setup_django
    loop_thread = threading.current_thread()

    def recording(module: str) -> None:
        cogs_loaded = bot.get_cog("Notes") is not None
        calls.append((threading.current_thread() is loop_thread, cogs_loaded))
        real(module)

    monkeypatch.setattr(django_bridge, "setup_django", recording)
    await env.bot.close()
    bot = make_bot(COGS)
    await env.restart_bot(bot)
    assert calls == [(False, False)]  # once, off the event loop, before the cogs
    assert bot.get_cog("Notes") is not None and bot.get_cog("LateNotes") is not None


async def test_the_guide_cog_does_not_load_when_its_model_is_missing(
    env: simcord.Env,
    make_bot: Callable[..., FishBot],
    django_db: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def renamed_away(self: Any, app_label: str, model_name: str) -> Any:
        return None  # as for a model the project no longer has

    monkeypatch.setattr(django_bridge.DjangoManager, "get_model", renamed_away)
    await env.bot.close()
    bot = make_bot(COGS)
    await env.restart_bot(bot)
    assert bot.get_cog("Notes") is None
    reason = bot.cog_load_errors["django_project.notes_cog"]
    assert reason == "RuntimeError: Failed to load required Django models"
