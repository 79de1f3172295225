"""A new installation's first start: no data folder, no database, every migration run.

The other integration tests start on a copy of an already migrated database (see
``migrated_sqlite`` in conftest.py); this one starts the bot as a new installation does.
"""

from __future__ import annotations

from collections.abc import Callable

from fish_bot.bot import BUILTIN_COGS, FishBot
from fish_bot.config import Settings
from fish_bot.database import migrations

from .conftest import QuickEnv, build_world


async def test_a_new_installation_creates_and_migrates_its_database(
    make_bot: Callable[..., FishBot], fish_settings: Settings
) -> None:
    assert not fish_settings.data_dir.exists()
    bot = make_bot(list(BUILTIN_COGS), fresh_database=True)
    env = QuickEnv(bot, shard_count=1)
    await env.start()
    try:
        assert (fish_settings.data_dir / "fish_bot.db").is_file()
        assert await migrations.is_at_head(bot.database)
        world = build_world(env)
        result = await world.member.slash(world.general, "ping")
        assert result.response is not None and result.response.content == "Pong!"
    finally:
        await env.shutdown()
        await bot.database.disconnect()
