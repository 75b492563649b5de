"""The header names common one-stop ("một cửa") systems use, per canonical table, and the words of
their value columns: what ``tthc-monitor mapping suggest`` recognises in an export it has never seen.

Spellings come from the national portal's sync fields (DVCQG: ``MaHoSo``, ``NgayTiepNhan``…), the
Vietnamese report headers of iGate (VNPT), Viettel and provincial one-stop systems ("Mã hồ sơ",
"Ngày hẹn trả", "Tình trạng"…), the public procedure catalogs (the twelve components of Decree
63/2010 art. 8(2)), the canonical field names themselves (docs/SCHEMA.md) and the demo's exports.

A spelling may name several fields, in preference order: "Tên thủ tục" is the procedure's name in
a catalog with names and the ``has_name`` component in one with yes/no cells; the suggester picks
by the column's values. Headers are compared with :func:`header_key` (NFC, case, whitespace) and,
failing that, :func:`loose_key` (also without diacritics and punctuation: "Ma ho so:" = "Mã hồ sơ").

Personal data (the applicant's name, ID number, phone, e-mail, address…) is recognised by
:func:`is_personal` and never mapped (checks/schema.py: no canonical table holds it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from checks.schema import DOSSIER_STATUS_VI, SCHEMAS, TableName
from monitor.sources.dvcqg import DVCQG_COLUMNS, PERSONAL_FIELDS
from monitor.sources.parsing import normalise_word, strip_diacritics

Spelling = tuple[tuple[str, ...], tuple[str, ...]]  # (candidate fields, header spellings)

_DOSSIERS: tuple[Spelling, ...] = (
    (("dossier_code",), ("Mã hồ sơ", "Số hồ sơ", "Mã số hồ sơ", "Mã HS", "Số HS", "Số biên nhận", "Mã biên nhận",
                         "Số giấy biên nhận", "Mã hồ sơ một cửa", "code", "dossierCode")),
    (("procedure_code",), ("Mã thủ tục", "Mã TTHC", "Mã thủ tục hành chính", "Mã DVC", "Mã dịch vụ công",
                           "procedureCode")),
    (("procedure_name",), ("Tên thủ tục", "Tên TTHC", "Tên thủ tục hành chính", "Thủ tục", "Thủ tục hành chính",
                           "Tên dịch vụ công", "Dịch vụ công", "procedureName")),
    (("field_code",), ("Mã lĩnh vực", "Mã lĩnh vực TTHC")),
    (("field_name",), ("Lĩnh vực", "Tên lĩnh vực", "Lĩnh vực thực hiện")),
    (("unit",), ("Đơn vị xử lý", "Đơn vị", "Cơ quan giải quyết", "Cơ quan xử lý", "Đơn vị giải quyết",
                 "Phòng ban xử lý", "Phòng ban", "Đơn vị tiếp nhận", "Cơ quan tiếp nhận", "Cơ quan thực hiện",
                 "Đơn vị thực hiện", "Cơ quan", "agency")),
    (("channel",), ("Kênh", "Kênh nộp", "Kênh nộp hồ sơ", "Kênh thực hiện", "Kênh tiếp nhận", "Hình thức nộp",
                    "Hình thức nộp hồ sơ", "Hình thức tiếp nhận", "Nguồn hồ sơ", "Hình thức")),
    (("status",), ("Trạng thái", "Tình trạng", "Trạng thái hồ sơ", "Tình trạng hồ sơ", "Trạng thái xử lý",
                   "Tình trạng xử lý", "Tình trạng giải quyết", "Kết quả xử lý")),
    (("submitted_at",), ("Ngày nộp", "Ngày nộp hồ sơ", "Ngày đăng ký", "Thời gian nộp", "Ngày gửi")),
    (("received_at",), ("Ngày tiếp nhận", "Ngày nhận", "Ngày nhận hồ sơ", "Thời gian tiếp nhận",
                        "Ngày tiếp nhận hồ sơ", "acceptedDate")),
    (("due_at",), ("Ngày hẹn trả", "Ngày hẹn trả kết quả", "Hạn xử lý", "Hạn giải quyết", "Ngày hẹn",
                   "Hạn trả kết quả", "Ngày hết hạn", "appointmentDate")),
    (("finished_at",), ("Ngày có kết quả", "Ngày kết thúc xử lý", "Ngày xử lý xong", "Ngày giải quyết xong",
                        "Ngày hoàn thành", "Ngày kết thúc", "Ngày hoàn thành xử lý", "completedDate")),
    (("returned_at",), ("Ngày trả kết quả", "Ngày trả", "Ngày trả hồ sơ", "Ngày trả KQ", "returnedDate")),
    (("refused_at",), ("Ngày từ chối", "Ngày không tiếp nhận", "Ngày từ chối tiếp nhận")),
    (("supplement_count",), ("Số lần bổ sung", "Số lần yêu cầu bổ sung")),
    (("supplement_requested_at",), ("Ngày yêu cầu bổ sung", "NgayYeuCauBoSung")),
    (("supplement_received_at",), ("Ngày tiếp nhận bổ sung", "Ngày nhận bổ sung", "NgayTiepNhanBoSung")),
    (("due_before_supplement_at",), ("Ngày hẹn trả trước bổ sung", "NgayHenTraTruoc")),
    (("apology_at",), ("Ngày xin lỗi", "Ngày gửi thư xin lỗi", "NgayXinLoi")),
    (("extended_due_at",), ("Ngày hẹn trả mới", "Ngày gia hạn", "NgayHenTraMoi")),
    (("due_extension_count",), ("Số lần gia hạn", "Số lần xin lỗi")),
    (("digitised",), ("Số hóa", "Đã số hóa", "Số hóa hồ sơ", "Có thành phần số hóa")),
    (("data_reused",), ("Tái sử dụng", "Tái sử dụng dữ liệu", "DuocTaiSuDung")),
    (("result_required",), ("Có kết quả giải quyết", "Có giấy tờ kết quả")),
    (("result_electronic",), ("Kết quả điện tử", "Có kết quả điện tử", "Trả kết quả điện tử", "Số hóa kết quả")),
    (("has_fee",), ("Có phí", "Có lệ phí", "Có thu phí", "Có phí, lệ phí", "Phí, lệ phí", "Lệ phí", "Phí")),
    (("paid_online",), ("Thanh toán trực tuyến", "Đã thanh toán trực tuyến", "Thanh toán trực tuyến (có/không)")),
    (("national_synced",), ("Đồng bộ DVCQG", "Đã đồng bộ", "Đồng bộ Cổng DVCQG", "Đã đồng bộ DVCQG")),
    (("national_status",), ("Trạng thái DVCQG", "Trạng thái trên Cổng DVCQG")),
    (("national_updated_at",), ("Ngày đồng bộ", "Ngày đồng bộ DVCQG")),
    (("updated_at",), ("Ngày cập nhật", "Cập nhật lần cuối", "Thời gian cập nhật", "updatedDate")),
)

_COMPONENTS: tuple[Spelling, ...] = (
    (("has_name",), ("Có tên thủ tục",)),
    (("has_steps",), ("Trình tự thực hiện", "Có trình tự thực hiện", "Trình tự", "Các bước thực hiện")),
    (("has_method",), ("Cách thức thực hiện", "Có cách thức thực hiện", "Cách thức")),
    (("has_composition",), ("Thành phần hồ sơ", "Thành phần, số lượng hồ sơ", "Có thành phần, số lượng hồ sơ",
                            "Thành phần số lượng hồ sơ", "Có thành phần hồ sơ", "Hồ sơ gồm")),
    (("has_time_limit",), ("Có thời hạn giải quyết",)),
    (("has_applicants",), ("Đối tượng thực hiện", "Có đối tượng thực hiện", "Đối tượng")),
    (("has_agency",), ("Có cơ quan giải quyết", "Có cơ quan thực hiện")),
    (("has_result",), ("Kết quả thực hiện", "Có kết quả thực hiện", "Kết quả", "Kết quả giải quyết")),
    (("has_forms",), ("Mẫu đơn, tờ khai", "Có mẫu đơn, tờ khai", "Mẫu đơn tờ khai", "Mẫu đơn", "Tờ khai")),
    (("has_conditions",), ("Yêu cầu, điều kiện", "Có yêu cầu, điều kiện", "Yêu cầu điều kiện", "Điều kiện",
                           "Yêu cầu, điều kiện thực hiện")),
    (("has_legal_basis",), ("Căn cứ pháp lý", "Có căn cứ pháp lý", "Căn cứ pháp lý của TTHC")),
)

_PROCEDURES: tuple[Spelling, ...] = (
    (("catalog",), ("Danh mục", "Loại danh mục")),
    (("procedure_code",), ("Mã thủ tục", "Mã TTHC", "Mã thủ tục hành chính", "Mã số TTHC", "Mã số thủ tục",
                           "Mã DVC")),
    (("procedure_name", "has_name"), ("Tên thủ tục", "Tên TTHC", "Tên thủ tục hành chính", "Thủ tục hành chính",
                                      "Thủ tục")),
    (("unit", "has_agency"), ("Cơ quan thực hiện", "Cơ quan giải quyết")),
    (("unit",), ("Đơn vị thực hiện", "Đơn vị", "Đơn vị chủ trì", "Cơ quan chủ trì", "Đơn vị xử lý",
                 "Cơ quan", "Đơn vị giải quyết")),
    (("field_code",), ("Mã lĩnh vực", "Mã lĩnh vực TTHC")),
    (("field_name",), ("Lĩnh vực", "Lĩnh vực thực hiện", "Tên lĩnh vực")),
    (("time_limit_value", "has_time_limit"), ("Thời hạn giải quyết", "Thời gian giải quyết", "Thời hạn xử lý",
                                              "Thời hạn")),
    (("time_limit_value",), ("Thời hạn giải quyết (số)", "Thời hạn giải quyết (ngày)", "Số ngày giải quyết",
                             "Thời hạn (số)", "Thời hạn giải quyết thực tế", "Thời hạn cắt giảm")),
    (("time_limit_unit",), ("Đơn vị thời hạn", "Đơn vị tính thời hạn", "Đơn vị tính", "Loại ngày",
                            "Đơn vị thời gian")),
    (("legal_time_limit_value",), ("Thời hạn theo quy định", "Thời hạn luật định", "Thời hạn theo luật",
                                   "Thời hạn quy định", "Thời hạn theo văn bản")),
    (("online_time_limit_value",), ("Thời hạn trực tuyến", "Thời hạn giải quyết trực tuyến")),
    (("online_time_limit_unit",), ("Đơn vị thời hạn trực tuyến",)),
    (("cutoff_time",), ("Giờ chốt tiếp nhận", "Giờ chốt nhận hồ sơ", "Giờ chốt")),
    (("has_fee",), ("Có thu phí", "Có phí", "Có lệ phí", "Thu phí")),
    (("has_fee", "has_fees"), ("Có phí, lệ phí",)),
    (("fee_text", "has_fees"), ("Phí, lệ phí", "Lệ phí", "Phí lệ phí", "Phí", "Lệ phí (nếu có)")),
    (("fee_text",), ("Mức phí, lệ phí", "Mức phí", "Mức lệ phí", "Mức thu phí, lệ phí")),
    *_COMPONENTS,
    (("content_digest",), ("Mã băm", "Mã băm nội dung")),
    (("published",), ("Đã công khai", "Trạng thái công khai", "Công khai")),
    (("decision_at",), ("Ngày QĐ công bố", "Ngày ban hành QĐ công bố", "Ngày quyết định công bố",
                        "Ngày ban hành quyết định", "Ngày quyết định", "Ngày ban hành")),
    (("effective_at",), ("Ngày hiệu lực", "Ngày có hiệu lực")),
    (("public_at",), ("Ngày công khai", "Ngày công khai trên CSDLQG", "Ngày đăng tải")),
    (("online_eligible",), ("Đủ điều kiện DVC trực tuyến", "Đủ điều kiện trực tuyến", "Đủ điều kiện DVCTT")),
    (("online_level",), ("Mức độ DVC", "Mức độ dịch vụ công trực tuyến", "Mức độ", "Mức độ DVCTT",
                         "Mức độ dịch vụ công", "Mức độ DVC trực tuyến")),
    (("full_online_eligible",), ("Đủ điều kiện toàn trình", "Đủ điều kiện trực tuyến toàn trình")),
    (("online_payment",), ("Thanh toán trực tuyến", "Có thanh toán trực tuyến")),
    (("postal_eligible",), ("Đủ điều kiện BCCI", "Đủ điều kiện bưu chính công ích")),
    (("postal",), ("Bưu chính công ích", "Tiếp nhận/trả qua BCCI", "BCCI", "Tiếp nhận, trả kết quả qua BCCI")),
)

_FEEDBACK: tuple[Spelling, ...] = (
    (("feedback_id",), ("Mã PAKN", "Mã phản ánh", "Số phản ánh", "Mã phản ánh kiến nghị", "Mã số PAKN", "Số PAKN")),
    (("unit",), ("Đơn vị xử lý", "Cơ quan xử lý", "Đơn vị tiếp nhận", "Đơn vị", "Cơ quan tiếp nhận")),
    (("received_at",), ("Ngày tiếp nhận", "Ngày nhận", "Ngày phản ánh", "Ngày gửi", "Thời gian gửi")),
    (("refused_at",), ("Ngày từ chối", "Ngày từ chối tiếp nhận")),
    (("info_requested_at",), ("Ngày đề nghị bổ sung thông tin", "Ngày yêu cầu bổ sung thông tin",
                              "Ngày yêu cầu bổ sung")),
    (("handled_at",), ("Ngày xử lý xong", "Ngày trả lời", "Ngày có kết quả", "Ngày xử lý", "Ngày có kết quả xử lý")),
    (("published_at",), ("Ngày công khai kết quả", "Ngày công khai")),
    (("satisfied",), ("Hài lòng", "Mức độ hài lòng", "Đánh giá")),
    (("topic",), ("Nội dung tóm tắt", "Tiêu đề", "Chủ đề", "Trích yếu")),
)

_PLAN_TASKS: tuple[Spelling, ...] = (
    (("task_id",), ("Mã nhiệm vụ", "Mã số nhiệm vụ", "STT nhiệm vụ", "Mã")),
    (("group",), ("Nhóm nhiệm vụ", "Nhóm")),
    (("title",), ("Tên nhiệm vụ", "Nội dung nhiệm vụ", "Nhiệm vụ")),
    (("lead_unit",), ("Đơn vị chủ trì", "Cơ quan chủ trì", "Đơn vị thực hiện")),
    (("coordinating_units",), ("Đơn vị phối hợp", "Cơ quan phối hợp")),
    (("start_at",), ("Ngày bắt đầu", "Thời gian bắt đầu")),
    (("due_at",), ("Thời hạn hoàn thành", "Hạn hoàn thành", "Thời hạn", "Ngày hết hạn")),
    (("recurrence",), ("Tính chất", "Loại nhiệm vụ")),
    (("period",), ("Kỳ báo cáo", "Chu kỳ")),
    (("done_at",), ("Ngày hoàn thành", "Ngày thực hiện xong")),
    (("status",), ("Trạng thái", "Tình trạng", "Tiến độ")),
    (("product",), ("Sản phẩm", "Sản phẩm đầu ra")),
)


def header_key(header: str) -> str:
    """Exact comparison: NFC, lower case, whitespace collapsed (as the mapping engine compares)."""
    return normalise_word(header)


def loose_key(header: str) -> str:
    """Forgiving comparison: also without diacritics and punctuation ("Ma ho so:" = "Mã hồ sơ")."""
    bare = strip_diacritics(normalise_word(header))
    return " ".join(re.sub(r"[^\w\s]", " ", bare).split())


def _compact(header: str) -> str:
    return loose_key(header).replace(" ", "").replace("_", "")


def _build(table: TableName, spellings: Iterable[Spelling], extra: Mapping[str, str] = {}) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {field: (field,) for field in SCHEMAS[table]}  # canonical names
    found.update({header: (field,) for header, field in extra.items()})
    for fields, names in spellings:
        for name in names:
            found.setdefault(name, fields)
    return found


# Per table: header spelling -> the fields it may feed, in preference order.
HEADER_FIELDS: dict[TableName, dict[str, tuple[str, ...]]] = {
    TableName.DOSSIERS: _build(TableName.DOSSIERS, _DOSSIERS, DVCQG_COLUMNS),
    TableName.PROCEDURES: _build(TableName.PROCEDURES, _PROCEDURES),
    TableName.FEEDBACK: _build(TableName.FEEDBACK, _FEEDBACK),
    TableName.PLAN_TASKS: _build(TableName.PLAN_TASKS, _PLAN_TASKS),
}

_EXACT: dict[TableName, dict[str, tuple[str, ...]]] = {
    table: {header_key(h): f for h, f in spellings.items()} for table, spellings in HEADER_FIELDS.items()
}
_LOOSE: dict[TableName, dict[str, tuple[str, ...]]] = {
    table: {loose_key(h): f for h, f in reversed(list(spellings.items()))} for table, spellings in HEADER_FIELDS.items()
}


def fields_for(header: str, table: TableName) -> tuple[str, ...]:
    """The fields of ``table`` the export header ``header`` may feed (preference order); () if unknown."""
    return _EXACT[table].get(header_key(header)) or _LOOSE[table].get(loose_key(header), ())


# Parts of a header (compact: no diacritics, spaces or punctuation) that name personal data.
PERSONAL_PARTS: tuple[str, ...] = (
    *(_compact(name) for name in PERSONAL_FIELDS),
    "chuhoso", "nguoinop", "nguoidungten", "nguoiphananh", "nguoigui", "nguoilienhe", "nguoiyeucau",
    "hoten", "hovaten", "tencongdan", "tentochuccanhan", "cmnd", "cccd", "cancuoc", "sogiayto", "giaytotuythan",
    "madinhdanh", "hochieu", "dienthoai", "sdt", "didong", "email", "thudientu", "diachi", "noicutru",
    "thuongtru", "tamtru", "quequan", "ngaysinh", "namsinh", "gioitinh", "applicantname", "phone", "identity",
)


# Row numbers: in every report, never needed.
ROW_NUMBER_HEADERS: frozenset[str] = frozenset(loose_key(h) for h in ("STT", "TT", "Số TT", "Số thứ tự", "No", "#"))


def is_row_number(header: str) -> bool:
    return loose_key(header) in ROW_NUMBER_HEADERS


def is_personal(header: str) -> bool:
    """Whether the header names the applicant's personal data ("Chủ hồ sơ", "CMND/CCCD", "SoDienThoai"…)."""
    compact = _compact(header)
    return any(part in compact for part in PERSONAL_PARTS)


