"""Commands of the advertise cog: `advertise` (the form) and the moderators' subcommands.

`/advertise post` opens the form (a modal); the prefix `advertise` answers with a button that
opens it (a modal can only answer an interaction). Moderators (rank 2, or Manage Messages on a
server without ranks) have `advertise list`, `advertise delete` and `advertise clear-cooldown`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.advertise.constants import (
    FORM_ACTION,
    LIST_LIMIT,
    MODERATOR_PERMISSION,
    MODERATOR_RANK,
)
from fish_bot.cogs.advertise.utils import AdvertError, form_of, kind_label, post_number
from fish_bot.cogs.advertise.views import AdvertModal, form_buttons
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permissions import requires_rank
from fish_bot.core.text import clip, plain
from fish_bot.core.views import MemberId, component
from fish_bot.database.models.adverts import Advert, AdvertEnd

if TYPE_CHECKING:
    from datetime import datetime

    from fish_bot.cogs.advertise.utils import AdForm
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object

Ctx = commands.Context[Any]


def _guild(ctx: Ctx) -> discord.Guild:
    if ctx.guild is None:  # guild-only commands; kept for the type checker
        raise AdvertError("Ads are posted in a server.")
    return ctx.guild


def list_line(advert: Advert) -> str:
    """One live ad in `advertise list`."""
    post = f"<#{advert.thread_id}>" if advert.thread_id else "(not posted)"
    ends = discord.utils.format_dt(advert.expires_at, "R")
    return (
        f"**#{advert.id}** · {kind_label(advert.kind)} · `{plain(advert.title, 60)}` by "
        f"<@{advert.author_id}> · {post} · ends {ends}"
    )


class CommandsMixin(_MixinBase):
    """advertise (post), advertise list, advertise delete, advertise clear-cooldown."""

    if TYPE_CHECKING:  # provided by FlowMixin

        def forum_of(self, guild: discord.Guild) -> discord.ForumChannel: ...

        async def check_cooldown(
            self, guild_id: int, member_id: int, advertised: int | None, now: datetime
        ) -> None: ...

        async def end_ad(self, advert: Advert, reason: AdvertEnd) -> Advert | None: ...

    async def _form_for(self, guild: discord.Guild, member_id: int, reuse: bool) -> AdvertModal:
        """The form to show: refused while the member's cooldown runs or ads are not set up."""
        self.forum_of(guild)
        await self.check_cooldown(guild.id, member_id, None, discord.utils.utcnow())
        previous: AdForm | None = None
        if reuse:
            last = await self.db.advert.last_ad(guild.id, member_id)
            if last is None:
                raise AdvertError("You have no earlier ad here to re-use; fill in the form.")
            previous = form_of(last)
        return AdvertModal(self, previous)  # type: ignore[arg-type]

    @hybrid_group(name="advertise", aliases=["ad"], fallback="post", invoke_without_command=True)
    @commands.guild_only()
    @app_commands.describe(reuse="Fill the form from your last ad here")
    @examples("advertise")
    async def advertise_group(self, ctx: Ctx, reuse: bool = False) -> None:
        """Post an ad in this server's ad forum: a form asks for its type (`guild` for a
        server, `member` for yourself), title, description, tags and contact.

        One ad per member (and per advertised server) per cooldown (`cooldown_hours`, 24 by
        default); the post is removed when the cooldown ends. A server ad's contact is the
        server's invite link. `/advertise post reuse: True` fills the form from your last ad.
        """
        guild = _guild(ctx)
        modal = await self._form_for(guild, ctx.author.id, reuse)
        if ctx.interaction is not None:
            await ctx.interaction.response.send_modal(modal)
            return
        last = await self.db.advert.last_ad(guild.id, ctx.author.id)
        await self.reply(
            ctx,
            "📝 Press the button to fill in your ad.",
            view=form_buttons(self, ctx.author.id, last is not None),  # type: ignore[arg-type]
        )

    @component(FORM_ACTION)
    async def on_form(
        self, interaction: discord.Interaction, member_id: MemberId, reuse: int
    ) -> None:
        """ "Open the form" / "Re-use my last ad" (only the member they were shown to)."""
        if interaction.guild is None:
            raise AdvertError("Ads are posted in a server.")
        modal = await self._form_for(interaction.guild, member_id, bool(reuse))
        await interaction.response.send_modal(modal)

    # --- moderators ------------------------------------------------------------------------

    @advertise_group.command(name="list")
    @commands.guild_only()
    @requires_rank(MODERATOR_RANK, MODERATOR_PERMISSION)
    @examples("advertise list")
    async def advertise_list(self, ctx: Ctx) -> None:
        """List the ads up in this server: number, type, title, author, post and when it ends."""
        ads = await self.db.advert.live_ads(_guild(ctx).id)
        if not ads:
            await self.reply(ctx, "No ads are up here.")
            return
        lines = [list_line(advert) for advert in ads[:LIST_LIMIT]]
        if len(ads) > LIST_LIMIT:
            lines.append(f"… and {len(ads) - LIST_LIMIT} more.")
        embed = discord.Embed(
            title=f"Ads up ({len(ads)})", description=clip("\n".join(lines), 4000)
        )
        await self.reply(ctx, embed=embed)

    @advertise_group.command(name="delete")
    @commands.guild_only()
    @requires_rank(MODERATOR_RANK, MODERATOR_PERMISSION)
    @app_commands.describe(
        post="The ad's number (from `advertise list`), or its post: a link or #mention"
    )
    @examples("advertise delete 12", "advertise delete #my-cool-server")
    async def advertise_delete(self, ctx: Ctx, *, post: str) -> None:
        """Delete an ad and its post now (the author's cooldown stays; see clear-cooldown)."""
        guild = _guild(ctx)
        number = post_number(post)
        advert = await self.db.advert.find_live(guild.id, number) if number else None
        if advert is None:
            raise AdvertError(
                f"❌ No ad up here is `{plain(post, 60)}`; `advertise list` shows their numbers."
            )
        ended = await self.end_ad(advert, AdvertEnd.MODERATOR)
        if ended is None:
            raise AdvertError(f"❌ Ad #{advert.id} has ended already.")
        await self.reply(ctx, f"🗑️ Ad #{advert.id} (`{plain(advert.title, 60)}`) is deleted.")

    @advertise_group.command(name="clear-cooldown")
    @commands.guild_only()
    @requires_rank(MODERATOR_RANK, MODERATOR_PERMISSION)
    @app_commands.describe(member="The member who may post a new ad right away")
    @examples("advertise clear-cooldown @bob")
    async def advertise_clear_cooldown(self, ctx: Ctx, member: discord.Member) -> None:
        """Let a member post a new ad now (their ads that are up stay up until they end)."""
        cleared = await self.db.advert.clear_cooldown(
            _guild(ctx).id, member.id, discord.utils.utcnow()
        )
        if not cleared:
            await self.reply(ctx, f"{member.mention} has no cooldown here.")
            return
        await self.reply(ctx, f"✅ {member.mention} may post a new ad now.")
