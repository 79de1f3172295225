"""FishHost: what the framework (``fish_bot.core``) and the monitoring need from the bot.

``core/`` never imports the application (``fish_bot.bot``, ``fish_bot.cogs``; DESIGN rule 13):
it types the bot it runs in against this :class:`~typing.Protocol`, which
:class:`fish_bot.bot.FishBot` satisfies (checked by mypy where ``FishBot`` is passed to core,
and by ``tests/unit/test_core_imports.py``). A cog's ``self.bot`` is a ``FishHost``: the
members below are the bot API a cog may rely on.

Everything here is built in ``FishBot.__init__`` without I/O, so it is there (never ``None``)
from the moment a cog is constructed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import discord
    from discord import app_commands
    from discord.ext import commands

    from fish_bot.config import Settings
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.cluster import ClusterInfo
    from fish_bot.core.django import DjangoManager
    from fish_bot.core.guild_cache import GuildCache
    from fish_bot.core.permission_store import PermissionStore
    from fish_bot.core.permissions import PermissionManager
    from fish_bot.core.scheduler import JobScheduler
    from fish_bot.core.settings.manager import ConfigManager
    from fish_bot.database.coordinator import DatabaseCoordinator
    from fish_bot.database.models.core import GuildConfig
    from fish_bot.database.service import DatabaseService

__all__ = ["FishHost"]


class FishHost(Protocol):
    """The bot as the framework sees it."""

    # --- Fish Bot's own parts (built in FishBot.__init__, no I/O) -----------------------------

    settings: Settings
    #: The database service (engine, sessions, transactions, after_commit).
    database: DatabaseService
    #: The controller hub (``self.db`` of every cog).
    db: DatabaseCoordinator
    config_manager: ConfigManager
    permissions: PermissionManager
    #: Stored permission rules and ranks (layers 5 and 6), cached per guild.
    permission_store: PermissionStore
    #: Persisted jobs that run at a time.
    scheduler: JobScheduler
    #: This process's node name and shards (cluster mode, docs/scaling.md).
    cluster: ClusterInfo
    #: Each guild's configuration row (None: the guild stored none), cached per guild.
    guild_configs: GuildCache[GuildConfig | None]
    #: Each guild's own command prefix (None: the default), cached per guild.
    prefixes: GuildCache[str | None]
    #: The Django bridge of cogs that set ``requires_django`` (fish_bot.core.django).
    django: DjangoManager
    #: Cog packages that failed to load, with the reason.
    cog_load_errors: dict[str, str]
    started_at: datetime

    def fish_cogs(self) -> list[BaseCog]: ...

    def add_event_hook(self, event: str, hook: Callable[..., object]) -> None: ...

    async def prefix_for(self, guild_id: int | None) -> str: ...

    def mention_prefixes(self) -> list[str]: ...

    def report_unexpected(self, error: BaseException, where: str) -> str: ...

    async def load_cog(self, name: str) -> str | None: ...

    async def sync_app_commands(
        self, *, force: bool = False, guild: discord.abc.Snowflake | None = None
    ) -> int | None: ...

    # --- discord.py's Bot, as far as the framework and cogs use it ----------------------------

    @property
    def user(self) -> discord.ClientUser | None: ...

    @property
    def guilds(self) -> Sequence[discord.Guild]: ...

    @property
    def latency(self) -> float: ...

    @property
    def shards(self) -> Mapping[int, discord.ShardInfo]: ...

    @property
    def extensions(self) -> Mapping[str, ModuleType]: ...

    @property
    def tree(self) -> app_commands.CommandTree[Any]: ...

    def is_ready(self) -> bool: ...

    def is_closed(self) -> bool: ...

    async def wait_until_ready(self) -> None: ...

    async def is_owner(self, user: discord.abc.User, /) -> bool: ...

    def get_guild(self, id: int, /) -> discord.Guild | None: ...

    def get_user(self, id: int, /) -> discord.User | None: ...

    def get_channel(
        self, id: int, /
    ) -> discord.abc.GuildChannel | discord.Thread | discord.abc.PrivateChannel | None: ...

    async def fetch_user(self, user_id: int, /) -> discord.User: ...

    async def fetch_channel(
        self, channel_id: int, /
    ) -> discord.abc.GuildChannel | discord.abc.PrivateChannel | discord.Thread: ...

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None: ...

    def add_listener(
        self, func: Callable[..., Coroutine[Any, Any, Any]], /, name: str = ...
    ) -> None: ...

    def before_invoke(
        self, coro: Callable[[commands.Context[Any]], Coroutine[Any, Any, Any]], /
    ) -> Any: ...

    def get_command(self, name: str, /) -> commands.Command[Any, ..., Any] | None: ...

    async def unload_extension(self, name: str, *, package: str | None = None) -> None: ...

    async def reload_extension(self, name: str, *, package: str | None = None) -> None: ...
