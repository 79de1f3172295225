"""The settings validator language.

A cog declares each setting as ``(default, description, rules)`` in ``settings_config``; the rules
are compiled once, when the cog is built, by :func:`compile_rules` into a :class:`RuleSet`, and
every write of the setting goes through :meth:`RuleSet.validate`.

The language::

    type.int  type.str  type.bool  type.float  type.list  type.dict
    range(min,max)            inclusive; either bound may be None (open)
    length(min,max)           of text, a list or a dictionary; either bound may be None
    pattern(regex)            re.fullmatch against text; the regex may hold commas and brackets
    time.seconds(min,max)     a duration; bounds and bare numbers are in the rule's unit,
    time.minutes(min,max)       the stored value is always whole seconds
    time.hours(min,max)
    discord.channel  discord.role  discord.user      a snowflake (ID or mention), stored as int
    collection.list(item_type,unique,min_length,max_length)
    collection.dict(key_type,value_type,required_keys)

and plain functions ``f(value)``: a falsy result (``False``) refuses, ``None`` or a truthy result
accepts, an exception refuses with its text.

A bad value raises :class:`~fish_bot.exceptions.SettingValidationError` (never anything else); a
malformed rule raises :class:`~fish_bot.exceptions.SettingsConfigError` at compile time.
"""

from fish_bot.core.settings.validators.collection_rules import (
    CollectionDictRule,
    CollectionListRule,
)
from fish_bot.core.settings.validators.parser import compile_rules
from fish_bot.core.settings.validators.rules import (
    CallableRule,
    DiscordRule,
    LengthRule,
    PatternRule,
    RangeRule,
    TimeRule,
    TypeRule,
    Validator,
)
from fish_bot.core.settings.validators.ruleset import RuleSet

__all__ = [
    "CallableRule",
    "CollectionDictRule",
    "CollectionListRule",
    "DiscordRule",
    "LengthRule",
    "PatternRule",
    "RangeRule",
    "RuleSet",
    "TimeRule",
    "TypeRule",
    "Validator",
    "compile_rules",
]
