"""Benchmark the source adapters on 1,000,000 dossiers: a CSV export and DVCQG JSON pages.

Run:  .venv/bin/python benchmarks/bench_sources.py [--rows 1000000] [--page-size 5000]

Each measurement runs in a fresh subprocess so peak memory (ru_maxrss) does not mix. The JSON
pages are served by a loopback HTTP server in this (parent) process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from checks.contracts import Unit  # noqa: E402
from tests.fakes.portal_http import PortalServer, Reply, SeenRequest  # noqa: E402

UNITS = [
    Unit(code="VP", name="Văn phòng Sở"),
    Unit(code="QLKH", name="Phòng Quản lý Khoa học"),
    Unit(code="QLCN", name="Phòng Quản lý công nghệ và Đổi mới sáng tạo"),
    Unit(code="TDC", name="Chi cục Tiêu chuẩn Đo lường Chất lượng"),
    Unit(code="BCVT", name="Phòng Bưu chính Viễn thông"),
    Unit(code="CDS", name="Phòng Chuyển đổi số"),
]
VI_COLUMNS = {
    "Mã hồ sơ": "dossier_code",
    "Mã thủ tục": "procedure_code",
    "Tên thủ tục": "procedure_name",
    "Kênh thực hiện": "channel",
    "Ngày nộp": "submitted_at",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Ngày có kết quả": "finished_at",
    "Trạng thái": "status",
    "Đơn vị xử lý": "unit",
}
START = datetime(2026, 1, 1, 7, 0)


def write_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    offsets = rng.integers(0, 300 * 86_400, rows)
    base = pl.lit(START)
    frame = pl.DataFrame(
        {
            "Mã hồ sơ": [f"000.00.53.H48-{i:07d}" for i in range(rows)],
            "Mã thủ tục": rng.choice(["1.001612.000.00.00.H48", "1.002345", "2.000123.000.00.00.H48"], rows),
            "Tên thủ tục": rng.choice(["Cấp giấy phép", "Đăng ký hoạt động KH&CN", "Cấp phép tần số"], rows),
            "Chủ hồ sơ": ["Nguyễn Văn A"] * rows,
            "Số điện thoại": ["0912345678"] * rows,
            "Kênh thực hiện": rng.integers(1, 4, rows).astype(str),
            "__offset": offsets,
            "Trạng thái": rng.choice(["Đang xử lý", "Đã trả kết quả", "4", "9", "10"], rows),
            "Đơn vị xử lý": rng.choice([u.name for u in UNITS], rows),
        }
    )
    frame = frame.with_columns(
        (base + pl.duration(seconds=pl.col("__offset"))).dt.strftime("%Y%m%d%H%M%S").alias("Ngày nộp"),
        (base + pl.duration(seconds=pl.col("__offset") + 3600)).dt.strftime("%d/%m/%Y %H:%M:%S").alias("Ngày tiếp nhận"),
        (base + pl.duration(seconds=pl.col("__offset") + 7 * 86_400)).dt.strftime("%Y-%m-%dT%H:%M:%S+07:00").alias("Ngày hẹn trả"),
        pl.when(pl.col("__offset") % 2 == 0)
        .then((base + pl.duration(seconds=pl.col("__offset") + 5 * 86_400)).dt.strftime("%d/%m/%Y %H:%M"))
        .otherwise(pl.lit(""))
        .alias("Ngày có kết quả"),
    ).drop("__offset")
    frame.write_csv(path)


def dvcqg_frame(rows: int) -> pl.DataFrame:
    """1M national-portal records as a frame with nested lists, built column-wise (fast to serve)."""
    rng = np.random.default_rng(11)
    fmt = "%Y%m%d%H%M%S"
    idx = pl.int_range(0, rows, eager=True).alias("i")
    received = pl.lit(START) + pl.duration(seconds=pl.lit(pl.Series(rng.integers(0, 300 * 86_400, rows))))

    def one_if(cond: pl.Expr, item: pl.Expr) -> pl.Expr:
        return pl.concat_list(item).list.slice(0, cond.cast(pl.Int64))

    frame = pl.DataFrame(idx).with_columns(
        pl.format("000.00.53.H48-{}", pl.col("i").cast(pl.Utf8).str.zfill(7)).alias("MaHoSo"),
        pl.lit("1.001612.000.00.00.H48").alias("MaTTHC"),
        pl.lit("Cấp giấy phép").alias("TenTTHC"),
        pl.lit("KHCN").alias("MaLinhVuc"),
        pl.lit("Hoạt động khoa học và công nghệ").alias("TenLinhVuc"),
        pl.Series(rng.integers(1, 4, rows)).cast(pl.Utf8).alias("KenhThucHien"),
        pl.lit("Nguyễn Văn A").alias("ChuHoSo"),
        pl.lit("001190012345").alias("SoGiayToChuHoSo"),
        pl.lit("0912345678").alias("SoDienThoai"),
        pl.lit("a@example.vn").alias("Email"),
        received.dt.strftime(fmt).alias("NgayNopHoSo"),
        received.dt.strftime(fmt).alias("NgayTiepNhan"),
        (received + pl.duration(days=7)).dt.strftime(fmt).alias("NgayHenTra"),
        pl.Series(rng.choice(["2", "4", "5", "9", "10"], rows)).alias("TrangThaiHoSo"),
        pl.Series(np.array([u.name for u in UNITS])[np.arange(rows) % len(UNITS)]).alias("DonViXuLy"),
        pl.lit("1").alias("HoSoCoThanhPhanSoHoa"),
        pl.concat_list(
            pl.struct(pl.lit("1").alias("DuocSoHoa"), pl.lit("0").alias("DuocTaiSuDung"), pl.lit("0").alias("DuocLayTuKhoDMQG"))
        ).alias("TaiLieuNop"),
        pl.concat_list(
            pl.struct(pl.lit("Giấy phép").alias("TenGiayTo"), pl.lit("https://kq/1.pdf").alias("DuongDanTepTinKetQua"))
        ).alias("DanhSachGiayToKetQua"),
        one_if(pl.col("i") % 3 == 0, pl.struct(pl.lit("Lệ phí").alias("TenPhiLePhi"), pl.lit("100000").alias("MucPhi"))).alias(
            "DanhSachLePhi"
        ),
        pl.when(pl.col("i") % 2 == 1).then(pl.lit("1")).otherwise(pl.lit("0")).alias("DuocThanhToanTrucTuyen"),
        one_if(pl.col("i") % 5 == 0, pl.struct(received.dt.strftime(fmt).alias("NgayYeuCauBoSung"))).alias(
            "DanhSachHoSoBoSung"
        ),
        pl.lit("1").alias("DongBoDVCQG"),
        received.dt.strftime(fmt).alias("NgayCapNhat"),
    )
    return frame.drop("i")


def page_bytes(records: pl.DataFrame, page: int, page_size: int, total_pages: int) -> bytes:
    items = records.slice((page - 1) * page_size, page_size).write_json()
    return b'{"totalPages": %d, "data": %s}' % (total_pages, items.encode("utf-8"))


CHILD = r"""
import json, sys, time
from datetime import datetime
sys.path.insert(0, {root!r})
from benchmarks.bench_sources import UNITS, VI_COLUMNS
from checks.schema import TableName
from monitor.sources import build_source
from monitor.sources.config import HttpJsonSourceSettings, MappingSettings, TabularSourceSettings
kind, location = sys.argv[1], sys.argv[2]
if kind == "csv":
    settings = TabularSourceSettings(name="csv", table=TableName.DOSSIERS, path=location,
                                     mapping=MappingSettings(columns=VI_COLUMNS))
