"""The default sandbox mode: SimCord's browser preview of the demo server.

SimCord serves the page on 127.0.0.1 (``--port`` pins the port; by default the system picks a
free one). The address carries a secret token: anyone holding it can act in the sandbox. In
the page, "Viewing as" picks the person, the composer sends messages, ``/`` opens the slash
command picker, and buttons, selects and modals work as in Discord. A preview shows one channel
(``--channel``, #general by default); the console mode shows them all.

The composer sends text as typed; :func:`type_mentions_like_discord` turns ``@bob``,
``#general`` and ``@&Moderator`` into mentions first, as the Discord client does, so
``!warn @bob spam`` works in the page as in the script and console modes.

SimCord publishes the page after each action taken in it. What the bot does on its own
(a reminder, the end of a temporary ban) is published by :class:`Republisher`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import webbrowser
from collections.abc import Callable
from typing import Any

import simcord
from rich.console import Console
from rich.text import Text

from fish_bot.sandbox.actions import client_mentions
from fish_bot.sandbox.runner import Sandbox, SandboxError, env_is_idle, follow_wall_clock
from fish_bot.sandbox.world import PEOPLE, SandboxWorld

log = logging.getLogger("fish_bot.sandbox")

#: How often the page is checked for changes the bot made on its own.
REPUBLISH_INTERVAL = 0.5


class Republisher:
    """Publishes the preview's pages again when the bot changed something on its own.

    SimCord 3.2.1 publishes a page after each action taken in it and on the page's Refresh
    button, but not when the bot acts by itself. Its ``Preview.refresh()`` would do it, but it
    is an operation: a browser action arriving while it runs is refused, and the page then
    shows that action as failed. So this does what ``refresh()`` does after settling, with
    SimCord's own (internal) publish step, synchronously and only while no operation runs. It
    notices changes by the bot's REST calls (``env.http_requests``) made since the last publish.
    """

    def __init__(self, env: simcord.Env, preview: Any) -> None:
        self.env = env
        self.preview = preview
        self.enabled = all(hasattr(preview, name) for name in ("_pages", "_publish", "_closed"))
        self._published_at = len(env.http_requests)
        if not self.enabled:
            log.warning("This SimCord cannot republish the preview: use its Refresh button.")
            return
        publish: Callable[..., None] = preview._publish
        advance: Callable[[], None] = getattr(preview, "_advance_presentation_time", _nothing)

        def tracked_publish(page: Any, **kwargs: Any) -> None:
            # Relative times (<t:...:R>) are shown against the page's presentation time,
            # which SimCord moves only on refresh: keep it at the (followed) clock.
            advance()
            self._published_at = len(self.env.http_requests)
            publish(page, **kwargs)

        preview._publish = tracked_publish

    def pending(self) -> bool:
        """Whether the bot made REST calls since the page was last published."""
        return len(self.env.http_requests) != self._published_at

    def republish(self) -> bool:
        """Publish every open page now, if it is safe; returns whether it did."""
        preview = self.preview
        if not self.enabled or preview._closed or not env_is_idle(self.env):
            return False
        pages = preview._pages
        for page in tuple(pages.values()):
            if page.id in pages:  # publishing prunes pages whose lease expired
                preview._publish(page, reason="refresh")
        self._published_at = len(self.env.http_requests)
        return True

    async def run(self, interval: float = REPUBLISH_INTERVAL) -> None:
        while self.enabled:
            await asyncio.sleep(interval)
            if self.pending():
                self.republish()


def type_mentions_like_discord(world: SandboxWorld, viewers: list[simcord.MemberActor]) -> None:
    """Make the preview's composer send ``@bob`` as a mention of bob, as Discord's client does.

    SimCord's composer hands the typed text to the viewer's ``MemberActor.send`` unchanged (a
    bot would then read ``@bob`` as plain text, and ``!warn @bob`` would find no member). Each
    viewer's ``send`` is wrapped, on these sandbox actors only, to write the mentions first
    (:func:`~fish_bot.sandbox.actions.client_mentions`).
    """
    for person in viewers:
        send = person.send

        async def send_with_mentions(
            channel: simcord.ChannelHandle,
            content: str = "",
            *args: Any,
            _send: Callable[..., Any] = send,
            **kwargs: Any,
        ) -> Any:
            return await _send(channel, client_mentions(world, content), *args, **kwargs)

        person.send = send_with_mentions  # type: ignore[method-assign]


async def run_preview(
    sandbox: Sandbox,
    console: Console,
    *,
    channel: str = "general",
    port: int | None = None,
    open_browser: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the preview until the page ends the session or the task is cancelled (Ctrl+C)."""
    world = sandbox.world
    target = world.channel(channel)
    viewers = [person for person in world.people.values() if sandbox.can_read(person, target)]
    if not viewers:
        raise SandboxError(f"nobody in the sandbox can read #{channel}", code=2)
    type_mentions_like_discord(world, viewers)
    try:
        session = sandbox.env.preview(target, viewers=viewers, layout="channel", port=port)
        preview = await session.__aenter__()
    except simcord.SetupError as error:
        raise SandboxError(f"the browser preview could not start: {error}", code=2) from error
    background: list[asyncio.Task[None]] = []
    try:
        url = preview.url
        _print_welcome(console, sandbox, channel, url, [viewer.name for viewer in viewers])
        if on_ready is not None:
            on_ready(url)
        if open_browser:
            opened = await asyncio.to_thread(_open, url)
            if not opened:
                console.print("Could not open a browser: open the address above yourself.")
        background.append(asyncio.create_task(follow_wall_clock(sandbox.env)))
        background.append(asyncio.create_task(Republisher(sandbox.env, preview).run()))
        await preview.wait_closed()
        console.print("The preview session was ended in the page.")
    finally:
        for task in background:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await session.__aexit__(None, None, None)


def _nothing() -> None:
    return None


def _open(url: str) -> bool:
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def _print_welcome(
    console: Console, sandbox: Sandbox, channel: str, url: str, viewers: list[str]
) -> None:
    world = sandbox.world
    console.print(
        Text.assemble(
            ("Fish Bot sandbox", "bold"),
            f" is running: the server '{world.guild.name}' (no Discord token needed).",
        )
    )
    console.print(Text("Open this address in your browser (it holds a secret token):"))
    console.print(Text(url, style="bold cyan"), soft_wrap=True)
    people = ", ".join(f"{spec.key} ({spec.description})" for spec in PEOPLE if spec.key in viewers)
    console.print(
        f"  #{channel} as {people}.\n"
        "  Pick who you are under 'Viewing as', type !ping or press / for slash commands.\n"
        f"  State is kept in {sandbox.data_dir} (--fresh starts over). Ctrl+C stops the sandbox.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
