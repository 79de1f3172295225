"""The `snippet` group (alias `s`): post, create, edit, delete, alias, rename, lock, unlock.

The browsing and moving commands (info, list, from, import, export) are in
:mod:`~fish_bot.cogs.snippets.browse_commands`. Every command raises ``SnippetError`` (a
``UserFacingError``) for what the user should read; replies never ping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import Attachment, app_commands
from discord.ext import commands

from fish_bot.cogs.snippets.browse_commands import BrowseCommandsMixin, snippet_group
from fish_bot.cogs.snippets.constants import MODERATOR_RANK
from fish_bot.core.decorators import examples
from fish_bot.core.permissions import requires_rank
from fish_bot.database.controllers.snippets import SnippetError, normalise_name

if TYPE_CHECKING:
    from fish_bot.cogs.snippets.utils import Entry

Ctx = commands.Context[Any]

NAME_HELP = "The snippet's name (lower-case letters, digits, - and _)"
CONTENT_HELP = "What the snippet says (at most 4,000 characters)"
FILE_HELP = "A file whose link is added to the content"


class CommandsMixin(BrowseCommandsMixin):
    """The commands that post and change snippets."""

    if TYPE_CHECKING:  # provided by the Snippets class

        async def check_not_banned(self, ctx: Ctx) -> None: ...
        async def check_may_change(self, ctx: Ctx, entry: Entry, verb: str) -> None: ...

    @snippet_group.command(name="create")
    @commands.guild_only()
    @app_commands.describe(name=NAME_HELP, content=CONTENT_HELP, attachment=FILE_HELP)
    @examples("snippet create rules Be kind. No spam.")
    async def create_command(
        self, ctx: Ctx, name: str, attachment: Attachment | None = None, *, content: str = ""
    ) -> None:
        """Create a snippet: `snippet create faq-install Run pip install fish-bot`."""
        guild = await self.guild_to_change(ctx)
        clean = self.new_name(name)
        text = self.content_with_links(ctx, content, attachment)
        created = await self.db.snippet.create_snippet(
            clean, text, discord.utils.utcnow(), ctx.author.id, guild.id
        )
        await self.reply(ctx, f"✅ Created the snippet `{created.name}`.")

    @snippet_group.command(name="edit")
    @commands.guild_only()
    @app_commands.describe(name=NAME_HELP, content=CONTENT_HELP, attachment=FILE_HELP)
    @examples("snippet edit rules Be kind. No spam. No ads.")
    async def edit_command(
        self, ctx: Ctx, name: str, attachment: Attachment | None = None, *, content: str = ""
    ) -> None:
        """Replace a snippet's content (its author or a moderator; locked: moderators)."""
        guild = await self.guild_to_change(ctx)
        entry = await self.find(guild.id, name)
        if entry.is_alias:
            target = (await self.snippets(guild.id)).target(entry)
            raise SnippetError(
                f"❌ `{entry.name}` is an alias of `{target.name if target else '?'}`: edit "
                "that snippet instead."
            )
        await self.check_may_change(ctx, entry, "edit")
        text = self.content_with_links(ctx, content, attachment)
        await self.db.snippet.edit_snippet(entry.id, text, ctx.author.id)
        await self.reply(ctx, f"✏️ Edited the snippet `{entry.name}`.")

    @snippet_group.command(name="delete")
    @commands.guild_only()
    @app_commands.describe(name=NAME_HELP)
    @examples("snippet delete rules")
    async def delete_command(self, ctx: Ctx, name: str) -> None:
        """Delete a snippet and its aliases, or one alias (its author or a moderator)."""
        guild = await self.guild_to_change(ctx)
        entry = await self.find(guild.id, name)
        await self.check_may_change(ctx, entry, "delete")
        snippets = await self.snippets(guild.id)
        target = snippets.target(entry)
        removed = await self.db.snippet.delete_snippet(entry.id, guild.id)
        if entry.is_alias:
            of = f" (of `{target.name}`)" if target is not None else ""
            await self.reply(ctx, f"🗑️ Deleted the alias `{entry.name}`{of}.")
            return
        text = f"🗑️ Deleted the snippet `{entry.name}`."
        if removed:
            names = ", ".join(f"`{alias}`" for alias in removed)
            noun = "alias" if len(removed) == 1 else "aliases"
            text += f" Its {noun} {names} went with it (an alias never outlives its snippet)."
        await self.reply(ctx, text)

    @snippet_group.command(name="alias")
    @commands.guild_only()
    @app_commands.describe(alias="The new name", target="The snippet (or alias) it stands for")
    @examples("snippet alias r rules")
    async def alias_command(self, ctx: Ctx, alias: str, target: str) -> None:
        """Give a snippet another name: `snippet alias r rules` (an alias of an alias points
        at the final snippet)."""
        guild = await self.guild_to_change(ctx)
        clean = self.new_name(alias)
        created = await self.db.snippet.create_snippet_alias(
            clean, target, discord.utils.utcnow(), ctx.author.id, guild.id
        )
        final = (await self.snippets(guild.id)).by_id.get(created.alias_of_id or 0)
        await self.reply(
            ctx,
            f"🔗 `{created.name}` is now an alias of `{final.name if final else target}`.",
        )

    @snippet_group.command(name="rename")
    @commands.guild_only()
    @app_commands.describe(old="The snippet's name now", new="Its new name")
    @examples("snippet rename rules server-rules")
    async def rename_command(self, ctx: Ctx, old: str, new: str) -> None:
        """Rename a snippet or alias (its author or a moderator; aliases follow)."""
        guild = await self.guild_to_change(ctx)
        entry = await self.find(guild.id, old)
        await self.check_may_change(ctx, entry, "rename")
        clean = self.new_name(new)
        renamed = await self.db.snippet.rename_snippet(entry.id, clean, ctx.author.id)
        await self.reply(ctx, f"✏️ Renamed `{entry.name}` to `{renamed.name}`.")

    @snippet_group.command(name="lock")
    @commands.guild_only()
    @requires_rank(MODERATOR_RANK)
    @app_commands.describe(name=NAME_HELP)
    @examples("snippet lock rules")
    async def lock_command(self, ctx: Ctx, name: str) -> None:
        """Lock a snippet: only moderators can change it then (moderators)."""
        await self._set_locked(ctx, name, True)

    @snippet_group.command(name="unlock")
    @commands.guild_only()
    @requires_rank(MODERATOR_RANK)
    @app_commands.describe(name=NAME_HELP)
    @examples("snippet unlock rules")
    async def unlock_command(self, ctx: Ctx, name: str) -> None:
        """Unlock a snippet: its author can change it again (moderators)."""
        await self._set_locked(ctx, name, False)

    async def _set_locked(self, ctx: Ctx, name: str, locked: bool) -> None:
        guild = self.require_guild(ctx)
        entry = await self.find(guild.id, name)
        target = (await self.snippets(guild.id)).target(entry) or entry
        if target.locked == locked:
            state = "locked" if locked else "not locked"
            raise SnippetError(f"❌ `{target.name}` is already {state}.")
        await self.db.snippet.set_locked(target.id, locked)
        if locked:
            await self.reply(ctx, f"🔒 Locked `{target.name}`: only moderators can change it.")
        else:
            await self.reply(ctx, f"🔓 Unlocked `{target.name}`.")

    # --- helpers -------------------------------------------------------------------------------

    async def guild_to_change(self, ctx: Ctx) -> discord.Guild:
        """The server whose snippets a command changes; a snippet-banned member is refused."""
        guild = self.require_guild(ctx)
        await self.check_not_banned(ctx)
        return guild

    def reserved_names(self) -> set[str]:
        """Names a snippet cannot have: the group's subcommands (and the slash fallback)."""
        names = {"show"}
        for command in self.snippet_group.commands:
            names.add(command.name)
            names.update(command.aliases)
        return names

    def new_name(self, name: str) -> str:
        """A name for a new snippet, alias or rename: the name rule, then not a subcommand."""
        clean = normalise_name(name)
        if clean in self.reserved_names():
            raise SnippetError(
                f"❌ `{clean}` is the name of a `snippet` subcommand; choose another name "
                f"(e.g. `{clean}-help`)."
            )
        return clean

    @staticmethod
    def content_with_links(ctx: Ctx, content: str, attachment: discord.Attachment | None) -> str:
        """The content with the links of the message's attachments, one per line."""
        files = list(ctx.message.attachments) if ctx.interaction is None else []
        if attachment is not None and all(a.id != attachment.id for a in files):
            files.append(attachment)
        links = "\n".join(a.url for a in files)
        return f"{content.strip()}\n{links}".strip() if links else content


# The names these commands take are completed as they are typed (slash).
for _command, _option in (
    (CommandsMixin.edit_command, "name"),
    (CommandsMixin.delete_command, "name"),
    (CommandsMixin.alias_command, "target"),
    (CommandsMixin.rename_command, "old"),
    (CommandsMixin.lock_command, "name"),
    (CommandsMixin.unlock_command, "name"),
):
    _command.autocomplete(_option)(BrowseCommandsMixin.autocomplete_names)
