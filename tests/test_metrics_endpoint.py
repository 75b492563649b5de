"""The metrics endpoint over real HTTP: cached samples, /healthz, promtool lint."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime

import requests
from prometheus_client.parser import text_string_to_metric_families

from checks.contracts import KpiValue, MetricSpec, Period, SourceStatus
from checks.schema import TableName
from monitor.http_endpoint import MetricsServer
from monitor.metrics import MetricsState, kpi_samples, new_registry, render, source_samples

COUNTER = MetricSpec(name="tthc_test_events_total", help="Test counter.", labels=("channel",), kind="counter")


def _values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _state() -> MetricsState:
    state = MetricsState()
    ok = SourceStatus(
        name="dvcqg_dossiers",
        table=TableName.DOSSIERS,
        up=True,
        interval_seconds=60,
        last_success_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        rows=1234,
        rejected_rows=7,
        fetch_duration_seconds=0.25,
    )
    down = SourceStatus(name="catalog", table=TableName.PROCEDURES, up=False, interval_seconds=60)
    state.publish("sources", source_samples([ok, down]))
    kpis = [
        KpiValue(kpi="dossier_on_time", unit="QLKH", period=Period.YEAR, numerator=99, denominator=100),
        KpiValue(kpi="dossier_on_time", unit="CDS", period=Period.YEAR, numerator=0, denominator=0),
    ]
    state.publish("checks", kpi_samples(kpis, {"dossier_on_time": 0.99}))
    state.publish("alerts", [COUNTER.sample(3, channel="email")])
    return state


def test_samples_render_with_values_and_absent_ratio_for_zero_denominator() -> None:
    values = _values(render(new_registry(_state())).decode())
    assert values[("tthc_source_up", (("source", "dvcqg_dossiers"),))] == 1
    assert values[("tthc_source_up", (("source", "catalog"),))] == 0
    assert values[("tthc_source_rows", (("source", "dvcqg_dossiers"),))] == 1234
    assert values[("tthc_source_rejected_rows", (("source", "dvcqg_dossiers"),))] == 7
    assert values[("tthc_source_last_success_timestamp_seconds", (("source", "dvcqg_dossiers"),))] == datetime(
        2026, 11, 25, 3, 0, tzinfo=UTC
    ).timestamp()
    assert values[("tthc_source_last_success_timestamp_seconds", (("source", "catalog"),))] == 0
    qlkh = (("kpi", "dossier_on_time"), ("period", "year"), ("unit", "QLKH"))
    cds = (("kpi", "dossier_on_time"), ("period", "year"), ("unit", "CDS"))
    assert values[("tthc_kpi_ratio", qlkh)] == 0.99
    assert ("tthc_kpi_ratio", cds) not in values  # no data is not zero
    assert values[("tthc_kpi_denominator", cds)] == 0
    assert values[("tthc_kpi_target_ratio", (("kpi", "dossier_on_time"),))] == 0.99
    assert values[("tthc_test_events_total", (("channel", "email"),))] == 3
    assert any(name == "tthc_build_info" for name, _ in values)


def test_republishing_a_section_drops_vanished_series() -> None:
    state = _state()
    state.publish("alerts", [])
    values = _values(render(new_registry(state)).decode())
    assert not any(name == "tthc_test_events_total" for name, _ in values)


def test_endpoint_serves_metrics_and_health_over_http() -> None:
    state = _state()
    healthy = {"ok": True}
    server = MetricsServer(new_registry(state), lambda: (healthy["ok"], {"sources": 2}), "127.0.0.1", 0)
    server.start()
    try:
        reply = requests.get(server.url, timeout=5)
        assert reply.status_code == 200
        assert reply.headers["Content-Type"].startswith("text/plain")
        assert 'tthc_source_up{source="dvcqg_dossiers"} 1.0' in reply.text
        health_url = server.url.replace("/metrics", "/healthz")
        assert requests.get(health_url, timeout=5).json() == {"status": "ok", "sources": 2}
        healthy["ok"] = False
        degraded = requests.get(health_url, timeout=5)
        assert degraded.status_code == 503 and degraded.json()["status"] == "degraded"
        assert requests.get(server.url.replace("/metrics", "/nope"), timeout=5).status_code == 404
    finally:
        server.stop()


def test_promtool_finds_nothing_to_report() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: scripts/ensure-test-services.sh installs Debian's prometheus"
    text = render(new_registry(_state()))
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == b"" and result.stderr.strip() == b""
