"""The checks the daemon runs, in run order (each is pure: the order only shapes reports and logs)."""

from __future__ import annotations

from checks.contracts import Check
from checks.deadlines import DeadlinesCheck
from checks.digitisation import DigitisationCheck
from checks.feedback import FeedbackCheck
from checks.index766 import Index766Check
from checks.online import OnlineCheck
from checks.plan_tasks import PlanTasksCheck
from checks.publication import PublicationCheck
from checks.sync import SyncCheck

ALL_CHECKS: list[Check] = [
    SyncCheck(),
    PublicationCheck(),
    DeadlinesCheck(),
    DigitisationCheck(),
    OnlineCheck(),
    FeedbackCheck(),
    PlanTasksCheck(),
    Index766Check(),
]
