"""Test helpers: Django is set up once per test session; each test has its own database file.

Django's settings are process-global. :func:`configure` sets Django up from this project once
(through Fish Bot's own :func:`~fish_bot.core.django.setup_django`, as the bot does), and
:func:`use_database` points the project's one database at a file of the test's, closing the
connection the previous test left in Django's thread. :func:`migrate` creates the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async

from fish_bot.core.django import setup_django

SETTINGS_MODULE = "django_project.settings"


def configure() -> None:
    """Set Django up from the test project (a no-op after the first call)."""
    setup_django(SETTINGS_MODULE)


def _switch(path: Path) -> None:
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    settings.DATABASES["default"]["NAME"] = str(path)


def _migrate() -> None:
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0, interactive=False)
    finally:
        connections.close_all()


async def use_database(path: Path) -> None:
    """From now on Django's database is the SQLite file ``path``."""
    configure()
    await sync_to_async(_switch, thread_sensitive=True)(path)


async def migrate() -> None:
    """Apply the project's migrations to the current database (in Django's thread)."""
    await sync_to_async(_migrate, thread_sensitive=True)()


def note_model() -> Any:
    from django_project.notes.models import Note

    return Note
