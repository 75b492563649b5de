"""HttpJsonSource against a real loopback HTTP server shaped like the national portal."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import requests
from structlog.testing import capture_logs

from checks.contracts import SourceError, Unit
from checks.schema import TableName
from monitor.sources import build_source
from monitor.sources.config import HttpJsonSourceSettings, MappingSettings
from monitor.sources.dvcqg import flatten_dvcqg
from monitor.sources.http_json import HttpJsonSource, read_dvcqg_page
from monitor.sources.httpget import RetryPolicy, get_with_retries, redact_url
from tests.fakes.portal_http import PortalServer, Reply, SeenRequest

NOW = datetime(2026, 1, 20, 9, 0)
UNITS = [Unit(code="QLKH", name="Phòng Quản lý Khoa học"), Unit(code="CDS", name="Phòng Chuyển đổi số")]
TOKEN = "s3cr3t-portal-token"


def record(i: int, updated: str = "20260115080000", status: str = "4") -> dict[str, Any]:
    return {
        "MaHoSo": f"000.00.53.H48-260115-{i:04d}",
        "MaTTHC": "1.001612.000.00.00.H48",
        "KenhThucHien": "2",
        "TrangThaiHoSo": status,
        "DonViXuLy": "Phòng Chuyển đổi số",
        "NgayHenTra": "20260122170000",
        "NgayCapNhat": updated,
        "ChuHoSo": "Phạm Văn Riêng",
        "SoDienThoai": "0987654321",
    }


def page_body(items: list[dict[str, Any]], total_pages: int | None = None) -> bytes:
    document: dict[str, Any] = {"data": items}
    if total_pages is not None:
        document["totalPages"] = total_pages
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def settings(url: str, **kw: Any) -> HttpJsonSourceSettings:
    base: dict[str, Any] = {"name": "dvcqg", "table": TableName.DOSSIERS, "url": url, "retries": 2, "backoff_seconds": 0.0}
    base.update(kw)
    return HttpJsonSourceSettings(**base)


def test_three_pages_by_total_pages_with_auth_header_not_logged() -> None:
    pages = {1: [record(1), record(2)], 2: [record(3), record(4)], 3: [record(5)]}

    def handler(request: SeenRequest) -> Reply:
        return Reply(body=page_body(pages[int(request.query["page"])], total_pages=3))

    with PortalServer(handler) as server, capture_logs() as logs:
        source = build_source(settings(f"{server.url}/hoso", token=TOKEN, page_size=2), UNITS)
        assert isinstance(source, HttpJsonSource)
        result = source.fetch(None, NOW)
    assert [r.query["page"] for r in server.seen] == ["1", "2", "3"]
    assert all(r.query["pageSize"] == "2" for r in server.seen)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.seen)
    assert result.frame is not None
    assert result.frame["dossier_code"].to_list() == [f"000.00.53.H48-260115-{i:04d}" for i in range(1, 6)]
    assert set(result.frame["unit"].to_list()) == {"CDS"} and set(result.frame["procedure_code"]) == {"1.001612"}
    assert "Phạm Văn Riêng" not in str(result.frame.rows())
    assert any(event["event"] == "source_fetched" and event["rows"] == 5 for event in logs)
    assert TOKEN not in repr(logs)


def test_stops_on_short_page_without_total_and_custom_items_path() -> None:
    pages = {0: [record(1), record(2)], 1: [record(3)]}

    def handler(request: SeenRequest) -> Reply:
        items = pages.get(int(request.query["p"]), [])
        return Reply(body=json.dumps({"result": {"items": items}}).encode())

    with PortalServer(handler) as server:
        source = HttpJsonSource(
            settings(server.url, page_size=2, page_param="p", first_page=0, items_path="result.items", total_pages_path=None),
            UNITS,
        )
        result = source.fetch(None, NOW)
    assert [r.query["p"] for r in server.seen] == ["0", "1"]
    assert result.frame is not None and result.frame.height == 3


def test_500_then_success_is_retried() -> None:
    calls: list[int] = []

    def handler(request: SeenRequest) -> Reply:
        calls.append(1)
        if len(calls) == 1:
            return Reply(status=500, body=b"boom")
        if len(calls) == 2:
            return Reply(status=429, headers={"Retry-After": "0"})
        return Reply(body=page_body([record(1)], total_pages=1))

    with PortalServer(handler) as server, capture_logs() as logs:
        result = HttpJsonSource(settings(server.url), UNITS).fetch(None, NOW)
    assert result.frame is not None and result.frame.height == 1
    assert len(server.seen) == 3
    assert [e["problem"] for e in logs if e["event"] == "source_http_retry"] == ["HTTP 500 Internal Server Error", "HTTP 429 Too Many Requests"]


def test_500_always_raises_after_retries_without_secrets() -> None:
    with PortalServer(lambda request: Reply(status=500)) as server, capture_logs() as logs:
        source = HttpJsonSource(settings(f"{server.url}/hoso?apiKey=abc123", token=TOKEN, retries=2), UNITS)
        with pytest.raises(SourceError) as caught:
            source.fetch(None, NOW)
    message = str(caught.value)
    assert "failed after 3 attempt(s): HTTP 500" in message
    assert "/hoso" in message and "abc123" not in message and TOKEN not in message
    assert len(server.seen) == 3
    assert TOKEN not in repr(logs) and "abc123" not in repr(logs)


def test_timeout_raises_source_error() -> None:
    with PortalServer(lambda request: Reply(body=page_body([]), delay_seconds=1.0)) as server:
        source = HttpJsonSource(settings(server.url, timeout_seconds=0.2, retries=1), UNITS)
        with pytest.raises(SourceError, match=r"failed after 2 attempt\(s\): timed out after 0\.2 s"):
            source.fetch(None, NOW)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"data": [', r"page 1: malformed JSON"),
        (b'{"items": []}', r"page 1: items_path 'data' not found"),
        (b'{"data": {"MaHoSo": "x"}}', r"page 1: 'data' is not a list of records"),
        (b'{"data": [1, 2]}', r"page 1: 'data' is not a list of records"),
    ],
)
def test_bad_documents_raise_source_error(body: bytes, expected: str) -> None:
    with PortalServer(lambda request: Reply(body=body)) as server:
        with pytest.raises(SourceError, match=expected):
            HttpJsonSource(settings(server.url), UNITS).fetch(None, NOW)


def test_not_modified_via_etag_returns_no_frame() -> None:
    def handler(request: SeenRequest) -> Reply:
        if request.headers.get("if-none-match") == '"v7"':
            return Reply(status=304, headers={"ETag": '"v7"'})
        return Reply(body=page_body([record(1)], total_pages=1), headers={"ETag": '"v7"', "Last-Modified": "Tue, 20 Jan 2026 01:00:00 GMT"})

    with PortalServer(handler) as server:
        source = HttpJsonSource(settings(server.url), UNITS)
        first = source.fetch(None, NOW)
        second = source.fetch(first.cursor, NOW)
    assert first.frame is not None and first.frame.height == 1
    assert second.frame is None and second.cursor == first.cursor
    assert server.seen[1].headers["if-modified-since"] == "Tue, 20 Jan 2026 01:00:00 GMT"
    assert "if-none-match" not in server.seen[0].headers


def test_updated_since_cursor_fetches_only_changed_rows() -> None:
    store = [record(1, "20260115080000"), record(2, "20260116093000"), record(3, "20260114070000")]

    def handler(request: SeenRequest) -> Reply:
        since = request.query.get("updatedSince")
        items = [r for r in store if since is None or r["NgayCapNhat"] > since]
        return Reply(body=page_body(items, total_pages=1))

    with PortalServer(handler) as server:
        source = HttpJsonSource(settings(server.url, updated_since_param="updatedSince", conditional=False), UNITS)
        first = source.fetch(None, NOW)
        assert first.frame is not None and first.frame.height == 3 and first.incremental is False
        store[0] = record(1, "20260117100000", status="9")
        second = source.fetch(first.cursor, NOW)
        third = source.fetch(second.cursor, NOW)
    assert "updatedSince" not in server.seen[0].query
    assert server.seen[1].query["updatedSince"] == "20260116093000"
    assert second.incremental is True
    assert second.frame is not None
    assert second.frame.select("dossier_code", "status").rows() == [("000.00.53.H48-260115-0001", 9)]
    assert server.seen[2].query["updatedSince"] == "20260117100000"
    assert third.frame is not None and third.frame.height == 0


def test_generic_table_uses_column_mapping_on_flattened_records() -> None:
    items = [
        {"id": "PA-1", "donVi": {"ten": "Phòng Quản lý Khoa học"}, "ngayNhan": "2026-01-10T08:00:00+07:00", "nguoiGui": {"ten": "X"}},
        {"id": "PA-2", "donVi": {"ten": "CDS"}, "ngayNhan": "không rõ"},
    ]
    mapping = MappingSettings(columns={"id": "feedback_id", "donVi.ten": "unit", "ngayNhan": "received_at"})
    with PortalServer(lambda request: Reply(body=page_body(items, total_pages=1))) as server:
        source = HttpJsonSource(settings(server.url, table=TableName.FEEDBACK, mapping=mapping), UNITS)
        result = source.fetch(None, NOW)
    assert result.frame is not None
    assert result.frame.select("feedback_id", "unit", "received_at").rows() == [("PA-1", "QLKH", datetime(2026, 1, 10, 8))]
    assert [(r.row, r.column, r.value) for r in result.rejected] == [(2, "ngayNhan", "không rõ")]


def test_fast_polars_page_reader_agrees_with_record_flattening() -> None:
    items = [
        {**record(1), "KenhThucHien": 2, "TrangThaiHoSo": 10, "TaiLieuNop": [{"DuocSoHoa": 1, "Khac": "x"}],
         "DanhSachHoSoBoSung": [{"NgayYeuCauBoSung": "20260116090000"}], "DanhSachLePhi": [{"MucPhi": 5}]},
        {"MaHoSo": "B", "DanhSachGiayToKetQua": None, "Email": "b@example.vn"},
    ]
    body = json.dumps({"meta": {"pages": 4}, "result": {"rows": items}}).encode()
    fast = read_dvcqg_page(body, "result.rows", "meta.pages")
    assert fast is not None
    frame, total = fast
    assert total == 4
    assert frame.equals(flatten_dvcqg(items))
    assert frame.row(0, named=True)["KenhThucHien"] == "2" and frame.row(0, named=True)["digitised"] is True
    assert not set(frame.columns) & {"ChuHoSo", "SoDienThoai", "Email"}
    assert read_dvcqg_page(b'{"result": {"rows": {"MaHoSo": "x"}}}', "result.rows", None) is None
    assert read_dvcqg_page(b'{"other": 1}', "result.rows", None) is None
    empty = read_dvcqg_page(b'{"data": [], "totalPages": 1}', "data", "totalPages")
    assert empty is not None and empty[0].height == 0 and empty[1] == 1


def test_backoff_is_exponential_and_retry_after_is_honoured() -> None:
    replies = [Reply(status=500), Reply(status=502), Reply(status=503, headers={"Retry-After": "7"}), Reply(body=b"{}")]

    def handler(request: SeenRequest) -> Reply:
        return replies[len(server.seen) - 1]

    delays: list[float] = []
    with PortalServer(handler) as server:
        response = get_with_retries(
            requests.Session(),
            f"{server.url}/x",
            source="t",
            policy=RetryPolicy(timeout_seconds=5, retries=3, backoff_seconds=0.5),
            sleep=delays.append,
        )
    assert response.status_code == 200
    assert delays == [0.5, 1.0, 7.0]


def test_redact_url_hides_credentials_and_secret_parameters() -> None:
    url = "https://ops:pa55@api.example.vn:8443/hoso?page=2&access_token=abc&apiKey=def&donVi=QLKH"
    shown = redact_url(url)
    assert shown == "https://api.example.vn:8443/hoso?page=2&access_token=***&apiKey=***&donVi=QLKH"
    assert "pa55" not in shown and "abc" not in shown and "def" not in shown


@pytest.mark.parametrize("batch_rows", [2, 50_000])  # a batch per page, or every page in one batch
def test_pages_are_mapped_in_batches_with_running_row_numbers_and_cursor(
    batch_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.sources import http_json

    monkeypatch.setattr(http_json._MappedPages, "BATCH_ROWS", batch_rows)
    bad = record(4) | {"TrangThaiHoSo": "42"}
    pages = {
        1: [record(1, updated="20260115080000"), record(2, updated="20260116090000")],
        2: [record(3, updated="20260114070000"), bad],
    }

    def handler(request: SeenRequest) -> Reply:
        return Reply(body=page_body(pages[int(request.query["page"])], total_pages=2))

    with PortalServer(handler) as server:
        source = HttpJsonSource(settings(server.url, page_size=2, updated_since_param="updatedSince"), UNITS)
        result = source.fetch(None, NOW)
    assert result.frame is not None and result.frame.height == 3
    assert [r.row for r in result.rejected] == [4]  # second record of page 2 = data row 4
    assert result.rejected[0].column == "TrangThaiHoSo" and result.rejected[0].value == "42"
    assert json.loads(result.cursor or "{}")["updated_since"] == "20260116090000"  # latest across pages


# ------------------------------------------------------- pages in flight at once (page_workers)


def paged(rows: int, page_size: int, total_pages: int | None = None) -> dict[int, list[dict[str, Any]]]:
    """Records 1..rows cut into pages of ``page_size`` (updated a minute apart, latest last)."""
    items = [record(i, updated=f"202601150{8 + i // 60:01d}{i % 60:02d}00") for i in range(1, rows + 1)]
    return {n + 1: items[n * page_size : (n + 1) * page_size] for n in range(-(-rows // page_size))}


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_pages_give_the_same_rows_in_page_order_and_cursor(workers: int) -> None:
    pages = paged(23, 2)  # 12 pages, the last one short

    def handler(request: SeenRequest) -> Reply:
        page = int(request.query["page"])
        # later pages answer sooner, so that they arrive out of order
        return Reply(body=page_body(pages.get(page, []), total_pages=len(pages)), delay_seconds=0.02 * (12 - page) / 12)

    results = {}
    for n in (1, workers):
        with PortalServer(handler) as server:
            source = HttpJsonSource(settings(server.url, page_size=2, page_workers=n, updated_since_param="updatedSince"), UNITS)
            results[n] = source.fetch(None, NOW)
            assert sorted(int(r.query["page"]) for r in server.seen) == list(range(1, 13))  # each page once
            assert "if-none-match" not in server.seen[-1].headers
    sequential, concurrent = results[1], results[workers]
    assert concurrent.frame is not None and sequential.frame is not None
    assert concurrent.frame["dossier_code"].to_list() == [f"000.00.53.H48-260115-{i:04d}" for i in range(1, 24)]
    assert concurrent.frame.equals(sequential.frame)
    assert concurrent.cursor == sequential.cursor
    assert json.loads(concurrent.cursor or "{}")["updated_since"] == "20260115082300"


def test_concurrent_pages_report_the_first_failing_page_not_a_later_one() -> None:
    pages = paged(20, 2)

    def handler(request: SeenRequest) -> Reply:
        page = int(request.query["page"])
        if page == 3:  # fails late
            return Reply(body=b'{"data": [', delay_seconds=0.3)
        if page == 5:  # fails at once
            return Reply(body=b'{"data": {"MaHoSo": "x"}}')
        return Reply(body=page_body(pages[page], total_pages=10))

    with PortalServer(handler) as server:
        source = HttpJsonSource(settings(server.url, page_size=2, page_workers=4), UNITS)
        with pytest.raises(SourceError, match=r"page 3: malformed JSON") as caught:
            source.fetch(None, NOW)
    assert "page 5" not in str(caught.value)
    # page 2 was the last page read: at most 2 x page_workers pages were asked for beyond it
    assert max(int(r.query["page"]) for r in server.seen) <= 2 + 2 * 4


def test_concurrent_pages_stop_at_max_rows_with_the_sequential_count() -> None:
    pages = paged(40, 2)

    def handler(request: SeenRequest) -> Reply:
        return Reply(body=page_body(pages[int(request.query["page"])], total_pages=20))

    messages = []
    for workers in (1, 4):
        with PortalServer(handler) as server:
            source = HttpJsonSource(settings(server.url, page_size=2, page_workers=workers, limits={"max_rows": 5}), UNITS)
            with pytest.raises(SourceError, match="max_rows") as caught:
                source.fetch(None, NOW)
        messages.append(str(caught.value).replace(server.url, "URL"))
    assert messages[0] == messages[1]
    assert "6 data rows, over the limit 5" in messages[1]


def test_concurrent_pages_retry_a_page_with_retry_after_and_follow_a_changing_total() -> None:
    pages = paged(10, 2)  # 5 pages; the first says 3, the third says 5: the poll reads all 5
    answered_503: list[int] = []

    def handler(request: SeenRequest) -> Reply:
        page = int(request.query["page"])
        if page == 2 and not answered_503:
            answered_503.append(page)
            return Reply(status=503, headers={"Retry-After": "0"})
        return Reply(body=page_body(pages[page], total_pages=3 if page < 3 else 5))

    with PortalServer(handler) as server, capture_logs() as logs:
        result = HttpJsonSource(settings(server.url, page_size=2, page_workers=3), UNITS).fetch(None, NOW)
    assert result.frame is not None
    assert result.frame["dossier_code"].to_list() == [f"000.00.53.H48-260115-{i:04d}" for i in range(1, 11)]
    retries = [e for e in logs if e["event"] == "source_http_retry"]
    assert [(e["problem"], e["wait_seconds"]) for e in retries] == [("HTTP 503 Service Unavailable", 0.0)]


def test_concurrent_pages_stop_when_the_total_shrinks() -> None:
    pages = paged(12, 2)  # the first page says 6 pages, the second says 2: the poll ends after page 2

    def handler(request: SeenRequest) -> Reply:
        page = int(request.query["page"])
        return Reply(body=page_body(pages[page], total_pages=6 if page == 1 else 2))

    with PortalServer(handler) as server:
        result = HttpJsonSource(settings(server.url, page_size=2, page_workers=4), UNITS).fetch(None, NOW)
    assert result.frame is not None and result.frame.height == 4  # pages already in flight are dropped
