"""A fake Discord on loopback: REST v10 and a zlib-stream gateway, for benchmarks and e2e tests.

The real bot process (``fish-bot run`` or the bare discord.py bot) is pointed at it by
``site/sitecustomize.py`` (``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``),
so it runs unmodified. The driver (the benchmark or the test, in this process) builds a world
(guilds, channels, roles, members), injects gateway events (``message``, ``interaction``,
``reconnect``) and observes the bot's REST requests (``requests``, ``wait_for``).

REST: the routes the bot uses answer with plausible objects (users/@me, the application,
gateway/bot, application commands, messages, DM channels, interactions and webhooks, members,
bans, roles); every other route is logged in ``unknown`` and answered 200 ``{}`` (204 for
DELETE). Gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats and ACK, member chunks
(op 8), zlib-stream compression, RESUME (replaying what was missed) and RECONNECT (op 7).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import re
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = 0x0000_0006_3BFE_FE43  # roughly Discord's default @everyone


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Snowflakes:
    """Increasing snowflakes whose timestamp is now."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def __call__(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


@dataclass
class Member:
    user: dict[str, Any]
    roles: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=now_iso)

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(role) for role in self.roles],
            "joined_at": self.joined_at,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "pending": False,
            "avatar": None,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)
    #: Members Discord says the guild has; more than ``members`` sent: the bot asks for chunks.
    member_count: int | None = None
    #: Members not sent in GUILD_CREATE, only in chunks (a large guild).
    chunk_only: list[Member] = field(default_factory=list)

    def channel(self, name: str) -> dict[str, Any]:
        return next(c for c in self.channels if c["name"] == name)

    def role(self, name: str) -> dict[str, Any]:
        return next(r for r in self.roles if r["name"] == name)

    def payload(self) -> dict[str, Any]:
        count = self.member_count or len(self.members) + len(self.chunk_only)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "widget_enabled": False,
            "max_members": 500000,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": self.roles,
            "channels": self.channels,
            "threads": [],
            "members": [member.payload() for member in self.members.values()],
            "member_count": count,
            "large": count > 250,
            "unavailable": False,
            "joined_at": now_iso(),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class Request:
    """One REST request the bot made."""

    method: str
    path: str
    body: Any
    at: float
    query: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> str:
        return str(self.body.get("content") or "") if isinstance(self.body, dict) else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict):
            return list(self.body.get("embeds") or [])
        return []

    def text(self) -> str:
        """The content and the embeds' text, to match a reply against."""
        parts = [self.content]
        for embed in self.embeds:
            parts.append(str(embed.get("title") or ""))
            parts.append(str(embed.get("description") or ""))
            for item in embed.get("fields") or []:
                parts.append(f"{item.get('name')} {item.get('value')}")
        data = self.body.get("data") if isinstance(self.body, dict) else None
        if isinstance(data, dict):
            parts.append(str(data.get("content") or ""))
        return "\n".join(parts)


class GatewayState:
    """A gateway session: survives its connection so it can be resumed."""

    def __init__(self, session_id: str, shard: tuple[int, int]) -> None:
        self.session_id = session_id
        self.shard = shard
        self.seq = 0
        self.buffer: collections.deque[tuple[int, bytes]] = collections.deque(maxlen=5000)
        self.connection: GatewayConnection | None = None


