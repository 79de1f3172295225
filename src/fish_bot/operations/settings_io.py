"""``fish-bot settings export|import``: every cog setting and every permission rule in a file.

The file (YAML for ``.yaml``/``.yml``, JSON for ``.json``) looks like this::

    format: fish-bot-settings
    version: 1
    exported_at: '2026-01-01T12:00:00+00:00'
    settings:
      global:                    # guild_id 0 in the cog_setting table
        example:                 # the cog's slug
          count_step: 2
          tick_interval: 5m      # durations are written with units
      guilds:
        '123456789012345678':
          example:
            greeting: Hi!
    permissions:
      '123456789012345678':
        rules:
          - {command: ban, target: role, id: 234567890123456789, allow: true}
        role_ranks: {'234567890123456789': 5}
        command_ranks: {ban: 3}

Export reads the database directly (no bot, no Discord). Framework state that is not a declared
setting (pause flags, the slash-command hash: keys starting with ``__``) is not exported.

Reading is bounded (:mod:`fish_bot.operations.settings_file`): an oversized, too deeply nested,
alias-bomb or non-UTF-8 file is refused with one line.

Import checks everything before it changes anything: each setting must belong to a cog this
installation can load and be declared by it, and its value must pass the setting's rules (the
same validation as a command); each permission rule must name a role or channel id, a command
name and, for ranks, a number from 0 to 10. Every problem is listed, and if there is one the
database is left as it was. Then everything is written in one transaction.

The declared settings come from
:func:`fish_bot.operations.settings_catalog.declared_settings`
(no bot, no Discord, no database).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord.utils
import sqlalchemy as sa

from fish_bot.core.durations import format_duration
from fish_bot.core.text import clip
from fish_bot.exceptions import SettingValidationError, UserFacingError

if TYPE_CHECKING:
    from fish_bot.core.settings.manager import SettingSpec
    from fish_bot.database.coordinator import DatabaseCoordinator

from fish_bot.operations.settings_catalog import CogCatalog
from fish_bot.operations.settings_file import SettingsFileError, _name, shown

FORMAT = "fish-bot-settings"
VERSION = 1
GLOBAL_SCOPE = 0
#: CogSetting "cog" that holds the bot's own state, and the prefix of internal keys.
BOT_STATE_COG = "__bot__"
INTERNAL_PREFIX = "__"
#: Ids are stored in signed 64-bit columns: a Discord id is below 2**63.
SNOWFLAKE_LIMIT = 2**63
_SNOWFLAKE_TEXT = re.compile(r"[0-9]{1,19}")


# --- export ------------------------------------------------------------------------------------


def _export_value(spec: SettingSpec | None, value: Any) -> Any:
    """Durations become text with units, so that any ``time.*`` rule reads them back exactly."""
    if (
        spec is not None
        and spec.rules.kind == "duration"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return format_duration(int(value))
    return value


async def export_settings(
    db: DatabaseCoordinator, catalog: CogCatalog
) -> tuple[dict[str, Any], list[str]]:
    """The export document and warnings (values of cogs or settings that are not declared)."""
    warnings: list[str] = []
    rows = await db.cog_setting.find_all(
        order_by=[
            db.cog_setting.table.c.guild_id,
            db.cog_setting.table.c.cog,
            db.cog_setting.table.c.key,
        ]
    )
    global_values: dict[str, dict[str, Any]] = {}
    guild_values: dict[str, dict[str, dict[str, Any]]] = {}
    unknown: set[str] = set()
    for row in rows:
        if row.cog == BOT_STATE_COG or row.key.startswith(INTERNAL_PREFIX):
            continue
        spec = catalog.spec(row.cog, row.key)
        if spec is None:
            unknown.add(f"{row.cog}.{row.key}")
        value = _export_value(spec, row.value)
        if row.guild_id == GLOBAL_SCOPE:
            target = global_values.setdefault(row.cog, {})
        else:
            target = guild_values.setdefault(str(row.guild_id), {}).setdefault(row.cog, {})
        target[row.key] = value
    if unknown:
        warnings.append(
            "Exported values that no loadable cog declares (an import will refuse them "
            "unless that cog is installed): " + ", ".join(sorted(unknown))
        )

    controller = db.permissions
    permissions: dict[str, dict[str, Any]] = {}

    def guild_entry(guild_id: int) -> dict[str, Any]:
        return permissions.setdefault(
            str(guild_id), {"rules": [], "role_ranks": {}, "command_ranks": {}}
        )

    for rule in await controller.find_all(order_by=list(controller.table.primary_key.columns)):
        guild_entry(rule.guild_id)["rules"].append(
            {
                "command": rule.command,
                "target": rule.target_type,
                "id": int(rule.target_id),
                "allow": bool(rule.allow),
            }
        )
    role_table = controller.role_ranks.table
    for role in await controller.role_ranks.find_all(
        order_by=[role_table.c.guild_id, role_table.c.role_id]
    ):
        guild_entry(role.guild_id)["role_ranks"][str(role.role_id)] = int(role.rank)
    command_table = controller.command_ranks.table
    for command in await controller.command_ranks.find_all(
        order_by=[command_table.c.guild_id, command_table.c.command]
    ):
        guild_entry(command.guild_id)["command_ranks"][command.command] = int(command.rank)

    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": discord.utils.utcnow().isoformat(timespec="seconds"),
        "settings": {"global": global_values, "guilds": guild_values},
        "permissions": permissions,
    }
    return document, warnings


# --- import: validation ------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """Everything a valid file holds, normalised and ready to write."""

    settings: list[tuple[str, int, str, Any]] = field(default_factory=list)
    rules: list[tuple[int, str, str, int, bool]] = field(default_factory=list)
    role_ranks: list[tuple[int, int, int]] = field(default_factory=list)
    command_ranks: list[tuple[int, str, int]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "settings": len(self.settings),
            "rules": len(self.rules),
            "role ranks": len(self.role_ranks),
            "command ranks": len(self.command_ranks),
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
        guilds = self.mapping(top.get("guilds"), "settings > guilds")
        for raw_id, guild_cogs in (guilds or {}).items():
            guild_id = _snowflake(raw_id)
            if guild_id is None:
                self.problem(f"settings > guilds > {shown(raw_id)}: {_NOT_AN_ID % 'guild'}")
                continue
            where = f"settings > guilds > {guild_id}"
            cogs = self.mapping(guild_cogs, where)
            for cog, values in (cogs or {}).items():
                self.cog_values(cog, values, guild_id, where)

    # permissions

    def permissions(self, section: Any) -> None:
        guilds = self.mapping(section, "permissions")
        for raw_id, entry in (guilds or {}).items():
            guild_id = _snowflake(raw_id)
            if guild_id is None:
                self.problem(f"permissions > {shown(raw_id)}: {_NOT_AN_ID % 'guild'}")
                continue
            where = f"permissions > guild {guild_id}"
            body = self.mapping(entry, where)
            if body is None:
                continue
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
    if version != VERSION:
        checker.problem(
            f"version: this Fish Bot reads version {VERSION} files, got {shown(version)} "
            "(a newer Fish Bot wrote it?)"
        )
    for key in document:
        if key not in ("format", "version", "exported_at", "settings", "permissions"):
            checker.problem(f"unknown top-level key '{_name(key)}'")
    checker.settings(document.get("settings"))
    checker.permissions(document.get("permissions"))
    if checker.problems:
        for package, why in sorted(catalog.problems.items()):
            checker.problem(f"(note: cog package {package} could not be inspected: {why})")
        raise SettingsFileError(checker.problems)
    return checker.plan


# --- import: writing ---------------------------------------------------------------------------


async def apply_import(
    db: DatabaseCoordinator, plan: ImportPlan, *, replace: bool = False
) -> dict[str, int]:
    """Write a checked plan in one transaction (``replace``: clear stored values first)."""
    settings_table = db.cog_setting.table
    permissions = db.permissions
    async with db.transaction():
        if replace:
            await db.cog_setting.delete_where(
                [
                    settings_table.c.cog != BOT_STATE_COG,
                    sa.not_(settings_table.c.key.startswith(INTERNAL_PREFIX, autoescape=True)),
                ]
            )
            await permissions.delete_where([sa.true()])
            await permissions.role_ranks.delete_where([sa.true()])
            await permissions.command_ranks.delete_where([sa.true()])
        for cog, guild_id, name, value in plan.settings:
            await db.cog_setting.set_value(cog, name, value, guild_id)
        for guild_id, command, target, target_id, allow in plan.rules:
            await permissions.set_rule(guild_id, command, target, target_id, allow=allow)
        for guild_id, role_id, rank in plan.role_ranks:
            await permissions.set_role_rank(guild_id, role_id, rank)
        for guild_id, command, rank in plan.command_ranks:
            await permissions.set_command_rank(guild_id, command, rank)
    return plan.counts()
