"""Assemble the inspection report from the state store: pure reads, ``now`` injected, no rendering.

Each section is a few bulk SELECTs turned into a Polars frame and shaped column-wise. Times in
the store are aware UTC; the report shows naive Vietnam wall-clock time. Nothing here reads
applicant data: the store holds none (findings carry dossier and procedure codes only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from alerts import history as alert_history
from checks.common import ALL_UNITS
from checks.i18n import N_, gettext
from checks.settings import KPI_NAMES
from checks.timeutil import to_vn_naive
from monitor.reports import labels
from monitor.reports.model import (
    ColumnKind,
    InspectionReport,
    Language,
    ReportColumn,
    ReportSection,
    ReportWindow,
)
from monitor.sources.reasons import localised_reason
from monitor.store.tables import (
    check_runs,
    finding_events,
    findings,
    kpi_history,
    source_invalid_values,
    source_polls,
    source_rejects,
)

log = structlog.get_logger(__name__)

DEADLINES_CHECK = "deadlines"
UTC_TIME = pl.Datetime("us", "UTC")
_VN_ZONE = "Asia/Ho_Chi_Minh"
_PERIOD_ORDER = {"year": 0, "quarter": 1, "month": 2}
# Facts of a deadlines finding that the report shows (formatted by the check as dd/mm/yyyy HH:MM).
_DEADLINE_FACTS = ("procedure_code", "procedure_name", "apology_at", "extended_due_at", "closed_at")

TXT, INT, NUM, PCT, DT, DAY = (
    ColumnKind.TEXT,
    ColumnKind.INTEGER,
    ColumnKind.NUMBER,
    ColumnKind.RATIO,
    ColumnKind.DATETIME,
    ColumnKind.DATE,
)


def _col(name: str, header: str, kind: ColumnKind = ColumnKind.TEXT, width: int = 16) -> ReportColumn:
    return ReportColumn(name=name, header=header, kind=kind, width=width)


KPI_COLUMNS = (
    _col("unit", N_("Unit"), TXT, 10),
    _col("unit_name", N_("Unit name"), TXT, 36),
    _col("kpi", N_("KPI"), TXT, 24),
    _col("kpi_label", N_("KPI name"), TXT, 50),
    _col("period", N_("Period"), TXT, 8),
    _col("period_start", N_("Period start"), DAY, 12),
    _col("numerator", N_("Numerator"), NUM, 10),
    _col("denominator", N_("Denominator"), NUM, 10),
    _col("ratio", N_("Ratio"), PCT, 10),
    _col("target", N_("Target"), PCT, 12),
    _col("result", N_("Result"), TXT, 16),
    _col("recorded_at", N_("Recorded at"), DT, 17),
)

DEADLINE_COLUMNS = (
    _col("unit", N_("Unit"), TXT, 10),
    _col("unit_name", N_("Unit name"), TXT, 36),
    _col("dossier", N_("Dossier"), TXT, 26),
    _col("procedure_code", N_("Procedure code"), TXT, 14),
    _col("procedure_name", N_("Procedure name"), TXT, 40),
    _col("rule", N_("Rule"), TXT, 18),
    _col("rule_label", N_("Issue"), TXT, 32),
    _col("severity", N_("Severity"), TXT, 12),
    _col("stage", N_("Stage"), TXT, 14),
    _col("due_at", N_("Due date"), DT, 17),
    _col("extended_due_at", N_("Extended due"), TXT, 17),
    _col("apology_at", N_("Apology at"), TXT, 17),
    _col("closed_at", N_("Finished at"), TXT, 17),
    _col("first_seen_at", N_("First seen"), DT, 17),
    _col("resolved_at", N_("Resolved at"), DT, 17),
    _col("status", N_("Status"), TXT, 14),
    _col("notifications", N_("Number of notifications"), INT, 10),
    _col("first_notified_at", N_("First notified"), DT, 17),
    _col("stage_history", N_("History"), TXT, 60),
)

NOTIFICATION_COLUMNS = (
    _col("unit", N_("Unit"), TXT, 10),
    _col("subject", N_("Subject (dossier code…)"), TXT, 26),
    _col("check", N_("Check"), TXT, 14),
    _col("rule_label", N_("Issue"), TXT, 32),
    _col("channel", N_("Channel"), TXT, 14),
    _col("receiver", N_("Receiver"), TXT, 28),
    _col("receiver_unit", N_("Receiver unit"), TXT, 10),
    _col("message_subject", N_("Message subject"), TXT, 50),
    _col("created_at", N_("Created at"), DT, 17),
    _col("sent_at", N_("Sent at"), DT, 17),
    _col("status", N_("Delivery status"), TXT, 12),
    _col("attempts", N_("Attempts"), INT, 8),
    _col("delivery_history", N_("Delivery log"), TXT, 40),
    _col("last_error", N_("Last error"), TXT, 40),
    _col("outbox_id", N_("Outbox id"), INT, 10),
)

SOURCE_COLUMNS = (
    _col("source", N_("Source"), TXT, 24),
    _col("polls_ok", N_("Polls ok"), INT, 12),
    _col("polls_failed", N_("Polls failed"), INT, 12),
    _col("last_poll_at", N_("Last poll"), DT, 17),
    _col("last_success_at", N_("Last success"), DT, 17),
    _col("last_error_at", N_("Last error at"), DT, 17),
    _col("last_error", N_("Last error"), TXT, 50),
    _col("rejected_rows", N_("Rows rejected"), INT, 12),
)

REJECT_COLUMNS = (
    _col("source", N_("Source"), TXT, 24),
    _col("column", N_("Column"), TXT, 20),
    _col("reason", N_("Reason"), TXT, 50),
    _col("rows", N_("Rows"), INT, 10),
    _col("first_at", N_("First rejected"), DT, 17),
    _col("last_at", N_("Last rejected"), DT, 17),
)

INVALID_VALUE_COLUMNS = (
    _col("source", N_("Source"), TXT, 24),
    _col("field", N_("Field"), TXT, 20),
    _col("column", N_("Column"), TXT, 20),
    _col("reason", N_("Reason"), TXT, 50),
    _col("polls", N_("Polls"), INT, 10),
    _col("last_count", N_("Values in the last poll"), INT, 12),
    _col("first_at", N_("First seen"), DT, 17),
    _col("last_at", N_("Last seen"), DT, 17),
)

CHECK_RUN_COLUMNS = (
    _col("check", N_("Check"), TXT, 18),
    _col("runs_ok", N_("Runs ok"), INT, 12),
    _col("runs_failed", N_("Runs failed"), INT, 12),
    _col("last_run_at", N_("Last run"), DT, 17),
    _col("last_error_at", N_("Last error at"), DT, 17),
    _col("last_error", N_("Last error"), TXT, 50),
)

SILENCE_COLUMNS = (
    _col("silence_id", N_("Id"), INT, 6),
    _col("matchers", N_("Matchers"), TXT, 36),
    _col("starts_at", N_("Starts at"), DT, 17),
    _col("ends_at", N_("Ends at"), DT, 17),
    _col("expired_at", N_("Expired at"), DT, 17),
    _col("author", N_("Author"), TXT, 18),
    _col("reason", N_("Reason"), TXT, 50),
    _col("created_at", N_("Created at"), DT, 17),
)


def build_inspection_report(
    engine: Engine,
    window: ReportWindow,
    now: datetime,
    *,
    targets: Mapping[str, float] | Callable[[date], Mapping[str, float]],
    unit_names: Mapping[str, str] | None = None,
    department: str = "Sở Khoa học và Công nghệ",
    language: Language = "vi",
) -> InspectionReport:
    """Every section of the report for ``window`` as of ``now`` (aware).

    ``targets``: one mapping for every period, or the targets in force on a day (a KPI period is
    judged by the targets in force on its last day, or on ``now``'s day for the running period).
    """
    begin, until = window.bounds(now)
    targets_at = targets if callable(targets) else (lambda _day, fixed=targets: fixed)
    today = to_vn_naive(now).date()
    names = {ALL_UNITS: gettext(language, labels.DEPARTMENT_UNIT_LABEL), **(unit_names or {})}
    with engine.connect() as conn:
        finding_frame = _findings_in_window(conn, begin, until)
        notifications = _notifications(conn, begin, until, finding_frame, window.unit, language)
        sections = (
            _kpi_section(conn, begin, until, window.unit, targets_at, today, names, language),
            _deadline_section(conn, begin, until, finding_frame, notifications, window.unit, names, language),
            _section("notifications", N_("Notifications"), N_("3. Notifications sent"), NOTIFICATION_COLUMNS,
                     notifications),
            _source_section(conn, begin, until),
            _reject_section(conn, begin, until, language),
            _invalid_section(conn, begin, until, language),
            _check_run_section(conn, begin, until),
            _silence_section(conn, begin, until, window.unit),
        )
    log.info(
        "inspection_report_built",
        start=window.start.isoformat(),
        end=window.end.isoformat(),
        unit=window.unit,
        rows={s.key: s.frame.height for s in sections},
    )
    return InspectionReport(department=department, window=window, generated_at=now, sections=sections)


# --- helpers ---------------------------------------------------------------------------------


def _section(
    key: str, sheet: str, title: str, columns: Sequence[ReportColumn], frame: pl.DataFrame,
) -> ReportSection:
    """``sheet`` and ``title``: English messages (``N_``), translated where the report is written."""
    return ReportSection(
        key=key, sheet_name=sheet, title_text=title, columns=tuple(columns),
        frame=frame.select([c.name for c in columns]),
    )


def _frame(rows: Sequence[Sequence[Any]], schema: Mapping[str, pl.DataType | type[pl.DataType]]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=dict(schema), orient="row")


def _vn(column: str) -> pl.Expr:
    """Aware UTC column -> naive Vietnam wall-clock time."""
    return pl.col(column).dt.convert_time_zone(_VN_ZONE).dt.replace_time_zone(None).alias(column)


def _label(column: str, mapping: Mapping[str, str], language: Language) -> pl.Expr:
    """Codes -> words in ``language`` (``mapping``: code -> English message); unknown codes stay."""
    return pl.col(column).replace(labels.translated(mapping, language))


def _declared(column: str, kind: str, language: Language) -> pl.Expr:
    """Check, KPI or rule codes -> their declared labels in ``language``; unknown codes stay."""
    return pl.col(column).replace(labels.declared(kind, language))


def _overlaps(start_col: sa.ColumnElement[Any], end_col: sa.ColumnElement[Any], begin: datetime, until: datetime) -> sa.ColumnElement[bool]:
    """[start, end) meets [begin, until); a NULL end means still going on."""
    return sa.and_(start_col < until, sa.or_(end_col.is_(None), end_col >= begin))


# --- section 1: KPIs -------------------------------------------------------------------------


def _with_period_targets(
    frame: pl.DataFrame, targets_at: Callable[[date], Mapping[str, float]], today: date
) -> pl.DataFrame:
    """A ``target`` column: the target of each row's KPI in force on its period's last day (today at
    most). Few distinct days: one lookup per day, then a join."""
    start = pl.col("period_start")
    last = (
        pl.when(pl.col("period") == "month").then(start.dt.offset_by("1mo"))
        .when(pl.col("period") == "quarter").then(start.dt.offset_by("3mo"))
        .otherwise(start.dt.offset_by("1y"))
        - pl.duration(days=1)
    )
    frame = frame.with_columns(pl.min_horizontal(last, pl.lit(today)).alias("_target_day"))
    days = [d for d in frame["_target_day"].unique().to_list() if d is not None]
    lookup = pl.DataFrame(
        [(day, kpi, float(value)) for day in days for kpi, value in targets_at(day).items()],
        schema={"_target_day": pl.Date, "kpi": pl.Utf8, "target": pl.Float64}, orient="row",
    )
    return frame.join(lookup, on=["_target_day", "kpi"], how="left").drop("_target_day")


def _kpi_section(
    conn: Connection, begin: datetime, until: datetime, unit: str | None,
    targets_at: Callable[[date], Mapping[str, float]], today: date, names: Mapping[str, str], language: Language,
) -> ReportSection:
    k = kpi_history.c
    in_window = sa.and_(k.recorded_at >= begin, k.recorded_at < until)
    if unit is not None:
        in_window = sa.and_(in_window, k.unit == unit)
    latest = sa.select(sa.func.max(k.id)).where(in_window).group_by(k.kpi, k.unit, k.period)
    query = sa.select(
        k.unit, k.kpi, k.period, k.period_start, k.numerator, k.denominator, k.recorded_at
    ).where(k.id.in_(latest.scalar_subquery()))
    frame = _frame(
        conn.execute(query).all(),
        {
            "unit": pl.Utf8, "kpi": pl.Utf8, "period": pl.Utf8, "period_start": pl.Date,
            "numerator": pl.Float64, "denominator": pl.Float64, "recorded_at": UTC_TIME,
        },
    )
    frame = _with_period_targets(frame, targets_at, today)
    ratio = pl.when(pl.col("denominator") > 0).then(pl.col("numerator") / pl.col("denominator"))
    kpi_order = {name: index for index, name in enumerate(KPI_NAMES)}
    shaped = (
        frame.with_columns(
            _vn("recorded_at"),
            ratio.alias("ratio"),
            pl.col("unit").replace_strict(dict(names), default=pl.col("unit")).alias("unit_name"),
            _declared("kpi", "kpi", language).alias("kpi_label"),
            (pl.col("unit") == ALL_UNITS).alias("_is_all"),
            pl.col("kpi").replace_strict(kpi_order, default=len(kpi_order), return_dtype=pl.Int64).alias("_kpi_order"),
            pl.col("period").replace_strict(_PERIOD_ORDER, default=9, return_dtype=pl.Int64).alias("_period_order"),
        )
        .with_columns(
            pl.when(pl.col("ratio").is_null()).then(pl.lit(gettext(language, labels.NO_DATA)))
            .when(pl.col("target").is_null()).then(pl.lit(gettext(language, labels.NO_TARGET)))
            .when(pl.col("ratio") >= pl.col("target")).then(pl.lit(gettext(language, labels.TARGET_MET)))
            .otherwise(pl.lit(gettext(language, labels.TARGET_MISSED)))
            .alias("result"),
            _label("period", labels.PERIOD_LABELS, language),
        )
        .sort("_is_all", "unit", "_kpi_order", "kpi", "_period_order")
    )
    return _section("kpis", N_("KPIs"), N_("1. KPI summary"), KPI_COLUMNS, shaped)


# --- findings (sections 2 and 3) -------------------------------------------------------------


def _findings_in_window(conn: Connection, begin: datetime, until: datetime) -> pl.DataFrame:
    """Every finding (any check) open at some time in the window, with the facts the report shows."""
    f = findings.c
    query = sa.select(
        f.key, f.check_name, f.rule, f.subject, f.unit, f.stage, f.severity, f.due_at,
        f.first_seen_at, f.resolved_at, f.facts,
    ).where(_overlaps(f.first_seen_at, f.resolved_at, begin, until))
    rows = [
        (*row[:-1], *(_fact_text(row.facts, name) for name in _DEADLINE_FACTS))
        for row in conn.execute(query)
    ]
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "key": pl.Utf8, "check": pl.Utf8, "rule": pl.Utf8, "subject": pl.Utf8, "unit": pl.Utf8,
        "stage": pl.Utf8, "severity": pl.Utf8, "due_at": UTC_TIME, "first_seen_at": UTC_TIME,
        "resolved_at": UTC_TIME,
    }
    schema |= {name: pl.Utf8 for name in _DEADLINE_FACTS}
    return _frame(rows, schema).with_columns(_vn("due_at"), _vn("first_seen_at"), _vn("resolved_at"))


def _fact_text(facts: Any, name: str) -> str | None:
    value = facts.get(name) if isinstance(facts, dict) else None
    return None if value is None or value == "" else str(value)


def _notifications(
    conn: Connection, begin: datetime, until: datetime, finding_frame: pl.DataFrame,
    unit: str | None, language: Language,
) -> pl.DataFrame:
    """One row per (notification, finding it mentions) created in the window: who was told, when."""
    messages = alert_history.messages(conn, created_from=begin, created_until=until).select(
        "outbox_id", "created_at", "channel", "receiver", pl.col("unit").alias("receiver_unit"),
        pl.col("subject").alias("message_subject"), pl.col("finding_keys").alias("finding_key"),
        "status", "attempts", "sent_at", "last_error",
    )
    log_rows = alert_history.delivery_attempts(conn, created_from=begin, created_until=until, at_before=until).rename({"attempt_id": "id"})
    deliveries = (
        log_rows
        .with_columns(_vn("at"))
        .sort("id")
        .group_by("outbox_id", maintain_order=True)
        .agg(
            pl.concat_str(
                pl.col("at").dt.strftime("%d/%m/%Y %H:%M"), pl.lit(" "),
                _label("outcome", labels.DELIVERY_OUTCOME_LABELS, language),
            )
            .str.join("; ")
            .alias("delivery_history")
        )
    )
    parts = pl.col("finding_key").str.splitn("/", 4)
    known = finding_frame.select(
        pl.col("key").alias("finding_key"),
        pl.col("unit").alias("_finding_unit"),
        pl.col("check").alias("_finding_check"),
        pl.col("rule").alias("_finding_rule"),
        pl.col("subject").alias("_finding_subject"),
    )
    exploded = (
        messages.explode("finding_key")
        .join(known, on="finding_key", how="left")
        .join(deliveries, on="outbox_id", how="left")
        .with_columns(
            _vn("created_at"),
            _vn("sent_at"),
            pl.coalesce("_finding_unit", "receiver_unit").alias("unit"),
            pl.coalesce("_finding_check", parts.struct.field("field_0")).alias("check"),
            pl.coalesce("_finding_rule", parts.struct.field("field_1")).alias("rule"),
            pl.coalesce("_finding_subject", parts.struct.field("field_3")).alias("subject"),
        )
        .with_columns(
            _declared("rule", "rule", language).alias("rule_label"),
            _label("channel", labels.CHANNEL_LABELS, language),
            _declared("check", "check", language),
            _label("status", labels.OUTBOX_STATUS_LABELS, language),
            pl.col("status").alias("_status_code"),
        )
    )
    if unit is not None:
        exploded = exploded.filter((pl.col("unit") == unit) | (pl.col("receiver_unit") == unit))
    return exploded.sort("unit", "subject", "created_at", "outbox_id", "rule", nulls_last=True)


def _deadline_section(
    conn: Connection, begin: datetime, until: datetime, finding_frame: pl.DataFrame,
    notifications: pl.DataFrame, unit: str | None, names: Mapping[str, str], language: Language,
) -> ReportSection:
    late = finding_frame.filter(
        (pl.col("check") == DEADLINES_CHECK) & pl.col("rule").is_in(list(labels.LATE_DOSSIER_RULES))
    )
    if unit is not None:
        late = late.filter(pl.col("unit") == unit)
    history = _stage_history(conn, begin, until, language)
    told = (
        notifications.filter(pl.col("finding_key").is_not_null())
        .group_by("finding_key")
        .agg(
            pl.len().cast(pl.Int64).alias("notifications"),
            pl.col("sent_at").filter(pl.col("_status_code") == "sent").min().alias("first_notified_at"),
        )
        .rename({"finding_key": "key"})
    )
    shaped = (
        late.join(history, on="key", how="left")
        .join(told, on="key", how="left")
        .with_columns(
            pl.col("subject").alias("dossier"),
            pl.col("unit").replace_strict(dict(names), default=pl.col("unit")).alias("unit_name"),
            _declared("rule", "rule", language).alias("rule_label"),
            _label("severity", labels.SEVERITY_LABELS, language),
            _label("stage", labels.STAGE_LABELS, language),
            pl.when(pl.col("resolved_at").is_null())
            .then(pl.lit(gettext(language, labels.FINDING_OPEN)))
            .otherwise(pl.lit(gettext(language, labels.FINDING_RESOLVED)))
            .alias("status"),
            pl.col("notifications").fill_null(0),
        )
        .sort("unit", "first_seen_at", "dossier", "rule")
    )
    return _section("deadlines", N_("Late dossiers"), N_("2. Late dossiers and apologies"), DEADLINE_COLUMNS, shaped)


def _stage_history(conn: Connection, begin: datetime, until: datetime, language: Language) -> pl.DataFrame:
    """key -> "dd/mm/yyyy HH:MM Detected (Past due); …" (in ``language``) for deadlines findings, events up to ``until``."""
    f, e = findings.c, finding_events.c
    query = (
        sa.select(e.key, e.id, e.at, e.event, e.stage)
        .select_from(finding_events.join(findings, f.key == e.key))
        .where(
            f.check_name == DEADLINES_CHECK,
            f.rule.in_(labels.LATE_DOSSIER_RULES),
            _overlaps(f.first_seen_at, f.resolved_at, begin, until),
            e.at < until,
        )
    )
    events = _frame(
        conn.execute(query).all(),
        {"key": pl.Utf8, "id": pl.Int64, "at": UTC_TIME, "event": pl.Utf8, "stage": pl.Utf8},
    )
    return (
        events.with_columns(_vn("at"))
        .sort("id")
        .group_by("key", maintain_order=True)
        .agg(
            pl.concat_str(
                pl.col("at").dt.strftime("%d/%m/%Y %H:%M"), pl.lit(" "),
                _label("event", labels.EVENT_LABELS, language), pl.lit(" ("),
                _label("stage", labels.STAGE_LABELS, language), pl.lit(")"),
            )
            .str.join("; ")
            .alias("stage_history")
        )
    )


# --- section 4: sources and checks ----------------------------------------------------------


def _source_section(conn: Connection, begin: datetime, until: datetime) -> ReportSection:
    p = source_polls.c
    query = sa.select(p.id, p.source, p.finished_at, p.ok, p.rejected_rows, p.error).where(
        p.finished_at >= begin, p.finished_at < until
    )
    polls = _frame(
        conn.execute(query).all(),
        {"id": pl.Int64, "source": pl.Utf8, "finished_at": UTC_TIME, "ok": pl.Boolean,
         "rejected_rows": pl.Int64, "error": pl.Utf8},
    ).with_columns(_vn("finished_at"))
    failed = ~pl.col("ok")
    summary = (
        polls.sort("finished_at", "id")
        .group_by("source")
        .agg(
            pl.col("ok").sum().cast(pl.Int64).alias("polls_ok"),
            failed.sum().cast(pl.Int64).alias("polls_failed"),
            pl.col("finished_at").max().alias("last_poll_at"),
            pl.col("finished_at").filter(pl.col("ok")).max().alias("last_success_at"),
            pl.col("finished_at").filter(failed).last().alias("last_error_at"),
            pl.col("error").filter(failed).last().alias("last_error"),
            pl.col("rejected_rows").sum().cast(pl.Int64).alias("rejected_rows"),
        )
        .sort("source")
    )
    return _section("sources", N_("Sources"), N_("4. Data sources"), SOURCE_COLUMNS, summary)


def _reject_section(conn: Connection, begin: datetime, until: datetime, language: Language) -> ReportSection:
    """Stored rejected rows grouped by source, column and reason (values are left out)."""
    r, p = source_rejects.c, source_polls.c
    query = (
        sa.select(r.source, r.column_name, r.reason, p.finished_at)
        .select_from(source_rejects.join(source_polls, p.id == r.poll_id))
        .where(p.finished_at >= begin, p.finished_at < until)
    )
    rejects = _frame(
        conn.execute(query).all(),
        {"source": pl.Utf8, "column": pl.Utf8, "reason": pl.Utf8, "at": UTC_TIME},
    ).with_columns(_vn("at"))
    grouped = (
        rejects.group_by("source", "column", "reason")
        .agg(
            pl.len().cast(pl.Int64).alias("rows"),
            pl.col("at").min().alias("first_at"),
            pl.col("at").max().alias("last_at"),
        )
        .sort("source", "rows", "column", descending=[False, True, False])
    )
    grouped = _localised_reasons(grouped, language)
    return _section("source_rejects", N_("Rejected rows"), N_("4b. Rejected rows"), REJECT_COLUMNS, grouped)


def _localised_reasons(frame: pl.DataFrame, language: Language) -> pl.DataFrame:
    """The stored (English) ``reason`` column in ``language``, translated once per distinct reason."""
    stored = frame.get_column("reason").unique().drop_nulls().to_list()
    return frame.with_columns(pl.col("reason").replace(stored, [localised_reason(t, language) for t in stored]))


def _invalid_section(conn: Connection, begin: datetime, until: datetime, language: Language) -> ReportSection:
    """Unreadable optional values (nulled, the row kept) by source, field, column and reason: in how
    many polls of the window, how many in the last one, first and last seen (never the values)."""
    v, p = source_invalid_values.c, source_polls.c
    query = (
        sa.select(v.source, v.field, v.column_name, v.reason, v.count, p.finished_at)
        .select_from(source_invalid_values.join(source_polls, p.id == v.poll_id))
        .where(p.finished_at >= begin, p.finished_at < until)
    )
    found = _frame(
        conn.execute(query).all(),
        {"source": pl.Utf8, "field": pl.Utf8, "column": pl.Utf8, "reason": pl.Utf8, "count": pl.Int64, "at": UTC_TIME},
    ).with_columns(_vn("at"))
    grouped = (
        found.sort("at")
        .group_by("source", "field", "column", "reason")
        .agg(
            pl.len().cast(pl.Int64).alias("polls"),
            pl.col("count").last().alias("last_count"),
            pl.col("at").min().alias("first_at"),
            pl.col("at").max().alias("last_at"),
        )
        .sort("source", "field", "reason")
    )
    grouped = _localised_reasons(grouped, language)
    return _section("source_invalid_values", N_("Unreadable values"), N_("4c. Unreadable values"),
                    INVALID_VALUE_COLUMNS, grouped)


def _check_run_section(conn: Connection, begin: datetime, until: datetime) -> ReportSection:
    c = check_runs.c
    query = sa.select(c.id, c.check_name, c.cycle_at, c.ok, c.error).where(
        c.cycle_at >= begin, c.cycle_at < until
    )
    runs = _frame(
        conn.execute(query).all(),
        {"id": pl.Int64, "check": pl.Utf8, "cycle_at": UTC_TIME, "ok": pl.Boolean, "error": pl.Utf8},
    ).with_columns(_vn("cycle_at"))
    failed = ~pl.col("ok")
    summary = (
        runs.sort("cycle_at", "id")
        .group_by("check")
        .agg(
            pl.col("ok").sum().cast(pl.Int64).alias("runs_ok"),
            failed.sum().cast(pl.Int64).alias("runs_failed"),
            pl.col("cycle_at").max().alias("last_run_at"),
            pl.col("cycle_at").filter(failed).last().alias("last_error_at"),
            pl.col("error").filter(failed).last().alias("last_error"),
        )
        .sort("check")
    )
    return _section("check_runs", N_("Check runs"), N_("4d. Check runs"), CHECK_RUN_COLUMNS, summary)


# --- section 5: silences ---------------------------------------------------------------------


def _silence_section(conn: Connection, begin: datetime, until: datetime, unit: str | None) -> ReportSection:
    found = alert_history.silences_overlapping(conn, begin, until)
    rows = [
        (row["silence_id"], _matchers_text(row["matchers"]), *list(row.values())[2:])
        for row in found.iter_rows(named=True)
        if unit is None or (row["matchers"] or {}).get("unit") in (None, unit)
    ]
    frame = _frame(
        rows,
        {"silence_id": pl.Int64, "matchers": pl.Utf8, "starts_at": UTC_TIME, "ends_at": UTC_TIME,
         "expired_at": UTC_TIME, "author": pl.Utf8, "reason": pl.Utf8, "created_at": UTC_TIME},
    ).with_columns(_vn("starts_at"), _vn("ends_at"), _vn("expired_at"), _vn("created_at"))
    return _section("silences", N_("Silences"), N_("5. Silences"), SILENCE_COLUMNS, frame)


def _matchers_text(matchers: Any) -> str:
    if not isinstance(matchers, dict):
        return ""
    return ", ".join(f"{name}={value}" for name, value in sorted(matchers.items()))
