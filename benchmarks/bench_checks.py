"""Benchmark one full check cycle over 1,000,000 dossiers; prints figures (no assertions).

Run:  .venv/bin/python benchmarks/bench_checks.py [--dossiers N | --quick] [--repeat 3]
                                                  [--mapping default|formats|parquet ...] [--profile]

What is measured (issue 3, "Done means", last bullet), each in a fresh subprocess so peak memory
(``ru_maxrss``) does not mix between measurements; the parent only spawns, so the children do not
inherit a large ``ru_maxrss`` from it:

* **read**: the bare read of the dossier CSV with the engine the tabular source uses
  (``pl.read_csv(..., infer_schema=False)``: every column a string, same options as
  ``monitor/sources/tabular.py``), reading the file's bytes included;
* **cycle**: the dossier CSV through the real source (``build_source`` + ``TabularSourceSettings``
  mapping Vietnamese headers, as an operator configures it), the canonical tables assembled, then
  every check of ``checks.registry.ALL_CHECKS`` through ``monitor.cycle.CycleRunner`` (metrics
  published, no history store), with the time and memory growth of each check. Variants:
  ``default`` (the shipped date formats), ``formats`` (``date_formats`` set to the export's two
  formats, an operator's YAML setting) and ``parquet`` (no source: the canonical dossiers read
  from Parquet, the checks in isolation);
* **imports**: the interpreter with every module of the cycle imported (the fixed part of the peak).

The catalogs (3,000 procedures on the provincial and national catalogs) and 50,000 feedback
items are handed to the checks as canonical frames (``conform``); only the dossiers go through a
source. ``now`` is fixed at 2026-11-20 10:00 +07:00. Generated data is cached under
``.bench/checks-v<version>-<N>/`` (gitignored), so a rerun skips generation. Each measurement
runs ``--repeat`` times (interleaved); the best time and the largest peak are shown.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:  # heavy imports stay out of the bare-read child, whose peak memory is measured
    from checks.calendar import WorkingCalendar
    from checks.contracts import Check, CheckResult, SourceStatus, Tables, Unit
    from monitor.sources.config import TabularSourceSettings

DATA_VERSION = 3  # bump when the generator changes: the cache key includes it
DEFAULT_DOSSIERS = 1_000_000
QUICK_DOSSIERS = 100_000
PROCEDURES = 3_000
FEEDBACK_ITEMS = 50_000
NOW_NAIVE = datetime(2026, 11, 20, 10, 0)  # Vietnam wall-clock time (+07:00)
HISTORY_START = datetime(2025, 1, 2, 7, 0)
AIM_RATIO = 3.0
AIM_PEAK_BYTES = 1_000_000_000  # "under 1 GB"
BENCH_MAX_ROWS = 50_000_000  # the source's row cap for the benchmark's exports (shipped default 2,000,000)
BENCH_MAX_FILE_BYTES = 64 * 2**30

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# ------------------------------------------------------------------------------------ the world

UNIT_NAMES: dict[str, str] = {
    "VP": "Văn phòng Sở",
    "QLKH": "Phòng Quản lý Khoa học",
    "QLCN": "Phòng Quản lý công nghệ và Đổi mới sáng tạo",
    "TDC": "Chi cục Tiêu chuẩn Đo lường Chất lượng",
    "BCVT": "Phòng Bưu chính Viễn thông",
    "CDS": "Phòng Chuyển đổi số",
}
DOSSIER_UNITS: tuple[str, ...] = ("QLKH", "QLCN", "TDC", "BCVT", "CDS")
UNIT_SHARE = np.array([0.14, 0.16, 0.38, 0.22, 0.10])  # share of the catalog (and so of the dossiers)


class UnitProfile(BaseModel):
    """How one unit behaves in the generated data: some units reach the plan's targets, some do not."""

    late: float  # share of dossiers processed past their due time
    online: float  # share submitted online (channel 2)
    digitised: float
    reused: float
    electronic: float
    paid_online: float  # among dossiers with fees
    apology: float  # share of late dossiers with an apology letter


PROFILES: dict[str, UnitProfile] = {
    "QLKH": UnitProfile(late=0.004, online=0.82, digitised=0.99, reused=0.62, electronic=0.99, paid_online=0.97, apology=0.9),
    "QLCN": UnitProfile(late=0.009, online=0.64, digitised=0.95, reused=0.51, electronic=0.96, paid_online=0.94, apology=0.8),
    "TDC": UnitProfile(late=0.016, online=0.48, digitised=0.91, reused=0.38, electronic=0.90, paid_online=0.91, apology=0.7),
    "BCVT": UnitProfile(late=0.006, online=0.77, digitised=0.98, reused=0.55, electronic=0.98, paid_online=0.96, apology=0.85),
    "CDS": UnitProfile(late=0.025, online=0.88, digitised=1.00, reused=0.71, electronic=1.00, paid_online=0.99, apology=0.6),
}
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "QLKH": (("KHCN", "Hoạt động khoa học và công nghệ"),),
    "QLCN": (("SHTT", "Sở hữu trí tuệ"), ("ATBX", "An toàn bức xạ và hạt nhân"), ("CGCN", "Chuyển giao công nghệ")),
    "TDC": (("TDC", "Tiêu chuẩn đo lường chất lượng"),),
    "BCVT": (("VTIN", "Viễn thông và Internet"), ("TSVT", "Tần số vô tuyến điện"), ("BC", "Bưu chính")),
    "CDS": (("CNTT", "Công nghệ thông tin, điện tử"),),
}
NAME_VERBS: tuple[str, ...] = (
    "Cấp giấy phép", "Cấp lại giấy phép", "Gia hạn giấy phép", "Sửa đổi, bổ sung giấy phép", "Đăng ký",
    "Cấp giấy chứng nhận", "Thẩm định", "Công nhận", "Thu hồi giấy phép", "Xác nhận",
)
CHANNEL_WORDS: dict[str, int] = {"Trực tiếp": 1, "Trực tuyến": 2, "Bưu chính công ích": 3}
YES, NO = "Có", "Không"
PROVINCIAL_SUFFIX = ".000.00.00.H48"
AGENCY = "000.00.53.H48"

