"""What the mapping's value transforms cost: 1,000,000-row exports mapped with and without them.

Run:  .venv/bin/python benchmarks/bench_mapping.py [--rows 1000000] [--rounds 3]

Two synthetic exports of the shape real one-stop systems give (no real personal data):

- a dossier report: "Thủ tục" = "1.001612.000.00.00.H48 - Cấp giấy phép" (split into code and name),
  status words half in NFD, channel words, unit names, dd/MM/yyyy dates, fees as amounts
  ("150.000 đồng", "Miễn phí", "1,5 triệu"), a result link (``matches``), a digitisation mark
  (``non_empty``), applicant name and phone (never read);
- a procedure catalog: time limits as phrases ("15 ngày làm việc", "Trong ngày", "Trực tiếp: 10
  ngày làm việc; Trực tuyến: 8 ngày làm việc"…), fees as amounts, components as text.

For each: the bare ``pl.read_csv`` of the file, the source with a plain mapping of the same
columns (text fields, value maps), and the source with the transforms. Each measurement runs in
its own subprocess (peak memory = that process's VmHWM); rounds are interleaved and the median is
printed, with ratios to the bare read and to the plain mapping measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent

UNIT_NAMES = ["Văn phòng Sở", "Phòng Quản lý Khoa học", "Chi cục Tiêu chuẩn Đo lường Chất lượng", "Phòng Chuyển đổi số"]
STATUS_WORDS = ["Đang xử lý", "Đã trả kết quả", "Đã xử lý xong", "Được tiếp nhận", "Yêu cầu bổ sung giấy tờ"]
FEES = ["150.000 đồng", "Miễn phí", "1,5 triệu đồng", "50.000đ", "Không thu phí", "200,000"]
LIMITS = [
    "15 ngày làm việc", "05 ngày", "Trong ngày", "03 tháng",
    "Không quá 10 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ",
    "Trực tiếp: 10 ngày làm việc; Trực tuyến: 8 ngày làm việc", "10 - 15 ngày làm việc",
]
STEPS = ["Bước 1: Tổ chức nộp hồ sơ tại Trung tâm Phục vụ hành chính công. Bước 2: …", "", "-"]

DOSSIER_PLAIN = {
    "columns": {
        "Mã hồ sơ": "dossier_code", "Thủ tục": "procedure_name", "Trạng thái": "status", "Đơn vị xử lý": "unit",
        "Ngày tiếp nhận": "received_at", "Ngày hẹn trả": "due_at", "Lệ phí": "field_name",
        "Tệp kết quả": "field_code", "Kênh": "channel", "Số hóa": "digitised",
    },
    "values": {"channel": {"Trực tiếp": 1, "Trực tuyến": 2, "Bưu chính": 3}, "digitised": {"Đã số hóa": True}},
}
DOSSIER_TRANSFORMS = {
    "columns": {
        "Mã hồ sơ": "dossier_code", "Trạng thái": "status", "Đơn vị xử lý": "unit",
        "Ngày tiếp nhận": "received_at", "Ngày hẹn trả": "due_at",
    },
    "values": {"channel": {"Trực tiếp": 1, "Trực tuyến": 2, "Bưu chính": 3}},
    "fields": {
        "procedure_code": {"from": "Thủ tục", "split": {"separator": " - ", "index": 0}},
        "procedure_name": {"from": "Thủ tục", "split": {"separator": " - ", "index": 1}},
        "has_fee": {"from": "Lệ phí", "transform": "money"},
        "result_electronic": {"from": "Tệp kết quả", "transform": {"matches": "^https?://"}},
        "digitised": {"from": "Số hóa", "transform": "non_empty"},
        "channel": {"from": "Kênh"},
    },
}
CATALOG_PLAIN = {
    "columns": {
        "Mã thủ tục": "procedure_code", "Tên thủ tục": "procedure_name", "Cơ quan thực hiện": "unit",
        "Thời hạn giải quyết": "cutoff_time", "Phí, lệ phí": "fee_text", "Trình tự thực hiện": "field_name",
    },
    "constants": {"catalog": "provincial"},
}
CATALOG_TRANSFORMS = {
    "columns": {"Mã thủ tục": "procedure_code", "Tên thủ tục": "procedure_name", "Cơ quan thực hiện": "unit"},
    "constants": {"catalog": "provincial"},
    "fields": {
        "time_limit_value": {"from": "Thời hạn giải quyết", "transform": "time_limit"},
        "time_limit_unit": {"from": "Thời hạn giải quyết", "transform": "time_limit"},
        "online_time_limit_value": {"from": "Thời hạn giải quyết", "transform": "time_limit"},
        "online_time_limit_unit": {"from": "Thời hạn giải quyết", "transform": "time_limit"},
        "has_fee": {"from": "Phí, lệ phí", "transform": "money"},
        "fee_text": {"from": "Phí, lệ phí"},
        "has_steps": {"from": "Trình tự thực hiện", "transform": "non_empty"},
    },
}


def pick(rng: np.random.Generator, words: list[str], rows: int) -> pl.Series:
    return pl.Series(np.array(words, dtype=object)[rng.integers(0, len(words), rows)], dtype=pl.Utf8)


def write_dossiers(path: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    status = pick(rng, STATUS_WORDS + [unicodedata.normalize("NFD", w) for w in STATUS_WORDS], rows)
    received = pl.Series(rng.integers(0, 300 * 86_400, rows)) * 1_000_000
    start = pl.lit(datetime(2026, 1, 1, 7, 0), dtype=pl.Datetime("us"))
    frame = pl.DataFrame({
        "Mã hồ sơ": [f"000.00.53.H48-{i:07d}" for i in range(rows)],
        "Chủ hồ sơ": ["Nguyễn Văn A"] * rows,
        "Số điện thoại": ["0912345678"] * rows,
        "Thủ tục": pick(rng, ["1.001612.000.00.00.H48 - Cấp giấy phép", "2.000123 - Đăng ký hoạt động KH&CN"], rows),
        "Trạng thái": status,
        "Đơn vị xử lý": pick(rng, UNIT_NAMES, rows),
        "Kênh": pick(rng, ["Trực tiếp", "Trực tuyến", "Bưu chính"], rows),
        "__us": received,
        "Lệ phí": pick(rng, FEES, rows),
        "Tệp kết quả": pick(rng, ["https://dvc.example.vn/kq/1.pdf", ""], rows),
        "Số hóa": pick(rng, ["Đã số hóa", ""], rows),
    }).with_columns(
        (start + pl.duration(microseconds=pl.col("__us"))).dt.strftime("%d/%m/%Y %H:%M").alias("Ngày tiếp nhận"),
        (start + pl.duration(microseconds=pl.col("__us"), days=7)).dt.strftime("%d/%m/%Y %H:%M").alias("Ngày hẹn trả"),
    ).drop("__us")
    frame.write_csv(path)


def write_catalog(path: Path, rows: int) -> None:
    rng = np.random.default_rng(11)
    pl.DataFrame({
        "Mã thủ tục": [f"1.{i:06d}" for i in range(rows)],
        "Tên thủ tục": pick(rng, ["Cấp giấy phép", "Đăng ký", "Cấp lại giấy chứng nhận"], rows),
        "Cơ quan thực hiện": pick(rng, UNIT_NAMES, rows),
        "Thời hạn giải quyết": pick(rng, LIMITS + [unicodedata.normalize("NFD", w) for w in LIMITS], rows),
        "Phí, lệ phí": pick(rng, FEES, rows),
        "Trình tự thực hiện": pick(rng, STEPS, rows),
    }).write_csv(path)


CHILD = r"""
import json, sys, time
from datetime import datetime
sys.path.insert(0, {root!r})
import polars as pl
from benchmarks.bench_mapping import UNIT_NAMES
from checks.contracts import Unit
from monitor.sources import build_source
from monitor.sources.config import TabularSourceSettings
what, path, table, mapping = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
units = [Unit(code=f"U{{i}}", name=name) for i, name in enumerate(UNIT_NAMES)]
started = time.perf_counter()
if what == "read":
    rows, rejected, invalid = pl.read_csv(path).height, 0, 0
