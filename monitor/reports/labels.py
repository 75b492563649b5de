"""Vietnamese words for the codes the store keeps (KPI, rule, stage, event, status). Unknown codes
are shown as they are."""

from __future__ import annotations

from collections.abc import Mapping

from checks.registry import REGISTRY

# From the checks' declarations (checks.spec): one copy of every check, KPI and rule label.
KPI_LABELS: Mapping[str, str] = REGISTRY.labels("kpi", "vi")  # e.g. dossier_on_time -> "Tỷ lệ hồ sơ giải quyết đúng hạn"

PERIOD_LABELS: Mapping[str, str] = {"month": "Tháng", "quarter": "Quý", "year": "Năm"}

DEPARTMENT_UNIT_LABEL = {"vi": "Toàn Sở", "en": "Department"}  # the "ALL" unit of the KPIs

CHECK_LABELS: Mapping[str, str] = REGISTRY.labels("check", "vi")

RULE_LABELS: Mapping[str, str] = REGISTRY.labels("rule", "vi")

# Rules of the deadlines check that mean a dossier was (or will surely be) late, or an apology breach.
LATE_DOSSIER_RULES: tuple[str, ...] = (
    "dossier_overdue",
    "apology_missing",
    "apology_late",
    "due_moved_twice",
    "supplement_repeated",
)

STAGE_LABELS: Mapping[str, str] = {
    "upcoming": "Sắp đến hạn",
    "due_today": "Đến hạn hôm nay",
    "overdue": "Quá hạn",
    "breach": "Vi phạm",
    "open": "Cần xử lý",
}

SEVERITY_LABELS: Mapping[str, str] = {"info": "Thông tin", "warning": "Cảnh báo", "critical": "Nghiêm trọng"}

EVENT_LABELS: Mapping[str, str] = {
    "opened": "Phát hiện",
    "stage_changed": "Chuyển mức",
    "resolved": "Đã khắc phục",
    "reopened": "Tái diễn",
}

OUTBOX_STATUS_LABELS: Mapping[str, str] = {
    "pending": "Chờ gửi",
    "sending": "Đang gửi",
    "sent": "Đã gửi",
    "dead": "Gửi thất bại",
}

DELIVERY_OUTCOME_LABELS: Mapping[str, str] = {
    "sent": "đã gửi",
    "retry": "lỗi, gửi lại",
    "dead": "thất bại",
    "reclaimed": "nhận lại",
    "requeued": "xếp hàng lại",
}

CHANNEL_LABELS: Mapping[str, str] = {
    "email": "Thư điện tử",
    "zalo": "Zalo",
    "webhook": "Webhook",
    "alertmanager": "Alertmanager",
    "file": "Tệp",
}

TARGET_MET = "Đạt"
TARGET_MISSED = "Chưa đạt"
NO_DATA = "Không có dữ liệu"
NO_TARGET = "Không có chỉ tiêu"
FINDING_OPEN = "Đang mở"
FINDING_RESOLVED = "Đã khắc phục"