# Header of the dossier export (as a one-stop system's report shows it) -> canonical field.
DOSSIER_COLUMNS: dict[str, str] = {
    "Mã hồ sơ": "dossier_code",
    "Mã thủ tục": "procedure_code",
    "Tên thủ tục": "procedure_name",
    "Mã lĩnh vực": "field_code",
    "Lĩnh vực": "field_name",
    "Đơn vị xử lý": "unit",
    "Kênh thực hiện": "channel",
    "Trạng thái": "status",
    "Ngày nộp": "submitted_at",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Ngày có kết quả": "finished_at",
    "Ngày trả kết quả": "returned_at",
    "Ngày từ chối": "refused_at",
    "Số lần bổ sung": "supplement_count",
    "Ngày yêu cầu bổ sung": "supplement_requested_at",
    "Ngày nhận bổ sung": "supplement_received_at",
    "Ngày hẹn trả trước bổ sung": "due_before_supplement_at",
    "Ngày xin lỗi": "apology_at",
    "Ngày hẹn trả mới": "extended_due_at",
    "Số lần gia hạn": "due_extension_count",
    "Số hóa": "digitised",
    "Tái sử dụng dữ liệu": "data_reused",
    "Có kết quả": "result_required",
    "Kết quả điện tử": "result_electronic",
    "Có phí, lệ phí": "has_fee",
    "Thanh toán trực tuyến": "paid_online",
    "Đồng bộ DVCQG": "national_synced",
    "Trạng thái DVCQG": "national_status",
    "Ngày cập nhật DVCQG": "national_updated_at",
    "Ngày cập nhật": "updated_at",
}
PERSONAL_COLUMNS: tuple[str, ...] = ("Chủ hồ sơ", "Số điện thoại")  # in the export, never mapped
DATE_FORMAT_PORTAL = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss
DATE_FORMAT_REPORT = "%d/%m/%Y %H:%M:%S"  # dd/MM/yyyy HH:mm:ss
PORTAL_FORMAT_COLUMNS = frozenset({"Ngày nộp", "Ngày cập nhật", "Ngày cập nhật DVCQG"})


def bench_units() -> list[Unit]:
    from checks.contracts import Unit

    return [Unit(code=code, name=name, handles_dossiers=code != "VP") for code, name in UNIT_NAMES.items()]


MappingVariant = Literal["default", "formats", "parquet"]
MAPPING_VARIANTS: dict[MappingVariant, str] = {
    "default": "CSV through the source, mapping with the shipped default date formats",
    "formats": "CSV through the source, mapping with date_formats set to the export's two formats",
    "parquet": "no source: the canonical dossiers read from Parquet (the checks in isolation)",
}


def dossier_source_settings(csv_path: Path, variant: MappingVariant = "default") -> TabularSourceSettings:
    """The dossier export as an operator maps it: Vietnamese headers and words, no preset.

    ``default`` keeps the shipped date formats (8 candidates plus Excel serials, tried on every
    value); ``formats`` also sets ``date_formats`` to the two formats this export uses, which an
    operator can do in the YAML file.
    """
    from checks.schema import TableName
    from monitor.sources.config import MappingSettings, TabularSourceSettings
    from monitor.sources.limits import SourceLimits

    # Sizes past the shipped row and file caps (2,000,000 rows, 1 GiB) are measured too (bench_check_run.py).
    limits = SourceLimits(max_rows=BENCH_MAX_ROWS, max_file_bytes=BENCH_MAX_FILE_BYTES)
    mapping = MappingSettings(columns=DOSSIER_COLUMNS, values={"channel": dict(CHANNEL_WORDS)})
    if variant == "formats":
        mapping = MappingSettings(
            columns=DOSSIER_COLUMNS,
            values={"channel": dict(CHANNEL_WORDS)},
            date_formats=[DATE_FORMAT_REPORT, DATE_FORMAT_PORTAL],
            excel_serial_dates=False,
        )
    return TabularSourceSettings(
        name="ho_so_bao_cao", table=TableName.DOSSIERS, path=str(csv_path), format="csv", mapping=mapping, limits=limits
    )


# ------------------------------------------------------------------------------------ generation

_EPOCH = datetime(1970, 1, 1)
_US = 1_000_000
_MINUTE = 60 * _US
_HOUR = 3_600 * _US
_DAY = 86_400 * _US


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _datetime_series(name: str, micros: Int64Array, valid: BoolArray | None = None) -> pl.Series:
    series = pl.Series(name, micros, dtype=pl.Int64).cast(pl.Datetime("us"))
    if valid is None:
        return series
    return pl.select(pl.when(pl.Series(valid)).then(series).alias(name)).to_series()


