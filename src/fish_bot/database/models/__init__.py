"""All table models; importing this package registers every table on ``SQLModel.metadata``."""

from fish_bot.database.models.adverts import Advert, AdvertEnd, AdvertKind
from fish_bot.database.models.afk import AFK
from fish_bot.database.models.audit import AuditEntry
from fish_bot.database.models.automod import AutomodRule, LockdownState, WarnThreshold
from fish_bot.database.models.cases import Case, CaseStatus, CaseType
from fish_bot.database.models.cluster import ClusterNode
from fish_bot.database.models.core import CogSetting, Guild, GuildConfig, LogKind
from fish_bot.database.models.levels import LevelReward, Levels
from fish_bot.database.models.permissions import CommandRank, CommandRule, RoleRank, RuleTarget
from fish_bot.database.models.reminders import Reminder, ReminderPreference, ReminderStatus
from fish_bot.database.models.scheduler import JobStatus, ScheduledJob
from fish_bot.database.models.snippets import Snippet

__all__ = ["CogSetting", "Guild", "GuildConfig", "JobStatus", "LogKind", "ScheduledJob"]
__all__ += ["CommandRank", "CommandRule", "RoleRank", "RuleTarget"]
__all__ += ["Case", "CaseStatus", "CaseType"]
__all__ += ["AFK"]
__all__ += ["Snippet"]
__all__ += ["Reminder", "ReminderPreference", "ReminderStatus"]
__all__ += ["AuditEntry"]
__all__ += ["LevelReward", "Levels"]
__all__ += ["AutomodRule", "LockdownState", "WarnThreshold"]
__all__ += ["Advert", "AdvertEnd", "AdvertKind"]
__all__ += ["ClusterNode"]
