"""Member commands of the levels cog: ``rank`` (a rank card) and ``leaderboard``."""

from __future__ import annotations

import asyncio
import io
import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.levels.card import CardData, render_card
from fish_bot.cogs.levels.constants import (
    AVATAR_CACHE_SIZE,
    AVATAR_FETCH_SIZE,
    AVATAR_TIMEOUT,
    PAGE_ACTION,
    PAGE_SIZE,
)
from fish_bot.cogs.levels.utils import progress
from fish_bot.cogs.levels.views import leaderboard_embed, leaderboard_view, rank_embed
from fish_bot.core.decorators import examples, hybrid_command
from fish_bot.core.text import fit_embed
from fish_bot.core.views import GuildId, component

if TYPE_CHECKING:
    from fish_bot.cogs.levels.state import LevelsStore
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.views import RoutedView

    _MixinBase = BaseCog
else:
    _MixinBase = object


class CommandsMixin(_MixinBase):
    """rank and leaderboard."""

    if TYPE_CHECKING:  # provided by the Levels class
        store: LevelsStore
        avatar_cache: OrderedDict[str, bytes]

    # --- rank ----------------------------------------------------------------------------

    async def fetch_avatar(self, member: discord.abc.User) -> bytes | None:
        """The member's avatar image at the card's size, or None when it cannot be fetched
        in time. A member without an avatar of their own gets ``b""`` at once (the card draws
        a plain disc: Discord's default avatars are not fetched); the last avatars fetched
        are kept (by Discord's avatar hash, which changes with the picture)."""
        if member.avatar is None and getattr(member, "guild_avatar", None) is None:
            return b""
        asset = member.display_avatar.with_size(AVATAR_FETCH_SIZE)
        cache = self.avatar_cache
        if asset.key in cache:
            cache.move_to_end(asset.key)
            return cache[asset.key]
        try:
            data = await asyncio.wait_for(asset.read(), AVATAR_TIMEOUT)
        except (TimeoutError, discord.DiscordException, ValueError, OSError) as error:
            self.logger.info("Avatar of %s not fetched: %s", member.id, error)
            return None
        cache[asset.key] = data
        while len(cache) > AVATAR_CACHE_SIZE:
            cache.popitem(last=False)
        return data

    @hybrid_command(name="rank", aliases=["level", "xp"])
    @examples("rank", "rank @bob")
    @commands.guild_only()
    @app_commands.describe(member="Whose rank to show (default: yours)")
    async def rank_command(
        self, ctx: commands.Context[Any], member: discord.Member | None = None
    ) -> None:
        """Show a member's level, rank and XP as a rank card (a text embed when images are off)."""
        guild = self.require_guild(ctx)
        target = member or ctx.author
        state = await self.store.guild(guild.id)
        await self.store.flush([guild.id])
        entry = state.members.get(target.id)
        total = entry.xp if entry is not None else 0
        level, into, needed = progress(total)
        rank = await self.db.levels.get_rank(target.id, guild.id)
        if self.get_setting("rank_card_images", True, guild.id):
            avatar = await self.fetch_avatar(target)
            if avatar is not None:
                data = CardData(target.display_name, level, rank, into, needed, total)
                png = await asyncio.to_thread(render_card, data, avatar)
                file = discord.File(io.BytesIO(png), filename="rank.png")
                await self.reply(ctx, file=file)
                return
        assert isinstance(target, discord.Member)
        embed = rank_embed(target, level=level, rank=rank, into=into, needed=needed, total=total)
        await self.reply(ctx, embed=embed)

    # --- leaderboard ---------------------------------------------------------------------

    async def leaderboard_page(
        self, guild: discord.Guild, page: int, viewer_id: int
    ) -> tuple[discord.Embed, RoutedView]:
        """One page of the guild's leaderboard (clamped to the pages there are) and its buttons."""
        await self.store.flush([guild.id])
        levels = self.db.levels
        total = await levels.count_ranked(guild.id)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(max(1, page), pages)
        offset = (page - 1) * PAGE_SIZE
        rows = await levels.top(guild.id, PAGE_SIZE, offset)
        rank = await levels.get_rank(viewer_id, guild.id)
        viewer_xp = 0
        if rank is not None:
            viewer_xp = (await levels.get_xp_and_level(viewer_id, guild.id))[0]
        embed = leaderboard_embed(
            guild.name,
            rows,
            page=page,
            pages=pages,
            offset=offset,
            viewer_id=viewer_id,
            viewer_rank=rank,
            viewer_xp=viewer_xp,
        )
        return embed, leaderboard_view(self, guild.id, page, pages)

    @hybrid_command(name="leaderboard", aliases=["top"])
    @examples("leaderboard", "leaderboard 2")
    @commands.guild_only()
    @app_commands.describe(page="The page to show (10 members a page; default 1)")
    async def leaderboard_command(self, ctx: commands.Context[Any], page: int = 1) -> None:
        """Show the server's members by XP, 10 a page, with your own position."""
        guild = self.require_guild(ctx)
        embed, view = await self.leaderboard_page(guild, page, ctx.author.id)
        await self.reply(ctx, embed=embed, view=view)

    @component(PAGE_ACTION)
    async def on_page(self, interaction: discord.Interaction, guild_id: GuildId, page: int) -> None:
        """A click on Previous or Next: show that page (with the clicker's own position)."""
        assert interaction.guild is not None  # GuildId matched the server clicked in
        embed, view = await self.leaderboard_page(interaction.guild, page, interaction.user.id)
        await interaction.response.edit_message(embed=fit_embed(embed), view=view)
