"""The ``fish-bot`` command line (Typer): run the bot, the sandbox, doctor, the database and
settings files.

* :mod:`fish_bot.cli.app`: the Typer applications, ``--version``, ``-h``, the one error style
  (``error: ...`` on stderr) and the helpers every command uses.
* :mod:`fish_bot.cli.bot`: ``run``, ``doctor``, ``sandbox``.
* :mod:`fish_bot.cli.cluster`: ``cluster status``.
* :mod:`fish_bot.cli.db`: ``db upgrade|downgrade|current|history|revision|backup|restore|copy``.
* :mod:`fish_bot.cli.settings`: ``settings export|import``.

The work itself lives in :mod:`fish_bot.operations`; each command imports what it needs when it
runs.
"""

from __future__ import annotations

import sys

from fish_bot.cli import bot as bot
from fish_bot.cli import cluster as cluster
from fish_bot.cli import db as db
from fish_bot.cli import settings as settings
from fish_bot.cli.app import app, fail

__all__ = ["app", "fail", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
