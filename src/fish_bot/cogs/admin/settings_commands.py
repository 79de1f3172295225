"""Core commands: the settings group (show, set, reset)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.admin.utils import (
    SETTINGS_RANK,
    GlobalFlag,
    find_cog,
    format_value,
    no_module,
    paginate,
    split_global,
)
from fish_bot.core.authority import check_access_setting
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permissions import admin_override, requires_rank
from fish_bot.core.text import DESCRIPTION_LIMIT, clip, plain
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object

#: Longer than any setting's name: such a key is refused without quoting it whole.
KEY_LIMIT = 100


def _check_key(scope: str, key: str) -> None:
    """Refuse a key too long to be a setting's name (the refusal would quote all of it)."""
    if len(key) > KEY_LIMIT:
        raise UserFacingError(f"❌ {scope} has no setting `{plain(key, 60)}`.")


class SettingsCommandsMixin(_MixinBase):
    """settings show, set, reset."""

    if TYPE_CHECKING:  # provided by CogCommandsMixin

        async def _check_scope(self, ctx: commands.Context[Any], global_: bool) -> None: ...

    # --- settings ------------------------------------------------------------------------

    @hybrid_group(name="settings", invoke_without_command=True)
    @admin_override()
    @requires_rank(SETTINGS_RANK)
    @examples("settings")
    async def settings_group(self, ctx: commands.Context[Any]) -> None:
        """Show and change module settings."""
        await self.reply(
            ctx,
            "Use `settings show <module>`, `settings set <module> <key> <value> [--global]` or "
            "`settings reset <module> <key> [--global]`.",
        )

    def _settings_cog(self, name: str) -> str | None:
        """The settings scope ``name`` means (a cog's slug or display name, any case), shown
        by the cog's display name (the settings manager accepts either)."""
        manager = self.bot.config_manager
        registered = manager.resolve(name)
        if registered is not None:
            return manager.display_name(registered)
        cog = find_cog(self.bot, name)
        return cog.qualified_name if cog is not None else None

    def _settings_scope(self, name: str) -> str:
        """The settings scope for ``name``; a UserFacingError when there is none."""
        scope = self._settings_cog(name)
        if scope is None:
            raise no_module(name)
        return scope

    @settings_group.command(name="show")
    @admin_override()
    @requires_rank(SETTINGS_RANK)
    @app_commands.describe(cog="The module whose settings to show")
    @examples("settings show moderation")
    async def settings_show(self, ctx: commands.Context[Any], cog: str) -> None:
        """Show every setting of a module: its value here, where it comes from, and its rules."""
        scope = self._settings_scope(cog)
        manager = self.bot.config_manager
        guild_id = ctx.guild.id if ctx.guild else None
        blocks = []
        for spec in manager.specs(scope).values():
            value = manager.get(scope, spec.name, guild_id)
            if guild_id and manager.stored(scope, spec.name, guild_id)[0]:
                source = "this server"
            elif manager.stored(scope, spec.name)[0]:
                source = "global"
            else:
                source = "default"
            rules = spec.rules.describe() if len(spec.rules) else "any value"
            blocks.append(
                f"**{spec.name}** = {format_value(spec, value)} *({source})*\n"
                f"{clip(spec.description, 300)}\nRules: {clip(rules, 300)}"
            )
        if not blocks:
            await self.reply(ctx, f"{scope} has no settings.")
            return
        pages = paginate(blocks, min(DESCRIPTION_LIMIT - 100, 3900))
        for number, page in enumerate(pages, start=1):
            embed = discord.Embed(
                title=f"{scope} settings", description=page, color=discord.Color.blue()
            )
            if len(pages) > 1:
                embed.set_footer(text=f"Page {number}/{len(pages)}")
            await self.reply(ctx, embed=embed)

    @settings_group.command(name="set", usage="<cog> <key> <value> [--global]")
    @admin_override()
    @requires_rank(SETTINGS_RANK)
    @app_commands.describe(
        cog="The module",
        key="The setting's name",
        value="The new value (durations like 5m, #channels, lists as a, b, c)",
        global_="Set the global value instead of this server's (bot owners)",
    )
    @examples(
        "settings set moderation dm_members off",
        "settings set help suggest_unknown_commands off",
    )
    async def settings_set(
        self,
        ctx: commands.Context[Any],
        cog: str,
        key: str,
        *,
        value: str,
        global_: Annotated[bool, GlobalFlag] = False,
    ) -> None:
        """Change a setting in this server (--global: everywhere). Bad values are refused."""
        if ctx.interaction is None:
            value, flagged = split_global(value)
            global_ = global_ or flagged
        scope = self._settings_scope(cog)
        await self._check_scope(ctx, global_)
        guild = None if global_ else ctx.guild
        manager = self.bot.config_manager
        _check_key(scope, key)
        try:
            new = manager.validate(scope, key, value, guild=guild, from_text=True)
        except UserFacingError as error:  # a bad value or an unknown setting
            raise UserFacingError(f"❌ {error.message} Nothing was changed.") from None
        # Access settings may not lock out a rank above the changer (core/authority.py).
        await check_access_setting(self.bot, ctx.author, guild, scope, key, new)
        task = manager.set(
            scope, key, value, guild.id if guild else None, guild=guild, from_text=True
        )
        async with self.task_tracker.task_context("Settings set"):
            await task
        spec = manager.spec(scope, key)
        stored = manager.stored(scope, key, guild.id if guild else None)[1]
        where = "everywhere (global)" if guild is None else "in this server"
        await self.reply(ctx, f"✅ {scope} `{key}` is now {format_value(spec, stored)} {where}.")

    @settings_group.command(name="reset", usage="<cog> <key> [--global]")
    @admin_override()
    @requires_rank(SETTINGS_RANK)
    @app_commands.describe(
        cog="The module",
        key="The setting's name",
        global_="Reset the global value instead of this server's (bot owners)",
    )
    @examples("settings reset moderation dm_members")
    async def settings_reset(
        self,
        ctx: commands.Context[Any],
        cog: str,
        key: str,
        global_: Annotated[bool, GlobalFlag] = False,
    ) -> None:
        """Remove this server's value of a setting (--global: the global value)."""
        scope = self._settings_scope(cog)
        await self._check_scope(ctx, global_)
        manager = self.bot.config_manager
        guild_id = None if global_ else ctx.guild.id if ctx.guild else None
        _check_key(scope, key)
        try:
            spec = manager.spec(scope, key)
        except UserFacingError as error:  # an unknown setting
            raise UserFacingError(f"❌ {error.message}") from None
        where = "global value" if guild_id is None else "value in this server"
        if not manager.stored(scope, key, guild_id)[0]:
            await self.reply(ctx, f"{scope} `{key}` has no {where} to reset.")
            return
        await check_access_setting(
            self.bot, ctx.author, ctx.guild, scope, key, manager.get(scope, key)
        )
        async with self.task_tracker.task_context("Settings reset"):
            await manager.reset(scope, key, guild_id)
        now = format_value(spec, manager.get(scope, key, ctx.guild.id if ctx.guild else None))
        await self.reply(ctx, f"✅ Reset the {where} of {scope} `{key}`; it is now {now} here.")
