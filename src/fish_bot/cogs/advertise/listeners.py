"""Listeners of the advertise cog."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from fish_bot.core.decorators import cog_listener

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


class ListenersMixin(_MixinBase):
    """A post deleted by hand ends its ad at once (``check_deletions`` catches what was missed)."""

    if TYPE_CHECKING:  # provided by FlowMixin

        async def post_gone(self, thread_id: int) -> None: ...

    @cog_listener("on_raw_thread_delete")
    async def advert_post_deleted(self, payload: discord.RawThreadDeleteEvent) -> None:
        async with self.task_tracker.task_context("Post deleted"):
            await self.post_gone(payload.thread_id)
