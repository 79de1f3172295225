"""The audit entries of setting changes, noted when a value changes and written with it.

:class:`~fish_bot.core.settings.manager.ConfigManager` notes each change of a declared setting
(and of a module's pause state) when it is made, with who made it (the audit ``ACTOR`` of the
command being handled) and the value it replaced. The batch that stores the values writes the
notes in the same transaction, so a change and its entry commit or roll back together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fish_bot.database.controllers.audit import ACTOR, AuditChange
from fish_bot.database.models.core import GLOBAL_SCOPE

if TYPE_CHECKING:
    from fish_bot.database.coordinator import DatabaseCoordinator

#: The internal key whose changes are audited as module state (the others are bookkeeping).
PAUSED_KEY = "__paused__"


@dataclass(frozen=True)
class SettingChange:
    """One noted change: the scope, the setting, who, from what, to what (None: not set)."""

    cog: str
    scope: int
    name: str
    actor_id: int | None
    old: Any
    new: Any


class SettingsAudit:
    """Changes noted since the last stored batch."""

    def __init__(self) -> None:
        self._noted: list[SettingChange] = []

    def note(self, cog: str, scope: int, name: str, old: Any, new: Any) -> None:
        """Note a change (nothing for framework bookkeeping keys or an unchanged value)."""
        if cog.startswith("__") or (name.startswith("__") and name != PAUSED_KEY):
            return
        if old != new:
            self._noted.append(SettingChange(cog, scope, name, ACTOR.get(), old, new))

    def take(self) -> list[SettingChange]:
        """The changes noted so far (they belong to the batch being stored now)."""
        taken, self._noted = self._noted, []
        return taken

    @staticmethod
    async def write(db: DatabaseCoordinator, changes: list[SettingChange]) -> None:
        """Write the entries (inside the batch's transaction), in one statement."""
        entries: list[AuditChange] = []
        for change in changes:
            guild_id = None if change.scope == GLOBAL_SCOPE else change.scope
            if change.name == PAUSED_KEY:
                action, target = "module", change.cog
                old, new = (
                    ("paused" if change.old else "running"),
                    ("paused" if change.new else "running"),
                )
            else:
                action, target = "setting", f"{change.cog}.{change.name}"
                old, new = change.old, change.new
            entries.append(AuditChange(guild_id, action, target, old, new, change.actor_id))
        await db.audit.log_actions(entries)
