"""The `config` command group: prefix, log channels, jail, reasons and permission ranks.

Every `config` command is guild-only and needs permission rank 7 by default; the server owner
and Administrators can always run them (:func:`~fish_bot.core.permissions.admin_override`).
Values are stored in the guild's ``guild_config`` row (through ``self.db.guild_config``).
``config ranks ...`` is an alias of ``perm rank ...``: each subcommand runs the `perm rank`
command it names and is judged as that command (its rank, its rules).

Channel and role arguments take a mention, an id or a name in prefix commands, and ``none`` (or
``off``) turns the setting off; leaving one out shows the current value. Slash commands show a
picker instead, and leaving the option empty turns the setting off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.admin.perm_args import (
    CommandConverter,
    command_autocomplete,
    rank_autocomplete,
)
from fish_bot.cogs.server_config.constants import (
    CONFIG_RANK,
    EMBED_COLOUR,
    LOG_KIND_LABELS,
    PREFIX_MAX_LENGTH,
)
from fish_bot.cogs.server_config.utils import (
    CLEAR,
    ChannelArg,
    Clear,
    LogKindArg,
    RoleArg,
    validate_prefix,
)
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permissions import MAX_RANK, admin_override, alias_of, requires_rank
from fish_bot.core.roles import check_assignable_role, command_rank_lines, role_rank_lines
from fish_bot.core.text import field
from fish_bot.database.models.core import GuildConfig, LogKind
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
    CommandArg = commands.Command[Any, ..., Any]
else:
    _MixinBase = object
    CommandArg = CommandConverter


def _channel_text(guild: discord.Guild, channel_id: int | None) -> str:
    if channel_id is None:
        return "not set"
    gone = "" if guild.get_channel(channel_id) is not None else " (deleted channel)"
    return f"<#{channel_id}>{gone}"


def _role_text(guild: discord.Guild, role_id: int | None) -> str:
    if role_id is None:
        return "not set"
    gone = "" if guild.get_role(role_id) is not None else " (deleted role)"
    return f"<@&{role_id}>{gone}"


class ConfigCommandsMixin(_MixinBase):
    """config show/prefix/log/reason-required, config jail role/channel, config ranks ..."""

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _config_prefix_of(ctx: commands.Context[Any]) -> str:
        """How the user should type a command (``/`` for slash, else the prefix they used)."""
        return "/" if ctx.interaction is not None else ctx.clean_prefix

    def _config_group_help(self, ctx: commands.Context[Any]) -> str:
        """The group's help: one line per subcommand with its usage."""
        group = ctx.command
        assert isinstance(group, commands.Group)
        prefix = self._config_prefix_of(ctx)
        lines = [f"**{group.qualified_name}**: {group.short_doc}"]
        for sub in sorted(group.commands, key=lambda c: c.name):
            usage = f"{prefix}{sub.qualified_name} {sub.signature}".strip()
            lines.append(f"`{usage}` — {sub.short_doc}")
        return "\n".join(lines)

    async def _config_when_omitted(
        self, ctx: commands.Context[Any], current: str, what: str, usage: str
    ) -> bool:
        """A prefix command without the value shows the current one; returns True if it did.

        In a slash command an empty option means "turn it off", so nothing is shown.
        """
        if ctx.interaction is not None:
            return False
        prefix = self._config_prefix_of(ctx)
        await self.reply(
            ctx,
            f"{what}: {current}. Change it with `{prefix}{usage}` (`none` turns it off).",
        )
        return True

    # --- the group -----------------------------------------------------------------------

    @hybrid_group(name="config", invoke_without_command=True)
    @commands.guild_only()
    @admin_override()
    @requires_rank(CONFIG_RANK)
    @examples("config")
    async def config_group(self, ctx: commands.Context[Any]) -> None:
        """Server configuration: prefix, log channels, jail, reasons and permission ranks.

        The `config` commands need permission rank 7 by default; the server owner and
        Administrators can always use them.
        """
        await self.reply(ctx, self._config_group_help(ctx))

    @config_group.command(name="show")
    @examples("config show")
    async def config_show(self, ctx: commands.Context[Any]) -> None:
        """Show this server's configuration: prefix, logs, jail, reasons and ranks."""
        guild = self.require_guild(ctx)
        config = await self.db.guild_config.get_config(guild.id)
        rules = await self.bot.permission_store.snapshot(guild.id)
        embed = discord.Embed(title=f"Configuration of {guild.name}", color=EMBED_COLOUR)

        default_prefix = self.bot.settings.prefix
        prefix = config.prefix if config is not None and config.prefix else None
        embed.add_field(
            name="Prefix",
            value=f"`{prefix}`" if prefix else f"`{default_prefix}` (default)",
            inline=True,
        )
        reason_required = bool(config.reason_required) if config is not None else False
        embed.add_field(
            name="Moderation reasons",
            value="required" if reason_required else "optional",
            inline=True,
        )

        log_lines = []
        for kind in LogKind:
            channel_id = getattr(config, GuildConfig.log_column(kind)) if config else None
            log_lines.append(f"{LOG_KIND_LABELS[kind.value]}: {_channel_text(guild, channel_id)}")
        embed.add_field(name="Log channels", value="\n".join(log_lines), inline=False)

        jail_role = config.jail_role_id if config is not None else None
        jail_channel = config.jail_channel_id if config is not None else None
        embed.add_field(
            name="Jail",
            value=f"Role: {_role_text(guild, jail_role)}\n"
            f"Channel: {_channel_text(guild, jail_channel)}",
            inline=False,
        )
        embed.add_field(
            name="Role ranks",
            value=field(
                role_rank_lines(guild, rules.role_ranks, limit=15)
                or "None: every member has rank 0 (the server owner has 10). "
                "`config ranks init` suggests ranks from role permissions."
            ),
            inline=False,
        )
        embed.add_field(
            name="Command rank overrides",
            value=field(command_rank_lines(rules.command_ranks) or "None"),
            inline=False,
        )
        await self.reply(ctx, embed=embed)

    # --- prefix --------------------------------------------------------------------------

    @config_group.command(name="prefix")
    @app_commands.describe(new=f"The new prefix: 1 to {PREFIX_MAX_LENGTH} characters, no spaces")
    @examples("config prefix ?", "config prefix")
    async def config_prefix(self, ctx: commands.Context[Any], *, new: str | None = None) -> None:
        """Change the command prefix of this server (without a value: show it).

        A prefix is 1 to 16 characters without spaces. It works from the next message on;
        mentioning the bot always works as a prefix too.
        """
        guild = self.require_guild(ctx)
        if new is None:
            current = await self.bot.prefix_for(guild.id)
            how = self._config_prefix_of(ctx)
            await self.reply(
                ctx,
                f"The prefix here is `{current}`. Change it with `{how}config prefix <new>`.",
            )
            return
        prefix = validate_prefix(new)
        async with self.task_tracker.task_context("Set prefix"):
            # The write invalidates the prefix cache (bot.prefixes): the next message uses it.
            await self.db.guild_config.update_config(guild.id, prefix=prefix)
        await self.reply(
            ctx,
            f"✅ The prefix is now `{prefix}`: try `{prefix}ping`. Mentioning me works too.",
        )

    # --- logs ----------------------------------------------------------------------------

    @config_group.command(name="log")
    @app_commands.describe(
        kind="Which log: mod, message, member or server",
        channel="The channel to log to (leave empty to turn this log off)",
    )
    @examples("config log mod #mod-log", "config log message")
    async def config_log(
        self, ctx: commands.Context[Any], kind: LogKindArg, channel: ChannelArg = None
    ) -> None:
        """Set the channel of a log (mod, message, member or server), or `none` to turn it off."""
        guild = self.require_guild(ctx)
        label = LOG_KIND_LABELS[kind.value]
        if channel is None:
            current = await self.db.guild_config.get_log_channel(guild.id, kind)
            if await self._config_when_omitted(
                ctx,
                _channel_text(guild, current),
                f"The {label.lower()}",
                f"config log {kind.value} #channel",
            ):
                return
        target = None if channel is None or channel is CLEAR else channel
        assert not isinstance(target, Clear)
        await self.db.guild_config.set_log_channel(
            guild.id, kind, target.id if target is not None else None
        )
        if target is None:
            await self.reply(ctx, f"✅ The {label.lower()} is off.")
            return
        text = f"✅ The {label.lower()} goes to {target.mention}."
        missing = self._config_missing_permissions(guild, target)
        if missing:
            text += f"\n⚠️ I can't {missing} there yet: check the channel's permissions."
        await self.reply(ctx, text)

    @staticmethod
    def _config_missing_permissions(guild: discord.Guild, channel: discord.TextChannel) -> str:
        """What the bot can't do in a log channel ("send messages", "embed links"), if any."""
        me = guild.me
        if me is None:
            return ""
        permissions = channel.permissions_for(me)
        missing = []
        if not permissions.view_channel or not permissions.send_messages:
            missing.append("send messages")
        if not permissions.embed_links:
            missing.append("embed links")
        return " or ".join(missing)

    # --- reasons -------------------------------------------------------------------------

    @config_group.command(name="reason-required")
    @app_commands.describe(enabled="on: moderation actions need a reason; off: it is optional")
    @examples("config reason-required on")
    async def config_reason_required(self, ctx: commands.Context[Any], enabled: bool) -> None:
        """Require a reason for moderation actions (`on`) or make it optional (`off`)."""
        guild = self.require_guild(ctx)
        await self.db.guild_config.update_config(guild.id, reason_required=enabled)
        if enabled:
            text = "✅ Moderation actions now need a reason."
        else:
            text = "✅ A reason for moderation actions is now optional."
        await self.reply(ctx, text)

    # --- jail ----------------------------------------------------------------------------

    @config_group.group(name="jail", invoke_without_command=True)
    @examples("config jail")
    async def config_jail(self, ctx: commands.Context[Any]) -> None:
        """The jail: the role that jails a member and the channel jailed members can see."""
        await self.reply(ctx, self._config_group_help(ctx))

    @config_jail.command(name="role")
    @app_commands.describe(role="The jail role (leave empty to turn the jail role off)")
    @examples("config jail role @Jailed", "config jail role")
    async def config_jail_role(self, ctx: commands.Context[Any], role: RoleArg = None) -> None:
        """Set the role given to jailed members, or `none` to unset it.

        The role must be below my highest role and yours, and must not carry administration or
        moderation permissions (Administrator, Manage Server, Manage Roles, Ban, Kick...).
        """
        guild = self.require_guild(ctx)
        if role is None:
            current = await self.db.guild_config.get_jail_role_id(guild.id)
            if await self._config_when_omitted(
                ctx, _role_text(guild, current), "The jail role", "config jail role @role"
            ):
                return
        target = None if role is None or role is CLEAR else role
        assert not isinstance(target, Clear)
        if target is not None:
            # A role the bot hands out must not be a way to climb (core/roles.py).
            check_assignable_role(target, ctx.author, purpose="the jail role")
        await self.db.guild_config.update_jail_role_id(
            guild.id, target.id if target is not None else None
        )
        if target is None:
            await self.reply(ctx, "✅ The jail role is unset.")
            return
        await self.reply(ctx, f"✅ Jailed members get {target.mention}.")

    @config_jail.command(name="channel")
    @app_commands.describe(channel="The jail channel (leave empty to turn it off)")
    @examples("config jail channel #jail")
    async def config_jail_channel(
        self, ctx: commands.Context[Any], channel: ChannelArg = None
    ) -> None:
        """Set the channel jailed members can still use, or `none` to unset it."""
        guild = self.require_guild(ctx)
        if channel is None:
            current = await self.db.guild_config.get_jail_channel_id(guild.id)
            if await self._config_when_omitted(
                ctx,
                _channel_text(guild, current),
                "The jail channel",
                "config jail channel #channel",
            ):
                return
        target = None if channel is None or channel is CLEAR else channel
        assert not isinstance(target, Clear)
        await self.db.guild_config.update_jail_channel_id(
            guild.id, target.id if target is not None else None
        )
        if target is None:
            await self.reply(ctx, "✅ The jail channel is unset.")
        else:
            await self.reply(ctx, f"✅ The jail channel is {target.mention}.")

    # --- ranks: an alias of `perm rank` ------------------------------------------------------

    async def _config_alias(self, ctx: commands.Context[Any], name: str, *args: Any) -> None:
        """Run the `perm rank` command this `config ranks` command is another name for."""
        target: commands.Command[Any, ..., Any] | None = self.bot.get_command(name)
        if target is None:  # the Core module holds it and cannot be unloaded
            raise UserFacingError(f"`{name}` is not available on this bot.")
        await ctx.invoke(target, *args)

    @config_group.group(name="ranks", invoke_without_command=True)
    @alias_of("perm rank")
    @examples("config ranks")
    async def config_ranks(self, ctx: commands.Context[Any]) -> None:
        """Permission ranks: roles get a rank from 0 to 10 (alias of `perm rank`)."""
        await self.reply(ctx, self._config_group_help(ctx))

    @config_ranks.command(name="init")
    @alias_of("perm rank init")
    @examples("config ranks init")
    async def config_ranks_init(self, ctx: commands.Context[Any]) -> None:
        """Give ranks to roles from their permissions (alias of `perm rank init`)."""
        await self._config_alias(ctx, "perm rank init")

    @config_ranks.command(name="set")
    @alias_of("perm rank set")
    @app_commands.describe(role="The role", rank="Its permission rank, 0 to 10")
    @examples("config ranks set @Moderators 4")
    async def config_ranks_set(
        self,
        ctx: commands.Context[Any],
        role: discord.Role,
        rank: commands.Range[int, 0, MAX_RANK],
    ) -> None:
        """Give a role a permission rank from 0 to 10 (alias of `perm rank set`)."""
        await self._config_alias(ctx, "perm rank set", role, rank)

    @config_ranks.command(name="remove")
    @alias_of("perm rank remove")
    @app_commands.describe(role="The role")
    @examples("config ranks remove @Moderators")
    async def config_ranks_remove(self, ctx: commands.Context[Any], role: discord.Role) -> None:
        """Take a role's permission rank away (alias of `perm rank remove`)."""
        await self._config_alias(ctx, "perm rank remove", role)

    @config_ranks.command(name="command")
    @alias_of("perm rank command")
    @app_commands.describe(
        command="A command name, e.g. ban or cases view", rank="0 to 10, or default"
    )
    @examples("config ranks command warn 1")
    async def config_ranks_command(
        self, ctx: commands.Context[Any], command: CommandArg, rank: str
    ) -> None:
        """Set the rank a command needs here, or `default` (alias of `perm rank command`)."""
        await self._config_alias(ctx, "perm rank command", command, rank)

    @config_ranks.command(name="show")
    @alias_of("perm rank list")
    @examples("config ranks show")
    async def config_ranks_show(self, ctx: commands.Context[Any]) -> None:
        """Show the roles' ranks and changed command ranks (alias of `perm rank list`)."""
        await self._config_alias(ctx, "perm rank list")

    # --- slash autocompletion ------------------------------------------------------------

    config_ranks_command.autocomplete("command")(command_autocomplete)
    config_ranks_command.autocomplete("rank")(rank_autocomplete)
