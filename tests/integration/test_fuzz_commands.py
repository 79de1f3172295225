"""Fuzz every prefix and slash command of the loaded bot with hostile text (issue 16).

For each command, Hypothesis generates arguments: huge text, Unicode digits that pass
``str.isdigit()``, zero-width and right-to-left characters, ``@everyone``, role and user
mentions, 2^64, bad durations, unbalanced quotes. The guild owner (also a bot owner, so every
check passes and the arguments reach the command's code) sends them, and after each
invocation the test asserts what a user would notice:

* no unexpected error: no apology with an error id (no ``fishbot_error`` dispatched) and no
  reply that could not be sent;
* no reply over Discord's limits (content 2,000; embed title 256, description 4,096, 25
  fields of 256/1,024, footer 2,048, 6,000 in all);
* no ping beyond the invoker (SimCord resolves each sent message's ``allowed_mentions``),
  except the member a notice is addressed to (a jail notice, a reminder), which code opts in;
* and, at the end, the bot still answers ``ping``.

Every prefix command first gets the fixed hostile inputs of :data:`PREFIX_EXAMPLES` (the
cases issue 16 names: an empty quoted member, Unicode digits, 2^64, mentions, a message-long
argument), then ``FISHBOT_FUZZ_EXAMPLES`` generated ones (300 by default, prefix and slash
alike: about 75,000 invocations, a few minutes on two cores; more with the variable).
Generation is derandomized (the same inputs every run) unless ``FISHBOT_FUZZ_RANDOM`` is set;
``FISHBOT_FUZZ_ONLY=warn,/cases view`` fuzzes only the named commands.

What keeps an invocation at a few milliseconds (so that a run of hundreds per command takes
minutes, not an hour): the views an invocation opened are stopped after it
(:meth:`Runner.end_views`: SimCord scans every stored view at each settle), checks read only
the newest messages and old ones are dropped between commands (:meth:`Runner.forget_history`),
log channels post without the 2 s batch delay, and SimCord polls for settled work every 5 ms
(:class:`QuickEnv`). The timers an invocation leaves (a reply deleted after 10 s) are run by
advancing the virtual clock right after its check (:meth:`Runner.run_timers`), so none fires
in real time in the middle of a later command. The commands are fuzzed in :data:`PARTS`
tests, which pytest-xdist spreads over the cores.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import zlib
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from discord.ext import commands
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from simcord import interactions as sim_interactions

from fish_bot.bot import BUILTIN_COGS, FishBot
from fish_bot.config import Settings
from fish_bot.core import text as limits

from .conftest import QuickEnv, World, build_world

_SET = os.environ.get("FISHBOT_FUZZ_EXAMPLES", "").strip()
#: Generated examples per command, prefix and slash alike.
EXAMPLES = int(_SET) if _SET else 300
ONLY = {name.strip() for name in os.environ.get("FISHBOT_FUZZ_ONLY", "").split(",") if name.strip()}

COGS = [*BUILTIN_COGS, "fish_bot.cogs.example"]

#: Seconds ahead within which :meth:`Runner.run_timers` runs an invocation's real-time timers.
TIMER_HORIZON = 120.0

#: Commands not fuzzed, and why (they would end the run, not answer it).
NOT_FUZZED: dict[str, str] = {
    "cog unload": "an owner unloading a module by a generated name could unload one under test",
}

# --- hostile text ------------------------------------------------------------------------

UNICODE_DIGITS = ["²", "②", "١٢٣", "߁", "\U0001d7d7", "⁹⁹", "①②", "๓", "Ⅻ", "½"]
INVISIBLE = ["\u200b", "\u200d", "\u2060", "\u202e", "\u2066x\u2069", "\ufeff", "\u061c"]
NUMBERS = [str(2**64), str(2**63), str(-(2**63) - 1), "-1", "0", "1e309", "nan", "inf", "9" * 90]
DURATIONS = ["-5m", "0s", "99999999w", "1h-", "1.5.5h", "10y", "m", "1d" * 40, "2026-13-01"]
QUOTES = ['"', "'", '"unclosed', 'a"b', "“curly”", "«x»", "`", "```", "\\", '\\"', '""']
MARKDOWN = ["**x**", "||x||", "> q", "# h", "[a](https://example.com)", "~~s~~", "\n\n"]
WORDS = ["none", "off", "here", "default", "--global", "true", "all", "me", "ping", "help"]
HUGE_UNITS = ["x", "@everyone ", "²", "\u200b", "<@&1> ", "ab cd ", "\u202e"]


def hostile_text(world: World, bot_id: int) -> st.SearchStrategy[str]:
    """Text a hostile or careless user could type as one argument."""
    mentions = [
        "@everyone",
        "@here",
        f"<@&{world.admin_role.id}>",
        f"<@&{world.guild.id}>",
        f"<@{world.member.id}>",
        f"<@!{world.member2.id}>",
        f"<@{world.owner.id}>",
        f"<@{bot_id}>",
        f"<#{world.general.id}>",
        "<@1>",
        "<@&99999999999999999999>",
        str(world.member.id),
        str(world.admin_role.id),
    ]
    atoms = st.sampled_from(
        mentions + UNICODE_DIGITS + INVISIBLE + NUMBERS + DURATIONS + QUOTES + MARKDOWN + WORDS
    )
    huge = st.builds(
        lambda unit, size: (unit * size)[: size * 2],
        st.sampled_from(HUGE_UNITS),
        st.integers(min_value=500, max_value=2100),
    )
    mixed = st.lists(st.one_of(atoms, st.text(max_size=12)), min_size=1, max_size=4).map("".join)
    return st.one_of(atoms, atoms, atoms, mixed, st.text(max_size=40), huge)


#: Inputs every prefix command gets, before the generated ones.
PREFIX_EXAMPLES = [
    '"" spam',
    "② ² @everyone <@&1> @here",
    f'{2**64} "{"y" * 1900}"',
    '"unclosed \u202e1h',
    "x" * 1990,
]


def prefix_arguments(world: World, bot_id: int) -> st.SearchStrategy[str]:
    """The text after a command's name: zero to four arguments, some quoted."""
    one = hostile_text(world, bot_id)
    token = st.one_of(one, one.map(lambda t: f'"{t}"'))
    return st.lists(token, max_size=4).map(" ".join)


