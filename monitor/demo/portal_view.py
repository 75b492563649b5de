"""The national-portal view of the dossiers at one moment: status, dates and sync state as of ``now``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import polars as pl

from monitor.demo.dossiers import NAT, BoolArray, IntArray, datetime_series
from monitor.demo.units import UNITS_BY_CODE

AGENCY_ID = "000.00.53.H48"
PROVINCIAL_CODE_SUFFIX = ".000.00.00.H48"
PORTAL_TIME_FORMAT = "%Y%m%d%H%M%S"
APOLOGY_REASONS = (
    "Hồ sơ cần lấy ý kiến của cơ quan liên quan",
    "Cần thẩm định thực tế tại cơ sở",
    "Khối lượng hồ sơ tăng đột biến trong kỳ",
)
DOCUMENT_NAMES = ("Don_de_nghi.pdf", "Giay_to_phap_ly.pdf", "Ho_so_ky_thuat.pdf")
FAKE_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
FAKE_MIDDLE = ("Văn", "Thị", "Minh", "Thu")

# fmt: off
PORTAL_FIELDS: tuple[str, ...] = (
    "MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "KenhThucHien",
    "ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email",
    "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi",
    "TrangThaiHoSo", "DonViXuLy", "HoSoCoThanhPhanSoHoa", "DuocThanhToanTrucTuyen",
    "DongBoDVCQG", "TrangThaiDVCQG", "NgayDongBoDVCQG", "NgayCapNhat",
)  # plus the nested lists TaiLieuNop, DanhSachGiayToKetQua, DanhSachLePhi, DanhSachHoSoBoSung, DanhSachXinLoi
# fmt: on


def _happened(event: IntArray, t: IntArray | int) -> BoolArray:
    return (event != NAT) & (event <= t)


def status_at(f: dict[str, IntArray], t: IntArray | int) -> IntArray:
    """TrangThaiHoSo of every dossier at time ``t`` (0 where it does not exist yet)."""
    in_supplement = (_happened(f["sup1_req"], t) & ~_happened(f["sup1_back"], t)) | (
        _happened(f["sup2_req"], t) & ~_happened(f["sup2_back"], t)
    )
    conditions = [
        ~_happened(f["submitted"], t),
        _happened(f["refused_at"], t),
        ~_happened(f["received"], t),
        _happened(f["withdrawn_at"], t),
        _happened(f["stopped_at"], t),
        _happened(f["returned"], t),
        _happened(f["finished"], t),
        in_supplement,
        _happened(f["fee_request"], t),
        _happened(f["start"], t),
    ]
    return np.select(conditions, [0, 3, 1, 7, 8, 10, 9, 5, 6, 4], 2).astype(np.int64)


EVENT_COLUMNS = (
    "submitted",
    "received",
    "start",
    "refused_at",
    "withdrawn_at",
    "stopped_at",
    "sup1_req",
    "sup1_back",
    "sup2_req",
    "sup2_back",
    "fee_request",
    "finished",
    "returned",
    "apology_at",
)


def last_event_at(f: dict[str, IntArray], t: IntArray | int) -> IntArray:
    stacked = np.stack([np.where(_happened(f[c], t), f[c], NAT) for c in EVENT_COLUMNS])
    return stacked.max(axis=0)


def current_due(f: dict[str, IntArray], t: IntArray | int) -> IntArray:
    return np.where(
        _happened(f["sup2_back"], t), f["due2"], np.where(_happened(f["sup1_back"], t), f["due1"], f["due0"])
    )


def _when(f: dict[str, IntArray], column: str, t: int) -> IntArray:
    return np.where(_happened(f[column], t), f[column], NAT)


def _fmt(values: IntArray) -> pl.Series:
    return datetime_series(values).dt.strftime(PORTAL_TIME_FORMAT)


def portal_frame(fates: pl.DataFrame, procedures: pl.DataFrame, now_us: int) -> pl.DataFrame:
    """One row per dossier visible at ``now_us``, portal fields as strings plus helper columns ("_" prefix).

    Sorted by NgayCapNhat then MaHoSo (the API's order).
    """
    if fates.height == 0:
        return pl.DataFrame()
    int_cols = [c for c, t in fates.schema.items() if t == pl.Int64]
    f = {c: fates[c].to_numpy() for c in int_cols}
    visible = _happened(f["submitted"], now_us)
    fates = fates.filter(pl.Series(visible))
    f = {c: v[visible] for c, v in f.items()}
    status = status_at(f, now_us)
    lagged = now_us - f["sync_lag"]
    national_status = status_at(f, lagged)
    synced = ~fates["unsynced"].to_numpy() & (national_status > 0)
    national_updated = np.where(synced, last_event_at(f, lagged) + f["sync_lag"], NAT)
    # A sync to the national portal is a change too: incremental pollers must see it.
    updated = np.maximum(last_event_at(f, now_us), national_updated)
    seq = f["seq"]
    unit_names = {code: (u.name, u.aliases[0] if u.aliases else u.name) for code, u in UNITS_BY_CODE.items()}
    proc = (
        procedures.select("procedure_code", "procedure_name", "field_code", "field_name", "fee_text")
        .with_row_index("proc")
        .with_columns(pl.col("proc").cast(pl.Int64))
    )
    frame = pl.DataFrame(
        {
            "proc": f["proc"],
            "_unit": fates["unit"],
            "_variant": fates["variant_name"],
            "_provincial_code": fates["provincial_code"],
            "_seq": seq,
            "_status": status,
            "_due_at": datetime_series(current_due(f, now_us)),
            "_updated_at": datetime_series(updated),
            "_late": fates["late"],
            "_forced": fates["forced"],
            "_has_fee": fates["has_fee"],
            "_e_result": fates["e_result"],
            "_digitised": fates["digitised"],
            "_reused": fates["reused"],
            "_from_store": fates["from_store"],
            "_n_docs": f["n_docs"],
            "_paid_online": fates["paid_online"],
            "KenhThucHien": fates["channel"].cast(pl.Utf8),
            "NgayNopHoSo": _fmt(f["submitted"]),
            "NgayTiepNhan": _fmt(_when(f, "received", now_us)),
            "NgayHenTra": _fmt(np.where(_happened(f["received"], now_us), current_due(f, now_us), NAT)),
            "NgayKetThucXuLy": _fmt(_when(f, "finished", now_us)),
            "NgayTra": _fmt(_when(f, "returned", now_us)),
            "NgayTuChoi": _fmt(_when(f, "refused_at", now_us)),
            "TrangThaiHoSo": pl.Series(status).cast(pl.Utf8),
            "DongBoDVCQG": pl.Series(synced).cast(pl.Int8).cast(pl.Utf8),
            "TrangThaiDVCQG": pl.Series(national_status).cast(pl.Utf8).set(pl.Series(~synced), None),
            "NgayDongBoDVCQG": _fmt(national_updated),
            "NgayCapNhat": _fmt(updated),
            **{
                f"_{c}": datetime_series(_when(f, c, now_us))
                for c in ("sup1_req", "sup1_back", "sup2_req", "sup2_back")
            },
            "_due0": datetime_series(f["due0"]),
            "_due1": datetime_series(f["due1"]),
            "_due2": datetime_series(f["due2"]),
            "_apology": datetime_series(_when(f, "apology_at", now_us)),
            "_apology_due": datetime_series(
                np.where(_happened(f["apology_at"], now_us), f["apology_due"], NAT)
            ),
        }
    ).join(proc, on="proc", how="left", maintain_order="left")
    epoch = date(1970, 1, 1).toordinal()
    day = pl.Series(f["day_ord"] - epoch).cast(pl.Int32).cast(pl.Date).dt.strftime("%y%m%d")
    code = pl.col("procedure_code")
    return frame.with_columns(
        MaHoSo=pl.lit(AGENCY_ID + "-")
        + pl.Series(day)
        + pl.lit("-")
        + pl.Series(fates["in_day"] + 1).cast(pl.Utf8).str.zfill(4),
        MaTTHC=pl.when(pl.col("_provincial_code")).then(code + PROVINCIAL_CODE_SUFFIX).otherwise(code),
        TenTTHC=pl.col("procedure_name"),
        MaLinhVuc=pl.col("field_code"),
        TenLinhVuc=pl.col("field_name"),
        DonViXuLy=pl.when(pl.col("_variant"))
        .then(
            pl.col("_unit").replace_strict({k: v[1] for k, v in unit_names.items()}, default=pl.col("_unit"))
        )
        .otherwise(
            pl.col("_unit").replace_strict({k: v[0] for k, v in unit_names.items()}, default=pl.col("_unit"))
        ),
        HoSoCoThanhPhanSoHoa=pl.when(pl.col("_digitised")).then(pl.lit("1")).otherwise(pl.lit("0")),
        DuocThanhToanTrucTuyen=pl.col("_paid_online").cast(pl.Utf8),
        ChuHoSo=pl.Series(FAKE_SURNAMES).gather(pl.Series(seq % len(FAKE_SURNAMES)))
        + " "
        + pl.Series(FAKE_MIDDLE).gather(pl.Series(seq // 7 % len(FAKE_MIDDLE)))
        + " Giả Lập "
        + pl.Series(seq).cast(pl.Utf8).str.zfill(6),
        SoGiayToChuHoSo=pl.lit("000") + pl.Series(seq).cast(pl.Utf8).str.zfill(9),
        SoDienThoai=pl.lit("0999") + pl.Series(seq % 1_000_000).cast(pl.Utf8).str.zfill(6),
        Email=pl.lit("nguoidan.gia.") + pl.Series(seq).cast(pl.Utf8) + pl.lit("@example.invalid"),
    ).sort(["NgayCapNhat", "MaHoSo"])


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime(PORTAL_TIME_FORMAT)


def portal_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready national-portal records (every code a string, nested lists built per row)."""
    out: list[dict[str, Any]] = []
    for row in frame.iter_rows(named=True):
        record: dict[str, Any] = {name: row[name] for name in PORTAL_FIELDS}
        code = row["MaHoSo"]
        digitised = row["_digitised"]
        record["TaiLieuNop"] = [
            {
                "TenTepDinhKem": DOCUMENT_NAMES[i],
                "DuocSoHoa": "1" if digitised else "0",
                "DuocTaiSuDung": "1" if row["_reused"] and i == 0 else "0",
                "DuocLayTuKhoDMQG": "1" if row["_from_store"] and i == 0 else "0",
            }
            for i in range(int(row["_n_docs"]))
        ]
        finished = row["_status"] in (9, 10)
        record["DanhSachGiayToKetQua"] = (
            [
                {
                    "TenGiayTo": "Kết quả giải quyết TTHC",
                    "DuongDanTepTinKetQua": f"https://dichvucong.example.invalid/ketqua/{code}.pdf",
                }
            ]
            if finished and row["_e_result"]
            else []
        )
        record["DanhSachLePhi"] = (
            [{"TenPhiLePhi": "Phí, lệ phí", "MucPhi": row["fee_text"] or ""}] if row["_has_fee"] else []
        )
        supplements = []
        for req, back, before, after in (
            ("_sup1_req", "_sup1_back", "_due0", "_due1"),
            ("_sup2_req", "_sup2_back", "_due1", "_due2"),
        ):
            if row[req] is not None:
                supplements.append(
                    {
                        "NgayYeuCauBoSung": _text(row[req]),
                        "NgayTiepNhanBoSung": _text(row[back]),
                        "NgayHenTraTruoc": _text(row[before]),
                        "NgayHenTraMoi": _text(row[after]) if row[back] is not None else None,
                    }
                )
        record["DanhSachHoSoBoSung"] = supplements
        record["DanhSachXinLoi"] = (
            [
                {
                    "NgayXinLoi": _text(row["_apology"]),
                    "NgayHenTraMoi": _text(row["_apology_due"]),
                    "LyDo": APOLOGY_REASONS[int(row["_seq"]) % len(APOLOGY_REASONS)],
                }
            ]
            if row["_apology"] is not None
            else []
        )
        out.append(record)
    return out
