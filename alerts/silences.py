"""Silences: label matchers with a time window, kept forever with author and reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from alerts.tables import silences
from checks.contracts import Finding

MATCHABLE_LABELS = ("check", "rule", "stage", "severity", "unit", "subject", "subject_kind")


class Silence(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int | None = None
    matchers: dict[str, str]  # label -> exact value; all must match
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    author: str
    reason: str
    created_at: datetime | None = None
    expired_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        end = self.ends_at if self.expired_at is None else min(self.ends_at, self.expired_at)
        return self.starts_at <= now < end

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(name) == value for name, value in self.matchers.items())


def finding_labels(finding: Finding) -> dict[str, str]:
    return labels_of(finding.check, finding.rule, finding.stage.value, finding.severity.value, finding.unit,
                     finding.subject, finding.subject_kind.value)


def labels_of(check: str, rule: str, stage: str, severity: str, unit: str, subject: str,
              subject_kind: str) -> dict[str, str]:
    """:func:`finding_labels` for a finding given by its values (a table's row)."""
    return {"check": check, "rule": rule, "stage": stage, "severity": severity, "unit": unit, "subject": subject,
            "subject_kind": subject_kind}


def is_silenced(labels: Mapping[str, str], active: list[Silence]) -> bool:
    return any(silence.matches(labels) for silence in active)


def parse_matchers(text: str) -> dict[str, str]:
    """``unit=QLKH,check=deadlines`` -> dict; unknown labels are refused."""
    matchers: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not value:
            raise ValueError(f"matcher {part!r}: expected label=value")
        if name not in MATCHABLE_LABELS:
            raise ValueError(f"matcher {part!r}: label must be one of {', '.join(MATCHABLE_LABELS)}")
        matchers[name] = value
    if not matchers:
        raise ValueError("at least one matcher label=value is required")
    return matchers


def add_silence(
    engine: Engine, matchers: dict[str, str], starts_at: datetime, ends_at: datetime, author: str, reason: str,
    now: datetime,
) -> int:
    if ends_at <= starts_at:
        raise ValueError("the silence must end after it starts")
    if not reason.strip():
        raise ValueError("a reason is required")
    with engine.begin() as conn:
        result = conn.execute(
            silences.insert().values(
                matchers=matchers, starts_at=starts_at, ends_at=ends_at, author=author, reason=reason,
                created_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def expire_silence(engine: Engine, silence_id: int, now: datetime) -> bool:
    """Mark a silence expired now; the row stays for history. False if unknown or already over."""
    with engine.begin() as conn:
        result = conn.execute(
            silences.update()
            .where(silences.c.id == silence_id, silences.c.expired_at.is_(None), silences.c.ends_at > now)
            .values(expired_at=now)
        )
        return result.rowcount == 1


def load_silences(engine: Engine, active_at: datetime | None = None) -> list[Silence]:
    """All silences (history), or only those active at ``active_at``."""
    query = sa.select(silences).order_by(silences.c.id)
    if active_at is not None:
        query = query.where(
            silences.c.starts_at <= active_at, silences.c.ends_at > active_at, silences.c.expired_at.is_(None)
        )
    with engine.connect() as conn:
        return [Silence.model_validate(dict(row._mapping)) for row in conn.execute(query)]
