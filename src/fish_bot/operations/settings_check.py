"""Checking a settings file for ``fish-bot settings import`` before anything is written.

:func:`plan_import` checks a whole document (the format is described in
:mod:`fish_bot.operations.settings_io`) and returns an :class:`ImportPlan` of normalised values,
or raises :class:`~fish_bot.operations.settings_file.SettingsFileError` listing every problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from fish_bot.core.text import clip
from fish_bot.exceptions import SettingValidationError, UserFacingError
from fish_bot.operations.settings_catalog import CogCatalog
from fish_bot.operations.settings_file import SettingsFileError, _name, shown

FORMAT = "fish-bot-settings"
VERSION = 2
#: Versions this Fish Bot reads (1 had no ``guild_config`` section).
READABLE_VERSIONS = (1, 2)
GLOBAL_SCOPE = 0
#: Ids are stored in signed 64-bit columns: a Discord id is below 2**63.
SNOWFLAKE_LIMIT = 2**63
_SNOWFLAKE_TEXT = re.compile(r"[0-9]{1,19}")


# --- guild configuration -------------------------------------------------------------------------


def config_columns() -> list[str]:
    """The guild_config columns a file holds: every column but the guild id."""
    from fish_bot.database.models import GuildConfig

    table = GuildConfig.__table__  # type: ignore[attr-defined]
    return [column.name for column in table.columns if column.name != "guild_id"]


def config_value(column: str, value: Any) -> Any:
    """A guild_config value from a file, checked against its column; UserFacingError if bad."""
    from fish_bot.database.models import GuildConfig

    table = GuildConfig.__table__  # type: ignore[attr-defined]
    kind = table.c[column].type
    if value is None:
        if not table.c[column].nullable:
            raise UserFacingError("must be set (null is not allowed)")
        return None
    if column == "prefix":
        from fish_bot.cogs.server_config.utils import validate_prefix

        if not isinstance(value, str):
            raise UserFacingError(f"a prefix is text; {shown(value)} is not")
        return validate_prefix(value)
    if isinstance(kind, sa.Boolean):
        if not isinstance(value, bool):
            raise UserFacingError(f"must be true or false, got {shown(value)}")
        return value
    if isinstance(kind, sa.BigInteger):
        snowflake = _snowflake(value)
        if snowflake is None:
            raise UserFacingError(
                f"must be an id (a number below 2**63) or null, got {shown(value)}"
            )
        return snowflake
    if isinstance(kind, sa.Integer):
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**31:
            raise UserFacingError(f"must be a whole number, got {shown(value)}")
        return value
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            raise UserFacingError(f"must be text, got {shown(value)}")
        if kind.length is not None and len(value) > kind.length:
            raise UserFacingError(f"must be at most {kind.length} characters, got {len(value)}")
        return value
    raise UserFacingError(f"cannot be imported (a {type(kind).__name__} column)")


# --- import: validation ------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """Everything a valid file holds, normalised and ready to write."""

    settings: list[tuple[str, int, str, Any]] = field(default_factory=list)
    rules: list[tuple[int, str, str, int, bool]] = field(default_factory=list)
    role_ranks: list[tuple[int, int, int]] = field(default_factory=list)
    command_ranks: list[tuple[int, str, int]] = field(default_factory=list)
    guild_configs: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "settings": len(self.settings),
            "rules": len(self.rules),
            "role ranks": len(self.role_ranks),
            "command ranks": len(self.command_ranks),
            "guild configurations": len(self.guild_configs),
        }


_NOT_AN_ID = "not a %s id (a number below 2**63)"


def _scope(guild_id: int) -> str:
    return "global" if guild_id == GLOBAL_SCOPE else f"guild {guild_id}"


def _snowflake(value: Any) -> int | None:
    """A Discord id from an int or ASCII digit text below 2**63, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _SNOWFLAKE_TEXT.fullmatch(text):
            return None
        value = int(text)
    if isinstance(value, int) and 0 < value < SNOWFLAKE_LIMIT:
        return value
    return None


