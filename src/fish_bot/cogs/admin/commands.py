"""Core commands: ping, status, cog management, settings and sync.

Replies go through ``BaseCog.reply`` (clipped, no pings); refusals raise ``UserFacingError``,
which the error policy shows. Owner-only commands use
``commands.is_owner()``; the settings commands and ``cog pause``/``cog resume`` need permission
rank 8, and the server owner and Administrators may always run them (``admin_override``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.admin.utils import (
    CORE_EXTENSION,
    GlobalFlag,
    available_packages,
    extension_of,
    find_cog,
    find_extension,
    format_value,
    join_lines,
    package_name,
    paginate,
    split_global,
)
from fish_bot.core.authority import check_access_setting
from fish_bot.core.base_cog import PAUSED_KEY
from fish_bot.core.converters import ModuleName, parse_snowflake
from fish_bot.core.decorators import hybrid_command, hybrid_group
from fish_bot.core.durations import format_duration
from fish_bot.core.permissions import admin_override, requires_rank
from fish_bot.core.text import DESCRIPTION_LIMIT, clip, plain
from fish_bot.exceptions import FishBotError, UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
    ModuleNameArg = str
else:
    _MixinBase = object
    ModuleNameArg = ModuleName

#: Rank needed by the settings commands and by cog pause/resume.
SETTINGS_RANK = 8

_STATE_ICONS = {"Ready": "🟢", "Paused": "⏸️", "Error": "🔴", "Starting": "🟡"}


#: How much of a typed module or package name a reply quotes.
NAME_SHOWN = 100

#: Longer than any setting's name: such a key is refused without quoting it whole.
KEY_LIMIT = 100


def _no_module(name: str) -> UserFacingError:
    return UserFacingError(f"No loaded module is called `{plain(name, 50)}`.")


def _check_key(scope: str, key: str) -> None:
    """Refuse a key too long to be a setting's name (the refusal would quote all of it)."""
    if len(key) > KEY_LIMIT:
        raise UserFacingError(f"❌ {scope} has no setting `{plain(key, 60)}`.")


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


