"""The ``levels`` group: moderators' XP changes, role rewards, export and import.

Every change goes through the cog's in-memory state (so it cannot be lost against XP waiting
to be written) and is written at once; the member's reward roles follow at once.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.levels.constants import (
    ADMIN_RANK,
    EMBED_COLOUR,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_LEVEL,
    MODERATOR_RANK,
)
from fish_bot.cogs.levels.utils import (
    MAX_XP,
    ImportRefused,
    export_csv,
    parse_import,
    xp_for_level,
)
from fish_bot.core import text
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permissions import admin_override, requires_rank
from fish_bot.core.roles import check_assignable_role
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.cogs.levels.state import LevelsStore, MemberXP
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object

Ctx = commands.Context[Any]
F = TypeVar("F")


def _moderators(func: F) -> F:
    """The XP commands: moderators (Moderate Members on a server without ranks), and always the
    server's owner and Administrators."""
    return admin_override()(requires_rank(MODERATOR_RANK, "moderate_members")(func))


def _admins(func: F) -> F:
    """Changing rewards, export and import: admins (Manage Server on a server without ranks),
    and always the server's owner and Administrators."""
    return admin_override()(requires_rank(ADMIN_RANK, "manage_guild")(func))


class AdminCommandsMixin(_MixinBase):
    """levels set, setxp, reset, blacklist, rewards add/remove/list, export, import."""

    if TYPE_CHECKING:  # provided by the Levels class
        store: LevelsStore

        async def change_member(
            self, member: discord.Member, *, xp: int | None = None, blacklist_toggle: bool = False
        ) -> MemberXP: ...

    @hybrid_group(name="levels", invoke_without_command=True)
    @examples("levels", "levels rewards list")
    @commands.guild_only()
    async def levels_group(self, ctx: Ctx) -> None:
        """Levels: members' XP, role rewards, export and import (see `rank` and `leaderboard`)."""
        await ctx.send_help(ctx.command)

    # --- a member's XP -------------------------------------------------------------------

    @levels_group.command(name="set")
    @examples("levels set @bob 5", "levels set @bob 0")
    @_moderators
    @app_commands.describe(member="The member to change", level=f"The new level (0-{MAX_LEVEL})")
    async def set_command(self, ctx: Ctx, member: discord.Member, level: int) -> None:
        """Put a member at the start of a level (its reward roles follow at once)."""
        if not 0 <= level <= MAX_LEVEL:
            raise UserFacingError(f"❌ The level must be between 0 and {MAX_LEVEL}, not {level}.")
        entry = await self.change_member(member, xp=xp_for_level(level))
        await self.reply(ctx, f"✅ <@{member.id}> is now level {entry.level} ({entry.xp:,} XP).")

    @levels_group.command(name="setxp")
    @examples("levels setxp @bob 1200")
    @_moderators
    @app_commands.describe(member="The member to change", xp=f"The new XP (0-{MAX_XP})")
    async def setxp_command(self, ctx: Ctx, member: discord.Member, xp: int) -> None:
        """Give a member exactly this much XP (the level and reward roles follow at once)."""
        if not 0 <= xp <= MAX_XP:
            raise UserFacingError(f"❌ The XP must be between 0 and {MAX_XP:,}, not {xp}.")
        entry = await self.change_member(member, xp=xp)
        await self.reply(ctx, f"✅ <@{member.id}> has {entry.xp:,} XP: level {entry.level}.")

    @levels_group.command(name="reset")
    @examples("levels reset @bob")
    @_moderators
    @app_commands.describe(member="The member whose XP goes back to zero")
    async def reset_command(self, ctx: Ctx, member: discord.Member) -> None:
        """Set a member's XP and level to zero (reward roles are taken back)."""
        await self.change_member(member, xp=0)
        await self.reply(ctx, f"✅ <@{member.id}>'s XP is reset to 0.")

    @levels_group.command(name="blacklist")
    @examples("levels blacklist @bob")
    @_moderators
    @app_commands.describe(member="The member who may (or may again) earn XP")
    async def blacklist_command(self, ctx: Ctx, member: discord.Member) -> None:
        """Stop a member from earning XP, or let them earn it again (a toggle)."""
        entry = await self.change_member(member, blacklist_toggle=True)
        if entry.blacklisted:
            await self.reply(ctx, f"🚫 <@{member.id}> no longer earns XP here.")
        else:
            await self.reply(ctx, f"✅ <@{member.id}> earns XP again.")

    # --- role rewards --------------------------------------------------------------------

    @levels_group.group(name="rewards", invoke_without_command=True)
    @examples("levels rewards", "levels rewards list")
    async def rewards_group(self, ctx: Ctx) -> None:
        """The roles members get at a level: add, remove, list."""
        await self.rewards_list(ctx)

    @rewards_group.command(name="add")
    @examples("levels rewards add 5 @Regular", "levels rewards add 20 @Veteran")
    @_admins
    @app_commands.describe(level=f"The level that gives the role (1-{MAX_LEVEL})", role="The role")
    async def rewards_add(self, ctx: Ctx, level: int, role: discord.Role) -> None:
        """Give a role to members who reach a level (a role rewards one level)."""
        guild = self.require_guild(ctx)
        if not 1 <= level <= MAX_LEVEL:
            raise UserFacingError(f"❌ The level must be between 1 and {MAX_LEVEL}, not {level}.")
        check_assignable_role(role, ctx.author, purpose="a level reward")
        state = await self.store.guild(guild.id)
        await self.db.levels.set_reward(guild.id, level, role.id)
        state.rewards[role.id] = level
        await self.reply(
            ctx,
            f"✅ Members reaching level {level} get {role.mention} (members already there get "
            "it at their next level-up).",
        )

    @rewards_group.command(name="remove")
    @examples("levels rewards remove @Regular")
    @_admins
    @app_commands.describe(role="The role that is no longer a reward")
    async def rewards_remove(self, ctx: Ctx, role: discord.Role) -> None:
        """Stop giving a role for a level (members who have it keep it)."""
        guild = self.require_guild(ctx)
        state = await self.store.guild(guild.id)
        if not await self.db.levels.remove_reward(guild.id, role.id):
            raise UserFacingError(f"❌ {role.mention} is not a level reward.")
        state.rewards.pop(role.id, None)
        await self.reply(ctx, f"✅ {role.mention} is no longer a level reward.")

    @rewards_group.command(name="list")
    @examples("levels rewards list")
    async def rewards_list(self, ctx: Ctx) -> None:
        """List the roles given at each level."""
        guild = self.require_guild(ctx)
        rewards = await self.db.levels.get_rewards(guild.id)
        mode = self.get_setting("reward_mode", "keep_all", guild.id)
        embed = discord.Embed(title="Level rewards", color=EMBED_COLOUR)
        lines = [f"Level {reward.level}: <@&{reward.role_id}>" for reward in rewards]
        embed.description = text.field("\n".join(lines)) if lines else "No level rewards yet."
        embed.set_footer(
            text="Members keep every reward they earned"
            if mode == "keep_all"
            else "Members keep only their highest reward"
        )
        await self.reply(ctx, embed=embed)

    # --- files ---------------------------------------------------------------------------

    @levels_group.command(name="export")
    @examples("levels export")
    @_admins
    async def export_command(self, ctx: Ctx) -> None:
        """Download this server's XP table as a CSV file (member_id, xp, level, blacklisted)."""
        guild = self.require_guild(ctx)
        await self.store.flush([guild.id])
        rows = await self.db.levels.guild_rows(guild.id)
        data = await asyncio.to_thread(
            export_csv, [(r.member_id, r.xp, r.level, r.blacklisted) for r in rows]
        )
        file = discord.File(io.BytesIO(data), filename=f"levels-{guild.id}.csv")
        await self.reply(ctx, f"📄 The XP of {len(rows):,} members.", file=file)

    @levels_group.command(name="import")
    @examples("levels import (with a CSV file attached)")
    @_admins
    @app_commands.describe(file="A CSV file of `member id, xp` lines (a header line is allowed)")
    async def import_command(self, ctx: Ctx, file: discord.Attachment) -> None:
        """Set members' XP from a CSV file (from another bot): every line is checked first,
        then all of it is stored, or nothing."""
        guild = self.require_guild(ctx)
        if file.size > MAX_IMPORT_BYTES:
            raise UserFacingError(
                f"❌ The file is {file.size:,} bytes; at most {MAX_IMPORT_BYTES:,} are read."
            )
        try:
            data = await file.read()
        except discord.HTTPException:
            raise UserFacingError("❌ I could not download the file; try again.") from None
        if len(data) > MAX_IMPORT_BYTES:
            raise UserFacingError(f"❌ The file is larger than {MAX_IMPORT_BYTES:,} bytes.")
        try:
            values = await asyncio.to_thread(parse_import, data)
        except ImportRefused as refusal:
            raise UserFacingError(
                f"❌ Nothing was imported: {refusal}. Each line is `member id, xp` "
                f"(at most {MAX_IMPORT_ROWS:,} lines), e.g. `123456789012345678,4200`."
            ) from None
        count = await self.store.replace_xp(guild.id, values)
        members = "member" if count == 1 else "members"
        await self.reply(ctx, f"✅ Imported the XP of {count:,} {members}.")
