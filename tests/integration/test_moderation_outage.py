"""No punishment without a record: the case commits before the Discord action (DESIGN rule 12).

With the database unavailable every action refuses before touching Discord ("The database is
unavailable; nothing was done."): no ban, kick, timeout or role change, no DM telling a member
they were punished. With the database back the next command works. A refused Discord action
voids its pending case (and cancels its expiry job); a crash between the steps leaves a
pending case that start-up settles against Discord, both ways, and that ``cases`` lists as
pending meanwhile.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import discord
import pytest
import simcord
from sqlalchemy.engine import make_url

from fish_bot.bot import FishBot
from fish_bot.cogs.moderation.constants import (
    DATABASE_DOWN,
    RECONCILED_ACTIVE_NOTE,
    RECONCILED_VOID_REASON,
    UNBAN_JOB,
)
from fish_bot.cogs.moderation.utils import ModerationError
from fish_bot.database.models.cases import CaseStatus, CaseType
from fish_bot.database.models.scheduler import JobStatus
from fish_bot.exceptions import DatabaseUnavailable

from .conftest import World
from .moderation_helpers import (
    assert_refused,
    cases,
    dms,
    fish,
    jobs,
    moderation,
    restart,
    say,
    set_up_moderation,
)

REFUSAL = DATABASE_DOWN.removeprefix("⛔ ")

#: Requests that change something on Discord's side (reads are fine during an outage).
_WRITES = {"PUT", "PATCH", "DELETE"}


@pytest.fixture
async def mw(env: simcord.Env, world: World) -> World:
    world = await set_up_moderation(env, world)
    jailed = world.guild.create_role("Jailed")
    await fish(env).db.guild_config.update_jail_role_id(world.guild.id, jailed.id)
    # One command before the outage, so the guild's permission rules are cached as in traffic.
    await say(world.moderator, world.general, f"!note {world.member2.mention} regular")
    return world


@contextlib.contextmanager
def database_down(env: simcord.Env) -> Iterator[None]:
    """The database is unreachable: every new session fails as after the service's retries."""
    service = fish(env).database

    async def unreachable(**_options: Any) -> Any:
        raise DatabaseUnavailable("The database at test is unreachable after 4 attempts")

    service._open_session = unreachable  # type: ignore[method-assign]
    try:
        yield
    finally:
        del service._open_session  # back to the class's method


def discord_writes(env: simcord.Env, since: int) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in env.http_requests[since:]
        if r.method in _WRITES and r.path.startswith("/guilds/")
    ]


def member_role_ids(env: simcord.Env, world: World) -> list[int]:
    return list(env.backend.get_member(world.guild.id, world.member.id).role_ids)


OUTAGE_COMMANDS = [
    ("tempban", "!tempban {member} 1h spamming"),
    ("ban", "!ban {member} spamming"),
    ("kick", "!kick {member} spamming"),
    ("timeout", "!timeout {member} 1h spamming"),
    ("jail", "!jail {member} 1h spamming"),
    ("warn", "!warn {member} spamming"),
]


async def test_an_outage_refuses_every_action_before_touching_discord(
    env: simcord.Env, mw: World, db_backend: str
) -> None:
    assert fish(env).database.dialect == db_backend
    before = await cases(env, mw)
    roles_before = member_role_ids(env, mw)
    start = len(env.http_requests)

    with database_down(env):
        for name, command in OUTAGE_COMMANDS:
            reply = await say(mw.moderator, mw.general, command.format(member=mw.member.mention))
            assert_refused(env, reply, REFUSAL, ModerationError)
            # No success wording for what did not happen.
            assert "Case #" not in reply and "but the case" not in reply, (name, reply)
        result = await mw.moderator.slash(
            mw.general, "tempban", user=mw.member, duration="1h", reason="slash spam"
        )
        assert result.response is not None and REFUSAL in result.response.content
        assert_refused(env, result.response.content, REFUSAL, ModerationError)

    # Nothing happened on Discord: no ban, kick, timeout or role change, no DM.
    assert discord_writes(env, start) == []
    assert mw.guild.get_ban(mw.member) is None
    assert mw.member.id in mw.guild.member_ids()
    assert member_role_ids(env, mw) == roles_before
    assert dms(mw.member) == []
    assert not any("temporarily banned" in text for text in dms(mw.member))

    # The database is back: the very next command works, and its case and expiry are recorded.
    returned = time.perf_counter()
    reply = await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 1h spamming")
    elapsed = time.perf_counter() - returned
    print(f"\n[{db_backend}] first successful command after the database returned: {elapsed:.3f} s")
    assert reply.startswith(f"⏳ Temporarily banned {mw.member.mention} (Case #{len(before) + 1})")
    assert mw.guild.get_ban(mw.member) is not None
    case = (await cases(env, mw))[-1]
    assert (case.case_type, case.status) == ("TEMPBAN", "active")
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.PENDING.value
    assert job.payload["case_number"] == case.case_number


