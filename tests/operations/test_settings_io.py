"""``fish-bot settings export`` and ``fish-bot settings import``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fish_bot.config import Settings
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.operations.settings_io import (
    SettingsFileError,
    declared_settings,
    plan_import,
)

from .conftest import Instance, rows, run

GUILD = 123456789012345678
OTHER_GUILD = 223456789012345678
ROLE = 323456789012345678
CHANNEL = 423456789012345678


async def populate(db: DatabaseCoordinator) -> None:
    """Values as the bot stores them (already normalised: durations in seconds)."""
    settings = db.cog_setting
    await settings.set_value("example", "count_step", 5)
    await settings.set_value("example", "tick_interval", 300)  # time.minutes: 5m
    await settings.set_value("example", "max_reminder_delay", 7200)  # time.hours: 2h
    await settings.set_value("example", "cache_save_interval", 90)  # time.seconds: 1m 30s
    await settings.set_value("example", "greeting", "Hi from guild!", GUILD)
    await settings.set_value("example", "tags", ["a", "b"], GUILD)
    await settings.set_value("example", "reminder_channel", CHANNEL, GUILD)
    await settings.set_value("example", "count_messages", True, OTHER_GUILD)
    await settings.set_value("core", "allowed_channels", [CHANNEL], GUILD)
    # framework state: not exported
    await settings.set_value("example", "__paused__", True, GUILD)
    await settings.set_value("__bot__", "__app_commands_hash__", "abc")
    permissions = db.permissions
    await permissions.set_rule(GUILD, "ping", "role", ROLE, allow=False)
    await permissions.set_rule(GUILD, "cog list", "channel", CHANNEL, allow=True)
    await permissions.set_role_rank(GUILD, ROLE, 5)
    await permissions.set_command_rank(OTHER_GUILD, "settings set", 3)


def declared(values: dict[str, Any]) -> dict[str, Any]:
    """Rows without the framework state that export leaves out."""
    return {key: value for key, value in values.items() if not key[2].startswith("__")}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_round_trip_into_a_fresh_database(
    make_instance: Callable[[str], Instance], db_backend: str, suffix: str, tmp_path: Path
) -> None:
    source = make_instance("source")
    run(lambda: source.with_db(populate))
    file = tmp_path / f"settings{suffix}"

    result = source.cli("settings", "export", str(file))
    assert result.exit_code == 0, result.output
    document = (
        yaml.safe_load(file.read_text()) if suffix == ".yaml" else json.loads(file.read_text())
    )
    example = document["settings"]["global"]["example"]
    assert example["tick_interval"] == "5m"
    assert example["max_reminder_delay"] == "2h"
    assert example["cache_save_interval"] == "1m 30s"
    assert document["settings"]["guilds"][str(GUILD)]["example"]["reminder_channel"] == CHANNEL
    assert "__paused__" not in json.dumps(document)
    assert "__bot__" not in document["settings"]["global"]
    assert document["permissions"][str(GUILD)]["role_ranks"] == {str(ROLE): 5}

    target = make_instance("target")  # a fresh, empty database
    result = target.cli("settings", "import", str(file))
    assert result.exit_code == 0, result.output
    assert "Imported 9 settings, 2 rules, 1 role ranks, 1 command ranks" in result.output

    before, after = rows(source), rows(target)
    assert after["settings"] == declared(before["settings"])
    assert after["rules"] == before["rules"]
    assert after["roles"] == before["roles"]
    assert after["commands"] == before["commands"]


def test_bad_values_are_all_listed_and_nothing_changes(
    make_instance: Callable[[str], Instance], db_backend: str, tmp_path: Path
) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(populate))
    before = rows(instance)
    file = tmp_path / "bad.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "format": "fish-bot-settings",
                "version": 1,
                "settings": {
                    "global": {"Example": {"count_step": 7, "greeting": "fine"}},
                    "guilds": {str(GUILD): {"Example": {"count_step": 500, "tick_interval": "2h"}}},
                },
                "permissions": {str(GUILD): {"role_ranks": {str(ROLE): 7}}},
            }
        )
    )
    result = instance.cli("settings", "import", str(file))
    assert result.exit_code != 0
    output = " ".join(result.output.split())
    assert "2 problems" in output
    assert f"Example.count_step (guild {GUILD})" in output
    assert "range(1,100)" in output
    assert f"Example.tick_interval (guild {GUILD})" in output
    assert "time.minutes(1,60)" in output
    assert "nothing was changed" in output
    assert rows(instance) == before  # the good values were not written either


def test_unknown_cogs_settings_and_bad_rules_are_errors(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    file = tmp_path / "bad.json"
    file.write_text(
        json.dumps(
            {
                "settings": {
                    "global": {"NoSuchCog": {"x": 1}, "Example": {"no_such_setting": 1}},
                },
                "permissions": {
                    str(GUILD): {
                        "rules": [
                            {"command": "ping", "target": "user", "id": ROLE, "allow": True},
                            {"command": "", "target": "role", "id": "x", "allow": "yes"},
                        ],
                        "command_ranks": {"ping": 11},
                    }
                },
            }
        )
    )
    result = instance.cli("settings", "import", str(file))
    assert result.exit_code != 0
    output = " ".join(result.output.split())
    assert "NoSuchCog (global): unknown cog" in output
    assert "Example.no_such_setting (global): Example has no setting 'no_such_setting'" in output
    assert "rule 1: target must be 'role' or 'channel'" in output
    assert "rule 2: Name a command." in output
    assert "rule 2: id must be a role or channel id" in output
    assert "rule 2: allow must be true or false" in output
    assert "command_ranks > ping: A permission rank is a whole number from 0 to 10" in output
    assert "7 problems" in output


def test_replace_clears_what_the_file_does_not_hold(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(populate))
    file = tmp_path / "small.yaml"
    file.write_text(yaml.safe_dump({"settings": {"global": {"Example": {"count_step": 9}}}}))
    result = instance.cli("settings", "import", "--replace", str(file))
    assert result.exit_code == 0, result.output
    after = rows(instance)
    assert declared(after["settings"]) == {("example", 0, "count_step"): 9}
    # framework state survives a replace
    assert after["settings"][("example", GUILD, "__paused__")] is True
    assert after["rules"] == {} and after["roles"] == {} and after["commands"] == {}


def test_import_refuses_while_the_bot_runs(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    from fish_bot.operations.lock import RunLock

    instance = make_instance("one")
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump({"settings": {"global": {"Example": {"count_step": 9}}}}))
    with RunLock(instance.data_dir):
        result = instance.cli("settings", "import", str(file))
    assert result.exit_code == 1
    assert "running" in result.output


def test_export_needs_a_known_file_type(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    result = make_instance("one").cli("settings", "export", str(tmp_path / "s.txt"))
    assert result.exit_code == 2
    assert ".yaml, .yml or .json" in result.output


def test_declared_settings_need_no_discord_and_touch_no_disk(tmp_path: Path) -> None:
    catalog = declared_settings(Settings(data_dir=tmp_path / "never"))
    assert {"allowed_channels", "tick_interval"} <= set(catalog.specs["example"])
    assert catalog.specs["example"]["tick_interval"].rules.kind == "duration"
    assert catalog.packages["core"] == "fish_bot.cogs.admin"
    assert not (tmp_path / "never").exists()


def test_plan_normalises_values_like_the_commands_do(tmp_path: Path) -> None:
    catalog = declared_settings(Settings(data_dir=tmp_path))
    plan = plan_import(
        {"settings": {"global": {"Example": {"tick_interval": "1h", "count_step": 3}}}},
        catalog,
    )
    assert sorted(plan.settings) == [
        ("example", 0, "count_step", 3),
        ("example", 0, "tick_interval", 3600),
    ]
    with pytest.raises(SettingsFileError) as caught:
        plan_import({"version": 99}, catalog)
    assert "version 1" in str(caught.value)
