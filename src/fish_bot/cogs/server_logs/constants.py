"""Constants of the server-logs cog: the events it logs and where each goes by default."""

from __future__ import annotations

from typing import Final

import discord

from fish_bot.database.models.core import LogKind

#: Every event the cog logs: its name (used in the `routes` and `disabled_events` settings),
#: the log channel it goes to by default, and what it is.
EVENTS: Final[dict[str, tuple[LogKind, str]]] = {
    "message_delete": (LogKind.MESSAGE, "a message was deleted"),
    "message_bulk_delete": (LogKind.MESSAGE, "many messages were deleted at once (a purge)"),
    "message_edit": (LogKind.MESSAGE, "a message was edited"),
    "member_join": (LogKind.MEMBER, "a member joined (with the account's age)"),
    "member_leave": (LogKind.MEMBER, "a member left (with the roles they had)"),
    "member_nickname": (LogKind.MEMBER, "a member's nickname changed"),
    "member_roles": (LogKind.MEMBER, "a member's roles changed"),
    "member_ban": (LogKind.MEMBER, "a member was banned by someone other than the bot"),
    "member_unban": (LogKind.MEMBER, "a user was unbanned by someone other than the bot"),
    "member_timeout": (LogKind.MEMBER, "a member was timed out by someone other than the bot"),
    "channel_create": (LogKind.SERVER, "a channel was created"),
    "channel_delete": (LogKind.SERVER, "a channel was deleted"),
    "channel_update": (LogKind.SERVER, "a channel was changed"),
    "role_create": (LogKind.SERVER, "a role was created"),
    "role_delete": (LogKind.SERVER, "a role was deleted"),
    "role_update": (LogKind.SERVER, "a role was changed"),
    "config_change": (LogKind.SERVER, "the bot's configuration was changed (the audit trail)"),
}

#: The log kinds an event can be routed to (`off`: not logged).
ROUTE_KINDS: Final = ("message", "member", "server", "off")

#: At most this many embeds in one log message (Discord's limit).
EMBEDS_PER_MESSAGE: Final = 10

#: At most this many characters in all embeds of one message (Discord's limit).
EMBED_CHARACTERS_PER_MESSAGE: Final = 6000

#: Entries waiting for one channel beyond this are dropped, oldest first (and counted).
MAX_QUEUED: Final = 5000

#: Longest wait between retries when Discord keeps refusing a log message, in seconds.
MAX_RETRY_DELAY: Final = 60.0

#: How much of a deleted or edited message an embed quotes (Discord allows 4,096).
QUOTED: Final = 3900

COLOURS: Final[dict[str, discord.Colour]] = {
    "delete": discord.Colour.red(),
    "edit": discord.Colour.orange(),
    "join": discord.Colour.green(),
    "leave": discord.Colour.dark_grey(),
    "member": discord.Colour.blurple(),
    "moderation": discord.Colour.dark_red(),
    "server": discord.Colour.teal(),
}