def _office_times(rng: np.random.Generator, rows: int, first: datetime, last: datetime) -> Int64Array:
    """Times on weekdays within office hours (07:00–11:30, 13:30–17:00), between ``first`` and ``last``."""
    first_day = _micros(datetime(first.year, first.month, first.day))
    days = (_micros(last) - first_day) // _DAY + 1
    day = rng.integers(0, days, rows)
    weekday = (first_day // _DAY + day + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    day = np.where(weekday >= 5, day - (weekday - 4), day)  # weekend -> the Friday before
    minute = rng.integers(0, 480, rows)
    time_of_day = np.where(minute < 270, 7 * _HOUR + minute * _MINUTE, 13 * _HOUR + 30 * _MINUTE + (minute - 270) * _MINUTE)
    moments = first_day + day * _DAY + time_of_day
    return np.clip(moments, _micros(first), _micros(last)).astype(np.int64)


def _text_where(mask: BoolArray, text: str) -> pl.Series:
    """``text`` where ``mask`` holds, null elsewhere."""
    return pl.select(pl.when(pl.Series(mask)).then(pl.lit(text))).to_series()


def _pick(rng: np.random.Generator, options: tuple[str, ...], rows: int) -> npt.NDArray[np.str_]:
    return np.asarray(options)[rng.integers(0, len(options), rows)]


def procedures_frame(rng: np.random.Generator, count: int) -> pl.DataFrame:
    """Both catalogs (canonical): ~1% only provincial, ~1% only national, ~2% content differs."""
    unit_idx = rng.choice(len(DOSSIER_UNITS), count, p=UNIT_SHARE)
    units = np.asarray(DOSSIER_UNITS)[unit_idx]
    field_pick = rng.integers(0, 3, count)
    field_code = np.array([FIELDS[u][k % len(FIELDS[u])][0] for u, k in zip(units, field_pick, strict=True)])
    field_name = np.array([FIELDS[u][k % len(FIELDS[u])][1] for u, k in zip(units, field_pick, strict=True)])
    numbers = rng.choice(np.arange(1, 13_000), count, replace=False)
    prefix = np.where(rng.random(count) < 0.8, "1", "2")
    limit = rng.choice([1.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 45.0], count, p=[0.04, 0.14, 0.2, 0.16, 0.18, 0.13, 0.08, 0.05, 0.02])
    limit_unit = rng.choice(["working_days", "calendar_days", "working_hours"], count, p=[0.93, 0.05, 0.02])
    limit = np.where(limit_unit == "working_hours", rng.choice([4.0, 8.0, 16.0], count), limit)
    cut = rng.choice([0.0, 0.1, 0.2, 0.3, 0.4], count, p=[0.15, 0.1, 0.35, 0.25, 0.15])
    has_fee = rng.random(count) < 0.45
    online_level = rng.choice(["full", "partial", "none"], count, p=[0.72, 0.24, 0.04])
    components = {f"has_{c}": rng.random(count) > 0.004 for c in ("steps", "method", "composition", "applicants", "agency", "result")}
    decision = _office_times(rng, count, datetime(2024, 1, 2), datetime(2026, 11, 10))
    base = pl.DataFrame(
        {
            "procedure_code": [f"{p}.{n:06d}" for p, n in zip(prefix, numbers, strict=True)],
            "procedure_name": [
                f"{verb} {name.lower()} (TTHC {n})"
                for verb, name, n in zip(_pick(rng, NAME_VERBS, count), field_name, numbers, strict=True)
            ],
            "unit": units,
            "field_code": field_code,
            "field_name": field_name,
            "time_limit_value": np.round(limit * (1 - cut)).clip(1, None),
            "time_limit_unit": limit_unit,
            "legal_time_limit_value": limit,
            "cutoff_time": _text_where(rng.random(count) < 0.05, "15:00"),
            "has_fee": has_fee,
            "fee_text": _text_where(has_fee, "Lệ phí: 500.000 đồng/hồ sơ"),
            "has_name": np.ones(count, dtype=bool),
            **components,
            "has_time_limit": np.ones(count, dtype=bool),
            "has_forms": rng.random(count) < 0.8,
            "has_conditions": rng.random(count) < 0.6,
            "has_fees": has_fee,
            "has_legal_basis": np.ones(count, dtype=bool),
            "content_digest": [f"{v:016x}" for v in rng.integers(0, 2**62, count)],
            "published": rng.random(count) > 0.01,
            "decision_at": _datetime_series("decision_at", decision),
            "effective_at": _datetime_series("effective_at", decision + rng.integers(2, 20, count) * _DAY),
            "public_at": _datetime_series("public_at", decision + rng.integers(0, 9, count) * _DAY),
            "online_eligible": online_level != "none",
            "online_level": online_level,
            "full_online_eligible": rng.random(count) < 0.85,
            "online_payment": has_fee & (rng.random(count) < 0.9),
            "postal_eligible": rng.random(count) < 0.9,
            "postal": rng.random(count) < 0.95,
        }
    )
    only = rng.random(count)
    provincial = base.filter(pl.Series(only >= 0.01)).with_columns(pl.lit("provincial").alias("catalog"))
    differs = pl.Series(rng.random(count) < 0.02)
    national = (
        base.filter(pl.Series((only < 0.01) | (only >= 0.02)))
        .with_columns(
            pl.lit("national").alias("catalog"),
            pl.when(differs.filter(pl.Series((only < 0.01) | (only >= 0.02))))
            .then(pl.col("time_limit_value") + 1)
            .otherwise(pl.col("time_limit_value"))
            .alias("time_limit_value"),
        )
    )
    from checks.schema import TableName, conform

    return conform(pl.concat([provincial, national], how="diagonal_relaxed"), TableName.PROCEDURES)


def feedback_frame(rng: np.random.Generator, count: int) -> pl.DataFrame:
    """PAKN items over 2025–2026 at every stage (canonical)."""
    from checks.schema import TableName, conform

    units = np.asarray(DOSSIER_UNITS)[rng.choice(len(DOSSIER_UNITS), count, p=UNIT_SHARE)]
    received = _office_times(rng, count, HISTORY_START, NOW_NAIVE - timedelta(hours=1))
    now = _micros(NOW_NAIVE)
    refused = rng.random(count) < 0.05
    info = rng.random(count) < 0.1
    handle_days = np.where(rng.random(count) < 0.93, rng.uniform(1, 19, count), rng.uniform(21, 40, count))
    handled = received + (handle_days * _DAY).astype(np.int64)
    handled_ok = ~refused & (handled <= now)
    published = handled + (rng.uniform(0.1, 4.0, count) * _DAY).astype(np.int64)
    published_ok = handled_ok & (published <= now) & (rng.random(count) < 0.98)
    rated = rng.random(count)
    frame = pl.DataFrame(
        {
            "feedback_id": [f"PAKN-{i:07d}" for i in range(1, count + 1)],
            "unit": units,
            "received_at": _datetime_series("received_at", received),
            "refused_at": _datetime_series("refused_at", received + (rng.uniform(0.1, 3, count) * _DAY).astype(np.int64), refused),
            "info_requested_at": _datetime_series(
                "info_requested_at", received + (rng.uniform(0.5, 7, count) * _DAY).astype(np.int64), info & ~refused
            ),
            "handled_at": _datetime_series("handled_at", handled, handled_ok),
            "published_at": _datetime_series("published_at", published, published_ok),
            "satisfied": pl.Series(np.where(rated < 0.85, True, False)).set(pl.Series(rated >= 0.92), None),
            "topic": _pick(rng, ("Thời hạn giải quyết", "Thái độ phục vụ", "Thành phần hồ sơ", "Phí, lệ phí", "Dịch vụ công trực tuyến"), count),
        }
    )
    return conform(frame, TableName.FEEDBACK)


def dossier_export(rng: np.random.Generator, rows: int, procedures: pl.DataFrame) -> pl.DataFrame:
    """The one-stop system's dossier report: Vietnamese headers, words and mixed date formats, all text."""
    from checks.calendar import CalendarSettings, WorkingCalendar
    from checks.schema import DOSSIER_STATUS_VI

    catalog = procedures.filter(pl.col("catalog") == "provincial").sort("procedure_code")
    size = catalog.height
    popularity = 1.0 / np.arange(1, size + 1) ** 1.05  # a few procedures take most dossiers
    proc = rng.permutation(size)[rng.choice(size, rows, p=popularity / popularity.sum())]
    unit_of = catalog["unit"].to_numpy()[proc]
    order = np.argsort(np.asarray(DOSSIER_UNITS))
    unit_idx = order[np.searchsorted(np.asarray(DOSSIER_UNITS)[order], unit_of)]

    def per_unit(attribute: str) -> FloatArray:
        return np.array([getattr(PROFILES[u], attribute) for u in DOSSIER_UNITS])[unit_idx]

    now = _micros(NOW_NAIVE)
    received = _office_times(rng, rows, HISTORY_START, NOW_NAIVE - timedelta(minutes=30))
    channel = np.where(rng.random(rows) < per_unit("online"), 2, np.where(rng.random(rows) < 0.06, 3, 1))
    submitted = received - np.where(channel == 2, rng.integers(0, 2 * _DAY, rows), rng.integers(0, 20 * _MINUTE, rows))

    calendar = WorkingCalendar(CalendarSettings())
    due_series = calendar.add_time_limit(
        _datetime_series("r", received),
        catalog["time_limit_value"].gather(proc),
        catalog["time_limit_unit"].gather(proc),
        catalog["cutoff_time"].gather(proc),
    )
    due = due_series.cast(pl.Int64).fill_null(pl.Series(received + 5 * _DAY)).to_numpy().astype(np.int64)

    late = rng.random(rows) < per_unit("late")
    fraction = np.where(late, 1.0 + rng.exponential(0.25, rows), 0.05 + 0.93 * rng.beta(2.0, 2.5, rows))
    finished = received + ((due - received) * fraction).astype(np.int64)

    supplements = rng.choice([0, 1, 2], rows, p=[0.88, 0.1, 0.02])
    requested = received + ((due - received) * rng.uniform(0.1, 0.4, rows)).astype(np.int64)
    supplement_back = requested + (rng.uniform(0.5, 8.0, rows) * _DAY).astype(np.int64)
    has_supplement = supplements > 0
    pause = np.where(has_supplement, supplement_back - requested, 0)
    due_before = due
    due = due + pause  # the one-stop system moves the due date by the time with the applicant
    finished = finished + pause

    draw = rng.random(rows)
    refused = draw < 0.015
    withdrawn = (draw >= 0.015) & (draw < 0.022)
    stopped = (draw >= 0.022) & (draw < 0.025)
    ordinary = ~(refused | withdrawn | stopped)
    closed = ordinary & (finished <= now)
    waiting_supplement = ordinary & ~closed & has_supplement & (supplement_back > now)
    returned = finished + (rng.uniform(0.05, 3.0, rows) * _DAY).astype(np.int64)
    status = np.select(
        [refused, withdrawn, stopped, closed & (returned <= now) & (rng.random(rows) < 0.9), closed, waiting_supplement],
        [3, 7, 8, 10, 9, 5],
        default=rng.choice([4, 2, 6], rows, p=[0.85, 0.1, 0.05]),
    )
    not_received = (channel == 2) & (received > now - _DAY) & (rng.random(rows) < 0.3)
    status = np.where(not_received, 1, status)
    refused_at = received + (rng.uniform(0.05, 2.0, rows) * _DAY).astype(np.int64)

    overdue_or_late = ordinary & (due < now) & (finished > due)
    apologised = overdue_or_late & (rng.random(rows) < per_unit("apology"))
    lead_days = np.where(rng.random(rows) < 0.8, rng.uniform(1.5, 4.0, rows), rng.uniform(-0.5, 1.0, rows))
    apology = due - (lead_days * _DAY).astype(np.int64)  # one in five too late (< 1 working day ahead)
    extended = due + (rng.uniform(3.0, 10.0, rows) * _DAY).astype(np.int64)
    extensions = np.where(rng.random(rows) < 0.05, 2, 1)
    shown_due = np.where(apologised & (rng.random(rows) < 0.3), extended, due)  # some systems show the new date

    has_fee = catalog["has_fee"].fill_null(False).to_numpy()[proc]
    paid_online = has_fee & (rng.random(rows) < per_unit("paid_online"))
    finished_known = np.isin(status, (9, 10))
    updated = np.maximum.reduce(
        [
            received,
            np.where(has_supplement & ~waiting_supplement, supplement_back, 0),
            np.where(finished_known, finished, 0),
            np.where(status == 10, returned, 0),
            np.where(np.isin(status, (3, 8)), refused_at, 0),
        ]
    ).clip(None, now)
    synced = np.where(received > now - 2 * _HOUR, rng.random(rows) < 0.5, rng.random(rows) < 0.996) & (status != 1)
    lagging = synced & (rng.random(rows) < np.where(updated > now - 3 * _DAY, 0.05, 0.002))
    national_status = np.where(lagging, 4, status)
    national_updated = np.where(
        lagging, updated - rng.integers(1, 5 * 24, rows) * _HOUR, np.minimum(updated + rng.integers(1, 30, rows) * _MINUTE, now)
    )

    def words(values: BoolArray, given: BoolArray | None = None) -> pl.Series:
        text = np.where(values, YES, NO)
        return pl.Series(text).set(pl.Series(~given), None) if given is not None else pl.Series(text)

    def when(name: str, micros: Int64Array, given: BoolArray) -> pl.Series:
        fmt = DATE_FORMAT_PORTAL if name in PORTAL_FORMAT_COLUMNS else DATE_FORMAT_REPORT
        return _datetime_series(name, micros, given).dt.strftime(fmt)

    status_series = pl.Series("s", status)
    codes = pl.DataFrame({"d": _datetime_series("d", submitted), "i": np.arange(1, rows + 1)}).select(
        pl.format("{}-{}-{}", pl.lit(AGENCY), pl.col("d").dt.strftime("%y%m%d"), pl.col("i").cast(pl.Utf8).str.zfill(7))
    )
    unit_names = np.array([UNIT_NAMES[u] for u in DOSSIER_UNITS])[unit_idx]
    channel_words = np.array(list(CHANNEL_WORDS))[channel - 1]
    is_received = status != 1
    return pl.DataFrame(
        {
            "Mã hồ sơ": codes.to_series(),
            "Mã thủ tục": catalog["procedure_code"].gather(proc) + PROVINCIAL_SUFFIX,
            "Tên thủ tục": catalog["procedure_name"].gather(proc),
            "Mã lĩnh vực": catalog["field_code"].gather(proc),
            "Lĩnh vực": catalog["field_name"].gather(proc),
            "Chủ hồ sơ": pl.Series([], dtype=pl.Utf8).extend_constant("Nguyễn Văn A", rows),  # fake personal data
            "Số điện thoại": pl.Series([], dtype=pl.Utf8).extend_constant("0912345678", rows),
            "Đơn vị xử lý": unit_names,
            "Kênh thực hiện": channel_words,
            "Trạng thái": status_series.replace_strict(DOSSIER_STATUS_VI, return_dtype=pl.Utf8),
            "Ngày nộp": when("Ngày nộp", submitted, np.ones(rows, dtype=bool)),
            "Ngày tiếp nhận": when("Ngày tiếp nhận", received, is_received),
            "Ngày hẹn trả": when("Ngày hẹn trả", shown_due, is_received & (rng.random(rows) > 0.03)),
            "Ngày có kết quả": when("Ngày có kết quả", finished, finished_known),
            "Ngày trả kết quả": when("Ngày trả kết quả", returned, status == 10),
            "Ngày từ chối": when("Ngày từ chối", refused_at, np.isin(status, (3, 8))),
            "Số lần bổ sung": supplements.astype(str),
            "Ngày yêu cầu bổ sung": when("Ngày yêu cầu bổ sung", requested, has_supplement & (requested <= now)),
            "Ngày nhận bổ sung": when("Ngày nhận bổ sung", supplement_back, has_supplement & (supplement_back <= now)),
            "Ngày hẹn trả trước bổ sung": when("Ngày hẹn trả trước bổ sung", due_before, has_supplement),
            "Ngày xin lỗi": when("Ngày xin lỗi", np.minimum(apology, now), apologised),
            "Ngày hẹn trả mới": when("Ngày hẹn trả mới", extended, apologised),
            "Số lần gia hạn": pl.Series(extensions.astype(str)).set(pl.Series(~apologised), None),
            "Số hóa": words(rng.random(rows) < per_unit("digitised")),
            "Tái sử dụng dữ liệu": words(rng.random(rows) < per_unit("reused")),
            "Có kết quả": words(np.isin(status, (9, 10)) | (rng.random(rows) < 0.9)),
            "Kết quả điện tử": words(rng.random(rows) < per_unit("electronic"), finished_known),
            "Có phí, lệ phí": words(has_fee),
            "Thanh toán trực tuyến": words(paid_online, has_fee),
            "Đồng bộ DVCQG": words(synced),
            "Trạng thái DVCQG": pl.Series(national_status.astype(str)).set(pl.Series(~synced), None),
            "Ngày cập nhật DVCQG": when("Ngày cập nhật DVCQG", national_updated, synced),
            "Ngày cập nhật": when("Ngày cập nhật", updated, np.ones(rows, dtype=bool)),
        }
    )


class BenchData(BaseModel):
    """The cached inputs of one benchmark size."""

    dossiers_csv: Path
    procedures: Path  # canonical, Parquet
    feedback: Path  # canonical, Parquet
    dossiers_canonical: Path  # the CSV as the source maps it, Parquet (for the "parquet" variant)

    def exists(self) -> bool:
        files = (self.dossiers_csv, self.procedures, self.feedback, self.dossiers_canonical)
        return all(path.is_file() for path in files)


def bench_data(rows: int) -> BenchData:
    folder = ROOT / ".bench" / f"checks-v{DATA_VERSION}-{rows}"
    return BenchData(
        dossiers_csv=folder / "ho_so.csv",
        procedures=folder / "thu_tuc.parquet",
        feedback=folder / "pakn.parquet",
        dossiers_canonical=folder / "ho_so_canonical.parquet",
    )


def ensure_data(rows: int) -> tuple[BenchData, float | None]:
    """The cached files for ``rows`` dossiers, generated first if missing; returns generation seconds."""
    data = bench_data(rows)
    if data.exists():
        return data, None
    started = time.perf_counter()
    data.dossiers_csv.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261120)
    procedures = procedures_frame(rng, PROCEDURES)
    feedback_frame(rng, FEEDBACK_ITEMS).write_parquet(data.feedback)
    export = dossier_export(rng, rows, procedures)
    partial = data.dossiers_csv.with_suffix(".csv.partial")
    export.write_csv(partial)
    os.replace(partial, data.dossiers_csv)
    del export
    procedures.write_parquet(data.procedures)
    from checks.timeutil import to_vn_aware

    canonical, _ = fetch_dossiers(data, "formats", to_vn_aware(NOW_NAIVE))
    canonical.write_parquet(data.dossiers_canonical)  # last: its presence marks a complete cache
    return data, time.perf_counter() - started


