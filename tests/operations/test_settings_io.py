"""``fish-bot settings export`` and ``fish-bot settings import``."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fish_bot.config import Settings
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.operations.settings_catalog import declared_settings
from fish_bot.operations.settings_file import SettingsFileError
from fish_bot.operations.settings_io import plan_import

from .conftest import PG_URL, Instance, rows, run

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
    configs = db.guild_config
    await configs.update_config(
        GUILD, prefix="?", mod_log_channel_id=CHANNEL, jail_role_id=ROLE, reason_required=True
    )
    await configs.update_config(OTHER_GUILD, prefix="fish!", member_log_channel_id=CHANNEL)


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
    assert document["version"] == 2
    config = document["guild_config"][str(GUILD)]
    assert config["prefix"] == "?" and config["reason_required"] is True
    assert config["mod_log_channel_id"] == CHANNEL and config["jail_role_id"] == ROLE
    assert config["message_log_channel_id"] is None
    assert document["guild_config"][str(OTHER_GUILD)]["prefix"] == "fish!"

    target = make_instance("target")  # a fresh, empty database
    result = target.cli("settings", "import", str(file))
    assert result.exit_code == 0, result.output
    assert (
        "Imported 9 settings, 2 rules, 1 role ranks, 1 command ranks, 2 guild configurations"
        in result.output
    )

    before, after = rows(source), rows(target)
    assert after["settings"] == declared(before["settings"])
    assert after["rules"] == before["rules"]
    assert after["roles"] == before["roles"]
    assert after["commands"] == before["commands"]
    assert after["configs"] == before["configs"]


@pytest.mark.parametrize("target_backend", ["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def test_export_from_sqlite_imports_into_another_database_losing_nothing(
    make_instance: Callable[[str], Instance],
    new_database: Callable[[str], str],
    tmp_path: Path,
    target_backend: str,
) -> None:
    """The move of docs/operations.md by file: SQLite export, import into PostgreSQL."""
    source = make_instance("source")  # the default SQLite file
    run(lambda: source.with_db(populate))
    file = tmp_path / "move.yaml"
    assert source.cli("settings", "export", str(file)).exit_code == 0

    target = make_instance("target")
    target.database_url = new_database(target_backend)
    result = target.cli("settings", "import", str(file))
    assert result.exit_code == 0, result.output

    before, after = rows(source), rows(target)
    assert after["configs"] == before["configs"] and len(after["configs"]) == 2
    assert after["settings"] == declared(before["settings"])
    for part in ("rules", "roles", "commands"):
        assert after[part] == before[part] and after[part], part


def test_export_on_a_new_install_writes_a_valid_empty_file(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("new")
    file = tmp_path / "empty.json"
    result = instance.cli("settings", "export", str(file))
    assert result.exit_code == 0, result.output
    assert "Exported 0 setting values, the configuration of 0 guilds" in result.output
    document = json.loads(file.read_text())
    assert document["format"] == "fish-bot-settings" and document["version"] == 2
    assert document["settings"] == {"global": {}, "guilds": {}}
    assert document["permissions"] == {} and document["guild_config"] == {}
    assert not instance.data_dir.exists()  # no database was created to export it

    imported = make_instance("other").cli("settings", "import", str(file))
    assert imported.exit_code == 0, imported.output
    assert "Imported 0 settings" in imported.output


def test_bad_guild_configuration_is_listed_and_nothing_changes(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(populate))
    before = rows(instance)
    file = tmp_path / "config.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "settings": {"global": {"Example": {"count_step": 7}}},
                "guild_config": {
                    str(GUILD): {
                        "prefix": "two words",
                        "mod_log_channel_id": "general",
                        "reason_required": "yes",
                        "colour": "blue",
                    },
                    str(OTHER_GUILD): {"prefix": "x" * 17, "jail_role_id": 2**63},
                    "not-a-guild": {},
                },
            }
        )
    )
    result = instance.cli("settings", "import", str(file))
    output = refused(result)
    assert "7 problems" in output
    where = f"guild_config > guild {GUILD}"
    assert f"{where} > prefix: A prefix cannot contain spaces" in output
    assert f"{where} > mod_log_channel_id: must be an id (a number below 2**63) or null" in output
    assert f"{where} > reason_required: must be true or false, got 'yes'" in output
    assert f"{where}: unknown key 'colour' (expected prefix," in output
    assert f"guild {OTHER_GUILD} > prefix: That prefix is 17 characters long" in output
    assert f"guild {OTHER_GUILD} > jail_role_id: must be an id" in output
    assert "guild_config > 'not-a-guild': not a guild id" in output
    assert rows(instance) == before


def test_a_version_1_file_still_imports(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    file = tmp_path / "old.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "format": "fish-bot-settings",
                "version": 1,
                "settings": {"global": {"example": {"count_step": 4}}},
                "permissions": {str(GUILD): {"role_ranks": {str(ROLE): 2}}},
            }
        )
    )
    instance = make_instance("one")
    result = instance.cli("settings", "import", str(file))
    assert result.exit_code == 0, result.output
    assert rows(instance)["roles"] == {(GUILD, ROLE): 2}


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
    assert after["configs"] == {}  # guild configurations not in the file are gone too


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


# --- files an operator is handed: bounded parsing, one line per problem ---------------------


def alias_bomb(levels: int = 9, where: str = "format") -> str:
    """A few hundred bytes of YAML that expand to 9**levels strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnop"[:levels]
    for previous, current in itertools.pairwise(names):
        lines.append(f"{current}: &{current} [" + ",".join([f"*{previous}"] * 9) + "]")
    last = names[-1]
    if where == "format":
        lines.append(f"format: *{last}")
    else:
        lines.append(f"settings: {{global: {{Example: {{greeting: *{last}}}}}}}")
    return "\n".join(lines) + "\n"


