"""DatabaseCoordinator: the lazy controller hub, one per bot, handed to every cog as ``self.db``.

Controllers are created on first use and reused (``bot.db.guild``, ``bot.db.guild_config``...).
Feature packages register their own controllers with :meth:`DatabaseCoordinator.register`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from fish_bot.database.controllers import (
    BaseController,
    CogSettingController,
    GuildConfigController,
    GuildController,
)
from fish_bot.database.controllers.cases import CaseController
from fish_bot.database.controllers.permissions import PermissionController
from fish_bot.database.controllers.scheduler import ScheduledJobController
from fish_bot.database.service import DatabaseService

ControllerFactory = Callable[[DatabaseService], BaseController[Any]]
Instrumentation = Callable[[str, BaseController[Any]], None]


class DatabaseCoordinator:
    """Lazily creates and caches controllers that share one DatabaseService."""

    _factories: ClassVar[dict[str, ControllerFactory]] = {
        "guild": GuildController,
        "guild_config": GuildConfigController,
        "cog_setting": CogSettingController,
        "scheduled_job": ScheduledJobController,
        "permissions": PermissionController,
        "case": CaseController,
    }

    def __init__(self, service: DatabaseService) -> None:
        self.service = service
        self._controllers: dict[str, BaseController[Any]] = {}
        #: Applied once to each controller when it is created (Sentry spans); None: nothing.
        self.instrumentation: Instrumentation | None = None

    @classmethod
    def register(cls, name: str, factory: ControllerFactory) -> None:
        """Make ``coordinator.<name>`` available (a feature's controller)."""
        existing = cls._factories.get(name)
        if existing is not None and existing is not factory:
            raise ValueError(f"a controller named {name!r} is already registered")
        cls._factories[name] = factory

    @classmethod
    def registered(cls) -> list[str]:
        return sorted(cls._factories)

    def get(self, name: str) -> BaseController[Any]:
        """The controller called ``name``, created on first use."""
        controller = self._controllers.get(name)
        if controller is None:
            factory = self._factories.get(name)
            if factory is None:
                raise AttributeError(f"no controller named {name!r}")
            controller = factory(self.service)
            if self.instrumentation is not None:
                self.instrumentation(name, controller)
            self._controllers[name] = controller
        return controller

    def instrument(self, instrumentation: Instrumentation) -> None:
        """Apply ``instrumentation(name, controller)`` to every controller, now and later."""
        self.instrumentation = instrumentation
        for name, controller in self._controllers.items():
            instrumentation(name, controller)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)

    @property
    def case(self) -> CaseController:
        return self.get("case")  # type: ignore[return-value]

    @property
    def guild(self) -> GuildController:
        return self.get("guild")  # type: ignore[return-value]

    @property
    def guild_config(self) -> GuildConfigController:
        return self.get("guild_config")  # type: ignore[return-value]

    @property
    def cog_setting(self) -> CogSettingController:
        return self.get("cog_setting")  # type: ignore[return-value]

    @property
    def scheduled_job(self) -> ScheduledJobController:
        return self.get("scheduled_job")  # type: ignore[return-value]

    @property
    def permissions(self) -> PermissionController:
        return self.get("permissions")  # type: ignore[return-value]

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
