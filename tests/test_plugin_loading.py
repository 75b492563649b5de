"""Loading plug-ins: sorted by name, classes instantiated, broken or foreign ones logged and skipped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from checks.plugins import load_plugins
from tests.conftest import write_distribution

GROUP = "tthc_monitor.test_loading"


class Widget:
    pass


WIDGET = Widget()
NOT_A_WIDGET = "a string"


@pytest.fixture
def distribution(tmp_path: Path) -> Iterator[None]:
    site = write_distribution(
        tmp_path / "site", "tthc-loading-test",
        f"[{GROUP}]\n"
        "b_instance = tests.test_plugin_loading:WIDGET\n"
        "a_class = tests.test_plugin_loading:Widget\n"
        "c_missing = tests.no_such_module:WIDGET\n"
        "d_foreign = tests.test_plugin_loading:NOT_A_WIDGET\n",
    )
    sys.path.insert(0, str(site))
    try:
        yield
    finally:
        sys.path.remove(str(site))


def test_good_plugins_load_in_name_order_and_bad_ones_are_named_in_the_log(distribution: None) -> None:
    with structlog.testing.capture_logs() as logs:
        loaded = load_plugins(GROUP, Widget, "widget")
    assert [origin for origin, _ in loaded] == ["tests.test_plugin_loading:Widget", "tests.test_plugin_loading:WIDGET"]
    assert isinstance(loaded[0][1], Widget) and loaded[1][1] is WIDGET
    events = {(entry["event"], entry["entry_point"]) for entry in logs}
    assert events == {("widget_plugin_unloadable", "c_missing"), ("widget_plugin_invalid", "d_foreign")}
    assert next(e for e in logs if e["entry_point"] == "d_foreign")["found"] == "str"