def known_fields(header: str) -> dict[TableName, tuple[str, ...]]:
    """Every table whose dictionary knows ``header``, with its candidate fields."""
    return {table: fields for table in HEADER_FIELDS if (fields := fields_for(header, table))}


# ---------------------------------------------------------------- value words

# Dossier status words beyond the portal's names (DOSSIER_STATUS_VI) and iGate's codes: what reports say.
STATUS_WORDS: dict[str, int] = {
    **{name: code for code, name in DOSSIER_STATUS_VI.items()},
    "Chờ tiếp nhận": 1,
    "Mới tiếp nhận": 2,
    "Đã tiếp nhận": 2,
    "Tiếp nhận": 2,
    "Từ chối": 3,
    "Từ chối tiếp nhận": 3,
    "Không tiếp nhận": 3,
    "Đang giải quyết": 4,
    "Đang thụ lý": 4,
    "Trong hạn": 4,
    "Chờ bổ sung": 5,
    "Yêu cầu bổ sung": 5,
    "Bổ sung hồ sơ": 5,
    "Chờ thanh toán": 6,
    "Chờ nộp phí": 6,
    "Chờ thực hiện nghĩa vụ tài chính": 6,
    "Rút hồ sơ": 7,
    "Đã rút": 7,
    "Công dân rút hồ sơ": 7,
    "Đã hủy": 7,
    "Tạm dừng": 8,
    "Dừng giải quyết": 8,
    "Đã dừng xử lý": 8,
    "Hoàn thành": 9,
    "Đã giải quyết": 9,
    "Đã có kết quả": 9,
    "Chờ trả kết quả": 9,
    "Đã hoàn thành": 9,
    "Đã trả": 10,
    "Đã trả kết quả cho công dân": 10,
    "Trả kết quả": 10,
}

