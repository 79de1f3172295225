"""Settings shared by env.py and the autogenerate check."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData


def target_metadata() -> MetaData:
    """The metadata of every model (importing the models registers them)."""
    import fish_bot.database.models  # noqa: F401  (registers the tables)
    from fish_bot.database.models.base import metadata

    return metadata


def compare_options() -> dict[str, Any]:
    """Options for migration contexts: batch mode for SQLite, type comparison on."""
    return {
        "compare_type": True,
        "compare_server_default": False,
        "render_as_batch": True,
        "target_metadata": target_metadata(),
        "user_module_prefix": "fish_bot.database.types.",
    }
