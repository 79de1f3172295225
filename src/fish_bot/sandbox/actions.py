"""What a person can do in the console and in scripts: parse it, then do it through SimCord.

The language (the same in ``--console`` and ``--script``)::

    hello everyone             a message (prefix commands too: !ping); @bob, #general and
                               @&Moderator become mentions, as the Discord client does
    /slash NAME [SUB] key=value ...
                               a slash command; values may be quoted: reason="spam links".
                               Members, roles and channels by name: member=bob role=Moderator
                               channel=#general; booleans as true/false
    /click LABEL               click the newest button with that label in the channel
    /modal Label=value ...     fill in and submit the modal the bot opened for this person

Every action goes through a SimCord actor, so it is permission-checked like a real user's
(alice cannot write in #mod-log), and slash commands go through the synced command tree.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

import discord
import simcord
from discord import app_commands

from fish_bot.exceptions import FishBotError
from fish_bot.sandbox.render import (
    Change,
    MessageTracker,
    Namer,
    buttons,
    fingerprint,
    modal_fields,
)
from fish_bot.sandbox.runner import Sandbox
from fish_bot.sandbox.world import PEOPLE, ROLES, SandboxWorld

#: How many of the newest messages ``/click`` searches for the button.
CLICK_SEARCH_DEPTH = 50

_MENTION = re.compile(r"(?<![\w<&@])@(&?)([\w-]+)")
_CHANNEL_NAME = re.compile(r"(?<![\w<&#])#([\w-]+)")
_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}


class ParseError(ValueError):
    """A line is not an action; the message says what is wrong with it."""


class ActionError(FishBotError):
    """An action could not be done (no such button, Discord refused, ...)."""


@dataclass(frozen=True)
class Say:
    """Send a message (prefix commands included)."""

    text: str


@dataclass(frozen=True)
class Slash:
    """Run a slash command: ``path`` is the name and subcommands, ``options`` its values."""

    path: tuple[str, ...]
    options: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return " ".join(self.path)


@dataclass(frozen=True)
class Click:
    """Click the newest button labelled ``label``."""

    label: str


@dataclass(frozen=True)
class SubmitModal:
    """Fill in the open modal (by field label or custom id) and submit it."""

    values: tuple[tuple[str, str], ...]


Action = Say | Slash | Click | SubmitModal

ACTION_HELP = (
    ("TEXT", "send a message as the current person (prefix commands: !ping)"),
    ("/slash NAME [SUB] key=value ...", "run a slash command, e.g. /slash warn member=bob"),
    ("/click LABEL", "click the newest button with that label"),
    ("/modal Label=value ...", "fill in and submit the modal the bot opened"),
)


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as error:
        raise ParseError(f'{error} (quote values with spaces: reason="two words")') from None


def _pairs(tokens: list[str], what: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for token in tokens:
        key, equals, value = token.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ParseError(f"`{token}` is not key=value ({what})")
        if key.lower() in seen:
            raise ParseError(f"`{key}` is given twice")
        seen.add(key.lower())
        pairs.append((key, value))
    return tuple(pairs)


def parse_action(text: str) -> Action:
    """Parse one action (see the module docstring); raises :class:`ParseError`."""
    text = text.strip()
    if not text:
        raise ParseError("nothing to do: write a message or an action")
    if not text.startswith("/"):
        return Say(text)
    word, _, rest = text[1:].partition(" ")
    word = word.lower()
    if word == "slash":
        tokens = _split(rest)
        path: list[str] = []
        while tokens and "=" not in tokens[0]:
            path.append(tokens.pop(0))
        if not path:
            raise ParseError("name the slash command: /slash ping")
        for token in tokens:
            if "=" not in token:
                raise ParseError(
                    f"`{token}` is not key=value: put the command and subcommand names first"
                )
        return Slash(tuple(name.lower() for name in path), _pairs(tokens, "a command option"))
    if word == "click":
        label = rest.strip()
        if len(label) >= 2 and label[0] == label[-1] and label[0] in "\"'":
            label = label[1:-1]
        if not label:
            raise ParseError("name the button: /click Next")
        return Click(label)
    if word == "modal":
        values = _pairs(_split(rest), "a modal field")
        if not values:
            raise ParseError('give the modal\'s fields: /modal Reason="too loud"')
        return SubmitModal(values)
    raise ParseError(
        f"unknown action /{word}: use /slash, /click or /modal, or write a message without /"
    )


@dataclass
class Outcome:
    """What an action caused: changed messages and a modal the bot opened, if any."""

    changes: list[Change] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    acknowledged: bool = True


def client_mentions(world: SandboxWorld, text: str) -> str:
    """Write mentions as the Discord client does: ``@bob`` -> ``<@id>``, ``#general`` ->
    ``<#id>``, and (a sandbox convention) ``@&Moderator`` -> ``<@&id>``.

    Names that are not the world's stay as typed; text already holding ``<@id>`` is unchanged,
    so converting twice is harmless.
    """

    def mention(match: re.Match[str]) -> str:
        name = match[2]
        try:
            return world.role(name).mention if match[1] else world.person(name).mention
        except KeyError:
            return match[0]

    def channel(match: re.Match[str]) -> str:
        try:
            return world.channel(match[1]).mention
        except KeyError:
            return match[0]

    return _CHANNEL_NAME.sub(channel, _MENTION.sub(mention, text))


def describe_error(error: BaseException) -> str:
    """A SimCord refusal, in one sentence."""
    if isinstance(error, simcord.BackendError):
        return f"Discord refused: {error.message} (error {error.code})"
    if isinstance(error, TimeoutError):
        return "the bot did not finish in time (it may be stuck)"
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


class Driver:
    """Does actions as the sandbox's people and reports what the bot did."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.namer = Namer(self.world)
        self.tracker = MessageTracker(self.world)
        self._modals: dict[int, simcord.InteractionResult] = {}
        #: The ephemeral answers already shown (message id -> fingerprint).
        self._private: dict[int, str] = {}

    async def perform(
        self, person: simcord.MemberActor, channel: simcord.ChannelHandle, action: Action
    ) -> Outcome:
        """Do ``action`` as ``person`` in ``channel``; raises :class:`ActionError`."""
        ignore: list[int] = []
        result: simcord.InteractionResult | None = None
        try:
            if isinstance(action, Say):
                sent = await person.send(channel, self.mentions(action.text))
                ignore.append(sent.id)
            elif isinstance(action, Slash):
                result = await self._slash(person, channel, action)
            elif isinstance(action, Click):
                result = await self._click(person, channel, action.label)
            else:
                result = await self._submit_modal(person, action)
        except (simcord.SetupError, simcord.BackendError, TimeoutError) as error:
            self.tracker.mark()
            raise ActionError(describe_error(error)) from error
        except ActionError:
            self.tracker.mark()
            raise
        outcome = Outcome(changes=self.tracker.changes(ignore))
        if result is not None:
            outcome.changes = sorted(
                [*outcome.changes, *self._private_answers(person, result)],
                key=lambda change: change.message.id,
            )
            outcome.acknowledged = result.acknowledged
            modal = result.modal
            if modal is not None:
                self._modals[person.id] = result
                outcome.modal = modal
        return outcome

    def _private_answers(
        self, person: simcord.MemberActor, result: simcord.InteractionResult
    ) -> list[Change]:
        """The interaction's answers only ``person`` sees (the channel history leaves them out):
        an ephemeral reply, a deferred answer filled in later, ephemeral follow-ups."""
        found: list[Change] = []
        for response in (result.response, *result.followups):
            if response is None or not response.ephemeral:
                continue
            message = response.message
            if not (message.content or message.embeds or message.components):
                continue  # a deferral still "thinking": its answer is a follow-up or an edit
            shown = fingerprint(message)
            before = self._private.get(message.id)
            if before == shown:
                continue
            self._private[message.id] = shown
            kind: Literal["new", "edited"] = "new" if before is None else "edited"
            found.append(Change(kind, message.channel.id, message, only_for=person.name))
        return found

    def mentions(self, text: str) -> str:
        """Write mentions as the Discord client does (:func:`client_mentions`)."""
        return client_mentions(self.world, text)

    def pending_changes(self) -> list[Change]:
        """Messages that changed since the last action (background work: reminders, ...)."""
        return self.tracker.changes()

    # --- slash commands ---------------------------------------------------------------------

    def _command(
        self, person: simcord.MemberActor, channel: simcord.ChannelHandle, action: Slash
    ) -> app_commands.Command[Any, ..., Any]:
        tree = self.sandbox.bot.tree
        node: Any = tree.get_command(action.path[0])
        for index, part in enumerate(action.path[1:], start=1):
            if not isinstance(node, app_commands.Group):
                break
            child = node.get_command(part)
            if child is None:
                names = ", ".join(sorted(command.name for command in node.commands))
                raise ActionError(
                    f"/{' '.join(action.path[:index])} has no subcommand `{part}`: {names}"
                )
            node = child
        if node is None:
            available = ", ".join(sorted(person.available_commands(channel))) or "none"
            raise ActionError(f"there is no slash command /{action.name}. Here: {available}")
        if isinstance(node, app_commands.Group):
            names = ", ".join(sorted(command.name for command in node.commands))
            raise ActionError(f"/{action.name} needs a subcommand: {names}")
        if node.qualified_name != action.name:
            raise ActionError(f"/{node.qualified_name} has no subcommands")
        return node

    async def _slash(
        self, person: simcord.MemberActor, channel: simcord.ChannelHandle, action: Slash
    ) -> simcord.InteractionResult:
        command = self._command(person, channel, action)
        parameters = {item.display_name.lower(): item for item in command.parameters}
        for item in command.parameters:
            parameters.setdefault(item.name.lower(), item)
        values: dict[str, Any] = {}
        for key, raw in action.options:
            found = parameters.get(key.lower())
            if found is None:
                raise ActionError(f"/{action.name} has no option `{key}`. {_signature(command)}")
            values[found.display_name] = self._convert(found, raw)
        missing = [
            parameter.display_name
            for parameter in command.parameters
            if parameter.required and parameter.display_name not in values
        ]
        if missing:
            raise ActionError(f"/{action.name} needs {', '.join(missing)}. {_signature(command)}")
        return await person.slash(channel, action.name, **values)

    def _convert(self, parameter: app_commands.Parameter, raw: str) -> Any:
        kind = parameter.type
        name = parameter.display_name
        if parameter.choices:
            for choice in parameter.choices:
                if raw.lower() in (choice.name.lower(), str(choice.value).lower()):
                    return choice.value
            options = ", ".join(choice.name for choice in parameter.choices)
            raise ActionError(f"`{name}` must be one of: {options}")
        if kind is discord.AppCommandOptionType.string:
            return raw
        if kind is discord.AppCommandOptionType.integer:
            try:
                return int(raw)
            except ValueError:
                raise ActionError(f"`{name}` must be a whole number, not {raw!r}") from None
        if kind is discord.AppCommandOptionType.number:
            try:
                return float(raw)
            except ValueError:
                raise ActionError(f"`{name}` must be a number, not {raw!r}") from None
        if kind is discord.AppCommandOptionType.boolean:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise ActionError(f"`{name}` must be true or false, not {raw!r}")
        if kind is discord.AppCommandOptionType.user:
            return self._person(raw, name)
        if kind is discord.AppCommandOptionType.role:
            return self._role(raw, name)
        if kind is discord.AppCommandOptionType.mentionable:
            try:
                return self._person(raw, name)
            except ActionError:
                return self._role(raw, name)
        if kind is discord.AppCommandOptionType.channel:
            try:
                return self.world.channel(raw)
            except KeyError:
                names = ", ".join(f"#{key}" for key in self.world.channels)
                raise ActionError(f"`{name}`: no channel {raw!r} (channels: {names})") from None
        raise ActionError(f"`{name}` is a {kind.name} option, which the sandbox cannot fill in")

    def _person(self, raw: str, option: str) -> simcord.MemberActor:
        text = raw.strip()
        if text.startswith("<@") and text.endswith(">"):
            text = text.strip("<@!>")
        if text.isdigit():
            name = self.world.name_of(int(text))
            if name in self.world.people:
                return self.world.people[name]
        try:
            return self.world.person(text)
        except KeyError:
            names = ", ".join(spec.key for spec in PEOPLE)
            raise ActionError(f"`{option}`: no person {raw!r} (people: {names})") from None

    def _role(self, raw: str, option: str) -> simcord.RoleHandle:
        try:
            return self.world.role(raw)
        except KeyError:
            names = ", ".join(spec.name for spec in ROLES)
            raise ActionError(f"`{option}`: no role {raw!r} (roles: {names})") from None

    # --- components and modals --------------------------------------------------------------

    async def _click(
        self, person: simcord.MemberActor, channel: simcord.ChannelHandle, label: str
    ) -> simcord.InteractionResult:
        wanted = label.casefold()
        seen: list[str] = []
        for message in reversed(channel.history(viewer=person)[-CLICK_SEARCH_DEPTH:]):
            for button in buttons(message):
                text = str(button.get("label") or "")
                emoji = str((button.get("emoji") or {}).get("name") or "")
                if text:
                    seen.append(text)
                if wanted not in (text.casefold(), f"{emoji} {text}".strip().casefold(), emoji):
                    continue
                if button.get("url") or not button.get("custom_id"):
                    raise ActionError(f"[{text}] is a link, not a button the bot answers")
                if button.get("disabled"):
                    raise ActionError(f"the button [{text}] is disabled")
                return await person.click(message, custom_id=str(button["custom_id"]))
        where = f"#{self.world.channel_name(channel.id)}"
        if not seen:
            raise ActionError(f"there is no button in {where}")
        unique = ", ".join(f"[{name}]" for name in dict.fromkeys(seen))
        raise ActionError(f"no button labelled {label!r} in {where}; buttons there: {unique}")

    async def _submit_modal(
        self, person: simcord.MemberActor, action: SubmitModal
    ) -> simcord.InteractionResult:
        shown = self._modals.get(person.id)
        if shown is None or shown.modal is None:
            raise ActionError(f"no modal is open for {person.name}: a button or command opens one")
        fields = modal_fields(shown.modal)
        values: dict[str, Any] = {}
        for key, raw in action.values:
            wanted = key.casefold()
            match = next(
                (f for f in fields if wanted in (f.label.casefold(), f.custom_id.casefold())), None
            )
            if match is None:
                names = ", ".join(f.label for f in fields)
                raise ActionError(f"the modal has no field {key!r}; its fields: {names}")
            values[match.custom_id] = raw
        result = await person.submit_modal(shown, values)
        self._modals.pop(person.id, None)
        return result


def _signature(command: app_commands.Command[Any, ..., Any]) -> str:
    if not command.parameters:
        return "It takes no options."
    parts = [
        f"{parameter.display_name}{'' if parameter.required else ' (optional)'}"
        for parameter in command.parameters
    ]
    return f"Options: {', '.join(parts)}."
