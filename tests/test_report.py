"""The inspection report against real stores (SQLite file and PostgreSQL), filled through the real
APIs (HistoryStore, alerts.outbox.enqueue, the Dispatcher, add_silence), then rendered as XLSX
(read back with polars), Markdown and CSV, and run through its CLI command."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.engine import Engine

from alerts.dispatcher import Dispatcher
from alerts.outbox import enqueue
from alerts.render import OutboxEntry
from alerts.settings import AlertsSettings
from alerts.silences import add_silence
from checks.contracts import (
    DeliveryError,
    Finding,
    InvalidValues,
    KpiValue,
    Message,
    Period,
    RejectedRow,
    Severity,
    Stage,
    SubjectKind,
    Unit,
)
from checks.schema import TableName
from checks.timeutil import VN_TZ
from monitor.cli import build_parser
from monitor.reports import (
    InspectionReport,
    ReportWindow,
    build_inspection_report,
    render_markdown,
    write_csv_folder,
    write_xlsx,
)
from monitor.settings import Settings
from monitor.store.history import HistoryStore

Q4 = ReportWindow(start=date(2026, 10, 1), end=date(2026, 12, 31))
NOW = datetime(2027, 1, 5, 9, 0, tzinfo=VN_TZ)
TARGETS = {"dossier_on_time": 0.99, "late_with_apology": 1.0}
UNIT_NAMES = {"QLKH": "Phòng Quản lý Khoa học", "QLCN": "Phòng Quản lý công nghệ và Đổi mới sáng tạo"}
DOSSIER_1 = "000.00.53.H48-261020-0001"
DOSSIER_2 = "000.00.53.H48-261021-0002"
PROCEDURE = "Cấp giấy chứng nhận đăng ký hoạt động khoa học và công nghệ"


def vn(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN_TZ)


def deadline_finding(rule: str, subject: str, unit: str, stage: Stage) -> Finding:
    return Finding(
        check="deadlines", rule=rule, subject_kind=SubjectKind.DOSSIER, subject=subject, unit=unit,
        stage=stage, severity=Severity.CRITICAL, due_at=vn(10, 30, 17),
        facts={"procedure_code": "1.001612", "procedure_name": PROCEDURE, "due_at": "30/10/2026 17:00",
               "apology_at": None, "closed_at": None},
    )


OLD = deadline_finding("dossier_overdue", "000.00.53.H48-260801-0009", "QLKH", Stage.OVERDUE)
F1 = deadline_finding("dossier_overdue", DOSSIER_1, "QLKH", Stage.OVERDUE)
F1_BREACH = F1.model_copy(update={"stage": Stage.BREACH})
F2 = deadline_finding("apology_missing", DOSSIER_1, "QLKH", Stage.BREACH)
F3 = deadline_finding("dossier_overdue", DOSSIER_2, "QLCN", Stage.OVERDUE)
F4 = Finding(check="feedback", rule="feedback_overdue", subject_kind=SubjectKind.FEEDBACK, subject="PAKN-17",
             unit="QLKH", stage=Stage.OVERDUE, severity=Severity.WARNING)
F5 = deadline_finding("dossier_upcoming", "000.00.53.H48-261101-0003", "QLKH", Stage.UPCOMING)


class RecordingChannel:
    def __init__(self, name: str, error: DeliveryError | None = None) -> None:
        self.name = name
        self.error = error
        self.messages: list[Message] = []

    def send(self, message: Message) -> None:
        if self.error is not None:
            raise self.error
        self.messages.append(message)


def entry(channel: str, receiver: str, unit: str, keys: list[str], key: str,
          not_before: datetime | None = None) -> OutboxEntry:
    return OutboxEntry(channel=channel, receiver=receiver, unit=unit, subject=f"[Cảnh báo] {unit}: hồ sơ quá hạn",
                       text="…", idempotency_key=key, finding_keys=keys, not_before=not_before)


def populate(engine: Engine) -> None:
    history = HistoryStore(engine)
    quarter = {Period.QUARTER: date(2026, 10, 1)}

    def kpi(name: str, unit: str, num: float, den: float) -> KpiValue:
        return KpiValue(kpi=name, unit=unit, period=Period.QUARTER, numerator=num, denominator=den)

    history.record_kpis(vn(9, 20, 10), [kpi("dossier_on_time", "QLKH", 50, 100)], {Period.QUARTER: date(2026, 7, 1)})
    history.record_kpis(vn(11, 10, 10), [kpi("dossier_on_time", "QLKH", 95, 100), kpi("dossier_on_time", "QLCN", 0, 0),
                                         kpi("dossier_on_time", "ALL", 95, 100)], quarter)
    history.record_kpis(vn(12, 20, 10), [kpi("dossier_on_time", "QLKH", 199, 200), kpi("dossier_on_time", "QLCN", 0, 0),
                                         kpi("dossier_on_time", "ALL", 199, 250),
                                         kpi("late_with_apology", "QLKH", 1, 2)], quarter)
    # after the window's end: must not be the "latest" value of Q4
    history.record_kpis(vn(1, 2, 10, year=2027), [kpi("dossier_on_time", "QLKH", 150, 200)], quarter)

    history.sync_findings(vn(9, 1, 9), [OLD])
    history.sync_findings(vn(9, 15, 9), [])  # resolved before the window
    history.sync_findings(vn(11, 2, 9), [F1, F2, F3, F4, F5])
    history.sync_findings(vn(11, 5, 9), [F1_BREACH, F2, F3, F4, F5])
    history.sync_findings(vn(11, 10, 14), [F3, F4])

    settings = AlertsSettings()
    enqueue(engine, [entry("email", "vp@so.gov.vn", "QLKH", [OLD.key], "k0")], [], [], vn(9, 1, 9, 5))
    Dispatcher(engine, {"email": RecordingChannel("email")}, lambda: vn(9, 1, 9, 6), settings).run_once()
    enqueue(engine, [
        entry("email", "truongphong.qlkh@so.gov.vn", "QLKH", [F1.key, F2.key], "k1"),
        entry("zalo", "zalo-user-qlkh", "QLKH", [F1.key], "k2"),
        entry("email", "truongphong.qlcn@so.gov.vn", "QLCN", [F3.key], "k3", not_before=vn(11, 3, 8)),
    ], [], [], vn(11, 2, 9, 5))
    channels = {"email": RecordingChannel("email"),
                "zalo": RecordingChannel("zalo", DeliveryError("Zalo -230: người nhận chưa tương tác", permanent=True))}
    Dispatcher(engine, channels, lambda: vn(11, 2, 9, 6), settings).run_once()

    poll = history.record_poll(source="dvcqg", table=TableName.DOSSIERS, started_at=vn(9, 1, 8),
                               finished_at=vn(9, 1, 8, 1), ok=False, error="old failure")
    early = history.record_poll(source="dvcqg", table=TableName.DOSSIERS, started_at=vn(11, 1, 8),
                                finished_at=vn(11, 1, 8, 1), ok=True, rows=10)
    history.record_invalid_values(early, "dvcqg", [
        InvalidValues(field="channel", column="KenhThucHien", reason="not a whole number", count=3, first_row=4),
        InvalidValues(field="due_at", column="NgayHenTra", reason="channel must be 1–3", count=1, first_row=9),
    ])
    history.record_poll(source="dvcqg", table=TableName.DOSSIERS, started_at=vn(11, 1, 9),
                        finished_at=vn(11, 1, 9, 1), ok=False, error="HTTP 503 from portal")
    poll = history.record_poll(source="dvcqg", table=TableName.DOSSIERS, started_at=vn(11, 1, 10),
                               finished_at=vn(11, 1, 10, 1), ok=True, rows=10, rejected_rows=2)
    history.record_rejects(poll, "dvcqg", [RejectedRow(row=3, column="NgayHenTra", value="2026-13-45",
                                                       reason="ngày không hợp lệ"),
                                           RejectedRow(row=7, column="NgayHenTra", value="x",
                                                       reason="ngày không hợp lệ")])
    history.record_invalid_values(poll, "dvcqg", [
        InvalidValues(field="channel", column="KenhThucHien", reason="not a whole number", count=1, first_row=2),
    ])
    history.record_poll(source="igate", table=TableName.DOSSIERS, started_at=vn(12, 1, 8),
                        finished_at=vn(12, 1, 8, 1), ok=False, error="timeout after 30 s")

    history.record_check_run(cycle_at=vn(11, 2, 9), check_name="deadlines", ok=True, duration_seconds=0.2)
    history.record_check_run(cycle_at=vn(11, 3, 9), check_name="deadlines", ok=False, duration_seconds=0.1,
                             error="ValueError: bad due date")

    add_silence(engine, {"unit": "QLKH", "check": "deadlines"}, vn(11, 20, 8), vn(11, 22, 17),
                "nguyen.van.a", "Bảo trì hệ thống iGate", vn(11, 20, 7, 55))
    add_silence(engine, {"unit": "QLCN"}, vn(12, 1, 8), vn(12, 2, 8), "tran.thi.b", "Đơn vị chuyển trụ sở",
                vn(12, 1, 7))
    add_silence(engine, {"unit": "QLKH"}, vn(9, 1, 8), vn(9, 30, 8), "le.van.c", "Trước kỳ báo cáo", vn(9, 1, 7))


@pytest.fixture
def filled(store: Engine) -> Engine:
    populate(store)
    return store


def build(engine: Engine, window: ReportWindow = Q4) -> InspectionReport:
    return build_inspection_report(engine, window, NOW, targets=TARGETS, unit_names=UNIT_NAMES,
                                   department="Sở Khoa học và Công nghệ")


def naive(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)


def test_kpi_section_takes_latest_value_in_window_against_targets(filled: Engine) -> None:
    frame = build(filled).section("kpis").frame
    rows = frame.select("unit", "unit_name", "kpi", "kpi_label", "period", "numerator", "denominator",
                        "ratio", "target", "result", "recorded_at").rows()
    assert rows == [
        ("QLCN", UNIT_NAMES["QLCN"], "dossier_on_time", "Tỷ lệ hồ sơ giải quyết đúng hạn", "Quý", 0.0, 0.0,
         None, 0.99, "Không có dữ liệu", naive(11, 10, 10)),
        ("QLKH", UNIT_NAMES["QLKH"], "dossier_on_time", "Tỷ lệ hồ sơ giải quyết đúng hạn", "Quý", 199.0, 200.0,
         0.995, 0.99, "Đạt", naive(12, 20, 10)),
        ("QLKH", UNIT_NAMES["QLKH"], "late_with_apology", "Tỷ lệ hồ sơ trễ hạn có văn bản xin lỗi", "Quý", 1.0, 2.0,
         0.5, 1.0, "Chưa đạt", naive(12, 20, 10)),
        ("ALL", "Toàn Sở", "dossier_on_time", "Tỷ lệ hồ sơ giải quyết đúng hạn", "Quý", 199.0, 250.0,
         0.796, 0.99, "Chưa đạt", naive(12, 20, 10)),
    ]
    assert frame["period_start"].to_list() == [date(2026, 10, 1)] * 4


def test_deadline_section_lists_late_dossiers_with_history_and_who_was_told(filled: Engine) -> None:
    frame = build(filled).section("deadlines").frame
    assert frame.select("unit", "dossier", "rule", "rule_label", "stage", "status").rows() == [
        ("QLCN", DOSSIER_2, "dossier_overdue", "Quá hạn trả", "Quá hạn", "Đang mở"),
        ("QLKH", DOSSIER_1, "apology_missing", "Trễ hạn, chưa có văn bản xin lỗi", "Vi phạm", "Đã khắc phục"),
        ("QLKH", DOSSIER_1, "dossier_overdue", "Quá hạn trả", "Vi phạm", "Đã khắc phục"),
    ]
    assert frame["first_seen_at"].to_list() == [naive(11, 2, 9)] * 3
    assert frame["resolved_at"].to_list() == [None, naive(11, 10, 14), naive(11, 10, 14)]
    assert frame["due_at"].to_list() == [naive(10, 30, 17)] * 3
    assert frame["procedure_name"].to_list() == [PROCEDURE] * 3
    assert frame["notifications"].to_list() == [1, 1, 2]
    assert frame["first_notified_at"].to_list() == [None, naive(11, 2, 9, 6), naive(11, 2, 9, 6)]
    assert frame["stage_history"][2] == (
        "02/11/2026 09:00 Phát hiện (Quá hạn); 05/11/2026 09:00 Chuyển mức (Vi phạm); "
        "10/11/2026 14:00 Đã khắc phục (Vi phạm)"
    )
    assert frame["stage_history"][0] == "02/11/2026 09:00 Phát hiện (Quá hạn)"


def test_notification_section_says_who_was_told_when(filled: Engine) -> None:
    frame = build(filled).section("notifications").frame
    rows = frame.select("unit", "subject", "rule_label", "channel", "receiver", "created_at", "sent_at",
                        "status", "attempts").rows()
    assert rows == [
        ("QLCN", DOSSIER_2, "Quá hạn trả", "Thư điện tử", "truongphong.qlcn@so.gov.vn", naive(11, 2, 9, 5),
         None, "Chờ gửi", 0),
        ("QLKH", DOSSIER_1, "Trễ hạn, chưa có văn bản xin lỗi", "Thư điện tử", "truongphong.qlkh@so.gov.vn",
         naive(11, 2, 9, 5), naive(11, 2, 9, 6), "Đã gửi", 1),
        ("QLKH", DOSSIER_1, "Quá hạn trả", "Thư điện tử", "truongphong.qlkh@so.gov.vn",
         naive(11, 2, 9, 5), naive(11, 2, 9, 6), "Đã gửi", 1),
        ("QLKH", DOSSIER_1, "Quá hạn trả", "Zalo", "zalo-user-qlkh", naive(11, 2, 9, 5), None,
         "Gửi thất bại", 1),
    ]
    by_receiver = dict(zip(frame["receiver"], frame["delivery_history"], strict=True))
    assert by_receiver["zalo-user-qlkh"] == "02/11/2026 09:06 thất bại"
    assert by_receiver["truongphong.qlkh@so.gov.vn"] == "02/11/2026 09:06 đã gửi"
    assert by_receiver["truongphong.qlcn@so.gov.vn"] is None
    assert frame.filter(pl.col("channel") == "Zalo")["last_error"].to_list() == [
        "Zalo -230: người nhận chưa tương tác"
    ]


def test_source_check_and_silence_sections(filled: Engine) -> None:
    report = build(filled)
    sources = report.section("sources").frame
    assert sources.rows() == [
        ("dvcqg", 2, 1, naive(11, 1, 10, 1), naive(11, 1, 10, 1), naive(11, 1, 9, 1), "HTTP 503 from portal", 2),
        ("igate", 0, 1, naive(12, 1, 8, 1), None, naive(12, 1, 8, 1), "timeout after 30 s", 0),
    ]
    assert report.section("source_rejects").frame.rows() == [
        ("dvcqg", "NgayHenTra", "ngày không hợp lệ", 2, naive(11, 1, 10, 1), naive(11, 1, 10, 1)),
    ]
    assert report.section("source_invalid_values").frame.rows() == [
        ("dvcqg", "channel", "KenhThucHien", "không phải là số nguyên", 2, 1, naive(11, 1, 8, 1), naive(11, 1, 10, 1)),
        ("dvcqg", "due_at", "NgayHenTra", "channel phải từ 1 đến 3", 1, 1, naive(11, 1, 8, 1), naive(11, 1, 8, 1)),
    ]
    assert report.section("check_runs").frame.rows() == [
        ("deadlines", 1, 1, naive(11, 3, 9), naive(11, 3, 9), "ValueError: bad due date"),
    ]
    silences = report.section("silences").frame
    assert silences.select("matchers", "starts_at", "ends_at", "author", "reason").rows() == [
        ("check=deadlines, unit=QLKH", naive(11, 20, 8), naive(11, 22, 17), "nguyen.van.a", "Bảo trì hệ thống iGate"),
        ("unit=QLCN", naive(12, 1, 8), naive(12, 2, 8), "tran.thi.b", "Đơn vị chuyển trụ sở"),
    ]


def test_unit_filter_keeps_only_that_unit(filled: Engine) -> None:
    report = build(filled, ReportWindow(start=date(2026, 10, 1), end=date(2026, 12, 31), unit="QLKH"))
    assert set(report.section("kpis").frame["unit"]) == {"QLKH"}
    assert set(report.section("deadlines").frame["unit"]) == {"QLKH"}
    assert report.section("deadlines").frame.height == 2
    assert set(report.section("notifications").frame["unit"]) == {"QLKH"}
    assert report.section("notifications").frame["check"].to_list() == ["Thời hạn giải quyết hồ sơ"] * 3
    assert report.section("silences").frame["author"].to_list() == ["nguyen.van.a"]


def test_window_end_cuts_later_history(filled: Engine) -> None:
    """October alone holds nothing (everything starts in November); 1–5 November stops before the
    resolution of 10 November, so the history ends at the stage change."""
    report = build(filled, ReportWindow(start=date(2026, 10, 1), end=date(2026, 10, 31)))
    assert all(report.section(key).frame.height == 0 for key in ("kpis", "deadlines", "notifications", "sources"))
    november = build(filled, ReportWindow(start=date(2026, 11, 1), end=date(2026, 11, 5)))
    history = november.section("deadlines").frame["stage_history"].to_list()
    assert history[2] == "02/11/2026 09:00 Phát hiện (Quá hạn); 05/11/2026 09:00 Chuyển mức (Vi phạm)"


def test_xlsx_round_trip_with_vietnamese_headers(filled: Engine, tmp_path: Path) -> None:
    path = write_xlsx(build(filled), tmp_path / "out" / "bao-cao.xlsx")
    kpis = pl.read_excel(path, sheet_name="Tổng hợp chỉ tiêu")
    assert kpis.columns[:4] == ["Mã đơn vị", "Đơn vị", "Mã chỉ tiêu", "Chỉ tiêu"]
    assert kpis["Kết quả"].to_list() == ["Không có dữ liệu", "Đạt", "Chưa đạt", "Chưa đạt"]
    assert kpis["Tỷ lệ"].to_list()[1:] == pytest.approx([0.995, 0.5, 0.796])
    assert kpis["Tỷ lệ"].to_list()[0] is None
    late = pl.read_excel(path, sheet_name="Hồ sơ trễ hạn")
    assert late["Mã hồ sơ"].to_list() == [DOSSIER_2, DOSSIER_1, DOSSIER_1]
    assert late["Phát hiện lúc"].to_list() == [naive(11, 2, 9)] * 3
    assert late["Tình trạng"].to_list() == ["Đang mở", "Đã khắc phục", "Đã khắc phục"]
    told = pl.read_excel(path, sheet_name="Cảnh báo đã gửi")
    assert told["Người nhận"].to_list() == ["truongphong.qlcn@so.gov.vn", "truongphong.qlkh@so.gov.vn",
                                            "truongphong.qlkh@so.gov.vn", "zalo-user-qlkh"]
    assert told["Gửi lúc"].to_list()[1] == naive(11, 2, 9, 6)
    sources = pl.read_excel(path, sheet_name="Nguồn dữ liệu")
    assert sources["Lần lấy lỗi"].to_list() == [1, 1]
    silences = pl.read_excel(path, sheet_name="Tạm tắt cảnh báo")
    assert silences["Lý do"].to_list() == ["Bảo trì hệ thống iGate", "Đơn vị chuyển trụ sở"]
    info = pl.read_excel(path, sheet_name="Thông tin", has_header=False)
    assert ("Từ ngày", "01/10/2026") in info.rows()
    assert ("2. Hồ sơ trễ hạn và văn bản xin lỗi", "3") in info.rows()


def test_empty_store_still_renders_every_section(store: Engine, tmp_path: Path) -> None:
    report = build(store)
    assert [s.frame.height for s in report.sections] == [0] * 8
    path = write_xlsx(report, tmp_path / "empty.xlsx")
    late = pl.read_excel(path, sheet_name="Hồ sơ trễ hạn")
    assert late.height == 0 and "Diễn biến" in late.columns
    assert "_(không có dữ liệu)_" in render_markdown(report)


def test_markdown_reads_in_a_terminal(filled: Engine) -> None:
    text = render_markdown(build(filled))
    assert text.startswith("# Báo cáo phục vụ kiểm tra, tổng hợp\n")
    for title in ("## 1. Tổng hợp chỉ tiêu", "## 2. Hồ sơ trễ hạn và văn bản xin lỗi", "## 3. Cảnh báo đã gửi",
                  "## 4. Tình trạng nguồn dữ liệu", "## 5. Tạm tắt cảnh báo"):
        assert title in text
    assert "| QLKH | Phòng Quản lý Khoa học | dossier_on_time | Tỷ lệ hồ sơ giải quyết đúng hạn | Quý | 01/10/2026 " \
           "| 199 | 200 | 99,5% | 99% | Đạt | 20/12/2026 10:00 |" in text
    assert "| Zalo | zalo-user-qlkh |" in text


def test_csv_folder_has_one_file_per_section(filled: Engine, tmp_path: Path) -> None:
    files = write_csv_folder(build(filled), tmp_path / "csv")
    assert [f.name for f in files] == ["1_kpis.csv", "2_deadlines.csv", "3_notifications.csv", "4_sources.csv",
                                       "5_source_rejects.csv", "6_source_invalid_values.csv", "7_check_runs.csv",
                                       "8_silences.csv"]
    assert files[1].read_bytes().startswith(b"\xef\xbb\xbf")
    late = pl.read_csv(files[1])
    assert late["Mã hồ sơ"].to_list() == [DOSSIER_2, DOSSIER_1, DOSSIER_1]
    assert late["Khắc phục lúc"].to_list() == [None, "10/11/2026 14:00", "10/11/2026 14:00"]
    kpis = pl.read_csv(files[0])
    assert kpis["Tỷ lệ"].to_list()[1:] == pytest.approx([0.995, 0.5, 0.796])


def run_cli(engine: Engine, *argv: str, settings: Settings | None = None) -> int:
    args = build_parser().parse_args(["report", *argv])
    args.settings = settings or Settings(units=[Unit(code=c, name=n) for c, n in UNIT_NAMES.items()])
    args.engine = engine
    result: int = args.func(args)
    return result


def test_cli_writes_each_format(filled: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    window = ["--from", "2026-10-01", "--to", "2026-12-31", "--now", "2027-01-05T09:00"]
    assert run_cli(filled, *window, "--output", str(tmp_path / "r.xlsx")) == 0
    assert pl.read_excel(tmp_path / "r.xlsx", sheet_name="Hồ sơ trễ hạn").height == 3
    assert run_cli(filled, *window, "--unit", "QLKH", "--format", "csv", "--output", str(tmp_path / "csv")) == 0
    assert pl.read_csv(tmp_path / "csv" / "2_deadlines.csv").height == 2
    capsys.readouterr()
    assert run_cli(filled, *window, "--format", "md", "--output", "-") == 0
    out = capsys.readouterr().out
    assert "## 3. Cảnh báo đã gửi" in out and DOSSIER_1 in out


def test_cli_refuses_bad_input(filled: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x.xlsx")
    assert run_cli(filled, "--from", "2026-13-01", "--to", "2026-12-31", "--output", out) == 2
    assert "Ngày không hợp lệ: 2026-13-01" in capsys.readouterr().err
    assert run_cli(filled, "--from", "2026-12-31", "--to", "2026-10-01", "--output", out) == 2
    assert "ngày kết thúc" in capsys.readouterr().err
    assert run_cli(filled, "--from", "2026-10-01", "--to", "2026-12-31", "--unit", "XYZ", "--output", out) == 2
    assert "Không có đơn vị XYZ" in capsys.readouterr().err
    assert not Path(out).exists()


def test_english_headers_when_configured(filled: Engine, tmp_path: Path) -> None:
    settings = Settings(language="en", units=[Unit(code="QLKH", name="QLKH")])
    assert run_cli(filled, "--from", "2026-10-01", "--to", "2026-12-31", "--now", "2027-01-05T09:00",
                   "--output", str(tmp_path / "en.xlsx"), settings=settings) == 0
    late = pl.read_excel(tmp_path / "en.xlsx", sheet_name="Late dossiers")
    assert late.columns[:3] == ["Unit", "Unit name", "Dossier"]
    # "Open"/"Resolved" (was "open"/"resolved", the codes): from the catalogs, one English message per
    # Vietnamese text, and the alerts templates already use "resolved" for "đã xử lý xong".
    assert late["Status"].to_list() == ["Open", "Resolved", "Resolved"]


def build_en(engine: Engine) -> InspectionReport:
    return build_inspection_report(engine, Q4, NOW, targets=TARGETS, unit_names=UNIT_NAMES,
                                   department="Department of Science and Technology", language="en")


def test_english_report_shows_english_words_where_it_showed_codes(filled: Engine) -> None:
    """language: en — KPI and rule labels (the checks' declarations), periods, results, stages,
    statuses, channels, delivery outcomes and the stage history are English words, not codes or
    Vietnamese."""
    report = build_en(filled)
    kpis = report.section("kpis").frame
    assert kpis.select("unit_name", "kpi_label", "period", "result").rows() == [
        (UNIT_NAMES["QLCN"], "Dossiers resolved on time", "Quarter", "no data"),
        (UNIT_NAMES["QLKH"], "Dossiers resolved on time", "Quarter", "met"),
        (UNIT_NAMES["QLKH"], "Late dossiers with an apology letter", "Quarter", "missed"),
        ("Whole department", "Dossiers resolved on time", "Quarter", "missed"),
    ]
    late = report.section("deadlines").frame
    assert late.select("rule_label", "stage", "severity", "status").rows() == [
        ("Overdue", "Past due", "Critical", "Open"),
        ("Late, no apology letter", "Breach", "Critical", "Resolved"),
        ("Overdue", "Breach", "Critical", "Resolved"),
    ]
    assert late["stage_history"][2] == (
        "02/11/2026 09:00 Detected (Past due); 05/11/2026 09:00 Stage changed (Breach); "
        "10/11/2026 14:00 Resolved (Breach)"
    )
    told = report.section("notifications").frame
    assert told.select("channel", "status").rows() == [
        ("E-mail", "Waiting to be sent"), ("E-mail", "Sent"), ("E-mail", "Sent"), ("Zalo", "Sending failed"),
    ]
    by_receiver = dict(zip(told["receiver"], told["delivery_history"], strict=True))
    assert by_receiver["zalo-user-qlkh"] == "02/11/2026 09:06 failed"
    assert by_receiver["truongphong.qlkh@so.gov.vn"] == "02/11/2026 09:06 sent"
    assert set(told["check"]) == {"Dossier deadlines"}


def test_english_markdown_has_no_vietnamese_fixed_words(filled: Engine) -> None:
    text = render_markdown(build_en(filled), "en")
    assert text.startswith("# Inspection report\n")
    for line in ("- **Department:** Department of Science and Technology", "- **From:** 01/10/2026",
                 "- **To:** 31/12/2026", "- **Units covered:** all units", "## 1. KPI summary",
                 "## 2. Late dossiers and apologies", "## 3. Notifications sent", "## 4. Data sources",
                 "## 4b. Rejected rows", "## 4c. Unreadable values", "## 4d. Check runs", "## 5. Silences",
                 "| Unit | Unit name | KPI | KPI name | Period | Period start |"):
        assert line in text
    for vietnamese in ("Báo cáo", "Cơ quan", "Từ ngày", "Quý", "Đạt", "Vi phạm", "Thư điện tử", "Đang mở"):
        assert vietnamese not in text


def test_english_markdown_of_an_empty_store(store: Engine) -> None:
    empty = render_markdown(build_inspection_report(store, Q4, NOW, targets=TARGETS, language="en"), "en")
    assert "_(no data)_" in empty and "không có dữ liệu" not in empty


def test_english_workbook_info_sheet_and_csv_headers(filled: Engine, tmp_path: Path) -> None:
    report = build_en(filled)
    path = write_xlsx(report, tmp_path / "en.xlsx", "en")
    info = pl.read_excel(path, sheet_name="About", has_header=False)
    rows = info.rows()
    assert ("From", "01/10/2026") in rows and ("Generated at", "05/01/2027 09:00") in rows
    assert ("Section", "Rows") in rows and ("2. Late dossiers and apologies", "3") in rows
    files = write_csv_folder(report, tmp_path / "csv", "en")
    notifications = pl.read_csv(files[2])
    assert notifications.columns[:4] == ["Unit", "Subject (dossier code…)", "Check", "Issue"]
    assert "Delivery status" in notifications.columns
    sources = pl.read_csv(files[3])
    assert "Rows rejected" in sources.columns
    rejects = pl.read_csv(files[4])
    assert rejects.columns[-2:] == ["First rejected", "Last rejected"]
