"""The log entries: one embed per event, saying who, what, where and when, ids in text.

User text (message content, nicknames, reasons) is quoted as it is: embeds never ping, and the
sender allows no mentions either. Content longer than one embed takes is split over several.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import discord

from fish_bot.cogs.server_logs.constants import COLOURS, QUOTED
from fish_bot.cogs.server_logs.sender import LogEntry
from fish_bot.core.text import field

#: Shown for a deleted message the bot had not cached.
NOT_CACHED = (
    "*The message was not in my cache (sent before I started, or long ago), so its content "
    "is unknown.*"
)


def who(user: discord.abc.User | None, user_id: int | None = None) -> str:
    """``@mention · name (id)``: the mention for Discord, the name where it is not rendered."""
    if user is None:
        return f"<@{user_id}> ({user_id})" if user_id else "unknown"
    return f"{user.mention} · {user.name} ({user.id})"


def where(channel: Any, channel_id: int | None = None) -> str:
    """``#channel (id)``."""
    if channel is None:
        return f"<#{channel_id}> ({channel_id})"
    name = getattr(channel, "name", None) or "direct message"
    return f"<#{channel.id}> · #{name} ({channel.id})"


def when(moment: datetime) -> str:
    """A Discord timestamp, absolute and relative."""
    return f"{discord.utils.format_dt(moment, 'f')} ({discord.utils.format_dt(moment, 'R')})"


def chunks(text: str, size: int = QUOTED) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at line ends where it can be."""
    pieces: list[str] = []
    rest = text
    while len(rest) > size:
        cut = rest.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    pieces.append(rest)
    return pieces


def _entry(title: str, colour: str, description: str | None = None) -> discord.Embed:
    return discord.Embed(
        title=title,
        colour=COLOURS[colour],
        description=description,
        timestamp=discord.utils.utcnow(),
    )


def _quoted(first: discord.Embed, text: str, heading: str | None = None) -> list[discord.Embed]:
    """Put ``text`` in ``first``'s description, continuing in more embeds when it is long."""
    pieces = chunks(text) if text else [""]
    label = f"**{heading}**\n" if heading else ""
    first.description = (first.description or "") + label + (pieces[0] or "*(no text)*")
    embeds = [first]
    for number, piece in enumerate(pieces[1:], start=2):
        more = discord.Embed(colour=first.colour, description=piece)
        more.set_footer(text=f"{heading or 'Content'}, part {number} of {len(pieces)}")
        embeds.append(more)
    return embeds


# --- messages ---------------------------------------------------------------------------------


def message_deleted(
    message: discord.Message | None, channel: Any, channel_id: int, message_id: int
) -> list[LogEntry]:
    embed = _entry("🗑️ Message deleted", "delete")
    embed.add_field(name="Channel", value=where(channel, channel_id), inline=True)
    if message is None:
        embed.description = NOT_CACHED
        embed.add_field(name="Message", value=str(message_id), inline=True)
        return [LogEntry(embed)]
    embed.add_field(name="Author", value=who(message.author), inline=True)
    embed.add_field(name="Sent", value=when(message.created_at), inline=True)
    if message.attachments:
        names = "\n".join(attachment.filename for attachment in message.attachments)
        embed.add_field(name="Attachments", value=field(names), inline=False)
    embed.set_footer(text=f"Message {message_id}")
    return [LogEntry(item) for item in _quoted(embed, message.content)]


def bulk_deleted(
    channel: Any, channel_id: int, message_ids: Iterable[int], cached: Sequence[discord.Message]
) -> list[LogEntry]:
    ids = sorted(message_ids)
    embed = _entry(f"🗑️ {len(ids)} messages deleted at once", "delete")
    embed.add_field(name="Channel", value=where(channel, channel_id), inline=True)
    embed.add_field(
        name="Content",
        value=f"{len(cached)} of them were cached: see the attached file"
        if cached
        else "none of them were cached: their content is unknown",
        inline=False,
    )
    lines = [
        f"[{message.created_at:%Y-%m-%d %H:%M:%S} UTC] {message.author.name} "
        f"({message.author.id}): {message.content}"
        + "".join(f" [attachment: {a.filename}]" for a in message.attachments)
        for message in sorted(cached, key=lambda m: m.id)
    ]
    unknown = len(ids) - len(cached)
    if unknown:
        lines.append(f"... and {unknown} messages that were not cached")
    if not cached:
        return [LogEntry(embed)]
    name = f"deleted-messages-{channel_id}-{discord.utils.utcnow():%Y%m%d-%H%M%S}.txt"
    return [LogEntry(embed, (name, "\n".join(lines) + "\n"))]


def message_edited(before: discord.Message | None, after: discord.Message) -> list[LogEntry]:
    embed = _entry("✏️ Message edited", "edit")
    embed.add_field(name="Author", value=who(after.author), inline=True)
    embed.add_field(name="Channel", value=where(after.channel), inline=True)
    embed.add_field(name="Message", value=f"[Jump to it]({after.jump_url})", inline=True)
    embed.set_footer(text=f"Message {after.id}")
    old = before.content if before is not None else None
    if old is None:
        embeds = _quoted(embed, after.content, "After (before: not in my cache)")
    elif len(old) + len(after.content) <= QUOTED - 40:
        embeds = _quoted(embed, f"{old or '*(no text)*'}\n**After**\n{after.content}", "Before")
    else:
        embeds = _quoted(embed, old, "Before")
        embeds += _quoted(discord.Embed(colour=embed.colour), after.content, "After")
    return [LogEntry(item) for item in embeds]


# --- members ----------------------------------------------------------------------------------