# ------------------------------------------------------------------------------------ measurements


class CheckTiming(BaseModel):
    check: str
    up: bool
    seconds: float
    findings: int
    error: str | None = None
    start_rss_bytes: int = 0  # RSS when the check started
    peak_bytes: int | None = None  # peak RSS while it ran (VmHWM after a reset), if supported


class MemoryProbe:
    """Wraps a check (same name, same ``run``) to record the RSS at its start and its peak RSS."""

    def __init__(self, check: Check) -> None:
        self.inner = check
        self.name = check.name
        self.start_rss_bytes = 0
        self.peak_bytes: int | None = None
        self.peak_before_bytes = 0  # VmHWM just before: the peak of whatever ran since the last reset

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: Any) -> CheckResult:
        return self._measured(lambda: self.inner.run(tables, calendar, now, settings))

    def run_in(self, context: Any) -> CheckResult:
        """Inside the cycle's context (shared derived tables), as the runner calls a BaseCheck."""
        return self._measured(lambda: self.inner.run_in(context))  # type: ignore[attr-defined]

    def _measured(self, call: Any) -> CheckResult:
        self.peak_before_bytes = vm_hwm_bytes()
        resettable = reset_peak_rss()
        self.start_rss_bytes = vm_rss_bytes()
        try:
            result: CheckResult = call()
            return result
        finally:
            self.peak_bytes = vm_hwm_bytes() if resettable else None