async def test_an_outage_refuses_the_other_record_commands(env: simcord.Env, mw: World) -> None:
    """The commands that only write a record (or read one first) refuse the same way."""
    start = len(env.http_requests)
    with database_down(env):
        for command in (
            "!note {member} text",
            "!pollban {member} 1h spam",
            "!snippetban {member} spam",
            "!unjail {member} ok",
            "!untimeout {member} ok",
        ):
            reply = await say(mw.moderator, mw.general, command.format(member=mw.member.mention))
            assert_refused(env, reply, REFUSAL, ModerationError)
    assert discord_writes(env, start) == []


async def test_a_required_reason_that_cannot_be_checked_refuses(
    env: simcord.Env, mw: World
) -> None:
    with database_down(env):
        reply = await say(mw.moderator, mw.general, f"!kick {mw.member.mention}")
    assert_refused(env, reply, REFUSAL, ModerationError)
    assert mw.member.id in mw.guild.member_ids()


async def test_a_refused_tempban_voids_its_case_and_cancels_its_unban(
    env: simcord.Env, mw: World, db_backend: str
) -> None:
    env.inject_error("PUT", "/guilds/*/bans/*", status=403, code=50013, message="Missing Access")

    reply = await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 2h spam")

    assert_refused(env, reply, "Discord refused to let me tempban", ModerationError)
    assert "Nothing was done (case #2 is voided)." in reply
    assert mw.guild.get_ban(mw.member) is None
    case = (await cases(env, mw))[-1]
    assert (case.case_type, case.status) == ("TEMPBAN", CaseStatus.VOIDED.value)
    assert case.extra["void_reason"] == (
        f"Discord refused to let me tempban {mw.member.mention}: Missing Access."
    )
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.CANCELLED.value
    # The voided case says why in `cases view`.
    await say(mw.moderator, mw.general, f"!cases view {case.case_number}")
    message = mw.general.last_message
    fields = {field.name: field.value for field in message.embeds[0].fields}
    assert fields["Status"] == "Voided"
    assert "Missing Access" in fields["Voided"]


async def test_a_crash_after_the_action_is_confirmed_at_start_up(
    env: simcord.Env, mw: World, make_bot: Callable[..., FishBot], db_backend: str
) -> None:
    """The database fails right after the ban: the case stays pending, start-up confirms it."""
    cog = moderation(env)

    async def lost(*_: Any, **__: Any) -> bool:
        raise DatabaseUnavailable("The database at test is unreachable after 4 attempts")

    cog.activate_case = lost  # type: ignore[method-assign]
    reply = await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 2h raid")

    # It did happen: the reply says so, and that the record is not confirmed yet.
    assert reply.startswith(f"⏳ Temporarily banned {mw.member.mention} (Case #2)")
    assert "the case stays pending" in reply and "error id `" in reply
    assert "DatabaseUnavailable" in (cog.status_summary()["last_error"] or "")
    assert mw.guild.get_ban(mw.member) is not None
    case = (await cases(env, mw))[-1]
    assert case.status == CaseStatus.PENDING.value
    # `cases` lists it as pending meanwhile.
    await say(mw.moderator, mw.general, "!cases")
    listing = mw.general.last_message.embeds[0].description or ""
    assert "#2" in listing and "Pending" in listing, listing
    view = await say(mw.moderator, mw.general, "!cases search status:pending")
    found = mw.general.last_message.embeds[0].description or view
    assert "#2" in found and "#1" not in found, found

    await restart(env, make_bot)
    await env.settle()

    case = (await cases(env, mw))[-1]
    assert case.status == CaseStatus.ACTIVE.value
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.PENDING.value  # the unban still comes on time
    log = mw.mod_log.last_message
    assert log is not None and log.embeds[0].title == "⏳ Case #2 · Temporary ban"
    assert log.embeds[0].footer.text == RECONCILED_ACTIVE_NOTE
    # ...and it does come.
    await env.advance_time(2 * 3600 + 60)
    assert mw.guild.get_ban(mw.member) is None
    assert (await cases(env, mw))[-1].status == CaseStatus.EXPIRED.value


async def test_a_crash_before_the_action_is_voided_at_start_up(
    env: simcord.Env, mw: World, make_bot: Callable[..., FishBot], db_backend: str
) -> None:
    """The bot stopped between recording the case and acting: start-up voids the case."""
    cog = moderation(env)
    until = discord.utils.utcnow() + timedelta(hours=2)
    # Step 1 of the flow committed (the pending case and its unban), then the process died.
    pending = await cog.record_pending(
        mw.guild.id,
        mw.member.id,
        mw.moderator.id,
        CaseType.TEMPBAN,
        reason="raid",
        expires_at=until,
        close_types=[CaseType.BAN, CaseType.TEMPBAN],
    )
    assert pending.status == CaseStatus.PENDING.value

    await restart(env, make_bot)
    await env.settle()

    case = (await cases(env, mw))[-1]
    assert case.case_number == pending.case_number
    assert case.status == CaseStatus.VOIDED.value
    assert case.extra["void_reason"] == RECONCILED_VOID_REASON
    [job] = await jobs(env, UNBAN_JOB)
    assert job.status == JobStatus.CANCELLED.value
    assert mw.guild.get_ban(mw.member) is None


