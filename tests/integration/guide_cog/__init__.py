"""A cog written from the code blocks of the guide (``fish-bot-guide.md``), for the tests.

``tests/integration/test_guide_cog.py`` loads it; ``docs/writing-a-cog.md`` quotes it.
"""

from __future__ import annotations

from typing import Any

from .cog import Feature


async def setup(bot: Any) -> None:
    await bot.add_cog(Feature(bot))
