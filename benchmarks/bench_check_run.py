"""Benchmark the whole ``tthc-monitor check`` command as a user runs it; prints figures (no assertions).

Run:  .venv/bin/python benchmarks/bench_check_run.py [--dossiers 100000,1000000] [--cases sparse,dense]
                                                     [--rounds 3] [--profile] [--sample LABEL]

What is measured (issue 11, "Done means"), each in a fresh subprocess, ``--rounds`` interleaved rounds,
the median time and the largest peak shown:

* **bare read**: ``pl.read_csv(path, infer_schema=False)`` of the dossier CSV in a child Python
  (wall time of the child: interpreter, ``import polars`` and the read; the read alone is shown too);
* **check**: ``tthc-monitor check --config CFG --now 2026-11-20T10:00 --format ndjson`` (``json`` while
  ``check --help`` offers no ndjson) with stdout to a file: the real CLI, every source polled once
  (the dossier CSV through the tabular source with its Vietnamese headers, the catalogs and the
  feedback as canonical CSV files), every check, the findings written to the throw-away history
  store of ``check`` and printed. Wall time of the child.

Peak memory is each child's own ``ru_maxrss`` as ``os.wait4`` returns it. The parent imports
neither Polars nor the project (a child's ``ru_maxrss`` starts from its parent's RSS), and every
piece of work with data (generation, counting findings) runs in a child too.

Cases: **sparse** is the export of ``benchmarks/bench_checks.py`` (≈1 finding per 100 dossiers);
**dense** is the same export with ≈40 findings per 100 dossiers: 7% of the dossiers open and near or
past their due time without an apology, 20% not on the national portal, 7% with a lagging status
there. Data is cached under ``.bench/`` (the sparse export in ``checks-v<version>-<N>/``, the rest in
``checkrun-v<version>-<N>/``), so a rerun skips generation.

The configuration per case (``checkrun-…/config-<case>.yaml``) enables alerts with a ``file`` channel;
``check`` builds no alert part at all (it sends nothing and touches no state), and the benchmark
verifies after each run that the channel's folder stayed empty.

``--profile`` runs one extra check per case at the largest size under cProfile (pyinstrument when
installed) and prints the top 25 entries by cumulative time. ``--sample LABEL`` measures nothing: it
writes the 100,000-dossier outputs of both cases to ``.bench/findings-LABEL-<case>.<json|ndjson>``
for ``benchmarks/compare_findings.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".bench"
DATA_VERSION = 2  # bump when the dense variant or the configuration changes
NOW_ARG = "2026-11-20T10:00"
SAMPLE_DOSSIERS = 100_000
TARGET_RATIO = 2.0
TARGET_PEAK_BYTES = {1_000_000: 1_000_000_000, 5_000_000: 4_000_000_000}  # "< 1 GB at 1M, < 4 GB at 5M"
TARGET_RATIO_SIZES = frozenset({1_000_000})

Case = Literal["sparse", "dense"]
CASES: dict[Case, str] = {
    "sparse": "the bench_checks export (~1 finding per 100 dossiers)",
    "dense": "the same with ~40 findings per 100 dossiers (open near/over due without apology, unsynced, lagging)",
}


# ------------------------------------------------------------------------------------ children


def cli_command() -> list[str]:
    """``tthc-monitor`` as installed next to this interpreter (the console script), else ``-m monitor.cli``."""
    script = Path(sys.executable).parent / "tthc-monitor"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "monitor.cli"]


def child_env() -> dict[str, str]:
    """The environment of every child: no TTHC_MONITOR_* override of the benchmark's configuration."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TTHC_MONITOR_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


class Child:
    """One finished child process: wall seconds, peak RSS (its own ``ru_maxrss``) and exit code."""

    def __init__(self, seconds: float, peak_bytes: int, returncode: int) -> None:
        self.seconds = seconds
        self.peak_bytes = peak_bytes
        self.returncode = returncode


