"""Findings and alert states share their fields-set (memory), and still behave as pydantic models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ConfigDict

from alerts.policy import AlertState
from checks.finding import CompactFrozenModel, Finding, Severity, Stage, SubjectKind


def _finding(subject: str, **extra: object) -> Finding:
    return Finding(check="deadlines", rule="dossier_overdue", subject_kind=SubjectKind.DOSSIER, subject=subject,
                   unit="QLKH", stage=Stage.OVERDUE, severity=Severity.CRITICAL, **extra)


def test_instances_that_set_the_same_fields_share_one_set_and_others_do_not() -> None:
    a, b = _finding("A"), _finding("B")
    c = _finding("C", due_at=datetime(2026, 11, 20, tzinfo=UTC))
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__
    assert c.__pydantic_fields_set__ is not a.__pydantic_fields_set__
    assert "due_at" in c.model_fields_set and "due_at" not in a.model_fields_set
    assert a.model_dump(exclude_unset=True) == {"check": "deadlines", "rule": "dossier_overdue", "subject_kind": "dossier",
                                                "subject": "A", "unit": "QLKH", "stage": "overdue", "severity": "critical"}


def test_a_copy_with_an_update_changes_only_itself() -> None:
    a, b = _finding("A"), _finding("B")
    moved = a.model_copy(update={"due_at": datetime(2026, 11, 21, tzinfo=UTC)})
    assert "due_at" in moved.model_fields_set
    assert "due_at" not in a.model_fields_set and "due_at" not in b.model_fields_set
    state = AlertState(state_key="k", finding_key=a.thread_key, route="r", channel="email", unit="QLKH",
                       last_stage=Stage.OVERDUE, last_sent_at=None, episode_started_at=datetime(2026, 11, 20, tzinfo=UTC),
                       finding=a)
    other = AlertState.model_validate({**state.model_dump(exclude_unset=True), "state_key": "k2", "finding": b})
    resolved = state.model_copy(update={"resolved_at": datetime(2026, 11, 22, tzinfo=UTC)})
    assert state.__pydantic_fields_set__ is other.__pydantic_fields_set__
    assert "resolved_at" in resolved.model_fields_set and "resolved_at" not in other.model_fields_set
    assert resolved != state and other.finding == b


def test_a_model_that_is_not_frozen_cannot_share() -> None:
    with pytest.raises(TypeError, match="must stay frozen"):
        class Loose(CompactFrozenModel):  # noqa: F841
            model_config = ConfigDict(frozen=False)
            name: str
