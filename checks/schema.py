"""Canonical tables: the one shape every source maps into and every check reads.

All times are Vietnam wall-clock time (Asia/Ho_Chi_Minh, UTC+7, no DST) stored as naive
``pl.Datetime("us")``. Sources convert aware times to Vietnam time and drop the zone; naive
input is read as Vietnam time. See docs/SCHEMA.md for the field-by-field reference.

Personal data (applicant name, ID number, phone, e-mail) is never part of a canonical table:
mappers drop those columns at the door.
"""

from __future__ import annotations

import polars as pl

from checks.i18n import N_, gettext
from checks.table_names import TableName

VN_DATETIME = pl.Datetime("us")


DOSSIERS_SCHEMA: dict[str, pl.DataType] = {
    "dossier_code": pl.Utf8(),  # MaHoSo
    "procedure_code": pl.Utf8(),  # MaTTHC, normalised to the national form "1.001612"
    "procedure_name": pl.Categorical(),  # TenTTHC
    "field_code": pl.Utf8(),  # MaLinhVuc
    "field_name": pl.Categorical(),  # TenLinhVuc
    "unit": pl.Utf8(),  # unit code (DonViXuLy mapped through settings.units)
    "channel": pl.Int8(),  # KenhThucHien: 1 in person, 2 online, 3 postal
    "status": pl.Int8(),  # TrangThaiHoSo 1..10
    "submitted_at": VN_DATETIME,  # NgayNopHoSo
    "received_at": VN_DATETIME,  # NgayTiepNhan
    "due_at": VN_DATETIME,  # NgayHenTra (current due time; may be null)
    "finished_at": VN_DATETIME,  # NgayKetThucXuLy (status 9)
    "returned_at": VN_DATETIME,  # NgayTra (status 10)
    "refused_at": VN_DATETIME,  # NgayTuChoi (status 3)
    "supplement_count": pl.Int16(),  # len(DanhSachHoSoBoSung)
    "supplement_requested_at": VN_DATETIME,  # first supplement request
    "supplement_received_at": VN_DATETIME,  # last supplement receipt (complete dossier back)
    "due_before_supplement_at": VN_DATETIME,  # NgayHenTraTruoc of the first request
    "apology_at": VN_DATETIME,  # date the apology letter (form 04) was issued
    "extended_due_at": VN_DATETIME,  # new due time promised in the apology
    "due_extension_count": pl.Int16(),  # how many times the due date was moved by apology
    "digitised": pl.Boolean(),  # HoSoCoThanhPhanSoHoa / any TaiLieuNop[].DuocSoHoa
    "data_reused": pl.Boolean(),  # DuocTaiSuDung / DuocLayTuKhoDMQG
    "result_required": pl.Boolean(),  # the dossier yields a result document
    "result_electronic": pl.Boolean(),  # a DuongDanTepTinKetQua exists
    "has_fee": pl.Boolean(),  # DanhSachLePhi non-empty
    "paid_online": pl.Boolean(),  # DuocThanhToanTrucTuyen in (1, 2)
    "national_synced": pl.Boolean(),  # present on the national portal
    "national_status": pl.Int8(),  # status as the national portal shows it
    "national_updated_at": VN_DATETIME,  # last status update seen on the national portal
    "updated_at": VN_DATETIME,  # last change in the source system (cursor)
}