class Figures(BaseModel):
    """What one measurement child reports on its last stdout line (JSON)."""

    kind: str
    peak_bytes: int  # ru_maxrss
    hwm_bytes: int = 0  # VmHWM
    rows: int = 0
    columns: int = 0
    read_seconds: float = 0.0
    fetch_seconds: float = 0.0
    rejected: int = 0
    assemble_seconds: float = 0.0
    checks_seconds: float = 0.0  # CycleRunner.run: checks + metrics publish + report
    checks: list[CheckTiming] = []
    findings: int = 0
    kpis: int = 0
    render_seconds: float = 0.0
    metrics_bytes: int = 0
    fetch_peak_bytes: int = 0  # peak RSS up to the end of the fetch (read + map)
    checks_peak_bytes: int | None = None  # peak RSS from after the fetch to the end (VmHWM reset), if supported
    checks_start_rss_bytes: int = 0  # RSS when the checks phase started (memory kept from the fetch included)
    dossiers_bytes: int = 0  # estimated size of the canonical dossier frame

    @property
    def cycle_seconds(self) -> float:
        return self.fetch_seconds + self.assemble_seconds + self.checks_seconds


def peak_rss_bytes() -> int:
    """Peak RSS of this process (``ru_maxrss``; Linux counts KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def vm_hwm_bytes() -> int:
    """Peak RSS of this process's own address space (VmHWM): a cross-check, as ``ru_maxrss`` also
    carries the spawning parent's peak across fork/exec."""
    return _proc_status_bytes("VmHWM:")


