"""DatabaseCoordinator: the lazy controller hub, one per bot, handed to every cog as ``self.db``.

Controllers are created on first use and reused (``bot.db.guild``, ``bot.db.guild_config``...):
each built-in controller is a typed property. A feature package registers its own controller
on the bot's hub with :meth:`DatabaseCoordinator.register` and reads it back, typed, with
:meth:`DatabaseCoordinator.get`::

    bot.db.register("levels", lambda hub: LevelsController(hub.service))
    levels = bot.db.get("levels", LevelsController)

Factories receive the hub, so a controller that needs a sibling takes it from the hub
(``CaseController(hub.service, guilds=hub.guild)``): every controller, and every call a
controller makes on a sibling, goes through the hub's instrumentation (Sentry spans).
Registrations belong to one hub: two bots in one process do not share them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncSession

from fish_bot.database.controllers import (
    BaseController,
    CogSettingController,
    GuildConfigController,
    GuildController,
)
from fish_bot.database.controllers.adverts import AdvertController
from fish_bot.database.controllers.afk import AfkController
from fish_bot.database.controllers.audit import AuditController
from fish_bot.database.controllers.cases import CaseController
from fish_bot.database.controllers.cluster import ClusterNodeController
from fish_bot.database.controllers.levels import LevelsController
from fish_bot.database.controllers.permissions import PermissionController
from fish_bot.database.controllers.reminders import (
    ReminderController,
    ReminderPreferenceController,
)
from fish_bot.database.controllers.scheduler import ScheduledJobController
from fish_bot.database.controllers.snippets import SnippetController
from fish_bot.database.service import DatabaseService

ControllerFactory = Callable[["DatabaseCoordinator"], BaseController[Any]]
Instrumentation = Callable[[str, BaseController[Any]], None]
C = TypeVar("C", bound=BaseController[Any])


def _builtin_factories() -> dict[str, ControllerFactory]:
    return {
        "guild": lambda hub: GuildController(hub.service),
        "guild_config": lambda hub: GuildConfigController(
            hub.service, guilds=hub.guild, audit=hub.audit
        ),
        "cog_setting": lambda hub: CogSettingController(hub.service),
        "scheduled_job": lambda hub: ScheduledJobController(hub.service),
        "permissions": lambda hub: PermissionController(hub.service, guilds=hub.guild),
        "case": lambda hub: CaseController(hub.service, guilds=hub.guild),
        "afk": lambda hub: AfkController(hub.service, guilds=hub.guild),
        "snippet": lambda hub: SnippetController(hub.service, guilds=hub.guild),
        "reminder": lambda hub: ReminderController(hub.service),
        "reminder_preference": lambda hub: ReminderPreferenceController(hub.service),
        "audit": lambda hub: AuditController(hub.service),
        "levels": lambda hub: LevelsController(hub.service, guilds=hub.guild),
        "advert": lambda hub: AdvertController(hub.service),
        "cluster_node": lambda hub: ClusterNodeController(hub.service),
    }


class DatabaseCoordinator:
    """Lazily creates and caches controllers that share one DatabaseService."""

    def __init__(self, service: DatabaseService) -> None:
        self.service = service
        self._factories: dict[str, ControllerFactory] = _builtin_factories()
        self._controllers: dict[str, BaseController[Any]] = {}
        #: Applied once to each controller when it is created (Sentry spans); None: nothing.
        self.instrumentation: Instrumentation | None = None

    def register(self, name: str, factory: ControllerFactory) -> None:
        """Make ``get(name)`` available on this hub (a feature's controller).

        ``factory(hub)`` builds the controller on first use. Registering the same factory
        again is a no-op; another factory under a taken name is refused.
        """
        existing = self._factories.get(name)
        if existing is not None and existing is not factory:
            raise ValueError(f"a controller named {name!r} is already registered")
        self._factories[name] = factory

    def registered(self) -> list[str]:
        """The names of every controller this hub can build."""
        return sorted(self._factories)

    @overload
    def get(self, name: str) -> BaseController[Any]: ...

    @overload
    def get(self, name: str, kind: type[C]) -> C: ...

    def get(self, name: str, kind: type[BaseController[Any]] | None = None) -> BaseController[Any]:
        """The controller called ``name``, created on first use.

        With ``kind``, the controller is checked to be one (and typed as one).
        """
        controller = self._controllers.get(name)
        if controller is None:
            factory = self._factories.get(name)
            if factory is None:
                raise KeyError(f"no controller named {name!r} is registered")
            controller = factory(self)
            if self.instrumentation is not None:
                self.instrumentation(name, controller)
            self._controllers[name] = controller
        if kind is not None and not isinstance(controller, kind):
            raise TypeError(
                f"the controller {name!r} is a {type(controller).__name__}, not a {kind.__name__}"
            )
        return controller

    def instrument(self, instrumentation: Instrumentation) -> None:
        """Apply ``instrumentation(name, controller)`` to every controller, now and later."""
        self.instrumentation = instrumentation
        for name, controller in self._controllers.items():
            instrumentation(name, controller)

    @property
    def audit(self) -> AuditController:
        return self.get("audit", AuditController)

    @property
    def case(self) -> CaseController:
        return self.get("case", CaseController)

    @property
    def levels(self) -> LevelsController:
        return self.get("levels", LevelsController)

    @property
    def afk(self) -> AfkController:
        return self.get("afk", AfkController)

    @property
    def snippet(self) -> SnippetController:
        return self.get("snippet", SnippetController)

    @property
    def guild(self) -> GuildController:
        return self.get("guild", GuildController)

    @property
    def guild_config(self) -> GuildConfigController:
        return self.get("guild_config", GuildConfigController)

    @property
    def cog_setting(self) -> CogSettingController:
        return self.get("cog_setting", CogSettingController)

    @property
    def scheduled_job(self) -> ScheduledJobController:
        return self.get("scheduled_job", ScheduledJobController)

    @property
    def cluster_node(self) -> ClusterNodeController:
        return self.get("cluster_node", ClusterNodeController)

    @property
    def permissions(self) -> PermissionController:
        return self.get("permissions", PermissionController)

    @property
    def reminder(self) -> ReminderController:
        return self.get("reminder", ReminderController)

    @property
    def reminder_preference(self) -> ReminderPreferenceController:
        return self.get("reminder_preference", ReminderPreferenceController)

    @property
    def advert(self) -> AdvertController:
        return self.get("advert", AdvertController)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction that every controller call in this task joins."""
        async with self.service.transaction() as session:
            yield session

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for custom queries (joins the open transaction, if any)."""
        async with self.service.session() as session:
            yield session

    async def health(self) -> dict[str, Any]:
        return await self.service.health()
