"""SimCord fixtures: the real FishBot with its real cogs against a simulated Discord."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from fish_bot.bot import BUILTIN_COGS, FishBot
from fish_bot.config import Settings

OWNER_ID = 900000000000000001
PG_URL = os.environ.get("FISHBOT_TEST_DATABASE_URL", "").strip()


async def _pg_admin(statement: str) -> None:
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


class QuickEnv(simcord.Env):
    """SimCord, polling for settled work every 5 ms instead of every 50 ms.

    A settle waits on the tasks it saw pending; work that ends in a task it did not see (an
    error reply after a database read, for one) is only noticed at its next poll, so each
    such command cost 50 ms of waiting. What counts as settled is unchanged.
    """

    async def _settle_internal(self, **options: Any) -> None:
        options.setdefault("idle", 0.005)
        await super()._settle_internal(**options)


def _migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest migration (blocking)."""
    from fish_bot.database.migrations import upgrade
    from fish_bot.database.service import DatabaseService

    async def migrate() -> None:
        service = DatabaseService(url)
        await service.connect()
        try:
            await upgrade(service)
        finally:
            await service.disconnect()

    asyncio.run(migrate())


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the newest migration, made once per test process.

    Each test's bot starts on a copy of it, as a restarted bot finds its database, instead of
    running every migration on a new file (half a second per test). The first start of a new
    installation, migrations and all, is tested in test_first_start.py (``make_bot(...,
    fresh_database=True)``), tests/db/test_migrations.py and tests/operations.
    """
    path = tmp_path_factory.mktemp("migrated") / "fish_bot.db"
    _migrate(f"sqlite+aiosqlite:///{path.as_posix()}")
    assert not path.with_name(f"{path.name}-wal").exists()  # all in the one file
    return path


@pytest.fixture(scope="session")
def migrated_postgresql() -> Iterator[str]:
    """The name of a PostgreSQL database at the newest migration, the template of the tests'
    databases (``CREATE DATABASE ... TEMPLATE``), one per test process; "" without PG_URL."""
    if not PG_URL:
        yield ""
        return
    name = f"fb_template_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        _migrate(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fish_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings for a test bot: its own data folder and SQLite file, one bot owner.

    A test that asks for ``db_backend`` runs once per database: on PostgreSQL the bot gets a
    database of its own (a copy of :func:`migrated_postgresql`), dropped afterwards.
    """
    backend = (
        request.getfixturevalue("db_backend") if "db_backend" in request.fixturenames else "sqlite"
    )
    database = ""
    url = ""
    if backend == "postgresql":
        template = request.getfixturevalue("migrated_postgresql")
        database = f"fb_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))
        url = make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
    yield Settings(data_dir=tmp_path / "data", prefix="!", owner_ids=[OWNER_ID], database_url=url)
    if database:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def sqlite_file(settings: Settings) -> Path:
    """The SQLite file of a bot on its default database."""
    return Path(make_url(settings.effective_database_url).database or "")


def start_migrated(settings: Settings, template: Path) -> None:
    """Give a bot on its default SQLite file a migrated one, unless it already has a file."""
    if settings.database_url:
        return
    path = sqlite_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, path)


@pytest.fixture
def make_bot(fish_settings: Settings, migrated_sqlite: Path) -> Callable[..., FishBot]:
    """Build a FishBot on the test settings (call again to 'restart' on the same data).

    Its database is already migrated (see :func:`migrated_sqlite`); ``fresh_database=True``
    starts it on no database at all, as a new installation does.
    """

    def factory(
        cogs: Sequence[str] | None = None, *, fresh_database: bool = False, **overrides: Any
    ) -> FishBot:
        settings = fish_settings.model_copy(update=overrides) if overrides else fish_settings
        if not fresh_database:
            start_migrated(settings, migrated_sqlite)
        bot = FishBot(settings, cogs=list(BUILTIN_COGS if cogs is None else cogs))
        # One bot, one process: no cache bus listener (on PostgreSQL it would wait on the
        # network forever, which SimCord's settling refuses). test_cache_coherence.py runs it.
        bot.database.bus.autostart = False
        return bot

    return factory


@pytest.fixture
def bot_cogs() -> Sequence[str] | None:
    """Override in a test module to load other cogs (None: the built-in ones)."""
    return None


@pytest.fixture
async def env(
    make_bot: Callable[..., FishBot], bot_cogs: Sequence[str] | None
) -> AsyncIterator[simcord.Env]:
    """A running SimCord environment with a FishBot logged in.

    Built like SimCord's own ``simcord_env`` fixture (start and shutdown, then errors the bot
    did not handle fail the test), with one shard for the auto-sharded bot.
    """
    bot = make_bot(bot_cogs)
    environment = QuickEnv(bot, shard_count=1)
    _roomier_advance_time(environment)
    await environment.start()
    try:
        yield environment
    finally:
        await environment.shutdown()
        current = environment.bot
        if isinstance(current, FishBot):
            await current.database.disconnect()
        if environment.check_errors:
            environment._raise_errors_since(environment._errors_acknowledged)