def _rank(value: Any) -> int:
    """A rank from the file (validated without quoting a huge value)."""
    from fish_bot.core.permission_store import validate_rank

    if isinstance(value, bool) or not isinstance(value, int):
        raise UserFacingError(
            f"A permission rank is a whole number from 0 to 10; {shown(value)} is not."
        )
    return validate_rank(value)


def _command(value: Any) -> str:
    from fish_bot.core.permission_store import validate_command_name

    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UserFacingError(f"A command is named by text; {shown(value)} is not.")
    return validate_command_name(clip(str(value), 200))


class _Checker:
    def __init__(self, catalog: CogCatalog) -> None:
        self.catalog = catalog
        self.problems: list[str] = []
        self.plan = ImportPlan()

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def mapping(self, value: Any, where: str) -> Mapping[Any, Any] | None:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(f"{where}: expected a mapping, got {type(value).__name__}")
            return None
        return value

    def guilds(
        self, section: Any, where: str, guild: str = "guild "
    ) -> Iterator[tuple[int, str, Mapping[Any, Any]]]:
        """The entries of a mapping keyed by guild id (``permissions``, ``guild_config``,
        ``settings > guilds``): each guild's id, its place for problems (``where > guild 1``)
        and its mapping. A bad id, or an entry that is not a mapping, is a problem and left out.
        """
        for raw_id, entry in (self.mapping(section, where) or {}).items():
            guild_id = _snowflake(raw_id)
            if guild_id is None:
                self.problem(f"{where} > {shown(raw_id)}: {_NOT_AN_ID % 'guild'}")
                continue
            place = f"{where} > {guild}{guild_id}"
            body = self.mapping(entry, place)
            if body is not None:
                yield guild_id, place, body

    # settings

    def cog_values(self, cog: Any, values: Any, guild_id: int, where: str) -> None:
        entries = self.mapping(values, f"{where} > {_name(cog)}")
        if entries is None:
            return
        scope = self.catalog.resolve(str(cog))  # a slug, or a display name (any case)
        specs = self.catalog.specs.get(scope)
        if specs is None:
            known = ", ".join(sorted(self.catalog.specs)) or "none"
            self.problem(
                f"{_name(cog)} ({_scope(guild_id)}): unknown cog (the cogs this installation "
                f"can load: {known})"
            )
            return
        for name, value in entries.items():
            spec = specs.get(str(name))
            if spec is None:
                self.problem(
                    f"{cog}.{_name(name)} ({_scope(guild_id)}): {cog} has no setting "
                    f"'{_name(name)}' (its settings: {', '.join(sorted(specs)) or 'none'})"
                )
                continue
            try:
                normalised = spec.rules.validate(value)
            except SettingValidationError as error:
                rule = f" (rule: {error.rule})" if error.rule else ""
                reason = clip(str(error.reason), 200)
                self.problem(f"{cog}.{name} ({_scope(guild_id)}): {reason}{rule}")
                continue
            self.plan.settings.append((scope, guild_id, str(name), normalised))

    def settings(self, section: Any) -> None:
        top = self.mapping(section, "settings")
        if top is None:
            return
        for key in top:
            if key not in ("global", "guilds"):
                self.problem(
                    f"settings: unknown section '{_name(key)}' (expected global and guilds)"
                )
        cogs = self.mapping(top.get("global"), "settings > global")
        for cog, values in (cogs or {}).items():
            self.cog_values(cog, values, GLOBAL_SCOPE, "settings > global")
        for guild_id, where, guild_cogs in self.guilds(top.get("guilds"), "settings > guilds", ""):
            for cog, values in guild_cogs.items():
                self.cog_values(cog, values, guild_id, where)

    # permissions

    def permissions(self, section: Any) -> None:
        for guild_id, where, body in self.guilds(section, "permissions"):
            for key in body:
                if key not in ("rules", "role_ranks", "command_ranks"):
                    self.problem(
                        f"{where}: unknown section '{_name(key)}' "
                        "(expected rules, role_ranks and command_ranks)"
                    )
            rules = body.get("rules") or []
            if not isinstance(rules, list):
                self.problem(f"{where} > rules: expected a list")
                rules = []
            for number, rule in enumerate(rules, start=1):
                self.rule(guild_id, rule, f"{where} > rule {number}")
            ranks = self.mapping(body.get("role_ranks"), f"{where} > role_ranks") or {}
            for raw_role, rank in ranks.items():
                role_id = _snowflake(raw_role)
                spot = f"{where} > role_ranks > {_name(raw_role)}"
                if role_id is None:
                    self.problem(f"{spot}: {_NOT_AN_ID % 'role'}")
                    continue
                try:
                    self.plan.role_ranks.append((guild_id, role_id, _rank(rank)))
                except UserFacingError as error:
                    self.problem(f"{spot}: {error.message}")
            commands = self.mapping(body.get("command_ranks"), f"{where} > command_ranks") or {}
            for command, rank in commands.items():
                spot = f"{where} > command_ranks > {_name(command)}"
                try:
                    name = _command(command)
                    self.plan.command_ranks.append((guild_id, name, _rank(rank)))
                except UserFacingError as error:
                    self.problem(f"{spot}: {error.message}")

    def guild_configs(self, section: Any) -> None:
        columns = config_columns()
        for guild_id, where, body in self.guilds(section, "guild_config"):
            values: dict[str, Any] = {}
            for key, value in body.items():
                if key not in columns:
                    self.problem(
                        f"{where}: unknown key '{_name(key)}' (expected {', '.join(columns)})"
                    )
                    continue
                try:
                    values[key] = config_value(key, value)
                except UserFacingError as error:
                    self.problem(f"{where} > {key}: {clip(error.message, 200)}")
            self.plan.guild_configs.append((guild_id, values))

    def rule(self, guild_id: int, rule: Any, where: str) -> None:
        if not isinstance(rule, Mapping):
            self.problem(f"{where}: expected a mapping with command, target, id and allow")
            return
        bad = False
        extra = sorted(
            _name(key) for key in rule if key not in ("command", "target", "id", "allow")
        )
        if extra:
            listed = ", ".join(extra[:5]) + (", ..." if len(extra) > 5 else "")
            self.problem(f"{where}: unknown keys {listed}")
            bad = True
        try:
            command = _command(rule.get("command", ""))
        except UserFacingError as error:
            self.problem(f"{where}: {error.message}")
            bad = True
        target = rule.get("target")
        if target not in ("role", "channel"):
            self.problem(f"{where}: target must be 'role' or 'channel', got {shown(target)}")
            bad = True
        target_id = _snowflake(rule.get("id"))
        if target_id is None:
            self.problem(
                f"{where}: id must be a role or channel id (a number below 2**63), "
                f"got {shown(rule.get('id'))}"
            )
            bad = True
        allow = rule.get("allow")
        if not isinstance(allow, bool):
            self.problem(f"{where}: allow must be true or false, got {shown(allow)}")
            bad = True
        if not bad:
            assert target_id is not None and isinstance(allow, bool)
            self.plan.rules.append((guild_id, command, str(target), target_id, allow))


def plan_import(document: Any, catalog: CogCatalog) -> ImportPlan:
    """Check a whole settings document; raises :class:`SettingsFileError` listing every problem."""
    checker = _Checker(catalog)
    if not isinstance(document, Mapping):
        raise SettingsFileError(["the file does not hold a mapping (see docs/operations.md)"])
    if document.get("format", FORMAT) != FORMAT:
        checker.problem(f"format: expected {FORMAT!r}, got {shown(document.get('format'))}")
    version = document.get("version", VERSION)
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        checker.problem(
            f"version: this Fish Bot reads version 1 and 2 files, got {shown(version)} "
            "(a newer Fish Bot wrote it?)"
        )
    known = ("format", "version", "exported_at", "settings", "permissions", "guild_config")
    for key in document:
        if key not in known:
            checker.problem(f"unknown top-level key '{_name(key)}'")
    checker.settings(document.get("settings"))
    checker.permissions(document.get("permissions"))
    checker.guild_configs(document.get("guild_config"))
    if checker.problems:
        for package, why in sorted(catalog.problems.items()):
            checker.problem(f"(note: cog package {package} could not be inspected: {why})")
        raise SettingsFileError(checker.problems)
    return checker.plan
