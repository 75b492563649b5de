"""Headers and value words of the demo's export files, shared by the writers and the demo settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from checks.schema import PROCEDURE_COMPONENTS_VI

Kind = Literal["text", "number", "bool", "date", "limit_unit", "level", "unit_name", "code"]


class ColumnSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str  # canonical field name
    provincial: str  # header in thu_tuc_tinh.xlsx
    national: str  # header in thu_tuc_quoc_gia.csv
    kind: Kind


LIMIT_UNIT_WORDS: dict[str, str] = {
    "working_days": "Ngày làm việc",
    "calendar_days": "Ngày",
    "working_hours": "Giờ làm việc",
}
ONLINE_LEVEL_WORDS: dict[str, str] = {"full": "Toàn trình", "partial": "Một phần", "none": "Không"}
YES, NO = "Có", "Không"

CATALOG_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(field="procedure_code", provincial="Mã thủ tục", national="Mã TTHC", kind="code"),
    ColumnSpec(field="procedure_name", provincial="Tên thủ tục", national="Tên TTHC", kind="text"),
    ColumnSpec(field="field_code", provincial="Mã lĩnh vực", national="Mã lĩnh vực TTHC", kind="text"),
    ColumnSpec(field="field_name", provincial="Lĩnh vực", national="Lĩnh vực thực hiện", kind="text"),
    ColumnSpec(field="unit", provincial="Đơn vị thực hiện", national="Cơ quan thực hiện", kind="unit_name"),
    ColumnSpec(
        field="time_limit_value",
        provincial="Thời hạn giải quyết",
        national="Thời hạn giải quyết (số)",
        kind="number",
    ),
    ColumnSpec(
        field="time_limit_unit",
        provincial="Đơn vị thời hạn",
        national="Đơn vị tính thời hạn",
        kind="limit_unit",
    ),
    ColumnSpec(
        field="legal_time_limit_value",
        provincial="Thời hạn theo quy định",
        national="Thời hạn luật định",
        kind="number",
    ),
    ColumnSpec(
        field="cutoff_time", provincial="Giờ chốt tiếp nhận", national="Giờ chốt nhận hồ sơ", kind="text"
    ),
    ColumnSpec(field="has_fee", provincial="Có thu phí", national="Có phí, lệ phí", kind="bool"),
    ColumnSpec(field="fee_text", provincial="Phí, lệ phí", national="Mức phí, lệ phí", kind="text"),
    ColumnSpec(
        field="online_level", provincial="Mức độ DVC", national="Mức độ dịch vụ công trực tuyến", kind="level"
    ),
    ColumnSpec(
        field="online_eligible",
        provincial="Đủ điều kiện DVC trực tuyến",
        national="Đủ điều kiện trực tuyến",
        kind="bool",
    ),
    ColumnSpec(
        field="full_online_eligible",
        provincial="Đủ điều kiện toàn trình",
        national="Đủ điều kiện trực tuyến toàn trình",
        kind="bool",
    ),
    ColumnSpec(
        field="online_payment",
        provincial="Thanh toán trực tuyến",
        national="Có thanh toán trực tuyến",
        kind="bool",
    ),
    ColumnSpec(
        field="postal_eligible",
        provincial="Đủ điều kiện BCCI",
        national="Đủ điều kiện bưu chính công ích",
        kind="bool",
    ),
    ColumnSpec(
        field="postal", provincial="Bưu chính công ích", national="Tiếp nhận/trả qua BCCI", kind="bool"
    ),
    ColumnSpec(field="published", provincial="Đã công khai", national="Trạng thái công khai", kind="bool"),
    ColumnSpec(
        field="decision_at", provincial="Ngày QĐ công bố", national="Ngày ban hành QĐ công bố", kind="date"
    ),
    ColumnSpec(field="effective_at", provincial="Ngày hiệu lực", national="Ngày có hiệu lực", kind="date"),
    ColumnSpec(
        field="public_at", provincial="Ngày công khai", national="Ngày công khai trên CSDLQG", kind="date"
    ),
    *(
        ColumnSpec(
            field=f"has_{component}",
            provincial=f"Có {PROCEDURE_COMPONENTS_VI[component][0].lower()}{PROCEDURE_COMPONENTS_VI[component][1:]}",
            national=PROCEDURE_COMPONENTS_VI[component],
            kind="bool",
        )
        for component in PROCEDURE_COMPONENTS_VI
    ),
)

FEEDBACK_COLUMNS: dict[str, str] = {
    "Mã PAKN": "feedback_id",
    "Đơn vị xử lý": "unit",
    "Ngày tiếp nhận": "received_at",  # Excel serial number (plain number cell)
    "Ngày từ chối": "refused_at",
    "Ngày đề nghị bổ sung thông tin": "info_requested_at",
    "Ngày xử lý xong": "handled_at",
    "Ngày công khai kết quả": "published_at",
    "Hài lòng": "satisfied",
    "Nội dung tóm tắt": "topic",
}

PLAN_COLUMNS: dict[str, str] = {
    "Mã nhiệm vụ": "task_id",
    "Trạng thái": "status",
    "Ngày hoàn thành": "done_at",
}

DOSSIER_REPORT_COLUMNS: dict[str, str] = {
    "Mã hồ sơ": "dossier_code",
    "Mã thủ tục": "procedure_code",
    "Tên thủ tục": "procedure_name",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Ngày có kết quả": "finished_at",
    "Trạng thái": "status",
    "Đơn vị xử lý": "unit",
}

PROVINCIAL_CATALOG_FILE = "thu_tuc_tinh.xlsx"
NATIONAL_CATALOG_FILE = "thu_tuc_quoc_gia.csv"
FEEDBACK_FILE = "phan_anh_kien_nghi.xlsx"
PLAN_TRACKER_FILE = "theo_doi_ke_hoach.csv"
DOSSIER_REPORT_FILE = "ho_so.csv"