def run_measured(command: Sequence[str], stdout: Path, stderr: Path) -> Child:
    """Run ``command`` with stdout and stderr to files; its wall time and peak RSS from ``wait4``."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), stdout=out, stderr=err, env=child_env(), cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Child(seconds, usage.ru_maxrss * 1024, process.returncode)  # Linux: KiB


def run_helper(mode: str, *arguments: str) -> dict[str, Any]:
    """A data step of this script in a child; it reports JSON on its last stdout line."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, *arguments]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, env=child_env(), cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"step '{mode}' failed (exit {done.returncode}); see its stderr above")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def case_folder(rows: int) -> Path:
    return BENCH / f"checkrun-v{DATA_VERSION}-{rows}"


def prepare(case: Case, rows: int) -> dict[str, Any]:
    """Child: the case's CSV, the canonical catalog and feedback CSVs and the YAML configuration."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_checks  # the generator: NumPy and Polars, only ever in this child

    started = time.perf_counter()
    data, _ = bench_checks.ensure_data(rows)
    folder = case_folder(rows)
    folder.mkdir(parents=True, exist_ok=True)
    procedures, feedback = folder / "thu_tuc.csv", folder / "pakn.csv"
    for parquet, csv in ((data.procedures, procedures), (data.feedback, feedback)):
        if not csv.is_file():
            _write_canonical_csv(parquet, csv)
    dossiers = data.dossiers_csv
    if case == "dense":
        dossiers = folder / "ho_so_dense.csv"
        if not dossiers.is_file():
            _write_dense_export(data.dossiers_csv, dossiers)
    config = folder / f"config-{case}.yaml"
    outbox = folder / f"outbox-{case}"
    config.write_text(config_yaml(bench_checks, dossiers, procedures, feedback, outbox, rows), encoding="utf-8")
    return {"config": str(config), "csv": str(dossiers), "outbox": str(outbox),
            "csv_bytes": dossiers.stat().st_size, "seconds": time.perf_counter() - started}


def _write_canonical_csv(parquet: Path, csv: Path) -> None:
    import polars as pl

    partial = csv.with_suffix(".csv.partial")
    pl.read_parquet(parquet).write_csv(partial)
    os.replace(partial, csv)


def _write_dense_export(sparse_csv: Path, dense_csv: Path) -> None:
    """The sparse export with ≈40 findings per 100 dossiers, every change column-wise.

    * 7%: open ("Đang xử lý"), due between 14 days ago and 3 days ahead, no result, no apology, no
      extension, no supplement, synced with the same status: ``dossier_upcoming`` / ``dossier_due_today``
      / ``dossier_overdue``, and ``apology_missing`` for the overdue ones;
    * 20%: not on the national portal (``dossier_unsynced``);
    * 7%: on the portal with an older status than the local one (``dossier_status_lag``).
    """
    import numpy as np
    import polars as pl

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_checks as bc

    from checks.schema import DOSSIER_STATUS_VI

    frame = pl.read_csv(sparse_csv, infer_schema=False)
    rows = frame.height
    rng = np.random.default_rng(20261121)
    draw = rng.random(rows)
    near = draw < 0.07
    unsynced = (draw >= 0.07) & (draw < 0.27)
    lagging = (draw >= 0.27) & (draw < 0.34)
    now = bc._micros(bc.NOW_NAIVE)
    due = now + (rng.uniform(-14.0, 3.0, rows) * bc._DAY).astype(np.int64)
    received = np.minimum(due - (rng.uniform(3.0, 20.0, rows) * bc._DAY).astype(np.int64), now - bc._HOUR)

    def text(micros: Any, fmt: str) -> pl.Series:
        return bc._datetime_series("t", micros).dt.strftime(fmt)

    near_s, unsynced_s, lagging_s = pl.Series(near), pl.Series(unsynced), pl.Series(lagging)
    cleared = ("Ngày có kết quả", "Ngày trả kết quả", "Ngày từ chối", "Ngày xin lỗi", "Ngày hẹn trả mới",
               "Số lần gia hạn", "Ngày yêu cầu bổ sung", "Ngày nhận bổ sung", "Ngày hẹn trả trước bổ sung",
               "Kết quả điện tử", "Ngày cập nhật DVCQG")
    null = pl.lit(None, dtype=pl.Utf8)
    received_report = text(received, bc.DATE_FORMAT_REPORT)
    received_portal = text(received, bc.DATE_FORMAT_PORTAL)
    dense = frame.with_columns(
        pl.when(near_s).then(pl.lit(DOSSIER_STATUS_VI[4])).otherwise(pl.col("Trạng thái")).alias("Trạng thái"),
        pl.when(near_s).then(received_report).otherwise(pl.col("Ngày tiếp nhận")).alias("Ngày tiếp nhận"),
        pl.when(near_s).then(received_portal).otherwise(pl.col("Ngày nộp")).alias("Ngày nộp"),
        pl.when(near_s).then(received_portal).otherwise(pl.col("Ngày cập nhật")).alias("Ngày cập nhật"),
        pl.when(near_s).then(text(due, bc.DATE_FORMAT_REPORT)).otherwise(pl.col("Ngày hẹn trả")).alias("Ngày hẹn trả"),
        pl.when(near_s).then(pl.lit("0")).otherwise(pl.col("Số lần bổ sung")).alias("Số lần bổ sung"),
        *(pl.when(near_s).then(null).otherwise(pl.col(name)).alias(name) for name in cleared),
        pl.when(unsynced_s).then(pl.lit(bc.NO)).when(near_s | lagging_s).then(pl.lit(bc.YES))
        .otherwise(pl.col("Đồng bộ DVCQG")).alias("Đồng bộ DVCQG"),
        pl.when(unsynced_s).then(null).when(near_s).then(pl.lit("4"))
        # lagging: the portal still shows "being processed" (or "received" where the dossier is being processed)
        .when(lagging_s).then(pl.when(pl.col("Trạng thái") == DOSSIER_STATUS_VI[4]).then(pl.lit("2")).otherwise(pl.lit("4")))
        .otherwise(pl.col("Trạng thái DVCQG")).alias("Trạng thái DVCQG"),
    ).with_columns(
        # its last update there is older than the local one (the submission time)
        pl.when(lagging_s).then(pl.col("Ngày nộp")).otherwise(pl.col("Ngày cập nhật DVCQG"))
        .alias("Ngày cập nhật DVCQG"),
    )
    partial = dense_csv.with_suffix(".csv.partial")
    dense.write_csv(partial)
    os.replace(partial, dense_csv)


def config_yaml(bc: Any, dossiers: Path, procedures: Path, feedback: Path, outbox: Path, rows: int) -> str:
    """The configuration of one case: the bench_checks mapping of the export, canonical catalogs/feedback."""
    import yaml

    # exactly bench_checks' source (its "default" mapping), limits raised past 2,000,000 rows included
    source = bc.dossier_source_settings(dossiers, "default").model_dump(mode="json", exclude_defaults=True)
    settings = {
        "language": "vi",
        "log": {"format": "console", "level": "WARNING"},
        "units": [{"code": code, "name": name, "handles_dossiers": code != "VP"} for code, name in bc.UNIT_NAMES.items()],
        "sources": [
            {"kind": "tabular", **source},
            {"kind": "tabular", "name": "thu_tuc", "table": "procedures", "path": str(procedures), "format": "csv",
             "interval_seconds": 3600, "mapping": {"preset": "canonical"}},
            {"kind": "tabular", "name": "pakn", "table": "feedback", "path": str(feedback), "format": "csv",
             "interval_seconds": 600, "mapping": {"preset": "canonical"}},
        ],
        "alerts": {"channels": {"file": {"directory": str(outbox)}}},
    }
    header = f"# bench_check_run.py: {rows:,} dossiers; `tthc-monitor check` sends nothing (the file channel stays empty)\n"
    return header + yaml.safe_dump(settings, allow_unicode=True, sort_keys=False)


def measure_read(csv: Path) -> dict[str, Any]:
    """Child: the bare read, every column a string."""
    import polars as pl

    started = time.perf_counter()
    frame = pl.read_csv(csv, infer_schema=False)
    return {"seconds": time.perf_counter() - started, "rows": frame.height, "columns": frame.width}


def count_findings(output: Path) -> dict[str, Any]:
    """Child: the findings of one check output, per check/rule."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from compare_findings import read_findings

    found = read_findings(output)
    by_rule: dict[str, int] = {}
    for item in found.by_key.values():
        rule = f"{item.get('check')}/{item.get('rule')}"
        by_rule[rule] = by_rule.get(rule, 0) + 1
    return {"total": found.total, "by_rule": dict(sorted(by_rule.items(), key=lambda kv: -kv[1]))}