def _proc_status_bytes(key: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure_read(csv_path: Path) -> Figures:
    """The bare read, with the tabular source's options (monitor/sources/tabular.py ``_read_csv``)."""
    started = time.perf_counter()
    data = csv_path.read_bytes()
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False, separator=",", skip_rows=0, truncate_ragged_lines=True)
    seconds = time.perf_counter() - started
    return Figures(kind="read", peak_bytes=peak_rss_bytes(), hwm_bytes=vm_hwm_bytes(), rows=frame.height, columns=frame.width, read_seconds=seconds)


def vm_rss_bytes() -> int:
    """Current RSS of this process (VmRSS)."""
    return _proc_status_bytes("VmRSS:")


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM (Linux >= 4.0, ``clear_refs`` 5); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def import_cycle_modules() -> None:
    import checks.registry  # noqa: F401
    import monitor.cycle  # noqa: F401
    import monitor.metrics  # noqa: F401
    import monitor.sources.tabular  # noqa: F401


def measure_imports() -> Figures:
    import_cycle_modules()
    return Figures(kind="imports", peak_bytes=peak_rss_bytes(), hwm_bytes=vm_hwm_bytes())


def _source_statuses(dossiers: SourceStatus, procedures: int, feedback: int, now: datetime) -> list[SourceStatus]:
    """The dossier source as polled now, plus the two canonical-frame "sources", polled recently."""
    from checks.contracts import SourceStatus
    from checks.schema import TableName

    def recent(name: str, table: TableName, interval: float, minutes_ago: int, rows: int) -> SourceStatus:
        moment = now - timedelta(minutes=minutes_ago)
        return SourceStatus(
            name=name, table=table, up=True, interval_seconds=interval, last_attempt_at=moment,
            last_success_at=moment, rows=rows,
        )

    return [
        dossiers,
        recent("thu_tuc", TableName.PROCEDURES, 3600.0, 20, procedures),
        recent("pakn", TableName.FEEDBACK, 600.0, 5, feedback),
    ]


def fetch_dossiers(data: BenchData, variant: MappingVariant, now: datetime) -> tuple[pl.DataFrame, SourceStatus]:
    """The canonical dossiers: through the real tabular source, or (``parquet``) straight from the cache."""
    from checks.contracts import SourceStatus
    from checks.schema import TableName
    from monitor.sources import build_source

    started = time.perf_counter()
    if variant == "parquet":
        frame = pl.read_parquet(data.dossiers_canonical)
        status = SourceStatus(name="ho_so_parquet", table=TableName.DOSSIERS, up=True, interval_seconds=300.0)
    else:
        source = build_source(dossier_source_settings(data.dossiers_csv, variant), bench_units())
        fetched = source.fetch(None, now)
        if fetched.frame is None:
            raise RuntimeError("the source reported 'not modified' on a first poll")
        frame = fetched.frame
        status = SourceStatus(
            name=source.name, table=TableName.DOSSIERS, up=True, interval_seconds=source.interval_seconds,
            rejected_rows=fetched.rejected_count,
        )
    return frame, status.model_copy(
        update={
            "last_attempt_at": now, "last_success_at": now, "rows": frame.height,
            "fetch_duration_seconds": time.perf_counter() - started,
        }
    )


