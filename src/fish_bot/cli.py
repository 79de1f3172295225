"""The ``fish-bot`` command line: run the bot and manage its database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from importlib.util import find_spec as find_module_spec
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
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
settings_app = typer.Typer(
    help="Export and import every cog setting and permission rule (YAML or JSON).",
    no_args_is_help=True,
)
app.add_typer(settings_app, name="settings")

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line to stderr and exit with ``code``."""
    # The message may hold user text (a file name, a value): never read it as Rich markup.
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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
    from fish_bot.logs import setup_logging_from_settings
    from fish_bot.operations.lock import BotRunningError, RunLock

    lock = RunLock(settings.data_dir)
    try:
        lock.acquire()
    except BotRunningError as error:
        fail(str(error), 1)
    setup_logging_from_settings(settings)
    try:
        code = run_async(lambda: run_bot(settings))
    finally:
        lock.release()
    raise typer.Exit(code)


# --- doctor ----------------------------------------------------------------------------------


@app.command()
def doctor() -> None:
    """Check the configuration, token, database, data folder and ports; say what to fix."""
    from fish_bot.operations.doctor import run_checks

    checks = asyncio.run(run_checks())
    table = Table("", "check", "result", "what to do", show_lines=False)
    for check in checks:
        mark = "[green]✓[/]" if check.ok else "[bold red]✗[/]"
        table.add_row(mark, check.name, check.detail, check.fix)
    out.print(table)
    failed = [check for check in checks if not check.ok]
    if failed:
        err.print(f"[bold red]{len(failed)} check(s) failed.[/]", highlight=False)
        raise typer.Exit(1)
    out.print("[green]Everything looks fine.[/]", highlight=False)


# --- db --------------------------------------------------------------------------------------


async def _with_service(action: Callable[[Any], Awaitable[T]]) -> T:
    from fish_bot.database.service import DatabaseService

    service = DatabaseService.from_settings(settings_or_exit())
    await service.connect()
    try:
        return await action(service)
    finally:
        await service.disconnect()


def _migrate(direction: Literal["upgrade", "downgrade"], revision: str) -> None:
    """Run the migrations up or down to ``revision`` and say where the database is now."""
    from fish_bot.database import migrations

    step = migrations.upgrade if direction == "upgrade" else migrations.downgrade

    async def action(service: Any) -> str | None:
        await step(service, revision)
        return await migrations.current_revision(service)

    current = run_async(lambda: _with_service(action))
    out.print(f"Database is at revision {current or 'base (empty)'}.")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database to a revision (default: the newest)."""
    _migrate("upgrade", revision)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' to remove all.")],
) -> None:
    """Downgrade the database to a revision ('base' removes every Fish Bot table)."""
    _migrate("downgrade", revision)


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


@db_app.command("backup")
def db_backup(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Archive to write (.tar.gz). Default: <data_dir>/backups/fish-bot-<time>.tar.gz"
        ),
    ] = None,
) -> None:
    """Back up the database and the cache data (<data_dir>/cogs) into one archive.

    SQLite is copied online (the bot may keep running); PostgreSQL needs pg_dump on PATH.
    """
    from fish_bot.operations import backup

    settings = settings_or_exit()
    target = file if file is not None else backup.default_backup_path(settings)
    manifest = run_async(lambda: backup.create_backup(settings, target))
    out.print(
        f"Backup written to {target} ({manifest.dialect}, revision "
        f"{manifest.revision or 'base'}, {manifest.cog_files} cache-data files).",
        highlight=False,
    )


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="Archive written by `fish-bot db backup`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    keep_current: Annotated[
        bool,
        typer.Option(
            "--keep-current/--no-keep-current",
            help="First save the current state to <data_dir>/backups/pre-restore-<time>.tar.gz.",
        ),
    ] = True,
) -> None:
    """Replace the database and the cache data with a backup's (the bot must be stopped)."""
    from fish_bot.operations import backup

    settings = settings_or_exit()

    def confirm(manifest: backup.Manifest) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            fail("restore replaces the database and the cache data: pass --yes to confirm", 1)
        from fish_bot.database.service import DatabaseService

        where = DatabaseService.from_settings(settings).safe_url()
        return typer.confirm(
            f"Replace the database {where} and {settings.data_dir}/cogs with the backup of "
            f"{manifest.created_at} (revision {manifest.revision or 'base'})?",
            default=False,
        )

    result = run_async(
        lambda: backup.restore_backup(settings, file, keep_current=keep_current, confirm=confirm)
    )
    if result.safety_copy is not None:
        out.print(f"The previous state was saved to {result.safety_copy}.", highlight=False)
    revision = result.manifest.revision or "base"
    note = (
        ""
        if revision == result.head
        else f" The bot upgrades it to {result.head} at start-up (or run `fish-bot db upgrade`)."
    )
    out.print(
        f"Restored the backup of {result.manifest.created_at} (revision {revision}).{note}",
        highlight=False,
    )


# --- settings --------------------------------------------------------------------------------


