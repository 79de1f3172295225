"""RuleSet: the compiled rules of one setting, run in order."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from fish_bot.core.settings.validators.convert import (
    _json_or_text,
)
from fish_bot.core.settings.validators.rules import (
    Validator,
)
from fish_bot.exceptions import SettingValidationError

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)


# --- the rule set --------------------------------------------------------------------------


class RuleSet:
    """The compiled rules of one setting, run in order.

    Each rule receives the previous rule's normalized value. Errors carry the setting's name and
    the failing rule's text.
    """

    def __init__(self, rules: Sequence[Validator] = (), *, setting: str = "") -> None:
        self.rules: list[Validator] = list(rules)
        self.setting = setting

    @property
    def converter(self) -> Validator | None:
        """The rule that converts command text: the most specific type-defining rule."""
        best: Validator | None = None
        for rule in self.rules:
            priority = rule.conversion_priority
            if priority and (best is None or priority > best.conversion_priority):
                best = rule
        return best

    @property
    def kind(self) -> str | None:
        """The declared type (``"int"``, ``"duration"``, ``"channel"``, ``"list"`` ...) or None."""
        converter = self.converter
        return None if converter is None else converter.kind

    def validate(self, value: Any, *, guild: discord.Guild | None = None) -> Any:
        """Run every rule in order and return the normalized value.

        Raises :class:`SettingValidationError` naming the setting and the failing rule, and
        nothing else, whatever the value.
        """
        current = value
        for rule in self.rules:
            try:
                current = rule.validate(current, guild=guild)
            except SettingValidationError as exc:
                raise SettingValidationError(
                    exc.reason, setting=self.setting, rule=exc.rule or rule.rule
                ) from None
            except Exception as exc:  # a bug in a rule: refuse, never crash the command
                log.exception("rule %r of setting %r crashed", rule.rule, self.setting)
                raise SettingValidationError(
                    "is not a valid value", setting=self.setting, rule=rule.rule
                ) from exc
        return current

    def convert_text(self, text: str) -> Any:
        """Turn text typed in a Discord command into the declared type, before :meth:`validate`.

        Numbers, true/false words, lists (JSON or comma-separated), dictionaries (JSON),
        durations, mentions and IDs. Without a declared type: JSON when the text is JSON, else
        the text. Text that does not convert is returned as it is, for :meth:`validate` to
        refuse. Raises only :class:`SettingValidationError`.
        """
        if not isinstance(text, str):
            return text
        converter = self.converter
        try:
            if converter is None:
                return _json_or_text(text)
            return converter.convert_text(text)
        except SettingValidationError as exc:
            raise exc.with_setting(self.setting) from None
        except Exception:
            log.exception("converting text for setting %r crashed", self.setting)
            return text

    def describe(self) -> str:
        """A human-readable summary: ``"integer, between 60 and 3600"``."""
        if not self.rules:
            return "any value"
        return ", ".join(rule.describe() for rule in self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Validator]:
        return iter(self.rules)

    def __repr__(self) -> str:
        return f"<RuleSet {self.setting!r} {[rule.rule for rule in self.rules]!r}>"
