"""Write the simulator's world as the export files the monitor reads (atomic: temp file + rename)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from checks.schema import DOSSIER_STATUS_VI
from monitor.demo.layout import (
    CATALOG_COLUMNS,
    DOSSIER_REPORT_FILE,
    FEEDBACK_COLUMNS,
    FEEDBACK_FILE,
    LIMIT_UNIT_WORDS,
    NATIONAL_CATALOG_FILE,
    NO,
    ONLINE_LEVEL_WORDS,
    PLAN_TRACKER_FILE,
    PROVINCIAL_CATALOG_FILE,
    YES,
)
from monitor.demo.portal_view import PROVINCIAL_CODE_SUFFIX
from monitor.demo.simulator import PortalSimulator
from monitor.demo.units import UNITS_BY_CODE

EXCEL_EPOCH = datetime(1899, 12, 30)
DATE_FORMAT_NATIONAL = "%d/%m/%Y"
DATETIME_FORMAT_REPORT = "%d/%m/%Y %H:%M:%S"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through ``write`` into a temp file next to ``path``, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _catalog_frame(procedures: pl.DataFrame, catalog: str) -> pl.DataFrame:
    """The catalog with export words: Vietnamese headers of ``catalog`` ("provincial" | "national")."""
    unit_names = {code: unit.name for code, unit in UNITS_BY_CODE.items()}
    exprs: list[pl.Expr] = []
    for spec in CATALOG_COLUMNS:
        header = spec.provincial if catalog == "provincial" else spec.national
        col = pl.col(spec.field)
        if spec.kind == "bool":
            expr = pl.when(col).then(pl.lit(YES)).otherwise(pl.lit(NO))
        elif spec.kind == "limit_unit":
            expr = col.replace_strict(LIMIT_UNIT_WORDS, default=col)
        elif spec.kind == "level":
            expr = col.replace_strict(ONLINE_LEVEL_WORDS, default=col)
        elif spec.kind == "unit_name":
            expr = col.replace_strict(unit_names, default=col)
        elif spec.kind == "code" and catalog == "provincial":
            expr = col + PROVINCIAL_CODE_SUFFIX
        elif spec.kind == "date" and catalog == "national":
            expr = col.dt.strftime(DATE_FORMAT_NATIONAL)
        elif spec.kind == "number":
            expr = col.cast(pl.Float64)
        else:
            expr = col
        exprs.append(expr.alias(header))
    return procedures.select(exprs)


def _write_xlsx(path: Path, frame: pl.DataFrame, sheet: str, serial_columns: tuple[str, ...] = ()) -> None:
    """XLSX with real date cells; ``serial_columns`` hold datetimes written as plain Excel serial numbers."""

    def write(target: Path) -> None:
        book = xlsxwriter.Workbook(str(target), {"remove_timezone": True})
        try:
            ws = book.add_worksheet(sheet)
            bold = book.add_format({"bold": True})
            date_fmt = book.add_format({"num_format": "dd/mm/yyyy"})
            for c, name in enumerate(frame.columns):
                ws.write_string(0, c, name, bold)
            for r, row in enumerate(frame.iter_rows(), start=1):
                for c, (name, value) in enumerate(zip(frame.columns, row, strict=True)):
                    _write_cell(ws, r, c, value, name in serial_columns, date_fmt)
        finally:
            book.close()

    _atomic_write(path, write)


def _write_cell(ws: Any, r: int, c: int, value: object, serial: bool, date_fmt: Any) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        if serial:
            ws.write_number(r, c, (value - EXCEL_EPOCH).total_seconds() / 86400.0)
        else:
            ws.write_datetime(r, c, value, date_fmt)
    elif isinstance(value, date):
        ws.write_datetime(r, c, datetime.combine(value, datetime.min.time()), date_fmt)
    elif isinstance(value, bool):
        ws.write_string(r, c, YES if value else NO)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    else:
        ws.write_string(r, c, str(value))


def _write_csv(path: Path, frame: pl.DataFrame) -> None:
    _atomic_write(path, lambda target: frame.write_csv(target))


def feedback_frame(simulator: PortalSimulator) -> pl.DataFrame:
    fmt = DATETIME_FORMAT_REPORT
    unit_names = {code: unit.name for code, unit in UNITS_BY_CODE.items()}
    header = {v: k for k, v in FEEDBACK_COLUMNS.items()}
    fb = simulator.feedback()
    return fb.select(
        pl.col("feedback_id").alias(header["feedback_id"]),
        pl.col("unit").replace_strict(unit_names, default=pl.col("unit")).alias(header["unit"]),
        pl.col("received_at").alias(header["received_at"]),
        *(
            pl.col(c).dt.strftime(fmt).alias(header[c])
            for c in ("refused_at", "info_requested_at", "handled_at", "published_at")
        ),
        pl.when(pl.col("satisfied").is_null())
        .then(None)
        .when(pl.col("satisfied"))
        .then(pl.lit(YES))
        .otherwise(pl.lit(NO))
        .alias(header["satisfied"]),
        pl.col("topic").alias(header["topic"]),
    )


def dossier_report_frame(simulator: PortalSimulator) -> pl.DataFrame:
    """The flat dossier report (Vietnamese headers, dd/MM/yyyy HH:mm:ss), no personal data."""
    frame = simulator.portal_frame()

    def when(column: str) -> pl.Expr:
        return (
            pl.col(column).str.to_datetime("%Y%m%d%H%M%S", strict=False).dt.strftime(DATETIME_FORMAT_REPORT)
        )

    return frame.select(
        pl.col("MaHoSo").alias("Mã hồ sơ"),
        pl.col("MaTTHC").alias("Mã thủ tục"),
        pl.col("TenTTHC").alias("Tên thủ tục"),
        when("NgayTiepNhan").alias("Ngày tiếp nhận"),
        when("NgayHenTra").alias("Ngày hẹn trả"),
        when("NgayKetThucXuLy").alias("Ngày có kết quả"),
        pl.col("_status")
        .replace_strict({k: v for k, v in DOSSIER_STATUS_VI.items()}, return_dtype=pl.Utf8)
        .alias("Trạng thái"),
        pl.col("DonViXuLy").alias("Đơn vị xử lý"),
    )


def write_exports(simulator: PortalSimulator, data_dir: Path, *, dossier_report: bool = True) -> list[Path]:
    """Write every export file of the simulator's world at its ``now`` into ``data_dir``."""
    written: list[Path] = []
    target = data_dir / PROVINCIAL_CATALOG_FILE
    _write_xlsx(target, _catalog_frame(simulator.procedures("provincial"), "provincial"), "Thu tuc")
    written.append(target)
    target = data_dir / NATIONAL_CATALOG_FILE
    _write_csv(target, _catalog_frame(simulator.procedures("national"), "national"))
    written.append(target)
    target = data_dir / FEEDBACK_FILE
    _write_xlsx(target, feedback_frame(simulator), "PAKN", serial_columns=("Ngày tiếp nhận",))
    written.append(target)
    target = data_dir / PLAN_TRACKER_FILE
    plan = simulator.plan_tracker().select(
        pl.col("task_id").alias("Mã nhiệm vụ"),
        pl.col("status").alias("Trạng thái"),
        pl.col("done_at").dt.strftime(DATE_FORMAT_NATIONAL).alias("Ngày hoàn thành"),
    )
    _write_csv(target, plan)
    written.append(target)
    if dossier_report:
        target = data_dir / DOSSIER_REPORT_FILE
        _write_csv(target, dossier_report_frame(simulator))
        written.append(target)
    return written