else:
    settings = TabularSourceSettings(name="bench", table=table, path=path, mapping=mapping)
    result = build_source(settings, units).fetch(None, datetime(2026, 11, 25, 9, 0))
    rows, rejected, invalid = result.frame.height, result.rejected_count, sum(i.count for i in result.invalid)
elapsed = time.perf_counter() - started
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({{"seconds": elapsed, "peak_mib": int(status["VmHWM"].split()[0]) / 1024, "rows": rows,
                  "rejected": rejected, "invalid": invalid}}))
"""


def measure(what: str, path: Path, table: str, mapping: dict[str, object]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), what, str(path), table, json.dumps(mapping)],
        capture_output=True, text=True, check=True, env={"PYTHONPATH": str(ROOT)},
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dossiers, catalog = Path(tmp) / "ho_so.csv", Path(tmp) / "thu_tuc.csv"
        write_dossiers(dossiers, args.rows)
        write_catalog(catalog, args.rows)
        cases = [
            ("dossiers", "read", dossiers, "dossiers", {}),
            ("dossiers", "plain", dossiers, "dossiers", DOSSIER_PLAIN),
            ("dossiers", "transforms", dossiers, "dossiers", DOSSIER_TRANSFORMS),
            ("catalog", "read", catalog, "procedures", {}),
            ("catalog", "plain", catalog, "procedures", CATALOG_PLAIN),
            ("catalog", "transforms", catalog, "procedures", CATALOG_TRANSFORMS),
        ]
        runs: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for export, what, path, table, mapping in cases:
                runs.setdefault((export, what), []).append(measure("read" if what == "read" else "map", path, table, mapping))
    print(f"{args.rows:,} rows per export, median of {args.rounds} interleaved rounds")
    print(f"{'export':<9} {'run':<11} {'seconds':>8} {'× read':>7} {'× plain':>8} {'peak MiB':>9} {'rows':>9} "
          f"{'rejected':>8} {'invalid':>8}")
    for export in ("dossiers", "catalog"):
        median = {what: statistics.median(r["seconds"] for r in runs[(export, what)]) for what in ("read", "plain", "transforms")}
        for what in ("read", "plain", "transforms"):
            last = runs[(export, what)][-1]
            peak = statistics.median(r["peak_mib"] for r in runs[(export, what)])
            print(f"{export:<9} {what:<11} {median[what]:>8.2f} {median[what] / median['read']:>7.2f} "
                  f"{median[what] / median['plain']:>8.2f} {peak:>9.0f} {int(last['rows']):>9,} "
                  f"{int(last['rejected']):>8,} {int(last['invalid']):>8,}")


if __name__ == "__main__":
    main()
