"""Text shown on Discord: clipped to Discord's limits, user input made harmless.

Every reply that quotes what a user typed goes through these helpers, so that no reply can
exceed a Discord limit (a send that does fails with HTTP 400 and the user gets no answer) and no
quoted text changes how the reply renders:

* :func:`clip` cuts text to a limit, with an ellipsis when it was cut;
* :func:`plain` makes user text safe to show inside inline code (one line, no backticks, no
  invisible formatting characters such as zero-width or right-to-left marks), clipped;
* :func:`field` is an embed field value: never empty, at most 1,024 characters;
* :func:`fit_embed` clips every part of an embed to Discord's limits (title, description,
  fields, footer, author, 25 fields, 6,000 characters in all). ``BaseCog.reply`` applies it to
  every embed it sends;
* :func:`permission_label` names a Discord permission the way Discord does.
"""

from __future__ import annotations

import unicodedata
from typing import Final

import discord

__all__ = [
    "AUTHOR_LIMIT",
    "CONTENT_LIMIT",
    "DESCRIPTION_LIMIT",
    "EMBED_TOTAL_LIMIT",
    "FIELD_COUNT_LIMIT",
    "FIELD_NAME_LIMIT",
    "FIELD_VALUE_LIMIT",
    "FOOTER_LIMIT",
    "TITLE_LIMIT",
    "clip",
    "embed_size",
    "field",
    "fit_embed",
    "permission_label",
    "plain",
]

#: Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_LIMIT: Final = 2000
TITLE_LIMIT: Final = 256
DESCRIPTION_LIMIT: Final = 4096
FIELD_COUNT_LIMIT: Final = 25
FIELD_NAME_LIMIT: Final = 256
FIELD_VALUE_LIMIT: Final = 1024
FOOTER_LIMIT: Final = 2048
AUTHOR_LIMIT: Final = 256
EMBED_TOTAL_LIMIT: Final = 6000

ELLIPSIS: Final = "…"

#: What an empty field value shows (Discord refuses empty field values).
EMPTY_FIELD: Final = "—"


def clip(text: str, limit: int = CONTENT_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when it was cut."""
    if limit < 1:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def _invisible(character: str) -> bool:
    # Cc: control characters (newlines are collapsed before); Cf: format characters such as
    # zero-width spaces and joiners and the bidirectional overrides that flip the rest of a line.
    return unicodedata.category(character) in {"Cc", "Cf"}


def plain(text: str, limit: int = 80) -> str:
    """User text made safe to show inside inline code (```like this```), clipped to ``limit``.

    Whitespace runs (newlines included) become one space, backticks become ``'`` (they would
    end the inline code) and invisible formatting characters are removed. Inside inline code
    Discord renders neither markdown nor mentions, and the bot's replies never ping.
    """
    cleaned = "".join(ch for ch in " ".join(str(text).split()) if not _invisible(ch))
    return clip(cleaned.replace("`", "'"), limit)


def field(text: str, limit: int = FIELD_VALUE_LIMIT) -> str:
    """An embed field value: clipped to ``limit`` (at most 1,024), never empty."""
    return clip(text, min(limit, FIELD_VALUE_LIMIT)) if text.strip() else EMPTY_FIELD


def embed_size(embed: discord.Embed) -> int:
    """The characters Discord counts towards an embed's 6,000 (title, description, fields,
    footer, author name)."""
    size = len(embed.title or "") + len(embed.description or "")
    size += sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
    size += len(embed.footer.text or "") + len(embed.author.name or "")
    return size


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Clip every part of ``embed`` (in place) to Discord's limits; returns it.

    Fields past the 25th are dropped; when the whole is still over 6,000 characters, fields
    are dropped from the end, then the description is shortened.
    """
    if embed.title and len(embed.title) > TITLE_LIMIT:
        embed.title = clip(embed.title, TITLE_LIMIT)
    if embed.description and len(embed.description) > DESCRIPTION_LIMIT:
        embed.description = clip(embed.description, DESCRIPTION_LIMIT)
    if embed.footer.text and len(embed.footer.text) > FOOTER_LIMIT:
        embed.set_footer(text=clip(embed.footer.text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    if embed.author.name and len(embed.author.name) > AUTHOR_LIMIT:
        embed.set_author(
            name=clip(embed.author.name, AUTHOR_LIMIT),
            url=embed.author.url,
            icon_url=embed.author.icon_url,
        )
    fields = list(embed.fields)
    while len(fields) > FIELD_COUNT_LIMIT:
        fields.pop()
        embed.remove_field(len(fields))
    for index, item in enumerate(fields):
        name = clip(item.name or "", FIELD_NAME_LIMIT) or EMPTY_FIELD
        value = field(item.value or "")
        if name != item.name or value != item.value:
            embed.set_field_at(index, name=name, value=value, inline=item.inline)
    while embed_size(embed) > EMBED_TOTAL_LIMIT and len(embed.fields) > 1:
        embed.remove_field(len(embed.fields) - 1)
    excess = embed_size(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - excess))
    return embed


def permission_label(name: str) -> str:
    """A Discord permission flag as Discord names it: ``ban_members`` -> ``Ban Members``,
    ``manage_guild`` -> ``Manage Server``."""
    return name.replace("_", " ").title().replace("Guild", "Server")
