"""``FISHBOT_DJANGO_SETTINGS_MODULE``: the one variable that turns the Django bridge on."""

from __future__ import annotations

import pytest

from fish_bot.config import Settings, load_settings
from fish_bot.exceptions import ConfigurationError


def test_it_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FISHBOT_DJANGO_SETTINGS_MODULE", " mysite.settings ")
    assert Settings().django_settings_module == "mysite.settings"


def test_djangos_own_variable_does_not_turn_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FISHBOT_DJANGO_SETTINGS_MODULE", raising=False)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "somewhere.settings")
    assert Settings().django_settings_module == ""
    monkeypatch.setenv("FISHBOT_DJANGO_SETTINGS_MODULE", "mysite.settings")
    assert Settings().django_settings_module == "mysite.settings"


def test_a_value_that_is_no_module_path_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FISHBOT_DJANGO_SETTINGS_MODULE", "my site/settings.py")
    with pytest.raises(
        ConfigurationError, match="FISHBOT_DJANGO_SETTINGS_MODULE: must be a dotted"
    ):
        load_settings()
