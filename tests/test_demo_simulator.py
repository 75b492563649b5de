"""The embedded demo: a seeded simulator of the portals, its export files and its local portal API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import requests

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.schema import OPEN_STATUSES, REQUIRED_PROCEDURE_COMPONENTS, TableName
from checks.timeutil import to_vn_aware
from monitor.demo import PortalSimulator
from monitor.demo.config import demo_settings
from monitor.demo.exports import write_exports
from monitor.demo.layout import CATALOG_COLUMNS, DOSSIER_REPORT_COLUMNS, FEEDBACK_COLUMNS, PLAN_COLUMNS
from monitor.demo.plan import PLAN_TASK_IDS
from monitor.demo.portal_view import portal_records, portal_records_json
from monitor.demo.runner import DemoPortal
from monitor.demo.server import DemoPortalServer
from monitor.sources import build_source

AUTH = {"Authorization": "Bearer demo-token"}
NOW = datetime(2026, 11, 25, 10, 0)  # a Wednesday
PORTAL_TIME = re.compile(r"^\d{14}$")


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


@pytest.fixture(scope="module")
def sim(calendar: WorkingCalendar) -> PortalSimulator:
    return PortalSimulator(2026, NOW, calendar=calendar)


@pytest.fixture
def server(calendar: WorkingCalendar, tmp_path: Path) -> Iterator[tuple[DemoPortalServer, PortalSimulator]]:
    simulator = PortalSimulator(11, datetime(2026, 3, 2, 9, 0), calendar=calendar)
    write_exports(simulator, tmp_path)
    srv = DemoPortalServer(simulator, files_dir=tmp_path)
    try:
        yield srv, simulator
    finally:
        srv.stop()


# ---------------------------------------------------------------- determinism and evolution


def test_same_seed_same_world_and_other_seed_other_world(
    calendar: WorkingCalendar, sim: PortalSimulator
) -> None:
    again = PortalSimulator(2026, NOW, calendar=calendar)
    other = PortalSimulator(2027, NOW, calendar=calendar)
    assert again.portal_frame().equals(sim.portal_frame())
    assert again.dossier_records(0, 50) == sim.dossier_records(0, 50)
    assert again.feedback().equals(sim.feedback())
    assert (
        not other.portal_frame()
        .select("MaHoSo", "TrangThaiHoSo")
        .equals(sim.portal_frame().select("MaHoSo", "TrangThaiHoSo"))
    )


def test_world_does_not_depend_on_how_the_clock_got_there(calendar: WorkingCalendar) -> None:
    stepped = PortalSimulator(5, datetime(2026, 2, 2, 8, 0), calendar=calendar)
    for day in (datetime(2026, 2, 10, 15, 0), datetime(2026, 3, 1, 9, 0), datetime(2026, 3, 4, 16, 30)):
        stepped.advance(day)
    direct = PortalSimulator(5, datetime(2026, 3, 4, 16, 30), calendar=calendar)
    assert stepped.portal_frame().equals(direct.portal_frame())


def test_advance_adds_dossiers_and_moves_statuses(calendar: WorkingCalendar) -> None:
    simulator = PortalSimulator(3, datetime(2026, 6, 1, 9, 0), calendar=calendar)
    before = simulator.dossier_states()
    simulator.advance(datetime(2026, 6, 12, 16, 0))  # two working weeks later
    after = simulator.dossier_states()
    # ~22 a working day at scale 1: 9 more working days bring well over 100 new dossiers.
    assert after.height - before.height > 100
    assert set(before["dossier_code"]) <= set(after["dossier_code"])
    joined = before.join(after, on="dossier_code", suffix="_later")
    moved = joined.filter(pl.col("status") != pl.col("status_later"))
    assert moved.height > 50
    # Closed dossiers stay closed; nothing goes back to "submitted".
    assert moved.filter(pl.col("status").is_in([3, 7, 8, 10])).height == 0
    assert moved.filter(pl.col("status_later") == 1).height == 0
    with pytest.raises(ValueError):
        simulator.advance(datetime(2026, 6, 1, 9, 0))


def test_every_change_bumps_ngay_cap_nhat(calendar: WorkingCalendar) -> None:
    """An incremental poller (updatedSince = last NgayCapNhat seen) must miss nothing."""
    simulator = PortalSimulator(4, datetime(2026, 9, 14, 11, 0), calendar=calendar)
    known = {r["MaHoSo"]: r for r in simulator.dossier_records()}
    cursor = max(r["NgayCapNhat"] for r in known.values())
    simulator.advance(datetime(2026, 9, 16, 15, 30))
    full = {r["MaHoSo"]: r for r in simulator.dossier_records()}
    delta = [r for r in full.values() if r["NgayCapNhat"] >= cursor]
    changed = {code for code, r in full.items() if known.get(code) != r}
    assert changed and changed <= {r["MaHoSo"] for r in delta}
    known.update({r["MaHoSo"]: r for r in delta})
    assert known == full


def test_dossier_volume_follows_scale(calendar: WorkingCalendar) -> None:
    start = datetime(2026, 3, 31, 17, 0)
    one = PortalSimulator(9, start, calendar=calendar).dossier_count
    three = PortalSimulator(9, start, scale=3.0, calendar=calendar).dossier_count
    working_days = calendar.count_working_days(datetime(2026, 1, 1).date(), start.date())
    assert 15 * working_days <= one <= 30 * working_days
    assert 2.6 * one <= three <= 3.4 * one


# ---------------------------------------------------------------- the defects the monitor must find


@pytest.mark.parametrize("moment", [datetime(2026, 4, 8, 9, 0), datetime(2026, 8, 14, 15, 0), NOW])
def test_alerts_always_have_something_to_say(calendar: WorkingCalendar, moment: datetime) -> None:
    states = PortalSimulator(2026, moment, calendar=calendar).dossier_states()
    open_ = states.filter(pl.col("status").is_in(list(OPEN_STATUSES)))
    overdue_without_apology = open_.filter((pl.col("due_at") < moment) & ~pl.col("apology"))
    assert overdue_without_apology.height >= 1
    ahead = calendar.working_days_between(
        pl.Series([moment] * open_.height, dtype=pl.Datetime("us")), open_["due_at"]
    )
    due_soon = open_.filter(((ahead > 0) & (ahead <= 2)).fill_null(False))
    assert due_soon.height >= 3


def test_units_perform_differently(calendar: WorkingCalendar) -> None:
    # scale 4 (~20,000 dossiers) so that the per-unit rates are not lost in sampling noise
    frame = PortalSimulator(2026, NOW, scale=4.0, calendar=calendar).portal_frame()
    finished = frame.filter(pl.col("_status").is_in([9, 10]))
    on_time = finished.group_by("_unit").agg((pl.col("NgayKetThucXuLy") <= pl.col("NgayHenTra")).mean())
    ratio = dict(zip(on_time["_unit"], on_time["NgayKetThucXuLy"], strict=True))
    assert set(ratio) == {"QLKH", "QLCN", "TDC", "BCVT", "CDS"}
    assert ratio["QLKH"] >= 0.99
    assert ratio["BCVT"] < 0.975
    assert ratio["QLKH"] > ratio["QLCN"] > ratio["BCVT"]


def test_supplements_apologies_and_sync_gaps_exist(sim: PortalSimulator) -> None:
    records = sim.dossier_records()
    supplements = [len(r["DanhSachHoSoBoSung"]) for r in records]
    assert supplements.count(1) > 10 and supplements.count(2) >= 2
    apologies = [r for r in records if r["DanhSachXinLoi"]]
    assert apologies
    late_apologies = [
        r for r in apologies if r["NgayHenTra"] and r["DanhSachXinLoi"][0]["NgayXinLoi"] > r["NgayHenTra"]
    ]
    assert late_apologies  # some apologies came after the due date
    assert any(r["DongBoDVCQG"] == "0" for r in records)
    assert any(r["DongBoDVCQG"] == "1" and r["TrangThaiDVCQG"] != r["TrangThaiHoSo"] for r in records)
    fees = [r for r in records if r["DanhSachLePhi"]]
    paid = sum(r["DuocThanhToanTrucTuyen"] in ("1", "2") for r in fees) / len(fees)
    assert 0.85 < paid < 1.0


def test_catalog_defects(sim: PortalSimulator) -> None:
    defects = sim.catalog_defects
    provincial, national = sim.procedures("provincial"), sim.procedures("national")
    assert 60 <= provincial.height <= 80
    prov_codes, nat_codes = set(provincial["procedure_code"]), set(national["procedure_code"])
    assert set(defects.only_provincial) == prov_codes - nat_codes and len(defects.only_provincial) >= 1
    assert set(defects.only_national) == nat_codes - prov_codes and len(defects.only_national) >= 1
    both = provincial.join(national, on="procedure_code", suffix="_nat")
    differs = both.filter(pl.col("time_limit_value") != pl.col("time_limit_value_nat"))["procedure_code"]
    assert set(differs) == set(defects.time_limit_differs)
    assert set(both.filter(pl.col("fee_text") != pl.col("fee_text_nat"))["procedure_code"]) == set(
        defects.fee_differs
    )
    assert set(
        both.filter(pl.col("procedure_name") != pl.col("procedure_name_nat"))["procedure_code"]
    ) == set(defects.name_differs)
    incomplete = provincial.filter(
        ~pl.all_horizontal([pl.col(f"has_{c}") for c in REQUIRED_PROCEDURE_COMPONENTS])
    )
    assert set(incomplete["procedure_code"]) == set(defects.missing_components)
    assert all(1 <= len(v) <= 2 for v in defects.missing_components.values())
    late = national.filter(pl.col("decision_at") > pl.col("effective_at") - pl.duration(days=5))
    assert set(late["procedure_code"]) == set(defects.published_late)
    units = set(provincial["unit"])
    assert units == {"QLKH", "QLCN", "TDC", "BCVT", "CDS"}
    assert set(provincial["time_limit_unit"]) == {"working_days", "calendar_days", "working_hours"}


# ---------------------------------------------------------------- the raw portal records


def test_records_follow_the_portal_format_and_carry_fake_personal_data(sim: PortalSimulator) -> None:
    records = sim.dossier_records()
    assert len(records) == sim.dossier_count
    for record in records[:: max(1, len(records) // 300)]:
        assert re.fullmatch(r"000\.00\.53\.H48-\d{6}-\d{4}", record["MaHoSo"])
        assert re.fullmatch(r"1\.00\d{4}(\.000\.00\.00\.H48)?", record["MaTTHC"])
        for key in (
            "KenhThucHien",
            "TrangThaiHoSo",
            "MaLinhVuc",
            "HoSoCoThanhPhanSoHoa",
            "DuocThanhToanTrucTuyen",
        ):
            assert isinstance(record[key], str)
        for key in ("NgayNopHoSo", "NgayCapNhat"):
            assert PORTAL_TIME.match(record[key])
        assert re.fullmatch(r"\w+ \w+ Giả Lập \d{6}", record["ChuHoSo"])
        assert record["SoGiayToChuHoSo"].startswith("000") and len(record["SoGiayToChuHoSo"]) == 12
        assert record["SoDienThoai"].startswith("0999")
        assert record["Email"].endswith("@example.invalid")
    assert {len(r["MaTTHC"]) for r in records} == {8, 22}  # both code forms
    names = {r["DonViXuLy"] for r in records}
    assert "Phòng Bưu chính Viễn thông" in names and "Phòng Bưu chính, Viễn thông" in names
    assert set(r["KenhThucHien"] for r in records) == {"1", "2", "3"}
    returned = [r for r in records if r["TrangThaiHoSo"] == "10"]
    assert all(r["NgayTra"] and r["NgayKetThucXuLy"] <= r["NgayTra"] for r in returned)
    json.dumps(records[:10], ensure_ascii=False)  # JSON-ready


def test_column_wise_page_json_is_the_records(sim: PortalSimulator) -> None:
    """The server writes pages with portal_records_json (Polars); they must hold exactly the records
    portal_records builds row by row: every nested list (documents, results, fees, supplements,
    apologies), nulls and key order."""
    frame = sim.portal_frame()
    records = portal_records(frame)
    written = json.loads(portal_records_json(frame))
    assert written == records
    assert [list(r) for r in written[:50]] == [list(r) for r in records[:50]]  # same keys, same order
    for name in ("DanhSachHoSoBoSung", "DanhSachXinLoi", "DanhSachGiayToKetQua", "DanhSachLePhi"):
        assert any(r[name] for r in written) and any(not r[name] for r in written)
    assert {len(r["TaiLieuNop"]) for r in written} == {1, 2, 3}
    assert any(len(r["DanhSachHoSoBoSung"]) == 2 for r in written)
    assert portal_records_json(frame.slice(0, 0)) == b"[]"
    assert json.loads(portal_records_json(frame.slice(7, 3))) == records[7:10]


# ---------------------------------------------------------------- the HTTP API


def test_server_pages_sorted_records(server: tuple[DemoPortalServer, PortalSimulator]) -> None:
    srv, simulator = server
    first = requests.get(
        f"{srv.url}/api/v1/dossiers", params={"page": 1, "pageSize": 200}, headers=AUTH, timeout=10
    )
    assert first.status_code == 200
    body = first.json()
    total = simulator.dossier_count
    assert body["total"] == total and body["page"] == 1 and body["pageSize"] == 200
    assert body["totalPages"] == (total + 199) // 200
    collected = []
    for page in range(1, body["totalPages"] + 1):
        reply = requests.get(
            f"{srv.url}/api/v1/dossiers", params={"page": page, "pageSize": 200}, headers=AUTH, timeout=10
        ).json()
        collected.extend(reply["data"])
    assert len(collected) == total
    assert len({r["MaHoSo"] for r in collected}) == total
    keys = [(r["NgayCapNhat"], r["MaHoSo"]) for r in collected]
    assert keys == sorted(keys)
    beyond = requests.get(
        f"{srv.url}/api/v1/dossiers",
        params={"page": body["totalPages"] + 1, "pageSize": 200},
        headers=AUTH,
        timeout=10,
    ).json()
    assert beyond["data"] == []


def test_server_updated_since_etag_and_auth(server: tuple[DemoPortalServer, PortalSimulator]) -> None:
    srv, simulator = server
    url = f"{srv.url}/api/v1/dossiers"
    since = "20260226000000"
    query: dict[str, str | int] = {"updatedSince": since, "pageSize": 5000}
    reply = requests.get(url, params=query, headers=AUTH, timeout=10)
    expected = simulator.portal_frame().filter(pl.col("NgayCapNhat") >= since).height
    assert 0 < reply.json()["total"] == expected < simulator.dossier_count
    assert all(r["NgayCapNhat"] >= since for r in reply.json()["data"])
    assert reply.headers["Last-Modified"].endswith("GMT")

    etag = reply.headers["ETag"]
    again = requests.get(url, params=query, headers={**AUTH, "If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    simulator.advance(datetime(2026, 3, 3, 9, 0))
    moved = requests.get(url, params=query, headers={**AUTH, "If-None-Match": etag}, timeout=10)
    assert moved.status_code == 200 and moved.json()["total"] > expected

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        denied = requests.get(url, headers=headers, timeout=10)
        assert denied.status_code == 401
        assert denied.json()["error"] == "Unauthorized"
        assert "demo-token" not in denied.text
    assert (
        requests.get(url, params={"updatedSince": "yesterday"}, headers=AUTH, timeout=10).status_code == 400
    )


def test_server_serves_export_files(server: tuple[DemoPortalServer, PortalSimulator], tmp_path: Path) -> None:
    srv, _ = server
    reply = requests.get(f"{srv.url}/files/thu_tuc_quoc_gia.csv", timeout=10)
    assert reply.status_code == 200
    assert reply.content == (tmp_path / "thu_tuc_quoc_gia.csv").read_bytes()
    cached = requests.get(
        f"{srv.url}/files/thu_tuc_quoc_gia.csv", headers={"If-None-Match": reply.headers["ETag"]}, timeout=10
    )
    assert cached.status_code == 304
    assert requests.get(f"{srv.url}/files/khong_co.csv", timeout=10).status_code == 404
    assert requests.get(f"{srv.url}/files/..%2Fsecret", timeout=10).status_code == 404


# ---------------------------------------------------------------- export files


def test_exports_readable_with_promised_headers(sim: PortalSimulator, tmp_path: Path) -> None:
    written = write_exports(sim, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        [
            "thu_tuc_tinh.xlsx",
            "thu_tuc_quoc_gia.csv",
            "phan_anh_kien_nghi.xlsx",
            "theo_doi_ke_hoach.csv",
            "ho_so.csv",
        ]
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left behind

    provincial = pl.read_excel(tmp_path / "thu_tuc_tinh.xlsx")
    assert provincial.columns == [spec.provincial for spec in CATALOG_COLUMNS]
    for header in (
        "Mã thủ tục",
        "Tên thủ tục",
        "Lĩnh vực",
        "Đơn vị thực hiện",
        "Thời hạn giải quyết",
        "Đơn vị thời hạn",
        "Thời hạn theo quy định",
        "Phí, lệ phí",
        "Mức độ DVC",
        "Thanh toán trực tuyến",
        "Bưu chính công ích",
        "Ngày QĐ công bố",
        "Ngày hiệu lực",
        "Ngày công khai",
        "Có trình tự thực hiện",
    ):
        assert header in provincial.columns
    assert provincial.height == sim.procedures("provincial").height
    assert provincial["Ngày hiệu lực"].dtype == pl.Datetime or provincial["Ngày hiệu lực"].dtype == pl.Date
    assert set(provincial["Mức độ DVC"]) == {"Toàn trình", "Một phần", "Không"}

    national = pl.read_csv(tmp_path / "thu_tuc_quoc_gia.csv", infer_schema=False)
    assert national.columns == [spec.national for spec in CATALOG_COLUMNS]
    assert national["Ngày có hiệu lực"].str.contains(r"^\d{2}/\d{2}/\d{4}$").all()

    feedback = pl.read_excel(tmp_path / "phan_anh_kien_nghi.xlsx")
    assert feedback.columns == list(FEEDBACK_COLUMNS)
    assert feedback["Ngày tiếp nhận"].dtype == pl.Float64  # Excel serial numbers
    first = sim.feedback().row(0, named=True)
    serial = feedback["Ngày tiếp nhận"][0]
    assert abs((datetime(1899, 12, 30) + timedelta(days=serial)) - first["received_at"]) < timedelta(
        seconds=1
    )

    plan = pl.read_csv(tmp_path / "theo_doi_ke_hoach.csv", infer_schema=False)
    assert plan.columns == list(PLAN_COLUMNS)
    assert tuple(plan["Mã nhiệm vụ"]) == PLAN_TASK_IDS
    assert len(PLAN_TASK_IDS) == 53
    assert {"Đã hoàn thành", "Đang thực hiện"} <= set(plan["Trạng thái"])
    done = plan.filter(pl.col("Trạng thái").is_in(["Đã hoàn thành", "Hoàn thành chậm"]))
    assert done["Ngày hoàn thành"].str.contains(r"^\d{2}/\d{2}/2026$").all()
    assert (
        plan.filter(pl.col("Trạng thái") == "Chưa thực hiện")["Ngày hoàn thành"].null_count()
        == plan.filter(pl.col("Trạng thái") == "Chưa thực hiện").height
    )

    report_text = (tmp_path / "ho_so.csv").read_text(encoding="utf-8")
    report = pl.read_csv(tmp_path / "ho_so.csv", infer_schema=False)
    assert report.columns == list(DOSSIER_REPORT_COLUMNS)
    assert report.height == sim.dossier_count
    assert (
        "Giả Lập" not in report_text and "example.invalid" not in report_text
    )  # no personal data in reports
    assert "Đã trả kết quả" in set(report["Trạng thái"])


def test_feedback_items_at_every_stage(sim: PortalSimulator) -> None:
    fb = sim.feedback()
    weeks = (NOW - datetime(2026, 1, 1)).days / 7
    assert 1.2 * weeks <= fb.height <= 2.8 * weeks
    assert fb["refused_at"].is_not_null().sum() > 0
    assert fb["info_requested_at"].is_not_null().sum() > 0
    assert fb["published_at"].is_not_null().sum() > 0
    handled_late = fb.filter(pl.col("handled_at") > pl.col("received_at") + pl.duration(days=21))
    assert handled_late.height > 0
    open_items = fb.filter(pl.col("handled_at").is_null() & pl.col("refused_at").is_null())
    assert open_items.height > 0
    assert fb.filter(pl.col("handled_at").is_not_null() & pl.col("published_at").is_null()).height > 0


# ---------------------------------------------------------------- settings and the runner, through the real sources


def test_demo_portal_feeds_the_real_sources(tmp_path: Path) -> None:
    portal = DemoPortal(tmp_path / "data", seed=2026)
    url = portal.start(datetime(2026, 5, 4, 10, 0))
    try:
        settings = demo_settings(url, tmp_path / "data", tmp_path / "state")
        assert [u.code for u in settings.units] == ["VP", "QLKH", "QLCN", "TDC", "BCVT", "CDS", "BPMC"]
        assert all(u.escalate_to == "VP" for u in settings.units if u.code != "VP")
        assert all(e.endswith("@example.invalid") for u in settings.units for e in u.emails)
        assert settings.log.format == "console" and str(tmp_path / "state") in settings.state.url
        sources = {s.name: s for s in settings.sources}
        assert set(sources) == {
            "dvcqg_dossiers",
            "catalog_provincial",
            "catalog_national",
            "feedback",
            "plan_tracker",
        }
        now = to_vn_aware(datetime(2026, 5, 4, 10, 0))
        assert portal.simulator is not None
        for name in ("dvcqg_dossiers", "catalog_provincial", "catalog_national", "feedback"):
            result = build_source(sources[name], settings.units).fetch(None, now)
            assert result.frame is not None and result.rejected_count == 0, name
            if name == "dvcqg_dossiers":
                assert result.frame.height == portal.simulator.dossier_count
                assert set(result.frame["unit"]) == {"QLKH", "QLCN", "TDC", "BCVT", "CDS"}
                assert "ChuHoSo" not in result.frame.columns
            if result.frame is not None and sources[name].table is TableName.PROCEDURES:
                assert (
                    result.frame["time_limit_unit"]
                    .is_in(["working_days", "calendar_days", "working_hours"])
                    .all()
                )
                assert result.frame["procedure_code"].str.contains(r"^1\.00\d{4}$").all()

        before = portal.simulator.dossier_count
        report_before = (tmp_path / "data" / "ho_so.csv").read_bytes()
        portal.tick(datetime(2026, 5, 6, 15, 0))
        assert portal.simulator.dossier_count > before
        assert (tmp_path / "data" / "ho_so.csv").read_bytes() != report_before
        reply = requests.get(f"{url}/api/v1/dossiers", params={"pageSize": 1}, headers=AUTH, timeout=10)
        assert reply.json()["total"] == portal.simulator.dossier_count
    finally:
        portal.stop()
