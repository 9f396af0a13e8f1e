"""Dunning levels and collection-case settings of the policy (``[dunning]``, ``[[dunning.levels]]``, ``[cases]``).

Frozen objects, built by :mod:`policy.loader`; the engine is :mod:`connector.dunning`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    EMAIL = "email"  # a message to the customer (in Odoo: posted to the partner as a comment)
    LETTER = "letter"  # a formal letter (in Odoo: a note on the partner with the letter; SAP: an exported file)


class SendMode(StrEnum):
    PROPOSE = "propose"  # every step waits for a person's approval (creditguard dunning approve)
    AUTO = "auto"  # steps of levels without ``approval = true`` are sent by the daemon


@dataclass(frozen=True, slots=True)
class DunningLevel:
    """A step of the dunning ladder: reached when the oldest overdue item is ``days`` past due."""

    days: int
    channel: Channel
    template: str  # the template's name: templates/dunning/<template>.<lang>.html
    approval: bool = False  # the step waits as "proposed" until a person approves it
    name: str = ""  # e.g. "Reminder", "Demand letter" (default: the template's name)

    @property
    def label(self) -> str:
        return self.name or self.template.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class DunningSettings:
    levels: tuple[DunningLevel, ...] = ()  # strictly increasing days
    send: SendMode = SendMode.PROPOSE
    templates_dir: str | None = None  # the finance team's own templates, looked up before the shipped ones

    def level_reached(self, days_past_due: int) -> int | None:
        """The index of the highest level reached at ``days_past_due`` days past due (None: none yet)."""
        reached = None
        for index, level in enumerate(self.levels):
            if days_past_due >= level.days:
                reached = index
        return reached

    def needs_approval(self, level: DunningLevel) -> bool:
        return level.approval or self.send is SendMode.PROPOSE


@dataclass(frozen=True, slots=True)
class CaseSettings:
    exclude_disputed: bool = True  # disputed amounts are left out of the overdue rules (and of dunning)
