"""National-portal (DVCQG) dossier records -> a flat raw frame for the dossiers table.

The records follow the sync service ``DongBoHoSoMC`` (DOMAIN.md §3) plus our documented
extensions (DanhSachXinLoi, DongBoDVCQG, TrangThaiDVCQG, NgayDongBoDVCQG, NgayCapNhat).
Scalar fields keep their portal names (so rejections name the portal field); values derived
from the nested lists get canonical names. Personal fields (ChuHoSo, SoGiayToChuHoSo,
SoDienThoai, Email) are not in the read schema, so they are never loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

# Portal scalar field -> canonical dossier field.
DVCQG_COLUMNS: dict[str, str] = {
    "MaHoSo": "dossier_code",
    "MaTTHC": "procedure_code",
    "TenTTHC": "procedure_name",
    "MaLinhVuc": "field_code",
    "TenLinhVuc": "field_name",
    "KenhThucHien": "channel",
    "NgayNopHoSo": "submitted_at",
    "NgayTiepNhan": "received_at",
    "NgayHenTra": "due_at",
    "NgayKetThucXuLy": "finished_at",
    "NgayTra": "returned_at",
    "NgayTuChoi": "refused_at",
    "TrangThaiHoSo": "status",
    "DonViXuLy": "unit",
    "HoSoCoThanhPhanSoHoa": "digitised",
    "DuocThanhToanTrucTuyen": "paid_online",
    "DongBoDVCQG": "national_synced",
    "TrangThaiDVCQG": "national_status",
    "NgayDongBoDVCQG": "national_updated_at",
    "NgayCapNhat": "updated_at",
}

PERSONAL_FIELDS: tuple[str, ...] = ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email")

_S = pl.Utf8()
_SCALARS = [name for name in DVCQG_COLUMNS]
RECORD_SCHEMA: dict[str, pl.DataType] = {
    **{name: _S for name in _SCALARS},
    "TaiLieuNop": pl.List(pl.Struct({"DuocSoHoa": _S, "DuocTaiSuDung": _S, "DuocLayTuKhoDMQG": _S})),
    "DanhSachGiayToKetQua": pl.List(pl.Struct({"TenGiayTo": _S, "DuongDanTepTinKetQua": _S})),
    "DanhSachLePhi": pl.List(pl.Struct({"TenPhiLePhi": _S, "MucPhi": _S})),
    "DanhSachHoSoBoSung": pl.List(
        pl.Struct({"NgayYeuCauBoSung": _S, "NgayTiepNhanBoSung": _S, "NgayHenTraTruoc": _S, "NgayHenTraMoi": _S})
    ),
    "DanhSachXinLoi": pl.List(pl.Struct({"NgayXinLoi": _S, "NgayHenTraMoi": _S, "LyDo": _S})),
}


def read_records(records: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Records -> a frame with the fixed :data:`RECORD_SCHEMA`; unknown (and personal) keys are ignored."""
    return pl.from_dicts(records, schema=RECORD_SCHEMA, strict=False)


def flatten_dvcqg(records: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Portal records -> raw dossier frame (portal scalar names + canonical derived columns)."""
    return flatten_record_frame(read_records(records))


def _flag(name: str) -> pl.Expr:
    return pl.element().struct.field(name).str.strip_chars() == "1"


def _any(list_col: str, *flags: str) -> pl.Expr:
    cond = _flag(flags[0])
    for name in flags[1:]:
        cond = cond | _flag(name)
    return pl.col(list_col).list.eval(cond).list.any().fill_null(False)


def _field(list_col: str, name: str) -> pl.Expr:
    return pl.col(list_col).list.eval(pl.element().struct.field(name))


def _non_empty(list_col: str) -> pl.Expr:
    return pl.col(list_col).list.len().fill_null(0) > 0


def _is_one_of(col: str, words: Sequence[str]) -> pl.Expr:
    return pl.col(col).str.strip_chars().is_in(list(words))


def flatten_record_frame(records: pl.DataFrame) -> pl.DataFrame:
    """The column-wise part of :func:`flatten_dvcqg`, on a frame already in RECORD_SCHEMA."""
    status = pl.col("TrangThaiHoSo").str.strip_chars()
    link = pl.element().struct.field("DuongDanTepTinKetQua").str.strip_chars().str.len_chars() > 0
    derived = [
        (_is_one_of("HoSoCoThanhPhanSoHoa", ["1"]).fill_null(False) | _any("TaiLieuNop", "DuocSoHoa")).alias(
            "digitised"
        ),
        _any("TaiLieuNop", "DuocTaiSuDung", "DuocLayTuKhoDMQG").alias("data_reused"),
        pl.col("DanhSachGiayToKetQua").list.eval(link).list.any().fill_null(False).alias("result_electronic"),
        (_non_empty("DanhSachGiayToKetQua") | status.is_in(["9", "10"]).fill_null(False)).alias("result_required"),
        _non_empty("DanhSachLePhi").alias("has_fee"),
        _is_one_of("DuocThanhToanTrucTuyen", ["1", "2"]).fill_null(False).alias("paid_online"),
        pl.col("DanhSachHoSoBoSung").list.len().fill_null(0).cast(pl.Int16).alias("supplement_count"),
        _field("DanhSachHoSoBoSung", "NgayYeuCauBoSung").list.first().alias("supplement_requested_at"),
        _field("DanhSachHoSoBoSung", "NgayTiepNhanBoSung").list.last().alias("supplement_received_at"),
        _field("DanhSachHoSoBoSung", "NgayHenTraTruoc").list.first().alias("due_before_supplement_at"),
        _field("DanhSachXinLoi", "NgayXinLoi").list.first().alias("apology_at"),
        _field("DanhSachXinLoi", "NgayHenTraMoi").list.last().alias("extended_due_at"),
        pl.col("DanhSachXinLoi").list.len().fill_null(0).cast(pl.Int16).alias("due_extension_count"),
        # absent flag: unknown (null), not "not synced"
        pl.when(pl.col("DongBoDVCQG").str.strip_chars() == "1")
        .then(pl.lit(True))
        .when(pl.col("DongBoDVCQG").str.strip_chars() == "0")
        .then(pl.lit(False))
        .alias("national_synced"),
    ]
    derived_from = ("HoSoCoThanhPhanSoHoa", "DuocThanhToanTrucTuyen", "DongBoDVCQG")
    scalars = [name for name in _SCALARS if name not in derived_from]
    return records.select(*scalars, *derived)
