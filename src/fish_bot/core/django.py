"""DjangoManager: the bridge to a Django project's models, for cogs that set ``requires_django``.

A bot that shares a Django project's database names the project's settings module in
``FISHBOT_DJANGO_SETTINGS_MODULE``. The bot then sets Django up once, in a worker thread (Django's
set-up imports every app and its models, which is blocking work), before the cogs load; a cog that
sets ``self.requires_django = True`` (before or after ``super().__init__``) reaches the models
through ``self._django``, as the guide shows::

    self._models = {"Note": self._django.get_model("notes", "note")}
    notes = await self._django.run(lambda: list(self._models["Note"].objects.all()))

:meth:`DjangoManager.run` calls a function through ``asgiref.sync.sync_to_async`` (one thread
for every call, as Django wants) and closes stale database connections before and after it, so a
model call through it can neither raise ``SynchronousOnlyOperation`` nor use a connection the
database has dropped. A ``QuerySet`` the function returns is evaluated in that thread and returned
as a list (evaluating it later, on the event loop, would be a synchronous query there).

Django is optional (the ``django`` extra): nothing here imports it until it is used.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from fish_bot.exceptions import ConfigurationError

if TYPE_CHECKING:
    from fish_bot.core.host import FishHost

__all__ = ["DjangoAccess", "DjangoManager", "DjangoUnavailable", "setup_django"]

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)

SETTING = "FISHBOT_DJANGO_SETTINGS_MODULE"


class DjangoUnavailable(ConfigurationError):
    """Django is not configured, not installed, or its settings do not import."""


def setup_django(settings_module: str) -> None:
    """Import Django's settings from ``settings_module`` and populate its apps. Blocking.

    Safe to call again with the same module (Django's set-up runs once per process). Raises
    :class:`DjangoUnavailable` with one line saying what is wrong.
    """
    try:
        import django
        from django.conf import settings as django_settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        raise DjangoUnavailable(
            f"{SETTING} is set but Django is not installed: install the extra "
            "(`pip install 'fish-bot[django]'`, or `uv sync --extra django`)"
        ) from None
    if django_settings.configured:
        active = getattr(django_settings, "SETTINGS_MODULE", None)
        if active and active != settings_module:
            raise DjangoUnavailable(
                f"Django is already set up in this process with {active!r}, not "
                f"{settings_module!r} ({SETTING})"
            )
    else:
        try:
            importlib.import_module(settings_module)
        except Exception as error:
            raise DjangoUnavailable(
                f"{SETTING}={settings_module!r} does not import: {type(error).__name__}: {error}"
            ) from None
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        django.setup()
    except (ImportError, ImproperlyConfigured) as error:
        raise DjangoUnavailable(
            f"Django could not be set up from {settings_module!r} ({SETTING}): "
            f"{type(error).__name__}: {error}"
        ) from None


_NOT_ASYNC = "DjangoManager.run takes a plain function, not an async one"


def _call_closing(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` in the Django thread between two ``close_old_connections()``."""
    from django.db import close_old_connections
    from django.db.models import QuerySet

    close_old_connections()
    try:
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):  # an async function: nothing ran, say so
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise TypeError(_NOT_ASYNC)
        if isinstance(result, QuerySet):
            result = list(result)  # evaluated here, not later on the event loop
        return result
    finally:
        close_old_connections()


def _close_all() -> None:
    from django.db import connections

    connections.close_all()


class DjangoManager:
    """Django for the cogs of one bot: set up once, models by name, calls off the event loop."""

    def __init__(self, settings_module: str | None) -> None:
        #: The Django settings module (``FISHBOT_DJANGO_SETTINGS_MODULE``); None: no Django.
        self.settings_module = (settings_module or "").strip() or None
        self._ready = False
        self._lock: asyncio.Lock | None = None

    @property
    def configured(self) -> bool:
        """Whether a Django settings module is set."""
        return self.settings_module is not None

    @property
    def ready(self) -> bool:
        """Whether Django has been set up (models can be looked up and called)."""
        return self._ready

    async def setup(self) -> None:
        """Set Django up once, in a worker thread; raises :class:`DjangoUnavailable`."""
        if self._ready:
            return
        module = self.settings_module
        if module is None:
            raise DjangoUnavailable(f"Django is not configured: {SETTING} is not set")
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self._ready:
                await asyncio.to_thread(setup_django, module)
                self._ready = True
                log.info("Django set up from %s.", module)

    async def require(self, cog_name: str) -> DjangoManager:
        """Django for the cog ``cog_name`` (set up if needed); raises, naming the cog, when
        it cannot be had."""
        if not self.configured:
            raise DjangoUnavailable(
                f"{cog_name} needs Django (requires_django) but {SETTING} is not set: set it to "
                "the Django project's settings module (e.g. mysite.settings)"
            )
        try:
            await self.setup()
        except DjangoUnavailable as error:
            raise DjangoUnavailable(f"{cog_name} needs Django: {error}") from None
        return self

    def _check_ready(self) -> None:
        if not self._ready:
            raise DjangoUnavailable(
                "Django is not set up: the cog must set self.requires_django = True "
                f"(and {SETTING} must be set)"
            )

    def get_model(self, app_label: str, model_name: str) -> Any:
        """The model class ``app_label.model_name`` (name case-insensitive), or None when the
        app or the model does not exist."""
        self._check_ready()
        from django.apps import apps

        try:
            return apps.get_model(app_label, model_name)
        except LookupError:
            log.warning("Django has no model %s.%s", app_label, model_name)
            return None

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call ``fn(*args, **kwargs)`` in Django's thread (``sync_to_async``,
        ``thread_sensitive=True``), closing stale database connections before and after.

        Do all of a query's work inside ``fn``: a ``QuerySet`` it returns comes back as a list,
        but a related object first touched on the event loop would query there.
        """
        from asgiref.sync import iscoroutinefunction, sync_to_async

        if iscoroutinefunction(fn):
            raise TypeError(_NOT_ASYNC)
        self._check_ready()

        result: T = await sync_to_async(_call_closing, thread_sensitive=True)(fn, *args, **kwargs)
        return result

    async def close(self) -> None:
        """Close Django's database connections (at shutdown)."""
        if not self._ready:
            return
        from asgiref.sync import sync_to_async

        await sync_to_async(_close_all, thread_sensitive=True)()


class DjangoAccess:
    """BaseCog's part of the bridge: the ``requires_django`` flag and ``self._django``."""

    #: Set to True (before or after ``super().__init__``) for a cog that uses Django models:
    #: it loads only when Django is configured, after Django was set up.
    requires_django: bool = False

    bot: FishHost  # set by BaseCog.__init__

    @property
    def _django(self) -> DjangoManager:
        """The bot's :class:`DjangoManager` (``get_model``, ``run``)."""
        return self.bot.django
