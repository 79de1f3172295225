"""Logging set-up: stdlib logging with Rich console output.

Every cog logs through ``logging.getLogger("fish_bot.cogs.<name>")``; the level comes from the
settings (``FISHBOT_LOG_LEVEL``).
"""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

_CONFIGURED_MARK = "_fishbot_handler"


def setup_logging(level: int | str = logging.INFO, *, console: Console | None = None) -> None:
    """Route Fish Bot's and discord.py's logs to a Rich console handler (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _CONFIGURED_MARK, False):
            root.removeHandler(handler)
    handler = RichHandler(
        console=console or Console(stderr=True),
        show_path=False,
        rich_tracebacks=True,
        markup=False,
        log_time_format="[%Y-%m-%d %H:%M:%S]",
    )
    setattr(handler, _CONFIGURED_MARK, True)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # discord.py's gateway chatter is noisy below INFO.
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, root.level))
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