class GatewayConnection:
    """One websocket to the bot, with its zlib stream."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.compressor = zlib.compressobj() if compress else None
        self.lock = asyncio.Lock()
        self.state: GatewayState | None = None

    def frame(self, raw: bytes) -> bytes:
        if self.compressor is None:
            return raw
        return self.compressor.compress(raw) + self.compressor.flush(zlib.Z_SYNC_FLUSH)

    async def send_raw(self, raw: bytes) -> None:
        async with self.lock:
            await self._send(raw)

    async def _send(self, raw: bytes) -> None:
        if self.compressor is None:
            await self.ws.send_str(raw.decode())
        else:
            await self.ws.send_bytes(self.frame(raw))

    async def send_op(self, op: int, data: Any) -> None:
        await self.send_raw(json.dumps({"op": op, "d": data, "s": None, "t": None}).encode())


class FakeDiscord:
    """The fake Discord: REST, gateway, the world, and the driver's API."""

    def __init__(self, *, heartbeat_ms: int = 41250) -> None:
        self.snowflake = Snowflakes()
        self.heartbeat_ms = heartbeat_ms
        self.bot_user = user_payload(self.snowflake(), "FishBench", bot=True)
        self.application_id = int(self.bot_user["id"])
        self.owner_user = user_payload(self.snowflake(), "bench-owner")
        self.guilds: dict[int, Guild] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.dm_channels: dict[int, int] = {}
        self.commands: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.unknown: list[str] = []
        self.first_request_at: float | None = None
        self.identified = asyncio.Event()
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeats = 0
        self.chunk_requests = 0
        self.states: dict[str, GatewayState] = {}
        self._waiters: list[tuple[Callable[[Request], bool], asyncio.Future[Request]]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.record_requests = True
        #: Requests a second per route the rate-limit headers allow (0: send none).
        self.rate_limit = 100_000

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.host = host

    async def stop(self) -> None:
        for state in self.states.values():
            if state.connection is not None:
                await state.connection.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def environment(self) -> dict[str, str]:
        """What the bot process needs in its environment to talk to this fake."""
        return {"FISHBOT_LOOPBACK_API": self.base_url, "FISHBOT_LOOPBACK_GATEWAY": self.gateway_url}

    def reset_observations(self) -> None:
        self.requests.clear()
        self.first_request_at = None

    # --- the world ------------------------------------------------------------------------

    def create_user(self, name: str) -> dict[str, Any]:
        user = user_payload(self.snowflake(), name)
        self.users[int(user["id"])] = user
        return user

    def create_guild(
        self,
        name: str = "Bench",
        *,
        members: int = 8,
        channels: tuple[str, ...] = ("general", "mod-log"),
        member_count: int | None = None,
        chunked_members: int = 0,
    ) -> Guild:
        """A guild owned by ``owner_user``: @everyone, a Bot role (administrator) above a
        Moderator role, text channels, the owner, the bot and ``members`` members; with
        ``chunked_members`` more that the bot only gets by asking for chunks."""
        guild_id = self.snowflake()
        guild = Guild(id=guild_id, name=name, owner_id=int(self.owner_user["id"]))
        guild.roles = [
            self._role(guild_id, "@everyone", 0, EVERYONE_PERMISSIONS),
            self._role(self.snowflake(), "Moderator", 1, (1 << 1) | (1 << 2) | (1 << 40)),
            self._role(self.snowflake(), "Bot", 2, ADMINISTRATOR | ALL_PERMISSIONS, managed=False),
        ]
        for position, channel_name in enumerate(channels):
            guild.channels.append(
                {
                    "id": str(self.snowflake()),
                    "type": 0,
                    "guild_id": str(guild_id),
                    "name": channel_name,
                    "position": position,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "topic": None,
                    "rate_limit_per_user": 0,
                    "last_message_id": None,
                    "flags": 0,
                }
            )
        owner = Member(self.owner_user)
        guild.members[owner.id] = owner
        bot = Member(self.bot_user, roles=[int(guild.role("Bot")["id"])])
        guild.members[bot.id] = bot
        for index in range(members):
            member = Member(self.create_user(f"member{index}"))
            guild.members[member.id] = member
        for index in range(chunked_members):
            guild.chunk_only.append(Member(user_payload(self.snowflake(), f"chunked{index}")))
        if chunked_members:
            guild.member_count = len(guild.members) + chunked_members
        elif member_count is not None:
            guild.member_count = member_count
        self.guilds[guild_id] = guild
        return guild

    def add_member(self, guild: Guild, name: str, *, roles: list[int] | None = None) -> Member:
        member = Member(self.create_user(name), roles=list(roles or []))
        guild.members[member.id] = member
        return member

    @staticmethod
    def _role(
        role_id: int, name: str, position: int, permissions: int, *, managed: bool = False
    ) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": managed,
            "mentionable": False,
            "flags": 0,
        }

    def members_of(self, guild: Guild) -> list[Member]:
        """The ordinary members (neither the owner nor the bot)."""
        skip = {guild.owner_id, self.application_id}
        return [member for member in guild.members.values() if member.id not in skip]

    # --- injecting events -----------------------------------------------------------------

    def _state(self) -> GatewayState:
        if not self.states:
            raise RuntimeError("the bot has not identified")
        return next(reversed(self.states.values()))

    def _encode(self, state: GatewayState, event: str, data: Any) -> bytes:
        state.seq += 1
        raw = json.dumps({"op": 0, "t": event, "s": state.seq, "d": data}).encode()
        state.buffer.append((state.seq, raw))
        return raw

    async def dispatch(self, event: str, data: Any) -> None:
        """Send one dispatch event on the current session (buffered for a RESUME)."""
        state = self._state()
        connection = state.connection
        if connection is None:
            self._encode(state, event, data)
            return
        async with connection.lock:
            raw = self._encode(state, event, data)
            # A closed socket: the bot reconnects and resumes, the event is replayed then.
            with contextlib.suppress(ConnectionError):
                await connection._send(raw)

    async def dispatch_many(self, events: list[tuple[str, Any]]) -> float:
        """Send many events as fast as the socket takes them; returns when sending began.

        The frames are compressed first (not timed): the returned ``perf_counter`` is the
        moment the first one was written.
        """
        state = self._state()
        connection = state.connection
        assert connection is not None
        async with connection.lock:
            frames = [connection.frame(self._encode(state, t, d)) for t, d in events]
            ws = connection.ws
            text = connection.compressor is None
            started = time.perf_counter()
            for index, frame in enumerate(frames):
                if text:
                    await ws.send_str(frame.decode())
                else:
                    await ws.send_bytes(frame)
                if index % 256 == 255:
                    await asyncio.sleep(0)
        return started

    def message_payload(
        self, guild: Guild, channel_name: str, author: Member, content: str
    ) -> dict[str, Any]:
        channel = guild.channel(channel_name)
        mentions = []
        for match in re.finditer(r"<@!?(\d+)>", content):
            target = guild.members.get(int(match.group(1)))
            if target is not None:
                mentions.append({**target.user, "member": target.payload(with_user=False)})
        return {
            "id": str(self.snowflake()),
            "channel_id": channel["id"],
            "guild_id": str(guild.id),
            "author": author.user,
            "member": author.payload(with_user=False),
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
        }

    async def message(
        self, guild: Guild, channel_name: str, author: Member, content: str
    ) -> dict[str, Any]:
        """A member sends a message; returns its payload."""
        data = self.message_payload(guild, channel_name, author, content)
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    async def interaction(
        self,
        guild: Guild,
        channel_name: str,
        author: Member,
        name: str,
        options: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A member runs the slash command ``name``; returns the interaction payload."""
        command = next((c for c in self.commands if c.get("name") == name), None)
        command_id = command["id"] if command else str(self.snowflake())
        channel = guild.channel(channel_name)
        data = {
            "id": str(self.snowflake()),
            "application_id": str(self.application_id),
            "type": 2,
            "token": secrets.token_urlsafe(24),
            "version": 1,
            "guild_id": str(guild.id),
            "channel_id": channel["id"],
            "channel": {**channel},
            "member": {**author.payload(), "permissions": str(ALL_PERMISSIONS)},
            "app_permissions": str(ALL_PERMISSIONS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10485760,
            "data": {"id": command_id, "name": name, "type": 1, "options": options or []},
        }
        await self.dispatch("INTERACTION_CREATE", data)
        return data

    async def reconnect(self) -> None:
        """Ask the bot to reconnect (op 7); it should RESUME on a new socket."""
        state = self._state()
        if state.connection is not None:
            await state.connection.send_op(7, None)

    # --- observing ------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[Request], bool], within: float = 10.0) -> Request:
        """The next request (from now) that matches ``predicate``."""
        future: asyncio.Future[Request] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, within)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def expect_reply(self, channel_id: int | str, contains: str = "") -> Callable[[Request], bool]:
        """A predicate: a message posted to ``channel_id`` whose text contains ``contains``."""
        path = f"/channels/{channel_id}/messages"

        def matches(request: Request) -> bool:
            return request.method == "POST" and request.path == path and contains in request.text()

        return matches

    def _observe(self, request: Request) -> None:
        if self.first_request_at is None:
            self.first_request_at = request.at
        if self.record_requests:
            self.requests.append(request)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(request):
                future.set_result(request)

    # --- REST -----------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        at = time.perf_counter()
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            if request.content_type.startswith("multipart/"):
                reader = await request.multipart()
                while True:
                    part: Any = await reader.next()
                    if part is None:
                        break
                    if part.name == "payload_json":
                        body = json.loads(await part.text())
                    else:
                        await part.read()
            else:
                raw = await request.read()
                body = json.loads(raw) if raw else None
        entry = Request(request.method, path, body, at, dict(request.query))
        self._observe(entry)
        result = self._answer(request.method, path, body)
        if result is None:
            return web.Response(status=204)
        status, payload = result
        # discord.py reads JSON only when the content type is exactly application/json.
        return web.Response(
            body=json.dumps(payload).encode(),
            status=status,
            headers={"Content-Type": "application/json", **self._ratelimit_headers(path)},
        )

    def _ratelimit_headers(self, path: str) -> dict[str, str]:
        """Generous rate-limit headers (``rate_limit`` requests a second per route).

        Without any, discord.py allows one request in flight per route and channel (its
        bucket starts with a limit of 1), which would measure that queue, not the bot. Real
        Discord allows about 5 messages per 5 s in a channel: a burst there is paced by
        Discord whatever the bot does.
        """
        if not self.rate_limit:
            return {}
        bucket = re.sub(r"\d{15,}", "id", path)
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(self.rate_limit - 1),
            "X-RateLimit-Reset-After": "1.0",
            "X-RateLimit-Bucket": f"{bucket}:{path}",
        }

    def _message(self, channel_id: str, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        return {
            "id": str(self.snowflake()),
            "channel_id": channel_id,
            "author": self.bot_user,
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
        }

    def _answer(self, method: str, path: str, body: Any) -> tuple[int, Any] | None:
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/users/@me":
            return 200, self.bot_user
        if method == "GET" and path == "/oauth2/applications/@me":
            return 200, self._application()
        if method == "GET" and path in ("/gateway/bot", "/gateway"):
            return 200, {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        if parts[0] == "applications" and "commands" in parts:
            return self._commands(method, body)
        if method == "POST" and path == "/users/@me/channels":
            recipient = int(body["recipient_id"])
            channel_id = self.dm_channels.setdefault(recipient, self.snowflake())
            user = self.users.get(recipient) or user_payload(recipient, "someone")
            return 200, {"id": str(channel_id), "type": 1, "recipients": [user]}
        if parts[0] == "channels" and len(parts) >= 3 and parts[2] == "messages":
            channel_id = parts[1]
            if method == "POST" and len(parts) == 3:
                return 200, self._message(channel_id, body)
            if method == "PATCH" and len(parts) == 4:
                return 200, {**self._message(channel_id, body), "id": parts[3]}
            if method == "DELETE":
                return None
            if method == "GET" and len(parts) == 3:
                return 200, []
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "typing":
            return None
        if parts[0] == "interactions" and parts[-1] == "callback":
            return 200, self._callback(parts[1], body)
        if parts[0] == "webhooks":
            channel = "0"
            if method in ("POST", "PATCH"):
                message = self._message(channel, body)
                if len(parts) >= 5 and parts[3] == "messages" and parts[4] != "@original":
                    message["id"] = parts[4]
                return 200, message
            if method == "GET":
                return 200, self._message(channel, {})
            return None
        if parts[0] == "guilds" and len(parts) >= 3:
            return self._guild_route(method, parts)
        if method == "DELETE" or method == "PUT":
            self.unknown.append(f"{method} {path}")
            return None
        self.unknown.append(f"{method} {path}")
        return 200, {}

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.owner_user,
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "summary": "",
            "bot": self.bot_user,
        }

    def _commands(self, method: str, body: Any) -> tuple[int, Any]:
        if method == "PUT" and isinstance(body, list):
            self.commands = [
                {
                    **command,
                    "id": str(self.snowflake()),
                    "application_id": str(self.application_id),
                    "version": str(self.snowflake()),
                    "default_member_permissions": command.get("default_member_permissions"),
                    "type": command.get("type", 1),
                }
                for command in body
            ]
            return 200, self.commands
        return 200, self.commands if method == "GET" else {}

    def _callback(self, interaction_id: str, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        kind = int(body.get("type", 4))
        data = body.get("data") or {}
        result: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
            }
        }
        if kind in (4, 5):
            message = self._message("0", data)
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        return result

    def _guild_route(self, method: str, parts: list[str]) -> tuple[int, Any] | None:
        guild = self.guilds.get(int(parts[1])) if parts[1].isdigit() else None
        section = parts[2]
        if section == "members" and len(parts) == 4 and method in ("GET", "PATCH"):
            member = guild.members.get(int(parts[3])) if guild and parts[3].isdigit() else None
            if member is None:
                return 404, {"message": "Unknown Member", "code": 10007}
            return 200, member.payload()
        if section == "members" and method == "GET":
            return 200, [m.payload() for m in (guild.members.values() if guild else [])]
        if section in ("bans", "members") and method in ("PUT", "DELETE"):
            return None
        if section == "bans" and method == "GET":
            return 200, []
        if section == "roles" and method == "GET":
            return 200, guild.roles if guild else []
        if section == "channels" and method == "GET":
            return 200, guild.channels if guild else []
        if len(parts) == 2 and method == "GET" and guild is not None:
            return 200, guild.payload()
        self.unknown.append(f"{method} /{'/'.join(parts)}")
        return None if method in ("PUT", "DELETE") else (200, {})  # type: ignore[return-value]

    # --- gateway --------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, compress=False)
        await ws.prepare(request)
        self._observe(Request("GATEWAY", "/gateway", None, time.perf_counter()))
        connection = GatewayConnection(ws, request.query.get("compress") == "zlib-stream")
        await connection.send_op(10, {"heartbeat_interval": self.heartbeat_ms})
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    if message.type == WSMsgType.BINARY:
                        payload = json.loads(zlib.decompress(message.data))
                    else:
                        continue
                else:
                    payload = json.loads(message.data)
                await self._on_gateway(connection, payload)
        finally:
            if connection.state is not None and connection.state.connection is connection:
                connection.state.connection = None
        return ws

    async def _on_gateway(self, connection: GatewayConnection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == 1:
            self.heartbeats += 1
            await connection.send_op(11, None)
        elif op == 2:
            await self._identify(connection, data)
        elif op == 6:
            await self._resume(connection, data)
        elif op == 8:
            await self._chunks(connection, data)

    async def _identify(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        self.identify_count += 1
        shard = tuple(data.get("shard") or (0, 1))
        state = GatewayState(secrets.token_hex(16), (int(shard[0]), int(shard[1])))
        self.states[state.session_id] = state
        state.connection = connection
        connection.state = state
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": state.session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": list(state.shard),
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "session_type": "normal",
            "auth": {},
        }
        async with connection.lock:
            await connection._send(self._encode(state, "READY", ready))
            for guild in self.guilds.values():
                await connection._send(self._encode(state, "GUILD_CREATE", guild.payload()))
        self.identified.set()

    async def _resume(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        state = self.states.get(str(data.get("session_id")))
        if state is None:
            await connection.send_op(9, False)  # invalid session: identify again
            return
        self.resume_count += 1
        state.connection = connection
        connection.state = state
        last = int(data.get("seq") or 0)
        async with connection.lock:
            for seq, raw in list(state.buffer):
                if seq > last:
                    await connection._send(raw)
            await connection._send(self._encode(state, "RESUMED", {}))

    async def _chunks(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        self.chunk_requests += 1
        guild = self.guilds.get(int(data["guild_id"]))
        if guild is None or connection.state is None:
            return
        members = [*guild.members.values(), *guild.chunk_only]
        size = 1000
        batches = [members[i : i + size] for i in range(0, len(members), size)] or [[]]
        state = connection.state
        async with connection.lock:
            for index, batch in enumerate(batches):
                chunk = {
                    "guild_id": str(guild.id),
                    "members": [member.payload() for member in batch],
                    "chunk_index": index,
                    "chunk_count": len(batches),
                    "not_found": [],
                    "nonce": data.get("nonce"),
                }
                await connection._send(self._encode(state, "GUILD_MEMBERS_CHUNK", chunk))
