"""What the bot did, for people to read: new, edited and deleted messages, as text or Rich.

:class:`MessageTracker` takes a snapshot of every message in the demo server's channels (through
SimCord's public ``ChannelHandle.history()``) before an action and reports what changed after
it. That history holds what everyone sees; the answers only one person sees (ephemeral replies,
deferred and follow-up answers) come from the interaction's result, and are marked "only alice
sees this" (:class:`~fish_bot.sandbox.actions.Driver`). The console prints the changes with
Rich (embeds as panels), the script mode as plain text (embeds as ``|``-prefixed lines), so a
transcript is easy to read and to compare.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import discord
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.text import Text

from fish_bot.sandbox.world import SandboxWorld

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_CHANNEL_MENTION = re.compile(r"<#(\d+)>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFsSR]))?>")
_CUSTOM_EMOJI = re.compile(r"<a?(:\w+:)\d+>")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`")

#: Discord component types (raw payload ``type`` values).
_ACTION_ROW, _BUTTON, _TEXT_DISPLAY, _SECTION, _CONTAINER = 1, 2, 10, 9, 17
_SELECTS = {3, 5, 6, 7, 8}


@dataclass
class Change:
    """One message the bot (or anyone) created, edited or deleted during an action.

    ``only_for`` names the one person who sees an ephemeral message (an interaction's
    answer that only its user sees).
    """

    kind: Literal["new", "edited", "deleted"]
    channel_id: int
    message: discord.Message
    only_for: str | None = None


def fingerprint(message: discord.Message) -> str:
    """What a message shows (content, embeds, components, files, pin): equal when unchanged."""
    return json.dumps(
        [
            message.content,
            [embed.to_dict() for embed in message.embeds],
            [component.to_dict() for component in message.components],
            [attachment.filename for attachment in message.attachments],
            message.pinned,
        ],
        sort_keys=True,
        default=str,
    )


class MessageTracker:
    """Finds the messages that changed in the world's channels between two snapshots."""

    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self._seen: dict[int, tuple[str, discord.Message]] = self._snapshot()

    def _snapshot(self) -> dict[int, tuple[str, discord.Message]]:
        seen: dict[int, tuple[str, discord.Message]] = {}
        for channel in (*self.world.channels.values(), *self.world.dms.values()):
            for message in channel.history():
                seen[message.id] = (fingerprint(message), message)
        return seen

    def mark(self) -> None:
        """Forget what changed so far (take a new snapshot)."""
        self._seen = self._snapshot()

    def changes(self, ignore: Iterable[int] = ()) -> list[Change]:
        """What changed since the last snapshot (oldest first); takes a new snapshot."""
        skipped = set(ignore)
        now = self._snapshot()
        found: list[Change] = []
        for message_id, (fingerprint, message) in now.items():
            if message_id in skipped:
                continue
            before = self._seen.get(message_id)
            if before is None:
                found.append(Change("new", message.channel.id, message))
            elif before[0] != fingerprint:
                found.append(Change("edited", message.channel.id, message))
        for message_id, (_, message) in self._seen.items():
            if message_id not in now and message_id not in skipped:
                found.append(Change("deleted", message.channel.id, message))
        self._seen = now
        found.sort(key=lambda change: change.message.id)
        return found


# --- text ---------------------------------------------------------------------------------


class Namer:
    """Turns ids, mentions and timestamps into the names people see."""

    def __init__(self, world: SandboxWorld) -> None:
        self.world = world

    def now(self) -> datetime:
        return self.world.env.now()

    def user(self, user: discord.abc.User | None) -> str:
        if user is None:
            return "someone"
        return self.world.name_of(user.id) or user.display_name

    def channel(self, channel_id: int) -> str:
        name = self.world.channel_name(channel_id)
        if name is not None:
            return f"#{name}"
        owner = self.world.dm_owner(channel_id)
        return f"a DM to {owner}" if owner else f"#{channel_id}"

    def text(self, text: str) -> str:
        """Mentions as ``@name``/``#channel``, timestamps as dates, custom emoji as ``:name:``."""

        def user(match: re.Match[str]) -> str:
            name = self.world.name_of(int(match[1]))
            return f"@{name}" if name else match[0]

        def role(match: re.Match[str]) -> str:
            name = self.world.role_name(int(match[1]))
            if name is None and int(match[1]) == self.world.guild.id:
                name = "everyone"
            return f"@{name}" if name else match[0]

        def channel(match: re.Match[str]) -> str:
            name = self.world.channel_name(int(match[1]))
            return f"#{name}" if name else match[0]

        def timestamp(match: re.Match[str]) -> str:
            try:
                moment = datetime.fromtimestamp(int(match[1]), UTC)
            except (OverflowError, OSError, ValueError):
                return match[0]
            if match[2] == "R":
                return relative_time(moment, self.now())
            return moment.strftime("%Y-%m-%d %H:%M UTC")

        text = _USER_MENTION.sub(user, text)
        text = _ROLE_MENTION.sub(role, text)
        text = _CHANNEL_MENTION.sub(channel, text)
        text = _TIMESTAMP.sub(timestamp, text)
        return _CUSTOM_EMOJI.sub(r"\1", text)


