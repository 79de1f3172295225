"""Cluster mode's shard options: parsing, validation, guild ownership (core/cluster.py)."""

from __future__ import annotations

import pytest

from fish_bot.config import load_settings
from fish_bot.core.cluster import (
    ClusterInfo,
    format_shard_ids,
    parse_shard_ids,
    shard_of,
    validate_shards,
)
from fish_bot.exceptions import ConfigurationError


def test_ranges_and_single_ids_are_parsed_sorted() -> None:
    assert parse_shard_ids("0-3,5") == (0, 1, 2, 3, 5)
    assert parse_shard_ids(" 7 , 2-3 ") == (2, 3, 7)
    assert parse_shard_ids([4, 1]) == (1, 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0-3,2", "shard 2 is named twice"),
        ("1,1", "shard 1 is named twice"),
        ("3-1", "runs backwards"),
        ("a", "is not a shard id or range"),
        ("0,,1", "empty item"),
        ("", "no shard ids given"),
        ("-1", "is not a shard id or range"),
    ],
)
def test_bad_shard_ids_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shard_ids(text)


def test_ids_must_fit_the_count_and_need_one() -> None:
    assert validate_shards(4, "0-3") == (4, (0, 1, 2, 3))
    with pytest.raises(ValueError, match="shard 4 is outside the shard count 4"):
        validate_shards(4, "0-4")
    with pytest.raises(ValueError, match="need a shard count"):
        validate_shards(None, "0")
    with pytest.raises(ValueError, match="between 1 and"):
        validate_shards(0, None)


def test_settings_errors_are_one_line_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(shard_count=4, shard_ids="0-4")
    text = str(caught.value)
    assert "\n" not in text
    assert "FISHBOT_SHARD_IDS" in text and "outside the shard count 4" in text
    with pytest.raises(ConfigurationError, match="FISHBOT_SHARD_IDS: shard 2 is named twice"):
        load_settings(shard_count=4, shard_ids="0-2,2")
    with pytest.raises(ConfigurationError, match="FISHBOT_DISCORD_API_BASE"):
        load_settings(discord_api_base="proxy:8080")


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FISHBOT_SHARD_COUNT", "8")
    monkeypatch.setenv("FISHBOT_SHARD_IDS", "4-7")
    monkeypatch.setenv("FISHBOT_CLUSTER_NAME", "eu-2")
    settings = load_settings()
    node = ClusterInfo.from_settings(settings)
    assert (node.node_name, node.shard_count, node.shard_ids) == ("eu-2", 8, (4, 5, 6, 7))
    assert node.clustered
    assert node.lock_scope == "shards-4-7-of-8"


def test_without_options_one_process_owns_every_guild() -> None:
    node = ClusterInfo.from_settings(load_settings())
    assert node.shard_count is None and not node.clustered
    assert node.owns_guild(123 << 22) and node.owns_guild(None)
    assert node.lock_scope is None
    assert node.node_name.endswith(f"-{node.pid}")


def test_a_guild_belongs_to_the_shard_of_discords_rule() -> None:
    node = ClusterInfo("a", shard_count=4, shard_ids=(0, 1))
    on_shard_1 = (5 << 22) | 999  # (5 % 4) == 1
    on_shard_2 = 6 << 22
    assert shard_of(on_shard_1, 4) == 1
    assert node.owns_guild(on_shard_1)
    assert not node.owns_guild(on_shard_2)
    assert node.owns_guild(None)  # jobs without a guild: any node may run them
    all_shards = ClusterInfo("b", shard_count=4, shard_ids=(0, 1, 2, 3))
    assert not all_shards.clustered


def test_shard_ids_are_shown_as_ranges() -> None:
    assert format_shard_ids((0, 1, 2, 3, 5, 7, 8)) == "0-3,5,7-8"
    assert format_shard_ids(None) == "all"
    assert ClusterInfo("a", 4, (0, 1)).describe() == "node 'a' (shards 0-1 of 4)"
