from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "django_project.notes"
    label = "notes"
