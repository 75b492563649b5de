"""Routing: matchers, first match vs continue, receivers to unit / escalation chain / explicit units."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from alerts.routing import addresses_for, escalation_chain, match_routes, target_units
from alerts.settings import AlertsSettings, Receiver, Route
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit

UNITS = {
    "QLKH": Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["a@x.vn", "b@x.vn"], zalo_user_ids=["11"],
                 zalo_phones=["84901234567"], escalate_to="VP"),
    "VP": Unit(code="VP", name="Văn phòng Sở", emails=["vp@x.vn"], escalate_to="LD"),
    "LD": Unit(code="LD", name="Lãnh đạo Sở", emails=["ld@x.vn"], escalate_to="QLKH"),  # a cycle, cut
}


def finding(check: str = "deadlines", rule: str = "dossier_upcoming", stage: Stage = Stage.UPCOMING,
            severity: Severity = Severity.WARNING, unit: str = "QLKH") -> Finding:
    return Finding(check=check, rule=rule, subject_kind=SubjectKind.DOSSIER, subject="H48-1", unit=unit,
                   stage=stage, severity=severity)


ROUTES = AlertsSettings(routes=[
    {"name": "breach-to-vp", "stages": ["breach"], "receivers": [{"channel": "email", "to": ["VP"]}],
     "continue": True},
    {"name": "sync-to-cds", "checks": ["sync"], "receivers": [{"channel": "webhook:ops"}]},
    {"name": "critical-qlkh", "severities": ["critical"], "units": ["QLKH"], "receivers": [{"channel": "zalo"}]},
    {"name": "rest", "receivers": [{"channel": "email"}]},
]).routes


def names(routes: list[Route]) -> list[str]:
    return [route.name for route in routes]


def test_first_matching_route_wins() -> None:
    assert names(match_routes(finding(), ROUTES)) == ["rest"]
    assert names(match_routes(finding(check="sync"), ROUTES)) == ["sync-to-cds"]
    assert names(match_routes(finding(severity=Severity.CRITICAL), ROUTES)) == ["critical-qlkh"]


def test_all_matchers_must_hold() -> None:
    assert names(match_routes(finding(severity=Severity.CRITICAL, unit="VP"), ROUTES)) == ["rest"]


def test_continue_lets_later_routes_match_too() -> None:
    assert names(match_routes(finding(stage=Stage.BREACH), ROUTES)) == ["breach-to-vp", "rest"]
    assert names(match_routes(finding(stage=Stage.BREACH, check="sync"), ROUTES)) == ["breach-to-vp", "sync-to-cds"]


def test_no_route_no_receivers() -> None:
    only = AlertsSettings(routes=[{"checks": ["feedback"], "receivers": [{"channel": "email"}]}]).routes
    assert match_routes(finding(), only) == []
    assert only[0].name == "route-0"


def test_escalation_chain_follows_escalate_to_and_cuts_cycles() -> None:
    assert escalation_chain("QLKH", UNITS) == ["VP", "LD"]
    assert escalation_chain("VP", UNITS) == ["LD", "QLKH"]
    assert escalation_chain("UNKNOWN", UNITS) == []


def test_target_units_for_each_kind_of_receiver() -> None:
    f = finding()
    assert target_units(f, Receiver(channel="email", to="unit"), UNITS, 0) == ["QLKH"]
    assert target_units(f, Receiver(channel="email", to="escalation"), UNITS, 0) == []
    assert target_units(f, Receiver(channel="email", to="escalation"), UNITS, 1) == ["VP"]
    assert target_units(f, Receiver(channel="email", to="escalation"), UNITS, 5) == ["VP", "LD"]
    assert target_units(f, Receiver(channel="email", to=["LD", "VP"]), UNITS, 0) == ["LD", "VP"]


def test_addresses_per_channel() -> None:
    assert addresses_for(UNITS["QLKH"], "email", "QLKH") == ["a@x.vn", "b@x.vn"]
    assert addresses_for(UNITS["QLKH"], "zalo", "QLKH") == ["user:11", "phone:84901234567"]
    assert addresses_for(UNITS["VP"], "zalo", "VP") == []
    assert addresses_for(UNITS["VP"], "webhook:ops", "VP") == ["ops"]
    assert addresses_for(None, "file", "XYZ") == ["XYZ"]


def test_defaults_route_everything_to_the_unit_and_escalation() -> None:
    settings = AlertsSettings()
    (route,) = match_routes(finding(check="anything", stage=Stage.OPEN), settings.routes)
    assert {(r.channel, r.target_label) for r in route.receivers} == {
        ("email", "unit"), ("zalo", "unit"), ("file", "unit"), ("email", "escalation"), ("file", "escalation")}
    assert route.send_resolved is True
    assert settings.escalate_after_working_days_overdue == 2
    assert settings.digest.max_rows == 20 and settings.digest.max_actionable_rows == 60
    assert settings.digest.morning_enabled and settings.digest.morning_at == time(7, 30)
    assert settings.digest.backlog_summary_every_days == 7 and settings.digest.min_gap_minutes == 60
    assert settings.quiet_hours.email_quiet and settings.quiet_hours.quiet_channels == ["zalo", "file"]
    assert settings.quiet_hours.urgent_severities == []


@pytest.mark.parametrize(
    "bad",
    [
        {"routes": [{"receivers": [{"channel": "sms"}]}]},
        {"routes": [{"receivers": [{"channel": "webhook:"}]}]},
        {"routes": [{"name": "x"}, {"name": "x"}]},
        {"routes": [{"stages": ["late"]}]},
        {"unknown_key": 1},
        {"language": "fr"},
        {"digest": {"resolve_hold_hours": 5, "reopen_window_hours": 4}},
        {"quiet_hours": {"urgent_severities": ["loud"]}},
    ],
)
def test_invalid_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AlertsSettings.model_validate(bad)


def test_unit_contacts_come_from_todays_keys_and_from_a_contacts_mapping() -> None:
    """A unit written as configuration files always were still reaches e-mail and Zalo; a
    ``contacts:`` mapping works too and wins for a key given both ways."""
    legacy = Unit.model_validate({"code": "QLKH", "name": "Phòng QLKH", "emails": ["a@x.vn"],
                                  "zalo_user_ids": ["11"], "zalo_phones": ["0901234567"]})
    mapped = Unit.model_validate({"code": "QLKH", "name": "Phòng QLKH", "emails": ["old@x.vn"],
                                  "contacts": {"emails": ["a@x.vn"], "zalo_user_ids": ["11"],
                                               "zalo_phones": ["0901234567"]}})
    for unit in (legacy, mapped, Unit.model_validate(legacy.model_dump())):
        assert unit.contacts == {"emails": ["a@x.vn"], "zalo_user_ids": ["11"], "zalo_phones": ["0901234567"]}
        assert addresses_for(unit, "email", "QLKH") == ["a@x.vn"]
        assert addresses_for(unit, "zalo", "QLKH") == ["user:11", "phone:0901234567"]
        assert unit.emails == ["a@x.vn"] and unit.zalo_phones == ["0901234567"]
    assert Unit(code="VP", name="Văn phòng", handles_dossiers=False, order=3).contacts == {}
    single = Unit.model_validate({"code": "VP", "name": "Văn phòng", "emails": "vp@x.vn", "email": "typo@x.vn"})
    assert addresses_for(single, "email", "VP") == ["vp@x.vn"]  # one text is one address, not dropped
    assert single.contacts["email"] == ["typo@x.vn"]  # kept, so the daemon can name the unused key
