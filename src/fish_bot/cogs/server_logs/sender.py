"""The per-channel queue that sends log entries: bursts are batched, refusals are retried.

Each log channel has its own queue and one sending task. The task waits ``batch_delay``
seconds after the first entry of a burst, then sends what has gathered as few messages as
possible (up to 10 embeds and 6,000 embed characters a message; an entry with a file goes in a
message of its own), so a raid of 50 joins gives five messages, not fifty.

Discord's rate limits are waited out by discord.py itself; a message Discord still refuses (a
5xx, a 429 it gave up on) stays at the head of the queue and is sent again after a growing pause
(1 s, 2 s, 4 s... at most a minute), so no entry is lost while the bot runs. Only a channel the
bot may not post in (or that is gone) drops its entries, with a warning in the log: nothing
could ever send them. A queue holds at most 5,000 entries; beyond that the oldest are dropped
and counted (``dropped``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import discord

from fish_bot.cogs.server_logs.constants import (
    EMBED_CHARACTERS_PER_MESSAGE,
    EMBEDS_PER_MESSAGE,
    MAX_QUEUED,
    MAX_RETRY_DELAY,
)
from fish_bot.core.text import embed_size, fit_embed

log = logging.getLogger(__name__)


@dataclass
class LogEntry:
    """One log entry: an embed, and a text file attached to it (a bulk delete's messages)."""

    embed: discord.Embed
    file: tuple[str, str] | None = None  # (file name, text)


class LogSender:
    """Queues of log entries, one per channel, each drained by its own task."""

    def __init__(
        self,
        get_channel: Callable[[int], object],
        batch_delay: Callable[[], float],
    ) -> None:
        self._get_channel = get_channel
        self._batch_delay = batch_delay
        self._queues: dict[int, deque[LogEntry]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.dropped = 0
        self.sent_messages = 0

    def pending(self) -> int:
        """How many entries wait to be sent, in every channel."""
        return sum(len(queue) for queue in self._queues.values())

    def put(self, channel_id: int, entry: LogEntry) -> None:
        """Queue an entry for a channel; its task sends it after the batch delay."""
        queue = self._queues.setdefault(channel_id, deque())
        if len(queue) >= MAX_QUEUED:
            queue.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "Log channel %s is too far behind: %s entries dropped", channel_id, self.dropped
                )
        queue.append(entry)
        task = self._tasks.get(channel_id)
        if task is None or task.done():
            self._tasks[channel_id] = asyncio.create_task(
                self._drain(channel_id), name=f"server-logs:{channel_id}"
            )

    async def close(self, grace: float = 5.0) -> None:
        """Stop every task, then send what is still queued (for at most ``grace`` seconds)."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._send_everything(), grace)

    async def _send_everything(self) -> None:
        for channel_id in list(self._queues):
            await self._drain(channel_id, wait=False)

    # --- sending ---------------------------------------------------------------------------

    async def _pause(self, seconds: float) -> None:
        """Wait; after a burst's first entry, ``batch_delay`` seconds let the burst gather."""
        await asyncio.sleep(seconds)

    async def _drain(self, channel_id: int, *, wait: bool = True) -> None:
        if wait:
            await self._pause(self._batch_delay())
        queue = self._queues.get(channel_id)
        backoff = 1.0
        while queue:
            batch = _take(queue)
            channel = self._get_channel(channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                self._give_up(channel_id, queue, batch, "the channel is gone")
                return
            try:
                await channel.send(
                    embeds=[fit_embed(entry.embed) for entry in batch],
                    files=[
                        discord.File(io.BytesIO(entry.file[1].encode()), filename=entry.file[0])
                        for entry in batch
                        if entry.file is not None
                    ],
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            except asyncio.CancelledError:
                queue.extendleft(reversed(batch))  # stopped mid-send: keep them for close()
                raise
            except (discord.Forbidden, discord.NotFound) as error:
                self._give_up(channel_id, queue, batch, f"Discord refused it ({error.status})")
                return
            except discord.HTTPException as error:
                queue.extendleft(reversed(batch))  # back at the head, in order
                log.warning(
                    "Could not post to log channel %s (%s); retrying in %.0f s",
                    channel_id,
                    error.status,
                    backoff,
                )
                await self._pause(backoff)
                backoff = min(backoff * 2, MAX_RETRY_DELAY)
                continue
            backoff = 1.0
            self.sent_messages += 1

    def _give_up(
        self, channel_id: int, queue: deque[LogEntry], batch: list[LogEntry], why: str
    ) -> None:
        lost = len(batch) + len(queue)
        queue.clear()
        log.warning("Dropped %s log entries for channel %s: %s", lost, channel_id, why)


def _take(queue: deque[LogEntry]) -> list[LogEntry]:
    """The next message's entries: up to 10 embeds and 6,000 characters; a file goes alone."""
    first = queue.popleft()
    batch = [first]
    if first.file is not None:
        return batch
    size = embed_size(fit_embed(first.embed))
    while queue and len(batch) < EMBEDS_PER_MESSAGE:
        following = queue[0]
        if following.file is not None:
            break
        following_size = embed_size(fit_embed(following.embed))
        if size + following_size > EMBED_CHARACTERS_PER_MESSAGE:
            break
        batch.append(queue.popleft())
        size += following_size
    return batch
