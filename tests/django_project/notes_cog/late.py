"""A second Django cog: it sets ``requires_django`` after ``super().__init__`` and looks up a
model that does not exist (``get_model`` answers None)."""

from __future__ import annotations

from typing import Any

from discord.ext import commands

from fish_bot.core.base_cog import BaseCog


class LateNotes(BaseCog):
    """Counts notes; decides it needs Django only after BaseCog.__init__."""

    def __init__(self, bot: Any) -> None:
        super().__init__(bot)
        self.requires_django = True
        self.note_model: Any = None
        self.missing_model: Any = None

    async def cog_initialize(self) -> None:
        await super().cog_initialize()
        self.note_model = self._django.get_model("notes", "Note")
        self.missing_model = self._django.get_model("notes", "NoSuchModel")

    @commands.command(name="notecount")
    async def note_count(self, ctx: commands.Context[Any]) -> None:
        """How many notes the Django project holds."""
        count = await self._django.run(self.note_model.objects.count)
        await self.reply(ctx, f"{count} note(s) in the Django project.")


async def setup(bot: Any) -> None:
    await bot.add_cog(LateNotes(bot))
