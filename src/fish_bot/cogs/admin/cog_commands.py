"""Core commands: cog management (list, load, unload, reload, pause, resume)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.admin.utils import (
    CORE_EXTENSION,
    NAME_SHOWN,
    SETTINGS_RANK,
    STATE_ICONS,
    GlobalFlag,
    available_packages,
    extension_of,
    find_cog,
    find_extension,
    join_lines,
    no_module,
    package_name,
)
from fish_bot.core.base_cog import PAUSED_KEY
from fish_bot.core.converters import ModuleName
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permissions import admin_override, requires_rank
from fish_bot.core.text import clip, plain
from fish_bot.exceptions import FishBotError, UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
    ModuleNameArg = str
else:
    _MixinBase = object
    ModuleNameArg = ModuleName


def _failure_reason(error: BaseException) -> str:
    """Why loading or reloading a cog failed, in one line."""
    if isinstance(error, commands.ExtensionNotFound):
        return f"no cog package named {error.name!r}"
    if isinstance(error, commands.NoEntryPointError):
        return f"{error.name!r} has no setup() function"
    original = error.original if isinstance(error, commands.ExtensionFailed) else error
    if isinstance(original, FishBotError):
        return str(original)
    return f"{type(original).__name__}: {original}"


class CogCommandsMixin(_MixinBase):
    """cog list, load, unload, reload, pause, resume."""

    # --- cog management ------------------------------------------------------------------

    @hybrid_group(name="cog", invoke_without_command=True)
    @examples("cog", "cog list")
    async def cogs_group(self, ctx: commands.Context[Any]) -> None:
        """Manage modules: list, load, unload, reload, pause and resume."""
        await self.reply(
            ctx,
            "Use `cog list`, `cog load <name>`, `cog unload <name>`, `cog reload <name>`, "
            "`cog pause <name> [--global]` or `cog resume <name> [--global]`.",
        )

    @cogs_group.command(name="list")
    @commands.is_owner()
    @examples("cog list")
    async def cogs_list_command(self, ctx: commands.Context[Any]) -> None:
        """List loaded modules, modules that failed to load and those that can be loaded."""
        bot = self.bot
        loaded = []
        for cog in sorted(bot.fish_cogs(), key=lambda c: c.qualified_name.lower()):
            state = cog.state_text()
            package = extension_of(bot, cog) or type(cog).__module__
            loaded.append(f"{STATE_ICONS.get(state, '•')} **{cog.qualified_name}** `{package}`")
        embed = discord.Embed(title="Modules", color=discord.Color.blue())
        embed.add_field(name="Loaded", value=join_lines(loaded), inline=False)
        if bot.cog_load_errors:
            failed = [
                f"❌ `{plain(package, NAME_SHOWN)}`: {clip(reason, 300)}"
                for package, reason in sorted(bot.cog_load_errors.items())
            ]
            embed.add_field(name="Failed to load", value=join_lines(failed), inline=False)
        others = [
            f"`{package}`"
            for package in available_packages()
            if package not in bot.extensions and package not in bot.cog_load_errors
        ]
        if others:
            embed.add_field(name="Available", value=join_lines(others), inline=False)
        await self.reply(ctx, embed=embed)

    @cogs_group.command(name="load")
    @commands.is_owner()
    @app_commands.describe(name="Package path (fish_bot.cogs.example) or short name (example)")
    @examples("cog load example", "cog load fish_bot.cogs.example")
    async def cogs_load_command(self, ctx: commands.Context[Any], name: ModuleNameArg) -> None:
        """Load a module by package path or short name."""
        package = package_name(name)
        shown = plain(package, NAME_SHOWN)
        if package in self.bot.extensions:
            raise UserFacingError(f"`{shown}` is already loaded.")
        async with self.task_tracker.task_context("Cog load"):
            reason = await self.bot.load_cog(package)
        if reason == "already loaded":
            raise UserFacingError(f"`{shown}` is already loaded.")
        if reason is not None and reason.startswith("no cog package"):
            self.bot.cog_load_errors.pop(package, None)  # nothing failed: it does not exist
            raise UserFacingError(f"❓ Not found: there is no cog package `{shown}`.")
        if reason is not None:
            raise UserFacingError(f"❌ `{shown}` failed to load: {clip(reason, 1500)}")
        await self.reply(ctx, f"✅ Loaded `{shown}`.{self._cogs_of(package)}")

    @cogs_group.command(name="unload")
    @commands.is_owner()
    @app_commands.describe(name="Module name, package path or short name")
    @examples("cog unload example")
    async def cogs_unload_command(self, ctx: commands.Context[Any], name: str) -> None:
        """Unload a module (its data is saved first). The core module cannot be unloaded."""
        package = find_extension(self.bot, name)
        if package is None:
            raise UserFacingError(f"`{plain(name, 60)}` is not loaded.")
        if package == CORE_EXTENSION:
            raise UserFacingError(
                "⛔ The core module cannot be unloaded: it holds the `cog` commands."
            )
        failure: str | None = None
        async with self.task_tracker.task_context("Cog unload"):
            try:
                await self.bot.unload_extension(package)
            except Exception as error:
                self.logger.error("Unloading %s failed", package, exc_info=error)
                failure = _failure_reason(error)
        if failure is not None:
            raise UserFacingError(f"❌ `{package}` could not be unloaded: {clip(failure, 1500)}")
        await self.reply(ctx, f"✅ Unloaded `{package}`.")

    @cogs_group.command(name="reload")
    @commands.is_owner()
    @app_commands.describe(name="Module name, package path or short name")
    @examples("cog reload moderation")
    async def cogs_reload_command(self, ctx: commands.Context[Any], name: ModuleNameArg) -> None:
        """Reload a module from its files; a module that is not loaded is loaded."""
        loaded = find_extension(self.bot, name)
        if loaded is None:
            package = package_name(name)
            shown = plain(package, NAME_SHOWN)
            async with self.task_tracker.task_context("Cog reload"):
                reason = await self.bot.load_cog(package)
            if reason is not None and reason.startswith("no cog package"):
                self.bot.cog_load_errors.pop(package, None)
                raise UserFacingError(f"❓ Not found: there is no cog package `{shown}`.")
            if reason is not None:
                raise UserFacingError(f"❌ `{shown}` failed to load: {clip(reason, 1500)}")
            await self.reply(ctx, f"✅ Loaded `{shown}` (it was not loaded).")
            return
        package = loaded
        failure: str | None = None
        async with self.task_tracker.task_context("Cog reload"):
            try:
                await self.bot.reload_extension(package)
            except Exception as error:
                self.logger.error("Reloading %s failed", package, exc_info=error)
                failure = _failure_reason(error)
        if failure is not None:
            raise UserFacingError(
                f"❌ `{package}` failed to reload, the old version keeps running: "
                f"{clip(failure, 1500)}"
            )
        self.bot.cog_load_errors.pop(package, None)
        await self.reply(ctx, f"✅ Reloaded `{package}`.{self._cogs_of(package)}")

    def _cogs_of(self, package: str) -> str:
        names = [
            cog.qualified_name
            for cog in self.bot.fish_cogs()
            if extension_of(self.bot, cog) == package
        ]
        return f" Module: {', '.join(names)}." if names else ""

    @cogs_group.command(name="pause", usage="<name> [--global]")
    @admin_override()
    @requires_rank(SETTINGS_RANK)
    @app_commands.describe(name="The module to pause", global_="Pause it everywhere (bot owners)")
    @examples("cog pause example", "cog pause example --global")
    async def cogs_pause_command(
        self,
        ctx: commands.Context[Any],
        name: str,
        global_: Annotated[bool, GlobalFlag] = False,
    ) -> None:
        """Pause a module in this server (its commands stop); --global pauses it everywhere."""
        await self._set_paused(ctx, name, global_, paused=True)

    @cogs_group.command(name="resume", usage="<name> [--global]")
    @admin_override()
    @requires_rank(SETTINGS_RANK)
    @app_commands.describe(name="The module to resume", global_="Resume it everywhere (bot owners)")
    @examples("cog resume example", "cog resume example --global")
    async def cogs_resume_command(
        self,
        ctx: commands.Context[Any],
        name: str,
        global_: Annotated[bool, GlobalFlag] = False,
    ) -> None:
        """Resume a paused module in this server; --global resumes it everywhere."""
        await self._set_paused(ctx, name, global_, paused=False)

    async def _set_paused(
        self, ctx: commands.Context[Any], name: str, global_: bool, *, paused: bool
    ) -> None:
        cog = find_cog(self.bot, name)
        if cog is None:
            raise no_module(name)
        if cog.works_while_paused:
            raise UserFacingError(f"⛔ {cog.qualified_name} cannot be paused.")
        await self._check_scope(ctx, global_)
        guild_id = None if global_ else ctx.guild.id if ctx.guild else None
        where = "everywhere" if guild_id is None else "in this server"
        is_paused = (
            cog.is_paused
            if guild_id is None
            else cog.bot.config_manager.stored(cog.qualified_name, PAUSED_KEY, guild_id)[1]
        )
        if bool(is_paused) == paused:
            state = "already paused" if paused else "not paused"
            await self.reply(ctx, f"{cog.qualified_name} is {state} {where}.")
            return
        async with self.task_tracker.task_context("Pause" if paused else "Resume"):
            if paused:
                await cog.pause(guild_id)
            else:
                await cog.resume(guild_id)
        if paused:
            await self.reply(ctx, f"⏸️ {cog.qualified_name} is paused {where}.")
        else:
            text = f"▶️ {cog.qualified_name} is resumed {where}."
            if guild_id is not None and cog.is_paused:
                text += " It is still paused everywhere by a bot owner."
            await self.reply(ctx, text)

    async def _check_scope(self, ctx: commands.Context[Any], global_: bool) -> None:
        """Global changes are for bot owners; in DMs only global changes make sense."""
        if global_ and not await self.bot.is_owner(ctx.author):
            raise UserFacingError("⛔ Only bot owners can change things globally.")
        if not global_ and ctx.guild is None:
            raise UserFacingError("In direct messages, add `--global`.")
