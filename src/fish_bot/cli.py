"""The ``fish-bot`` command line: run the bot and manage its database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from fish_bot.config import Settings, load_settings
from fish_bot.exceptions import ConfigurationError, DatabaseUnavailable, FishBotError

T = TypeVar("T")

app = typer.Typer(
    name="fish-bot",
    help="Fish Bot: a Discord bot for moderating and running a community, and its framework.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(
    help="Database migrations: upgrade, downgrade, current, history, revision.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line to stderr and exit with ``code``."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    """Load the settings; a bad value ends the command with exit code 2 and one line."""
    try:
        return load_settings(**overrides)
    except ConfigurationError as error:
        fail(str(error), 2)


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine, turning Fish Bot's errors into one line and an exit code."""
    try:
        return asyncio.run(factory())
    except ConfigurationError as error:
        fail(str(error), 2)
    except DatabaseUnavailable as error:
        fail(f"{error} Check FISHBOT_DATABASE_URL and that the database server runs.", 1)
    except FishBotError as error:
        fail(str(error), 1)


# --- run -----------------------------------------------------------------------------------


@app.command()
def run(
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not upgrade the database at start-up.")
    ] = False,
) -> None:
    """Run the bot with the token from DISCORD_TOKEN (environment or .env)."""
    settings = settings_or_exit()
    problem = settings.token_problem()
    if problem:
        fail(problem, 2)
    if no_migrate:
        settings = settings.model_copy(update={"migrate_on_start": False})

    from fish_bot.bot import run_bot
    from fish_bot.logs import setup_logging

    setup_logging(settings.log_level)
    code = run_async(lambda: run_bot(settings))
    raise typer.Exit(code)


# --- db --------------------------------------------------------------------------------------


async def _with_service(action: Callable[[Any], Awaitable[T]]) -> T:
    from fish_bot.database.service import DatabaseService

    service = DatabaseService.from_settings(settings_or_exit())
    await service.connect()
    try:
        return await action(service)
    finally:
        await service.disconnect()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database to a revision (default: the newest)."""
    from fish_bot.database import migrations

    async def action(service: Any) -> str | None:
        await migrations.upgrade(service, revision)
        return await migrations.current_revision(service)

    current = run_async(lambda: _with_service(action))
    out.print(f"Database is at revision {current or 'base (empty)'}.")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' to remove all.")],
) -> None:
    """Downgrade the database to a revision ('base' removes every Fish Bot table)."""
    from fish_bot.database import migrations

    async def action(service: Any) -> str | None:
        await migrations.downgrade(service, revision)
        return await migrations.current_revision(service)

    current = run_async(lambda: _with_service(action))
    out.print(f"Database is at revision {current or 'base (empty)'}.")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and whether it is the newest."""
    from fish_bot.database import migrations

    current = run_async(lambda: _with_service(migrations.current_revision))
    head = migrations.head_revision()
    state = "up to date" if current == head else f"newest is {head}; run `fish-bot db upgrade`"
    out.print(f"{current or 'base (empty)'} ({state})")


@db_app.command("history")
def db_history() -> None:
    """List the migrations shipped with Fish Bot, newest first."""
    from fish_bot.database import migrations

    table = Table("revision", "revises", "description")
    for revision, down, message in migrations.history():
        table.add_row(revision, down or "-", message.splitlines()[0] if message else "")
    out.print(table)


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
    autogenerate: Annotated[
        bool,
        typer.Option(
            "--autogenerate/--empty",
            help="Compare the models with the database and write the difference.",
        ),
    ] = True,
) -> None:
    """Write a new migration file (for developers changing the models)."""
    from fish_bot.database import migrations

    async def action(service: Any) -> str:
        current = await migrations.current_revision(service)
        if autogenerate and current != migrations.head_revision():
            raise FishBotError(
                "the database is not at the newest revision; run `fish-bot db upgrade` first"
            )
        return await migrations.revision(service, message, autogenerate=autogenerate)

    out.print(run_async(lambda: _with_service(action)).strip() or "Migration written.")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