# ------------------------------------------------------------------------------------ parent


def output_format() -> str:
    """ndjson when ``tthc-monitor check --help`` offers it, else json."""
    done = subprocess.run([*cli_command(), "check", "--help"], capture_output=True, text=True, check=False,
                          env=child_env(), cwd=ROOT)
    return "ndjson" if "ndjson" in done.stdout else "json"


def check_command(config: Path, fmt: str) -> list[str]:
    return [*cli_command(), "check", "--config", str(config), "--now", NOW_ARG, "--format", fmt]


class Prepared:
    def __init__(self, case: Case, rows: int, info: dict[str, Any], fmt: str) -> None:
        self.case, self.rows, self.fmt = case, rows, fmt
        self.config = Path(info["config"])
        self.csv = Path(info["csv"])
        self.outbox = Path(info["outbox"])
        self.csv_bytes = int(info["csv_bytes"])
        self.output = case_folder(rows) / f"out-{case}.{fmt}"
        self.stderr = case_folder(rows) / f"out-{case}.stderr"
        self.reads: list[Child] = []
        self.read_inner: list[float] = []
        self.checks: list[Child] = []
        self.findings: dict[str, Any] = {}


def run_check(item: Prepared, output: Path | None = None) -> Child:
    if item.outbox.exists():
        shutil.rmtree(item.outbox)
    child = run_measured(check_command(item.config, item.fmt), output or item.output, item.stderr)
    if child.returncode != 0:
        sys.stderr.write(item.stderr.read_text(encoding="utf-8", errors="replace")[-4000:])
        raise SystemExit(f"check failed on {item.case} {item.rows:,} (exit {child.returncode}); stderr above")
    if item.outbox.exists() and any(item.outbox.iterdir()):
        raise SystemExit(f"check wrote to the alerts' file channel {item.outbox}: it should send nothing")
    return child