async def _ensure_schema(service: Any, settings: Settings, *, for_import: bool) -> None:
    """Export reads any non-empty database; import needs the newest schema (upgrades it)."""
    from fish_bot.database import migrations

    current = await migrations.current_revision(service)
    head = migrations.head_revision()
    if current == head:
        return
    if not for_import:
        if current is None:
            raise FishBotError("the database is empty: there is nothing to export")
        return
    if not settings.migrate_on_start:
        raise FishBotError(
            f"the database is at {current or 'base'}, not {head}: run `fish-bot db upgrade`"
        )
    await migrations.upgrade(service)


@settings_app.command("export")
def settings_export(
    file: Annotated[Path, typer.Argument(help="File to write: .yaml, .yml or .json.")],
) -> None:
    """Write every cog setting (global and per guild) and permission rule to a file."""
    from fish_bot.database.coordinator import DatabaseCoordinator
    from fish_bot.operations import settings_catalog, settings_file, settings_io

    settings = settings_or_exit()
    try:
        settings_file.file_format(file)
    except FishBotError as error:
        fail(str(error), 2)

    async def action(service: Any) -> tuple[dict[str, Any], list[str]]:
        await _ensure_schema(service, settings, for_import=False)
        catalog = settings_catalog.declared_settings(settings)
        document, warnings = await settings_io.export_settings(
            DatabaseCoordinator(service), catalog
        )
        await settings_file.write_file(file, document)
        return document, warnings

    document, warnings = run_async(lambda: _with_service(action))
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    values = sum(len(v) for v in document["settings"]["global"].values()) + sum(
        len(v) for cogs in document["settings"]["guilds"].values() for v in cogs.values()
    )
    out.print(
        f"Exported {values} setting values and the permissions of "
        f"{len(document['permissions'])} guilds to {file}.",
        highlight=False,
    )


@settings_app.command("import")
def settings_import(
    file: Annotated[Path, typer.Argument(help="File written by `fish-bot settings export`.")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Remove every stored setting and permission rule first (the database then "
            "holds exactly the file).",
        ),
    ] = False,
) -> None:
    """Check every value in a file against the cogs' declared settings, then store them all.

    Nothing is changed when any value is bad; every bad value is listed. The bot must be
    stopped (it keeps settings in memory).
    """
    from fish_bot.database.coordinator import DatabaseCoordinator
    from fish_bot.operations import settings_catalog, settings_file, settings_io
    from fish_bot.operations.lock import refuse_if_running

    settings = settings_or_exit()

    async def prepare() -> settings_io.ImportPlan:
        refuse_if_running(settings.data_dir, "import settings")
        document = await settings_file.read_file(file)
        return settings_io.plan_import(document, settings_catalog.declared_settings(settings))

    plan = run_async(prepare)

    async def action(service: Any) -> dict[str, int]:
        await _ensure_schema(service, settings, for_import=True)
        return await settings_io.apply_import(DatabaseCoordinator(service), plan, replace=replace)

    counts = run_async(lambda: _with_service(action))
    summary = ", ".join(f"{count} {what}" for what, count in counts.items())
    out.print(f"Imported {summary} from {file}.", highlight=False)


# --- sandbox ---------------------------------------------------------------------------------


@app.command()
def sandbox(
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Only print the page's address.")
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=1, max=65535, help="Serve the page on this port (default: a free one)."
        ),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start over: delete the sandbox's saved state first.")
    ] = False,
    console: Annotated[
        bool, typer.Option("--console", help="Use the sandbox in this terminal, not a browser.")
    ] = False,
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            metavar="FILE",
            help="Play a file of 'person: action' lines and print the transcript.",
        ),
    ] = None,
    channel: Annotated[
        str, typer.Option("--channel", help="The channel to show or act in.")
    ] = "general",
) -> None:
    """Try Fish Bot without a Discord token: a simulated server in your browser.

    The real bot, its cogs and its database (in <data_dir>/sandbox/, kept between runs) run
    against a simulated Discord server with an owner, a moderator and two members.
    """
    import logging

    missing = missing_sandbox_packages()
    if missing:
        fail(
            f"The sandbox needs the 'sandbox' extra ({', '.join(missing)} not installed): "
            "pip install 'fish-bot[sandbox]' (from a clone, `uv run fish-bot sandbox` has it).",
            2,
        )

    from fish_bot.logs import setup_logging
    from fish_bot.sandbox import SandboxError, SandboxOptions, prepare_sandbox

    settings = settings_or_exit()
    level = settings.log_level if "log_level" in settings.model_fields_set else logging.WARNING
    setup_logging(level)
    options = SandboxOptions(
        script=script,
        console=console,
        open_browser=not no_browser,
        port=port,
        fresh=fresh,
        channel=channel,
    )
    try:
        code = run_async(prepare_sandbox(settings, options, out, err))
    except SandboxError as error:
        fail(error.message, error.code)
    raise typer.Exit(code)


#: Modules of the ``fish-bot[sandbox]`` extra: SimCord and its browser preview's dependencies.
SANDBOX_MODULES = ("simcord", "PIL", "av", "markdown_it")


def missing_sandbox_packages() -> list[str]:
    """The modules of the sandbox extra that are not installed (empty: it can run)."""
    return [name for name in SANDBOX_MODULES if find_module_spec(name) is None]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
