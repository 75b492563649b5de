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


def _flag_text(column: str) -> pl.Expr:
    """"1" where the helper flag is true, else "0" (null too), as ``portal_records`` writes it."""
    return pl.when(pl.col(column)).then(pl.lit("1")).otherwise(pl.lit("0"))


def _time_text(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime(PORTAL_TIME_FORMAT)


def _one_if(condition: pl.Expr, item: pl.Expr) -> pl.Expr:
    """``[item]`` where ``condition`` holds, else ``[]``."""
    return pl.concat_list(item).list.head(condition.fill_null(False).cast(pl.Int64))


def _supplement(req: str, back: str, before: str, after: str) -> pl.Expr:
    return pl.struct(
        _time_text(req).alias("NgayYeuCauBoSung"),
        _time_text(back).alias("NgayTiepNhanBoSung"),
        _time_text(before).alias("NgayHenTraTruoc"),
        pl.when(pl.col(back).is_not_null()).then(_time_text(after)).alias("NgayHenTraMoi"),
    )


_DOCUMENT = pl.Struct({name: pl.Utf8() for name in ("TenTepDinhKem", "DuocSoHoa", "DuocTaiSuDung", "DuocLayTuKhoDMQG")})


def _document_lists() -> pl.DataFrame:
    """Every TaiLieuNop a record can have, by ``n_docs * 8 + digitised * 4 + reused * 2 + from_store``:
    a join with 24 rows instead of building three structs per record."""
    keys, lists = [], []
    for n_docs in range(len(DOCUMENT_NAMES) + 1):
        for digitised, reused, from_store in ((d, r, f) for d in (0, 1) for r in (0, 1) for f in (0, 1)):
            keys.append(n_docs * 8 + digitised * 4 + reused * 2 + from_store)
            lists.append([
                {
                    "TenTepDinhKem": DOCUMENT_NAMES[i],
                    "DuocSoHoa": "1" if digitised else "0",
                    "DuocTaiSuDung": "1" if reused and i == 0 else "0",
                    "DuocLayTuKhoDMQG": "1" if from_store and i == 0 else "0",
                }
                for i in range(n_docs)
            ])
    return pl.DataFrame({"_doc_key": keys, "TaiLieuNop": lists}, schema={"_doc_key": pl.Int64, "TaiLieuNop": pl.List(_DOCUMENT)})


def portal_records_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The records of :func:`portal_records`, column-wise: portal fields and nested lists as columns."""
    result = pl.struct(
        pl.lit("Kết quả giải quyết TTHC").alias("TenGiayTo"),
        pl.format("https://dichvucong.example.invalid/ketqua/{}.pdf", pl.col("MaHoSo")).alias("DuongDanTepTinKetQua"),
    )
    first, second = pl.col("_sup1_req").is_not_null(), pl.col("_sup2_req").is_not_null()
    supplement1 = _supplement("_sup1_req", "_sup1_back", "_due0", "_due1")
    supplement2 = _supplement("_sup2_req", "_sup2_back", "_due1", "_due2")
    apology = pl.struct(
        _time_text("_apology").alias("NgayXinLoi"),
        _time_text("_apology_due").alias("NgayHenTraMoi"),
        pl.lit(pl.Series(APOLOGY_REASONS)).gather(pl.col("_seq") % len(APOLOGY_REASONS)).alias("LyDo"),
    )
    flag = [pl.col(name).fill_null(False).cast(pl.Int64) for name in ("_digitised", "_reused", "_from_store")]
    return frame.with_columns(_doc_key=pl.col("_n_docs").cast(pl.Int64) * 8 + flag[0] * 4 + flag[1] * 2 + flag[2]).join(
        _document_lists(), on="_doc_key", how="left", maintain_order="left"
    ).select(
        *PORTAL_FIELDS,
        "TaiLieuNop",
        _one_if(pl.col("_status").is_in([9, 10]) & pl.col("_e_result"), result).alias("DanhSachGiayToKetQua"),
        _one_if(
            pl.col("_has_fee"),
            pl.struct(pl.lit("Phí, lệ phí").alias("TenPhiLePhi"), pl.col("fee_text").fill_null("").alias("MucPhi")),
        ).alias("DanhSachLePhi"),
        pl.when(first & second)
        .then(pl.concat_list(supplement1, supplement2))
        .when(first)
        .then(pl.concat_list(supplement1))
        .when(second)
        .then(pl.concat_list(supplement2))
        .otherwise(pl.concat_list(supplement1).list.head(0))
        .alias("DanhSachHoSoBoSung"),
        _one_if(pl.col("_apology").is_not_null(), apology).alias("DanhSachXinLoi"),
    )


def portal_records_json(frame: pl.DataFrame) -> bytes:
    """:func:`portal_records` as a JSON array (UTF-8), written by Polars without a Python object per record."""
    if frame.height == 0:
        return b"[]"
    return portal_records_frame(frame).write_json().encode("utf-8")