else:
    settings = HttpJsonSourceSettings(name="json", table=TableName.DOSSIERS, url=location, page_size=int(sys.argv[3]),
                                      timeout_seconds=120)
source = build_source(settings, UNITS)
started = time.perf_counter()
result = source.fetch(None, datetime(2026, 11, 25, 9, 0))
elapsed = time.perf_counter() - started
# VmHWM is this process image's own peak; ru_maxrss would carry the parent's peak across fork/exec
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
peak_mib = int(status["VmHWM"].split()[0]) / 1024
print(json.dumps({{"seconds": elapsed, "peak_mib": peak_mib, "rows": result.frame.height,
                  "rejected": result.rejected_count}}))
"""


def measure(*args: str) -> dict[str, float]:
    code = CHILD.format(root=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(ROOT)}
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=5_000)
    args = parser.parse_args()
    rows, page_size = args.rows, args.page_size
    total_pages = -(-rows // page_size)
    table: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "ho_so.csv"
        t0 = time.perf_counter()
        write_csv(csv_path, rows)
        print(f"generated CSV: {rows:,} rows, {csv_path.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - t0:.1f} s")
        table.append(("CSV (Vietnamese headers)", measure("csv", str(csv_path))))

    t0 = time.perf_counter()
    records = dvcqg_frame(rows)
    sample = page_bytes(records, 1, page_size, total_pages)
    print(f"generated JSON records in {time.perf_counter() - t0:.1f} s: {total_pages} pages x {page_size:,}, "
          f"~{len(sample) * total_pages / 2**20:.0f} MiB (pages serialised on demand by the server)")

    def handler(request: SeenRequest) -> Reply:
        page = int(request.query.get("page", "1"))
        return Reply(body=page_bytes(records, page, page_size, total_pages), headers={"Content-Type": "application/json"})

    with PortalServer(handler) as server:
        table.append((f"HTTP JSON (DVCQG, {page_size:,}/page)", measure("json", f"{server.url}/hoso", str(page_size))))

    print()
    print(f"{'source':<36} {'rows':>10} {'rejected':>9} {'seconds':>8} {'peak MiB':>9}")
    for name, m in table:
        print(f"{name:<36} {int(m['rows']):>10,} {int(m['rejected']):>9,} {m['seconds']:>8.1f} {m['peak_mib']:>9.0f}")
    print(f"(parent peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; JSON time includes "
          "server-side page generation on the same 2 cores)")


if __name__ == "__main__":
    main()
