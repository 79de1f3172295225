"""``fish-bot cluster status``: the nodes of a cluster, their shards, guilds and health."""

from __future__ import annotations

from typing import Annotated

import typer

from fish_bot.cli.app import HELP_OPTIONS, app, fail, out, run_async, with_service

cluster_app = typer.Typer(
    help="Cluster mode: the bot processes sharing this database (docs/scaling.md).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings=HELP_OPTIONS,
)
app.add_typer(cluster_app, name="cluster")


@cluster_app.command("status")
def cluster_status(
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit with 1 when a node is dead or a shard runs nowhere."),
    ] = False,
) -> None:
    """Print each node (name, shards, host, pid, version, guilds, last heartbeat, health).

    A node whose heartbeat is older than 60 seconds is dead. Below the table: shards that
    run on no live node, and nodes that disagree on the shard count. Nothing is changed.
    """
    from rich.table import Table

    from fish_bot.operations.cluster import cluster_status as read_status

    nodes, problems = run_async(lambda: with_service(read_status))
    if not nodes:
        for problem in problems:
            out.print(f"[yellow]![/] {problem}", highlight=False)
        out.print(
            "No node is registered: no `fish-bot run` is running on this database "
            "(or it runs in the sandbox or tests).",
            highlight=False,
        )
        return
    table = Table("node", "shards", "host", "pid", "version", "guilds", "heartbeat", "health")
    for node in nodes:
        shards = node.shards if node.shard_count is None else f"{node.shards} of {node.shard_count}"
        table.add_row(
            node.name,
            shards,
            node.host,
            str(node.pid),
            node.version,
            str(node.guild_count),
            f"{node.heartbeat_age:.0f}s ago",
            "[green]alive[/]" if node.alive else "[bold red]dead[/]",
        )
    out.print(table)
    live = sum(1 for node in nodes if node.alive)
    guilds = sum(node.guild_count for node in nodes if node.alive)
    out.print(f"{live} live node(s) of {len(nodes)}, {guilds} guild(s).", highlight=False)
    for problem in problems:
        out.print(f"[yellow]![/] {problem}", highlight=False)
    if strict and problems:
        fail(f"{len(problems)} cluster problem(s): see above.", 1)
