"""The `perm` command group: per-command rules, permission ranks and `perm explain`.

Every `perm` command is guild-only, needs permission rank 8 by default, and can always be run by
the server owner and Administrators (:func:`~fish_bot.core.permissions.admin_override`), so no
rule can lock a server out of its own permission settings. Members who use them through their
rank change nothing above themselves (:mod:`fish_bot.core.authority`). `config ranks ...` is an
alias of `perm rank ...` (same commands, same rank and rules).

``<command>`` is a command's qualified name (``ping``, ``"perm rank set"``: quote a name with
spaces in prefix commands); ``<role or channel>`` is a role or text channel, by mention, id or
name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.admin.perm_args import (
    COMMAND_HELP,
    TARGET_HELP,
    CommandArg,
    TargetArg,
    command_autocomplete,
    rank_autocomplete,
    target_autocomplete,
)
from fish_bot.cogs.admin.perm_display import (
    RULE_LABELS,
    add_rank_fields,
    command_rules_embed,
    group_help,
    guild_rules_embed,
    mentions,
    rule_target,
)
from fish_bot.cogs.admin.utils import rank_source_line
from fish_bot.core.authority import (
    check_role_ranks_authority,
    clear_rules_as,
    remove_role_rank_as,
    remove_rule_as,
    set_command_rank_as,
    set_role_rank_as,
    set_rule_as,
)
from fish_bot.core.base_cog import BaseCog, command_meta
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permission_subjects import cog_of, subject_for
from fish_bot.core.permissions import MAX_RANK, RankRequirement, admin_override, requires_rank
from fish_bot.core.roles import suggested_rank
from fish_bot.database.models.permissions import RuleTarget

#: The rank the `perm` commands need by default; on a server without ranks, Manage Server.
PERM_COMMANDS_RANK = RankRequirement(8, "manage_guild")

if TYPE_CHECKING:
    # Type-checkers see the cog the mixin is composed into; at run time it is a plain class.
    _MixinBase = BaseCog
else:
    _MixinBase = object


class PermissionCommandsMixin(_MixinBase):
    """perm explain/allow/deny/remove/clear/show, perm rank set/remove/list/command."""

    # --- the group -----------------------------------------------------------------------

    @hybrid_group(name="perm", invoke_without_command=True)
    @commands.guild_only()
    @admin_override()
    @requires_rank(PERM_COMMANDS_RANK)
    @examples("perm")
    async def perm(self, ctx: commands.Context[Any]) -> None:
        """Decide who may use which command: rules per role and channel, and permission ranks.

        They need permission rank 8 by default; the server owner and Administrators can always
        use them.
        """
        await self.reply(ctx, group_help(ctx))

    @perm.command(name="explain")
    @app_commands.describe(
        command=COMMAND_HELP,
        member="Whose permission to check (default: you)",
        channel="Where (default: this channel)",
    )
    @examples("perm explain ban", "perm explain ban @bob #general")
    async def perm_explain(
        self,
        ctx: commands.Context[Any],
        command: CommandArg,
        member: discord.Member | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Show whether a member may use a command in a channel, and which rule decides.

        The member defaults to you and the channel to this one.
        """
        guild = self.require_guild(ctx)
        who = member if member is not None else ctx.author
        where = channel if channel is not None else ctx.channel
        subject = subject_for(self.bot, command, user=who, guild=guild, channel=where)
        target_command, cog = subject.command, cog_of(subject.command)
        permissions = self.bot.permissions
        decision, verdicts = await permissions.explain(subject, cog=cog)
        name = command.qualified_name
        verdict = "✅ **Allowed**" if decision.allowed else "⛔ **Denied**"
        where_text = getattr(where, "mention", "this channel")
        lines = [
            f"{verdict}: {who.mention} using `{name}` in {where_text}",
            f"**Rule:** {RULE_LABELS.get(decision.rule, decision.rule)} (`{decision.rule}`)",
            f"**Why:** {decision.reason}",
        ]
        if subject.via is not None:
            lines.append(f"`{name}` is another name for `{target_command.qualified_name}`.")
        lines.extend(decision.details)
        # Every layer's verdict, in the order the model asks them (the first one decides).
        lines.append("**Layers** (in order; the first verdict decides):")
        decided = False
        for layer, layer_decision in verdicts:
            if layer_decision is None:
                lines.append(f"· {layer.label}: no opinion")
                continue
            icon = "✅" if layer_decision.allowed else "⛔"
            mark = "" if decided else " ← decides"
            decided = True
            lines.append(f"{icon} {layer.label}: {layer_decision.reason}{mark}")
        # The rank layer, for context even when an earlier rule decided.
        declared = int(command_meta(target_command, "rank", 0) or 0)
        override = await self.bot.permission_store.command_rank(
            guild.id, target_command.qualified_name
        )
        needed = declared if override is None else override
        have = await permissions.member_rank(who) if isinstance(who, discord.Member) else 0
        source = "declared" if override is None else f"server override; declared {declared}"
        lines.append(f"**Rank:** needs {needed} ({source}); {who.mention} has {have}.")
        lines.append(await rank_source_line(self.bot, guild, who, target_command, needed))
        effective = await permissions.effective_rules(guild.id, subject)
        if effective.any():
            rules = effective.rules
            inherited = sorted({src for src in effective.source.values() if src != name})
            origin = f" (from `{'`, `'.join(inherited)}`)" if inherited else ""
            lines.append(
                f"**Command rules**{origin}: "
                f"allow roles {mentions(rules['allow_roles'], RuleTarget.ROLE)}; "
                f"deny roles {mentions(rules['deny_roles'], RuleTarget.ROLE)}; "
                f"allow channels {mentions(rules['allow_channels'], RuleTarget.CHANNEL)}; "
                f"deny channels {mentions(rules['deny_channels'], RuleTarget.CHANNEL)}"
            )
        if decision.allowed:
            lines.append(
                "Discord permission checks of the command itself still apply when it runs."
            )
        await self.reply(ctx, "\n".join(lines))

    @perm.command(name="allow")
    @app_commands.describe(command=COMMAND_HELP, target=TARGET_HELP)
    @examples("perm allow ping @Members", "perm allow warn #mod-chat")
    async def perm_allow(
        self, ctx: commands.Context[Any], command: CommandArg, target: TargetArg
    ) -> None:
        """Allow a role or channel to use a command.

        Once a command has allowed roles (or channels), only those may use it; an allowed role
        also skips the rank check. A rule on a group applies to its subcommands. Unless you are
        the server owner or an Administrator, you can only allow commands you can use yourself,
        and only for roles below your highest role.
        """
        guild = self.require_guild(ctx)
        kind, label = rule_target(target)
        await set_rule_as(self.bot, ctx.author, guild, command, target, allow=True)
        scope = (
            "members with one of its allowed roles"
            if kind is RuleTarget.ROLE
            else "its allowed channels"
        )
        await self.reply(
            ctx,
            f"✅ `{command.qualified_name}` is now allowed for {label}. "
            f"From now on only {scope} can use it.",
        )

    @perm.command(name="deny")
    @app_commands.describe(command=COMMAND_HELP, target=TARGET_HELP)
    @examples("perm deny ping #general", 'perm deny "cases view" @Muted')
    async def perm_deny(
        self, ctx: commands.Context[Any], command: CommandArg, target: TargetArg
    ) -> None:
        """Deny a role or channel the use of a command (denials win over allowed roles).

        A rule on a group applies to its subcommands. You can't deny anything to a role ranked
        above you or not below your highest role.
        """
        guild = self.require_guild(ctx)
        _kind, label = rule_target(target)
        await set_rule_as(self.bot, ctx.author, guild, command, target, allow=False)
        await self.reply(ctx, f"⛔ `{command.qualified_name}` is now denied for {label}.")

    @perm.command(name="remove")
    @app_commands.describe(command=COMMAND_HELP, target=TARGET_HELP)
    @examples("perm remove ping #general")
    async def perm_remove(
        self, ctx: commands.Context[Any], command: CommandArg, target: TargetArg
    ) -> None:
        """Remove the allow or deny rule a command has for a role or channel."""
        guild = self.require_guild(ctx)
        _kind, label = rule_target(target)
        removed = await remove_rule_as(self.bot, ctx.author, guild, command, target)
        if removed:
            text = f"🗑️ Removed the rule of `{command.qualified_name}` for {label}."
        else:
            text = f"`{command.qualified_name}` had no rule for {label}."
        await self.reply(ctx, text)

    @perm.command(name="clear")
    @app_commands.describe(command=COMMAND_HELP)
    @examples("perm clear ping")
    async def perm_clear(self, ctx: commands.Context[Any], command: CommandArg) -> None:
        """Remove every allow and deny rule of a command (its rank is kept)."""
        guild = self.require_guild(ctx)
        removed = await clear_rules_as(self.bot, ctx.author, guild, command)
        if removed:
            text = f"🗑️ Removed {removed} rule(s) of `{command.qualified_name}`."
        else:
            text = f"`{command.qualified_name}` had no rules."
        await self.reply(ctx, text)

    @perm.command(name="show")
    @app_commands.describe(command="Only this command (default: everything)")
    @examples("perm show", "perm show ban")
    async def perm_show(
        self, ctx: commands.Context[Any], command: CommandArg | None = None
    ) -> None:
        """Show the stored rules and ranks: for one command, or for the whole server."""
        guild = self.require_guild(ctx)
        rules = await self.bot.permission_store.snapshot(guild.id)
        if command is not None:
            embed = command_rules_embed(command, rules)
        else:
            embed = guild_rules_embed(guild, rules)
        await self.reply(ctx, embed=embed)

    # --- ranks ---------------------------------------------------------------------------

    @perm.group(name="rank", invoke_without_command=True)
    @examples("perm rank")
    async def perm_rank(self, ctx: commands.Context[Any]) -> None:
        """Permission ranks: roles get a rank from 0 to 10, commands need a rank."""
        await self.reply(ctx, group_help(ctx))

    @perm_rank.command(name="set")
    @app_commands.describe(role="The role", rank="Its permission rank, 0 to 10")
    @examples("perm rank set @Moderators 4")
    async def perm_rank_set(
        self,
        ctx: commands.Context[Any],
        role: discord.Role,
        rank: commands.Range[int, 0, MAX_RANK],
    ) -> None:
        """Give a role a permission rank from 0 to 10 (a member's rank is its highest role's)."""
        guild = self.require_guild(ctx)
        await self.reply(ctx, await set_role_rank_as(self.bot, ctx.author, guild, role, rank))

    @perm_rank.command(name="remove")
    @app_commands.describe(role="The role")
    @examples("perm rank remove @Moderators")
    async def perm_rank_remove(self, ctx: commands.Context[Any], role: discord.Role) -> None:
        """Take a role's permission rank away (it counts as 0)."""
        guild = self.require_guild(ctx)
        await self.reply(ctx, await remove_role_rank_as(self.bot, ctx.author, guild, role))

    @perm_rank.command(name="list")
    @examples("perm rank list")
    async def perm_rank_list(self, ctx: commands.Context[Any]) -> None:
        """List the roles' ranks, highest first, and the commands whose rank was changed."""
        guild = self.require_guild(ctx)
        rules = await self.bot.permission_store.snapshot(guild.id)
        embed = discord.Embed(
            title=f"Permission ranks in {guild.name}", color=discord.Color.blurple()
        )
        add_rank_fields(embed, guild, rules)
        await self.reply(ctx, embed=embed)

    @perm_rank.command(name="init")
    @examples("perm rank init")
    async def perm_rank_init(self, ctx: commands.Context[Any]) -> None:
        """Give ranks to roles from their permissions (only roles that have no rank yet).

        Administrator 8, Manage Server 7, Ban Members 5, Kick or Timeout Members 3,
        Manage Messages 2. Running it again changes nothing that is already set.
        """
        guild = self.require_guild(ctx)
        store = self.bot.permission_store
        existing = await store.role_ranks(guild.id)
        planned: list[tuple[discord.Role, int]] = []
        for role in sorted(guild.roles, reverse=True):
            if role.id in existing:
                continue
            rank = suggested_rank(role)
            if rank is not None:
                planned.append((role, rank))
        if not planned:
            await self.reply(
                ctx,
                "Nothing to do: every role with moderation permissions already has a rank "
                f"({len(existing)} role(s) have one). See `perm rank list`.",
            )
            return
        await check_role_ranks_authority(self.bot, ctx.author, guild, planned)
        # One transaction: every rank is stored, or none.
        async with self.task_tracker.task_context("Initialise ranks"), self.db.transaction():
            for role, rank in planned:
                await store.set_role_rank(guild.id, role.id, rank)
        lines = [f"{rank} · {role.mention}" for role, rank in planned]
        kept = f"\nKept the {len(existing)} rank(s) already set." if existing else ""
        await self.reply(
            ctx,
            f"✅ Gave {len(planned)} role(s) a rank:\n" + "\n".join(lines[:30]) + kept,
        )

    @perm_rank.command(name="command")
    @app_commands.describe(command=COMMAND_HELP, rank="0 to 10, or default")
    @examples("perm rank command warn 1", "perm rank command ban default")
    async def perm_rank_command(
        self, ctx: commands.Context[Any], command: CommandArg, rank: str
    ) -> None:
        """Set the rank a command needs in this server (0 to 10), or `default` to reset it."""
        guild = self.require_guild(ctx)
        await self.reply(ctx, await set_command_rank_as(self.bot, ctx.author, guild, command, rank))

    # --- slash autocompletion ------------------------------------------------------------

    perm_explain.autocomplete("command")(command_autocomplete)
    perm_allow.autocomplete("command")(command_autocomplete)
    perm_allow.autocomplete("target")(target_autocomplete)
    perm_deny.autocomplete("command")(command_autocomplete)
    perm_deny.autocomplete("target")(target_autocomplete)
    perm_remove.autocomplete("command")(command_autocomplete)
    perm_remove.autocomplete("target")(target_autocomplete)
    perm_clear.autocomplete("command")(command_autocomplete)
    perm_show.autocomplete("command")(command_autocomplete)
    perm_rank_command.autocomplete("command")(command_autocomplete)
    perm_rank_command.autocomplete("rank")(rank_autocomplete)
