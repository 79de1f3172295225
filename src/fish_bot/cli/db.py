"""``fish-bot db ...``: migrations, backup and restore, and copying to another database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from fish_bot.cli.app import db_app, fail, out, run_async, settings_or_exit, with_service
from fish_bot.exceptions import FishBotError

# --- migrations ------------------------------------------------------------------------------


def _migrate(direction: Literal["upgrade", "downgrade"], revision: str) -> None:
    """Run the migrations up or down to ``revision`` and say where the database is now."""
    from fish_bot.database import migrations

    step = migrations.upgrade if direction == "upgrade" else migrations.downgrade

    async def action(service: Any) -> str | None:
        await step(service, revision)
        return await migrations.current_revision(service)

    current = run_async(lambda: with_service(action))
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

    current = run_async(lambda: with_service(migrations.current_revision))
    head = migrations.head_revision()
    state = "up to date" if current == head else f"newest is {head}; run `fish-bot db upgrade`"
    out.print(f"{current or 'base (empty)'} ({state})")


@db_app.command("history")
def db_history() -> None:
    """List the migrations shipped with Fish Bot, newest first."""
    from rich.table import Table

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

    out.print(run_async(lambda: with_service(action)).strip() or "Migration written.")


# --- backup and restore ----------------------------------------------------------------------


@db_app.command("backup")
def db_backup(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Archive to write (.tar.gz). Default: <data_dir>/backups/fish-bot-<time>.tar.gz"
        ),
    ] = None,
) -> None:
    """Back up the database and the cache data (<data_dir>/cogs) into one .tar.gz archive.

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


# --- copy ------------------------------------------------------------------------------------


@db_app.command("copy")
def db_copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="URL",
            help="The database to copy into: postgresql+asyncpg://user:password@host:5432/name "
            "or sqlite+aiosqlite:///path/fish_bot.db. It is migrated to the newest revision.",
        ),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Copy even when the target already holds rows: they are deleted first.",
        ),
    ] = False,
) -> None:
    """Copy every table (settings, cases, jobs, everything) into another database.

    The configured database (FISHBOT_DATABASE_URL) is the source; it is read in one snapshot
    and not changed. The target is migrated first, written in one transaction and its row
    counts checked against the source's. The bot must be stopped. Then point
    FISHBOT_DATABASE_URL at the target.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from fish_bot.operations.db_copy import check_target_url, copy_database

    settings = settings_or_exit()
    try:
        target_url = check_target_url(to)
    except FishBotError as error:
        fail(str(error), 2)

    with Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=out,
        transient=False,
    ) as progress:
        bars: dict[str, Any] = {}

        def on_progress(table: str, done: int, total: int) -> None:
            if table not in bars:
                bars[table] = progress.add_task(table, total=total or 1)
            progress.update(bars[table], completed=done if total else 1)

        report = run_async(
            lambda: copy_database(settings, target_url, force=force, progress=on_progress),
            url=None,
        )
    out.print(
        f"Copied {report.tables} tables ({report.rows} rows) from {report.source} to "
        f"{report.target}; the row counts match. Point FISHBOT_DATABASE_URL at the target to "
        "use it.",
        highlight=False,
        soft_wrap=True,
    )
