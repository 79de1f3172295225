"""The `snippet` group itself (`snippet <name>` posts it) and the commands that read or move
snippets: info, list, from, import, export; the list's page buttons; slash autocomplete."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.snippets.constants import (
    AUTOCOMPLETE_CHOICES,
    IMPORT_MAX_BYTES,
    IMPORT_PROBLEMS_SHOWN,
    MODERATOR_RANK,
    PAGE_ACTION,
    SORT_NAME,
    SORT_USES,
    SORTS,
)
from fish_bot.cogs.snippets.utils import (
    Entry,
    GuildSnippets,
    export_document,
    file_kind,
    plan_import,
    read_document,
)
from fish_bot.cogs.snippets.views import info_embed, list_embed, pager_view
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.core.permissions import requires_rank
from fish_bot.core.text import clip, plain
from fish_bot.core.views import component
from fish_bot.database.controllers.snippets import NAME_PATTERN, SnippetError

if TYPE_CHECKING:
    from fish_bot.core.base_cog import BaseCog

    _MixinBase = BaseCog
else:
    _MixinBase = object

Ctx = commands.Context[Any]

NAME_HELP = "The snippet's name"


class BrowseCommandsMixin(_MixinBase):
    """`snippet <name>`, info, list, from, import, export."""

    if TYPE_CHECKING:  # provided by the Snippets class and the CommandsMixin

        async def snippets(self, guild_id: int) -> GuildSnippets: ...
        async def find(self, guild_id: int, name: str) -> Entry: ...
        async def post(self, ctx: Ctx, entry: Entry) -> None: ...
        def uses_of(self, entry: Entry) -> int: ...
        def pending_uses(self, guild_id: int) -> dict[int, int]: ...
        def reserved_names(self) -> set[str]: ...

    @hybrid_group(name="snippet", aliases=["s"], invoke_without_command=True, fallback="show")
    @commands.guild_only()
    @app_commands.describe(name=NAME_HELP)
    @examples("snippet rules", "snippet faq-install")
    async def snippet_group(self, ctx: Ctx, name: str | None = None) -> None:
        """Post a saved snippet: `snippet rules` (or `s rules`); without a name, this help."""
        if name is None and ctx.interaction is not None:
            raise SnippetError(
                "❌ Give the name of a snippet: `/snippet show rules` (`/snippet list` lists them)."
            )
        if name is None:
            await ctx.send_help(ctx.command)
            return
        guild = self.require_guild(ctx)
        await self.post(ctx, await self.find(guild.id, name))

    @snippet_group.command(name="info")
    @commands.guild_only()
    @app_commands.describe(name=NAME_HELP)
    @examples("snippet info rules")
    async def info_command(self, ctx: Ctx, name: str) -> None:
        """Show a snippet's author, uses, creation and edit dates, lock and aliases."""
        guild = self.require_guild(ctx)
        entry = await self.find(guild.id, name)
        snippets = await self.snippets(guild.id)
        target = snippets.target(entry) or entry
        await self.reply(ctx, embed=info_embed(snippets, entry, self.uses_of(target)))

    @snippet_group.command(name="list")
    @commands.guild_only()
    @app_commands.describe(
        search="Only names that contain this text", sort="Most used first, or by name"
    )
    @examples("snippet list", "snippet list faq", "snippet list faq name")
    async def list_command(
        self, ctx: Ctx, search: str = "", sort: Literal["uses", "name"] = "uses"
    ) -> None:
        """List this server's snippets, 10 a page (most used first, or by name)."""
        guild = self.require_guild(ctx)
        text = search.strip().lower()
        if text and not NAME_PATTERN.fullmatch(text.lstrip("-_") or "x"):
            raise SnippetError(
                f"❌ `{plain(search, 40)}` cannot be in a snippet name: search with lower-case "
                "letters, digits, `-` and `_` (at most 32)."
            )
        await self.send_list(ctx, guild.id, sort=SORTS[sort], search=text[:32])

    @snippet_group.command(name="from")
    @commands.guild_only()
    @app_commands.describe(member="Whose snippets")
    @examples("snippet from @bob")
    async def from_command(self, ctx: Ctx, member: discord.User) -> None:
        """List the snippets and aliases a member made, 10 a page."""
        guild = self.require_guild(ctx)
        await self.send_list(ctx, guild.id, sort=SORT_NAME, author_id=member.id)

    async def send_list(
        self, ctx: Ctx, guild_id: int, *, sort: str, author_id: int = 0, search: str = ""
    ) -> None:
        snippets = await self.snippets(guild_id)
        embed, page, pages = list_embed(
            snippets,
            self.pending_uses(guild_id),
            page=1,
            sort=sort,
            author_id=author_id,
            search=search,
        )
        view = pager_view(
            self,
            page=page,
            pages=pages,
            sort=sort,
            owner_id=ctx.author.id,
            author_id=author_id,
            search=search,
        )
        await self.reply(ctx, embed=embed, view=view)

    @component(PAGE_ACTION)
    async def on_page(
        self,
        interaction: discord.Interaction,
        page: int,
        sort: str,
        owner: int,
        author: int,
        search: str,
    ) -> None:
        """A click on Previous, Next or the sort switch of a list."""
        guild_id = interaction.guild_id
        if guild_id is None or sort not in (SORT_USES, SORT_NAME):
            raise SnippetError("❌ This list no longer works; run `snippet list` again.")
        snippets = await self.snippets(guild_id)
        embed, shown, pages = list_embed(
            snippets,
            self.pending_uses(guild_id),
            page=page,
            sort=sort,
            author_id=author,
            search=search,
        )
        clicker = interaction.user.id
        view = pager_view(
            self,
            page=shown,
            pages=pages,
            sort=sort,
            owner_id=clicker,
            author_id=author,
            search=search,
        )
        if clicker == owner:
            await interaction.response.edit_message(embed=embed, view=view)
        else:  # someone else's list: that page for them alone
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    # --- import and export -----------------------------------------------------------------------

    @snippet_group.command(name="import")
    @commands.guild_only()
    @requires_rank(MODERATOR_RANK)
    @app_commands.describe(file="A .json or .yaml file: a list of {name, content, aliases}")
    @examples("snippet import (with a .json or .yaml file attached)")
    async def import_command(self, ctx: Ctx, file: discord.Attachment | None = None) -> None:
        """Import snippets from an attached JSON or YAML file: all or nothing (moderators)."""
        guild = self.require_guild(ctx)
        if file is None and ctx.message.attachments:
            file = ctx.message.attachments[0]
        if file is None:
            raise SnippetError(
                "❌ Attach a `.json` or `.yaml` file: a list of snippets, each with a `name` and "
                'a `content` (e.g. `[{"name": "rules", "content": "Be nice."}]`).'
            )
        file_kind(file.filename)
        if file.size > IMPORT_MAX_BYTES:
            raise SnippetError(
                f"❌ The file is {file.size:,} bytes; at most {IMPORT_MAX_BYTES:,}. Nothing was "
                "imported."
            )
        raw = await file.read()
        document = await asyncio.to_thread(
            read_document, raw[: IMPORT_MAX_BYTES + 1], file.filename
        )
        snippets = await self.snippets(guild.id)
        plan = plan_import(document, snippets.by_name, self.reserved_names())
        if plan.problems:
            count = len(plan.problems)
            lines = [f"• {clip(problem, 200)}" for problem in plan.problems[:IMPORT_PROBLEMS_SHOWN]]
            if count > IMPORT_PROBLEMS_SHOWN:
                lines.append(f"• … and {count - IMPORT_PROBLEMS_SHOWN} more")
            head = "1 entry was" if count == 1 else f"{count} entries were"
            raise SnippetError(f"❌ {head} refused, so nothing was imported:\n" + "\n".join(lines))
        if not plan.snippets:
            raise SnippetError("❌ The file holds no snippets; nothing was imported.")
        try:
            await self.db.snippet.import_snippets(
                guild.id, plan.snippets, ctx.author.id, aliases=plan.aliases
            )
        except SnippetError as error:
            raise SnippetError(f"{error} Nothing was imported.") from None
        noun = "snippet" if len(plan.snippets) == 1 else "snippets"
        extra = f" and {len(plan.aliases)} aliases" if plan.aliases else ""
        await self.reply(ctx, f"📥 Imported {len(plan.snippets)} {noun}{extra}.")

    @snippet_group.command(name="export")
    @commands.guild_only()
    @app_commands.describe(kind="json (default) or yaml")
    @examples("snippet export", "snippet export yaml")
    async def export_command(self, ctx: Ctx, kind: Literal["json", "yaml"] = "json") -> None:
        """Export this server's snippets as a file that `snippet import` reads."""
        guild = self.require_guild(ctx)
        snippets = await self.snippets(guild.id)
        text = export_document(snippets, kind)
        count = sum(1 for entry in snippets.by_name.values() if not entry.is_alias)
        file = discord.File(io.BytesIO(text.encode("utf-8")), filename=f"snippets.{kind}")
        await ctx.send(
            f"📤 {count} snippet{'s' if count != 1 else ''} of this server.",
            file=file,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    # --- slash autocomplete ----------------------------------------------------------------------

    async def autocomplete_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Names that start with (then contain) what was typed, from the cache."""
        if interaction.guild_id is None:
            return []
        snippets = await self.snippets(interaction.guild_id)
        typed = current.strip().lower()
        names = sorted(snippets.by_name)
        ranked = [n for n in names if n.startswith(typed)]
        ranked += [n for n in names if typed in n and not n.startswith(typed)]
        return [app_commands.Choice(name=n, value=n) for n in ranked[:AUTOCOMPLETE_CHOICES]]


# The names of these commands are completed as they are typed.
snippet_group = BrowseCommandsMixin.snippet_group
snippet_group.autocomplete("name")(BrowseCommandsMixin.autocomplete_names)
BrowseCommandsMixin.info_command.autocomplete("name")(BrowseCommandsMixin.autocomplete_names)
