"""The `help` command (prefix and slash), its autocompletion and the module menu's handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.help.constants import (
    AUTOCOMPLETE_LIMIT,
    MODULE_ACTION,
    NAME_SHOWN,
    OVERVIEW_VALUE,
)
from fish_bot.cogs.help.utils import (
    AnyCommand,
    Module,
    Viewer,
    all_names,
    arguments,
    closest_runnable,
    closest_title,
    examples,
    find_module,
    interaction_context,
    modules,
    who_may_use,
)
from fish_bot.cogs.help.views import command_embed, module_embed, module_menu, overview_embed
from fish_bot.core.decorators import examples as example_lines
from fish_bot.core.decorators import hybrid_command
from fish_bot.core.permissions import dm_allowed
from fish_bot.core.text import clip, plain
from fish_bot.core.views import ChannelId, component
from fish_bot.exceptions import UserFacingError

if TYPE_CHECKING:
    from fish_bot.bot import FishBot
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object


@dataclass
class Page:
    """One help answer: its embed and, for the overview and module pages, the module menu."""

    embed: discord.Embed
    view: discord.ui.View | None = None


class CommandsMixin(_MixinBase):
    """`help [query]` and the module select menu."""

    if TYPE_CHECKING:
        bot: FishBot

    # --- who is asking -------------------------------------------------------------------

    async def viewer(self, ctx: commands.Context[Any]) -> Viewer:
        guild_id = ctx.guild.id if ctx.guild is not None else None
        return Viewer(self.bot, ctx, await self.bot.prefix_for(guild_id))

    async def visible_modules(self, viewer: Viewer) -> list[tuple[Module, list[AnyCommand]]]:
        """Each module with the commands (subcommands included) the viewer may run here."""
        found: list[tuple[Module, list[AnyCommand]]] = []
        hidden = 0
        for module in modules(self.bot):
            everything = module.all_commands()
            listed = _drop_empty_groups(await viewer.runnable(everything))
            hidden += len(everything) - len(listed)
            if listed:
                found.append((module, listed))
        self.logger.debug("help for %s: %d commands not shown", viewer.user, hidden)
        return found

    # --- pages ---------------------------------------------------------------------------

    async def overview_page(self, viewer: Viewer) -> Page:
        visible = await self.visible_modules(viewer)
        sections = []
        for module, listed in visible:
            shown = {id(command) for command in listed}
            lines = []
            for command in module.top_level():
                subs = [c for c in listed if c.parent is not None and c.root_parent is command]
                if id(command) in shown or subs:
                    lines.append((command, len(subs)))
            sections.append((module, lines))
        embed = overview_embed(sections, viewer.prefix)
        return Page(embed, self.menu(viewer, [module for module, _ in visible], None))

    async def module_page(self, viewer: Viewer, module: Module) -> Page:
        visible = await self.visible_modules(viewer)
        listed = next((commands for found, commands in visible if found.key == module.key), [])
        if not listed:
            raise UserFacingError(
                f"The {module.title} module has no commands you can use here. "
                f"`{viewer.prefix}help` lists what you can use."
            )
        embed = module_embed(module, listed, viewer.prefix)
        return Page(embed, self.menu(viewer, [found for found, _ in visible], module.key))

    async def command_page(self, viewer: Viewer, command: AnyCommand) -> Page:
        decision = await viewer.decision(command)
        if decision.allowed and not await viewer.may_run(command):
            verdict = "⛔ You can't use it here."
        elif decision.allowed:
            verdict = "✅ You can use it here."
        else:
            verdict = f"⛔ You can't use it here: {decision.reason}"
        subcommands: list[AnyCommand] = []
        if isinstance(command, commands.Group):
            ordered = sorted(command.commands, key=lambda c: c.qualified_name)
            subcommands = await viewer.runnable(ordered)
        embed = command_embed(
            command,
            viewer.prefix,
            args=arguments(command),
            who=await who_may_use(viewer, command),
            verdict=verdict,
            examples=examples(command, viewer.prefix),
            subcommands=subcommands,
        )
        return Page(embed)

    def menu(self, viewer: Viewer, listed: list[Module], current: str | None) -> Any:
        return module_menu(
            self,
            channel_id=viewer.ctx.channel.id,
            author_id=viewer.user.id,
            listed=listed,
            current=current,
        )

    async def page_for(self, viewer: Viewer, query: str | None) -> Page:
        """The page ``help <query>`` shows: a command, else a module, else the overview; an
        unknown name is refused with the closest names the viewer can use."""
        wanted = " ".join((query or "").split())
        if wanted.startswith(viewer.prefix):
            wanted = wanted[len(viewer.prefix) :].strip()
        wanted = wanted.lstrip("/").strip()
        if not wanted:
            return await self.overview_page(viewer)
        command = self.bot.get_command(wanted.lower())
        if command is not None and not command.hidden:
            return await self.command_page(viewer, command)
        module = find_module(self.bot, wanted)
        if module is not None:
            return await self.module_page(viewer, module)
        raise UserFacingError(await self.unknown_name(viewer, wanted))

    async def unknown_name(self, viewer: Viewer, wanted: str) -> str:
        text = f"There is no command or module called `{plain(wanted, NAME_SHOWN)}`."
        names = await closest_runnable(viewer, wanted, all_names(self.bot))
        module_names = [module.title for module, _ in await self.visible_modules(viewer)]
        shown = [f"`{viewer.prefix}{name}`" for name in names]
        shown += [f"`{name}`" for name in closest_title(wanted, module_names)]
        if shown:
            text += f" Did you mean {' or '.join(shown[:4])}?"
        return f"{text} `{viewer.prefix}help` lists what you can use here."

    async def show_help(self, ctx: commands.Context[Any], query: str | None) -> None:
        """Answer ``ctx`` with the help page for ``query`` (also what ``ctx.send_help`` does)."""
        page = await self.page_for(await self.viewer(ctx), query)
        await self.reply(ctx, embed=page.embed, view=page.view)

    # --- the command ---------------------------------------------------------------------

    @hybrid_command(name="help")
    @dm_allowed()
    @app_commands.describe(query="A command (ban, cases search) or a module (Moderation)")
    @example_lines("help", "help ban", "help cases search", "help moderation")
    async def help_command(self, ctx: commands.Context[Any], *, query: str | None = None) -> None:
        """Show the commands you can use here, or one command's or module's help.

        Without a name: every module with the commands you may use in this channel, and a menu
        to switch modules. With a command (`help cases search`): its usage with this server's
        prefix, each argument, its aliases, who may use it and examples. With a module
        (`help moderation`): its commands. A name that does not exist gets the closest ones.
        """
        await self.show_help(ctx, query)

    @help_command.autocomplete("query")
    async def help_query_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Offer the commands and modules the member can use that match what was typed."""
        viewer = await self.viewer(await interaction_context(self.bot, interaction))
        typed = " ".join(current.lower().split())
        names: list[str] = []
        for module, listed in await self.visible_modules(viewer):
            names.append(module.title)
            names.extend(command.qualified_name for command in listed)
        matching = [name for name in dict.fromkeys(names) if typed in name.lower()]
        matching.sort(key=lambda name: (not name.lower().startswith(typed), name.lower()))
        return [
            app_commands.Choice(name=clip(name, 100), value=clip(name, 100))
            for name in matching[:AUTOCOMPLETE_LIMIT]
        ]

    # --- the module menu -----------------------------------------------------------------

    @component(MODULE_ACTION)
    @dm_allowed()
    async def on_module_selected(
        self, interaction: discord.Interaction, channel_id: ChannelId, author_id: int
    ) -> None:
        """Show the chosen module: in place for the member who asked for help, in a message only
        they see for anyone else."""
        data: Any = interaction.data or {}
        values = data.get("values") or []
        choice = str(values[0]) if values else OVERVIEW_VALUE
        viewer = await self.viewer(await interaction_context(self.bot, interaction))
        if choice == OVERVIEW_VALUE:
            page = await self.overview_page(viewer)
        else:
            module = next((m for m in modules(self.bot) if m.key == choice), None)
            if module is None:
                raise UserFacingError("That module is not loaded any more.")
            page = await self.module_page(viewer, module)
        view: Any = page.view if page.view is not None else discord.utils.MISSING
        if interaction.user.id == author_id:
            await interaction.response.edit_message(embed=page.embed, view=view)
        else:
            await interaction.response.send_message(
                embed=page.embed,
                view=view,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )


def _drop_empty_groups(listed: list[AnyCommand]) -> list[AnyCommand]:
    """Leave out a group none of whose subcommands is listed, unless the group does something
    by itself: a hybrid group with a ``fallback`` (`afk lunch`, `snippet rules`, `cases`) is a
    command of its own; any other group only shows its help."""
    shown = {id(command) for command in listed}

    def keep(command: AnyCommand) -> bool:
        if not isinstance(command, commands.Group) or not command.commands:
            return True
        if getattr(command, "fallback", None):
            return True
        return any(id(sub) in shown and keep(sub) for sub in command.commands)

    return [command for command in listed if keep(command)]
