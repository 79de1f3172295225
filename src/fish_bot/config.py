"""Fish Bot's process configuration.

Values come from the environment first, then from a ``.env`` file in the working directory.
A :class:`Settings` object can also be built in code (``Settings(data_dir=..., ...)``) and handed
to the bot, which is what the tests do so that they never touch the environment.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from fish_bot.exceptions import ConfigurationError

#: A Discord bot token is three base64url parts separated by dots.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")

LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def _split_csv(value: Any) -> Any:
    """Accept ``"1, 2,3"`` as well as a list for list-typed settings."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


def _without_field_name(source: PydanticBaseSettingsSource, name: str) -> Any:
    """``source``, minus a value it found under the field name ``name`` (a value found under
    the field's alias is keyed by the alias, and kept)."""

    def read() -> dict[str, Any]:
        values = source()
        values.pop(name, None)
        return values

    read.__name__ = type(source).__name__
    return read


class Settings(BaseSettings):
    """Process-wide settings of one Fish Bot instance."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        validate_default=True,
    )

    discord_token: str = Field(
        default="",
        validation_alias="DISCORD_TOKEN",
        description="The bot token from the Discord developer portal.",
        repr=False,
    )
    data_dir: Path = Field(
        default=Path("data"),
        validation_alias="FISHBOT_DATA_DIR",
        description="Folder for the SQLite database, cache data and backups.",
    )
    database_url: str = Field(
        default="",
        validation_alias="FISHBOT_DATABASE_URL",
        description=(
            "SQLAlchemy URL of the database. Empty: SQLite file <data_dir>/fish_bot.db. "
            "PostgreSQL: postgresql+asyncpg://user:password@host:5432/dbname"
        ),
    )
    prefix: str = Field(
        default="!",
        validation_alias="FISHBOT_PREFIX",
        min_length=1,
        max_length=16,
        description="Default command prefix (a guild can set its own).",
    )
    owner_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        validation_alias="FISHBOT_OWNER_IDS",
        description="Comma-separated Discord user ids of the bot owners.",
    )
    log_level: str = Field(
        default="INFO",
        validation_alias="FISHBOT_LOG_LEVEL",
        description="One of CRITICAL, ERROR, WARNING, INFO, DEBUG.",
    )
    cog_packages: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias="FISHBOT_COG_PACKAGES",
        description="Comma-separated extra cog packages (import paths) to load.",
    )
    django_settings_module: str = Field(
        default="",
        validation_alias="FISHBOT_DJANGO_SETTINGS_MODULE",
        description=(
            "Settings module of a Django project whose models cogs with requires_django use "
            "(e.g. mysite.settings; needs the 'django' extra). Empty: no Django."
        ),
    )
    migrate_on_start: bool = Field(
        default=True,
        validation_alias="FISHBOT_MIGRATE_ON_START",
        description="Upgrade the database to the newest migration at start-up.",
    )
    owners_bypass_permissions: bool = Field(
        default=True,
        validation_alias="FISHBOT_OWNERS_BYPASS",
        description="Bot owners pass every permission rule.",
    )
    db_pool_size: int = Field(default=5, ge=1, le=100, validation_alias="FISHBOT_DB_POOL_SIZE")
    db_max_overflow: int = Field(
        default=10, ge=0, le=100, validation_alias="FISHBOT_DB_MAX_OVERFLOW"
    )
    db_pool_timeout: float = Field(default=30.0, gt=0, validation_alias="FISHBOT_DB_POOL_TIMEOUT")
    db_connect_retries: int = Field(
        default=3, ge=0, le=20, validation_alias="FISHBOT_DB_CONNECT_RETRIES"
    )
    db_echo: bool = Field(default=False, validation_alias="FISHBOT_DB_ECHO")
    # --- operations (docs/operations.md) ---
    log_json: bool = Field(
        default=False,
        validation_alias="FISHBOT_LOG_JSON",
        description="Log JSON lines to stderr instead of the Rich console.",
    )
    log_file: Path | None = Field(
        default=None,
        validation_alias="FISHBOT_LOG_FILE",
        description="Also log to this file, rotated by size (JSON lines when FISHBOT_LOG_JSON).",
    )
    log_file_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, validation_alias="FISHBOT_LOG_FILE_MAX_BYTES"
    )
    log_file_backups: int = Field(
        default=5, ge=0, le=1000, validation_alias="FISHBOT_LOG_FILE_BACKUPS"
    )
    cache_file_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        validation_alias="FISHBOT_CACHE_FILE_MAX_BYTES",
        description=(
            "A cog's cache-data file larger than this is refused at load: moved aside and "
            "replaced by the default."
        ),
    )
    health_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        validation_alias="FISHBOT_HEALTH_PORT",
        description="Serve /healthz and /metrics on this port (unset: off; 0: any free port).",
    )
    health_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        validation_alias="FISHBOT_HEALTH_HOST",
        description="Address the health endpoint listens on.",
    )
    redis_url: str = Field(
        default="",
        validation_alias="FISHBOT_REDIS_URL",
        description=(
            "Redis URL (redis://host:6379/0): cache invalidations between the bot's processes "
            "go over Redis pub/sub instead of PostgreSQL LISTEN/NOTIFY (needs the 'redis' extra)."
        ),
        repr=False,
    )
    sentry_dsn: str = Field(
        default="",
        validation_alias="SENTRY_DSN",
        description="Sentry DSN; errors and traces go to Sentry (needs the 'sentry' extra).",
        repr=False,
    )
    sentry_environment: str = Field(default="production", validation_alias="SENTRY_ENVIRONMENT")
    sentry_traces_sample_rate: float = Field(
        default=0.1, ge=0.0, le=1.0, validation_alias="FISHBOT_SENTRY_TRACES_SAMPLE_RATE"
    )
    # --- cluster mode (docs/scaling.md) ---
    shard_count: int | None = Field(
        default=None,
        validation_alias="FISHBOT_SHARD_COUNT",
        description="Total number of shards of the bot (unset: discord.py picks it).",
    )
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = Field(
        default=None,
        validation_alias="FISHBOT_SHARD_IDS",
        description="The shards this process runs, e.g. 0-3,5 (unset: all of them).",
    )
    cluster_name: str = Field(
        default="",
        max_length=100,
        validation_alias="FISHBOT_CLUSTER_NAME",
        description="This process's node name in the cluster (empty: <host>-<pid>).",
    )
    discord_api_base: str = Field(
        default="",
        validation_alias="FISHBOT_DISCORD_API_BASE",
        description=(
            "Send Discord REST calls here instead of https://discord.com/api/v10 "
            "(a rate-limit proxy shared by every process), e.g. http://proxy:8080/api/v10."
        ),
    )

    @field_validator("shard_count", mode="before")
    @classmethod
    def _blank_count(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: Any) -> Any:
        from fish_bot.core.cluster import parse_shard_ids

        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int):
            value = [value]
        return parse_shard_ids(value)

    @field_validator("discord_api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(
                "must be an http:// or https:// address, e.g. http://proxy:8080/api/v10"
            )
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        from fish_bot.core.cluster import validate_shards

        try:
            validate_shards(self.shard_count, self.shard_ids)
        except ValueError as error:
            raise ValueError(f"FISHBOT_SHARD_IDS / FISHBOT_SHARD_COUNT: {error}") from None
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[Any, ...]:
        """Read ``django_settings_module`` from ``FISHBOT_DJANGO_SETTINGS_MODULE`` only: by its
        field name the environment would also match Django's own ``DJANGO_SETTINGS_MODULE``,
        which a shell, a Django deployment or Django's set-up itself may have set."""
        return (
            init_settings,
            _without_field_name(env_settings, "django_settings_module"),
            _without_field_name(dotenv_settings, "django_settings_module"),
            file_secret_settings,
        )

    @field_validator("owner_ids", "cog_packages", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("health_port", "log_file", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("django_settings_module")
    @classmethod
    def _module(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", value):
            raise ValueError("must be a dotted Python module path, e.g. mysite.settings")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        if isinstance(value, str):
            upper = value.strip().upper()
            if upper not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
            return upper
        return value

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("sqlite+aiosqlite:", "postgresql+asyncpg:")):
            if value.startswith(("postgres://", "postgresql://")):
                raise ValueError(
                    "use the async driver: postgresql+asyncpg://user:password@host:5432/dbname"
                )
            if value.startswith("sqlite:"):
                raise ValueError("use the async driver: sqlite+aiosqlite:///path/to/fish_bot.db")
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def effective_database_url(self) -> str:
        """The database URL in use: the configured one or the default SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'fish_bot.db').as_posix()}"

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    def token_problem(self) -> str | None:
        """Return why the token cannot work, or None when it looks right."""
        token = self.discord_token.strip()
        if not token:
            return (
                "No Discord token: set DISCORD_TOKEN in the environment or in a .env file "
                "(DISCORD_TOKEN=...). Without a token, try `fish-bot sandbox`."
            )
        if not TOKEN_PATTERN.match(token):
            return (
                "DISCORD_TOKEN does not look like a bot token (three dot-separated parts). "
                "Copy it again from the Bot page of the Discord developer portal."
            )
        return None


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad setting, its environment variable and what is wrong."""
    parts = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        if not item["loc"]:  # a check of several settings together names them itself
            parts.append(message)
            continue
        field = str(item["loc"][0])
        info = Settings.model_fields.get(field)
        env = info.validation_alias if info is not None and info.validation_alias else field
        parts.append(f"{env}: {message} (got {item.get('input')!r})")
    return "Bad setting: " + "; ".join(parts)


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment and .env, raising ConfigurationError when bad."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None