# --- the running bot ---------------------------------------------------------------------


@dataclass
class Observed:
    """What the bot did while one command ran."""

    unexpected: list[str] = field(default_factory=list)
    unsent: list[str] = field(default_factory=list)


class _Unsent(logging.Handler):
    """Catches the warnings the error policy logs when a reply could not be sent."""

    def __init__(self, observed: Observed) -> None:
        super().__init__(logging.WARNING)
        self.observed = observed

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Could not send" in message or "Could not answer" in message:
            self.observed.unsent.append(message)


class Runner:
    """One bot in SimCord on its own event loop, shared by every generated example."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.observed = Observed()
        self.bot = FishBot(settings, cogs=COGS)
        self.env = QuickEnv(self.bot, shard_count=1)
        self.env.check_errors = False  # refusals are errors to SimCord; the policy is checked
        self.handler = _Unsent(self.observed)
        self.world: World
        self.run(self._start())

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def _start(self) -> None:
        await self.env.start()
        self.world = build_world(self.env)
        self.bot.owner_ids = {self.world.owner.id}
        # Log channels post at once: a fuzzed `config log` would otherwise make every later
        # command that logs wait out the 2 s batch delay in real time (SimCord joins timers
        # due within its settle deadline).
        await self.bot.config_manager.set("logging", "batch_delay", 0, None)

        async def on_fishbot_error(error_id: str, error: BaseException) -> None:
            self.observed.unexpected.append(f"{error_id}: {type(error).__name__}: {error}"[:300])

        self.bot.add_listener(on_fishbot_error, "on_fishbot_error")
        logging.getLogger("fish_bot").addHandler(self.handler)

    def close(self) -> None:
        logging.getLogger("fish_bot").removeHandler(self.handler)

        async def stop() -> None:
            await self.env.shutdown()
            await self.bot.database.disconnect()

        self.run(stop())
        self.loop.close()

    # --- after each invocation ---------------------------------------------------------

    def bot_messages(self, since: int = 0) -> Iterator[Any]:
        """The bot's messages newer than ``since``.

        Each channel's messages are kept in the order they were sent, so only the new end of
        each is read: the cost of a check does not grow with the thousands of earlier ones.
        """
        bot_id = self.bot.user.id if self.bot.user else 0
        for channel in self.env.backend.messages.values():
            for message in reversed(channel.values()):
                if message.id <= since:
                    break
                if message.author_id == bot_id:
                    yield message

    def mark(self) -> int:
        """The newest message id now: messages after it are the answer to what comes next."""
        newest = (next(reversed(c.values())).id for c in self.env.backend.messages.values() if c)
        return max(newest, default=0)

    def forget_history(self, keep: int = 20) -> None:
        """Drop all but the newest messages of each channel from the simulated server.

        After a command's few hundred examples its channel holds thousands of messages, and
        ``purge`` or ``snipe`` of the next command would read all of them each time.
        """
        for channel in self.env.backend.messages.values():
            for message_id in list(channel)[:-keep]:
                del channel[message_id]

    async def end_views(self) -> None:
        """Stop the views an invocation left open (nobody will press them), then settle.

        A command waiting on a confirmation resumes as if nobody answered, and what it sends
        then is checked with the invocation. Without this, every view of every earlier
        invocation stays in the store, and SimCord scans the store at every settle.
        """
        store = self.bot._connection._view_store
        views = {id(i.view): i.view for e in store._views.values() for i in e.values() if i.view}
        views.update({id(v): v for v in store._synced_message_views.values()})
        ended = [v for v in views.values() if not v.is_persistent() and not v.is_finished()]
        for view in ended:
            view.stop()
        if ended:
            await self.env.settle()

    async def run_timers(self) -> None:
        """Advance the virtual clock past the short timers an invocation left (after its check).

        A reply sent with ``delete_after`` (a moderation notice, the AFK welcome) is deleted
        by a plain ``asyncio.sleep`` that SimCord (3.2.1) arms in real time as well. Left
        alone, it fires ten seconds later in the middle of some other command: that command's
        settle first waits for it (up to SimCord's 5 s deadline) and then, when SimCord
        advances the clock from a task of its own, can fail with "bot did not settle while
        advancing time". Advancing here, between commands, runs those timers in order. Timers
        further away than :data:`TIMER_HORIZON` (a week-long ban) cannot fire during a run.
        """
        env = self.env
        now = env._virtual_time  # SimCord has no public view of its timers
        due = [
            record.when
            for record in env._work.callbacks
            if record.real_handle is not None
            and not record.real_handle.cancelled()
            and record.when is not None
            and record.when - now <= TIMER_HORIZON
        ]
        if due:
            await env.advance_time(max(due) - now + 0.001)

    def invoke(self, what: str, action: Coroutine[Any, Any, Any]) -> None:
        """Run one invocation by the guild owner and check what the bot did: the answer and
        what its views sent once stopped, then what its short timers sent."""
        invoker = self.world.owner.id
        since = self.mark()
        self.run(action)
        self.run(self.end_views())
        self.check(what, since, invoker)
        since = self.mark()
        self.run(self.run_timers())
        self.check(f"timers after {what}", since, invoker)

    def check(self, what: str, since: int, invoker: int) -> None:
        """Assert the user-visible outcome of one invocation; resets the observations."""
        problems: list[str] = []
        problems += [f"unexpected error {u}" for u in self.observed.unexpected]
        problems += [f"reply not sent: {u}" for u in self.observed.unsent]
        for message in self.bot_messages(since):
            problems += [f"message {message.id}: {p}" for p in _message_problems(message, invoker)]
        self.observed.unexpected.clear()
        self.observed.unsent.clear()
        assert not problems, f"{what!r}:\n" + "\n".join(problems)


def _message_problems(message: Any, invoker: int) -> list[str]:
    problems = []
    content = message.content or ""
    if len(content) > limits.CONTENT_LIMIT:
        problems.append(f"content of {len(content)} characters")
    if re.search(r"error id", content, re.IGNORECASE):
        problems.append(f"apology: {content[:200]}")
    for embed in message.embeds:
        problems += _embed_problems(embed)
    if message.mention_everyone:
        problems.append("pinged @everyone/@here")
    if message.ping_role_ids:
        problems.append(f"pinged roles {message.ping_role_ids}")
    others = set(message.ping_user_ids) - {invoker} - _addressee(content)
    if others:
        problems.append(f"pinged users {sorted(others)}")
    return problems


#: A notice addressed to one member starts with an icon and their mention ("🔒 <@id>, you
#: were jailed", "⏰ <@id>, you asked me to remind you"): the ping the code opted in for.
_ADDRESSED = re.compile(r"^\S+ <@!?(\d+)>,")


def _addressee(content: str) -> set[int]:
    match = _ADDRESSED.match(content)
    return {int(match[1])} if match else set()


def _embed_problems(embed: dict[str, Any]) -> list[str]:
    problems = []
    sizes = {
        "title": (len(embed.get("title") or ""), limits.TITLE_LIMIT),
        "description": (len(embed.get("description") or ""), limits.DESCRIPTION_LIMIT),
        "footer": (len((embed.get("footer") or {}).get("text") or ""), limits.FOOTER_LIMIT),
    }
    fields = embed.get("fields") or []
    if len(fields) > limits.FIELD_COUNT_LIMIT:
        problems.append(f"{len(fields)} fields")
    total = sum(size for size, _ in sizes.values())
    for item in fields:
        name, value = len(item.get("name") or ""), len(item.get("value") or "")
        total += name + value
        if name > limits.FIELD_NAME_LIMIT or value > limits.FIELD_VALUE_LIMIT:
            problems.append(f"field of {name}/{value} characters")
    problems += [f"{key} of {size}" for key, (size, limit) in sizes.items() if size > limit]
    if total > limits.EMBED_TOTAL_LIMIT:
        problems.append(f"embed of {total} characters")
    return problems


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    data = Path(tmp_path_factory.mktemp("fuzz")) / "data"
    instance = Runner(Settings(data_dir=data, prefix="!", owner_ids=[], database_url=""))
    try:
        yield instance
    finally:
        instance.close()


def fuzz_settings(examples: int = EXAMPLES) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=os.environ.get("FISHBOT_FUZZ_RANDOM") is None,
        suppress_health_check=list(HealthCheck),
    )


# --- the commands --------------------------------------------------------------------------


def prefix_commands(bot: FishBot) -> list[commands.Command[Any, ..., Any]]:
    return sorted(
        (c for c in bot.walk_commands() if c.qualified_name not in NOT_FUZZED),
        key=lambda c: c.qualified_name,
    )


def _fuzz_prefix_command(runner: Runner, command: commands.Command[Any, ..., Any]) -> None:
    world = runner.world
    bot_id = runner.bot.user.id if runner.bot.user else 0
    # The mention prefix always works, whatever prefix a generated `config prefix` set.
    head = f"<@{bot_id}> {command.qualified_name}"

    @fuzz_settings()
    @given(arguments=prefix_arguments(world, bot_id))
    def invoke(arguments: str) -> None:
        content = limits.clip(f"{head} {arguments}".strip(), limits.CONTENT_LIMIT)
        runner.invoke(content, world.owner.send(world.bot_commands, content))

    for arguments in reversed(PREFIX_EXAMPLES):
        invoke = example(arguments=arguments)(invoke)
    invoke()


def _slash_value(runner: Runner, option: dict[str, Any], text: st.DataObject) -> Any:
    world = runner.world
    kind = option["type"]
    choices = option.get("choices")
    if choices:
        return text.draw(st.sampled_from([c["value"] for c in choices]))
    if kind == 3:  # string
        value = text.draw(hostile_text(world, runner.bot.user.id if runner.bot.user else 0))
        low, high = option.get("min_length", 0), option.get("max_length", 6000)
        value = value[:high]
        return value if len(value) >= low else value + "x" * (low - len(value))
    if kind == 4:  # integer
        low = option.get("min_value", -(2**53) + 1)
        high = option.get("max_value", 2**53 - 1)
        return text.draw(st.sampled_from([low, high, 0, 1, -1]).filter(lambda v: low <= v <= high))
    if kind == 10:  # number
        low = option.get("min_value", -1e15)
        high = option.get("max_value", 1e15)
        return text.draw(st.floats(min_value=low, max_value=high, allow_nan=False))
    if kind == 5:
        return text.draw(st.booleans())
    if kind == 6:  # user: a member still in the server (fuzzed bans and kicks remove some)
        member = text.draw(st.sampled_from([world.member, world.member2, world.owner]))
        return member if member.id in world.guild.member_ids() else world.owner
    if kind == 7:  # channel
        return text.draw(st.sampled_from([world.general, world.bot_commands]))
    if kind == 8:  # role
        return text.draw(st.sampled_from([world.member_role, world.mod_role, world.admin_role]))
    if kind == 9:  # mentionable
        return text.draw(st.sampled_from([world.owner, world.member_role]))
    return None


def slash_leaves(runner: Runner) -> list[tuple[str, dict[str, Any]]]:
    world = runner.world
    found = []
    for command in runner.env.backend.visible_commands(
        user_id=world.owner.id, channel_id=world.bot_commands.id
    ):
        if command.get("type", 1) != 1:
            continue
        for path, leaf in sim_interactions.command_leaves(command):
            name = " ".join(path)
            if name not in NOT_FUZZED:
                found.append((name, leaf))
    return sorted(found, key=lambda item: item[0])


def _fuzz_slash_command(runner: Runner, name: str, leaf: dict[str, Any]) -> None:
    world = runner.world
    options = [o for o in leaf.get("options") or [] if o["type"] != 11]
    if any(o["type"] == 11 and o.get("required") for o in leaf.get("options") or []):
        return  # needs an attachment

    @fuzz_settings()
    @given(data=st.data())
    def invoke(data: st.DataObject) -> None:
        values = {}
        for option in options:
            if option.get("required") or data.draw(st.booleans()):
                values[option["name"]] = _slash_value(runner, option, data)
        runner.invoke(f"/{name} {values}", world.owner.slash(world.bot_commands, name, **values))

    invoke()


# --- the tests -------------------------------------------------------------------------------


def _run_all(
    runner: Runner, items: Sequence[Any], fuzz: Callable[[Any], None], key: Callable[[Any], str]
) -> dict[str, str]:
    """Fuzz each item; returns the failures, by command."""
    failures: dict[str, str] = {}
    for item in items:
        name = key(item)
        if ONLY and name not in ONLY:
            continue
        try:
            fuzz(item)
        except Exception as error:  # an assertion, or SimCord refusing what the bot sent
            failures[name] = _describe(error)
        runner.forget_history()
    return failures


def _describe(error: BaseException) -> str:
    """One failure, with the sub-failures Hypothesis groups (distinct or flaky failures)."""
    text = f"{type(error).__name__}: {str(error)[:1500]}"
    if isinstance(error, BaseExceptionGroup):
        text += "".join(f"\n  - {_describe(inner)}" for inner in error.exceptions[:3])
    return text


#: The commands are fuzzed in parts, each a test of its own, so that pytest-xdist spreads
#: them over the workers (each worker has its own bot).
PARTS = 16


def _part(name: str) -> int:
    return zlib.crc32(name.encode()) % PARTS


@pytest.mark.parametrize("part", range(PARTS))
def test_fuzz_every_command(runner: Runner, part: int) -> None:
    """Every prefix and slash command of one part, then ``ping`` (prefix and slash)."""
    prefix = prefix_commands(runner.bot)
    slash = slash_leaves(runner)
    assert len(prefix) > 40 and len(slash) > 40  # every built-in cog's commands are loaded
    failures = _run_all(
        runner,
        [c for c in prefix if _part(c.qualified_name) == part],
        lambda command: _fuzz_prefix_command(runner, command),
        lambda command: command.qualified_name,
    )
    failures |= _run_all(
        runner,
        [item for item in slash if _part(item[0]) == part],
        lambda item: _fuzz_slash_command(runner, *item),
        lambda item: f"/{item[0]}",
    )
    report = "\n\n".join(f"{name}: {why}" for name, why in sorted(failures.items()))
    assert not failures, f"{len(failures)} command(s) failed under fuzzing:\n{report}"
    _still_answers_ping(runner)


def _still_answers_ping(runner: Runner) -> None:
    world = runner.world
    bot_id = runner.bot.user.id if runner.bot.user else 0
    since = runner.mark()
    runner.run(world.owner.send(world.general, f"<@{bot_id}> ping"))
    answers = list(runner.bot_messages(since))
    assert [m.content for m in answers] == ["Pong!"]
    result = runner.run(world.owner.slash(world.general, "ping"))
    assert result.response is not None and result.response.content == "Pong!"


def test_every_command_is_in_a_part(runner: Runner) -> None:
    names = [c.qualified_name for c in prefix_commands(runner.bot)]
    names += [name for name, _ in slash_leaves(runner)]
    assert {_part(name) for name in names} == set(range(PARTS))
