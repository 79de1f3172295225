"""``fish-bot sandbox``: try Fish Bot without a Discord token.

The real bot, with all its cogs and its real database, runs against SimCord's simulated Discord
in a seeded demo server (:mod:`~fish_bot.sandbox.world`), shown in SimCord's browser preview
(:mod:`~fish_bot.sandbox.preview`), in the terminal (:mod:`~fish_bot.sandbox.console`) or
played from a file (:mod:`~fish_bot.sandbox.script`). :func:`prepare_sandbox` is what the
command line runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from fish_bot.config import Settings
from fish_bot.sandbox.runner import Sandbox, SandboxError, describe_storage

__all__ = ["Sandbox", "SandboxError", "SandboxOptions", "prepare_sandbox"]


@dataclass(frozen=True)
class SandboxOptions:
    """The ``fish-bot sandbox`` options."""

    script: Path | None = None
    console: bool = False
    open_browser: bool = True
    port: int | None = None
    fresh: bool = False
    channel: str = "general"


def prepare_sandbox(
    settings: Settings, options: SandboxOptions, out: Console, err: Console
) -> Callable[[], Coroutine[Any, Any, int]]:
    """Check the options (and the script) and return the sandbox's main coroutine function.

    The coroutine runs until the sandbox ends (Ctrl+C, ``/quit``, the end of the script, the
    page's "End preview session") and returns the exit code. A problem found here or while
    running raises :class:`SandboxError` with the exit code to use.
    """
    from fish_bot.sandbox.world import CHANNELS

    if options.script is not None and options.console:
        raise SandboxError("--script and --console are two different modes: choose one", code=2)
    channel = options.channel.strip().removeprefix("#").lower()
    if channel not in {spec.key for spec in CHANNELS}:
        names = ", ".join(f"#{spec.key}" for spec in CHANNELS)
        raise SandboxError(f"--channel: no channel {options.channel!r} ({names})", code=2)
    lines = None
    if options.script is not None:
        from fish_bot.sandbox.script import parse_script

        try:
            text = options.script.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            message = f"cannot read the script {options.script}: {error}"
            raise SandboxError(message, code=2) from None
        lines = parse_script(text, source=str(options.script))

    async def main() -> int:
        _stop_on_sigterm()
        sandbox = Sandbox(settings, fresh=options.fresh)
        try:
            await sandbox.start()
            err.print(
                f"Sandbox ready: '{sandbox.world.guild.name}', state in "
                f"{describe_storage(sandbox.settings)}.",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            if lines is not None:
                from fish_bot.sandbox.script import run_script

                await run_script(sandbox, lines, out, source=str(options.script), channel=channel)
            elif options.console:
                await _run_console(sandbox, out, channel)
            else:
                from fish_bot.sandbox.preview import run_preview

                await run_preview(
                    sandbox,
                    out,
                    channel=channel,
                    port=options.port,
                    open_browser=options.open_browser,
                )
        except asyncio.CancelledError:  # Ctrl+C (asyncio.run cancels this task) or SIGTERM
            err.print("Stopping the sandbox...", highlight=False)
        finally:
            await sandbox.stop()
        err.print(
            f"Sandbox stopped; its state is saved in {describe_storage(sandbox.settings)}.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return 0

    return main


def _stop_on_sigterm() -> None:
    """Let SIGTERM (``kill``, service managers) stop the sandbox cleanly, as Ctrl+C does."""
    task = asyncio.current_task()
    terminate = getattr(signal, "SIGTERM", None)
    if task is None or terminate is None:
        return
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # Windows
        asyncio.get_running_loop().add_signal_handler(terminate, task.cancel)


async def _run_console(sandbox: Sandbox, out: Console, channel: str) -> None:
    from fish_bot.sandbox.console import ConsoleSession, terminal_lines
    from fish_bot.sandbox.runner import follow_wall_clock

    session = ConsoleSession(sandbox, out, channel=channel)
    session.intro()
    clock = asyncio.create_task(follow_wall_clock(sandbox.env))
    try:
        await session.run(terminal_lines(out, lambda: session.prompt))
    finally:
        clock.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await clock
