"""Words for the codes the store keeps (KPI, rule, stage, event, status). Unknown codes are shown
as they are.

Check, KPI and rule labels come from the checks' declarations (``checks.registry``); the others
are declared here in English (``N_``) and translated from the catalogs (checks/locale) where
shown: :func:`translated` gives a mapping in one language, for ``pl.Expr.replace``.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.i18n import N_, Language, gettext
from checks.registry import REGISTRY

# From the checks' declarations (checks.spec): one copy of every check, KPI and rule label.
KPI_LABELS: Mapping[str, str] = REGISTRY.labels("kpi", "vi")  # e.g. dossier_on_time -> "Tỷ lệ hồ sơ giải quyết đúng hạn"

CHECK_LABELS: Mapping[str, str] = REGISTRY.labels("check", "vi")

RULE_LABELS: Mapping[str, str] = REGISTRY.labels("rule", "vi")


def declared(kind: str, language: Language) -> dict[str, str]:
    """``kind`` check | kpi | rule -> {code: label in ``language``}, from the checks' declarations."""
    return REGISTRY.labels(kind, language)


PERIOD_LABELS: Mapping[str, str] = {"month": N_("Month"), "quarter": N_("Quarter"), "year": N_("Year")}

DEPARTMENT_UNIT_LABEL = N_("Whole department")  # the "ALL" unit of the KPIs

# Rules of the deadlines check that mean a dossier was (or will surely be) late, or an apology breach.
LATE_DOSSIER_RULES: tuple[str, ...] = (
    "dossier_overdue",
    "apology_missing",
    "apology_late",
    "due_moved_twice",
    "supplement_repeated",
)

STAGE_LABELS: Mapping[str, str] = {
    "upcoming": N_("Coming due"),
    "due_today": N_("Due date today"),
    "overdue": N_("Past due"),
    "breach": N_("Breach"),
    "open": N_("Needs action"),
}

SEVERITY_LABELS: Mapping[str, str] = {"info": N_("Information"), "warning": N_("Warning"), "critical": N_("Critical")}

EVENT_LABELS: Mapping[str, str] = {
    "opened": N_("Detected"),
    "stage_changed": N_("Stage changed"),
    "resolved": N_("Resolved"),
    "reopened": N_("Recurred"),
}

OUTBOX_STATUS_LABELS: Mapping[str, str] = {
    "pending": N_("Waiting to be sent"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "dead": N_("Sending failed"),
}

DELIVERY_OUTCOME_LABELS: Mapping[str, str] = {
    "sent": N_("sent"),
    "retry": N_("failed, will retry"),
    "dead": N_("failed"),
    "reclaimed": N_("reclaimed"),
    "requeued": N_("requeued"),
}

# Product names are the same in every language (not in the catalogs).
CHANNEL_LABELS: Mapping[str, str] = {
    "email": N_("E-mail"),
    "zalo": "Zalo",
    "webhook": "Webhook",
    "alertmanager": "Alertmanager",
    "file": N_("File"),
}

TARGET_MET = N_("met")
TARGET_MISSED = N_("missed")
NO_DATA = N_("no data")
NO_TARGET = N_("no target")
FINDING_OPEN = N_("Open")
FINDING_RESOLVED = N_("Resolved")


def translated(mapping: Mapping[str, str], language: Language) -> dict[str, str]:
    """{code: English message} -> {code: text in ``language``}."""
    return {code: gettext(language, message) for code, message in mapping.items()}