def _roomier_advance_time(environment: simcord.Env, seconds: float = 30.0) -> None:
    """Give ``advance_time`` more real time than SimCord's 5 s settle deadline.

    Advancing the virtual clock by hours runs every loop and job due meanwhile, each with real
    database I/O; on a loaded two-core machine that can take longer than 5 s. Only the advance
    gets the longer deadline: elsewhere the deadline also decides which short timers (a notice
    deleted after 10 s) count as still pending, and tests rely on the default there.
    """
    advance = environment.advance_time

    async def advance_time(amount: float) -> None:
        default = environment.settle_timeout
        environment.settle_timeout = seconds
        try:
            await advance(amount)
        finally:
            environment.settle_timeout = default

    environment.advance_time = advance_time  # type: ignore[method-assign]


def virtual_pauses(env: simcord.Env, monkeypatch: pytest.MonkeyPatch, owner: type) -> None:
    """``owner._pause(seconds)`` passes in virtual time only (``advance_time``).

    SimCord waits out a plain ``asyncio.sleep`` shorter than its settle deadline in real
    time, and one that ends near the deadline can fire in the middle of a later command. A
    pause declared as an external wait is SimCord's to run: the tests advance the clock past
    it, as they would wait in Discord. A pause in a task a test started itself (not the bot's
    work, where SimCord refuses the declaration) waits as before.
    """

    async def pause(self: Any, seconds: float) -> None:
        try:
            await env.external_wait(asyncio.sleep(seconds), reason=f"{owner.__name__} pauses")
        except simcord.SetupError:  # a test's own task, not the bot's work
            await asyncio.sleep(seconds)

    monkeypatch.setattr(owner, "_pause", pause)


@pytest.fixture
def virtual_log_batches(env: simcord.Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """A log channel's batch delay (2 s, then retries) passes in virtual time only: waited out
    in real time, it cost every command that queued a log entry 2 s (the server-log tests:
    99 s for 21 tests)."""
    from fish_bot.cogs.server_logs.sender import LogSender

    virtual_pauses(env, monkeypatch, LogSender)


@pytest.fixture
def virtual_scheduler_retries(env: simcord.Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job scheduler's wait between start attempts (5 s first) passes in virtual time
    only: SimCord's 5 s settle deadline made the first retry fire in real time, in the middle
    of a command or not, depending on the machine's load."""
    from fish_bot.core.scheduler import JobScheduler

    virtual_pauses(env, monkeypatch, JobScheduler)


@dataclass
class World:
    """A seeded guild: owner, admin, moderator, two members, three channels."""

    guild: Any
    general: Any
    mod_log: Any
    bot_commands: Any
    owner: Any
    admin: Any
    moderator: Any
    member: Any
    member2: Any
    admin_role: Any
    mod_role: Any
    member_role: Any


def build_world(env: simcord.Env) -> World:
    """Create the demo guild used by the integration tests."""
    owner_user = env.create_user("owner")
    guild = env.create_guild(name="Fish Tank", owner=owner_user)
    admin_role = guild.create_role("Admin", permissions=discord.Permissions(administrator=True))
    mod_role = guild.create_role(
        "Moderator",
        permissions=discord.Permissions(
            kick_members=True,
            ban_members=True,
            moderate_members=True,
            manage_messages=True,
            manage_roles=True,
            manage_channels=True,
        ),
    )
    member_role = guild.create_role("Member")
    general = guild.create_text_channel("general")
    mod_log = guild.create_text_channel("mod-log")
    bot_commands = guild.create_text_channel("bot-commands")
    if owner_user.id in guild.member_ids():
        owner = simcord.MemberActor(env, guild, owner_user)
    else:
        owner = guild.add_member(owner_user)
    return World(
        guild=guild,
        general=general,
        mod_log=mod_log,
        bot_commands=bot_commands,
        owner=owner,
        admin=guild.add_member(env.create_user("admin"), roles=[admin_role]),
        moderator=guild.add_member(env.create_user("moderator"), roles=[mod_role]),
        member=guild.add_member(env.create_user("member"), roles=[member_role]),
        member2=guild.add_member(env.create_user("member2"), roles=[member_role]),
        admin_role=admin_role,
        mod_role=mod_role,
        member_role=member_role,
    )


@pytest.fixture
async def world(env: simcord.Env) -> World:
    return build_world(env)


def replies(channel: Any, after: discord.Message) -> list[discord.Message]:
    """The bot's messages in ``channel`` after ``after``."""
    return [m for m in channel.history() if m.id > after.id and m.author.bot]


async def say(actor: Any, channel: Any, text: str) -> discord.Message:
    """Send ``text`` as ``actor`` and return the bot's last reply (there must be one)."""
    sent = await actor.send(channel, text)
    answers = replies(channel, sent)
    assert answers, f"no reply to {text!r}"
    return answers[-1]


@pytest.fixture
def owner(env: simcord.Env, world: World) -> Any:
    """The guild owner, who is also a bot owner."""
    env.bot.owner_ids = {world.owner.id}
    return world.owner


def show_slash_commands(env: simcord.Env, guild: Any) -> None:
    """Show every synced slash command to @everyone in ``guild``, as a server that uses ranks
    does in Server Settings → Integrations: the command's ``default_member_permissions`` (its
    Discord permission) then hides nothing, and the permission model alone decides."""
    for command in env.backend.commands.get(None, {}).values():
        guild.set_command_permissions(int(command["id"]), {guild.default_role: True})
