"""Declared settings: a cog's ``settings_config`` parsed into :class:`SettingSpec` entries.

Each spec holds a setting's default (checked against its own rules), description and compiled
validator rules (:mod:`fish_bot.core.settings.validators`). :class:`BaseCog` parses its class's
declaration with :func:`parse_settings_config`; the
:class:`~fish_bot.core.settings.manager.ConfigManager` validates every write with the spec.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fish_bot.core.settings.validators import RuleSet, compile_rules
from fish_bot.exceptions import SettingsConfigError, SettingValidationError

__all__ = ["INTERNAL_PREFIX", "SettingSpec", "parse_settings_config"]

#: Prefix of internal state keys (pause state) that are stored like settings but not declared.
INTERNAL_PREFIX = "__"


@dataclass(frozen=True)
class SettingSpec:
    """One declared setting: default, description and compiled rules."""

    name: str
    default: Any
    description: str
    rules: RuleSet
    rule_text: str

    def describe(self) -> str:
        rules = self.rules.describe()
        return f"{self.description} ({rules})" if rules else self.description


def parse_settings_config(cog: str, config: Mapping[str, Any]) -> dict[str, SettingSpec]:
    """Turn a cog's ``settings_config`` into specs; a malformed entry raises SettingsConfigError.

    Each entry is ``name: (default, description[, validators])``. The default must pass its
    own rules (it is normalised by them: a ``time.minutes`` default of 5 is read as 300 s).
    """
    specs: dict[str, SettingSpec] = {}
    for name, entry in config.items():
        where = f"cog {cog!r}, setting {name!r}"
        if not isinstance(name, str) or not name or name.startswith(INTERNAL_PREFIX):
            raise SettingsConfigError(f"{where}: setting names must be non-empty text")
        if not isinstance(entry, tuple) or not 2 <= len(entry) <= 3:
            raise SettingsConfigError(
                f"{where}: expected (default, description) or (default, description, validators)"
            )
        default, description = entry[0], entry[1]
        raw_rules = entry[2] if len(entry) == 3 else None
        if not isinstance(description, str):
            raise SettingsConfigError(f"{where}: the description must be text")
        try:
            rules = compile_rules(raw_rules, setting=name)
        except SettingsConfigError as error:
            raise SettingsConfigError(f"cog {cog!r}: {error}") from None
        if default is not None:
            try:
                default = rules.validate(copy.deepcopy(default))
            except SettingValidationError as error:
                raise SettingsConfigError(
                    f"{where}: the default {default!r} breaks its own rule {error.rule!r}: "
                    f"{error.reason}"
                ) from None
        specs[name] = SettingSpec(name, default, description, rules, _rule_text(raw_rules))
    return specs


def _rule_text(raw: Any) -> str:
    if raw is None:
        return ""
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return ", ".join(
        item if isinstance(item, str) else getattr(item, "__name__", "check") for item in items
    )
