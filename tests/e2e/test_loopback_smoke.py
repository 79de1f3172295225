"""The real ``fish-bot run`` process over the Discord wire protocol (loopback fake Discord):
it connects, answers ``!ping`` and ``/ping``, and survives a gateway RECONNECT by resuming."""

from __future__ import annotations

import asyncio
from pathlib import Path

from loopback.fake_discord import FakeDiscord, Request
from loopback.process import BotProcess


def interaction_reply(interaction_id: str):  # type: ignore[no-untyped-def]
    def matches(request: Request) -> bool:
        return request.method == "POST" and request.path.startswith(
            f"/interactions/{interaction_id}/"
        )

    return matches


async def test_fish_bot_connects_answers_and_resumes(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    guild = fake.create_guild("E2E", members=3)
    member = fake.members_of(guild)[0]
    general = guild.channel("general")["id"]
    bot = BotProcess("fish", fake, tmp_path)
    bot.start()
    try:
        await bot.wait_ready(guild, within=60)

        # Its slash commands were registered with Discord at start-up.
        assert any(command["name"] == "ping" for command in fake.commands)

        # A prefix command over the gateway, answered over REST.
        waiter = asyncio.ensure_future(fake.wait_for(fake.expect_reply(general, "Pong"), 10))
        await asyncio.sleep(0)
        await fake.message(guild, "general", member, "!ping")
        assert "Pong" in (await waiter).content

        # A slash command: the interaction is answered through its callback.
        data = await fake.interaction(guild, "general", member, "ping")
        callback = await fake.wait_for(interaction_reply(data["id"]), 10)
        assert callback.path.endswith("/callback")
        assert "Pong" in callback.text()

        # Discord asks it to reconnect; a message sent meanwhile is replayed on RESUME.
        waiter = asyncio.ensure_future(fake.wait_for(fake.expect_reply(general, "Pong"), 20))
        await asyncio.sleep(0)
        await fake.reconnect()
        await fake.message(guild, "general", member, "!ping")
        assert "Pong" in (await waiter).content
        for _ in range(200):
            if fake.resume_count:
                break
            await asyncio.sleep(0.05)
        assert fake.resume_count == 1
        assert fake.identify_count == 1  # resumed, not a new session

        # And it still answers on the resumed session.
        waiter = asyncio.ensure_future(fake.wait_for(fake.expect_reply(general, "Pong"), 10))
        await asyncio.sleep(0)
        await fake.message(guild, "general", member, "!ping")
        assert "Pong" in (await waiter).content
        assert bot.alive()
    finally:
        code = await bot.stop()
    assert code == 130, bot.log_tail()  # stopped with Ctrl-C (SIGINT), as a shell would
    assert "Traceback" not in bot.log_path.read_text(errors="replace")
