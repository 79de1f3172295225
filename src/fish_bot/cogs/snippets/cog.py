"""The Snippets cog class: the per-guild cache, buffered use counts and the shared checks."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from fish_bot.cogs.snippets.commands import CommandsMixin
from fish_bot.cogs.snippets.listeners import ListenersMixin
from fish_bot.cogs.snippets.tasks import SnippetTasks
from fish_bot.cogs.snippets.utils import Entry, GuildSnippets, split_content
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.guild_cache import GuildCache
from fish_bot.core.text import clip, field
from fish_bot.database.controllers.snippets import SnippetError
from fish_bot.database.models.cases import CaseType

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


def _adder(counts: dict[int, int]) -> Callable[[GuildSnippets], None]:
    return lambda loaded: loaded.add_uses(counts)


class Snippets(CommandsMixin, ListenersMixin, BaseCog):
    """Saved answers a server reuses (`!s rules`), with aliases, locks and import/export."""

    slug = "snippets"

    settings_config = {
        "shortcut": (
            False,
            "Post a snippet for a message that is just `<prefix><name>` when no command has "
            "that name",
            "type.bool",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        self.fish = bot
        #: Each guild's snippets, read in one query on first use, forgotten on every change.
        self.cache: GuildCache[GuildSnippets] = GuildCache(
            self._load, name="snippets", cacheable=lambda: not bot.database.in_transaction()
        )
        #: Uses not written yet: guild id -> snippet id -> count.
        self._pending: defaultdict[int, defaultdict[int, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        #: Uses being written by a flush right now (counted until it commits).
        self._flushing: dict[int, dict[int, int]] = {}
        self._flush_lock = asyncio.Lock()

    async def _load(self, guild_id: int) -> GuildSnippets:
        return GuildSnippets.of(await self.db.snippet.get_all_snippets_by_guild_id(guild_id))

    def _snippets_changed(self, guild_id: int | None) -> None:
        self.cache.invalidate(guild_id)

    # --- lifecycle -----------------------------------------------------------------------------

    async def cog_initialize(self) -> None:
        await super().cog_initialize()
        self.db.snippet.add_change_listener(self._snippets_changed)
        # First: a snippet of that name wins over help's "did you mean" (the last hook).
        self.fish.unknown_command_hooks.insert(0, self.shortcut_hook)
        self.tasks = SnippetTasks(self)
        self.tasks.start_tasks()

    async def cog_unload(self) -> None:
        if self.shortcut_hook in self.fish.unknown_command_hooks:
            self.fish.unknown_command_hooks.remove(self.shortcut_hook)
        self.db.snippet.remove_change_listener(self._snippets_changed)
        try:
            await self.flush_uses()
        except Exception as error:
            self.logger.error("Snippet use counts could not be written at unload: %s", error)
        await super().cog_unload()

    # --- reading -------------------------------------------------------------------------------

    async def snippets(self, guild_id: int) -> GuildSnippets:
        """The guild's snippets (from memory once loaded)."""
        return await self.cache.get(guild_id)

    async def find(self, guild_id: int, name: str) -> Entry:
        """The snippet or alias called ``name``, or a SnippetError with suggestions."""
        snippets = await self.snippets(guild_id)
        entry = snippets.get(name)
        if entry is not None:
            return entry
        shown = discord.utils.escape_markdown(clip(" ".join(name.split()), 40)).replace("`", "'")
        close = snippets.suggestions(name)
        hint = f" Did you mean {', '.join(f'`{n}`' for n in close)}?" if close else ""
        raise SnippetError(f"❌ There is no snippet named `{shown}` here.{hint}")

    # --- use counts ----------------------------------------------------------------------------

    def uses_of(self, entry: Entry) -> int:
        """Stored uses plus the ones not written yet."""
        pending = (
            self._pending[entry.guild_id].get(entry.id, 0) if entry.guild_id in self._pending else 0
        )
        flushing = self._flushing.get(entry.guild_id, {}).get(entry.id, 0)
        return entry.uses + pending + flushing

    def pending_uses(self, guild_id: int) -> dict[int, int]:
        counts = dict(self._pending.get(guild_id, {}))
        for snippet_id, count in self._flushing.get(guild_id, {}).items():
            counts[snippet_id] = counts.get(snippet_id, 0) + count
        return counts

    def count_use(self, entry: Entry) -> None:
        self._pending[entry.guild_id][entry.id] += 1

    async def flush_uses(self) -> int:
        """Write the buffered use counts (one transaction); returns how many uses."""
        async with self._flush_lock:
            if not self._pending:
                return 0
            batch = {guild: dict(counts) for guild, counts in self._pending.items()}
            self._pending.clear()
            self._flushing = batch
            merged = {sid: n for counts in batch.values() for sid, n in counts.items()}
            try:
                await self.db.snippet.add_uses(merged)
            except BaseException:
                for guild, counts in batch.items():  # kept for the next flush
                    for snippet_id, count in counts.items():
                        self._pending[guild][snippet_id] += count
                raise
            finally:
                self._flushing = {}
            for guild, counts in batch.items():
                self.cache.mutate(guild, _adder(counts))
            return sum(merged.values())

    # --- posting -------------------------------------------------------------------------------

    async def post(self, ctx: commands.Context[Any], entry: Entry) -> None:
        """Send a snippet's content (split over 2,000 characters, pinging nobody)."""
        snippets = await self.snippets(entry.guild_id)
        target = snippets.target(entry)
        if target is None or not target.content:
            raise SnippetError(f"❌ The alias `{entry.name}` points at nothing.")
        for part in split_content(target.content):
            await self.reply(ctx, part)
        self.count_use(target)

    # --- who may do what -----------------------------------------------------------------------

    async def is_moderator(self, ctx: commands.Context[Any]) -> bool:
        """Whether the permission model lets the member run `snippet lock` (anywhere)."""
        decision = await self.bot.permissions.evaluate(
            ctx, cog=self, command=self.lock_command, anywhere=True
        )
        return decision.allowed

    async def check_not_banned(self, ctx: commands.Context[Any]) -> None:
        """Refuse a member with an active snippet ban, saying until when."""
        guild = self.require_guild(ctx)
        case = await self.db.case.get_active_restriction(
            guild.id, ctx.author.id, [CaseType.SNIPPETBAN]
        )
        if case is None:
            return
        now = discord.utils.utcnow()
        if case.expires_at is not None and case.expires_at <= now:
            return  # ended; its expiry job closes the case
        until = (
            f"until {discord.utils.format_dt(case.expires_at, 'f')} "
            f"({discord.utils.format_dt(case.expires_at, 'R')})"
            if case.expires_at is not None
            else "permanently"
        )
        reason = f" Reason: {clip(case.reason, 200)}" if case.reason else ""
        raise SnippetError(
            f"⛔ You are banned from changing snippets {until} (case #{case.case_number}): you "
            f"cannot create, edit, alias or delete snippets.{reason}"
        )

    async def check_may_change(self, ctx: commands.Context[Any], entry: Entry, verb: str) -> None:
        """The author or a moderator may change a snippet; a locked one only a moderator (an
        alias is never locked itself: locking is about the content)."""
        if entry.locked or entry.author_id != ctx.author.id:
            if await self.is_moderator(ctx):
                return
            if entry.locked:
                raise SnippetError(f"🔒 `{entry.name}` is locked: only moderators can {verb} it.")
            raise SnippetError(
                f"⛔ Only the author (<@{entry.author_id}>) or a moderator can {verb} "
                f"`{entry.name}`."
            )

    # --- status --------------------------------------------------------------------------------

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        """`status snippets`: servers in memory, uses not written yet, the flush loop."""
        waiting = sum(sum(counts.values()) for counts in self._pending.values())
        embed.add_field(name="Servers in memory", value=str(len(self.cache)))
        embed.add_field(name="Uses not written yet", value=str(waiting))
        if self.tasks is not None:
            embed.add_field(
                name="Loops", value=field("\n".join(self.tasks.status_lines())), inline=False
            )
