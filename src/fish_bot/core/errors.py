"""Kept importable: the error policy lives in :mod:`fish_bot.core.error_policy`."""

from __future__ import annotations

from fish_bot.core.error_policy import (
    apology,
    new_error_id,
    send_interaction,
    send_reply,
    unwrap,
)

__all__ = ["apology", "new_error_id", "send_interaction", "send_reply", "unwrap"]