class CommandsMixin(_MixinBase):
    """ping, status, cog, settings, sync."""

    # --- ping and status ---------------------------------------------------------------------

    @hybrid_command(name="ping")
    async def ping(self, ctx: commands.Context[Any]) -> None:
        """Check that the bot answers."""
        await ctx.send("Pong!")

    @hybrid_command(name="status")
    @app_commands.describe(cog="A module to show in detail (leave empty for the whole bot)")
    async def status_command(self, ctx: commands.Context[Any], cog: str | None = None) -> None:
        """Show the bot's health, or the detailed status of one module.

        Without a name: uptime, gateway latency, servers, database health, every module's
        state and the modules that failed to load. With a name: that module's status.
        """
        if cog:
            target = find_cog(self.bot, cog)
            if target is None:
                raise _no_module(cog)
            async with self.task_tracker.task_context("Status"):
                embed = await target.create_status_embed()
            await self.reply(ctx, embed=embed)
            return
        async with self.task_tracker.task_context("Status"):
            embed = await self._bot_status_embed(ctx)
        await self.reply(ctx, embed=embed)

    async def _bot_status_embed(self, ctx: commands.Context[Any]) -> discord.Embed:
        bot = self.bot
        name = bot.user.name if bot.user else "Fish Bot"
        embed = discord.Embed(title=f"{name} status", color=discord.Color.blue())
        uptime = (discord.utils.utcnow() - bot.started_at).total_seconds()
        embed.add_field(name="Uptime", value=format_duration(max(0, int(uptime))), inline=True)
        latency = bot.latency
        embed.add_field(
            name="Gateway latency",
            value=f"{latency * 1000:.0f} ms" if math.isfinite(latency) else "unknown",
            inline=True,
        )
        embed.add_field(name="Servers", value=str(len(bot.guilds)), inline=True)
        try:
            health = await bot.db.health()
        except Exception as error:  # the status command must answer even then
            health = {"ok": False, "error": f"{type(error).__name__}"}
        if health.get("ok"):
            database = f"✅ {health.get('dialect', '?')}, {health.get('latency_ms', '?')} ms"
        else:
            database = f"❌ {clip(str(health.get('error', 'unreachable')), 200)}"
        embed.add_field(name="Database", value=database, inline=True)
        embed.add_field(name="Job scheduler", value=bot.scheduler.status_text(), inline=True)
        guild_id = ctx.guild.id if ctx.guild else None
        lines = []
        for cog in sorted(bot.fish_cogs(), key=lambda c: c.qualified_name.lower()):
            state = cog.state_text()
            line = f"{_STATE_ICONS.get(state, '•')} **{cog.qualified_name}**: {state}"
            if state != "Paused" and guild_id and cog.is_paused_in(guild_id):
                line += " (paused here)"
            failures = cog.task_tracker.total_failures
            if failures:
                line += f", {failures} failed operations"
            lines.append(line)
        embed.add_field(name=f"Modules ({len(lines)})", value=join_lines(lines), inline=False)
        if bot.cog_load_errors:
            owner = await bot.is_owner(ctx.author)
            failed = [
                f"❌ `{plain(package, NAME_SHOWN)}`" + (f": {clip(reason, 300)}" if owner else "")
                for package, reason in sorted(bot.cog_load_errors.items())
            ]
            embed.add_field(name="Failed to load", value=join_lines(failed), inline=False)
        return embed

    # --- cog management ------------------------------------------------------------------

    @hybrid_group(name="cog", invoke_without_command=True)
    async def cogs_group(self, ctx: commands.Context[Any]) -> None:
        """Manage modules: list, load, unload, reload, pause and resume."""
        await self.reply(
            ctx,
            "Use `cog list`, `cog load <name>`, `cog unload <name>`, `cog reload <name>`, "
            "`cog pause <name> [--global]` or `cog resume <name> [--global]`.",
        )

    @cogs_group.command(name="list")
    @commands.is_owner()
    async def cogs_list_command(self, ctx: commands.Context[Any]) -> None:
        """List loaded modules, modules that failed to load and those that can be loaded."""
        bot = self.bot
        loaded = []
        for cog in sorted(bot.fish_cogs(), key=lambda c: c.qualified_name.lower()):
            state = cog.state_text()
            package = extension_of(bot, cog) or type(cog).__module__
            loaded.append(f"{_STATE_ICONS.get(state, '•')} **{cog.qualified_name}** `{package}`")
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
            raise _no_module(name)
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

    # --- settings ------------------------------------------------------------------------

    @hybrid_group(name="settings", invoke_without_command=True)
    @admin_override()
    @requires_rank(SETTINGS_RANK)
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
            raise _no_module(name)
        return scope

    @settings_group.command(name="show")
    @admin_override()
    @requires_rank(SETTINGS_RANK)
    @app_commands.describe(cog="The module whose settings to show")
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

    # --- sync ----------------------------------------------------------------------------

    @hybrid_command(name="sync")
    @commands.is_owner()
    @app_commands.describe(guild="A server id, or 'here', to sync that server's commands only")
    async def sync_command(self, ctx: commands.Context[Any], guild: str | None = None) -> None:
        """Sync slash commands with Discord now (globally, or one server's commands)."""
        target: discord.Guild | None = None
        if guild:
            if guild.strip().lower() in {"here", "this", "guild"}:
                target = ctx.guild
            elif (guild_id := parse_snowflake(guild)) is not None:
                target = self.bot.get_guild(guild_id)
            if target is None:
                raise UserFacingError(f"I am not in a server `{plain(guild, 30)}`.")
        if ctx.interaction is not None:
            await ctx.defer(ephemeral=True)
        async with self.task_tracker.task_context("Sync"):
            count = await self.bot.sync_app_commands(force=True, guild=target)
        where = "globally" if target is None else f"to {target.name}"
        await self.reply(ctx, f"✅ Synced {count or 0} application commands {where}.")
