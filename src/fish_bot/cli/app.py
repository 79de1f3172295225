"""The Typer applications of ``fish-bot`` and the helpers every command uses.

* :data:`app` (``fish-bot``) with :data:`db_app` (``fish-bot db``) and :data:`settings_app`
  (``fish-bot settings``); ``-h`` works wherever ``--help`` does, help is Rich-formatted.
* :func:`fail` is the one way a command reports an error: one line ``error: ...`` on stderr and
  a non-zero exit code. Click's own usage errors (a missing argument, an unknown option) are
  printed the same way by :class:`FishBotGroup`.
* :func:`run_async` runs a coroutine and turns Fish Bot's and SQLAlchemy's errors into such a
  line (:func:`fish_bot.operations.db_errors.describe_database_error`).

Heavy modules (alembic, Rich tables, the sandbox, the bot) are imported inside the command
functions that need them, so that ``fish-bot run`` starts quickly.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from fish_bot import __version__
from fish_bot.config import Settings, load_settings
from fish_bot.exceptions import ConfigurationError, DatabaseUnavailable, FishBotError

T = TypeVar("T")

out = Console()
err = Console(stderr=True)


def print_error(message: str) -> None:
    """Print ``error: <message>`` on stderr (one line: whitespace runs become one space).

    A message listing several problems keeps its lines after the first.
    """
    first, _, rest = str(message).strip().partition("\n")
    text = " ".join(first.split()) + (f"\n{rest}" if rest else "")
    # The message may hold user text (a file name, a value): never read it as Rich markup.
    err.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear ``error: ...`` line to stderr and exit with ``code``."""
    print_error(message)
    raise typer.Exit(code)


class FishBotGroup(TyperGroup):
    """The top-level group: Click's usage errors become one ``error: ...`` line too."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from typer._click.exceptions import ClickException, UsageError

        try:
            result = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
            code = result if isinstance(result, int) and not isinstance(result, bool) else 0
        except ClickException as error:
            code = error.exit_code
            if type(error).__name__ == "NoArgsIsHelpError":
                pass  # the help was printed
            elif isinstance(error, UsageError) and error.ctx is not None:
                print_error(f"{error.format_message()} (see `{error.ctx.command_path} --help`)")
            else:
                print_error(error.format_message())
        except typer.Abort:
            print_error("cancelled")
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="fish-bot",
    cls=FishBotGroup,
    help="Fish Bot: a Discord bot for moderating and running a community, and its framework.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings=HELP_OPTIONS,
)
db_app = typer.Typer(
    help="The database: migrations, backups, and copying it to another database.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings=HELP_OPTIONS,
)
app.add_typer(db_app, name="db")
settings_app = typer.Typer(
    help="Export and import everything a server configured (YAML or JSON).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings=HELP_OPTIONS,
)
app.add_typer(settings_app, name="settings")


def _show_version(value: bool) -> None:
    if value:
        out.print(f"fish-bot {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version of Fish Bot and exit.",
        ),
    ] = False,
) -> None:
    # The group's help is the Typer(help=...) above; --version is handled by its callback.
    del version


def settings_or_exit(**overrides: Any) -> Settings:
    """Load the settings; a bad value ends the command with exit code 2 and one line."""
    try:
        return load_settings(**overrides)
    except ConfigurationError as error:
        fail(str(error), 2)


def _configured_url() -> str | None:
    try:
        return load_settings().effective_database_url
    except ConfigurationError:
        return None


def run_async(factory: Callable[[], Coroutine[Any, Any, T]], url: str | None = None) -> T:
    """Run a coroutine, turning Fish Bot's and the database's errors into one line.

    ``url`` is the database the errors are about (default: the configured one).
    """
    from fish_bot.operations.db_errors import describe_database_error

    try:
        return asyncio.run(factory())
    except ConfigurationError as error:
        fail(str(error), 2)
    except DatabaseUnavailable as error:
        described = describe_database_error(error, url or _configured_url())
        fail(described or str(error), 1)
    except FishBotError as error:
        fail(str(error), 1)
    except Exception as error:
        described = describe_database_error(error, url or _configured_url())
        if described is None:
            raise
        fail(described, 1)


async def with_service(
    action: Callable[[Any], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run ``action(service)`` on a connected DatabaseService of the configured database."""
    from fish_bot.database.service import DatabaseService

    service = DatabaseService.from_settings(settings or settings_or_exit())
    await service.connect()
    try:
        return await action(service)
    finally:
        await service.disconnect()
