"""The arguments of the `cases` commands: case types, statuses, moments, numbers and the flags
of ``cases search`` and ``cases modify``, each a prefix converter and a slash transformer.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from fish_bot.cogs.moderation.cases_display import STATUS_LABELS
from fish_bot.cogs.moderation.constants import ACTIONS
from fish_bot.core.converters import parse_decimal
from fish_bot.core.durations import parse_moment
from fish_bot.core.text import plain
from fish_bot.database.models.cases import CaseStatus, CaseType

#: Other words people use for case types.
TYPE_ALIASES: dict[str, CaseType] = {
    "mute": CaseType.TIMEOUT,
    "unmute": CaseType.UNTIMEOUT,
    "warning": CaseType.WARN,
    "temp-ban": CaseType.TEMPBAN,
    "softban": CaseType.TEMPBAN,
}


# --- arguments -------------------------------------------------------------------------------


def parse_case_types(argument: str) -> tuple[CaseType, ...]:
    """``ban`` or ``ban,tempban`` (any case, with a few aliases such as ``mute``)."""
    kinds: list[CaseType] = []
    for part in re.split(r"[,\s]+", argument.strip()):
        if not part:
            continue
        word = part.lower()
        kind = TYPE_ALIASES.get(word)
        if kind is None:
            try:
                kind = CaseType(word.upper().replace("-", ""))
            except ValueError:
                names = ", ".join(t.value.lower() for t in CaseType)
                raise commands.BadArgument(
                    f"Unknown case type `{plain(part)}`: use one of {names}."
                ) from None
        if kind not in kinds:
            kinds.append(kind)
    if not kinds:
        raise commands.BadArgument("Name a case type, e.g. `ban` or `warn`.")
    return tuple(kinds)


def parse_case_statuses(argument: str) -> tuple[CaseStatus, ...]:
    """``active`` or ``expired,lifted``."""
    statuses: list[CaseStatus] = []
    for part in re.split(r"[,\s]+", argument.strip()):
        if not part:
            continue
        try:
            status = CaseStatus(part.lower())
        except ValueError:
            names = ", ".join(s.value for s in CaseStatus)
            raise commands.BadArgument(
                f"Unknown case status `{plain(part)}`: use one of {names}."
            ) from None
        if status not in statuses:
            statuses.append(status)
    if not statuses:
        raise commands.BadArgument("Name a case status, e.g. `active`.")
    return tuple(statuses)


def past_moment(argument: str) -> datetime:
    """A moment in the past: ``7d`` (seven days ago), ``12h``, or a date ``2024-05-01``."""
    try:
        return parse_moment(argument.strip(), discord.utils.utcnow(), past=True)
    except ValueError as error:
        raise commands.BadArgument(str(error)) from None


class CaseTypesConverter(commands.Converter[Any], app_commands.Transformer):
    """Case types: ``ban`` or ``ban,tempban`` typed; a choice in slash commands."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> tuple[CaseType, ...]:
        return parse_case_types(argument)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def choices(self) -> list[app_commands.Choice[int | float | str]] | None:
        options: list[app_commands.Choice[int | float | str]] = [
            app_commands.Choice(name=spec.label, value=kind.value) for kind, spec in ACTIONS.items()
        ]
        return options[:25]  # Discord shows at most 25 choices

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return parse_case_types(str(value))


class CaseStatusesConverter(commands.Converter[Any], app_commands.Transformer):
    """Case statuses: ``active`` or ``expired,lifted`` typed; a choice in slash commands."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> tuple[CaseStatus, ...]:
        return parse_case_statuses(argument)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def choices(self) -> list[app_commands.Choice[int | float | str]] | None:
        return [
            app_commands.Choice(name=label, value=status.value)
            for status, label in STATUS_LABELS.items()
        ]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return parse_case_statuses(str(value))


class MomentConverter(commands.Converter[Any], app_commands.Transformer):
    """A moment in the past: ``7d`` means seven days ago; a date such as ``2024-05-01``."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> datetime:
        return past_moment(argument)

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return past_moment(str(value))


class CaseNumberConverter(commands.Converter[int], app_commands.Transformer):
    """A case number: ``12`` or ``#12``."""

    async def convert(self, ctx: commands.Context[Any], argument: str) -> int:
        return self._number(argument)

    @staticmethod
    def _number(argument: str) -> int:
        number = parse_decimal(argument.strip().lstrip("#"), max_digits=10)
        if number is None or not 0 < number < 2**31:
            raise commands.BadArgument(f"`{plain(argument)}` is not a case number, e.g. `12`.")
        return number

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.integer

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return 2**31 - 1

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return self._number(str(value))


if TYPE_CHECKING:
    CaseTypesArg = tuple[CaseType, ...] | None
    CaseStatusesArg = tuple[CaseStatus, ...] | None
    MomentArg = datetime | None
    CaseNumberArg = int
else:
    CaseTypesArg = CaseTypesConverter
    CaseStatusesArg = CaseStatusesConverter
    MomentArg = MomentConverter
    CaseNumberArg = CaseNumberConverter


class CaseSearchFlags(commands.FlagConverter, delimiter=":", prefix="", case_insensitive=True):
    """``user:@x moderator:@y type:ban status:active since:7d until:1d``."""

    # The annotations are not Optional on purpose: a value that does not convert is an error
    # the user sees, not a filter silently left out.
    user: discord.User = commands.flag(default=None, description="Cases about this user")
    moderator: discord.User = commands.flag(
        default=None, aliases=["mod"], description="Cases this moderator opened"
    )
    case_type: CaseTypesArg = commands.flag(
        name="type", default=None, description="The kind of case, e.g. Ban"
    )
    status: CaseStatusesArg = commands.flag(
        default=None, description="Active, Expired, Lifted or Voided"
    )
    since: MomentArg = commands.flag(
        default=None, description="Only newer cases: 7d (7 days ago), 12h or 2024-05-01"
    )
    until: MomentArg = commands.flag(
        default=None, description="Only older cases: 1d (a day ago) or 2024-05-01"
    )


class CaseModifyFlags(commands.FlagConverter, delimiter=":", prefix="", case_insensitive=True):
    """``cases modify 12 new reason`` or ``cases modify 12 reason:… status:voided``."""

    reason: str = commands.flag(default=None, positional=True, description="The new reason")
    status: CaseStatusesArg = commands.flag(
        default=None, description="The new status: Active, Expired, Lifted or Voided"
    )
