"""The Levels cog class: settings, the in-memory XP store, level-ups and role rewards."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import discord

from fish_bot.cogs.levels.admin_commands import AdminCommandsMixin
from fish_bot.cogs.levels.commands import CommandsMixin
from fish_bot.cogs.levels.constants import DEFAULT_LEVELUP_MESSAGE
from fish_bot.cogs.levels.listeners import ListenersMixin
from fish_bot.cogs.levels.state import GuildLevels, LevelsStore, MemberXP
from fish_bot.cogs.levels.tasks import LevelsTasks
from fish_bot.cogs.levels.utils import check_multipliers, render_template
from fish_bot.core import text
from fish_bot.core.base_cog import BaseCog
from fish_bot.core.roles import assignable_role_problem
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.bot import FishBot


class Levels(AdminCommandsMixin, CommandsMixin, ListenersMixin, BaseCog):
    """XP for chatting, levels, rank cards, a leaderboard and role rewards."""

    slug = "levels"

    settings_config = {
        # Earning XP
        "xp_min": (15, "Least XP a message earns", ["type.int", "range(0,1000)"]),
        "xp_max": (25, "Most XP a message earns", ["type.int", "range(0,1000)"]),
        "cooldown": (
            60,
            "A member earns XP for one message per cooldown",
            "time.seconds(0,86400)",
        ),
        "excluded_channels": (
            [],
            "Channels where messages earn no XP (threads follow their channel)",
            "collection.list(item_type=channel,unique=true,max_length=100)",
        ),
        "excluded_roles": (
            [],
            "Members with one of these roles earn no XP",
            "collection.list(item_type=role,unique=true,max_length=100)",
        ),
        "role_multipliers": (
            {},
            'XP factor of roles, as JSON {"<role id>": 1.5} (0 to 10; the highest applies)',
            ["collection.dict(key_type=role,value_type=float)", check_multipliers],
        ),
        # Level-ups
        "levelup_destination": (
            "channel",
            "Where level-ups are announced: channel, set_channel, dm or off",
            "pattern(channel|set_channel|dm|off)",
        ),
        "levelup_channel": (
            None,
            "The channel of level-up messages when levelup_destination is set_channel",
            "discord.channel",
        ),
        "levelup_message": (
            DEFAULT_LEVELUP_MESSAGE,
            "The level-up message; {member} mentions the member, {level} is the new level",
            ["type.str", "length(1,500)"],
        ),
        "reward_mode": (
            "keep_all",
            "keep_all: members keep every reward role they earned; highest: only the highest",
            "pattern(keep_all|highest)",
        ),
        # Rank cards
        "rank_card_images": (
            True,
            "Show `rank` as an image (off: a text embed)",
            "type.bool",
        ),
        # Storage
        "flush_interval": (
            10,
            "How often changed XP is written to the database (read when the module loads)",
            "time.seconds(1,300)",
        ),
        "idle_eviction": (
            30,
            "A server quiet this long is dropped from memory (read again on its next message)",
            "time.minutes(1,1440)",
        ),
    }

    def __init__(self, bot: FishBot) -> None:
        super().__init__(bot)
        self.store = LevelsStore(lambda: self.db.levels)
        #: The rank card's last fetched avatars, by Discord's avatar hash (oldest first).
        self.avatar_cache: OrderedDict[str, bytes] = OrderedDict()
        self.tasks: LevelsTasks | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def cog_initialize(self) -> None:
        await super().cog_initialize()
        self.tasks = LevelsTasks(self)
        self.tasks.start_tasks()

    async def cog_unload(self) -> None:
        """Stop the flush loop, then write everything still in memory."""
        if self.tasks is not None:
            self.tasks.stop_tasks()
        try:
            await self.store.flush()
        except Exception:
            self.logger.exception(
                "Writing XP at unload failed; the changes since the last flush are lost"
            )
        await super().cog_unload()

    # --- level-ups ---------------------------------------------------------------------------

    async def announce_level_up(
        self, member: discord.Member, level: int, channel: discord.abc.Messageable | None
    ) -> None:
        """Post the level-up message where ``levelup_destination`` says (pings the member only)."""
        guild_id = member.guild.id
        where = self.get_setting("levelup_destination", "channel", guild_id)
        if where == "off":
            return
        target: discord.abc.Messageable | None = channel
        if where == "dm":
            target = member
        elif where == "set_channel":
            channel_id = self.get_setting("levelup_channel", None, guild_id)
            found = member.guild.get_channel(channel_id) if channel_id else None
            target = found if isinstance(found, discord.abc.Messageable) else channel
        if target is None:
            return
        template = self.get_setting("levelup_message", DEFAULT_LEVELUP_MESSAGE, guild_id)
        content = text.clip(render_template(template, member.mention, level))
        try:
            await target.send(
                content,
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False, users=[member], replied_user=False
                ),
            )
        except discord.HTTPException as error:
            self.logger.info("Level-up message for %s not sent: %s", member.id, error)

    # --- role rewards ------------------------------------------------------------------------

    def reward_roles(self, state: GuildLevels, level: int) -> tuple[set[int], set[int]]:
        """``(roles the member should have, reward roles it should not)`` at ``level``."""
        earned = {role_id for role_id, at in state.rewards.items() if at <= level}
        if self.get_setting("reward_mode", "keep_all", state.guild_id) == "highest" and earned:
            top = max(state.rewards[role_id] for role_id in earned)
            earned = {role_id for role_id in earned if state.rewards[role_id] == top}
        return earned, set(state.rewards) - earned

    async def sync_rewards(self, member: discord.Member, state: GuildLevels, level: int) -> None:
        """Give and take the member's reward roles so they match ``level`` (errors logged)."""
        if not state.rewards:
            return
        wanted, unwanted = self.reward_roles(state, level)
        have = {role.id for role in member.roles}
        add, remove = [], []
        for role_id in sorted(wanted - have):
            role = member.guild.get_role(role_id)
            if role is None:
                continue
            problem = assignable_role_problem(role, None, purpose="a level reward")
            if problem is not None:
                self.logger.warning("Level reward %s not given: %s", role_id, problem)
                continue
            add.append(role)
        for role_id in sorted(unwanted & have):
            role = member.guild.get_role(role_id)
            if role is not None and assignable_role_problem(role, None) is None:
                remove.append(role)
        try:
            if add:
                await member.add_roles(*add, reason=f"Level {level} reward")
            if remove:
                await member.remove_roles(*remove, reason=f"Level rewards for level {level}")
        except discord.HTTPException as error:
            self.logger.warning("Level rewards of %s not updated: %s", member.id, error)

    # --- manual changes ----------------------------------------------------------------------

    async def change_member(
        self, member: discord.Member, *, xp: int | None = None, blacklist_toggle: bool = False
    ) -> MemberXP:
        """A moderator's change, through the in-memory state, written at once; rewards follow."""
        if member.bot:
            raise UserFacingError("❌ Bots don't earn XP.")
        state = await self.store.guild(member.guild.id)
        entry = state.member(member.id)
        if xp is not None:
            state.set_xp(member.id, xp)
        if blacklist_toggle:
            entry.blacklisted = not entry.blacklisted
            state.mark(member.id)
        await self.store.flush([member.guild.id])
        if xp is not None:
            await self.sync_rewards(member, state, entry.level)
        return entry

    # --- status ------------------------------------------------------------------------------

    async def _add_status_fields(self, embed: discord.Embed) -> None:
        stats = self.store.stats
        embed.add_field(name="Servers in memory", value=str(len(self.store.cache)))
        embed.add_field(name="Rows waiting", value=str(self.store.dirty_rows))
        embed.add_field(
            name="Writes",
            value=f"{stats.flushes} flushes, {stats.rows_written} rows, "
            f"{stats.failed_flushes} failed",
        )

    def status_summary(self) -> dict[str, Any]:
        summary = super().status_summary()
        summary["dirty_rows"] = self.store.dirty_rows
        return summary
