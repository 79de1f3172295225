"""``fish-bot sandbox --script FILE``: play a file of actions and print the transcript.

A script has one action per line::

    # a comment; blank lines are ignored
    alice: !ping
    alice: /slash status
    moderator: /slash warn member=bob reason="spamming links"
    moderator in #mod-log: !cases
    bob: /click Press me

``PERSON: ACTION`` does the action (see :mod:`fish_bot.sandbox.actions`) as that person in
#general (or the ``--channel``); ``PERSON in #CHANNEL: ACTION`` in another channel. The whole
file is checked before the bot starts: a malformed line stops with exit code 2 and its line
number. An action that cannot be done (no such button, Discord refuses it) stops the script with
exit code 1; what the bot answers, refusals included, is simply part of the transcript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.console import Console

from fish_bot.sandbox.actions import Action, ActionError, Driver, ParseError, parse_action
from fish_bot.sandbox.render import modal_lines, plain_lines
from fish_bot.sandbox.runner import Sandbox, SandboxError
from fish_bot.sandbox.world import CHANNELS, PEOPLE

_LINE = re.compile(
    r"^(?P<person>[^\s:#]+)(?:\s+in\s+(?P<channel>#?[\w-]+))?\s*:(?P<action>.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ScriptLine:
    number: int
    person: str
    channel: str | None
    action: Action
    text: str


class ScriptError(SandboxError):
    """A malformed script (exit code 2) or an action it could not do (exit code 1)."""


def parse_script(text: str, *, source: str = "<script>") -> list[ScriptLine]:
    """Check and parse a whole script; raises :class:`ScriptError` naming the line."""
    people = {spec.key for spec in PEOPLE}
    channels = {spec.key for spec in CHANNELS}
    lines: list[ScriptLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue

        def bad(message: str, number: int = number) -> ScriptError:
            return ScriptError(f"{source}, line {number}: {message}", code=2)

        match = _LINE.match(line)
        if match is None:
            raise bad(f"expected `person: action` (or `person in #channel: action`), got {line!r}")
        person = match["person"].removeprefix("@").lower()
        if person not in people:
            raise bad(f"no person {match['person']!r}; the people are {', '.join(sorted(people))}")
        channel = match["channel"].removeprefix("#").lower() if match["channel"] else None
        if channel is not None and channel not in channels:
            names = ", ".join(f"#{name}" for name in sorted(channels))
            raise bad(f"no channel {match['channel']!r}; the channels are {names}")
        try:
            action = parse_action(match["action"])
        except ParseError as error:
            raise bad(str(error)) from None
        lines.append(ScriptLine(number, person, channel, action, match["action"].strip()))
    if not lines:
        raise ScriptError(f"{source}: the script has no actions", code=2)
    return lines


async def run_script(
    sandbox: Sandbox,
    lines: list[ScriptLine],
    console: Console,
    *,
    source: str = "<script>",
    channel: str = "general",
) -> None:
    """Do every line and print the transcript; raises :class:`ScriptError` (code 1) on failure."""
    driver = Driver(sandbox)
    world = sandbox.world
    for line in lines:
        target = world.channel(line.channel or channel)
        where = f" in #{line.channel}" if line.channel else ""
        console.print(f"{line.person}{where}: {line.text}", markup=False, highlight=False)
        try:
            outcome = await driver.perform(world.person(line.person), target, line.action)
        except ActionError as error:
            raise ScriptError(f"{source}, line {line.number}: {error}", code=1) from error
        printed: list[str] = []
        for change in outcome.changes:
            printed.extend(plain_lines(change, driver.namer, target.id))
        if outcome.modal is not None:
            printed.extend(modal_lines(outcome.modal))
        if not printed:
            printed.append("(no reply)")
        for text in printed:
            console.print(f"  {text}", markup=False, highlight=False, soft_wrap=True)
