"""DatabaseService: connecting, SQLite set-up, health, sessions and ambient transactions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models import Guild
from fish_bot.database.service import DatabaseService
from fish_bot.exceptions import DatabaseUnavailable, DuplicateError

#: The ``stored`` fixture (tests/db/conftest.py): committed rows of a table.
Stored = Callable[..., Awaitable[list[dict[str, Any]]]]

#: Nothing listens on port 1.
UNREACHABLE_PG = "postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:1/fishbot"

POOL_KEYS = {"size", "checked_out", "idle", "overflow"}


class Boom(Exception):
    """Raised by a test to abort a transaction."""


async def guild_ids(stored: Stored) -> list[int]:
    return [row["id"] for row in await stored("guild")]


# --- connecting -------------------------------------------------------------------------------


async def test_connect_creates_the_sqlite_parent_folder(tmp_path: Path) -> None:
    path = tmp_path / "data" / "nested" / "fish_bot.db"
    service = DatabaseService(f"sqlite+aiosqlite:///{path.as_posix()}")
    assert not path.parent.exists()

    await service.connect()
    try:
        assert path.parent.is_dir()
        assert service.connected
        async with service.session() as session:
            assert (await session.execute(sa.text("SELECT 1"))).scalar() == 1
    finally:
        await service.disconnect()
    assert path.is_file()
    assert not service.connected


async def test_sqlite_pragmas_are_in_effect(tmp_path: Path) -> None:
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'p.db').as_posix()}")
    await service.connect()
    try:
        for write in (False, True):
            async with service.session(write=write) as session:

                async def pragma(name: str, session: Any = session) -> Any:
                    return (await session.execute(sa.text(f"PRAGMA {name}"))).scalar()

                assert str(await pragma("journal_mode")).lower() == "wal"
                assert await pragma("foreign_keys") == 1
                assert await pragma("busy_timeout") > 0
    finally:
        await service.disconnect()


async def test_sqlite_concurrent_read_modify_write_sessions_queue(tmp_path: Path) -> None:
    """Write sessions take SQLite's write lock at BEGIN, so read-then-write never conflicts.

    With a deferred BEGIN, two sessions could read the same snapshot and the second writer
    would fail with "database is locked" (or lose an update).
    """
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'q.db').as_posix()}")
    await service.connect()
    try:
        async with service.session(write=True) as session:
            await session.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
            await session.execute(sa.text("INSERT INTO counter (n) VALUES (0)"))

        async def increment() -> None:
            async with service.session(write=True) as session:
                n = (await session.execute(sa.text("SELECT n FROM counter"))).scalar_one()
                await asyncio.sleep(0)  # let the other tasks run between read and write
                await session.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})

        await asyncio.gather(*(increment() for _ in range(10)))

        async with service.session() as session:
            assert (await session.execute(sa.text("SELECT n FROM counter"))).scalar_one() == 10
    finally:
        await service.disconnect()


async def test_sqlite_write_transactions_of_one_process_commit_in_arrival_order(
    tmp_path: Path,
) -> None:
    """This process's writers queue in order (no busy-handler polling): each transaction
    reads, yields to the others, and writes; none is lost and they commit first come,
    first served."""
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'o.db').as_posix()}")
    await service.connect()
    try:
        async with service.session(write=True) as session:
            await session.execute(sa.text("CREATE TABLE log (n INTEGER NOT NULL)"))

        async def append(n: int) -> None:
            async with service.transaction() as session:
                count = (await session.execute(sa.text("SELECT count(*) FROM log"))).scalar()
                await asyncio.sleep(0)
                await session.execute(sa.text("INSERT INTO log (n) VALUES (:n)"), {"n": count})
                async with service.session(write=True) as same:  # joins, does not wait
                    await same.execute(sa.text("SELECT 1"))

        await asyncio.gather(*(append(n) for n in range(15)))
        async with service.session() as session:
            rows = (await session.execute(sa.text("SELECT n FROM log ORDER BY rowid"))).all()
        assert [row[0] for row in rows] == list(range(15))
    finally:
        await service.disconnect()


async def test_a_sqlite_write_waiting_on_another_tasks_write_gives_up_instead_of_hanging(
    tmp_path: Path,
) -> None:
    """A task that holds a write transaction and awaits another task's write would wait for
    ever on the writer queue: the waiting write gives up after the busy timeout, as SQLite's
    own lock would, and the first transaction still commits."""
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'w.db').as_posix()}")
    service.writer_wait_seconds = 0.2
    await service.connect()
    try:
        async with service.session(write=True) as session:
            await session.execute(sa.text("CREATE TABLE log (n INTEGER NOT NULL)"))

        async def other_write() -> None:
            async with service.transaction() as session:
                await session.execute(sa.text("INSERT INTO log (n) VALUES (2)"))

        async with service.transaction() as session:
            await session.execute(sa.text("INSERT INTO log (n) VALUES (1)"))
            with pytest.raises(DatabaseUnavailable, match="stayed locked"):
                await asyncio.create_task(other_write())
        async with service.session() as session:
            rows = (await session.execute(sa.text("SELECT n FROM log"))).all()
        assert [row[0] for row in rows] == [1]
        await other_write()  # the queue is free again
    finally:
        await service.disconnect()


async def test_connect_is_idempotent_and_reconnect_keeps_data(tmp_path: Path) -> None:
    from fish_bot.database.migrations import upgrade

    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'r.db').as_posix()}")
    await service.connect()
    engine = service.engine
    await service.connect()
    assert service.engine is engine
    await upgrade(service)
    await DatabaseCoordinator(service).guild.create(id=1)
    await service.disconnect()
    await service.disconnect()  # harmless

    await service.connect()
    try:
        assert await DatabaseCoordinator(service).guild.count() == 1
    finally:
        await service.disconnect()


async def test_connect_to_unreachable_postgres_raises_database_unavailable() -> None:
    service = DatabaseService(UNREACHABLE_PG, connect_retries=2, retry_backoff=0.001)

    with pytest.raises(DatabaseUnavailable) as caught:
        await service.connect()

    assert not isinstance(caught.value, OSError)
    assert service.stats.retries == 2
    assert "3 attempts" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)  # the password is never shown
    assert not service.connected
    with pytest.raises(DatabaseUnavailable):
        async with service.session():
            pass


async def test_connect_with_no_retries_fails_once() -> None:
    service = DatabaseService(UNREACHABLE_PG, connect_retries=0, retry_backoff=0.001)
    with pytest.raises(DatabaseUnavailable):
        await service.connect()
    assert service.stats.retries == 0


async def test_using_the_service_before_connect_raises_database_unavailable(
    tmp_path: Path,
) -> None:
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'n.db').as_posix()}")

    with pytest.raises(DatabaseUnavailable):
        async with service.session():
            pass
    with pytest.raises(DatabaseUnavailable):
        async with service.session(write=True):
            pass
    with pytest.raises(DatabaseUnavailable):
        async with service.transaction():
            pass
    with pytest.raises(DatabaseUnavailable):
        _ = service.engine
    with pytest.raises(DatabaseUnavailable):
        await DatabaseCoordinator(service).guild.get_by_id(1)
    assert not (tmp_path / "n.db").exists()


async def test_using_the_service_after_disconnect_raises_database_unavailable(
    db_target: Any,
) -> None:
    service: DatabaseService = db_target.service()
    await service.connect()
    await service.disconnect()
    with pytest.raises(DatabaseUnavailable):
        async with service.session():
            pass


def test_safe_url_hides_the_password() -> None:
    service = DatabaseService(UNREACHABLE_PG)
    assert "s3cret-pw" not in service.safe_url()
    assert service.dialect == "postgresql"
    assert not service.is_sqlite


# --- health and pool --------------------------------------------------------------------------


async def test_health_of_a_connected_service(db_backend: str, db_service: DatabaseService) -> None:
    health = await db_service.health()

    assert health["ok"] is True
    assert isinstance(health["latency_ms"], (int, float))
    assert health["latency_ms"] >= 0
    assert health["dialect"] == db_backend
    assert set(health["pool"]) >= POOL_KEYS
    assert all(isinstance(v, int) for v in health["pool"].values())
    assert health["queries"] > 0  # the migrations and the ping ran queries
    assert "error" not in health


async def test_health_of_a_disconnected_service(db_target: Any) -> None:
    service: DatabaseService = db_target.service()
    never_connected = await service.health()
    assert never_connected["ok"] is False
    assert never_connected["error"]

    await service.connect()
    await service.disconnect()
    after = await service.health()
    assert after["ok"] is False
    assert "latency_ms" not in after


async def test_pool_status_counts_connections_in_use(db_service: DatabaseService) -> None:
    assert set(db_service.pool_status()) == POOL_KEYS
    async with db_service.session() as session:
        await session.execute(sa.text("SELECT 1"))
        assert db_service.pool_status()["checked_out"] >= 1
    assert db_service.pool_status()["checked_out"] == 0


async def test_stats_count_queries(db: DatabaseCoordinator) -> None:
    before = db.service.stats.queries
    await db.guild.create(id=1)
    await db.guild.get_by_id(1)
    assert db.service.stats.queries >= before + 2


async def test_a_one_statement_read_opens_no_transaction(db: DatabaseCoordinator) -> None:
    await db.guild.create(id=1)
    stats = db.service.stats
    before = (stats.transactions, stats.commits)
    assert (await db.guild.get_by_id(1)) is not None
    assert await db.guild.count() == 1
    assert await db.guild.exists({"id": 1})
    assert (stats.transactions, stats.commits) == before
    await db.guild.create(id=2)  # a write still is a transaction
    assert (stats.transactions, stats.commits) == (before[0] + 1, before[1] + 1)


async def test_reads_inside_a_transaction_join_it(db: DatabaseCoordinator) -> None:
    async with db.transaction():
        await db.guild.create(id=5)
        assert (await db.guild.get_by_id(5)) is not None  # sees its own uncommitted row
        assert await db.guild.count() == 1


async def test_sqlite_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    """A read runs while another connection holds SQLite's write lock (WAL readers never
    queue behind a writer), and sees only what is committed."""
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'r.db').as_posix()}")
    await service.connect()
    try:
        from fish_bot.database.migrations import upgrade

        await upgrade(service)
        db = DatabaseCoordinator(service)
        await db.guild.create(id=1)
        async with service.session(write=True) as writer:
            await writer.execute(
                sa.text(
                    "INSERT INTO guild (id, joined_at, case_count) VALUES (2, CURRENT_TIMESTAMP, 0)"
                )
            )
            # The writer holds the lock (BEGIN IMMEDIATE); a read answers at once.
            found = await asyncio.wait_for(db.guild.find_all(), timeout=10)
            assert [guild.id for guild in found] == [1]
        assert await db.guild.count() == 2
    finally:
        await service.disconnect()


# --- plain sessions ---------------------------------------------------------------------------


async def test_session_commits_when_the_block_ends(
    db_service: DatabaseService, stored: Stored
) -> None:
    async with db_service.session(write=True) as session:
        session.add(Guild(id=1))
    assert await guild_ids(stored) == [1]


async def test_session_rolls_back_when_the_block_raises(
    db_service: DatabaseService, stored: Stored
) -> None:
    with pytest.raises(Boom):
        async with db_service.session(write=True) as session:
            session.add(Guild(id=1))
            await session.flush()
            raise Boom
    assert await guild_ids(stored) == []


# --- ambient transactions ---------------------------------------------------------------------


async def test_transaction_commits_every_controller_call(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    async with db.transaction():
        await db.guild.create(id=1)
        await db.guild_config.create(guild_id=1, prefix="?")

    assert await guild_ids(stored) == [1]
    assert [r["prefix"] for r in await stored("guild_config")] == ["?"]


async def test_transaction_rolls_back_every_controller_call_on_error(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    with pytest.raises(Boom):
        async with db.transaction():
            await db.guild.create(id=1)
            await db.guild_config.create(guild_id=1, prefix="?")
            # Inside the transaction the writes are visible to its own calls.
            assert await db.guild.exists({"id": 1})
            raise Boom

    assert await guild_ids(stored) == []
    assert await stored("guild_config") == []
    assert await db.guild.get_by_id(1) is None


async def test_transaction_rolls_back_on_a_data_error(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    await db.guild.create(id=1)
    with pytest.raises(DuplicateError):
        async with db.transaction():
            await db.guild.create(id=2)
            await db.guild.update_by_id(1, case_count=5)
            await db.guild.create(id=1)  # duplicate: the whole transaction fails

    assert await guild_ids(stored) == [1]
    assert [r["case_count"] for r in await stored("guild")] == [0]


async def test_writes_in_a_transaction_are_invisible_outside_until_commit(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    async with db.transaction():
        await db.guild.create(id=1)
        assert await stored("guild") == []  # another connection sees nothing yet
    assert await guild_ids(stored) == [1]


async def test_transaction_exposes_its_session_and_resets_afterwards(
    db: DatabaseCoordinator,
) -> None:
    service = db.service
    assert service.current_session() is None
    assert service.in_transaction() is False

    async with db.transaction() as session:
        assert service.current_session() is session
        assert service.in_transaction() is True
        async with service.session() as inner, db.session() as via_coordinator:
            assert inner is session
            assert via_coordinator is session

    assert service.current_session() is None
    with pytest.raises(Boom):
        async with db.transaction():
            raise Boom
    assert service.current_session() is None
    assert service.in_transaction() is False


async def test_failed_nested_transaction_rolls_back_only_its_part(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    async with db.transaction():
        await db.guild.create(id=1)
        with pytest.raises(Boom):
            async with db.transaction():
                await db.guild.create(id=2)
                await db.guild.update_by_id(1, case_count=9)
                raise Boom
        # The inner block's writes are gone; the outer transaction is still usable.
        assert await db.guild.get_by_id(2) is None
        assert (await db.guild.get_by_id(1)).case_count == 0  # type: ignore[union-attr]
        await db.guild.create(id=3)

    assert await guild_ids(stored) == [1, 3]
    assert [r["case_count"] for r in await stored("guild")] == [0, 0]


async def test_nested_transaction_recovers_from_a_duplicate(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    async with db.transaction():
        await db.guild.create(id=1)
        with pytest.raises(DuplicateError):
            async with db.transaction():
                await db.guild.create(id=1)
        await db.guild.create(id=2)

    assert await guild_ids(stored) == [1, 2]


async def test_successful_nested_transaction_commits_with_the_outer(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    async with db.transaction():
        await db.guild.create(id=1)
        async with db.transaction():
            await db.guild.create(id=2)
        assert await stored("guild") == []
    assert await guild_ids(stored) == [1, 2]

    with pytest.raises(Boom):
        async with db.transaction():
            async with db.transaction():
                await db.guild.create(id=3)
            raise Boom
    assert await guild_ids(stored) == [1, 2]  # the outer failure undoes the inner block


async def test_task_spawned_inside_a_transaction_does_not_join_it(
    db: DatabaseCoordinator,
) -> None:
    """A child task has its own session: it does not see the parent's uncommitted rows.

    The child only reads, so SQLite's write lock (held by the parent) is never in its way.
    """
    await db.guild.create(id=1, case_count=1)

    async def child() -> tuple[bool, Guild | None, Guild | None]:
        return (
            db.service.in_transaction(),
            await db.guild.get_by_id(2),
            await db.guild.get_by_id(1),
        )

    async with db.transaction():
        await db.guild.create(id=2)
        await db.guild.update_by_id(1, case_count=50)
        joined, new_row, changed_row = await asyncio.create_task(child())

    assert joined is False
    assert new_row is None  # not committed yet when the child looked
    assert changed_row is not None
    assert changed_row.case_count == 1
    # After the commit, everyone sees both changes.
    assert (await db.guild.get_by_id(1)).case_count == 50  # type: ignore[union-attr]
    assert await db.guild.get_by_id(2) is not None


async def test_task_spawned_inside_a_transaction_commits_on_its_own(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    """The child's writes survive the parent's rollback (it runs after the parent ends)."""
    go = asyncio.Event()

    async def child() -> None:
        await go.wait()
        await db.guild.create(id=20)

    with pytest.raises(Boom):
        async with db.transaction():
            task = asyncio.create_task(child())
            await db.guild.create(id=10)
            raise Boom
    go.set()
    await task

    assert await guild_ids(stored) == [20]


async def test_each_call_outside_a_transaction_is_its_own_transaction(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    assert db.service.in_transaction() is False
    await db.guild.create(id=1)
    assert await guild_ids(stored) == [1]  # committed as soon as the call returns

    with pytest.raises(DuplicateError):
        await db.guild.create(id=1)
    await db.guild.create(id=2)  # the failed call left nothing behind to break this one

    assert await guild_ids(stored) == [1, 2]


async def test_concurrent_transactions_in_separate_tasks_are_isolated(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    async def work(n: int, fail: bool) -> None:
        async with db.transaction():
            await db.guild.create(id=n)
            await db.guild_config.create(guild_id=n)
            if fail:
                raise Boom

    results = await asyncio.gather(
        *(work(n, fail=n % 2 == 0) for n in range(1, 9)), return_exceptions=True
    )

    assert [type(r) for r in results] == [type(None), Boom] * 4
    assert await guild_ids(stored) == [1, 3, 5, 7]
    assert [r["guild_id"] for r in await stored("guild_config")] == [1, 3, 5, 7]


# --- after_commit -----------------------------------------------------------------------------


async def test_after_commit_outside_a_transaction_runs_at_once(db: DatabaseCoordinator) -> None:
    seen: list[str] = []

    async def later() -> None:
        seen.append("async")

    await db.service.after_commit(lambda: seen.append("sync"))
    await db.service.after_commit(later)
    assert seen == ["sync", "async"]


async def test_after_commit_waits_for_the_outermost_commit_and_sees_the_rows(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    seen: list[list[int]] = []

    async def record() -> None:
        seen.append(await guild_ids(stored))  # what is committed when the callback runs

    async with db.transaction():
        await db.guild.create(id=1)
        await db.service.after_commit(record)
        async with db.transaction():
            await db.guild.create(id=2)
            await db.service.after_commit(record)
        assert seen == []  # nothing committed yet, nothing ran
    assert seen == [[1, 2], [1, 2]]


async def test_after_commit_is_dropped_on_rollback(db: DatabaseCoordinator, stored: Stored) -> None:
    seen: list[str] = []
    with pytest.raises(Boom):
        async with db.transaction():
            await db.guild.create(id=1)
            await db.service.after_commit(lambda: seen.append("outer"))
            raise Boom
    assert seen == []
    assert await guild_ids(stored) == []


async def test_after_commit_of_a_rolled_back_savepoint_is_dropped_only(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    seen: list[str] = []
    async with db.transaction():
        await db.guild.create(id=1)
        await db.service.after_commit(lambda: seen.append("kept"))
        with pytest.raises(Boom):
            async with db.transaction():
                await db.guild.create(id=2)
                await db.service.after_commit(lambda: seen.append("dropped"))
                raise Boom
        async with db.transaction():
            await db.service.after_commit(lambda: seen.append("released"))
    assert seen == ["kept", "released"]
    assert await guild_ids(stored) == [1]


async def test_a_failing_after_commit_callback_is_logged_and_the_rest_run(
    db: DatabaseCoordinator, stored: Stored, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("callback broke")

    async with db.transaction():
        await db.guild.create(id=1)
        await db.service.after_commit(broken)
        await db.service.after_commit(lambda: seen.append("next"))
    assert seen == ["next"]
    assert await guild_ids(stored) == [1]  # the commit stands
    assert "after-commit callback failed" in caplog.text


async def test_after_commit_in_another_task_does_not_wait_for_this_transaction(
    db: DatabaseCoordinator,
) -> None:
    seen: list[str] = []
    async with db.transaction():
        await asyncio.create_task(db.service.after_commit(lambda: seen.append("task")))
        assert seen == ["task"]  # the spawned task has no transaction of its own open


# --- one-statement writes and statement logging -----------------------------------------------


async def test_a_one_statement_write_sends_no_begin_or_commit(
    db_service: DatabaseService, db: DatabaseCoordinator, stored: Stored
) -> None:
    await db.guild.create(id=7)
    stats = db_service.stats
    before = (stats.transactions, stats.queries)

    changed = await db.guild.update_by_id(7, case_count=41)
    after = (stats.transactions, stats.queries)

    assert changed is not None and changed.case_count == 41
    assert [row["case_count"] for row in await stored("guild")] == [41]
    # One UPDATE ... RETURNING, outside a transaction: no BEGIN, no COMMIT round trip.
    assert after == (before[0], before[1] + 1)


async def test_a_sqlite_connection_is_not_pinged_at_each_checkout(tmp_path: Path) -> None:
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'x.db').as_posix()}")
    await service.connect()
    try:
        pings = 0
        dialect: Any = service.engine.sync_engine.dialect
        original = dialect.do_ping

        def counted(connection: Any) -> bool:
            nonlocal pings
            pings += 1
            return bool(original(connection))

        dialect.do_ping = counted
        for _ in range(3):
            async with service.session(read_only=True) as session:
                await session.execute(sa.text("SELECT 1"))
        assert pings == 0
    finally:
        await service.disconnect()


async def test_db_echo_prints_each_statement_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    root = logging.getLogger()
    handler = Collect()
    root.addHandler(handler)
    engine_logger = logging.getLogger("sqlalchemy.engine.Engine")
    old_level = engine_logger.level
    service = DatabaseService(f"sqlite+aiosqlite:///{(tmp_path / 'x.db').as_posix()}", echo=True)
    try:
        await service.connect()
        async with service.session(read_only=True) as session:
            await session.execute(sa.text("SELECT 4242"))
        printed = capsys.readouterr()
        shown = [line for line in records if "SELECT 4242" in line]
        shown += [
            line for line in (printed.out + printed.err).splitlines() if "SELECT 4242" in line
        ]
        assert len(shown) == 1
    finally:
        await service.disconnect()
        root.removeHandler(handler)
        engine_logger.setLevel(old_level)
