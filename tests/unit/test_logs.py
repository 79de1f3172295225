"""Logging: JSON lines, the rotating file, settings wiring."""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.logging import RichHandler

from fish_bot.config import Settings
from fish_bot.logs import (
    JsonFormatter,
    _listeners,
    _stop_listeners,
    setup_logging,
    setup_logging_from_settings,
)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    _stop_listeners()
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, "_fishbot_handler", False)]


def test_json_formatter_writes_one_object_per_record() -> None:
    record = logging.LogRecord(
        "fish_bot.cogs.example", logging.WARNING, __file__, 1, "hello %s", ("fish",), None
    )
    record.guild_id = 123  # passed with extra=
    payload = json.loads(JsonFormatter().format(record))
    assert payload["level"] == "WARNING"
    assert payload["logger"] == "fish_bot.cogs.example"
    assert payload["message"] == "hello fish"
    assert payload["guild_id"] == 123
    assert payload["time"].endswith("+00:00")
    assert "exc_info" not in payload


def test_json_formatter_keeps_the_traceback() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    payload = json.loads(JsonFormatter().format(record))
    assert "ValueError: bad" in payload["exc_info"]
    assert "\n" not in JsonFormatter().format(record)  # one line


def test_json_lines_on_the_console_instead_of_rich() -> None:
    stream = io.StringIO()
    setup_logging("INFO", json_lines=True, stream=stream)
    assert not any(isinstance(h, RichHandler) for h in ours())
    logging.getLogger("fish_bot.test").info("one %d", 1, extra={"cog": "Example"})
    logging.getLogger("fish_bot.test").debug("hidden")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["message"] == "one 1"
    assert json.loads(lines[0])["cog"] == "Example"


def test_rotating_file_from_settings(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "fish_bot.log"
    settings = Settings(
        data_dir=tmp_path,
        log_level="DEBUG",
        log_file=log_file,
        log_file_max_bytes=2048,
        log_file_backups=2,
        log_json=True,
    )
    setup_logging_from_settings(settings)
    assert logging.getLogger().level == logging.DEBUG
    queue_handlers = [h for h in ours() if isinstance(h, logging.handlers.QueueHandler)]
    assert len(queue_handlers) == 1 and len(_listeners) == 1
    (file_handler,) = _listeners[0].handlers
    assert isinstance(file_handler, logging.handlers.RotatingFileHandler)
    assert file_handler.maxBytes == 2048
    assert file_handler.backupCount == 2
    assert Path(file_handler.baseFilename) == log_file

    logger = logging.getLogger("fish_bot.rotation")
    for number in range(200):
        logger.info("line %03d %s", number, "x" * 40)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("Error abcd1234 in command ping")
    _stop_listeners()  # drains the queue

    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["fish_bot.log", "fish_bot.log.1", "fish_bot.log.2"]
    for path in log_file.parent.iterdir():
        assert path.stat().st_size <= 2048 + 512
        for line in path.read_text().splitlines():
            json.loads(line)
    last = json.loads(log_file.read_text().splitlines()[-1])
    assert last["message"] == "Error abcd1234 in command ping"
    assert "RuntimeError: boom" in last["exc_info"]


def test_plain_text_file_and_idempotent_setup(tmp_path: Path) -> None:
    log_file = tmp_path / "bot.log"
    setup_logging("INFO", log_file=log_file)
    setup_logging("INFO", log_file=log_file)  # replaces, never doubles
    assert len(ours()) == 2 and len(_listeners) == 1
    logging.getLogger("fish_bot.x").warning("plain %s", "text")
    _stop_listeners()
    (line,) = log_file.read_text().splitlines()
    assert line.endswith("WARNING  fish_bot.x: plain text")


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FISHBOT_LOG_JSON", "true")
    monkeypatch.setenv("FISHBOT_LOG_FILE", str(tmp_path / "x.log"))
    monkeypatch.setenv("FISHBOT_HEALTH_PORT", "9100")
    settings = Settings(data_dir=tmp_path)
    assert settings.log_json is True
    assert settings.log_file == tmp_path / "x.log"
    assert settings.health_port == 9100
    assert settings.health_host == "127.0.0.1"
    monkeypatch.setenv("FISHBOT_HEALTH_PORT", "")
    monkeypatch.setenv("FISHBOT_LOG_FILE", "")
    settings = Settings(data_dir=tmp_path)
    assert settings.health_port is None and settings.log_file is None
