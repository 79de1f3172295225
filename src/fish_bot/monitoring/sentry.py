"""Optional Sentry integration (install the ``sentry`` extra: ``uv sync --extra sentry``).

When ``SENTRY_DSN`` is set and ``sentry_sdk`` can be imported, :func:`init_sentry` starts the
SDK. Then:

* unexpected errors (the ones users see as an apology with an error id) reach Sentry with the
  error id as the ``error_id`` tag: ``FishBot.report_unexpected`` (and the command and
  component error handlers) log ``Error <id> in <where>`` and dispatch ``fishbot_error``; the
  logging integration turns the log record into an event that :func:`tag_error_id` tags, and
  the monitor's ``fishbot_error`` listener calls :func:`capture_unexpected` (dropped by
  Sentry's dedupe when the log record already sent that exception). Other ``ERROR`` log
  records (failing loops, cogs that do not load) become events too;
* every prefix or hybrid command runs inside a transaction (``op="command"``);
* every public coroutine method of a controller obtained through ``bot.db`` runs inside a span
  ``op="db.controller.<method>"``, ``name="<Controller>.<method>"`` with the tags
  ``db.controller`` and ``db.operation`` (the spec's "automatic instrumentation"). The wrapper
  is applied once, by :meth:`DatabaseCoordinator.get` when the controller is created; without
  Sentry nothing is wrapped and a controller call costs nothing extra.

Spans only exist inside a command's transaction (background work makes no spans). Parents are
tracked in a context variable of our own, so concurrent commands never mix their spans.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fish_bot import __version__

if TYPE_CHECKING:
    from discord.ext import commands

    from fish_bot.config import Settings
    from fish_bot.core.host import FishHost

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "SENTRY_DSN is set but sentry-sdk is not installed, so errors are not sent to Sentry. "
    "Install the extra: `uv sync --extra sentry` (or `pip install 'fish-bot[sentry]'`)."
)

#: The span new controller spans attach to (the running command's transaction or span).
current_span: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "fishbot_sentry_span", default=None
)

#: A command transaction's status for each error-policy category (anything else: internal_error).
SPAN_STATUS = {
    "denied": "permission_denied",
    "user": "invalid_argument",
    "database": "unavailable",
}

_ERROR_ID = re.compile(r"\berror(?: id)? `?([0-9a-f]{8})\b", re.IGNORECASE)


def sentry_installed() -> bool:
    try:
        import sentry_sdk  # noqa: F401
    except ImportError:
        return False
    return True


def sentry_active() -> bool:
    """Whether the Sentry SDK is imported and initialised with a DSN."""
    try:
        import sentry_sdk
    except ImportError:
        return False
    return bool(sentry_sdk.is_initialized())


def init_sentry(settings: Settings, **options: Any) -> bool:
    """Start Sentry when ``SENTRY_DSN`` is set; returns whether it is active.

    Already initialised (by an embedding application, or a test with its own transport): kept
    as it is. ``options`` go to ``sentry_sdk.init`` (a test passes ``transport=...``).
    """
    dsn = (settings.sentry_dsn or "").strip()
    if not dsn:
        return False
    try:
        import sentry_sdk
        from sentry_sdk.integrations.logging import LoggingIntegration
    except ImportError:
        log.warning(INSTALL_HINT)
        return False
    if sentry_sdk.is_initialized():
        return True
    init_options: dict[str, Any] = {
        "dsn": dsn,
        "environment": settings.sentry_environment,
        "release": f"fish-bot@{__version__}",
        "traces_sample_rate": settings.sentry_traces_sample_rate,
        # Only what we instrument ourselves: no automatic aiohttp/SQLAlchemy integrations.
        "auto_enabling_integrations": False,
        "integrations": [LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        "before_send": tag_error_id,
    }
    init_options.update(options)
    sentry_sdk.init(**init_options)
    log.info("Sentry is on (environment %s).", settings.sentry_environment)
    return True


def tag_error_id(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """``before_send``: tag an event from a log record with the error id its message names."""
    tags = event.setdefault("tags", {})
    if isinstance(tags, dict) and "error_id" not in tags:
        record = hint.get("log_record") if isinstance(hint, dict) else None
        if record is not None:
            match = _ERROR_ID.search(record.getMessage())
            if match:
                tags["error_id"] = match.group(1)
    return event


def capture_unexpected(error_id: str, error: BaseException) -> None:
    """Send an unexpected error with its error id (no-op when Sentry is off).

    When the logging integration already sent the same exception (the ``Error <id> in ...``
    log line, tagged by :func:`tag_error_id`), Sentry's dedupe drops this second event.
    """
    if not sentry_active():
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        scope.set_tag("error_id", error_id)
        span = current_span.get()
        if span is not None:
            span.set_status("internal_error")
        sentry_sdk.capture_exception(error)


# --- controller spans ------------------------------------------------------------------------


def _traced(
    method: Callable[..., Awaitable[Any]], controller: str, operation: str
) -> Callable[..., Awaitable[Any]]:
    op = f"db.controller.{operation}"
    name = f"{controller}.{operation}"

    @functools.wraps(method)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        parent = current_span.get()
        if parent is None:  # no command transaction: no span
            return await method(*args, **kwargs)
        span = parent.start_child(op=op, name=name)
        span.set_tag("db.controller", controller)
        span.set_tag("db.operation", operation)
        token = current_span.set(span)
        try:
            result = await method(*args, **kwargs)
        except BaseException:
            span.set_status("internal_error")
            raise
        else:
            span.set_status("ok")
            return result
        finally:
            current_span.reset(token)
            span.finish()

    return traced


def instrument_controller(name: str, controller: Any) -> None:
    """Wrap every public coroutine method of ``controller`` (on the instance) in a span."""
    if getattr(controller, "_fishbot_instrumented", False):
        return
    cls = type(controller)
    label = cls.__name__
    for attribute in dir(cls):
        if attribute.startswith("_"):
            continue
        member = inspect.getattr_static(cls, attribute, None)
        if isinstance(member, (staticmethod, classmethod, property)):
            continue
        if not inspect.iscoroutinefunction(member):
            continue
        bound = getattr(controller, attribute)
        setattr(controller, attribute, _traced(bound, label, attribute))
    controller._fishbot_instrumented = True


# --- command transactions --------------------------------------------------------------------


class CommandTracing:
    """One Sentry transaction per prefix or hybrid command.

    Started in the bot's ``before_invoke`` hook (which runs in the command's own task, so the
    context variable reaches every controller call the command makes) and finished when the
    command completes or fails.
    """

    def __init__(self, bot: FishHost) -> None:
        self.bot = bot
        self._open: dict[int, Any] = {}

    def install(self) -> None:
        bot = self.bot
        bot.before_invoke(self.before_invoke)
        bot.add_listener(self.on_command_completion, "on_command_completion")
        bot.add_listener(self.on_command_error, "on_command_error")
        bot.db.instrument(instrument_controller)

    def uninstall(self) -> None:
        for transaction in self._open.values():
            transaction.set_status("cancelled")
            transaction.finish()
        self._open.clear()

    async def before_invoke(self, ctx: commands.Context[Any]) -> None:
        import sentry_sdk

        from fish_bot.monitoring.metrics import context_key, context_kind

        name = ctx.command.qualified_name if ctx.command else "?"
        transaction = sentry_sdk.start_transaction(
            op="command", name=f"command {name}", source="task"
        )
        transaction.set_tag("command", name)
        transaction.set_tag("command.type", context_kind(ctx))
        if ctx.guild is not None:
            transaction.set_tag("guild_id", str(ctx.guild.id))
        key = context_key(ctx)
        if len(self._open) > 1000:  # never grow without bound if an end is missed
            self._open.pop(next(iter(self._open))).finish()
        self._open[key] = transaction
        current_span.set(transaction)

    def _finish(self, ctx: commands.Context[Any], status: str) -> None:
        from fish_bot.monitoring.metrics import context_key

        transaction = self._open.pop(context_key(ctx), None)
        if transaction is not None:
            if transaction.status is None:
                transaction.set_status(status)
            transaction.finish()

    async def on_command_completion(self, ctx: commands.Context[Any]) -> None:
        self._finish(ctx, "ok")

    async def on_command_error(self, ctx: commands.Context[Any], error: Exception) -> None:
        from fish_bot.core.error_policy import classify

        category = classify(error).category
        self._finish(ctx, SPAN_STATUS.get(category or "", "internal_error"))