def relative_time(moment: datetime, now: datetime) -> str:
    """``in 5 minutes`` / ``2 hours ago``, as Discord shows ``<t:...:R>``."""
    delta = moment - now
    future = delta >= timedelta(0)
    seconds = abs(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            count = round(seconds / size)
            amount = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {amount}" if future else f"{amount} ago"
    return "now"  # pragma: no cover - the loop always returns


def _components(message: discord.Message) -> list[dict[str, Any]]:
    return [component.to_dict() for component in message.components]  # type: ignore[misc]


def iter_components(items: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Every component in a message, rows and V2 containers flattened, in order."""
    for item in items:
        yield item
        yield from iter_components(item.get("components") or [])
        accessory = item.get("accessory")
        if isinstance(accessory, dict):
            yield from iter_components([accessory])


def buttons(message: discord.Message) -> list[dict[str, Any]]:
    """The message's buttons (raw payloads), in order."""
    return [item for item in iter_components(_components(message)) if item.get("type") == _BUTTON]


def _button_text(button: dict[str, Any]) -> str:
    emoji = button.get("emoji") or {}
    label = " ".join(part for part in (emoji.get("name"), button.get("label")) if part) or "?"
    if button.get("url"):
        label += f" ↗ {button['url']}"
    if button.get("disabled"):
        label += " (disabled)"
    return f"[{label}]"


def _component_lines(message: discord.Message, namer: Namer) -> list[str]:
    lines: list[str] = []
    for item in iter_components(_components(message)):
        kind = item.get("type")
        if kind == _ACTION_ROW:
            row = [child for child in item.get("components") or [] if child.get("type") == _BUTTON]
            if row:
                lines.append(" ".join(_button_text(button) for button in row))
        elif kind in _SELECTS:
            options = " | ".join(option.get("label", "?") for option in item.get("options") or [])
            placeholder = item.get("placeholder") or "Select"
            lines.append(f"<{placeholder}{': ' + options if options else ''}>")
        elif kind == _TEXT_DISPLAY:
            lines.extend(namer.text(str(item.get("content", ""))).splitlines())
        elif kind == _SECTION and isinstance(item.get("accessory"), dict):
            accessory = item["accessory"]
            if accessory.get("type") == _BUTTON:
                lines.append(_button_text(accessory))
    return lines


def _embed_lines(embed: discord.Embed, namer: Namer) -> list[str]:
    lines: list[str] = []
    if embed.author and embed.author.name:
        lines.append(namer.text(embed.author.name))
    if embed.title:
        lines.append(f"**{namer.text(embed.title)}**")
    if embed.description:
        lines.extend(namer.text(embed.description).splitlines())
    for embed_field in embed.fields:
        name = namer.text(str(embed_field.name))
        value = namer.text(str(embed_field.value)).splitlines() or [""]
        lines.append(f"{name}: {value[0]}")
        lines.extend(f"  {line}" for line in value[1:])
    if embed.footer and embed.footer.text:
        lines.append(namer.text(embed.footer.text))
    return lines


def _who_sees(change: Change, namer: Namer) -> str | None:
    message = change.message
    if not message.flags.ephemeral:
        return None
    metadata = message.interaction_metadata
    user = metadata.user if metadata is not None else None
    name = namer.user(user) if user is not None else change.only_for
    return f"only {name} sees this" if name else "ephemeral"


def _header(change: Change, namer: Namer, current_channel_id: int | None) -> str:
    message = change.message
    author = namer.user(message.author)
    where = (
        f" in {namer.channel(change.channel_id)}"
        if current_channel_id is None or change.channel_id != current_channel_id
        else ""
    )
    notes = []
    seen_by = _who_sees(change, namer)
    if seen_by:
        notes.append(seen_by)
    if change.kind == "edited":
        notes.append("edited")
    elif change.kind == "deleted":
        notes.append("deleted")
    note = f" ({', '.join(notes)})" if notes else ""
    return f"{author}{where}{note}:"


def plain_lines(change: Change, namer: Namer, current_channel_id: int | None) -> list[str]:
    """The change as plain text: a header line, the content, embeds as ``|`` lines, buttons."""
    message = change.message
    header = _header(change, namer, current_channel_id)
    content = namer.text(message.content).splitlines()
    lines = [f"{header} {content[0]}" if content else header]
    lines.extend(f"  {line}" for line in content[1:])
    for embed in message.embeds:
        lines.extend(f"  | {line}" if line else "  |" for line in _embed_lines(embed, namer))
    lines.extend(f"  {line}" for line in _component_lines(message, namer))
    lines.extend(f"  [file: {attachment.filename}]" for attachment in message.attachments)
    if message.poll is not None:
        answers = " | ".join(answer.text or "?" for answer in message.poll.answers)
        lines.append(f"  [poll: {message.poll.question}: {answers}]")
    return lines


def _styled(text: str, base: str = "") -> Text:
    """Discord's **bold** and `code` as Rich styles (everything else as written)."""
    out = Text(style=base)
    position = 0
    for match in _EMPHASIS.finditer(text):
        out.append(text[position : match.start()])
        if match[1] is not None:
            out.append(match[1], style="bold")
        else:
            out.append(match[2], style="bold cyan")
        position = match.end()
    out.append(text[position:])
    return out


def rich_renderable(change: Change, namer: Namer, current_channel_id: int | None) -> RenderableType:
    """The change for the console: the header, the content, each embed as a panel."""
    message = change.message
    parts: list[RenderableType] = []
    deleted = change.kind == "deleted"
    header = Text(_header(change, namer, current_channel_id), style="bold magenta")
    content = namer.text(message.content)
    if content:
        header = Text.assemble(header, " ", _styled(content, "dim" if deleted else ""))
    parts.append(header)
    for embed in message.embeds:
        body = Group(*(_styled(text) for text in _embed_lines(embed, namer)))
        color = embed.colour
        style = Style(color=f"#{color.value:06x}") if color is not None else Style(color="blue")
        parts.append(Panel(body, border_style=style, expand=False))
    for text in _component_lines(message, namer):
        parts.append(Text(text, style="bold blue"))
    for attachment in message.attachments:
        parts.append(Text(f"[file: {attachment.filename}]", style="dim"))
    if message.poll is not None:
        answers = " | ".join(answer.text or "?" for answer in message.poll.answers)
        parts.append(Text(f"[poll: {message.poll.question}: {answers}]", style="blue"))
    return Group(*parts)


# --- modals -------------------------------------------------------------------------------


@dataclass
class ModalField:
    custom_id: str
    label: str
    required: bool
    placeholder: str


def modal_fields(modal: dict[str, Any]) -> list[ModalField]:
    """The text inputs (and other controls) of a modal payload, with their labels."""
    found: list[ModalField] = []
    for item in modal.get("components") or []:
        label = item.get("label")
        children = [item["component"]] if isinstance(item.get("component"), dict) else []
        children += list(item.get("components") or [])
        for child in children:
            custom_id = child.get("custom_id")
            if not custom_id:
                continue
            found.append(
                ModalField(
                    custom_id=str(custom_id),
                    label=str(child.get("label") or label or custom_id),
                    required=bool(child.get("required", True)),
                    placeholder=str(child.get("placeholder") or ""),
                )
            )
    return found


def modal_lines(modal: dict[str, Any]) -> list[str]:
    """A modal that the bot opened, as text, with how to fill it."""
    lines = [f"[modal: {modal.get('title', '')}]"]
    for field in modal_fields(modal):
        optional = "" if field.required else " (optional)"
        hint = f" — {field.placeholder}" if field.placeholder else ""
        lines.append(f"  {field.label}{optional}{hint}")
    names = " ".join(f'"{field.label}=..."' for field in modal_fields(modal))
    lines.append(f"  fill it in with: /modal {names}")
    return lines
