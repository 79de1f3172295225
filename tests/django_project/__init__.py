"""A tiny Django project for the tests of the Django bridge (fish_bot.core.django).

``settings`` is its settings module (``FISHBOT_DJANGO_SETTINGS_MODULE=django_project.settings``),
``notes`` its one app (one model, ``Note``, and its migration), ``notes_cog`` a Fish Bot cog
written as the guide's "DjangoManager Integration" section shows, and ``testing`` the helpers
that set Django up once per test session and give each test a database file of its own.
"""
