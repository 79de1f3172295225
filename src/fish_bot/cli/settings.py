"""``fish-bot settings export|import``: everything a server configured, in a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fish_bot.cli.app import (
    err,
    fail,
    out,
    run_async,
    settings_app,
    settings_or_exit,
    with_service,
)
from fish_bot.exceptions import FishBotError


@settings_app.command("export")
def settings_export(
    file: Annotated[Path, typer.Argument(help="File to write: .yaml, .yml or .json.")],
) -> None:
    """Write every cog setting, guild configuration and permission rule to a file.

    Cog settings (global and per guild), each guild's configuration (prefix, log channels,
    jail, reason required), command rules and ranks. A new install writes a valid, empty
    file. Nothing in the database is created or changed.
    """
    from fish_bot.operations import settings_catalog, settings_file, settings_io

    settings = settings_or_exit()
    try:
        settings_file.file_format(file)
    except FishBotError as error:
        fail(str(error), 2)

    async def action() -> tuple[dict[str, Any], list[str]]:
        catalog = settings_catalog.declared_settings(settings)
        document, warnings = await settings_io.export_from_settings(settings, catalog)
        await settings_file.write_file(file, document)
        return document, warnings

    document, warnings = run_async(action)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    out.print(f"Exported {settings_io.summary(document)} to {file}.", highlight=False)


@settings_app.command("import")
def settings_import(
    file: Annotated[Path, typer.Argument(help="File written by `fish-bot settings export`.")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Remove every stored setting, guild configuration and permission rule first "
            "(the database then holds exactly the file).",
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
        await settings_io.ensure_schema_for_import(service, settings)
        return await settings_io.apply_import(DatabaseCoordinator(service), plan, replace=replace)

    counts = run_async(lambda: with_service(action, settings))
    summary = ", ".join(f"{count} {what}" for what, count in counts.items())
    out.print(f"Imported {summary} from {file}.", highlight=False)