async def test_start_up_confirms_a_pending_timeout_and_voids_a_pending_kick(
    env: simcord.Env, mw: World, make_bot: Callable[..., FishBot]
) -> None:
    cog = moderation(env)
    until = discord.utils.utcnow() + timedelta(hours=1)
    timeout = await cog.record_pending(
        mw.guild.id, mw.member.id, mw.moderator.id, CaseType.TIMEOUT, expires_at=until
    )
    kick = await cog.record_pending(mw.guild.id, mw.member2.id, mw.moderator.id, CaseType.KICK)
    # The timeout reached Discord before the crash; the kick did not.
    env.backend.edit_member(mw.guild.id, mw.member.id, {"timed_out_until": until.isoformat()})
    await env.settle()

    await restart(env, make_bot)
    await env.settle()

    found = {case.case_number: case for case in await cases(env, mw)}
    assert found[timeout.case_number].status == CaseStatus.ACTIVE.value
    assert found[kick.case_number].status == CaseStatus.VOIDED.value


async def test_a_pending_case_due_before_start_up_settles_it_first(
    env: simcord.Env, mw: World, make_bot: Callable[..., FishBot]
) -> None:
    """An expiry job that runs on a still pending case checks Discord first."""
    cog = moderation(env)
    until = discord.utils.utcnow() + timedelta(minutes=5)
    pending = await cog.record_pending(
        mw.guild.id, mw.member.id, mw.moderator.id, CaseType.TEMPBAN, expires_at=until
    )
    env.backend.apply_ban(mw.guild.id, mw.member.id, "raid")  # it went through before the crash
    await env.settle()

    # The pending case is settled by the job itself (no restart).
    await env.advance_time(6 * 60)

    case = (await cases(env, mw))[-1]
    assert case.case_number == pending.case_number
    assert case.status == CaseStatus.EXPIRED.value
    assert mw.guild.get_ban(mw.member) is None


class TcpProxy:
    """A TCP forwarder in its own thread: stopping it is PostgreSQL going away for the bot.

    ``stop()`` closes the listener and every forwarded connection (new connections are refused,
    open ones drop); ``start()`` listens again on the same port.
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.mark.postgres
async def test_postgresql_stopped_during_traffic_refuses_then_recovers(
    env: simcord.Env, world: World, make_bot: Callable[..., FishBot], db_backend: str
) -> None:
    """The bot reaches PostgreSQL through a proxy that goes away (a stopped server) and back."""
    url = make_url(fish(env).database.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        await restart(env, lambda: make_bot(database_url=proxied))
        mw = await set_up_moderation(env, world)
        jailed = mw.guild.create_role("Jailed")
        await fish(env).db.guild_config.update_jail_role_id(mw.guild.id, jailed.id)
        await say(mw.moderator, mw.general, f"!note {mw.member2.mention} regular")
        start = len(env.http_requests)

        proxy.stop()
        for _name, command in OUTAGE_COMMANDS:
            reply = await say(mw.moderator, mw.general, command.format(member=mw.member.mention))
            assert_refused(env, reply, REFUSAL, ModerationError)
        assert discord_writes(env, start) == []
        assert mw.guild.get_ban(mw.member) is None
        assert dms(mw.member) == []

        proxy.start()
        returned = time.perf_counter()
        reply = await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 1h spamming")
        elapsed = time.perf_counter() - returned
        print(f"\n[postgresql stopped and back] first successful command: {elapsed:.3f} s")
        assert "Temporarily banned" in reply and "Case #" in reply
        assert mw.guild.get_ban(mw.member) is not None
        await restart(env, make_bot)  # off the proxy before it goes
    finally:
        proxy.stop()


async def test_a_confirmed_tempban_closes_the_stale_one_but_keeps_its_own_unban(
    env: simcord.Env, mw: World
) -> None:
    await say(mw.moderator, mw.general, f"!tempban {mw.member.mention} 2h spam")
    env.backend.remove_ban(mw.guild.id, mw.member.id)  # unbanned by hand in Discord
    await env.settle()

    reply = await say(mw.moderator, mw.general, f"!tempban {mw.member.id} 3h again")

    assert "Temporarily banned" in reply and "(Case #3)" in reply
    first, second = (await cases(env, mw))[-2:]
    assert (first.status, second.status) == (CaseStatus.LIFTED.value, CaseStatus.ACTIVE.value)
    old_job, new_job = await jobs(env, UNBAN_JOB)
    assert old_job.status == JobStatus.CANCELLED.value
    assert new_job.status == JobStatus.PENDING.value
    assert new_job.payload["case_number"] == second.case_number
