"""The optional HTTP endpoint: ``/healthz`` (JSON) and ``/metrics`` (Prometheus text).

Off by default. ``FISHBOT_HEALTH_PORT`` turns it on (``0`` picks a free port, handy in tests);
it listens on ``FISHBOT_HEALTH_HOST`` (default ``127.0.0.1``: put a reverse proxy or the
scraper on the same host rather than exposing it). The server is an aiohttp application run on
the bot's own event loop, started in ``FishBot.setup_hook`` and stopped in ``FishBot.close``.
"""

from __future__ import annotations

import json
import logging
import math
from typing import TYPE_CHECKING, Any

import discord
from aiohttp import web

from fish_bot.monitoring.metrics import CONTENT_TYPE, BotMetrics, render_metrics

if TYPE_CHECKING:
    from fish_bot.core.host import FishHost

log = logging.getLogger(__name__)


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)


def gateway_status(bot: FishHost) -> dict[str, Any]:
    """Whether the gateway is connected, with each shard's latency."""
    shards: dict[str, Any] = {}
    for shard_id, info in bot.shards.items():
        latency = _finite(info.latency)
        shards[str(shard_id)] = {
            "connected": not info.is_closed(),
            "latency_ms": None if latency is None else round(latency * 1000, 2),
        }
    latency = _finite(bot.latency)
    connected = bot.is_ready() and not bot.is_closed()
    if shards:
        connected = connected and all(shard["connected"] for shard in shards.values())
    return {
        "connected": connected,
        "ready": bot.is_ready(),
        "latency_ms": None if latency is None else round(latency * 1000, 2),
        "guilds": len(bot.guilds),
        "shards": shards,
    }


async def health_report(bot: FishHost) -> tuple[int, dict[str, Any]]:
    """The ``/healthz`` answer: HTTP status and JSON body.

    503 while the gateway is not connected, while the database does not answer (checked on
    every request, so it is 200 again as soon as the database is back) and, once the bot is
    ready, while the job scheduler is not running (its start is retried); 200 otherwise.
    ``reasons`` says why in one line each. ``status`` is ``ok``, ``degraded`` (running, but a
    cog failed to load or recorded an error) or ``unhealthy``.
    """
    gateway = gateway_status(bot)
    database = await bot.db.health()
    scheduler = bot.scheduler.health()
    cogs = {cog.qualified_name: cog.status_summary() for cog in bot.fish_cogs()}
    reasons: list[str] = []
    if not gateway["connected"]:
        reasons.append("the Discord gateway is not connected")
    if not database.get("ok"):
        reasons.append(f"the database does not answer: {database.get('error', 'unknown error')}")
    if gateway["ready"] and not scheduler["running"]:
        why = scheduler["start_error"] or "not started yet"
        reasons.append(f"the job scheduler is not running: {why}")
    healthy = not reasons
    degraded = bool(bot.cog_load_errors) or any(state.get("errors") for state in cogs.values())
    status = "unhealthy" if not healthy else "degraded" if degraded else "ok"
    body = {
        "status": status,
        "uptime_seconds": round(
            max(0.0, (discord.utils.utcnow() - bot.started_at).total_seconds()), 3
        ),
        "cluster": bot.cluster.labels(),
        "gateway": gateway,
        "database": database,
        "scheduler": scheduler,
        "reasons": reasons,
        "cogs": cogs,
        "cog_load_errors": dict(bot.cog_load_errors),
    }
    return (200 if healthy else 503), body


class HealthServer:
    """An aiohttp server for ``/healthz`` and ``/metrics`` on the bot's event loop."""

    def __init__(self, bot: FishHost, metrics: BotMetrics, host: str, port: int) -> None:
        self.bot = bot
        self.metrics = metrics
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/", self.index)
        return app

    async def start(self) -> None:
        """Listen on host:port; an address already in use is logged, not fatal."""
        if self._runner is not None:
            return
        runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.requested_port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            log.error(
                "The health endpoint could not listen on %s:%s: %s (FISHBOT_HEALTH_PORT)",
                self.host,
                self.requested_port,
                error,
            )
            return
        self._runner = runner
        addresses = runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.requested_port
        log.info("Health endpoint on http://%s:%s/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            status, body = await health_report(self.bot)
        except Exception as error:  # the endpoint must answer even when a check crashes
            log.exception("The health check failed")
            status, body = 503, {"status": "unhealthy", "error": type(error).__name__}
        return web.json_response(body, status=status, dumps=_dumps)

    async def metrics_page(self, request: web.Request) -> web.Response:
        text = render_metrics(self.bot, self.metrics)
        return web.Response(body=text.encode("utf-8"), headers={"Content-Type": CONTENT_TYPE})

    async def index(self, request: web.Request) -> web.Response:
        return web.Response(text="Fish Bot: see /healthz and /metrics\n")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, allow_nan=False)