def refused(result: Any) -> str:
    """The output of a command that refused cleanly: exit code 1, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize("where", ["format", "a setting value"])
def test_an_alias_bomb_is_refused_in_one_line(
    make_instance: Callable[[str], Instance], tmp_path: Path, where: str
) -> None:
    file = tmp_path / "bomb.yaml"
    file.write_text(alias_bomb(where=where), encoding="utf-8")
    assert file.stat().st_size < 600
    result = make_instance("one").cli("settings", "import", str(file))
    output = refused(result)
    assert len(result.output) < 500
    assert "bomb.yaml is refused: it holds more than 1,000,000 values" in output


def test_a_recursive_alias_and_many_aliases_are_refused(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    file = tmp_path / "loop.yaml"
    file.write_text("settings: &s {global: {Example: {tags: *s}}}\n", encoding="utf-8")
    assert "a YAML alias refers to a value that contains it" in refused(
        instance.cli("settings", "import", str(file))
    )
    file.write_text("a: &a x\nb: [" + ", ".join(["*a"] * 10_001) + "]\n", encoding="utf-8")
    assert "more than 10000 YAML aliases" in refused(instance.cli("settings", "import", str(file)))


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_deep_nesting_is_refused_in_one_line(
    make_instance: Callable[[str], Instance], tmp_path: Path, suffix: str
) -> None:
    file = tmp_path / f"deep{suffix}"
    file.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = make_instance("one").cli("settings", "import", str(file))
    assert f"deep{suffix} is refused: it is nested deeper than 32 levels" in refused(result)


def test_a_file_that_is_not_utf8_is_refused_in_one_line(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    file = tmp_path / "latin1.yaml"
    file.write_bytes("settings: {global: {Example: {greeting: 'café'}}}\n".encode("latin-1"))
    result = make_instance("one").cli("settings", "import", str(file))
    assert "latin1.yaml is not UTF-8 text (byte 0xe9 at offset 44)" in refused(result)


def test_a_file_over_the_size_limit_is_refused(
    make_instance: Callable[[str], Instance], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fish_bot.operations import settings_file

    monkeypatch.setattr(settings_file, "MAX_FILE_BYTES", 1024 * 1024)
    file = tmp_path / "huge.json"
    file.write_text(json.dumps({"settings": {"global": {"x": "y" * 1024 * 1024}}}))
    result = make_instance("one").cli("settings", "import", str(file))
    assert "huge.json is refused: it is larger than 1 MiB" in refused(result)


def test_unicode_digit_and_out_of_range_ids_are_one_line_each(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    instance = make_instance("one")
    run(lambda: instance.with_db(populate))
    before = rows(instance)
    file = tmp_path / "ids.yaml"
    file.write_text(
        f"""
settings:
  guilds:
    '②③': {{Example: {{greeting: hi}}}}
    '{2**63}': {{Example: {{greeting: hi}}}}
permissions:
  '①': {{}}
  {2**64}: {{}}
  '{GUILD}':
    rules:
      - {{command: ping, target: role, id: '²', allow: true}}
      - {{command: ping, target: role, id: {2**63}, allow: true}}
    role_ranks: {{'{2**63}': 3, '⁵': 2, '{ROLE}': {2**80}}}
""",
        encoding="utf-8",
    )
    result = instance.cli("settings", "import", str(file))
    output = refused(result)
    assert "9 problems" in output
    assert "settings > guilds > '②③': not a guild id (a number below 2**63)" in output
    assert f"settings > guilds > '{2**63}': not a guild id" in output
    assert "permissions > '①': not a guild id" in output
    assert f"permissions > {2**64}: not a guild id" in output
    assert "rule 1: id must be a role or channel id (a number below 2**63), got '²'" in output
    assert f"rule 2: id must be a role or channel id (a number below 2**63), got {2**63}" in output
    assert f"role_ranks > {2**63}: not a role id" in output
    assert "role_ranks > ⁵: not a role id" in output
    assert rows(instance) == before
    problems = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert len(problems) == 9
    assert "from 0 to 10; 1208925819614629174706176 is not" in output


def test_every_shown_value_is_clipped(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    file = tmp_path / "long.json"
    huge = "x" * 100_000
    file.write_text(
        json.dumps(
            {
                "format": huge,
                "version": [huge] * 50,
                huge: 1,
                "settings": {huge: {"a": 1}, "global": {"Example": {huge: 1, "greeting": huge}}},
                "permissions": {
                    huge: {},
                    str(GUILD): {
                        "rules": [{"command": huge, "target": huge, "id": huge, "allow": huge}],
                        "role_ranks": {huge: huge},
                        "command_ranks": {"ping": huge, huge: 1},
                    },
                },
            }
        ),
        encoding="utf-8",
    )
    result = make_instance("one").cli("settings", "import", str(file))
    refused(result)
    lines = result.output.splitlines()
    assert len(lines) > 10
    assert all(len(line) <= 310 for line in lines), max(len(line) for line in lines)
    assert len(result.output) < 6000


def test_a_thousand_problems_are_counted_and_fifty_listed(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    file = tmp_path / "many.json"
    file.write_text(json.dumps({"permissions": {f"x{n}": {} for n in range(1000)}}))
    result = make_instance("one").cli("settings", "import", str(file))
    output = refused(result)
    assert "1000 problems" in output
    assert "... and 950 more" in output
    assert len(result.output.splitlines()) == 52


def test_a_folder_is_not_read_as_a_settings_file(
    make_instance: Callable[[str], Instance], tmp_path: Path
) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    result = make_instance("one").cli("settings", "import", str(folder))
    assert "folder.yaml is not a regular file" in refused(result)