PROCEDURES_SCHEMA: dict[str, pl.DataType] = {
    "catalog": pl.Utf8(),  # "provincial" or "national"
    "procedure_code": pl.Utf8(),  # national form "1.001612"
    "procedure_name": pl.Utf8(),
    "unit": pl.Utf8(),
    "field_code": pl.Utf8(),
    "field_name": pl.Utf8(),
    "time_limit_value": pl.Float64(),  # current (re-engineered) limit
    "time_limit_unit": pl.Utf8(),  # "working_days" | "calendar_days" | "working_hours" | "months"
    "legal_time_limit_value": pl.Float64(),  # limit set by law, same unit
    "online_time_limit_value": pl.Float64(),  # limit for dossiers filed online, when it differs (null: the same)
    "online_time_limit_unit": pl.Utf8(),  # its unit (null: time_limit_unit)
    "cutoff_time": pl.Utf8(),  # "15:00": received after it counts from the next working day
    "has_fee": pl.Boolean(),
    "fee_text": pl.Utf8(),
    # Components (Decree 63/2010 art. 8(2)); the first eight are required.
    "has_name": pl.Boolean(),
    "has_steps": pl.Boolean(),
    "has_method": pl.Boolean(),
    "has_composition": pl.Boolean(),
    "has_time_limit": pl.Boolean(),
    "has_applicants": pl.Boolean(),
    "has_agency": pl.Boolean(),
    "has_result": pl.Boolean(),
    "has_forms": pl.Boolean(),
    "has_conditions": pl.Boolean(),
    "has_fees": pl.Boolean(),
    "has_legal_basis": pl.Boolean(),
    "content_digest": pl.Utf8(),  # optional digest of the full text, compared across catalogs
    "published": pl.Boolean(),  # public on this catalog
    "decision_at": VN_DATETIME,  # publication decision (QĐ công bố)
    "effective_at": VN_DATETIME,  # legal basis takes effect
    "public_at": VN_DATETIME,  # made public on this catalog
    "online_eligible": pl.Boolean(),
    "online_level": pl.Utf8(),  # "none" | "partial" | "full"
    "full_online_eligible": pl.Boolean(),
    "online_payment": pl.Boolean(),  # offers online payment
    "postal_eligible": pl.Boolean(),
    "postal": pl.Boolean(),  # offers postal reception/return
}

FEEDBACK_SCHEMA: dict[str, pl.DataType] = {
    "feedback_id": pl.Utf8(),
    "unit": pl.Utf8(),
    "received_at": VN_DATETIME,
    "refused_at": VN_DATETIME,  # refused / out of competence (limit 2 working days)
    "info_requested_at": VN_DATETIME,  # first request for more information (limit 5)
    "handled_at": VN_DATETIME,  # answer given (limit 15)
    "published_at": VN_DATETIME,  # answer published (limit 2 after handled)
    "satisfied": pl.Boolean(),  # applicant satisfied with the handling (null: not rated)
    "topic": pl.Utf8(),  # short subject, never the sender's identity
}

PLAN_TASKS_SCHEMA: dict[str, pl.DataType] = {
    "task_id": pl.Utf8(),
    "group": pl.Utf8(),
    "title": pl.Utf8(),
    "lead_unit": pl.Utf8(),
    "coordinating_units": pl.Utf8(),  # ";"-separated unit codes
    "start_at": VN_DATETIME,
    "due_at": VN_DATETIME,
    "recurrence": pl.Utf8(),  # "once" | "periodic" | "continuous"
    "period": pl.Utf8(),  # for periodic: "month" | "quarter" | "half_year" | "year"
    "done_at": VN_DATETIME,
    "status": pl.Utf8(),  # tracker's own word, e.g. "Đang thực hiện"
    "product": pl.Utf8(),
}

SCHEMAS: dict[TableName, dict[str, pl.DataType]] = {
    TableName.DOSSIERS: DOSSIERS_SCHEMA,
    TableName.PROCEDURES: PROCEDURES_SCHEMA,
    TableName.FEEDBACK: FEEDBACK_SCHEMA,
    TableName.PLAN_TASKS: PLAN_TASKS_SCHEMA,
}

# Columns a row must have (non-null) to be accepted.
REQUIRED_COLUMNS: dict[TableName, tuple[str, ...]] = {
    TableName.DOSSIERS: ("dossier_code", "unit", "status"),
    TableName.PROCEDURES: ("catalog", "procedure_code", "unit"),
    TableName.FEEDBACK: ("feedback_id", "unit", "received_at"),
    TableName.PLAN_TASKS: ("task_id",),  # a tracker may give only id + state
}

