"""``fish-bot sandbox --console``: the demo server in the terminal.

Type as one of the sandbox's people; the bot's replies are printed with Rich (embeds as panels,
buttons as ``[Label]``). Console commands start with ``/`` (``/help`` lists them); every other
line is a message or an action of :mod:`fish_bot.sandbox.actions`.

:class:`ConsoleSession` takes its lines from any async iterator, so tests drive it directly;
:func:`terminal_lines` reads them from the keyboard in a thread, leaving the event loop (and the
bot) running while a person types.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable

import simcord
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fish_bot.sandbox.actions import (
    ACTION_HELP,
    ActionError,
    Driver,
    Outcome,
    ParseError,
    parse_action,
)
from fish_bot.sandbox.render import Change, modal_lines, rich_renderable
from fish_bot.sandbox.runner import Sandbox, env_is_idle
from fish_bot.sandbox.world import PEOPLE, ROLES

CONSOLE_HELP = (
    ("/as NAME", "act as someone else: " + ", ".join(spec.key for spec in PEOPLE)),
    ("/in #CHANNEL", "move to another channel"),
    ("/who", "the people, their roles and the channels"),
    ("/commands", "the slash commands the current person can use here"),
    ("/history [N]", "the last N messages of this channel (default 10)"),
    ("/help", "this list"),
    ("/quit", "stop the sandbox (Ctrl+C and Ctrl+D too)"),
)

#: How often the console looks for messages the bot sent on its own (reminders, expiries).
WATCH_INTERVAL = 1.0


class ConsoleSession:
    """One console: the current person and channel, and what the bot printed."""

    def __init__(
        self,
        sandbox: Sandbox,
        console: Console,
        *,
        person: str = "owner",
        channel: str = "general",
    ) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.console = console
        self.driver = Driver(sandbox)
        self.person = self.world.person(person)
        self.channel = self.world.channel(channel)
        self._lock = asyncio.Lock()

    @property
    def prompt(self) -> str:
        return f"{self.person.name} in #{self.world.channel_name(self.channel.id)}> "

    # --- output -----------------------------------------------------------------------------

    def intro(self) -> None:
        self.console.print(
            Text.assemble(
                ("Fish Bot sandbox", "bold"),
                f": the server '{self.world.guild.name}' with ",
                ", ".join(spec.key for spec in PEOPLE),
                ". Type /help for the console commands.",
            )
        )

    def show_changes(self, changes: list[Change]) -> None:
        for change in changes:
            self.console.print(rich_renderable(change, self.driver.namer, self.channel.id))

    def show_outcome(self, outcome: Outcome) -> None:
        self.show_changes(outcome.changes)
        if outcome.modal is not None:
            lines = modal_lines(outcome.modal)
            self.console.print(Text(lines[0], style="bold yellow"))
            for line in lines[1:]:
                self.console.print(Text(line, style="yellow"))
        if not outcome.changes and outcome.modal is None:
            note = "(no reply)" if outcome.acknowledged else "(the bot did not answer)"
            self.console.print(Text(note, style="dim"))

    def error(self, message: str) -> None:
        self.console.print(Text(f"✗ {message}", style="bold red"))

    def help(self) -> None:
        table = Table(show_header=False, box=None, padding=(0, 2))
        for usage, meaning in (*ACTION_HELP, *CONSOLE_HELP):
            table.add_row(Text(usage, style="bold cyan"), meaning)
        self.console.print(table)

    def who(self) -> None:
        table = Table("person", "roles", "can do")
        for spec in PEOPLE:
            mark = " (you)" if spec.id == self.person.id else ""
            roles = ", ".join(self.world.roles[key].name for key in spec.roles) or "-"
            table.add_row(f"{spec.key}{mark}", roles, spec.description)
        self.console.print(table)
        channels = []
        for key, channel in self.world.channels.items():
            hidden = "" if self.sandbox.can_read(self.person, channel) else " (hidden from you)"
            channels.append(f"#{key}{hidden}")
        self.console.print("Channels: " + ", ".join(channels), markup=False)
        ranks = ", ".join(f"{spec.name} {spec.rank}" for spec in ROLES if spec.rank is not None)
        self.console.print(
            f"Permission ranks at the start: {ranks}; everyone else 0.", markup=False
        )

    def commands(self) -> None:
        names = self.person.available_commands(self.channel)
        self.console.print(Text(", ".join(f"/{name}" for name in names) or "(none)"))

    def history(self, count: int) -> None:
        try:
            messages = self.channel.history(viewer=self.person)[-count:]
        except simcord.SetupError as error:
            self.error(str(error))
            return
        for message in messages:
            change = Change("new", message.channel.id, message)
            self.console.print(rich_renderable(change, self.driver.namer, self.channel.id))

    # --- input ------------------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Handle one line; returns False when the session should end."""
        text = line.strip()
        if not text:
            return True
        word, _, rest = text.partition(" ")
        command = word.lower()
        if command in ("/quit", "/exit"):
            return False
        if command == "/help":
            self.help()
        elif command == "/as":
            self._switch_person(rest)
        elif command in ("/in", "/channel"):
            self._switch_channel(rest)
        elif command == "/who":
            self.who()
        elif command == "/commands":
            self.commands()
        elif command == "/history":
            count = int(rest) if rest.strip().isdigit() else 10
            self.history(max(1, min(count, 100)))
        else:
            await self._act(text)
        return True

    def _switch_person(self, name: str) -> None:
        try:
            self.person = self.world.person(name)
        except KeyError:
            self.error(f"no person {name.strip()!r}: " + ", ".join(spec.key for spec in PEOPLE))
            return
        spec = self.world.spec_of(self.person)
        self.console.print(Text(f"You are now {spec.key}: {spec.description}.", style="green"))
        if not self.sandbox.can_read(self.person, self.channel):
            where = self.world.channel_name(self.channel.id)
            self.console.print(Text(f"{spec.key} cannot see #{where}.", "yellow"))

    def _switch_channel(self, name: str) -> None:
        try:
            self.channel = self.world.channel(name)
        except KeyError:
            names = ", ".join(f"#{key}" for key in self.world.channels)
            self.error(f"no channel {name.strip()!r}: {names}")
            return
        self.console.print(Text(f"Now in #{self.world.channel_name(self.channel.id)}.", "green"))

    async def _act(self, text: str) -> None:
        try:
            action = parse_action(text)
        except ParseError as error:
            self.error(f"{error} (/help lists what you can type)")
            return
        async with self._lock:
            try:
                outcome = await self.driver.perform(self.person, self.channel, action)
            except ActionError as error:
                self.error(str(error))
                return
        self.show_outcome(outcome)

    async def watch(self) -> None:
        """Print what the bot sends on its own while nobody types (reminders, expiries)."""
        env = self.sandbox.env
        calls = len(env.http_requests)
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            # The bot changes messages through REST calls: look only when it made some.
            if len(env.http_requests) == calls or self._lock.locked() or not env_is_idle(env):
                continue
            async with self._lock:
                calls = len(env.http_requests)
                changes = self.driver.pending_changes()
            if changes:
                self.show_changes(changes)

    async def run(self, lines: AsyncIterator[str]) -> None:
        """Handle lines until ``/quit`` or the end of the input."""
        watcher = asyncio.create_task(self.watch())
        try:
            async for line in lines:
                if not await self.handle(line):
                    break
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def terminal_lines(console: Console, prompt: Callable[[], str]) -> AsyncIterator[str]:
    """Lines typed on the keyboard, read in a daemon thread (Ctrl+D ends them).

    The thread asks for the next line only when the previous one has been handled, so the
    prompt comes after the bot's replies.
    """
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history where available)

    loop = asyncio.get_running_loop()
    requests: queue.Queue[str | None] = queue.Queue()
    answers: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        while (text := requests.get()) is not None:
            try:
                line: str | None = console.input(Text(text, style="bold green"))
            except (EOFError, KeyboardInterrupt, OSError):
                line = None
            try:
                loop.call_soon_threadsafe(answers.put_nowait, line)
            except RuntimeError:  # the sandbox has stopped and its loop is closed
                return
            if line is None:
                return

    threading.Thread(target=read, name="sandbox-console-input", daemon=True).start()
    try:
        while True:
            requests.put(prompt())
            line = await answers.get()
            if line is None:
                return
            yield line
    finally:
        requests.put(None)
