"""The Fish Bot cog framework: BaseCog, task tracking, settings, cache data and permissions."""
