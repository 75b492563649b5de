"""Rejection and invalid-value reasons: stored in English, shown in the reader's language."""

from __future__ import annotations

from monitor.sources import reasons
from monitor.sources.reasons import localised_reason


def test_fixed_and_templated_reasons_are_translated_with_their_details() -> None:
    assert localised_reason(reasons.BAD_DATE, "vi") == "ngày/giờ không khớp định dạng nào được chấp nhận"
    ranged = reasons.reason(reasons.OUT_OF_RANGE, field="status", low=1, high=10)
    assert ranged == "status must be 1–10"
    assert localised_reason(ranged, "vi") == "status phải từ 1 đến 10"
    split = reasons.reason(reasons.NO_SPLIT_PART, part=2, separator="' - '")
    assert localised_reason(split, "vi") == "không có phần thứ 2 khi tách theo ' - '"
    pattern = reasons.reason(reasons.NO_MATCH, pattern=r"^(\d+)\.(\d+)$")
    assert localised_reason(pattern, "vi") == r"không khớp mẫu ^(\d+)\.(\d+)$"


def test_english_and_unknown_reasons_are_kept_as_they_are() -> None:
    assert localised_reason(reasons.BAD_DATE, "en") == reasons.BAD_DATE
    assert localised_reason("a reason from an older version", "vi") == "a reason from an older version"
