"""A channel and a source kind that live only in tests/plugins/, installed the way a third party
would install them: a distribution whose ``entry_points.txt`` names them, put on ``sys.path``.
Nothing else in the package is told about them; the YAML file alone configures them.

End to end: a YAML ``kind: memo_rows`` source is polled, its rows reach the deadlines check, the
dossiers due soon become a digest that routing sends to the units' ``memo_boxes`` on the "memo"
channel, rendered with its declared 900-character limit, written to the real outbox and
delivered by the real dispatcher.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from alerts.channels import build_channels, channel_names
from alerts.channels import registry as channel_registry
from alerts.outbox import list_outbox
from checks.contracts import Unit
from checks.timeutil import VN_TZ
from monitor.alerting import AlertPipeline
from monitor.app import Monitor, open_store
from monitor.settings import Settings, SettingsError, load_settings
from monitor.sources import build_source
from monitor.sources import registry as source_registry
from tests.conftest import write_distribution
from tests.plugins.memo_channel import MEMO_MAX_CHARS

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=VN_TZ)  # a Tuesday morning: inside the working windows
DUE_SOON = 14  # dossiers of QLKH due tomorrow: actionable at first contact
ENTRY_POINTS = """\
[tthc_monitor.channels]
memo = tests.plugins.memo_channel:KIND

[tthc_monitor.sources]
memo_rows = tests.plugins.memo_source:KIND
"""


def _forget_plugins() -> None:
    channel_registry.reset()
    source_registry.reset()


@pytest.fixture
def plugins(tmp_path: Path) -> Iterator[Path]:
    """A throw-away distribution declaring the two entry points, first on ``sys.path``."""
    site = write_distribution(tmp_path / "site", "tthc-test-plugins", ENTRY_POINTS)
    sys.path.insert(0, str(site))
    _forget_plugins()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        _forget_plugins()


def _records() -> str:
    rows = [
        "{"
        f"dossier_code: 'H48.21-260201-{n:04d}', procedure_code: '1.001612', procedure_name: 'Cấp giấy phép thứ {n}', "
        "unit: QLKH, status: '4', received_at: '2026-03-02 08:00:00', due_at: '2026-03-11 17:00:00'"
        "}"
        for n in range(1, DUE_SOON + 1)
    ]
    return "\n".join(f"      - {row}" for row in rows)


def _write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
units:
  - code: QLKH
    name: Phòng Quản lý Khoa học
    memo_boxes: [qlkh-truong-phong, qlkh-chuyen-vien]
  - code: VP
    name: Văn phòng Sở
    handles_dossiers: false
state:
  url: sqlite:///{tmp_path / "state" / "state.db"}
  data_dir: {tmp_path / "state" / "data"}
sources:
  - kind: memo_rows
    name: ho_so_ghi_chu
    table: dossiers
    records:
{_records()}
alerts:
  channels:
    memo:
      directory: {tmp_path / "memos"}
      board: Bảng tin một cửa
    file: null
  routes:
    - name: memo
      receivers: [{{channel: memo, to: unit}}]
""",
        encoding="utf-8",
    )
    return path


def test_without_the_distribution_the_plugin_yaml_is_refused(tmp_path: Path) -> None:
    _forget_plugins()
    try:
        with pytest.raises(SettingsError) as caught:
            load_settings(_write_config(tmp_path))
        units = [Unit(code="QLKH", name="Phòng QLKH", memo_boxes=["qlkh"], emails=["a@x.vn"])]
        assert channel_registry.unused_contact_keys(units) == {"QLKH": ["memo_boxes"]}  # no channel reads it
    finally:
        _forget_plugins()
    text = str(caught.value)
    assert "'kind' must be one of 'tabular', 'http_json' (got 'memo_rows')" in text
    assert "unknown channel section(s) ['memo']" in text


def test_entry_points_register_the_channel_and_the_source_kind(plugins: Path, tmp_path: Path) -> None:
    settings = load_settings(_write_config(tmp_path))
    assert [kind.name for kind in channel_registry.kinds()][-1] == "memo"
    assert list(source_registry.kinds()) == ["tabular", "http_json", "memo_rows"]
    assert settings.units[0].contacts == {"memo_boxes": ["qlkh-truong-phong", "qlkh-chuyen-vien"]}
    assert channel_registry.unused_contact_keys(settings.units) == {}
    assert settings.alerts.channels.memo.board == "Bảng tin một cửa"
    assert channel_names(settings.alerts.channels) == ["memo"]
    source = build_source(settings.sources[0], settings.units)
    result = source.fetch(None, NOW)
    assert result.frame is not None and result.frame.height == DUE_SOON
    assert result.frame["unit"].unique().to_list() == ["QLKH"]


def test_a_plugin_source_feeds_a_check_and_a_plugin_channel_receives_the_digest(
    plugins: Path, tmp_path: Path
) -> None:
    settings: Settings = load_settings(_write_config(tmp_path))
    engine = open_store(settings)
    try:
        pipeline = AlertPipeline(settings, engine, lambda: NOW)
        assert sorted(pipeline.channels) == ["memo"]
        monitor = Monitor(settings, engine, on_findings=pipeline.on_findings)
        pipeline.attach(monitor.calendar, monitor.metrics)
        monitor.poll_all(NOW)
        report = monitor.run_cycle(NOW)
        due_soon = sorted(f.subject for f in report.findings if f.rule == "dossier_upcoming")
        assert due_soon == [f"H48.21-260201-{n:04d}" for n in range(1, DUE_SOON + 1)]

        pipeline.dispatch(NOW)
        rows = list_outbox(engine)
        assert rows and {row.status for row in rows} == {"sent"}
        assert {row.channel for row in rows} == {"memo"}
        assert {row.receiver for row in rows} == {"box:qlkh-truong-phong", "box:qlkh-chuyen-vien"}
    finally:
        engine.dispose()

    memos = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((tmp_path / "memos").glob("*.json"))]
    assert len(memos) == len(rows)
    parts = {memo["payload"]["parts"] for memo in memos}
    assert len(parts) == 1 and parts.pop() > 1  # 14 rows do not fit in 900 characters: several parts
    for box in ("box:qlkh-truong-phong", "box:qlkh-chuyen-vien"):
        mine = [memo for memo in memos if memo["receiver"] == box]
        assert all(len(memo["text"]) <= MEMO_MAX_CHARS and memo["html"] is None for memo in mine)
        shown = "\n".join(memo["text"] for memo in mine)
        assert all(code in shown for code in due_soon)  # rows move to a further part, none vanish
        assert all(memo["board"] == "Bảng tin một cửa" for memo in mine)
        assert all(memo["payload"]["memo"] == {"unit_name": "Phòng Quản lý Khoa học", "actionable": DUE_SOON}
                   for memo in mine)
        assert all("Phòng Quản lý Khoa học" in memo["text"] for memo in mine)


def test_a_kind_registered_from_code_is_built_like_a_builtin(tmp_path: Path) -> None:
    from tests.plugins.memo_channel import KIND, MemoSettings

    _forget_plugins()
    try:
        channel_registry.register(KIND)
        from alerts.channels.config import ChannelsSettings

        channels = ChannelsSettings.model_validate({"memo": {"directory": str(tmp_path)}, "file": None})
        assert isinstance(channels.section("memo"), MemoSettings)
        built = build_channels(channels, engine=None, now_fn=lambda: NOW)
        assert list(built) == ["memo"]
    finally:
        _forget_plugins()
