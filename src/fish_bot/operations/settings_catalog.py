"""The settings each cog this installation can load declares, for ``fish-bot settings``.

Where the declared settings come from: :func:`declared_settings` imports each cog package the
bot could load (shipped cog packages, ``FISHBOT_COG_PACKAGES`` and installed entry points) and
reads the settings each cog class declares on the class (``BaseCog.declared_settings()``): no
bot is built, nothing connects to Discord or the database. Settings are keyed by the cog's
slug (``example``); a file may also name a cog by its display name (``Example``), in any case.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fish_bot.config import Settings
    from fish_bot.core.base_cog import BaseCog
    from fish_bot.core.settings.specs import SettingSpec


# --- the declared settings ------------------------------------------------------------------


@dataclass
class CogCatalog:
    """Declared settings per cog (by slug), and the packages that could not be inspected."""

    specs: dict[str, dict[str, SettingSpec]] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    #: Other names of a cog (its display name), lowercased -> its slug.
    aliases: dict[str, str] = field(default_factory=dict)

    def resolve(self, cog: str) -> str:
        """The slug a cog name (slug or display name, any case) stands for, or ``cog``."""
        if cog in self.specs:
            return cog
        return self.aliases.get(cog.strip().lower(), cog)

    def spec(self, cog: str, name: str) -> SettingSpec | None:
        return self.specs.get(self.resolve(cog), {}).get(name)


def cog_packages(settings: Settings) -> list[str]:
    """Every cog package this installation can load: shipped, configured, installed."""
    import fish_bot.cogs

    names = [
        f"fish_bot.cogs.{module.name}"
        for module in pkgutil.iter_modules(fish_bot.cogs.__path__)
        if module.ispkg
    ]
    names.extend(settings.cog_packages)
    names.extend(entry.value.split(":", 1)[0] for entry in entry_points(group="fish_bot.cogs"))
    return list(dict.fromkeys(names))


def _cog_classes(module: Any) -> list[type[BaseCog]]:
    from fish_bot.core.base_cog import BaseCog

    found = []
    for value in vars(module).values():
        if (
            inspect.isclass(value)
            and issubclass(value, BaseCog)
            and value is not BaseCog
            and not inspect.isabstract(value)
            and value not in found
        ):
            found.append(value)
    return found


def declared_settings(settings: Settings, packages: Iterable[str] | None = None) -> CogCatalog:
    """The settings each loadable cog class declares: no bot, no Discord, no database."""
    catalog = CogCatalog()
    for package in cog_packages(settings) if packages is None else packages:
        try:
            module = importlib.import_module(package)
            classes = _cog_classes(module)
            if not classes:
                raise LookupError("it exports no BaseCog subclass")
            for cls in classes:
                catalog.specs[cls.slug] = cls.declared_settings()
                catalog.packages[cls.slug] = package
                for alias in (cls.slug, cls.__cog_name__):
                    catalog.aliases[alias.lower()] = cls.slug
        except Exception as error:
            catalog.problems[package] = f"{type(error).__name__}: {error}"
    return catalog
