"""How the `perm` commands show permissions: rule labels, mentions, the group help, embeds.

The texts and embeds of `perm explain`, `perm show` and `perm rank list`
(:mod:`fish_bot.cogs.admin.perm_commands`), kept apart from the commands so the commands read
as what they do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from fish_bot.core.base_cog import command_meta
from fish_bot.core.roles import command_rank_lines, role_rank_lines
from fish_bot.core.text import field
from fish_bot.database.models.permissions import RuleTarget

if TYPE_CHECKING:
    from fish_bot.cogs.admin.perm_args import CommandArg
    from fish_bot.core.permission_store import GuildRules

#: Human names of the rules PermissionManager.evaluate reports.
RULE_LABELS: dict[str, str] = {
    "owner": "1 · bot owner",
    "dm": "2 · direct messages",
    "guild_owner": "3 · server owner override",
    "administrator": "3 · Administrator override",
    "paused": "module paused",
    "cog_restricted_channels": "4 · module setting `restricted_channels`",
    "cog_allowed_channels": "4 · module setting `allowed_channels`",
    "cog_required_roles": "4 · module setting `required_roles`",
    "command_denied_channel": "5 · command rule: denied channel",
    "command_denied_role": "5 · command rule: denied role",
    "command_allowed_channels": "5 · command rule: allowed channels",
    "command_allowed_roles": "5 · command rule: allowed roles",
    "command_allowed_role": "5 · command rule: allowed role",
    "rank": "6 · permission rank",
    "discord_permission": "6 · Discord permission (no ranks configured)",
    "default": "no rule restricts it",
}


def mentions(ids: set[int], kind: RuleTarget) -> str:
    """Role or channel mentions of these ids, sorted; a dash for none."""
    if not ids:
        return "—"
    template = "<@&{}>" if kind is RuleTarget.ROLE else "<#{}>"
    return ", ".join(template.format(i) for i in sorted(ids))


def rule_target(target: discord.Role | discord.abc.GuildChannel) -> tuple[RuleTarget, str]:
    """The kind of rule target and how a reply names it (``role @Mods``, ``channel #general``)."""
    if isinstance(target, discord.Role):
        return RuleTarget.ROLE, f"role {target.mention}"
    return RuleTarget.CHANNEL, f"channel {target.mention}"


def group_help(ctx: commands.Context[Any]) -> str:
    """The group's help: one line per subcommand with its usage."""
    group = ctx.command
    assert isinstance(group, commands.Group)
    prefix = "/" if ctx.interaction is not None else ctx.clean_prefix
    lines = [f"**{group.qualified_name}**: {group.short_doc}"]
    for sub in sorted(group.commands, key=lambda c: c.name):
        usage = f"{prefix}{sub.qualified_name} {sub.signature}".strip()
        lines.append(f"`{usage}` — {sub.short_doc}")
    return "\n".join(lines)


def command_rules_embed(command: CommandArg, rules: GuildRules) -> discord.Embed:
    """`perm show <command>`: the command's rules and the rank it needs."""
    name = command.qualified_name
    entry = rules.rules_for(name)
    embed = discord.Embed(title=f"Permissions of {name}", color=discord.Color.blurple())
    embed.add_field(
        name="Allowed roles", value=field(mentions(entry["allow_roles"], RuleTarget.ROLE))
    )
    embed.add_field(
        name="Denied roles", value=field(mentions(entry["deny_roles"], RuleTarget.ROLE))
    )
    embed.add_field(name="\u200b", value="\u200b")
    embed.add_field(
        name="Allowed channels",
        value=field(mentions(entry["allow_channels"], RuleTarget.CHANNEL)),
    )
    embed.add_field(
        name="Denied channels",
        value=field(mentions(entry["deny_channels"], RuleTarget.CHANNEL)),
    )
    embed.add_field(name="\u200b", value="\u200b")
    declared = int(command_meta(command, "rank", 0) or 0)
    override = rules.command_ranks.get(name)
    rank_text = (
        f"{declared} (declared)"
        if override is None
        else f"{override} (server override; declared {declared})"
    )
    embed.add_field(name="Rank needed", value=rank_text, inline=False)
    return embed


def guild_rules_embed(guild: discord.Guild, rules: GuildRules) -> discord.Embed:
    """`perm show`: every command's rules in the server, the role ranks and rank overrides."""
    embed = discord.Embed(title=f"Permissions in {guild.name}", color=discord.Color.blurple())
    lines = []
    for name in sorted(rules.commands):
        entry = rules.commands[name]
        parts = []
        if entry["allow_roles"]:
            parts.append("allow " + mentions(entry["allow_roles"], RuleTarget.ROLE))
        if entry["deny_roles"]:
            parts.append("deny " + mentions(entry["deny_roles"], RuleTarget.ROLE))
        if entry["allow_channels"]:
            parts.append("only in " + mentions(entry["allow_channels"], RuleTarget.CHANNEL))
        if entry["deny_channels"]:
            parts.append("not in " + mentions(entry["deny_channels"], RuleTarget.CHANNEL))
        lines.append(f"`{name}`: " + "; ".join(parts))
    embed.add_field(name="Command rules", value=field("\n".join(lines) or "None"), inline=False)
    add_rank_fields(embed, guild, rules)
    return embed


def add_rank_fields(embed: discord.Embed, guild: discord.Guild, rules: GuildRules) -> None:
    """The "Role ranks" (highest first) and "Command rank overrides" fields."""
    ranks = (
        role_rank_lines(guild, rules.role_ranks)
        or "None: every member has rank 0 (the server owner has 10)."
    )
    embed.add_field(name="Role ranks", value=field(ranks), inline=False)
    embed.add_field(
        name="Command rank overrides",
        value=field(command_rank_lines(rules.command_ranks) or "None"),
        inline=False,
    )