# Channel words: parts of a (loose) value -> 1 in person, 2 online, 3 postal. First match wins.
CHANNEL_PARTS: tuple[tuple[str, int], ...] = (
    ("buu", 3),  # "Bưu chính", "Qua bưu điện", "Bưu chính công ích"
    ("bcci", 3),
    ("truc tuyen", 2),  # "Trực tuyến", "DVC trực tuyến"
    ("qua mang", 2),
    ("online", 2),
    ("dich vu cong", 2),
    ("dvc", 2),
    ("truc tiep", 1),
    ("tai quay", 1),
    ("mot cua", 1),
)

LIMIT_UNIT_WORDS: dict[str, str] = {
    "Ngày làm việc": "working_days",
    "Ngày làm việc (ngày)": "working_days",
    "Ngày": "calendar_days",
    "Ngày lịch": "calendar_days",
    "Ngày theo lịch": "calendar_days",
    "Giờ làm việc": "working_hours",
    "Giờ": "working_hours",
    "Tháng": "months",
}

ONLINE_LEVEL_WORDS: dict[str, str] = {
    "Toàn trình": "full",
    "DVC trực tuyến toàn trình": "full",
    "Dịch vụ công trực tuyến toàn trình": "full",
    "Mức độ 4": "full",
    "Mức 4": "full",
    "4": "full",
    "Một phần": "partial",
    "DVC trực tuyến một phần": "partial",
    "Dịch vụ công trực tuyến một phần": "partial",
    "Mức độ 3": "partial",
    "Mức 3": "partial",
    "3": "partial",
    "Không": "none",
    "Cung cấp thông tin": "none",
    "Mức độ 2": "none",
    "Mức độ 1": "none",
    "2": "none",
    "1": "none",
}

CATALOG_WORDS: dict[str, str] = {
    "Tỉnh": "provincial",
    "Cấp tỉnh": "provincial",
    "Địa phương": "provincial",
    "Quốc gia": "national",
    "Trung ương": "national",
    "Cấp trung ương": "national",
}
