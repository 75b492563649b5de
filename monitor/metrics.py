"""Prometheus exposition: a custom collector over results cached by the cycle.

A scrape never fetches a source or runs a check: it renders the last samples each producer
published (sources after every poll, checks after every cycle, alerts after every dispatch).
Metric families are built fresh on every collect(), so label values that vanished disappear.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime

import polars as pl
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from checks.contracts import CheckResult, KpiValue, MetricSample, MetricSpec, Severity, SourceStatus
from monitor import __version__

SOURCE_UP = MetricSpec(name="tthc_source_up", help="1 if the last poll of the source succeeded.", labels=("source",))
SOURCE_LAST_SUCCESS = MetricSpec(
    name="tthc_source_last_success_timestamp_seconds",
    help="Unix time of the source's last successful poll (0 if never).",
    labels=("source",),
)
SOURCE_ROWS = MetricSpec(
    name="tthc_source_rows", help="Rows held from the source's last good snapshot.", labels=("source",)
)
SOURCE_REJECTED = MetricSpec(
    name="tthc_source_rejected_rows",
    help="Rows rejected by validation in the source's last poll.",
    labels=("source",),
)
SOURCE_INVALID = MetricSpec(
    name="tthc_source_invalid_values",
    help="Values of an optional field that could not be read in the source's last poll (set to null, row kept).",
    labels=("source", "field"),
)
SOURCE_DURATION = MetricSpec(
    name="tthc_source_fetch_duration_seconds",
    help="Duration of the source's last poll (fetch, map, validate, store).",
    labels=("source",),
)
SOURCE_SUSPECT = MetricSpec(
    name="tthc_source_suspect",
    help="1 while the source's last full snapshot is held back as suspect (the last good one stays in force).",
    labels=("source",),
)
SOURCE_DUPLICATES = MetricSpec(
    name="tthc_source_duplicate_keys",
    help="Rows of the source's last fetch dropped because their natural key came again (latest updated_at wins).",
    labels=("source",),
)
BUILD_INFO = MetricSpec(name="tthc_build_info", help="Build information; value is always 1.", labels=("version",))

KPI_NUMERATOR = MetricSpec(
    name="tthc_kpi_numerator", help="Numerator of a plan KPI for the current period.", labels=("unit", "kpi", "period")
)
KPI_DENOMINATOR = MetricSpec(
    name="tthc_kpi_denominator",
    help="Denominator of a plan KPI for the current period.",
    labels=("unit", "kpi", "period"),
)
KPI_RATIO = MetricSpec(
    name="tthc_kpi_ratio",
    help="Plan KPI ratio (0-1) for the current period; absent when the denominator is 0.",
    labels=("unit", "kpi", "period"),
)
KPI_TARGET = MetricSpec(name="tthc_kpi_target_ratio", help="Configured target of a plan KPI (0-1).", labels=("kpi",))
CHECK_UP = MetricSpec(name="tthc_check_up", help="1 if the check's last run succeeded.", labels=("check",))
CHECK_DURATION = MetricSpec(
    name="tthc_check_duration_seconds", help="Duration of the check's last run.", labels=("check",)
)
CHECK_LAST_SUCCESS = MetricSpec(
    name="tthc_check_last_success_timestamp_seconds",
    help="Unix time of the check's last successful run (0 if never).",
    labels=("check",),
)
FINDINGS_OPEN = MetricSpec(
    name="tthc_findings_open", help="Open findings by check and severity.", labels=("check", "severity")
)


def source_samples(statuses: Iterable[SourceStatus]) -> list[MetricSample]:
    out: list[MetricSample] = [BUILD_INFO.sample(1, version=__version__)]
    for status in statuses:
        name = status.name
        out.append(SOURCE_UP.sample(1 if status.up else 0, source=name))
        last = status.last_success_at.timestamp() if status.last_success_at else 0.0
        out.append(SOURCE_LAST_SUCCESS.sample(last, source=name))
        out.append(SOURCE_ROWS.sample(status.rows, source=name))
        out.append(SOURCE_REJECTED.sample(status.rejected_rows, source=name))
        out.extend(SOURCE_INVALID.sample(count, source=name, field=field) for field, count in status.invalid_values.items())
        out.append(SOURCE_DURATION.sample(status.fetch_duration_seconds, source=name))
        out.append(SOURCE_SUSPECT.sample(1 if status.suspect else 0, source=name))
        out.append(SOURCE_DUPLICATES.sample(status.duplicate_keys, source=name))
    return out


def kpi_samples(kpis: Iterable[KpiValue], targets: Mapping[str, float]) -> list[MetricSample]:
    out: list[MetricSample] = []
    for kpi in kpis:
        labels = {"unit": kpi.unit, "kpi": kpi.kpi, "period": kpi.period.value}
        out.append(KPI_NUMERATOR.sample(kpi.numerator, **labels))
        out.append(KPI_DENOMINATOR.sample(kpi.denominator, **labels))
        ratio = kpi.ratio
        if ratio is not None:
            out.append(KPI_RATIO.sample(ratio, **labels))
    out.extend(KPI_TARGET.sample(value, kpi=name) for name, value in sorted(targets.items()))
    return out


class CheckRun:
    """The outcome of one check in one cycle (plain holder; no behaviour)."""

    __slots__ = ("name", "ok", "duration_seconds", "result", "error")

    def __init__(
        self, name: str, ok: bool, duration_seconds: float, result: CheckResult | None, error: str | None
    ) -> None:
        self.name = name
        self.ok = ok
        self.duration_seconds = duration_seconds
        self.result = result
        self.error = error


def check_samples(
    runs: Sequence[CheckRun], last_success: Mapping[str, datetime], findings: pl.DataFrame
) -> list[MetricSample]:
    """``findings``: the standing findings table (``checks.findings_table``)."""
    out: list[MetricSample] = []
    counts: dict[tuple[str, str], int] = {
        (check, severity): count for check, severity, count in findings.group_by("check", "severity").len().iter_rows()
    }
    for run in runs:
        out.append(CHECK_UP.sample(1 if run.ok else 0, check=run.name))
        out.append(CHECK_DURATION.sample(run.duration_seconds, check=run.name))
        moment = last_success.get(run.name)
        out.append(CHECK_LAST_SUCCESS.sample(moment.timestamp() if moment else 0.0, check=run.name))
        for severity in Severity:
            out.append(FINDINGS_OPEN.sample(counts.get((run.name, severity.value), 0), check=run.name, severity=severity.value))
        if run.result is not None:
            out.extend(run.result.samples)
    return out


class MetricsState(Collector):
    """Thread-safe holder of the latest samples per section; a prometheus_client collector.

    Each publish also renders the exposition text (:meth:`exposition`), so that a scrape serves
    bytes made in the publisher's thread and never renders, or waits for, a cycle's samples.
    Only the published section is rendered again; the others' text is reused.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rendering = threading.Lock()  # publishes render in order; held by one publisher at a time
        self._sections: dict[str, list[MetricSample]] = {}
        self._texts: dict[str, tuple[bytes, frozenset[str]]] = {}  # section -> (its text, its family names)
        self._exposition = b""

    def publish(self, section: str, samples: Sequence[MetricSample]) -> None:
        kept = list(samples)
        with self._rendering:
            with self._lock:
                self._sections[section] = kept
            text = generate_latest(_Families(_families(kept)))
            self._texts[section] = (text, frozenset(sample.spec.name for sample in kept))
            self._exposition = self._joined()

    def _joined(self) -> bytes:
        """The sections' texts one after the other: the same bytes as rendering every sample at
        once, as long as no family is in two sections. When one is (its series are merged, the
        first producer winning), everything is rendered together instead."""
        names: set[str] = set()
        for _text, families in self._texts.values():
            if not names.isdisjoint(families):
                return generate_latest(_Families(_families(self.samples())))
            names |= families
        return b"".join(text for text, _families in self._texts.values())

    def exposition(self) -> bytes:
        """The Prometheus text of every published sample, as rendered at the last publish."""
        return self._exposition

    def samples(self) -> list[MetricSample]:
        with self._lock:
            return [s for section in self._sections.values() for s in section]

    def value(self, name: str, **labels: str) -> float | None:
        """The current value of one series, for tests and the health endpoint."""
        for sample in self.samples():
            if sample.spec.name == name and sample.labels == labels:
                return sample.value
        return None

    def collect(self) -> Iterator[Metric]:
        yield from _families(self.samples())


