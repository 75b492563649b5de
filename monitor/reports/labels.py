"""Vietnamese words for the codes the store keeps (KPI, rule, stage, event, status). Unknown codes
are shown as they are."""

from __future__ import annotations

from collections.abc import Mapping

from checks.common import KPI_LABELS_VI

KPI_LABELS: Mapping[str, str] = KPI_LABELS_VI  # e.g. dossier_on_time -> "Tỷ lệ hồ sơ giải quyết đúng hạn"

PERIOD_LABELS: Mapping[str, str] = {"month": "Tháng", "quarter": "Quý", "year": "Năm"}

DEPARTMENT_UNIT_LABEL = {"vi": "Toàn Sở", "en": "Department"}  # the "ALL" unit of the KPIs

CHECK_LABELS: Mapping[str, str] = {
    "deadlines": "Thời hạn giải quyết hồ sơ",
    "feedback": "Phản ánh, kiến nghị",
    "sync": "Đồng bộ dữ liệu",
    "publication": "Công khai TTHC",
    "digitisation": "Số hóa",
    "online": "Dịch vụ công trực tuyến",
    "plan_tasks": "Nhiệm vụ kế hoạch",
    "index766": "Chỉ số 766",
}

RULE_LABELS: Mapping[str, str] = {
    "dossier_upcoming": "Hồ sơ sắp đến hạn",
    "dossier_due_today": "Hồ sơ đến hạn hôm nay",
    "dossier_overdue": "Hồ sơ quá hạn",
    "apology_missing": "Quá hạn chưa có văn bản xin lỗi",
    "apology_late": "Văn bản xin lỗi gửi muộn",
    "due_moved_twice": "Gia hạn quá một lần",
    "supplement_repeated": "Yêu cầu bổ sung nhiều lần",
    "dossier_status_lag": "Trạng thái hồ sơ chậm cập nhật",
    "feedback_upcoming": "Phản ánh, kiến nghị sắp đến hạn",
    "feedback_overdue": "Phản ánh, kiến nghị quá hạn",
    "feedback_unpublished": "Kết quả phản ánh, kiến nghị chưa công khai",
    "task_upcoming": "Nhiệm vụ sắp đến hạn",
    "task_due_today": "Nhiệm vụ đến hạn hôm nay",
    "task_overdue": "Nhiệm vụ quá hạn",
    "kpi_below_target": "Chỉ tiêu chưa đạt",
    "index_below_threshold": "Chỉ số 766 dưới ngưỡng",
    "source_stale": "Nguồn dữ liệu không cập nhật",
    "full_online_missing": "Chưa cung cấp dịch vụ công toàn trình",
}

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