def measure_cycle(data: BenchData, variant: MappingVariant, profile: bool) -> Figures:
    """Fetch the dossiers, assemble the tables, run every check through CycleRunner, render /metrics."""
    import cProfile
    import pstats

    from checks.calendar import CalendarSettings, WorkingCalendar
    from checks.registry import ALL_CHECKS
    from checks.schema import TableName
    from checks.settings import ChecksSettings
    from checks.timeutil import to_vn_aware
    from monitor.cycle import CycleRunner, assemble_tables
    from monitor.metrics import MetricsState, new_registry, render

    now = to_vn_aware(NOW_NAIVE)
    procedures = pl.read_parquet(data.procedures)
    feedback = pl.read_parquet(data.feedback)
    calendar = WorkingCalendar(CalendarSettings())  # built once per daemon, not per cycle
    metrics = MetricsState()
    settings = ChecksSettings(units=[u.code for u in bench_units() if u.handles_dossiers])
    probes = [MemoryProbe(check) for check in ALL_CHECKS]
    runner = CycleRunner(probes, calendar, settings, metrics, history=None)
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()

    started = time.perf_counter()
    dossiers, status = fetch_dossiers(data, variant, now)
    fetched_at = time.perf_counter()
    fetch_peak = max(peak_rss_bytes(), vm_hwm_bytes())
    reset_peak_rss()  # from here VmHWM is the peak of assembling + checking + rendering only
    checks_start_rss = vm_rss_bytes()
    tables = assemble_tables(
        [(TableName.DOSSIERS, dossiers), (TableName.PROCEDURES, procedures), (TableName.FEEDBACK, feedback)],
        _source_statuses(status, procedures.height, feedback.height, now),
    )
    del dossiers
    assembled_at = time.perf_counter()
    report = runner.run(tables, now)
    checked_at = time.perf_counter()
    body = render(new_registry(metrics))
    rendered_at = time.perf_counter()
    # The probes reset VmHWM as they go: the phase peak is the largest of every stretch's peak.
    stretches = [vm_hwm_bytes(), *(probe.peak_before_bytes for probe in probes), *(probe.peak_bytes for probe in probes)]
    checks_peak = None if any(probe.peak_bytes is None for probe in probes) else max(p or 0 for p in stretches)

    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    return Figures(
        kind="cycle",
        peak_bytes=max(fetch_peak, checks_peak or 0, peak_rss_bytes()),
        hwm_bytes=max(fetch_peak, checks_peak or 0),
        fetch_peak_bytes=fetch_peak,
        checks_peak_bytes=checks_peak,
        checks_start_rss_bytes=checks_start_rss,
        dossiers_bytes=int(tables.dossiers.estimated_size()),
        rows=tables.dossiers.height,
        columns=len(DOSSIER_COLUMNS) + len(PERSONAL_COLUMNS),
        fetch_seconds=fetched_at - started,
        rejected=status.rejected_rows,
        assemble_seconds=assembled_at - fetched_at,
        checks_seconds=checked_at - assembled_at,
        checks=[
            CheckTiming(
                check=str(item["check"]),
                up=bool(item["up"]),
                seconds=float(str(item["duration_seconds"])),
                findings=int(str(item["findings"])),
                error=str(item["error"]) if item["error"] else None,
                start_rss_bytes=probe.start_rss_bytes,
                peak_bytes=probe.peak_bytes,
            )
            for item, probe in zip(report.checks, probes, strict=True)
        ],
        findings=len(report.findings),
        kpis=len(report.kpis),
        render_seconds=rendered_at - checked_at,
        metrics_bytes=len(body),
    )


def run_child(kind: str, rows: int, variant: MappingVariant = "default", profile: bool = False) -> Figures:
    """One measurement in a fresh interpreter; its figures come back as the last stdout line."""
    script = str(Path(__file__).resolve())
    command = [sys.executable, script, "--child", kind, "--dossiers", str(rows), "--mapping", variant]
    if profile:
        command.append("--profile")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"measurement '{kind}' failed (exit {done.returncode}); see its stderr above")
    return Figures.model_validate_json(done.stdout.strip().splitlines()[-1])


def _seconds_of(figures: Figures) -> float:
    return figures.cycle_seconds if figures.kind == "cycle" else figures.read_seconds


class Runs(BaseModel):
    """Repeated runs of one measurement: the best time is reported, and the worst memory."""

    runs: list[Figures]

    @property
    def best(self) -> Figures:
        return min(self.runs, key=_seconds_of)

    @property
    def peak_bytes(self) -> int:
        return max(f.peak_bytes for f in self.runs)

    def spread(self) -> str:
        values = sorted(_seconds_of(f) for f in self.runs)
        return f"{values[0]:.2f}–{values[-1]:.2f} s over {len(values)} runs" if len(values) > 1 else "1 run"


# ------------------------------------------------------------------------------------ report


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.0f} MiB"


def _line(label: str, values: list[float], findings: int | None = None, extra: str = "", note: str = "") -> None:
    cells = "".join(f" {value:>12.2f}" for value in values)
    count = f" {findings:>9,}" if findings is not None else ""
    print(f"{label:<46}{cells}{count}{extra}{note}")


def _growth(item: CheckTiming) -> str:
    """How far RSS rose above its level at the check's start, while the check ran."""
    if item.peak_bytes is None:
        return f" {'n/a':>10}"
    return f" {max(0, item.peak_bytes - item.start_rss_bytes) / 2**20:>10,.0f}"