def run_read(item: Prepared) -> Child:
    folder = case_folder(item.rows)
    out, err = folder / f"read-{item.case}.stdout", folder / f"read-{item.case}.stderr"
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "read", "--path", str(item.csv)]
    child = run_measured(command, out, err)
    if child.returncode != 0:
        sys.stderr.write(err.read_text(encoding="utf-8", errors="replace")[-4000:])
        raise SystemExit(f"bare read failed on {item.csv} (exit {child.returncode})")
    item.read_inner.append(float(json.loads(out.read_text().strip().splitlines()[-1])["seconds"]))
    return child


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f}"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _verdict(item: Prepared) -> str:
    ratio = _median([c.seconds for c in item.checks]) / _median([c.seconds for c in item.reads])
    peak = max(c.peak_bytes for c in item.checks)
    parts = []
    if item.rows in TARGET_RATIO_SIZES:
        parts.append(f"ratio {'ok' if ratio <= TARGET_RATIO else 'NOT ok'} (≤ {TARGET_RATIO:.0f}×)")
    if item.rows in TARGET_PEAK_BYTES:
        limit = TARGET_PEAK_BYTES[item.rows]
        parts.append(f"peak {'ok' if peak < limit else 'NOT ok'} (< {limit / 1e9:.0f} GB)")
    return ", ".join(parts) if parts else "—"


