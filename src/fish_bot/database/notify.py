"""CacheBus: tells every other process of the bot which cached data changed.

Several bot processes on one PostgreSQL database each keep caches (settings, pause state,
permission rules, guild configuration and prefixes, snippets, AFK members). A write made in one
process must reach the caches of the others; this bus carries the news.

* :meth:`CacheBus.publish` ``(topic, guild_id, key)`` announces "this changed". On PostgreSQL it
  runs ``SELECT pg_notify('fishbot_cache_<database>', payload)`` in the session of the change
  (the ambient ``db.transaction()`` when one is open, else the controller's own session or a
  short one):
  PostgreSQL delivers a notification only when its transaction commits, so a rolled-back change
  notifies nobody. With ``FISHBOT_REDIS_URL`` set, the payload goes to Redis pub/sub instead,
  after the commit (``DatabaseService.after_commit``; dropped on a rollback).
* :meth:`CacheBus.subscribe` ``(topic, callback)``: ``callback(Invalidation)`` runs in this
  process for every change another process announced on that topic (a process ignores its own
  announcements: its caches were updated by the write itself).
* :meth:`CacheBus.start` opens the listener: a dedicated asyncpg connection that ``LISTEN``\\ s
  (or a Redis subscription). When it is lost it reconnects (with a delay), listens again and
  calls every callback with ``Invalidation(resync=True, guild_id=None)``: anything may have
  changed while nobody listened, so every cache drops or re-reads everything. A keep-alive
  query every ``keepalive`` seconds notices a connection that died silently.
* On SQLite (one process) the bus is off: ``publish`` does nothing and no listener runs.

A cache subscribes once, next to where it is built::

    bus = db.service.bus
    bus.subscribe("automod", lambda event: cache.invalidate(event.guild_id))
    ...
    await bus.publish("automod", guild_id)   # in the write, inside its transaction

``event.guild_id`` is ``None`` when every guild may have changed (a resync, or a write that
touched many guilds); :meth:`GuildCache.invalidate` takes that ``None`` to mean every guild.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fish_bot.database.service import DatabaseService

log = logging.getLogger(__name__)

#: The PostgreSQL channel (and Redis channel) every process of one bot listens on.
CHANNEL = "fishbot_cache"
#: PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a longer key is cut.
MAX_KEY_LENGTH = 1000

_NOTIFY = sa.text("SELECT pg_notify(:channel, :payload)")


@dataclass(frozen=True)
class Invalidation:
    """What another process changed (or, ``resync``, that anything may have changed)."""

    topic: str
    #: The guild whose data changed; ``None``: every guild (global values, a resync).
    guild_id: int | None = None
    #: A detail of the topic (``settings``: the cog whose values changed); ``None``: all.
    key: str | None = None
    #: The listener reconnected: drop or re-read everything of this topic.
    resync: bool = False


Callback = Callable[[Invalidation], object]
"""A subscriber: a plain function, or an async one (its result is awaited)."""


@dataclass
class BusStats:
    """Counters shown by health and used by tests and the benchmark."""

    published: int = 0
    received: int = 0
    ignored_own: int = 0
    reconnects: int = 0
    resyncs: int = 0
    errors: int = 0
    connected: bool = False
    backend: str = "none"
    last_error: str = field(default="")


def channel_for(service: DatabaseService) -> str:
    """The bus channel of one database: ``fishbot_cache``, then its database name and, when
    the service works in a schema of its own (``search_path``), that schema. A SQLite
    database is named by ``sqlite`` and a short hash of its file's absolute path.

    PostgreSQL notifications already stay in their database; Redis is shared by everyone who
    uses it, and two bots (or two test runs) on other databases must not hear each other.
    """
    parts = [CHANNEL]
    url = make_url(service.url)
    backend = url.get_backend_name()
    if backend == "postgresql" and url.database:
        parts.append(url.database)
    elif backend == "sqlite":
        where = str(Path(url.database).resolve()) if url.database else ":memory:"
        parts += ["sqlite", hashlib.sha256(where.encode()).hexdigest()[:12]]
    settings = service.engine_options.get("connect_args", {}).get("server_settings", {})
    schema = settings.get("search_path") if isinstance(settings, dict) else None
    if schema:
        parts.append(str(schema))
    name = "_".join(re.sub(r"[^a-z0-9_]", "_", part.lower()) for part in parts)
    return name[:63]  # PostgreSQL's identifier limit


class CacheBus:
    """Cross-process cache invalidation over PostgreSQL LISTEN/NOTIFY or Redis pub/sub."""

    def __init__(
        self,
        service: DatabaseService,
        *,
        redis_url: str | None = None,
        channel: str = CHANNEL,
        reconnect_delay: float = 0.5,
        keepalive: float = 30.0,
    ) -> None:
        self.service = service
        self.redis_url = redis_url or None
        self.channel = channel if channel != CHANNEL else channel_for(service)
        self.reconnect_delay = reconnect_delay
        self.keepalive = keepalive
        #: Tells this process's announcements apart from the others' (unique per bus).
        self.origin = uuid.uuid4().hex[:16]
        #: The Redis client name of the listener (``CLIENT LIST`` shows it).
        self.client_name = f"fishbot-cache-bus-{self.origin}"
        self.stats = BusStats(backend=self.backend)
        self._subscribers: dict[str, list[Callback]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self._redis: Any = None  # the publishing client (redis.asyncio.Redis)
        self._connection: Any = None  # the listening connection (asyncpg or Redis pub/sub)
        self._background: set[asyncio.Task[Any]] = set()
        #: Whether the bot starts the listener in ``setup_hook`` (a test may start it itself).
        self.autostart = True

    # --- state ---------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """``redis``, ``postgresql`` or ``none`` (SQLite: one process, nothing to tell)."""
        if self.redis_url:
            return "redis"
        return "none" if self.service.is_sqlite else "postgresql"

    @property
    def enabled(self) -> bool:
        return self.backend != "none"

    @property
    def listening(self) -> bool:
        """Whether the listener is connected and subscribed right now."""
        return self._ready.is_set()

    def configure(self, *, redis_url: str | None) -> None:
        """Choose the transport before :meth:`start` (the bot passes ``FISHBOT_REDIS_URL``)."""
        self.redis_url = redis_url or None
        self.stats.backend = self.backend

    # --- subscribing ---------------------------------------------------------------------

    def subscribe(self, topic: str, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event)`` for every change of ``topic`` made by another process,
        and with ``resync=True`` after a reconnect. Returns a function that unsubscribes."""
        callbacks = self._subscribers.setdefault(topic, [])
        if callback not in callbacks:
            callbacks.append(callback)
        return lambda: self.unsubscribe(topic, callback)

    def unsubscribe(self, topic: str, callback: Callback) -> None:
        callbacks = self._subscribers.get(topic, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def topics(self) -> list[str]:
        return sorted(topic for topic, callbacks in self._subscribers.items() if callbacks)

    # --- publishing ----------------------------------------------------------------------

    def _payload(self, topic: str, guild_id: int | None, key: str | None) -> str:
        if key is not None:
            key = key[:MAX_KEY_LENGTH]
        return json.dumps({"o": self.origin, "t": topic, "g": guild_id, "k": key})

    async def publish(
        self,
        topic: str,
        guild_id: int | None = None,
        key: str | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> None:
        """Tell the other processes that ``topic`` (of ``guild_id``, ``key``) changed.

        PostgreSQL: in ``session`` (the change's own), else the ambient transaction, else a
        short transaction of its own; delivered when that transaction commits, never after a
        rollback. Redis: after the commit. SQLite: nothing.
        """
        backend = self.backend
        if backend == "none":
            return
        payload = self._payload(topic, guild_id, key)
        if backend == "redis":
            await self.service.after_commit(lambda: self._redis_publish(payload))
            return
        params = {"channel": self.channel, "payload": payload}
        current = session if session is not None else self.service.current_session()
        if current is not None:
            await current.execute(_NOTIFY, params)
        else:
            async with self.service.session(write=True) as own:
                await own.execute(_NOTIFY, params)
        self.stats.published += 1

    async def _redis_publish(self, payload: str) -> None:
        try:
            if self._redis is None:
                self._redis = _redis_client(self.redis_url or "")
            await self._redis.publish(self.channel, payload)
            self.stats.published += 1
        except Exception as error:  # the commit stands; the others resync on their reconnect
            self.stats.errors += 1
            self.stats.last_error = str(error)[:200]
            log.warning("Could not publish a cache invalidation to Redis: %s", error)

    # --- receiving -----------------------------------------------------------------------

    def _dispatch_payload(self, payload: str | bytes) -> None:
        try:
            data = json.loads(payload)
            origin, topic = data["o"], str(data["t"])
            guild = data.get("g")
            guild_id = int(guild) if guild is not None else None
            key = data.get("k")
        except (ValueError, KeyError, TypeError):
            log.warning("Ignored a malformed cache invalidation: %.200r", payload)
            return
        if origin == self.origin:
            self.stats.ignored_own += 1
            return
        self.stats.received += 1
        self._dispatch(Invalidation(topic, guild_id, None if key is None else str(key)))

    def _dispatch(self, event: Invalidation) -> None:
        for callback in list(self._subscribers.get(event.topic, ())):
            try:
                result = callback(event)
            except Exception:
                log.exception("A cache invalidation callback failed (%s)", event.topic)
                continue
            if inspect.isawaitable(result):
                self._spawn(result, event.topic)

    def _spawn(self, awaitable: Awaitable[Any], topic: str) -> None:
        async def run() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("A cache invalidation callback failed (%s)", topic)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def resync(self) -> None:
        """Tell every subscriber that anything may have changed (after a reconnect)."""
        self.stats.resyncs += 1
        for topic in list(self._subscribers):
            self._dispatch(Invalidation(topic, None, None, resync=True))

    # --- the listener --------------------------------------------------------------------

    async def start(self, *, wait: float = 10.0) -> None:
        """Start listening (nothing on SQLite); waits up to ``wait`` seconds for the first
        subscription, then keeps trying in the background."""
        if not self.enabled or self._task is not None:
            return
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="fishbot-cache-bus")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._ready.wait()
        if not self._ready.is_set():
            log.warning("The cache bus is not listening yet (%s); retrying", self.stats.last_error)

    async def stop(self) -> None:
        """Stop listening and close the connections."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for pending in list(self._background):
            pending.cancel()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None
        self._ready.clear()
        self.stats.connected = False

    async def _run(self) -> None:
        first = True
        while not self._stopping:
            try:
                if self.backend == "redis":
                    await self._listen_redis(first)
                else:
                    await self._listen_postgres(first)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.stats.errors += 1
                self.stats.last_error = str(error)[:200] or type(error).__name__
                log.warning("The cache bus lost its connection: %s", self.stats.last_error)
            self._ready.clear()
            self.stats.connected = False
            first = False
            if self._stopping:
                break
            self.stats.reconnects += 1
            await asyncio.sleep(self.reconnect_delay)

    def _subscribed(self, first: bool) -> None:
        """The listener is subscribed: after a loss, everything may be stale."""
        self.stats.connected = True
        self._ready.set()
        if not first:
            log.info("The cache bus reconnected (%s): resyncing every cache", self.backend)
            self.resync()

    def _dsn(self) -> str:
        url = make_url(self.service.url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    async def _listen_postgres(self, first: bool) -> None:
        import asyncpg

        settings = self.service.engine_options.get("connect_args", {}).get("server_settings")
        connection = await asyncpg.connect(self._dsn(), server_settings=settings)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())

        def notified(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            self._dispatch_payload(payload)

        self._connection = connection
        try:
            await connection.add_listener(self.channel, notified)
            self._subscribed(first)
            while not lost.is_set() and not connection.is_closed():
                try:
                    async with asyncio.timeout(self.keepalive):
                        await lost.wait()
                except TimeoutError:
                    async with asyncio.timeout(self.keepalive):
                        await connection.execute("SELECT 1")
        finally:
            self._connection = None
            connection.terminate()  # a listener holds no work: no goodbye needed

    async def _listen_redis(self, first: bool) -> None:
        client = _redis_client(self.redis_url or "", client_name=self.client_name)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._connection = pubsub
        try:
            await pubsub.subscribe(self.channel)
            # redis-py reconnects a pub/sub connection by itself and subscribes again; what
            # was published meanwhile is lost, so every such reconnect resyncs too.
            connection = pubsub.connection
            if connection is not None:
                connection.register_connect_callback(self._redis_reconnected)
            self._subscribed(first)
            while True:
                message = await pubsub.get_message(timeout=self.keepalive)
                if message is None:
                    await pubsub.ping()
                elif message.get("type") == "message":
                    self._dispatch_payload(message["data"])
        finally:
            self._connection = None
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _redis_reconnected(self, _connection: Any) -> None:
        self.stats.reconnects += 1
        self.resync()

    def describe(self) -> dict[str, Any]:
        """The bus's state for health output."""
        return {
            "backend": self.backend,
            "listening": self.listening,
            "published": self.stats.published,
            "received": self.stats.received,
            "reconnects": self.stats.reconnects,
            "resyncs": self.stats.resyncs,
        }


def _redis_client(url: str, *, client_name: str | None = None) -> Any:
    try:
        from redis import asyncio as redis_asyncio
    except ImportError as error:  # pragma: no cover - the extra is not installed
        raise RuntimeError(
            "FISHBOT_REDIS_URL is set but the redis package is missing: install fish-bot[redis]"
        ) from error
    return redis_asyncio.from_url(url, client_name=client_name)