def print_report(
    rows: int, data: BenchData, read: Runs, cycles: dict[MappingVariant, Runs], imports: Figures
) -> None:
    size = data.dossiers_csv.stat().st_size
    variants = list(cycles)
    best = {v: cycles[v].best for v in variants}
    first = best[variants[0]]
    print()
    print(
        f"{rows:,} dossiers (CSV {size / 2**20:,.0f} MiB, {first.columns} columns), {PROCEDURES:,} procedures on both "
        f"catalogs, {FEEDBACK_ITEMS:,} feedback items; now {NOW_NAIVE:%Y-%m-%d %H:%M}+07:00; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for v in variants:
        print(f"  [{v}] {MAPPING_VARIANTS[v]}")
    print()
    memory_of: MappingVariant = "parquet" if "parquet" in variants else variants[0]
    head = "".join(f" {'[' + v + '] s':>12}" for v in variants)
    print(f"{'step (best run)':<46}{head} {'findings':>9} {'+MiB [' + memory_of + ']':>10}")
    print(f"{'read CSV only (pl.read_csv, all strings)':<46} {read.best.read_seconds:>12.2f}")
    _line("cycle: fetch dossiers (source: read + map)", [best[v].fetch_seconds for v in variants])
    _line("cycle: assemble canonical tables", [best[v].assemble_seconds for v in variants])
    for index, item in enumerate(first.checks):
        down = [f"{v}: {best[v].checks[index].error}" for v in variants if not best[v].checks[index].up]
        note = f"  DOWN ({'; '.join(down)})" if down else ""
        seconds = [best[v].checks[index].seconds for v in variants]
        _line(f"cycle: check {item.check}", seconds, item.findings, _growth(best[memory_of].checks[index]), note)
    _line(
        "cycle: metrics publish + report (CycleRunner)",
        [best[v].checks_seconds - sum(c.seconds for c in best[v].checks) for v in variants],
    )
    _line("cycle total", [best[v].cycle_seconds for v in variants], first.findings)
    _line("  of which checks (CycleRunner.run)", [best[v].checks_seconds for v in variants])
    _line("render /metrics (a scrape, not in the cycle)", [best[v].render_seconds for v in variants])
    print()
    print(
        f"rows loaded {first.rows:,}, rejected {first.rejected:,}; KPI values {first.kpis:,}; /metrics body "
        f"{first.metrics_bytes / 1024:,.0f} KiB; canonical dossier frame {_mib(first.dossiers_bytes)}"
    )
    print(f"+MiB: how far RSS rose above its level at the check's start while it ran ([{memory_of}] run)")
    print(f"timing spread: read {read.spread()}; " + "; ".join(f"[{v}] {cycles[v].spread()}" for v in variants))
    print(
        f"peak RSS (ru_maxrss, a fresh process each): interpreter + imports {_mib(imports.peak_bytes)}, "
        f"bare read {_mib(read.peak_bytes)}"
    )
    for v in variants:
        print(
            f"  [{v}] cycle {_mib(cycles[v].peak_bytes)} = max(fetch {_mib(best[v].fetch_peak_bytes)}, "
            f"assemble + checks + render {_mib(best[v].checks_peak_bytes)} [VmHWM after a reset; RSS when the "
            f"checks started {_mib(best[v].checks_start_rss_bytes)}])"
        )
    print()
    bare = read.best.read_seconds
    for v in variants:
        cycle = best[v]
        if v == "parquet":
            peak = cycles[v].peak_bytes
            print(
                f"[{v}] checks alone over canonical tables: {cycle.checks_seconds:.2f} s = "
                f"{cycle.checks_seconds / bare if bare else float('inf'):.1f}x the bare read; peak {peak / 1e9:.2f} GB "
                f"(no aim: no CSV is read)"
            )
            continue
        ratio = cycle.cycle_seconds / bare if bare else float("inf")
        checks_ratio = cycle.checks_seconds / bare if bare else float("inf")
        peak = cycles[v].peak_bytes
        print(
            f"[{v}] cycle / read = {cycle.cycle_seconds:.2f} / {bare:.2f} s = {ratio:.1f}x (checks alone "
            f"{checks_ratio:.1f}x) -> aim 'within {AIM_RATIO:.0f}x the bare read' "
            f"{'holds' if ratio <= AIM_RATIO else 'does NOT hold'}; peak {peak / 1e9:.2f} GB -> aim 'under 1 GB' "
            f"{'holds' if peak < AIM_PEAK_BYTES else 'does NOT hold'}"
        )


def generate_figures(rows: int) -> Figures:
    _, seconds = ensure_data(rows)
    return Figures(kind="generate", peak_bytes=peak_rss_bytes(), hwm_bytes=vm_hwm_bytes(), read_seconds=seconds or 0.0)


def run_benchmark(rows: int, variants: list[MappingVariant], repeat: int, profile: bool) -> None:
    """The parent stays small (it only spawns): a child inherits the parent's ru_maxrss at spawn."""
    data = bench_data(rows)
    where = data.dossiers_csv.parent.relative_to(ROOT)
    if data.exists():
        print(f"data: {where} (cached)")
    else:
        generated = run_child("generate", rows)
        print(f"data: {where} (generated in {generated.read_seconds:.1f} s)")
    imports = run_child("imports", rows)
    read: list[Figures] = []
    cycles: dict[MappingVariant, list[Figures]] = {v: [] for v in variants}
    for attempt in range(repeat):  # interleaved, so load from other processes spreads over every measurement
        print(f"run {attempt + 1}/{repeat} …", flush=True)
        read.append(run_child("read", rows))
        for v in variants:
            cycles[v].append(run_child("cycle", rows, v, profile and attempt == 0))
    print_report(rows, data, Runs(runs=read), {v: Runs(runs=runs) for v, runs in cycles.items()}, imports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=DEFAULT_DOSSIERS, help="dossier rows (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run with {QUICK_DOSSIERS:,} dossiers")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best time shown (default 3)")
    parser.add_argument(
        "--mapping", choices=list(MAPPING_VARIANTS), action="append", help="mapping variant to measure (default: all)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the first cycle (top 40 cumulative, stderr)")
    parser.add_argument("--child", choices=["generate", "read", "cycle", "imports"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    rows = QUICK_DOSSIERS if args.quick else args.dossiers
    variants: list[MappingVariant] = args.mapping or list(MAPPING_VARIANTS)

    if args.child is not None:
        from monitor.logging_setup import configure_logging

        configure_logging("console", "WARNING")  # warnings and check failures still show, on stderr
    if args.child == "generate":
        print(generate_figures(rows).model_dump_json())
    elif args.child == "read":
        print(measure_read(bench_data(rows).dossiers_csv).model_dump_json())
    elif args.child == "imports":
        print(measure_imports().model_dump_json())
    elif args.child == "cycle":
        print(measure_cycle(bench_data(rows), variants[0], args.profile).model_dump_json())
    else:
        run_benchmark(rows, variants, max(1, args.repeat), args.profile)


if __name__ == "__main__":
    main()
