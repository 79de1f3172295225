"""``fish-bot run``, ``fish-bot doctor`` and ``fish-bot sandbox``."""

from __future__ import annotations

from importlib.util import find_spec as find_module_spec
from pathlib import Path
from typing import Annotated

import typer

from fish_bot.cli.app import app, err, fail, out, run_async, settings_or_exit

# --- run -----------------------------------------------------------------------------------


@app.command()
def run(
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not upgrade the database at start-up.")
    ] = False,
    shard_count: Annotated[
        int | None,
        typer.Option(
            "--shard-count",
            metavar="N",
            help="Total number of shards of the bot (FISHBOT_SHARD_COUNT; default: Discord's).",
        ),
    ] = None,
    shard_ids: Annotated[
        str | None,
        typer.Option(
            "--shard-ids",
            metavar="IDS",
            help="The shards this process runs, e.g. 0-3,5 (FISHBOT_SHARD_IDS; default: all).",
        ),
    ] = None,
) -> None:
    """Run the bot with the token from DISCORD_TOKEN (environment or .env).

    With --shard-count and --shard-ids the process runs only those shards, as one node of a
    cluster on a PostgreSQL database (docs/scaling.md).
    """
    overrides: dict[str, object] = {}
    if shard_count is not None:
        overrides["shard_count"] = shard_count
    if shard_ids is not None:
        overrides["shard_ids"] = shard_ids
    settings = settings_or_exit(**overrides)
    problem = settings.token_problem()
    if problem:
        fail(problem, 2)
    if no_migrate:
        settings = settings.model_copy(update={"migrate_on_start": False})

    from fish_bot.bot import run_bot
    from fish_bot.core.cluster import ClusterInfo
    from fish_bot.logs import setup_logging_from_settings
    from fish_bot.operations.cluster import claim_node, release_node, sqlite_problem
    from fish_bot.operations.lock import BotRunningError, RunLock

    node = ClusterInfo.from_settings(settings)
    problem = sqlite_problem(settings, node)
    if problem:
        fail(problem, 2)
    lock = RunLock(settings.data_dir, scope=node.lock_scope)
    try:
        lock.acquire()
    except BotRunningError as error:
        fail(str(error), 1)
    setup_logging_from_settings(settings)
    try:
        refusal = run_async(lambda: claim_node(settings, node))
        if refusal:
            fail(refusal, 2)
        try:
            code = run_async(lambda: run_bot(settings, node=node))
        finally:  # a bot that stopped before its heartbeat began leaves no live-looking row
            run_async(lambda: release_node(settings, node))
    finally:
        lock.release()
    raise typer.Exit(code)


# --- doctor ----------------------------------------------------------------------------------


@app.command()
def doctor() -> None:
    """Check the configuration, token, data folder, database and ports, and say what to fix.

    Nothing is created or changed: a folder or database that does not exist yet is reported as
    such. Checks that need Discord are not made (the token's format is checked, not the token).
    """
    import asyncio

    from rich.table import Table

    from fish_bot.operations.doctor import run_checks

    checks = asyncio.run(run_checks())
    table = Table("", "check", "result", "what to do", show_lines=False)
    for check in checks:
        mark = "[green]✓[/]" if check.ok else "[bold red]✗[/]"
        table.add_row(mark, check.name, check.detail, check.fix)
    out.print(table)
    failed = [check for check in checks if not check.ok]
    if failed:
        fail(f"{len(failed)} check(s) failed: see the table above.", 1)
    out.print("[green]Everything that could be checked offline looks fine.[/]", highlight=False)


# --- sandbox ---------------------------------------------------------------------------------


#: Modules of the ``fish-bot[sandbox]`` extra: SimCord and its browser preview's dependencies.
SANDBOX_MODULES = ("simcord", "PIL", "av", "markdown_it")


def missing_sandbox_packages() -> list[str]:
    """The modules of the sandbox extra that are not installed (empty: it can run)."""
    return [name for name in SANDBOX_MODULES if find_module_spec(name) is None]


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
    """Try Fish Bot without a Discord token: a simulated server in your browser or terminal.

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
