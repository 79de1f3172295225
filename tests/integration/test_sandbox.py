"""``fish-bot sandbox``: the real bot in a simulated demo server, by script, console and browser.

The script and persistence tests run the command through Typer's CliRunner on a data folder of
their own. The console is driven by feeding it lines. The browser test starts the command as a
process, opens its page in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright),
acts as a member and stops the sandbox with Ctrl+C (SIGINT).
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord
from discord import app_commands
from discord.ext import commands
from rich.console import Console
from typer.testing import CliRunner, Result

from fish_bot.bot import BUILTIN_COGS
from fish_bot.cli import app
from fish_bot.config import Settings
from fish_bot.sandbox import world as sandbox_world
from fish_bot.sandbox.actions import Click, ParseError, Say, Slash, SubmitModal, parse_action
from fish_bot.sandbox.console import ConsoleSession
from fish_bot.sandbox.runner import Sandbox
from fish_bot.sandbox.script import ScriptError, parse_script

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "docs" / "sandbox-demo.txt"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder of the test's own; no .env from the developer's working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "FISHBOT_DATA_DIR": str(data_dir),
        "FISHBOT_DATABASE_URL": "",
        "FISHBOT_COG_PACKAGES": "",
        "FISHBOT_OWNER_IDS": "",
        "FISHBOT_LOG_LEVEL": "WARNING",
        "DISCORD_TOKEN": "",
        "SENTRY_DSN": "",
        "FISHBOT_HEALTH_PORT": "",
        "FISHBOT_LOG_FILE": "",
        "COLUMNS": "200",
        **extra,
    }


def sandbox(data_dir: Path, *args: str, script: str | None = None, **env: str) -> Result:
    """Run ``fish-bot sandbox ARGS`` (with ``script`` written to a file and passed)."""
    argv = ["sandbox", *args]
    if script is not None:
        path = data_dir.parent / "script.txt"
        path.write_text(script, encoding="utf-8")
        argv += ["--script", str(path)]
    return CliRunner().invoke(app, argv, env=cli_env(data_dir, **env))


# --- the script language ---------------------------------------------------------------------


def test_actions_parse_like_the_docs_say() -> None:
    assert parse_action("!ping") == Say("!ping")
    assert parse_action("/slash ping") == Slash(("ping",))
    assert parse_action('/slash warn member=bob reason="spam links"') == Slash(
        ("warn",), (("member", "bob"), ("reason", "spam links"))
    )
    assert parse_action("/slash Settings Set cog=Moderation") == Slash(
        ("settings", "set"), (("cog", "Moderation"),)
    )
    assert parse_action("/click Press me") == Click("Press me")
    assert parse_action("/click 'Next page'") == Click("Next page")
    assert parse_action("/modal Comment=nice Name='Ann Lee'") == SubmitModal(
        (("Comment", "nice"), ("Name", "Ann Lee"))
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("/slash", "name the slash command"),
        ("/slash warn =bob", "is not key=value"),
        ("/slash warn member=bob oops", "is not key=value"),
        ('/slash warn reason="unclosed', "quote"),
        ("/slash warn member=bob member=alice", "given twice"),
        ("/click", "name the button"),
        ("/modal", "give the modal"),
        ("/dance", "unknown action /dance"),
    ],
)
def test_malformed_actions_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ParseError, match=problem):
        parse_action(text)


def test_a_script_is_checked_whole_before_anything_runs() -> None:
    lines = parse_script(
        "# comment\n\nalice: !ping\nmoderator in #mod-log: !cases\n@bob: /click Press me\n"
    )
    assert [(line.number, line.person, line.channel) for line in lines] == [
        (3, "alice", None),
        (4, "moderator", "mod-log"),
        (5, "bob", None),
    ]
    with pytest.raises(ScriptError, match="line 2: no person 'carol'") as caught:
        parse_script("alice: hi\ncarol: hi\n", source="demo.txt")
    assert caught.value.code == 2


# --- --script --------------------------------------------------------------------------------


def test_the_demo_script_prints_the_transcript(data_dir: Path) -> None:
    result = sandbox(data_dir, "--script", str(DEMO))
    assert result.exit_code == 0, result.output
    transcript = result.stdout
    # Every line of the script is echoed, and the bot's replies follow it, indented.
    assert "alice: !ping\n  Fish Bot: Pong!\n" in transcript
    assert "alice: /slash ping\n  Fish Bot: Pong!\n" in transcript
    # Embeds are printed as text: the status embed's title and fields.
    assert "    | **Fish Bot status**" in transcript
    assert "    | Database: ✅ sqlite" in transcript
    # The settings change, the warning, its case in #mod-log and the refusal for a member.
    assert "dm_members` is now false in this server" in transcript
    assert "Warned @bob (Case #1)" in transcript
    assert "  Fish Bot in #mod-log:\n    | **⚠️ Case #1 · Warning**" in transcript
    assert "a DM to bob" not in transcript  # dm_members was switched off
    assert "`warn` needs permission rank 2; your rank is 0." in transcript
    # A slash refusal is an answer only alice sees, printed all the same.
    assert (
        "alice: /slash ping\n  Fish Bot (only alice sees this): ⛔ `ping` is disabled in this "
        "channel." in transcript
    )
    assert "  Fish Bot (only moderator sees this): '5' has no unit" in transcript
    # A bare number is refused; "10 minutes" is ten minutes and "too loud" the reason.
    assert "'10' has no unit ('too' is not a unit of time" in transcript
    assert "Timed out @bob (Case #2) until" in transcript and "(10m)" in transcript
    assert "(no reply)" not in transcript
    assert "Spamming links in #general" in transcript.split("moderator in #mod-log: !cases")[1]
    assert "Sandbox stopped; its state is saved in" in result.stderr
    assert (data_dir / "sandbox" / "fish_bot.db").is_file()


def test_messages_mention_people_and_the_bot_answers_everyone(data_dir: Path) -> None:
    script = (
        "moderator: !warn @bob posting spam in #general\n"
        "bob in #bot-commands: !ping\n"
        "alice: /slash status cog=Moderation\n"
    )
    result = sandbox(data_dir, script=script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Warned @bob (Case #1)" in out
    assert "posting spam in #general" in out
    # bob is told by DM (dm_members is on by default).
    assert "  Fish Bot in a DM to bob: ⚠️ You received a warning in **Fish Tank**." in out
    assert "bob in #bot-commands: !ping\n  Fish Bot: Pong!" in out
    assert "| **Moderation" in out


def test_the_transcript_shows_the_answers_only_one_person_sees(data_dir: Path) -> None:
    """Ephemeral answers (a denied slash command, a bad slash duration) are printed, marked
    with who sees them, instead of "(no reply)"."""
    script = (
        "owner: !perm deny ping #general\n"
        "alice: /slash ping\n"
        "moderator: /slash tempban user=bob duration=5 reason=spam\n"
        'moderator: /slash tempban user=bob duration="5 parsecs" reason=spam\n'
        "moderator: !tempban @bob 5 days spamming\n"
        "moderator: /slash cases list\n"
    )
    result = sandbox(data_dir, script=script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "(no reply)" not in out
    assert (
        "alice: /slash ping\n  Fish Bot (only alice sees this): ⛔ `ping` is disabled in this "
        "channel.\n"
    ) in out
    assert (
        "  Fish Bot (only moderator sees this): '5' has no unit (a bare number is never read "
        "as seconds)"
    ) in out
    assert "Usage: `/tempban <user> <duration>" in out
    assert "'parsecs' is not a unit of time" in out
    # The prefix form reads "5 days" as the duration and "spamming" as the reason.
    tempban = out.split("moderator: !tempban @bob 5 days spamming\n")[1]
    assert "Temporarily banned @bob (Case #1)" in tempban and "(5d)" in tempban
    assert "**Reason:** spamming" in tempban
    # The case list names the member and the moderator next to their mentions.
    listing = out.split("moderator: /slash cases list\n")[1]
    assert "@bob (bob, `" in listing and "by @moderator (moderator, `" in listing


def test_state_persists_between_runs_unless_fresh(data_dir: Path) -> None:
    first = sandbox(
        data_dir,
        script=(
            "owner: /slash perm rank set role=Member rank=1\n"
            "moderator: /slash warn member=bob reason=first-run\n"
        ),
    )
    assert first.exit_code == 0, first.output
    assert "@Member now has permission rank 1" in first.stdout

    check = "owner: !perm rank list\nmoderator: !cases\n"
    second = sandbox(data_dir, script=check)
    assert second.exit_code == 0, second.output
    ranks, cases = second.stdout.split("moderator: !cases")
    assert "5 · @Moderator" in ranks and "1 · @Member" in ranks
    assert "first-run" in cases and "@bob" in cases

    fresh = sandbox(data_dir, "--fresh", script=check)
    assert fresh.exit_code == 0, fresh.output
    ranks, cases = fresh.stdout.split("moderator: !cases")
    assert "5 · @Moderator" in ranks  # seeded again
    assert "@Member" not in ranks
    assert "first-run" not in cases


@pytest.mark.parametrize(
    ("script", "line", "problem"),
    [
        ("alice: !ping\nalice !ping\n", 2, "expected `person: action`"),
        ("alice: !ping\n\n# note\ncarol: hi\n", 4, "no person 'carol'"),
        ("alice in #secret: hi\n", 1, "no channel '#secret'"),
        ("alice: !ping\nalice: /slash warn member=bob spam\n", 2, "is not key=value"),
        ("bob: /jump\n", 1, "unknown action /jump"),
        ("alice:\n", 1, "nothing to do"),
    ],
)
def test_a_malformed_line_stops_with_exit_code_2_and_its_number(
    data_dir: Path, script: str, line: int, problem: str
) -> None:
    result = sandbox(data_dir, script=script)
    assert result.exit_code == 2, result.output
    assert f"line {line}: " in result.stderr and problem in result.stderr
    assert "Pong!" not in result.stdout
    assert not (data_dir / "sandbox").exists()  # checked before the bot started


def test_an_action_that_cannot_be_done_stops_with_exit_code_1(data_dir: Path) -> None:
    result = sandbox(data_dir, script="alice: !ping\nalice: /click Next\nalice: !ping\n")
    assert result.exit_code == 1, result.output
    assert "line 2: there is no button in #general" in result.stderr
    assert result.stdout.count("Pong!") == 1

    refused = sandbox(data_dir, script="alice in #mod-log: hello\n")
    assert refused.exit_code == 1
    assert "line 1: " in refused.stderr and "Missing" in refused.stderr


def test_bad_options_are_refused(data_dir: Path) -> None:
    both = sandbox(data_dir, "--console", script="alice: hi\n")
    assert both.exit_code == 2 and "choose one" in both.stderr
    channel = sandbox(data_dir, "--channel", "lobby", script="alice: hi\n")
    assert channel.exit_code == 2 and "no channel 'lobby'" in channel.stderr
    missing = sandbox(data_dir, "--script", str(data_dir / "nope.txt"))
    assert missing.exit_code == 2 and "cannot read the script" in missing.stderr
    external = sandbox(
        data_dir,
        "--fresh",
        script="alice: hi\n",
        FISHBOT_DATABASE_URL=f"sqlite+aiosqlite:///{(data_dir / 'prod.db').as_posix()}",
    )
    assert external.exit_code == 2 and "FISHBOT_DATABASE_URL is set" in external.stderr


# --- the world -------------------------------------------------------------------------------


async def test_the_world_has_the_same_ids_every_time() -> None:
    def ids() -> dict[str, int]:
        env = simcord.Env(discord.Client(intents=discord.Intents.default()))
        world = sandbox_world.build_world(env)
        found = {"guild": world.guild.id, "bot": env.backend.bot_user.id}
        found.update({f"@{key}": person.id for key, person in world.people.items()})
        found.update({f"&{key}": role.id for key, role in world.roles.items()})
        found.update({f"#{key}": channel.id for key, channel in world.channels.items()})
        return found

    first, second = ids(), ids()
    assert first == second
    assert first["guild"] == sandbox_world.GUILD_ID
    assert first["&moderator"] == sandbox_world.ROLES[0].id
    assert first["#mod-log"] == sandbox_world.CHANNELS[1].id
    assert len(set(first.values())) == len(first)


# --- --console -------------------------------------------------------------------------------


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    comment: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Comment")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks for: {self.comment.value}")


class FeedbackCog(commands.Cog):
    """A cog with a modal (no Fish Bot cog opens one yet)."""

    @app_commands.command(name="feedback", description="Tell us what you think")
    async def feedback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())


async def feed(lines: Iterable[str | float]) -> AsyncIterator[str]:
    """The lines, as if typed; a number waits that many seconds (nobody types)."""
    for line in lines:
        if isinstance(line, str):
            yield line
        else:
            await asyncio.sleep(line)


async def test_the_console_acts_as_people_and_prints_the_replies(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    cogs = [*BUILTIN_COGS, "fish_bot.cogs.example"]
    async with Sandbox(settings, cogs=cogs) as running:
        await running.bot.add_cog(FeedbackCog())
        await running.bot.tree.sync()
        output = StringIO()
        session = ConsoleSession(
            running, Console(file=output, width=120, color_system=None, highlight=False)
        )
        await session.run(
            feed(
                [
                    "/help",
                    "!ping",
                    "/as moderator",
                    '/slash warn member=bob reason="spam links"',
                    "/in #mod-log",
                    "/history 1",
                    "/as alice",
                    "hello mods",
                    "/in general",
                    "!example button",
                    "/click Press me",
                    "/slash feedback",
                    "/modal Comment=lovely",
                    "/slash nope",
                    "/slash reminders cancel reminder_id=999",
                    "!example remind 1s drink water",
                    3.0,
                    "/quit",
                    "!ping",  # never read: the session ended
                ]
            )
        )
        text = output.getvalue()
    assert "/as NAME" in text and "/slash NAME [SUB] key=value" in text  # /help
    assert text.count("Fish Bot: Pong!") == 1
    assert "You are now moderator" in text
    assert "Warned @bob (Case #1)" in text
    assert "Fish Bot in #mod-log:" in text and "Case #1 · Warning" in text  # the embed panel
    assert "Now in #mod-log." in text
    assert "alice cannot see #mod-log." in text
    assert "✗ Discord refused: Missing Access" in text  # alice writing in #mod-log
    assert "This button was pressed 1 time" in text and "(edited)" in text
    assert "[modal: Feedback]" in text and "Comment" in text
    assert "Thanks for: lovely" in text
    assert "✗ there is no slash command /nope" in text
    assert "Fish Bot (only alice sees this): You have no reminder #999" in text
    # The reminder came while nobody typed, and was printed all the same.
    assert "I will remind you" in text
    assert "@alice, you asked me to remind you: drink water" in text
    # The warning is stored: a new sandbox on the same folder lists the case.
    async with Sandbox(settings) as again:
        cases = await again.world.people["moderator"].slash(
            again.world.channels["general"], "cases list"
        )
    assert cases.response is not None
    assert "spam links" in str([embed.to_dict() for embed in cases.response.embeds])


# --- the browser preview ---------------------------------------------------------------------


def _lines(stream: Any) -> queue.Queue[str | None]:
    found: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in iter(stream.readline, ""):
            found.put(line)
        found.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return found


def _wait_for_url(lines: queue.Queue[str | None], seen: list[str]) -> str:
    while True:
        line = lines.get(timeout=120)
        if line is None:
            raise AssertionError("the sandbox ended before printing its address:\n" + "".join(seen))
        seen.append(line)
        match = re.search(r"http://127\.0\.0\.1:\d+/#\S+", line)
        if match:
            return match[0]


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``fish-bot sandbox --no-browser`` with the example cog (its button), and its address."""
    env = {
        **os.environ,
        **cli_env(tmp_path / "data", FISHBOT_COG_PACKAGES="fish_bot.cogs.example"),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "fish_bot", "sandbox", "--no-browser"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl+C must reach it even when the test runner was started with SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen: list[str] = []
    try:
        url = _wait_for_url(_lines(process.stdout), seen)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def page_ready(page: Any, viewer_id: int | None = None) -> None:
    """Wait until the preview page has no action under way (and shows ``viewer_id``)."""
    condition = "window.simcordPreview.ready"
    if viewer_id is not None:
        condition += f" && window.simcordPreview.viewerId === '{viewer_id}'"
    await page.wait_for_function(f"() => {condition}", timeout=30_000)


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium); "
    ".ci/run installs it",
)
async def test_the_browser_preview_lets_a_member_use_the_bot(
    sandbox_process: tuple[subprocess.Popen[str], str],
) -> None:
    from playwright.async_api import async_playwright

    process, url = sandbox_process
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            # The page's Content-Security-Policy forbids the eval that wait_for_function needs.
            page = await browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
            await page.goto(url)
            composer = page.locator("#channel-composer-input")
            await composer.wait_for(state="visible", timeout=30_000)
            viewers = await page.locator("#viewer-picker option").all_text_contents()
            assert viewers == ["owner", "moderator", "alice", "bob"]
            await page.select_option("#viewer-picker", label="alice")
            # Typing before the switch is done would send with the old page context.
            alice = next(person.id for person in sandbox_world.PEOPLE if person.key == "alice")
            await page_ready(page, viewer_id=alice)
            timeline = page.locator("#channel-message-list")

            # A prefix command typed as alice, and the bot's reply.
            await composer.fill("!ping")
            await composer.press("Enter")
            await timeline.get_by_text("Pong!").first.wait_for(timeout=30_000)
            assert await timeline.get_by_text("!ping").count() == 1

            # The same command from the slash command picker.
            await page_ready(page)
            await composer.fill("/pin")
            await page.locator("#command-picker-listbox").wait_for(timeout=30_000)
            await composer.press("Enter")
            await page.locator("#send-message").click()
            await timeline.get_by_text("used /ping").first.wait_for(timeout=30_000)
            assert await timeline.get_by_text("Pong!").count() == 2

            # A button: the example cog's counter.
            await page_ready(page)
            await composer.fill("!example button")
            await composer.press("Enter")
            button = timeline.get_by_role("button", name="Press me")
            await button.wait_for(timeout=30_000)
            await button.click()
            await timeline.get_by_text(re.compile(r"pressed 1 time")).wait_for(timeout=30_000)

            # What the bot does on its own shows up too: a reminder, 2 real seconds later.
            await page_ready(page)
            await composer.fill("!example remind 2s feed the fish")
            await composer.press("Enter")
            await timeline.get_by_text("I will remind you").wait_for(timeout=30_000)
            reminder = timeline.get_by_text("you asked me to remind you: feed the fish")
            await reminder.wait_for(timeout=30_000)

            # Typed "@bob" reaches the bot as a mention of bob, as in Discord's client, and
            # the case list names him next to the mention.
            await page.select_option("#viewer-picker", label="moderator")
            moderator = next(
                person.id for person in sandbox_world.PEOPLE if person.key == "moderator"
            )
            await page_ready(page, viewer_id=moderator)
            await composer.fill("!warn @bob spamming links")
            await composer.press("Enter")
            await timeline.get_by_text(re.compile(r"Warned .*\(Case #1\)")).wait_for(timeout=30_000)
            await page_ready(page)
            await composer.fill("!cases")
            await composer.press("Enter")
            await timeline.get_by_text(re.compile(r"\(bob, ")).first.wait_for(timeout=30_000)
        finally:
            await browser.close()

    # Ctrl+C stops the sandbox cleanly.
    process.send_signal(signal.SIGINT)
    try:
        code = await asyncio.to_thread(process.wait, 60)
    except subprocess.TimeoutExpired:
        pytest.fail("the sandbox did not stop within 60 s of Ctrl+C")
    stderr = process.stderr.read() if process.stderr else ""
    assert code == 0, stderr
    assert "Sandbox stopped; its state is saved in" in stderr
