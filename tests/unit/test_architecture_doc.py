"""docs/architecture.md stays true: the modules it names exist, it names every framework and
data-layer module, and the error policy's order it lists is the order in the code."""

from __future__ import annotations

import re
from pathlib import Path

from fish_bot.core.error_policy import RULES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "fish_bot"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
NAMED = re.compile(r"`((?:core|database|cogs|monitoring|operations)/[\w/]*(?:\.py|/))`")


def test_every_module_the_page_names_exists() -> None:
    named = set(NAMED.findall(DOC))
    assert len(named) > 20
    missing = [path for path in sorted(named) if not (PACKAGE / path).exists()]
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_the_page_names_every_framework_and_data_layer_module() -> None:
    named = set(NAMED.findall(DOC))
    for package in ("core", "database"):
        for entry in sorted((PACKAGE / package).iterdir()):
            if entry.name.startswith("_") or entry.name == "py.typed":
                continue
            if entry.is_dir():
                wanted = f"{package}/{entry.name}/"
            elif entry.suffix == ".py":
                wanted = f"{package}/{entry.name}"
            else:
                continue
            assert wanted in named, f"docs/architecture.md does not describe {wanted}"


def test_the_error_rules_are_listed_in_the_policy_order() -> None:
    block = DOC.split("<!-- error-rules -->", 1)[1].split("<!-- /error-rules -->", 1)[0]
    listed = re.findall(r"^\d+\. `(\w+)`", block, flags=re.MULTILINE)
    assert listed == [rule.name for rule in RULES]


def test_the_readme_sends_readers_of_the_code_here() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in readme
