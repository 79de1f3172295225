"""discord.py's hybrid command decorators, typed so that mypy accepts cog methods.

discord.py 2.7 declares ``hybrid_command``/``hybrid_group`` with type variables that appear
only in their return types, so mypy (1.x and 2.x) reports a bogus ``arg-type`` error on every
decorated method. These aliases are the same functions, seen as ``Any`` by the type checker;
everything else in a cog module stays checked. At run time nothing differs.
"""

from __future__ import annotations

from typing import Any

from discord.ext import commands

hybrid_command: Any = commands.hybrid_command
hybrid_group: Any = commands.hybrid_group

__all__ = ["hybrid_command", "hybrid_group"]
