"""Push findings to Alertmanager's ``/api/v2/alerts`` so teams can route and silence there.

Labels: alertname ``TTHC_<rule>``, unit, check, stage, severity, subject_kind and subject.
``subject`` (a dossier, procedure or task code) is a label on purpose: Alertmanager needs it to
tell two alerts apart, and Alertmanager labels are not Prometheus series (no cardinality cost).
An active alert gets ``endsAt = now + resend_window``: the daemon pushes again each cycle, and an
alert no longer pushed resolves by itself. A resolved finding is pushed with ``endsAt = now``.

Replicas (``urls``): every alert goes to EVERY configured Alertmanager, concurrently. An
Alertmanager cluster gossips silences and the notification log, not alerts: each member must
receive the alerts itself (the Alertmanager HA documentation; Prometheus does the same). As in
Prometheus' notifier, a push counts as delivered when at least one replica accepted it; a replica
that failed is logged (``alertmanager_replica_failed``) and counted
(``tthc_alertmanager_push_failures_total{replica}``), and gets every active alert again at the next
cycle's push anyway. Only when no replica accepted does the push fail (``DeliveryError``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from alerts.channels.kind import BuildContext, ChannelKind
from checks.contracts import Channel, DeliveryError, Finding, MetricSample, MetricSpec, Severity, Stage
from checks.i18n import DEFAULT_LANGUAGE, N_, Language, translator
from checks.timeutil import to_vn_aware

log = structlog.get_logger(__name__)


class AlertmanagerSettings(BaseModel):
    """Push open findings to an Alertmanager (``{url}/api/v2/alerts``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    url: str = "http://127.0.0.1:9093"  # one Alertmanager
    urls: list[str] = Field(default_factory=list)  # or every replica of a cluster (then leave url out): each gets every alert
    timeout_seconds: float = Field(default=10.0, gt=0)
    username: str | None = None
    password: SecretStr | None = None
    resend_window_seconds: float = Field(default=900.0, gt=0)  # endsAt = now + this, for active alerts
    generator_url: str | None = None

    @field_validator("url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("urls")
    @classmethod
    def _replica_urls(cls, value: list[str]) -> list[str]:
        urls = [url.rstrip("/") for url in value]
        if len(set(urls)) != len(urls):
            raise ValueError("the same Alertmanager is listed twice")
        return urls

    @model_validator(mode="after")
    def _auth_pairs(self) -> AlertmanagerSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be given together")
        if self.urls and "url" in self.model_fields_set:
            raise ValueError("give url (one Alertmanager) or urls (its replicas), not both")
        return self

    @property
    def replicas(self) -> list[str]:
        """The Alertmanagers every push goes to."""
        return list(self.urls) if self.urls else [self.url]


PUSH_FAILURES = MetricSpec(
    name="tthc_alertmanager_push_failures_total",
    help="Pushes of open findings that one Alertmanager replica did not accept (since start).",
    labels=("replica",),
    kind="counter",
)


def replica_label(url: str) -> str:
    """The replica as shown in logs and metrics: scheme, host, port and path, never credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

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
        self.failures: dict[str, int] = {replica_label(url): 0 for url in settings.replicas}

    def push(
        self,
        active: Sequence[Finding],
        resolved: Sequence[Finding],
        now: datetime,
        annotations: Mapping[str, dict[str, str]] | None = None,
    ) -> None:
        """POST the alerts to every replica; raises DeliveryError only when none accepted them."""
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
        replicas = self._settings.replicas
        if len(replicas) == 1:
            errors = [self._push_one(replicas[0], alerts)]
        else:
            with ThreadPoolExecutor(max_workers=len(replicas), thread_name_prefix="alertmanager") as pool:
                errors = list(pool.map(lambda url: self._push_one(url, alerts), replicas))
        failed = [(url, error) for url, error in zip(replicas, errors, strict=True) if error is not None]
        for url, error in failed:
            label = replica_label(url)
            self.failures[label] = self.failures.get(label, 0) + 1
            if len(replicas) > 1:
                log.warning("alertmanager_replica_failed", replica=label, error=str(error),
                            accepted_by=len(replicas) - len(failed), replicas=len(replicas))
        if len(failed) == len(replicas):
            error = failed[0][1] if len(failed) == 1 else DeliveryError(
                "no Alertmanager replica accepted the alerts: " + "; ".join(str(e) for _, e in failed),
                permanent=all(e.permanent for _, e in failed),
            )
            raise error
        log.info("alertmanager_pushed", active=len(active), resolved=len(resolved),
                 replicas=len(replicas), accepted_by=len(replicas) - len(failed))

    def _push_one(self, url: str, alerts: list[dict[str, Any]]) -> DeliveryError | None:
        auth = None
        if self._settings.username is not None and self._settings.password is not None:
            auth = (self._settings.username, self._settings.password.get_secret_value())
        replica = replica_label(url)
        try:
            response = self._http.post(f"{url}/api/v2/alerts", json=alerts, auth=auth,
                                       timeout=self._settings.timeout_seconds)
        except requests.RequestException as error:
            log.warning("alertmanager_unreachable", replica=replica, error=type(error).__name__)
            return DeliveryError(f"Alertmanager {replica} unreachable: {type(error).__name__}")
        if not 200 <= response.status_code < 300:
            log.warning("alertmanager_refused", replica=replica, http_status=response.status_code,
                        reply=response.text[:300])
            permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
            return DeliveryError(f"Alertmanager HTTP {response.status_code}: {response.text[:300]}", permanent=permanent)
        return None

    def samples(self) -> list[MetricSample]:
        """``tthc_alertmanager_push_failures_total`` per replica (0 until one fails)."""
        return [PUSH_FAILURES.sample(count, replica=replica) for replica, count in sorted(self.failures.items())]


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
