"""``fish-bot settings export|import``: cog settings, guild configuration and permission rules.

The file (YAML for ``.yaml``/``.yml``, JSON for ``.json``) looks like this::

    format: fish-bot-settings
    version: 2
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
    guild_config:                # the guild_config rows (``config`` commands)
      '123456789012345678':
        prefix: '?'
        mod_log_channel_id: 234567890123456789
        jail_role_id: null
        reason_required: true

Version 1 files (without ``guild_config``) are still read. Export reads the database directly
(no bot, no Discord) and creates nothing: a new install gives a valid, empty file. Framework
state that is not a declared setting (pause flags, the slash-command hash: keys starting with
``__``) is not exported.

Reading is bounded (:mod:`fish_bot.operations.settings_file`): an oversized, too deeply nested,
alias-bomb or non-UTF-8 file is refused with one line.

Import checks everything before it changes anything: each setting must belong to a cog this
installation can load and be declared by it, and its value must pass the setting's rules (the
same validation as a command); each permission rule must name a role or channel id, a command
name and, for ranks, a number from 0 to 10. Every problem is listed, and if there is one the
database is left as it was. Then everything is written in one transaction. A
``guild_config`` entry is checked column by column against the ``guild_config`` table (ids are
snowflakes or null, flags are booleans, the prefix follows the ``config prefix`` rules), so a
column added to the model is exported and imported without changes here.

The declared settings come from
:func:`fish_bot.operations.settings_catalog.declared_settings`
(no bot, no Discord, no database).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord.utils
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from fish_bot.core.durations import format_duration
from fish_bot.exceptions import FishBotError

if TYPE_CHECKING:
    from fish_bot.config import Settings
    from fish_bot.core.settings.specs import SettingSpec
    from fish_bot.database.coordinator import DatabaseCoordinator
    from fish_bot.database.service import DatabaseService

from fish_bot.operations.settings_catalog import CogCatalog
from fish_bot.operations.settings_check import (
    FORMAT,
    GLOBAL_SCOPE,
    READABLE_VERSIONS,
    VERSION,
    ImportPlan,
    config_columns,
    plan_import,
)

__all__ = ["FORMAT", "READABLE_VERSIONS", "VERSION", "ImportPlan", "plan_import"]
__all__ += ["apply_import", "empty_document", "export_from_settings", "export_settings"]
#: CogSetting "cog" that holds the bot's own state, and the prefix of internal keys.
BOT_STATE_COG = "__bot__"
INTERNAL_PREFIX = "__"


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

    config_table = db.guild_config.table
    guild_configs: dict[str, dict[str, Any]] = {}
    for config in await db.guild_config.find_all(order_by=[config_table.c.guild_id]):
        guild_configs[str(config.guild_id)] = {
            column: getattr(config, column) for column in config_columns()
        }

    document = empty_document()
    document["settings"] = {"global": global_values, "guilds": guild_values}
    document["permissions"] = permissions
    document["guild_config"] = guild_configs
    return document, warnings


def empty_document() -> dict[str, Any]:
    """A valid export that holds nothing (a new install)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": discord.utils.utcnow().isoformat(timespec="seconds"),
        "settings": {"global": {}, "guilds": {}},
        "permissions": {},
        "guild_config": {},
    }


def summary(document: Mapping[str, Any]) -> str:
    """What an export holds, in words ("3 setting values, the configuration of 2 guilds...")."""
    values = sum(len(v) for v in document["settings"]["global"].values()) + sum(
        len(v) for cogs in document["settings"]["guilds"].values() for v in cogs.values()
    )
    return (
        f"{values} setting values, the configuration of {len(document['guild_config'])} guilds "
        f"and the permissions of {len(document['permissions'])} guilds"
    )


async def export_from_settings(
    settings: Settings, catalog: CogCatalog
) -> tuple[dict[str, Any], list[str]]:
    """Export the configured database; an install without one gives :func:`empty_document`.

    Nothing is created: a missing SQLite file or an empty database is an empty export.
    """
    from fish_bot.database import migrations
    from fish_bot.database.coordinator import DatabaseCoordinator
    from fish_bot.database.service import DatabaseService

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        in_file = bool(path) and path != ":memory:" and not path.startswith("file:")
        if in_file and not await asyncio.to_thread(Path(path).is_file):
            return empty_document(), []
    service = DatabaseService.from_settings(settings)
    await service.connect()
    try:
        if await migrations.current_revision(service) is None:
            return empty_document(), []
        return await export_settings(DatabaseCoordinator(service), catalog)
    finally:
        await service.disconnect()


async def ensure_schema_for_import(service: DatabaseService, settings: Settings) -> None:
    """Import needs the newest schema: upgrade it (refused when automatic upgrades are off)."""
    from fish_bot.database import migrations

    current = await migrations.current_revision(service)
    head = migrations.head_revision()
    if current == head:
        return
    if not settings.migrate_on_start:
        raise FishBotError(
            f"the database is at {current or 'base'}, not {head}: run `fish-bot db upgrade`"
        )
    await migrations.upgrade(service)


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
            await db.guild_config.delete_where([sa.true()])
        for cog, guild_id, name, value in plan.settings:
            await db.cog_setting.set_value(cog, name, value, guild_id)
        for guild_id, command, target, target_id, allow in plan.rules:
            await permissions.set_rule(guild_id, command, target, target_id, allow=allow)
        for guild_id, role_id, rank in plan.role_ranks:
            await permissions.set_role_rank(guild_id, role_id, rank)
        for guild_id, command, rank in plan.command_ranks:
            await permissions.set_command_rank(guild_id, command, rank)
        for guild_id, values in plan.guild_configs:
            await db.guild_config.get_or_create_config(guild_id)
            if values:
                await db.guild_config.update_config(guild_id, **values)
    return plan.counts()