def member_joined(member: discord.Member, new_account_days: int) -> list[LogEntry]:
    age = discord.utils.utcnow() - member.created_at
    young = age.days < new_account_days
    title = "📥 Member joined" + (" · ⚠️ new account" if young else "")
    embed = _entry(title, "join")
    embed.add_field(name="Member", value=who(member), inline=True)
    embed.add_field(name="Account created", value=when(member.created_at), inline=True)
    if young:
        embed.add_field(
            name="Flag",
            value=f"The account is {age.days} days old (younger than {new_account_days}).",
            inline=False,
        )
    embed.set_footer(text=f"Members: {member.guild.member_count}")
    return [LogEntry(embed)]


def member_left(member: discord.Member) -> list[LogEntry]:
    embed = _entry("📤 Member left", "leave")
    embed.add_field(name="Member", value=who(member), inline=True)
    if member.joined_at is not None:
        embed.add_field(name="Joined", value=when(member.joined_at), inline=True)
    roles = [role for role in reversed(member.roles) if not role.is_default()]
    embed.add_field(
        name=f"Roles ({len(roles)})",
        value=field(" ".join(f"{role.mention} ({role.name})" for role in roles) or "none"),
        inline=False,
    )
    return [LogEntry(embed)]


def nickname_changed(before: discord.Member, after: discord.Member) -> list[LogEntry]:
    embed = _entry("🏷️ Nickname changed", "member")
    embed.add_field(name="Member", value=who(after), inline=False)
    embed.add_field(name="Before", value=field(before.nick or "*(none)*"), inline=True)
    embed.add_field(name="After", value=field(after.nick or "*(none)*"), inline=True)
    return [LogEntry(embed)]


def roles_changed(before: discord.Member, after: discord.Member) -> list[LogEntry]:
    added = [role for role in after.roles if role not in before.roles]
    removed = [role for role in before.roles if role not in after.roles]
    embed = _entry("🎭 Roles changed", "member")
    embed.add_field(name="Member", value=who(after), inline=False)
    if added:
        text = " ".join(f"{role.mention} ({role.name})" for role in added)
        embed.add_field(name="Added", value=field(text), inline=True)
    if removed:
        text = " ".join(f"{role.mention} ({role.name})" for role in removed)
        embed.add_field(name="Removed", value=field(text), inline=True)
    return [LogEntry(embed)]


def moderation_done(
    what: str,
    user: discord.abc.User | None,
    user_id: int,
    moderator: discord.abc.User | None,
    moderator_id: int | None,
    reason: str | None,
    until: datetime | None = None,
) -> list[LogEntry]:
    """A ban, unban or timeout made by someone other than the bot (in Discord's own interface)."""
    embed = _entry(f"🔨 Member {what}", "moderation")
    embed.add_field(name="User", value=who(user, user_id), inline=True)
    embed.add_field(
        name="By",
        value=who(moderator, moderator_id)
        if moderator_id
        else "unknown (I may not read the audit log)",
        inline=True,
    )
    if until is not None:
        embed.add_field(name="Until", value=when(until), inline=True)
    embed.add_field(name="Reason", value=field(reason or "No reason given."), inline=False)
    return [LogEntry(embed)]


# --- the server -------------------------------------------------------------------------------


def channel_event(what: str, channel: Any, changes: Sequence[str] = ()) -> list[LogEntry]:
    embed = _entry(f"📁 Channel {what}", "server")
    embed.add_field(name="Channel", value=where(channel), inline=True)
    embed.add_field(name="Type", value=str(getattr(channel, "type", "unknown")), inline=True)
    if changes:
        embed.add_field(name="Changes", value=field("\n".join(changes)), inline=False)
    return [LogEntry(embed)]


def role_event(what: str, role: discord.Role, changes: Sequence[str] = ()) -> list[LogEntry]:
    embed = _entry(f"🎭 Role {what}", "server")
    embed.add_field(name="Role", value=f"{role.mention} · {role.name} ({role.id})", inline=True)
    if changes:
        embed.add_field(name="Changes", value=field("\n".join(changes)), inline=False)
    return [LogEntry(embed)]


def channel_changes(before: Any, after: Any) -> list[str]:
    """What changed on a channel, one line each (name, topic, slowmode, NSFW, overwrites...)."""
    found = []
    for attribute, label in (
        ("name", "Name"),
        ("topic", "Topic"),
        ("slowmode_delay", "Slowmode (seconds)"),
        ("nsfw", "NSFW"),
        ("category", "Category"),
        ("bitrate", "Bitrate"),
        ("user_limit", "User limit"),
    ):
        old, new = getattr(before, attribute, None), getattr(after, attribute, None)
        if old != new:
            found.append(f"{label}: {old!s} → {new!s}")
    if getattr(before, "overwrites", None) != getattr(after, "overwrites", None):
        found.append("Permission overwrites changed")
    return found


def role_changes(before: discord.Role, after: discord.Role) -> list[str]:
    """What changed on a role: name, colour, hoist, mentionable, permissions granted or taken."""
    found = []
    for attribute, label in (
        ("name", "Name"),
        ("colour", "Colour"),
        ("hoist", "Shown separately"),
        ("mentionable", "Mentionable"),
    ):
        old, new = getattr(before, attribute), getattr(after, attribute)
        if old != new:
            found.append(f"{label}: {old!s} → {new!s}")
    granted = [
        name for name, value in after.permissions if value and not getattr(before.permissions, name)
    ]
    taken = [
        name for name, value in before.permissions if value and not getattr(after.permissions, name)
    ]
    if granted:
        found.append("Permissions granted: " + ", ".join(granted))
    if taken:
        found.append("Permissions taken: " + ", ".join(taken))
    return found
