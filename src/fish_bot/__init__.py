"""Fish Bot: a Discord bot and the cog framework under it."""

__version__ = "0.1.0"