# Natural key used to de-duplicate rows across snapshots (last one wins).
KEY_COLUMNS: dict[TableName, tuple[str, ...]] = {
    TableName.DOSSIERS: ("dossier_code",),
    TableName.PROCEDURES: ("catalog", "procedure_code"),
    TableName.FEEDBACK: ("feedback_id",),
    TableName.PLAN_TASKS: ("task_id",),
}

DOSSIER_STATUS_VI: dict[int, str] = {
    1: "Mới đăng ký",
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}
# What a person reads for each status (English msgids). DOSSIER_STATUS_VI above is the vocabulary of the
# portal's files (read by the source mappings) and of stored facts; the catalog's Vietnamese equals it (a test).
DOSSIER_STATUS_NAMES: dict[int, str] = {
    1: N_("Newly registered"),
    2: N_("Accepted"),
    3: N_("Not accepted"),
    4: N_("Being processed"),
    5: N_("Additional documents requested"),
    6: N_("Financial obligations requested"),
    7: N_("Withdrawn at the applicant's request"),
    8: N_("Processing stopped"),
    9: N_("Processing completed"),
    10: N_("Result returned"),
}
OPEN_STATUSES: tuple[int, ...] = (2, 4, 5, 6)
FINISHED_STATUSES: tuple[int, ...] = (9, 10)
CLOSED_STATUSES: tuple[int, ...] = (3, 7, 8, 9, 10)

PROCEDURE_COMPONENTS: tuple[str, ...] = (
    "name",
    "steps",
    "method",
    "composition",
    "time_limit",
    "applicants",
    "agency",
    "result",
    "forms",
    "conditions",
    "fees",
    "legal_basis",
)
REQUIRED_PROCEDURE_COMPONENTS: tuple[str, ...] = PROCEDURE_COMPONENTS[:8]
# The components' names (English msgids; Vietnamese from the catalog, as findings and the demo show them).
PROCEDURE_COMPONENT_NAMES: dict[str, str] = {
    "name": N_("Procedure name"),
    "steps": N_("Steps to follow"),
    "method": N_("Ways to apply"),
    "composition": N_("Dossier contents and number of copies"),
    "time_limit": N_("Processing time limit"),
    "applicants": N_("Who may apply"),
    "agency": N_("Handling agency"),
    "result": N_("Result of the procedure"),
    "forms": N_("Application forms and declarations"),
    "conditions": N_("Requirements and conditions"),
    "fees": N_("Fees and charges"),
    "legal_basis": N_("Legal grounds"),
}
PROCEDURE_COMPONENTS_VI: dict[str, str] = {k: gettext("vi", m) for k, m in PROCEDURE_COMPONENT_NAMES.items()}


def value_type(dtype: pl.DataType) -> pl.DataType:
    """The type a source parses a canonical field into: a categorical field is parsed as text (and
    stored as a category by :func:`conform`)."""
    return pl.Utf8() if isinstance(dtype, pl.Categorical) else dtype


def empty_table(table: TableName) -> pl.DataFrame:
    """An empty frame with the canonical schema of ``table``."""
    return pl.DataFrame(schema=SCHEMAS[table])


def conform(df: pl.DataFrame, table: TableName) -> pl.DataFrame:
    """Add missing canonical columns as nulls, cast to canonical types, drop the rest, fix order."""
    schema = SCHEMAS[table]
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name not in df.columns]
    widened = df.with_columns(missing) if missing else df  # with_columns keeps the row count
    return widened.select(pl.col(name).cast(dtype, strict=False) for name, dtype in schema.items())


def normalise_procedure_code(col: pl.Expr) -> pl.Expr:
    """Provincial form ``1.001612.000.00.00.H48`` -> national form ``1.001612``."""
    return col.str.strip_chars().str.extract(r"^(\d+\.\d+)", 1).fill_null(col.str.strip_chars())
