"""Logging set-up: stdlib logging with Rich console output, JSON lines, a rotating file.

Every cog logs through ``logging.getLogger("fish_bot.cogs.<name>")``; the level comes from the
settings (``FISHBOT_LOG_LEVEL``). Outputs:

* the console (stderr): Rich, or JSON lines with ``FISHBOT_LOG_JSON=true`` (for log shippers);
* optionally a file (``FISHBOT_LOG_FILE``), rotated by size (``FISHBOT_LOG_FILE_MAX_BYTES``,
  ``FISHBOT_LOG_FILE_BACKUPS``), in JSON lines when ``FISHBOT_LOG_JSON`` is on and as plain
  text otherwise. The file is written by a background thread (a queue handler), so logging
  never blocks the event loop on disk I/O.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import datetime as dt
import json
import logging
import logging.handlers
import queue
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.logging import RichHandler

if TYPE_CHECKING:
    from fish_bot.config import Settings

_CONFIGURED_MARK = "_fishbot_handler"

#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_RECORD_FIELDS = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "taskName"}

TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"

_listeners: list[logging.handlers.QueueListener] = []


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, extras.

    ``exc_info`` holds the formatted traceback when the record has one; fields passed with
    ``extra={...}`` are copied (as text when they are not JSON values).
    """

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc_info"] = record.exc_text
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key in _RECORD_FIELDS or key.startswith("_") or key in payload:
                continue
            payload[key] = value
        return json.dumps(payload, default=str, ensure_ascii=False)


class _ThreadQueueHandler(logging.handlers.QueueHandler):
    """Hands records to the file-writing thread, keeping the traceback for its formatter."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        prepared = copy.copy(record)
        prepared.msg = record.getMessage()  # freeze the arguments now
        prepared.args = None
        return prepared


def _mark(handler: logging.Handler) -> logging.Handler:
    setattr(handler, _CONFIGURED_MARK, True)
    return handler


def _stop_listeners() -> None:
    while _listeners:
        listener = _listeners.pop()
        with contextlib.suppress(Exception):  # already stopped
            listener.stop()
        for handler in listener.handlers:
            handler.close()


atexit.register(_stop_listeners)


def file_handler(path: Path, *, max_bytes: int, backups: int, json_lines: bool) -> logging.Handler:
    """A size-rotated file handler (creates the folder); the caller queues it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
    )
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    return handler


def setup_logging(
    level: int | str = logging.INFO,
    *,
    console: Console | None = None,
    json_lines: bool = False,
    stream: IO[str] | None = None,
    log_file: Path | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> None:
    """Route Fish Bot's and discord.py's logs to the console and optionally a file.

    Idempotent: handlers installed by an earlier call are replaced. ``json_lines`` writes JSON
    lines to ``stream`` (default stderr) instead of the Rich console.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _CONFIGURED_MARK, False):
            root.removeHandler(handler)
            handler.close()
    _stop_listeners()

    console_handler: logging.Handler
    if json_lines:
        console_handler = logging.StreamHandler(stream or sys.stderr)
        console_handler.setFormatter(JsonFormatter())
    else:
        console_handler = RichHandler(
            console=console or Console(stderr=True),
            show_path=False,
            rich_tracebacks=True,
            markup=False,
            log_time_format="[%Y-%m-%d %H:%M:%S]",
        )
        console_handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(_mark(console_handler))

    if log_file is not None:
        target = file_handler(log_file, max_bytes=max_bytes, backups=backups, json_lines=json_lines)
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        listener = logging.handlers.QueueListener(records, target, respect_handler_level=False)
        listener.start()
        _listeners.append(listener)
        root.addHandler(_mark(_ThreadQueueHandler(records)))

    root.setLevel(level)
    # discord.py's gateway chatter is noisy below INFO.
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, root.level))
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def setup_logging_from_settings(settings: Settings, *, console: Console | None = None) -> None:
    """:func:`setup_logging` with the level, JSON and file options from the settings."""
    setup_logging(
        settings.log_level,
        console=console,
        json_lines=settings.log_json,
        log_file=settings.log_file,
        max_bytes=settings.log_file_max_bytes,
        backups=settings.log_file_backups,
    )
