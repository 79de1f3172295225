"""The permission model's layers are an ordered tuple, and the docs list them in that order."""

from __future__ import annotations

import re
from pathlib import Path

from fish_bot.core.permissions import PERMISSION_LAYERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


def test_the_documented_order_is_the_tuple() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### How a command is judged", 1)[1].split("\n#", 1)[0]
    documented = re.findall(r"^\d+\. `([a-z_]+)`", section, flags=re.MULTILINE)
    assert documented == [layer.key for layer in PERMISSION_LAYERS]


def test_every_layer_has_its_own_key_and_label() -> None:
    keys = [layer.key for layer in PERMISSION_LAYERS]
    labels = [layer.label for layer in PERMISSION_LAYERS]
    assert len(set(keys)) == len(keys) and len(set(labels)) == len(labels)
    assert keys[0] == "owner" and keys[-1] == "rank"