class _Families:
    """Metric families already built, as the registry-like object ``generate_latest`` reads."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def _families(samples: Iterable[MetricSample]) -> list[Metric]:
    """One family per metric name in order of first appearance; one value per series (the first wins)."""
    families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for sample in samples:
        spec = sample.spec
        family = families.get(spec.name)
        if family is None:
            if spec.kind == "counter":
                family = CounterMetricFamily(spec.name, spec.help, labels=list(spec.labels))
            else:
                family = GaugeMetricFamily(spec.name, spec.help, labels=list(spec.labels))
            families[spec.name] = family
        values = tuple(sample.labels[name] for name in spec.labels)
        identity = (spec.name, tuple(zip(spec.labels, values, strict=True)))
        if identity in seen:
            continue
        seen.add(identity)
        family.add_metric(list(values), sample.value)
    return list(families.values())


class Exposition:
    """What ``/metrics`` serves: the state's text rendered at publish, then the few live collectors
    (read at scrape time: the lease, the poll executor) rendered per scrape."""

    def __init__(self, state: MetricsState, *live: Collector) -> None:
        self._state = state
        self._live = CollectorRegistry(auto_describe=False)
        for collector in live:
            self._live.register(collector)

    def add(self, collector: Collector) -> None:
        """One more collector read at every scrape."""
        self._live.register(collector)

    def __call__(self) -> bytes:
        return self._state.exposition() + generate_latest(self._live)


def new_registry(state: MetricsState) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(state)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
