"""The checks' words come from the catalog: ``language: en`` reads English, Vietnamese is unchanged.

* an English digest of findings of every declared rule (the demo world plus the hand-made world of
  test_check_declarations) has no Vietnamese letter in its problem texts or rule labels;
* the Vietnamese problem texts are today's, character for character, for every one of those findings;
* the stored Vietnamese facts (components, fields, catalogs, statuses, bands, occurrences, online
  problems, apology lead) are today's; their English words are English;
* a plug-in's inline Vietnamese label reaches readers through the catalog (``add_words``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from alerts.policy import BacklogCount, Notification, NotificationItem
from alerts.render import problem_text, render_notification, rule_label
from alerts.settings import AlertsSettings
from checks.apology import apology_lead_text
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit
from checks.finding_text import finding_detail
from checks.i18n import N_, gettext
from checks.index766 import BAND_LABELS_VI, INDICATORS
from checks.online import problem_text as online_problem
from checks.plan_tasks import occurrence_label
from checks.publication import catalog_labels, component_labels
from checks.registry import REGISTRY, CheckRegistry
from checks.schema import DOSSIER_STATUS_NAMES, DOSSIER_STATUS_VI, PROCEDURE_COMPONENTS_VI
from checks.settings import ChecksSettings
from checks.spec import Label
from checks.sync import field_label
from monitor.cycle import CycleRunner
from monitor.metrics import MetricsState
from tests.test_check_declarations import DEMO_NOW, NOW, hand_made_tables
from tests.test_i18n_catalogs import VIETNAMESE_LETTERS

ROOT = Path(__file__).resolve().parents[1]

# Today's Vietnamese rule labels (before the catalog), pinned.
RULE_LABELS_VI = {
    "kpi_below_target": "Chỉ tiêu dưới mục tiêu", "dossier_upcoming": "Sắp đến hạn trả",
    "dossier_due_today": "Đến hạn trả hôm nay", "dossier_overdue": "Quá hạn trả",
    "apology_missing": "Trễ hạn, chưa có văn bản xin lỗi", "apology_late": "Văn bản xin lỗi gửi muộn",
    "due_moved_twice": "Gia hạn quá một lần", "supplement_repeated": "Yêu cầu bổ sung nhiều lần",
    "feedback_upcoming": "PAKN sắp đến hạn", "feedback_overdue": "PAKN quá hạn xử lý",
    "feedback_unpublished": "Chưa công khai kết quả trả lời PAKN", "index_below_threshold": "Điểm Bộ chỉ số 766 thấp",
    "online_service_missing": "Chưa cung cấp DVC trực tuyến",
    "full_online_missing": "Chưa cung cấp DVC trực tuyến toàn trình",
    "online_payment_missing": "Chưa thanh toán trực tuyến", "postal_missing": "Chưa tiếp nhận/trả kết quả qua BCCI",
    "task_upcoming": "Nhiệm vụ sắp đến hạn", "task_due_today": "Nhiệm vụ đến hạn hôm nay",
    "task_overdue": "Nhiệm vụ quá hạn", "not_published": "Chưa công khai", "components_missing": "Thiếu bộ phận cấu thành",
    "publication_late": "Quyết định công bố muộn", "public_late": "Công khai trên CSDL quốc gia muộn",
    "catalog_missing_national": "Thiếu trên CSDL quốc gia", "catalog_missing_provincial": "Thiếu trên hệ thống tỉnh",
    "catalog_content_differs": "Nội dung khác giữa tỉnh và quốc gia", "dossier_unsynced": "Chưa đồng bộ lên Cổng DVCQG",
    "dossier_status_lag": "Trạng thái trên Cổng DVCQG chưa cập nhật", "source_stale": "Nguồn dữ liệu không cập nhật",
    "source_suspect": "Nguồn dữ liệu bất thường, đang dùng dữ liệu cũ",
}
UNITS = [Unit(code="QLKH", name="Phòng Quản lý khoa học", emails=["qlkh@so.gov.vn"])]
CREATED = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def vietnamese(text: str) -> set[str]:
    return VIETNAMESE_LETTERS & set(text)


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    """Findings of every declared rule: the demo's (as `tthc-monitor check` prints them) and the hand-made world's."""
    result = subprocess.run([sys.executable, "-m", "monitor.cli", "check", "--now", DEMO_NOW, "--format", "json"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    demo = [Finding.model_validate(f) for f in json.loads(result.stdout)["findings"]]
    runner = CycleRunner(REGISTRY.checks, WorkingCalendar(CalendarSettings()), ChecksSettings(units=["QLKH"]),
                         MetricsState(), None)
    found = demo + runner.run(hand_made_tables(), NOW).findings
    assert {f.rule for f in found} == set(REGISTRY.rules)
    return found


def todays_problem_text(finding: Finding) -> str:
    """problem_text(finding, "vi") as it was before the catalog: stored Vietnamese facts, pinned labels."""
    label, facts = RULE_LABELS_VI[finding.rule], finding.facts
    if finding.rule == "kpi_below_target" and isinstance(facts.get("ratio"), int | float):
        def percent(value: float) -> str:
            return (f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%").replace(".", ",")
        name = facts.get("kpi_label") or facts.get("kpi")
        return f"{label}: {name} {percent(float(facts['ratio'] or 0))} (mục tiêu {percent(float(facts.get('target') or 0))})"
    if finding.rule == "source_suspect":  # a rule newer than the catalog: its Vietnamese pinned here
        return (f"{label}: trả về {facts['new_rows']} dòng, chỉ 10% so với 1.200 dòng lần trước; "
                f"dữ liệu cũ vẫn được dùng cho tới khi xác nhận (tthc-monitor source accept {facts['source']})")
    detail = next((str(facts[k]) for k in ("missing_components", "differing_fields", "missing_on",
                                            "national_status_label") if facts.get(k)), "")
    return f"{label}: {detail}" if detail else label


def test_english_digest_of_every_rule_reads_english(findings: list[Finding]) -> None:
    first = {f.rule: f for f in reversed(findings)}  # one finding per rule
    items = [NotificationItem(finding=f.model_copy(update={"unit": "QLKH"}), kind="new", ordinal=1,
                              episode_started_at=CREATED) for f in first.values()]
    notification = Notification(unit="QLKH", channel="email", addresses=["qlkh@so.gov.vn"], items=items,
                                created_at=CREATED, backlog=[BacklogCount(rule=r, count=2, previous=1) for r in first])
    (entry,) = render_notification(notification, UNITS, AlertsSettings(language="en"))
    for rule, finding in first.items():
        english = problem_text(finding, "en")
        assert english in entry.text, rule
        assert not vietnamese(english), (rule, english)
        assert not vietnamese(rule_label(rule, "en")), rule
    for finding in findings:  # every finding, not only the rendered ones
        assert not vietnamese(problem_text(finding, "en")), (finding.key, problem_text(finding, "en"))
    assert "Components missing: " in entry.text and "Dossiers digitised" in entry.text


def test_vietnamese_problem_texts_are_todays(findings: list[Finding]) -> None:
    for finding in findings:
        assert problem_text(finding, "vi") == todays_problem_text(finding), finding.key
        assert rule_label(finding.rule, "vi") == RULE_LABELS_VI[finding.rule]
    assert REGISTRY.labels("rule", "vi") == RULE_LABELS_VI


def test_each_detail_in_english_from_the_keys_the_facts_keep() -> None:
    base = Finding(check="publication", rule="components_missing", subject_kind=SubjectKind.PROCEDURE,
                   subject="1.000001", unit="QLKH", stage=Stage.OPEN, severity=Severity.WARNING,
                   facts={"missing_components": "Trình tự thực hiện; Phí, lệ phí", "missing_component_keys": "steps,fees"})
    assert problem_text(base, "en") == "Components missing: Steps to follow; Fees and charges"
    assert problem_text(base, "vi") == "Thiếu bộ phận cấu thành: Trình tự thực hiện; Phí, lệ phí"
    differs = base.model_copy(update={"check": "sync", "rule": "catalog_content_differs", "facts": {
        "differing_fields": "Tên thủ tục; Thành phần: Phí, lệ phí", "differing_field_keys": "name,has_fees"}})
    assert problem_text(differs, "en") == "Content differs between catalogs: Procedure name; Component: Fees and charges"
    assert problem_text(differs, "vi") == "Nội dung khác giữa tỉnh và quốc gia: Tên thủ tục; Thành phần: Phí, lệ phí"
    unpublished = base.model_copy(update={"rule": "not_published", "facts": {
        "missing_on": "Cơ sở dữ liệu quốc gia về TTHC", "missing_on_keys": "national"}})
    assert problem_text(unpublished, "en") == "Not published: National database of administrative procedures"
    lag = base.model_copy(update={"check": "sync", "rule": "dossier_status_lag", "facts": {
        "national_status": 2, "national_status_label": "Được tiếp nhận"}})
    assert problem_text(lag, "en") == "Status on the national portal lags: Accepted"
    assert problem_text(lag, "vi") == "Trạng thái trên Cổng DVCQG chưa cập nhật: Được tiếp nhận"
    kpi = base.model_copy(update={"check": "digitisation", "rule": "kpi_below_target", "facts": {
        "kpi": "dossier_digitised", "kpi_label": "Tỷ lệ hồ sơ được số hóa", "ratio": 0.9678, "target": 1.0}})
    assert problem_text(kpi, "en") == "KPI below target: Dossiers digitised 96.8% (target 100%)"
    assert problem_text(kpi, "vi") == "Chỉ tiêu dưới mục tiêu: Tỷ lệ hồ sơ được số hóa 96,8% (mục tiêu 100%)"
    # A stored row without its keys is shown as stored.
    assert finding_detail({"missing_components": "Trình tự thực hiện"}, "en") == "Trình tự thực hiện"


def test_stored_vietnamese_facts_are_todays_and_their_english_is_english() -> None:
    assert PROCEDURE_COMPONENTS_VI == {
        "name": "Tên thủ tục", "steps": "Trình tự thực hiện", "method": "Cách thức thực hiện",
        "composition": "Thành phần, số lượng hồ sơ", "time_limit": "Thời hạn giải quyết",
        "applicants": "Đối tượng thực hiện", "agency": "Cơ quan giải quyết", "result": "Kết quả thực hiện",
        "forms": "Mẫu đơn, tờ khai", "conditions": "Yêu cầu, điều kiện", "fees": "Phí, lệ phí",
        "legal_basis": "Căn cứ pháp lý",
    }
    keys = list(PROCEDURE_COMPONENTS_VI)
    assert component_labels(keys, "vi") == "; ".join(PROCEDURE_COMPONENTS_VI.values())
    assert not vietnamese(component_labels(keys, "en"))
    assert catalog_labels(["national", "provincial"], "vi") == (
        "Cơ sở dữ liệu quốc gia về TTHC; Hệ thống thông tin giải quyết TTHC của tỉnh")
    assert field_label("has_steps", "vi") == "Thành phần: Trình tự thực hiện"
    assert field_label("content_digest", "vi") == "Nội dung (mã băm)"
    assert field_label("content_digest", "en") == "Content (hash)"
    # The portal's status words (read from its files) are the catalog's Vietnamese.
    assert {code: gettext("vi", m) for code, m in DOSSIER_STATUS_NAMES.items()} == DOSSIER_STATUS_VI
    assert not any(vietnamese(gettext("en", m)) for m in DOSSIER_STATUS_NAMES.values())
    assert BAND_LABELS_VI == {"excellent": "Xuất sắc", "good": "Tốt", "fair": "Khá", "average": "Trung bình", "weak": "Yếu"}
    assert INDICATORS[0].label_vi == "Công bố TTHC đúng hạn" and INDICATORS[0].label_in("en") == "Procedures decided on time"
    assert not any(vietnamese(i.label_in("en")) for i in INDICATORS)
    assert occurrence_label(date(2026, 7, 1), "quarter") == "Quý III/2026"
    assert occurrence_label(date(2026, 7, 1), "quarter", "en") == "Quarter III/2026"
    assert occurrence_label(date(2026, 1, 1), "half_year") == "6 tháng đầu năm 2026"
    assert occurrence_label(date(2026, 7, 1), "half_year", "en") == "Second half of 2026"
    assert occurrence_label(date(2026, 11, 1), "month") == "Tháng 11/2026"
    assert occurrence_label(date(2026, 1, 1), "year", "en") == "Year 2026"
    assert online_problem("online_payment_missing", "vi") == "Chưa hỗ trợ thanh toán trực tuyến phí, lệ phí"
    assert online_problem("online_payment_missing", "en") == "Fees and charges cannot be paid online"
    assert online_problem("not_an_online_rule", "en") is None
    assert [apology_lead_text(n, "vi") for n in (1, 2)] == ["01 ngày làm việc", "02 ngày làm việc"]
    assert [apology_lead_text(n, "en") for n in (1, 3)] == ["one working day", "3 working days"]


def test_every_declared_label_is_vietnamese_and_english() -> None:
    for label in REGISTRY.all_labels():
        # "766/QĐ-TTg" is a document number, not a word
        assert label.en == label.msgid and not vietnamese(label.en.replace("QĐ-TTg", "")), label.msgid
        assert label.vi != label.msgid and label.get("vi") == label.vi and label.get("fr") == label.vi, label.msgid
    assert Label(N_("Dossiers resolved on time")).vi == "Tỷ lệ hồ sơ giải quyết đúng hạn"
    assert Label(en="Dossiers resolved on time") == Label(N_("Dossiers resolved on time"))


def test_a_plugins_inline_vietnamese_label_goes_through_the_catalog() -> None:
    from tests.plugins.probe_check import ProbeCheck

    label = Label("Inline-only label of a test plug-in", vi="Nhãn riêng của phần mở rộng thử")
    assert label.vi == "Inline-only label of a test plug-in"  # not registered yet: the catalog does not know it
    probe = ProbeCheck()
    spec = probe.spec
    rules = (spec.rules[0].model_copy(update={"label": label}),)
    probe.spec = replace(spec, rules=rules)
    CheckRegistry([probe])
    assert label.vi == "Nhãn riêng của phần mở rộng thử" == gettext("vi", label.msgid)
    assert label.en == "Inline-only label of a test plug-in"
    # A plug-in cannot change a shipped text.
    probe.spec = replace(spec, rules=(spec.rules[0].model_copy(update={"label": Label("Overdue", vi="ghi đè")}),))
    CheckRegistry([probe])
    assert Label("Overdue").vi == "Quá hạn trả"
