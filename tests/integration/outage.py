"""A database outage for integration tests: the bot's database goes away and comes back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from fish_bot.bot import FishBot


class Outage:
    """Makes the bot's database unreachable, then reachable again.

    While it is on, every new connection fails as an unreachable server's would (the driver
    refuses to connect) and the pooled connections are dropped: what the bot sees when
    PostgreSQL stops or the SQLite file cannot be opened. Nothing else is changed.
    """

    def __init__(self, bot: FishBot) -> None:
        self.bot = bot
        self.down = False
        engine = bot.database.engine.sync_engine

        @sa.event.listens_for(engine, "do_connect")
        def refuse(*_args: Any) -> None:
            if self.down:
                raise sa.exc.OperationalError(
                    "connect", None, ConnectionRefusedError("connection refused")
                )

    async def start(self) -> None:
        self.down = True
        await self.bot.database.engine.dispose()  # drop the connections already open

    def stop(self) -> None:
        self.down = False
