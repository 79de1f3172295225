"""Pure helpers of the advertise cog: reading the form, matching forum tags, the post's embed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import discord

from fish_bot.cogs.advertise.constants import (
    DESCRIPTION_LENGTH,
    EMBED_COLOUR,
    INVITE_PATTERN,
    KIND_WORDS,
    MAX_TAGS,
    TAGS_LENGTH,
)
from fish_bot.core.text import clip, field, plain
from fish_bot.database.models.adverts import (
    ADVERT_CONTACT_LENGTH,
    ADVERT_TITLE_LENGTH,
    Advert,
    AdvertKind,
)
from fish_bot.exceptions import UserFacingError


class AdvertError(UserFacingError):
    """An ad the rules refuse; the message says which rule and how to fix it."""


@dataclass(frozen=True)
class AdForm:
    """What the member typed into the form, checked."""

    kind: str
    title: str
    description: str
    tags: tuple[str, ...]
    contact: str

    @property
    def tags_text(self) -> str:
        return ", ".join(self.tags)


def split_tags(text: str) -> tuple[str, ...]:
    """``"gaming, Art ,gaming"`` -> ``("gaming", "Art")`` (commas separate; duplicates dropped)."""
    seen: dict[str, str] = {}
    for part in text.split(","):
        word = " ".join(part.split())
        if word and word.casefold() not in seen:
            seen[word.casefold()] = word
    return tuple(seen.values())


def read_form(kind: str, title: str, description: str, tags: str, contact: str) -> AdForm:
    """Check the form's fields; :class:`AdvertError` names the first that is wrong."""
    kind_word = KIND_WORDS.get(kind.strip().casefold())
    if kind_word is None:
        raise AdvertError("❌ Type must be `guild` (a server) or `member` (yourself).")
    title = " ".join(title.split())
    if not title:
        raise AdvertError("❌ The title is empty.")
    if len(title) > ADVERT_TITLE_LENGTH:
        raise AdvertError(f"❌ The title is longer than {ADVERT_TITLE_LENGTH} characters.")
    description = description.strip()
    if not description:
        raise AdvertError("❌ The description is empty.")
    if len(description) > DESCRIPTION_LENGTH:
        raise AdvertError(f"❌ The description is longer than {DESCRIPTION_LENGTH} characters.")
    if len(tags) > TAGS_LENGTH:
        raise AdvertError(f"❌ The tags are longer than {TAGS_LENGTH} characters.")
    contact = " ".join(contact.split())
    if not contact:
        raise AdvertError("❌ The contact is empty: say how people reach you.")
    if len(contact) > ADVERT_CONTACT_LENGTH:
        raise AdvertError(f"❌ The contact is longer than {ADVERT_CONTACT_LENGTH} characters.")
    return AdForm(kind_word, title, description, split_tags(tags), contact)


def invite_code(contact: str) -> str | None:
    """The code of the Discord invite in ``contact`` (``discord.gg/abc`` -> ``abc``), or None."""
    found = INVITE_PATTERN.search(contact)
    return found.group(1) if found else None


def match_tags(
    form: AdForm,
    available: Sequence[discord.ForumTag],
    mapping: Mapping[str, str],
) -> list[discord.ForumTag]:
    """The forum's tags for the ad: the type's tag (``tag_mapping``), then the ones it names.

    A tag the forum does not have is refused with the forum's tags listed; more than five is
    refused (Discord's limit). A type whose mapped tag the forum lacks just gets no type tag.
    """
    by_name = {tag.name.casefold(): tag for tag in available}
    chosen: dict[int, discord.ForumTag] = {}
    type_tag = by_name.get(str(mapping.get(form.kind, "")).casefold())
    if type_tag is not None:
        chosen[type_tag.id] = type_tag
    unknown = [word for word in form.tags if word.casefold() not in by_name]
    if unknown:
        names = ", ".join(f"`{plain(tag.name, 40)}`" for tag in available) or "none"
        raise AdvertError(
            f"❌ This forum has no tag {', '.join(f'`{plain(w, 40)}`' for w in unknown)}. "
            f"Its tags: {names}."
        )
    for word in form.tags:
        tag = by_name[word.casefold()]
        chosen[tag.id] = tag
    if len(chosen) > MAX_TAGS:
        raise AdvertError(f"❌ A post can carry at most {MAX_TAGS} tags; name fewer.")
    return list(chosen.values())


def kind_label(kind: str) -> str:
    return "Server" if kind == AdvertKind.GUILD.value else "Member"


def ad_embed(form: AdForm, author: discord.abc.User) -> discord.Embed:
    """The embed of the ad's forum post (user text as it is; embeds never ping)."""
    embed = discord.Embed(title=clip(form.title, 256), description=form.description)
    embed.colour = EMBED_COLOUR
    embed.add_field(name="Type", value=kind_label(form.kind))
    embed.add_field(name="Contact", value=field(form.contact))
    if form.tags:
        embed.add_field(name="Tags", value=field(form.tags_text), inline=False)
    embed.set_footer(text=f"Posted by {author} ({author.id})")
    return embed


def post_content(author: discord.abc.User) -> str:
    """The line above the embed: names the author (a mention that pings nobody)."""
    return f"📣 Ad by {author.mention} ({plain(str(author), 40)})"


def form_of(advert: Advert) -> AdForm:
    """The form an earlier ad was made from (for "re-use my last ad")."""
    return AdForm(
        advert.kind, advert.title, advert.description, split_tags(advert.tags), advert.contact
    )


_NUMBER = re.compile(r"([0-9]{1,20})\D*$")


def post_number(text: str) -> int | None:
    """The number in ``12``, ``#12``, ``<#1234>`` or a post's link (its last number)."""
    found = _NUMBER.search(text.strip())
    if found is None:
        return None
    number = int(found.group(1))
    return number if 0 < number < 2**63 else None  # beyond the database's integers: no ad
