"""What the CLI commands do: the daemon, one-shot check, validate, findings listing."""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Engine

from monitor.app import Monitor, open_store
from monitor.cycle import CycleReport
from monitor.logging_setup import configure_logging
from monitor.metrics import new_registry, render
from monitor.settings import Settings, StateSettings
from monitor.sources import build_source
from monitor.store.history import HistoryStore
from monitor.timeutil import VN_TZ, parse_cli_time

log = structlog.get_logger(__name__)


def demo_runtime_settings(portal_url: str, demo_dir: Path) -> Settings:
    """The embedded default: simulated exports, SQLite state, alerts as files, metrics on loopback."""
    from monitor.demo.config import demo_settings

    settings = demo_settings(portal_url, demo_dir / "data", demo_dir / "state")
    return _with_file_outbox(settings, demo_dir / "outbox")


def _with_file_outbox(settings: Settings, folder: Path) -> Settings:
    from alerts.channels.config import FileChannelSettings

    channels = settings.alerts.channels.model_copy(update={"file": FileChannelSettings(directory=folder)})
    alerts = settings.alerts.model_copy(update={"channels": channels})
    return settings.model_copy(update={"alerts": alerts})


def with_listen(settings: Settings, listen: str | None) -> Settings:
    """Apply --listen HOST:PORT to the metrics settings."""
    if not listen:
        return settings
    host, _, port = listen.rpartition(":")
    metrics = settings.metrics.model_copy(update={"host": host.strip("[]") or "127.0.0.1", "port": int(port)})
    return settings.model_copy(update={"metrics": metrics})


def run_daemon(
    config: Path | None, settings: Settings, demo_dir: Path, listen: str | None = None, demo_scale: float = 1.0
) -> int:
    from monitor.daemon import Daemon

    demo = None
    if config is None:
        from monitor.demo.runner import DemoPortal

        demo = DemoPortal(demo_dir / "data", scale=demo_scale)
        url = demo.start(datetime.now(VN_TZ))
        settings = demo_runtime_settings(url, demo_dir)
    settings = with_listen(settings, listen)
    configure_logging(settings.log.format, settings.log.level)
    if demo is not None:
        log.info("demo_started", portal=url, data_dir=str(demo_dir / "data"), outbox=str(demo_dir / "outbox"))
    daemon = Daemon(settings, demo=demo)
    return daemon.run_forever()


def run_check(
    config: Path | None, settings: Settings, now_text: str | None, fmt: str, demo_dir: Path
) -> int:
    """Poll every source once and run every check at ``now``; print; send nothing; touch no state."""
    now = parse_cli_time(now_text) if now_text else datetime.now(VN_TZ)
    demo = None
    scratch = tempfile.TemporaryDirectory(prefix="tthc-check-")
    try:
        if config is None:
            from monitor.demo.runner import DemoPortal

            demo = DemoPortal(Path(scratch.name) / "data")
            url = demo.start(now)
            settings = demo_runtime_settings(url, Path(scratch.name))
        configure_logging("console", "WARNING", stream=sys.stderr)
        state = StateSettings(url=f"sqlite:///{scratch.name}/check.db", data_dir=Path(scratch.name) / "snapshots")
        settings = settings.model_copy(update={"state": state})
        engine = open_store(settings)
        monitor = Monitor(settings, engine)
        monitor.poll_all(now)
        report = monitor.run_cycle(now)
        if fmt == "json":
            print(json.dumps(report_as_json(report), ensure_ascii=False, indent=2, default=str))
        else:
            sys.stdout.write(render(new_registry(monitor.metrics)).decode())
        engine.dispose()
    finally:
        if demo is not None:
            demo.stop()
        scratch.cleanup()
    return 0


def report_as_json(report: CycleReport) -> dict[str, Any]:
    return {
        "now": report.now.isoformat(),
        "duration_seconds": round(report.duration_seconds, 4),
        "sources": [s.model_dump(mode="json") for s in report.sources],
        "checks": report.checks,
        "kpis": [
            {**k.model_dump(mode="json"), "ratio": None if k.ratio is None else round(k.ratio, 6)}
            for k in report.kpis
        ],
        "findings": [{"key": f.key, **f.model_dump(mode="json")} for f in report.findings],
    }


def run_validate(config: Path | None, settings: Settings) -> int:
    """Print the configuration's shape and try each source once, as a readable table."""
    print(f"Cấu hình hợp lệ: {config}")
    print(f"  đơn vị: {', '.join(u.code for u in settings.units) or '(chưa khai báo)'}")
    print(f"  trạng thái: {settings.state.url.split('@')[-1]}")
    print(f"  metrics: http://{settings.metrics.host}:{settings.metrics.port}/metrics")
    print()
    configure_logging("console", "ERROR", stream=sys.stderr)
    header = ("nguồn", "loại", "bảng", "kết quả", "dòng", "bị loại", "giây", "lỗi / dòng bị loại đầu tiên")
    rows: list[tuple[str, ...]] = []
    failures = 0
    now = datetime.now(VN_TZ)
    for source_settings in settings.sources:
        started = time.perf_counter()
        try:
            source = build_source(source_settings, settings.units)
            result = source.fetch(None, now)
        except Exception as error:
            failures += 1
            rows.append(
                (source_settings.name, source_settings.kind, source_settings.table.value, "LỖI", "-", "-",
                 f"{time.perf_counter() - started:.2f}", str(error)[:160])
            )
            continue
        height = result.frame.height if result.frame is not None else 0
        first = result.rejected[0] if result.rejected else None
        detail = f"dòng {first.row}, cột {first.column!r}: {first.reason}" if first else ""
        rows.append(
            (source_settings.name, source_settings.kind, source_settings.table.value, "OK", str(height),
             str(result.rejected_count), f"{time.perf_counter() - started:.2f}", detail[:160])
        )
    _print_table(header, rows)
    return 1 if failures else 0


def _print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))


def list_findings(engine: Engine, unit: str | None, check: str | None, fmt: str) -> int:
    findings = [
        f
        for f in HistoryStore(engine).open_findings()
        if (unit is None or f.unit == unit) and (check is None or f.check == check)
    ]
    findings.sort(key=lambda f: (f.unit, f.due_at.timestamp() if f.due_at else float("inf"), f.key))
    if fmt == "json":
        print(json.dumps([{"key": f.key, **f.model_dump(mode="json")} for f in findings], ensure_ascii=False, indent=2))
        return 0
    from alerts.render import problem_text

    header = ("đơn vị", "kiểm tra", "đối tượng", "vấn đề", "giai đoạn", "mức độ", "hạn")
    rows = [
        (f.unit, f.check, f.subject, problem_text(f, "vi"), f.stage.value, f.severity.value,
         f.due_at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if f.due_at else "")
        for f in findings
    ]
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows(rows)
    else:
        _print_table(header, rows)
        print(f"\n{len(rows)} phát hiện đang mở")
    return 0
