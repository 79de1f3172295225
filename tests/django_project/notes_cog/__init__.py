"""A cog that keeps notes in the test Django project's ``Note`` model (``requires_django``)."""

from __future__ import annotations

from typing import Any

from django_project.notes_cog.cog import Notes


async def setup(bot: Any) -> None:
    await bot.add_cog(Notes(bot))
