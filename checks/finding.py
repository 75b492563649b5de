"""One finding: what is wrong, for whom, by when (the contract's row type, and its enums).

No dependency inside the project: ``checks.contracts`` re-exports everything here, and
``checks.findings_table`` (the columnar form) builds on it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Stage(StrEnum):
    """Where a finding stands against its deadline. ``open`` is for findings without one."""

    UPCOMING = "upcoming"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    BREACH = "breach"
    OPEN = "open"


class SubjectKind(StrEnum):
    DOSSIER = "dossier"
    PROCEDURE = "procedure"
    FEEDBACK = "feedback"
    TASK = "task"
    SOURCE = "source"
    UNIT = "unit"


class Period(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


FactValue = str | int | float | bool | None

# Rules that are stages of one deadline: a subject moving between them is one story told as a
# stage change ("upcoming" -> "due today" -> "overdue"), not a resolution plus a new problem.
DEADLINE_TRACKS: dict[str, str] = {
    "dossier_upcoming": "dossier_deadline",
    "dossier_due_today": "dossier_deadline",
    "dossier_overdue": "dossier_deadline",
    "task_upcoming": "task_deadline",
    "task_due_today": "task_deadline",
    "task_overdue": "task_deadline",
    "feedback_upcoming": "feedback_deadline",
    "feedback_overdue": "feedback_deadline",
}


_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


class CompactFrozenModel(BaseModel):
    """A frozen model whose instances share one ``model_fields_set`` per combination of fields set.

    Pydantic keeps that set per instance: ~730 bytes for a dozen fields, about half the memory of a
    small model, and a province's daemon holds ~120,000 alert states and ~27,000 findings. Only a
    frozen model may share it: nothing changes it in place (``model_copy`` copies it first)."""

    model_config = ConfigDict(frozen=True)

    def model_post_init(self, context: Any, /) -> None:
        fields = self.__pydantic_fields_set__
        key = frozenset(fields)
        shared = _FIELDS_SETS.get(key)
        if shared is None:
            shared = _FIELDS_SETS.setdefault(key, set(key))
        object.__setattr__(self, "__pydantic_fields_set__", shared)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.model_config.get("frozen"):
            raise TypeError(f"{cls.__name__}: a CompactFrozenModel must stay frozen")


class Finding(CompactFrozenModel):
    """One thing that is wrong, for one responsible unit. Never carries personal data."""

    model_config = ConfigDict(frozen=True)

    check: str  # check name, e.g. "deadlines"
    rule: str  # what is wrong, e.g. "dossier_upcoming", "apology_missing"
    subject_kind: SubjectKind
    subject: str  # dossier code, procedure code, feedback id, task id, source name
    unit: str  # responsible unit code
    stage: Stage
    severity: Severity
    due_at: datetime | None = None  # aware, Asia/Ho_Chi_Minh
    facts: dict[str, FactValue] = Field(default_factory=dict)  # what a message needs

    @property
    def key(self) -> str:
        """Stable identity across cycles: the same problem on the same subject."""
        # ``_value_``: the member's value without the ``value`` descriptor (asked per finding per cycle)
        return f"{self.check}/{self.rule}/{self.subject_kind._value_}/{self.subject}"

    @property
    def thread_key(self) -> str:
        """Like :attr:`key`, with the stages of one deadline (``DEADLINE_TRACKS``) as one thread."""
        return thread_of_key(self.key)


def thread_of_key(key: str) -> str:
    """``check/rule/kind/subject`` -> the same with the rule replaced by its deadline track."""
    check, rule, rest = key.split("/", 2) if key.count("/") >= 2 else (key, "", "")
    return f"{check}/{DEADLINE_TRACKS.get(rule, rule)}/{rest}" if rule else key
