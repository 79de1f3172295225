"""The advertise cog's form (a modal) and its buttons.

* :class:`AdvertModal` is the form: type, title, description, tags, contact. Filled from an
  earlier ad for "re-use my last ad".
* The "Open the form" and "Re-use my last ad" buttons are routed components
  (``advertise:form:<member>:<0|1>``): they keep working after a restart, and the member id is
  checked against whoever clicks, so nobody opens someone else's form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.advertise.constants import DESCRIPTION_LENGTH, FORM_ACTION, TAGS_LENGTH
from fish_bot.cogs.advertise.utils import AdForm, read_form
from fish_bot.core.modals import FishModal
from fish_bot.core.views import RoutedView, routed_button
from fish_bot.database.models.adverts import ADVERT_CONTACT_LENGTH, ADVERT_TITLE_LENGTH

if TYPE_CHECKING:
    from fish_bot.cogs.advertise.cog import UnifiedAdvertise


class AdvertModal(FishModal):
    """The ad form; ``on_submit`` checks it and posts the ad."""

    cog: UnifiedAdvertise

    def __init__(self, cog: UnifiedAdvertise, previous: AdForm | None = None) -> None:
        super().__init__(cog, title="Post an ad")
        self.kind: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Type: guild (a server) or member (yourself)",
            custom_id="kind",
            placeholder="guild or member",
            max_length=10,
            default=previous.kind if previous else None,
        )
        self.ad_title: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Title",
            custom_id="title",
            max_length=ADVERT_TITLE_LENGTH,
            default=previous.title if previous else None,
        )
        self.description: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Description",
            custom_id="description",
            style=discord.TextStyle.paragraph,
            max_length=DESCRIPTION_LENGTH,
            default=previous.description if previous else None,
        )
        self.tags: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Tags (the forum's, comma separated)",
            custom_id="tags",
            required=False,
            max_length=TAGS_LENGTH,
            default=previous.tags_text if previous and previous.tags else None,
        )
        self.contact: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label="Contact (a server ad: its invite link)",
            custom_id="contact",
            max_length=ADVERT_CONTACT_LENGTH,
            default=previous.contact if previous else None,
        )
        for item in (self.kind, self.ad_title, self.description, self.tags, self.contact):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction, /) -> None:
        form = read_form(
            self.kind.value,
            self.ad_title.value,
            self.description.value,
            self.tags.value or "",
            self.contact.value,
        )
        await self.cog.post_ad(interaction, form)


def form_buttons(cog: UnifiedAdvertise, member_id: int, has_last: bool) -> RoutedView:
    """ "Open the form" and, when the member posted before, "Re-use my last ad"."""
    buttons = [
        routed_button(
            cog, FORM_ACTION, member_id, 0, label="Open the form", style=discord.ButtonStyle.primary
        )
    ]
    if has_last:
        buttons.append(routed_button(cog, FORM_ACTION, member_id, 1, label="Re-use my last ad"))
    return RoutedView(*buttons)