def print_report(items: list[Prepared], rounds: int) -> None:
    print()
    print(f"now {NOW_ARG} (+07:00); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"median of {rounds} interleaved rounds, peak = largest ru_maxrss of the rounds (a fresh child each)")
    print(f"check: {' '.join(Path(p).name if i == 0 else p for i, p in enumerate(check_command(Path('CFG'), items[0].fmt)))}")
    print()
    head = (f"{'case':<7} {'dossiers':>10} {'CSV MiB':>8} {'findings':>9} {'read s':>7} {'(in-proc)':>9} {'read MiB':>8} "
            f"{'check s':>8} {'check MiB':>9} {'ratio':>6}  targets")
    print(head)
    for item in items:
        read_s = _median([c.seconds for c in item.reads])
        check_s = _median([c.seconds for c in item.checks])
        print(
            f"{item.case:<7} {item.rows:>10,} {_mib(item.csv_bytes):>8} {item.findings.get('total', 0):>9,} "
            f"{read_s:>7.2f} {_median(item.read_inner):>9.2f} {_mib(max(c.peak_bytes for c in item.reads)):>8} "
            f"{check_s:>8.2f} {_mib(max(c.peak_bytes for c in item.checks)):>9} {check_s / read_s:>5.1f}×  {_verdict(item)}"
        )
    print()
    print("spread (min–max over the rounds):")
    for item in items:
        reads = sorted(c.seconds for c in item.reads)
        checks = sorted(c.seconds for c in item.checks)
        print(f"  {item.case} {item.rows:,}: read {reads[0]:.2f}–{reads[-1]:.2f} s, check {checks[0]:.2f}–{checks[-1]:.2f} s")
    print()
    print("growth (median check seconds; × the smallest size):")
    sizes = sorted({item.rows for item in items})
    cases = [c for c in CASES if any(item.case == c for item in items)]
    print(f"{'dossiers':>10}" + "".join(f" {case + ' s':>10} {'×':>6}" for case in cases))
    by = {(item.case, item.rows): _median([c.seconds for c in item.checks]) for item in items}
    for size in sizes:
        cells = ""
        for case in cases:
            base = by.get((case, sizes[0]))
            value = by.get((case, size))
            cells += f" {value:>10.2f} {value / base if base else float('nan'):>5.1f}×" if value is not None else f" {'—':>10} {'':>6}"
        print(f"{size:>10,}{cells}")
    print()
    print("findings per rule:")
    for item in items:
        per_100 = 100 * item.findings.get("total", 0) / item.rows
        rules = ", ".join(f"{rule} {count:,}" for rule, count in item.findings.get("by_rule", {}).items())
        print(f"  {item.case} {item.rows:,} ({per_100:.1f} per 100 dossiers): {rules}")
    print()
    print("alerts: a file channel is configured; check builds no alert part, and its folder stayed empty in every run")


def profile_check(item: Prepared) -> None:
    folder = case_folder(item.rows)
    output = folder / f"profile-{item.case}.{item.fmt}"
    if importlib.util.find_spec("pyinstrument") is not None:
        report = folder / f"profile-{item.case}.txt"
        command = [sys.executable, "-m", "pyinstrument", "-o", str(report), "-m", "monitor.cli",
                   *check_command(item.config, item.fmt)[len(cli_command()):]]
        run_profiled(item, command, output)
        print(report.read_text(encoding="utf-8"))
        return
    stats = folder / f"profile-{item.case}.pstats"
    command = [sys.executable, "-m", "cProfile", "-o", str(stats), "-m", "monitor.cli",
               *check_command(item.config, item.fmt)[len(cli_command()):]]
    run_profiled(item, command, output)
    import pstats

    print(f"\nprofile of check, {item.case} {item.rows:,} (cProfile, top 25 by cumulative time):")
    pstats.Stats(str(stats), stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    print(f"profile of check, {item.case} {item.rows:,}: the project's own functions (top 25 by cumulative time):")
    pstats.Stats(str(stats), stream=sys.stdout).sort_stats("cumulative").print_stats(r"/(monitor|checks|alerts)/", 25)


def run_profiled(item: Prepared, command: list[str], output: Path) -> None:
    child = run_measured(command, output, item.stderr)
    if child.returncode != 0:
        sys.stderr.write(item.stderr.read_text(encoding="utf-8", errors="replace")[-4000:])
        raise SystemExit(f"profiled check failed (exit {child.returncode})")
    print(f"profiled check {item.case} {item.rows:,}: {child.seconds:.1f} s under the profiler")


def prepare_all(cases: list[Case], sizes: list[int], fmt: str) -> list[Prepared]:
    items = []
    for rows in sizes:
        for case in cases:
            info = run_helper("prepare", "--case", case, "--dossiers", str(rows))
            print(f"data: {case} {rows:,}: {Path(info['csv']).relative_to(ROOT)} ({info['seconds']:.1f} s)", flush=True)
            items.append(Prepared(case, rows, info, fmt))
    return items


def run_benchmark(cases: list[Case], sizes: list[int], rounds: int, profile: bool) -> None:
    fmt = output_format()
    items = prepare_all(cases, sizes, fmt)
    for attempt in range(rounds):  # interleaved: load from other processes spreads over every measurement
        for item in items:
            item.reads.append(run_read(item))
            item.checks.append(run_check(item))
            print(f"round {attempt + 1}/{rounds} {item.case} {item.rows:,}: read {item.reads[-1].seconds:.2f} s, "
                  f"check {item.checks[-1].seconds:.2f} s / {_mib(item.checks[-1].peak_bytes)} MiB", flush=True)
    for item in items:
        item.findings = run_helper("count", "--path", str(item.output))
    print_report(items, rounds)
    if profile:
        for case in cases:
            largest = max((item for item in items if item.case == case), key=lambda item: item.rows)
            profile_check(largest)


def write_samples(label: str, cases: list[Case]) -> None:
    fmt = output_format()
    for item in prepare_all(cases, [SAMPLE_DOSSIERS], fmt):
        target = BENCH / f"findings-{label}-{item.case}.{fmt}"
        child = run_check(item, target)
        found = run_helper("count", "--path", str(target))
        print(f"{target.relative_to(ROOT)}: {found['total']:,} findings, {child.seconds:.1f} s, {_mib(child.peak_bytes)} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", default="100000,1000000",
                        help="comma-separated sizes, e.g. 100000,300000,1000000,5000000 (default 100000,1000000)")
    parser.add_argument("--cases", default="sparse,dense", help="comma-separated: sparse, dense (default both)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, median shown (default 3)")
    parser.add_argument("--profile", action="store_true", help="profile one check per case at the largest size")
    parser.add_argument("--sample", metavar="LABEL", help="only write the 100,000-dossier outputs to .bench/findings-LABEL-<case>.*")
    parser.add_argument("--child", choices=["prepare", "read", "count"], help=argparse.SUPPRESS)
    parser.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases: list[Case] = []
    for name in (part.strip() for part in args.cases.split(",") if part.strip()):
        if name not in CASES:
            parser.error(f"unknown case {name!r}: sparse or dense")
        cases.append("sparse" if name == "sparse" else "dense")
    sizes = [int(part.replace("_", "")) for part in args.dossiers.split(",") if part.strip()]

    if args.child == "prepare":
        print(json.dumps(prepare(args.case, sizes[0])))
    elif args.child == "read":
        print(json.dumps(measure_read(args.path)))
    elif args.child == "count":
        print(json.dumps(count_findings(args.path)))
    elif args.sample:
        write_samples(args.sample, cases)
    else:
        run_benchmark(cases, sizes, max(1, args.rounds), args.profile)


if __name__ == "__main__":
    main()
