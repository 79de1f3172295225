from django.db import models


class Note(models.Model):
    """A note written in a Discord server."""

    guild_id = models.BigIntegerField(db_index=True)
    author_id = models.BigIntegerField()
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
