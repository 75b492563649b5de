"""Vietnam time helpers. Canonical tables hold naive Vietnam wall-clock time (UTC+7, no DST)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

VN_TZ_NAME = "Asia/Ho_Chi_Minh"  # for Polars: dt.replace_time_zone(VN_TZ_NAME) is to_vn_aware column-wise
VN_TZ = ZoneInfo(VN_TZ_NAME)
VN_OFFSET = timedelta(hours=7)


def to_vn_naive(moment: datetime) -> datetime:
    """An aware time -> naive Vietnam wall-clock time. A naive time is taken as Vietnam time."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(VN_TZ).replace(tzinfo=None)


def format_vn_datetime(moment: datetime | None) -> str:
    """dd/MM/yyyy HH:mm in Vietnam time ("" for None)."""
    return "" if moment is None else to_vn_naive(moment).strftime("%d/%m/%Y %H:%M")


def to_vn_aware(moment: datetime) -> datetime:
    """Naive Vietnam wall-clock time (or any aware time) -> aware Asia/Ho_Chi_Minh time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ)


def vn_naive_to_epoch(moment: datetime) -> float:
    """Naive Vietnam wall-clock time -> Unix seconds."""
    return (moment - VN_OFFSET).replace(tzinfo=UTC).timestamp()


def parse_cli_time(text: str) -> datetime:
    """ISO 8601 from the command line; a naive value is Vietnam time. Returns aware time."""
    return to_vn_aware(datetime.fromisoformat(text))
