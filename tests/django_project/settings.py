"""Settings of the test Django project (one app, SQLite).

The database file is chosen per test (``django_project.testing.use_database``); until then it is
an in-memory database, so that importing these settings creates no file.
"""

SECRET_KEY = "fish-bot-tests-only"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["django_project.notes"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
