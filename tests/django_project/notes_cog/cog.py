"""The Notes cog, written as the guide's "DjangoManager Integration" section shows.

``requires_django`` before ``super().__init__``, the models dictionary filled from
``self._django.get_model`` in ``cog_initialize`` and checked with ``all(...)``; writes go through
``self._django.run`` and the list through the guide's ``sync_to_async(list)(...)``.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from discord.ext import commands

from fish_bot.core.base_cog import BaseCog
from fish_bot.core.decorators import examples, hybrid_group
from fish_bot.exceptions import UserFacingError


class Notes(BaseCog):
    """Cog with Django integration."""

    def __init__(self, bot: Any) -> None:
        self.requires_django = True
        settings_config = {
            "max_length": (200, "Longest note, in characters", ["type.int", "range(1,500)"]),
        }
        super().__init__(bot, settings_config)
        self._models: dict[str, Any] | None = None

    async def cog_initialize(self) -> None:
        """Initialize cog with Django models."""
        try:
            async with self.task_tracker.task_context("Initialization") as tracker:
                await super().cog_initialize()

                # Load Django models
                tracker.update_status("Loading Django models")
                self._models = {
                    "Note": self._django.get_model("notes", "note"),
                }

                if not all(self._models.values()):
                    raise RuntimeError("Failed to load required Django models")

                self.set_ready(True)
                tracker.update_status("Ready")
        except Exception as e:
            self._has_errors = True
            self.logger.error(f"Failed to initialize: {e}", exc_info=True)
            raise

    @property
    def note(self) -> Any:
        assert self._models is not None
        return self._models["Note"]

    @hybrid_group(name="note", invoke_without_command=True)
    @examples("note")
    async def note_group(self, ctx: commands.Context[Any]) -> None:
        """Notes kept in the Django project's database."""
        if ctx.invoked_subcommand is None:
            await ctx.send_help(ctx.command)

    @note_group.command(name="add")
    @commands.guild_only()
    @examples("note add buy fish food")
    async def note_add(self, ctx: commands.Context[Any], *, text: str) -> None:
        """Write a note.

        Parameters
        ----------
        text:
            What the note says.
        """
        guild = self.require_guild(ctx)
        limit = self.get_setting("max_length", 200, guild.id)
        if len(text) > limit:
            raise UserFacingError(f"A note is at most {limit} characters.")
        note = await self._django.run(
            self.note.objects.create, guild_id=guild.id, author_id=ctx.author.id, text=text
        )
        await self.reply(ctx, f"📝 Note #{note.pk} saved.")

    @note_group.command(name="list")
    @commands.guild_only()
    @examples("note list")
    async def note_list(self, ctx: commands.Context[Any]) -> None:
        """List this server's notes, oldest first."""
        guild = self.require_guild(ctx)
        # Use sync_to_async for database operations (the guide's pattern)
        notes = await sync_to_async(list)(
            self.note.objects.filter(guild_id=guild.id).order_by("id")
        )
        if not notes:
            await self.reply(ctx, "No notes yet.")
            return
        await self.reply(ctx, "\n".join(f"#{note.pk} {note.text}" for note in notes))

    @note_group.command(name="count")
    @commands.guild_only()
    @examples("note count")
    async def note_count(self, ctx: commands.Context[Any]) -> None:
        """How many notes this server has."""
        guild = self.require_guild(ctx)
        count = await self._django.run(self.note.objects.filter(guild_id=guild.id).count)
        await self.reply(ctx, f"{count} note(s) in this server.")
