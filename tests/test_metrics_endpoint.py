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
from monitor.metrics import Exposition, MetricsState, kpi_samples, new_registry, render, source_samples

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
    server = MetricsServer(Exposition(state), lambda: (healthy["ok"], {"sources": 2}), "127.0.0.1", 0)
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


def test_the_exposition_rendered_at_publish_is_what_a_full_render_gives() -> None:
    """A scrape serves the bytes made at publish: the same as rendering every sample at once, also
    when a family has series in two sections (merged once, the first producer winning), and they
    follow every publish (a series that vanished is gone from the next scrape's bytes)."""
    state = _state()
    assert state.exposition() == render(new_registry(state))
    shared = MetricSpec(name="tthc_test_shared", help="In two sections.", labels=("where",))
    state.publish("first", [shared.sample(1, where="a"), shared.sample(2, where="both")])
    state.publish("second", [shared.sample(3, where="b"), shared.sample(4, where="both")])
    text = state.exposition()
    assert text == render(new_registry(state))
    assert text.decode().count("# TYPE tthc_test_shared gauge") == 1  # one family, not one per section
    values = _values(text.decode())
    assert values[("tthc_test_shared", (("where", "both"),))] == 2  # the first producer wins
    state.publish("first", [])
    state.publish("second", [])
    state.publish("alerts", [COUNTER.sample(4, channel="email")])
    text = state.exposition()
    assert text == render(new_registry(state))
    assert b"tthc_test_shared" not in text
    assert _values(text.decode())[("tthc_test_events_total", (("channel", "email"),))] == 4


def test_the_endpoint_serves_the_published_bytes_and_reads_live_collectors_per_scrape() -> None:
    from prometheus_client.core import GaugeMetricFamily

    class Live:
        value = 1.0

        def collect(self):  # type: ignore[no-untyped-def]
            family = GaugeMetricFamily("tthc_test_live", "Read at scrape time.")
            family.add_metric([], self.value)
            yield family

    state, live = _state(), Live()
    server = MetricsServer(Exposition(state, live), lambda: (True, {}), "127.0.0.1", 0)
    server.start()
    try:
        first = requests.get(server.url, timeout=5).text
        assert first.startswith(state.exposition().decode())
        assert _values(first)[("tthc_test_live", ())] == 1
        live.value = 2.0
        state.publish("alerts", [COUNTER.sample(9, channel="email")])
        second = _values(requests.get(server.url, timeout=5).text)
        assert second[("tthc_test_live", ())] == 2
        assert second[("tthc_test_events_total", (("channel", "email"),))] == 9
    finally:
        server.stop()
