"""Push findings to Alertmanager's ``/api/v2/alerts`` so teams can route and silence there.

Labels: alertname ``TTHC_<rule>``, unit, check, stage, severity, subject_kind and subject.
``subject`` (a dossier, procedure or task code) is a label on purpose: Alertmanager needs it to
tell two alerts apart, and Alertmanager labels are not Prometheus series (no cardinality cost).
An active alert gets ``endsAt = now + resend_window``: the daemon pushes again each cycle, and an
alert no longer pushed resolves by itself. A resolved finding is pushed with ``endsAt = now``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from alerts.channels.kind import BuildContext, ChannelKind
from checks.contracts import Channel, DeliveryError, Finding, Severity, Stage
from checks.i18n import DEFAULT_LANGUAGE, N_, Language, translator
from checks.timeutil import to_vn_aware

log = structlog.get_logger(__name__)


class AlertmanagerSettings(BaseModel):
    """Push open findings to an Alertmanager (``{url}/api/v2/alerts``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    url: str = "http://127.0.0.1:9093"
    timeout_seconds: float = Field(default=10.0, gt=0)
    username: str | None = None
    password: SecretStr | None = None
    resend_window_seconds: float = Field(default=900.0, gt=0)  # endsAt = now + this, for active alerts
    generator_url: str | None = None

    @field_validator("url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _auth_pairs(self) -> AlertmanagerSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be given together")
        return self

# The stage and severity as the annotations say them; translated where they are shown.
STAGE_WORDS: dict[Stage, str] = {
    Stage.UPCOMING: N_("due soon"),
    Stage.DUE_TODAY: N_("due today"),
    Stage.OVERDUE: N_("overdue"),
    Stage.BREACH: N_("breached"),
    Stage.OPEN: N_("open"),
}
SEVERITY_WORDS: dict[Severity, str] = {
    Severity.INFO: N_("information"), Severity.WARNING: N_("warning"), Severity.CRITICAL: N_("critical"),
}


def _rfc3339(moment: datetime) -> str:
    return to_vn_aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_labels(finding: Finding) -> dict[str, str]:
    return {
        "alertname": f"TTHC_{finding.rule}",
        "unit": finding.unit,
        "check": finding.check,
        "stage": finding.stage.value,
        "severity": finding.severity.value,
        "subject_kind": finding.subject_kind.value,
        "subject": finding.subject,
    }


def default_annotations(finding: Finding, language: Language = DEFAULT_LANGUAGE) -> dict[str, str]:
    """Summary and description in ``language``; no personal data (a Finding never carries any)."""
    _ = translator(language)
    stage = _(STAGE_WORDS[finding.stage])
    due = "; " + _("due {due}").format(due=f"{to_vn_aware(finding.due_at):%H:%M %d/%m/%Y}") if finding.due_at else ""
    return {
        "summary": f"[{finding.unit}] {finding.rule}: {finding.subject} ({stage})",
        "description": _("Unit {unit}, check {check}, subject {subject} ({kind}): {stage}, severity {severity}{due}.").format(
            unit=finding.unit, check=finding.check, subject=finding.subject, kind=finding.subject_kind.value,
            stage=stage, severity=_(SEVERITY_WORDS[finding.severity]), due=due,
        ),
    }


def build_alerts(
    active: Sequence[Finding],
    resolved: Sequence[Finding],
    now: datetime,
    resend_window: timedelta,
    annotations: Mapping[str, dict[str, str]] | None = None,
    generator_url: str | None = None,
    language: Language = DEFAULT_LANGUAGE,
) -> list[dict[str, Any]]:
    """The JSON list for POST /api/v2/alerts (pure). ``annotations`` is keyed by Finding.key."""
    overrides = annotations or {}

    def alert(finding: Finding, ends_at: datetime) -> dict[str, Any]:
        body: dict[str, Any] = {
            "labels": alert_labels(finding),
            "annotations": {**default_annotations(finding, language), **overrides.get(finding.key, {})},
            "startsAt": _rfc3339(now),  # Alertmanager keeps the earliest startsAt of a running alert
            "endsAt": _rfc3339(ends_at),
        }
        if generator_url:
            body["generatorURL"] = generator_url
        return body

    return [alert(f, now + resend_window) for f in active] + [alert(f, now) for f in resolved]


class AlertmanagerPusher:
    def __init__(self, settings: AlertmanagerSettings, http: requests.Session | None = None,
                 language: Language = DEFAULT_LANGUAGE) -> None:
        self._settings = settings
        self._http = http if http is not None else requests.Session()
        self._language = language  # of the annotations

    def push(
        self,
        active: Sequence[Finding],
        resolved: Sequence[Finding],
        now: datetime,
        annotations: Mapping[str, dict[str, str]] | None = None,
    ) -> None:
        alerts = build_alerts(
            active,
            resolved,
            now,
            timedelta(seconds=self._settings.resend_window_seconds),
            annotations,
            self._settings.generator_url,
            self._language,
        )
        if not alerts:
            return
        auth = None
        if self._settings.username is not None and self._settings.password is not None:
            auth = (self._settings.username, self._settings.password.get_secret_value())
        try:
            response = self._http.post(
                f"{self._settings.url}/api/v2/alerts",
                json=alerts,
                auth=auth,
                timeout=self._settings.timeout_seconds,
            )
        except requests.RequestException as error:
            log.warning("alertmanager_unreachable", error=type(error).__name__)
            raise DeliveryError(f"Alertmanager unreachable: {type(error).__name__}") from error
        if not 200 <= response.status_code < 300:
            log.warning("alertmanager_refused", http_status=response.status_code, reply=response.text[:300])
            permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
            raise DeliveryError(
                f"Alertmanager HTTP {response.status_code}: {response.text[:300]}", permanent=permanent
            )
        log.info("alertmanager_pushed", active=len(active), resolved=len(resolved))


class AlertmanagerKind(ChannelKind):
    """``alerts.channels.alertmanager``: not a route receiver (it takes findings): ``pusher``."""

    name = "alertmanager"
    section = "alertmanager"
    section_type = AlertmanagerSettings
    receivable = False

    def owns(self, channel: str) -> bool:
        return False

    def names(self, section: Any) -> list[str]:
        return []

    def build(self, section: Any, context: BuildContext) -> dict[str, Channel]:
        return {}

    def pusher(self, section: Any, http: requests.Session | None = None,
               language: Language = DEFAULT_LANGUAGE) -> AlertmanagerPusher | None:
        enabled = section is not None and section.enabled
        return AlertmanagerPusher(section, http, language) if enabled else None


KIND = AlertmanagerKind()
