"""The `automod` command group: rules (add, remove, enable, disable, show, test) and the
warning-escalation thresholds (`automod escalation add|remove|show`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.automod.actions import threshold_text
from fish_bot.cogs.automod.constants import (
    COLOUR_AUTOMOD,
    DEFAULT_RANKS,
    ESCALATION_ACTIONS,
    KINDS,
    MAX_RULES,
    MAX_THRESHOLDS,
)
from fish_bot.cogs.automod.listeners import message_facts
from fish_bot.cogs.automod.rules import MessageFacts, SlidingWindows
from fish_bot.cogs.automod.utils import (
    AutomodError,
    check_action,
    check_name,
    describe_action,
    describe_params,
    parse_rule,
    parse_timeout,
)
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.durations import DurationError, parse_duration
from fish_bot.core.permissions import admin_override, requires_rank
from fish_bot.core.text import clip, field
from fish_bot.exceptions import DuplicateError, IntegrityViolation

if TYPE_CHECKING:
    from fish_bot.cogs.automod.rules import CompiledGuild
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.guild_cache import GuildCache
    from fish_bot.database.controllers.automod import AutomodController

    _MixinBase = BaseCog
else:
    _MixinBase = object

Ctx = commands.Context[Any]

OPTIONS_HELP = (
    "key=value words: the kind's parameters, duration= (timeout), silent=yes, "
    "exempt_roles=, exempt_channels=, exempt_rank="
)


class AutomodCommandsMixin(_MixinBase):
    """automod add/remove/enable/disable/show/test, automod escalation add/remove/show."""

    if TYPE_CHECKING:  # provided by the Automod class
        compiled: GuildCache[CompiledGuild]

        @property
        def automod_db(self) -> AutomodController: ...

        async def rules_changed(self, guild_id: int) -> None: ...

    @hybrid_group(name="automod", invoke_without_command=True)
    @commands.guild_only()
    @admin_override()
    @requires_rank(DEFAULT_RANKS["automod"])
    @examples("automod")
    async def automod_group(self, ctx: Ctx) -> None:
        """Automatic moderation: rules that act on messages, and warning escalation.

        Usage: `automod add|remove|enable|disable|show|test|escalation ...`
        """
        if ctx.invoked_subcommand is None:
            await ctx.send_help(ctx.command)

    @automod_group.command(name="add")
    @app_commands.describe(
        kind="What the rule detects: " + ", ".join(KINDS),
        name="A short name for the rule (letters, digits, - and _)",
        action="What it does: delete, warn, timeout, kick or ban",
        options=OPTIONS_HELP,
    )
    @examples(
        "automod add spam flood timeout count=5 seconds=5 duration=10m",
        "automod add invites no-invites delete",
    )
    async def add_command(
        self, ctx: Ctx, kind: str, name: str, action: str, *, options: str | None = None
    ) -> None:
        """Add a rule (the offending message is always deleted; the action is a case).

        Usage: `automod add <kind> <name> <action> [key=value ...]`
        Example: `automod add spam flood timeout count=5 seconds=5 duration=10m`
        """
        guild = self.require_guild(ctx)
        rule_name = check_name(name)
        spec = parse_rule(guild, kind, action, options)
        compiled = await self.compiled.get(guild.id)
        if len(compiled.rules) >= MAX_RULES:
            raise AutomodError(f"❌ A server has at most {MAX_RULES} automod rules.")
        try:
            async with self.db.transaction():
                await self.automod_db.add_rule(
                    guild.id,
                    name=rule_name,
                    kind=spec.kind,
                    params=spec.params,
                    action=spec.action,
                    duration_seconds=spec.duration_seconds,
                    exemptions=spec.exemptions,
                    silent=spec.silent,
                )
                described = {"kind": spec.kind, "action": spec.action, "params": spec.params}
                await self.db.audit.log_action(
                    guild.id, "automod", f"rule {rule_name}", None, described
                )
                await self.rules_changed(guild.id)
        except (DuplicateError, IntegrityViolation):
            raise AutomodError(f"❌ There is already a rule called `{rule_name}`.") from None
        await self.reply(
            ctx,
            f"🛡️ Rule `{rule_name}` added: {spec.kind} → "
            f"{describe_action(spec.action, spec.duration_seconds)}"
            f" ({describe_params(spec.params) or 'defaults'}).",
        )

    @automod_group.command(name="remove")
    @app_commands.describe(name="The rule's name (see `automod show`)")
    @examples("automod remove flood")
    async def remove_command(self, ctx: Ctx, name: str) -> None:
        """Delete a rule.

        Usage: `automod remove <name>`
        """
        guild = self.require_guild(ctx)
        rule_name = name.strip().lower()
        async with self.db.transaction():
            removed = await self.automod_db.remove_rule(guild.id, rule_name)
            if removed:
                target = f"rule {rule_name}"
                await self.db.audit.log_action(guild.id, "automod", target, "present", None)
            await self.rules_changed(guild.id)
        if not removed:
            raise AutomodError(f"❌ There is no rule called `{rule_name}`.")
        await self.reply(ctx, f"🗑️ Rule `{rule_name}` removed.")

    async def _switch(self, ctx: Ctx, name: str, enabled: bool) -> None:
        guild = self.require_guild(ctx)
        rule_name = name.strip().lower()
        async with self.db.transaction():
            changed = await self.automod_db.set_rule_enabled(guild.id, rule_name, enabled)
            if changed:
                new = "on" if enabled else "off"
                await self.db.audit.log_action(guild.id, "automod", f"rule {rule_name}", None, new)
            await self.rules_changed(guild.id)
        if not changed:
            raise AutomodError(f"❌ There is no rule called `{rule_name}`.")
        await self.reply(ctx, f"🛡️ Rule `{rule_name}` is {'on' if enabled else 'off'}.")

    @automod_group.command(name="enable")
    @app_commands.describe(name="The rule's name (see `automod show`)")
    @examples("automod enable flood")
    async def enable_command(self, ctx: Ctx, name: str) -> None:
        """Switch a rule on.

        Usage: `automod enable <name>`
        """
        await self._switch(ctx, name, True)

    @automod_group.command(name="disable")
    @app_commands.describe(name="The rule's name (see `automod show`)")
    @examples("automod disable flood")
    async def disable_command(self, ctx: Ctx, name: str) -> None:
        """Switch a rule off (kept, not applied).

        Usage: `automod disable <name>`
        """
        await self._switch(ctx, name, False)

    @automod_group.command(name="show")
    @examples("automod show")
    async def show_command(self, ctx: Ctx) -> None:
        """List the server's rules and escalation thresholds.

        Usage: `automod show`
        """
        guild = self.require_guild(ctx)
        compiled = await self.compiled.get(guild.id)
        embed = discord.Embed(title="🛡️ Automod", colour=COLOUR_AUTOMOD)
        lines = []
        for rule in compiled.rules:
            exempt = []
            if rule.exempt_roles:
                exempt.append(" ".join(f"<@&{r}>" for r in sorted(rule.exempt_roles)))
            if rule.exempt_channels:
                exempt.append(" ".join(f"<#{c}>" for c in sorted(rule.exempt_channels)))
            if rule.exempt_rank is not None:
                exempt.append(f"rank ≥ {rule.exempt_rank}")
            state = "" if rule.enabled else " (off)"
            lines.append(
                f"**{rule.name}**{state}: {rule.kind} → {rule.describe()}"
                f"{' (silent)' if rule.silent else ''}"
                f"\n  {describe_params(rule.params) or 'defaults'}"
                + (f"; exempt: {', '.join(exempt)}" if exempt else "")
            )
        embed.add_field(name="Rules", value=field("\n".join(lines) or "No rules."), inline=False)
        thresholds = [
            threshold_text(t.warn_count, t.window_seconds, t.action, t.duration_seconds)
            for t in compiled.thresholds
        ]
        embed.add_field(
            name="Warning escalation",
            value=field("\n".join(thresholds) or "No thresholds."),
            inline=False,
        )
        await self.reply(ctx, embed=embed)

    @automod_group.command(name="test")
    @app_commands.describe(text="The message text to try against the rules")
    @examples("automod test join my server discord.gg/abc")
    async def test_command(self, ctx: Ctx, *, text: str) -> None:
        """Show which rule would fire on a text, without acting (exemptions not applied).

        Usage: `automod test <text>`
        """
        guild = self.require_guild(ctx)
        compiled = await self.compiled.get(guild.id)
        member = ctx.author
        if (
            isinstance(member, discord.Member)
            and ctx.message is not None
            and ctx.interaction is None
        ):
            base = message_facts(ctx.message, member)
            mentions = base.mentions
        else:
            mentions = 0
        facts = MessageFacts(
            guild_id=guild.id,
            author_id=0,
            channel_ids=frozenset(),
            role_ids=frozenset(),
            content=text,
            mentions=mentions,
            now=discord.utils.utcnow().timestamp(),
        )
        # A scratch window: the test leaves the real spam counters alone.
        hits = [
            hit
            for hit in compiled.hits(facts, SlidingWindows())
            if not KINDS[hit.rule.kind].stateful
        ]
        if not hits:
            await self.reply(ctx, "✅ No rule would fire on that text.")
            return
        lines = [
            f"• `{hit.rule.name}` ({hit.rule.kind}) → {hit.rule.describe()}: {hit.detail}"
            for hit in hits
        ]
        await self.reply(
            ctx,
            clip(
                f"🛡️ {len(hits)} rule(s) would fire; `{hits[0].rule.name}` would act:\n"
                + "\n".join(lines)
            ),
        )

    # --- escalation ---------------------------------------------------------------------

    @automod_group.group(name="escalation", invoke_without_command=True)
    @examples("automod escalation")
    async def escalation_group(self, ctx: Ctx) -> None:
        """Warning escalation: N warns within a window -> timeout, kick or ban.

        Usage: `automod escalation add|remove|show ...`
        """
        if ctx.invoked_subcommand is None:
            await ctx.send_help(ctx.command)

    @escalation_group.command(name="add")
    @app_commands.describe(
        count="How many warns (1-100)",
        window="Within how long: 1h, 7d, 30d...",
        action="timeout, kick or ban",
        duration="How long a timeout lasts (timeout only): 10m, 1h, 1d",
    )
    @examples("automod escalation add 3 7d timeout 1h", "automod escalation add 5 30d kick")
    async def escalation_add_command(
        self,
        ctx: Ctx,
        count: commands.Range[int, 1, 100],
        window: str,
        action: str,
        duration: str | None = None,
    ) -> None:
        """Add a threshold, e.g. `automod escalation add 3 7d timeout 1h`.

        Usage: `automod escalation add <count> <window> <action> [duration]`
        Applied when any warn is added (by a moderator or by automod).
        """
        guild = self.require_guild(ctx)
        if not 1 <= count <= 100:
            raise AutomodError("❌ The warn count is 1 to 100.")
        try:
            window_seconds = parse_duration(window)
        except DurationError as error:
            raise AutomodError(f"❌ {error}") from None
        chosen = check_action(action, ESCALATION_ACTIONS)
        seconds = parse_timeout(chosen, duration)
        compiled = await self.compiled.get(guild.id)
        if len(compiled.thresholds) >= MAX_THRESHOLDS:
            raise AutomodError(f"❌ A server has at most {MAX_THRESHOLDS} thresholds.")
        try:
            async with self.db.transaction():
                await self.automod_db.add_threshold(
                    guild.id,
                    warn_count=count,
                    window_seconds=window_seconds,
                    action=chosen,
                    duration_seconds=seconds,
                )
                text = threshold_text(count, window_seconds, chosen, seconds)
                target = f"escalation at {count} warns"
                await self.db.audit.log_action(guild.id, "automod", target, None, text)
                await self.rules_changed(guild.id)
        except (DuplicateError, IntegrityViolation):
            raise AutomodError(
                f"❌ There is already a threshold at {count} warns; remove it first."
            ) from None
        text = threshold_text(count, window_seconds, chosen, seconds)
        await self.reply(ctx, f"📈 Escalation added: {text}.")

    @escalation_group.command(name="remove")
    @app_commands.describe(count="The warn count of the threshold to remove")
    @examples("automod escalation remove 3")
    async def escalation_remove_command(self, ctx: Ctx, count: commands.Range[int, 1, 100]) -> None:
        """Remove the threshold at a warn count.

        Usage: `automod escalation remove <count>`
        """
        guild = self.require_guild(ctx)
        async with self.db.transaction():
            removed = await self.automod_db.remove_threshold(guild.id, count)
            if removed:
                target = f"escalation at {count} warns"
                await self.db.audit.log_action(guild.id, "automod", target, "present", None)
            await self.rules_changed(guild.id)
        if not removed:
            raise AutomodError(f"❌ There is no threshold at {count} warns.")
        await self.reply(ctx, f"📉 The threshold at {count} warns is removed.")

    @escalation_group.command(name="show")
    @examples("automod escalation show")
    async def escalation_show_command(self, ctx: Ctx) -> None:
        """List the escalation thresholds.

        Usage: `automod escalation show`
        """
        guild = self.require_guild(ctx)
        compiled = await self.compiled.get(guild.id)
        lines = [
            threshold_text(t.warn_count, t.window_seconds, t.action, t.duration_seconds)
            for t in compiled.thresholds
        ]
        await self.reply(ctx, "📈 " + ("\n".join(lines) if lines else "No escalation thresholds."))
