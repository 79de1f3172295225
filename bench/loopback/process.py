"""Start a bot process (``fish-bot run`` or the bare discord.py bot) against a FakeDiscord.

The process gets the loopback ``sitecustomize`` on ``PYTHONPATH``, a token of the right shape,
its own data folder (and working directory, so no ``.env`` is read) and, for Fish Bot, SQLite
in that folder unless a database URL is given.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from loopback.fake_discord import FakeDiscord, Guild, Member

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
BARE_BOT = HERE / "bare_bot.py"
TOKEN = "MTQ0NDQ0NDQ0NDQ0NDQ0NDQ0NA.GbEnCh.bench-loopback-token-0123456789"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def fish_command() -> list[str]:
    script = Path(sys.executable).parent / "fish-bot"
    if script.exists():
        return [str(script), "run"]
    return [sys.executable, "-c", "from fish_bot.cli import main; main()", "run"]


class BotProcess:
    """One bot process and what the driver reads from it (CPU, memory, database counters)."""

    #: Where the bot processes keep their compiled bytecode (``PYTHONPYCACHEPREFIX``), shared
    #: by every start of a run. A bot runs as an installed one does: Python writes ``.pyc``
    #: files at the first import and reads them afterwards, even where the driver's own
    #: environment says ``PYTHONDONTWRITEBYTECODE`` (which would recompile every library
    #: at every start: 1.5 s of Fish Bot's and 0.35 s of the bare bot's start-up here).
    bytecode_cache: Path | None = None

    def __init__(
        self,
        kind: str,
        fake: FakeDiscord,
        folder: Path,
        *,
        database_url: str = "",
        db_stats: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        if kind not in ("fish", "bare"):
            raise ValueError(kind)
        self.kind = kind
        self.fake = fake
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.stats_path = folder / "db-stats.json" if db_stats else None
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.log_path = folder / "bot.log"

    @property
    def label(self) -> str:
        return "Fish Bot" if self.kind == "fish" else "bare discord.py"

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FISHBOT_", "DISCORD_", "SENTRY_"))
            or key.startswith("FISHBOT_BENCH_")
        }
        # FISHBOT_LOOPBACK_SRC: run the bot from another source tree (a "before" checkout).
        paths = [str(SITE)]
        source = os.environ.get("FISHBOT_LOOPBACK_SRC")
        if source:
            paths.append(source)
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        if self.bytecode_cache is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.bytecode_cache)
        env.update(self.fake.environment())
        env["DISCORD_TOKEN"] = TOKEN
        env["FISHBOT_DATA_DIR"] = str(self.folder / "data")
        env["FISHBOT_LOG_LEVEL"] = "WARNING"
        env["FISHBOT_OWNER_IDS"] = ""
        if self.database_url:
            env["FISHBOT_DATABASE_URL"] = self.database_url
        if self.stats_path is not None:
            env["FISHBOT_LOOPBACK_DB_STATS"] = str(self.stats_path)
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        command = fish_command() if self.kind == "fish" else [sys.executable, str(BARE_BOT)]
        log = self.log_path.open("ab")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=self.folder,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_ready(self, guild: Guild, channel: str = "general", within: float = 90) -> float:
        """Wait until the bot answers ``!ping`` in ``guild``; returns seconds since start."""
        deadline = time.perf_counter() + within
        while not self.fake.identified.is_set():
            if not self.alive():
                raise RuntimeError(f"{self.label} exited:\n{self.log_tail()}")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.label} never identified:\n{self.log_tail()}")
            await asyncio.sleep(0.05)
        # discord.py waits guild_ready_timeout (2 s) after the last GUILD_CREATE for more.
        await asyncio.sleep(2.2)
        author = next(iter(self.fake.members_of(guild)))
        while True:
            if not self.alive():
                raise RuntimeError(f"{self.label} exited:\n{self.log_tail()}")
            channel_id = guild.channel(channel)["id"]
            waiter = asyncio.ensure_future(
                self.fake.wait_for(self.fake.expect_reply(channel_id, "Pong"), within=1.0)
            )
            await asyncio.sleep(0)
            await self.fake.message(guild, channel, author, "!ping")
            try:
                await waiter
                return time.perf_counter() - self.started_at
            except TimeoutError:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{self.label} never answered:\n{self.log_tail()}") from None

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    async def db_counts(self) -> dict[str, int]:
        """The process's database round trips so far (needs ``db_stats=True``)."""
        assert self.stats_path is not None
        before = self.stats_path.stat().st_mtime_ns if self.stats_path.exists() else 0
        os.kill(self.pid, signal.SIGUSR1)
        for _ in range(200):
            await asyncio.sleep(0.01)
            if self.stats_path.exists() and self.stats_path.stat().st_mtime_ns != before:
                data: dict[str, Any] = json.loads(self.stats_path.read_text())
                return {key: int(value) for key, value in data.items()}
        raise TimeoutError("the bot did not write its database counters")

    async def stop(self, within: float = 20) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            for _ in range(int(within * 20)):
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def first_member(fake: FakeDiscord, guild: Guild) -> Member:
    return fake.members_of(guild)[0]
