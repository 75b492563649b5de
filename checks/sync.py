"""Sync check: provincial catalog vs national database, dossiers vs the national portal, data freshness.

Three independent parts, each a pure function of the tables and ``now``:

* catalog: every procedure code of the provincial and the national catalog is ``in_sync``,
  ``missing_national`` (only on the provincial system), ``missing_provincial`` (only on the national
  database) or ``content_differs`` (name, time limit, fee, components or content digest differ);
* dossiers: received dossiers not on the national portal after ``sync_grace_minutes``, or whose
  status there lags behind the local status for more than ``status_lag_minutes``;
* sources: a source without a successful poll for ``stale_after_polls`` poll periods (or never),
  and a source whose last full snapshot is held back as suspect (the quarantine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from checks.common import ratio_kpis
from checks.context import BaseCheck, CycleContext
from checks.contracts import (
    CheckResult,
    Finding,
    KpiValue,
    MetricSample,
    MetricSpec,
    Severity,
    SourceStatus,
    Stage,
    SubjectKind,
)
from checks.derived import is_received, received_time
from checks.findings_table import concat_findings, findings_frame, findings_table
from checks.i18n import N_, Language, gettext, translator
from checks.schema import (
    DOSSIER_STATUS_VI,
    PROCEDURE_COMPONENT_NAMES,
    PROCEDURE_COMPONENTS,
    VN_DATETIME,
    TableName,
    normalise_procedure_code,
)
from checks.spec import CheckSpec, Facts, KpiSpec, Label, RuleSpec
from checks.timeutil import to_vn_aware, to_vn_naive

__all__ = ["SPEC", "SyncCheck", "SyncSettings", "is_received", "received_time", "suspect_detail", "suspect_sources"]

CHECK_NAME = "sync"
CATALOG_STATES: tuple[str, ...] = ("in_sync", "missing_national", "missing_provincial", "content_differs")

CATALOG_PROCEDURES = MetricSpec(
    name="tthc_catalog_procedures",
    help="Procedures of the provincial and national catalogs by sync state.",
    labels=("unit", "state"),
)
DOSSIERS_UNSYNCED = MetricSpec(
    name="tthc_dossiers_unsynced",
    help="Received dossiers not on the national portal after the grace period.",
    labels=("unit",),
)
METRICS: tuple[MetricSpec, ...] = (CATALOG_PROCEDURES, DOSSIERS_UNSYNCED)


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sync_grace_minutes: float = Field(default=60.0, ge=0)  # a received dossier must reach the portal by then
    status_lag_minutes: float = Field(default=60.0, ge=0)  # a status change must reach the portal by then
    stale_after_polls: float = Field(default=2.0, gt=0)  # a source is stale after this many poll periods
    ops_unit: str = "VP"  # unit answerable for stale sources (the department's office)


# Compared fields: key -> what a person reads (English msgid); the facts keep the Vietnamese (catalog).
_FIELD_NAMES: dict[str, str] = {
    "name": PROCEDURE_COMPONENT_NAMES["name"],
    "time_limit": PROCEDURE_COMPONENT_NAMES["time_limit"],
    "fee": PROCEDURE_COMPONENT_NAMES["fees"],
    "content_digest": N_("Content (hash)"),
    **{f"has_{c}": PROCEDURE_COMPONENT_NAMES[c] for c in PROCEDURE_COMPONENTS},
}


def field_label(key: str, language: Language) -> str:
    """A compared field in words: "Tên thủ tục", "Thành phần: Phí, lệ phí" / "Component: Fees and charges"."""
    _ = translator(language)
    name = _FIELD_NAMES.get(key)
    if name is None:
        return key
    if key.startswith("has_"):
        return _("Component: {name}").format(name=_(name))
    return _(name)


def field_labels(keys: Sequence[str], language: Language) -> str:
    return "; ".join(field_label(k, language) for k in keys)


_FIELD_LABELS_VI: dict[str, str] = {key: field_label(key, "vi") for key in _FIELD_NAMES}
_TIME_LIMIT_UNITS: dict[str, str] = {
    "working_days": N_("working days"),
    "calendar_days": N_("days"),
    "working_hours": N_("working hours"),
    "months": N_("months"),
}
_TIME_LIMIT_UNIT_VI: dict[str, str] = {k: gettext("vi", m) for k, m in _TIME_LIMIT_UNITS.items()}
_ONLINE_VI = gettext("vi", N_("online"))  # "…; trực tuyến: 8 ngày làm việc"


def _normalised_text(col: str) -> pl.Expr:
    """NFC, lower case, single spaces; null becomes ''."""
    return (
        pl.col(col).str.normalize("NFC").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars().fill_null("")
    )


def _catalog(procedures: pl.DataFrame, catalog: str, suffix: str) -> pl.DataFrame:
    columns = [c for c in procedures.columns if c not in ("catalog", "procedure_code")]
    return (
        procedures.filter(pl.col("catalog") == catalog)
        .with_columns(normalise_procedure_code(pl.col("procedure_code")).alias("procedure_code"))
        .unique("procedure_code", keep="last", maintain_order=True)
        .select(
            "procedure_code",
            pl.lit(True).alias(f"present{suffix}"),
            _normalised_text("procedure_name").alias(f"name_norm{suffix}"),
            _normalised_text("fee_text").alias(f"fee_norm{suffix}"),
            *[pl.col(c).alias(f"{c}{suffix}") for c in columns],
        )
    )


def _differs(field: str) -> pl.Expr:
    """True where the provincial (_p) and national (_n) values of ``field`` differ."""
    if field == "name":
        return pl.col("name_norm_p") != pl.col("name_norm_n")
    if field == "time_limit":  # the general limit, and the limit for dossiers filed online
        return (
            pl.col("time_limit_value_p").ne_missing(pl.col("time_limit_value_n"))
            | pl.col("time_limit_unit_p").ne_missing(pl.col("time_limit_unit_n"))
            | _online_limit_value("_p").ne_missing(_online_limit_value("_n"))
            | _online_limit_unit("_p").ne_missing(_online_limit_unit("_n"))
        )
    if field == "fee":
        return pl.col("has_fee_p").fill_null(False).ne(pl.col("has_fee_n").fill_null(False)) | (
            pl.col("fee_norm_p") != pl.col("fee_norm_n")
        )
    if field == "content_digest":
        both = pl.col("content_digest_p").is_not_null() & pl.col("content_digest_n").is_not_null()
        return both & (pl.col("content_digest_p") != pl.col("content_digest_n"))
    return pl.col(f"{field}_p").fill_null(False) != pl.col(f"{field}_n").fill_null(False)


def _online_limit_value(suffix: str) -> pl.Expr:
    """The limit of a dossier filed online: the online one, else (null: the same) the general one."""
    return pl.coalesce(f"online_time_limit_value{suffix}", f"time_limit_value{suffix}")


def _online_limit_unit(suffix: str) -> pl.Expr:
    general = pl.col(f"time_limit_unit{suffix}")
    online = pl.coalesce(f"online_time_limit_unit{suffix}", general)
    return pl.when(pl.col(f"online_time_limit_value{suffix}").is_not_null()).then(online).otherwise(general)


def _limit_text(value: pl.Expr, unit: pl.Expr) -> pl.Expr:
    unit_vi = unit.replace_strict(_TIME_LIMIT_UNIT_VI, default=unit)
    value = value.cast(pl.Float64)
    # "15 ngày làm việc", "1.5 giờ làm việc": whole numbers without a decimal part
    text = pl.when(value == value.round(0)).then(value.cast(pl.Int64).cast(pl.Utf8)).otherwise(value.round(2).cast(pl.Utf8))
    return pl.format("{} {}", text, unit_vi)


def _time_limit_text(suffix: str) -> pl.Expr:
    """"15 ngày làm việc", plus "; trực tuyến: 8 ngày làm việc" when the online limit differs."""
    value, unit = pl.col(f"time_limit_value{suffix}"), pl.col(f"time_limit_unit{suffix}")
    general = _limit_text(value, unit)
    online_value, online_unit = _online_limit_value(suffix), _online_limit_unit(suffix)
    online_differs = (online_value.ne_missing(value) | online_unit.ne_missing(unit)).fill_null(False)
    online = pl.format("{}; {}: {}", general, pl.lit(_ONLINE_VI), _limit_text(online_value, online_unit))
    return pl.when(online_differs).then(online).otherwise(general)


def compare_catalogs(procedures: pl.DataFrame) -> pl.DataFrame:
    """One row per procedure code of either catalog with ``state``, ``unit`` and ``differing_fields``.

    ``differing_fields`` is a list of field keys (see ``_FIELD_LABELS_VI``), empty unless the state
    is ``content_differs``.
    """
    joined = _catalog(procedures, "provincial", "_p").join(
        _catalog(procedures, "national", "_n"), on="procedure_code", how="full", coalesce=True
    )
    present_p = pl.col("present_p").fill_null(False)
    present_n = pl.col("present_n").fill_null(False)
    fields = list(_FIELD_LABELS_VI)
    differing = pl.concat_list(
        [pl.when(_differs(f).fill_null(False)).then(pl.lit(f)).otherwise(pl.lit(None, pl.Utf8)) for f in fields]
    ).list.drop_nulls()
    both = present_p & present_n
    return joined.with_columns(
        pl.coalesce("unit_p", "unit_n").alias("unit"),
        pl.coalesce("procedure_name_p", "procedure_name_n").alias("procedure_name"),
        pl.when(both).then(differing).otherwise(pl.lit([], pl.List(pl.Utf8))).alias("differing_fields"),
        _time_limit_text("_p").alias("time_limit_provincial"),
        _time_limit_text("_n").alias("time_limit_national"),
    ).with_columns(
        pl.when(~present_n)
        .then(pl.lit("missing_national"))
        .when(~present_p)
        .then(pl.lit("missing_provincial"))
        .when(pl.col("differing_fields").list.len() > 0)
        .then(pl.lit("content_differs"))
        .otherwise(pl.lit("in_sync"))
        .alias("state")
    )


def _catalog_findings(compared: pl.DataFrame, fallback_unit: str) -> list[Finding]:
    problems = compared.filter(pl.col("state") != "in_sync")
    findings: list[Finding] = []
    for row in problems.iter_rows(named=True):
        facts: dict[str, str | int | float | bool | None] = {
            "procedure_code": row["procedure_code"],
            "procedure_name": row["procedure_name"],
        }
        state = row["state"]
        if state == "content_differs":
            keys = row["differing_fields"]
            facts["differing_fields"] = field_labels(keys, "vi")
            facts["differing_field_keys"] = ",".join(keys)
            if "time_limit" in keys:
                facts["time_limit_provincial"] = row["time_limit_provincial"]
                facts["time_limit_national"] = row["time_limit_national"]
            if "fee" in keys:
                facts["fee_provincial"] = row["fee_text_p"]
                facts["fee_national"] = row["fee_text_n"]
        findings.append(
            Finding(
                check=CHECK_NAME,
                rule=f"catalog_{state}",
                subject_kind=SubjectKind.PROCEDURE,
                subject=row["procedure_code"],
                unit=row["unit"] or fallback_unit,
                stage=Stage.OPEN,
                severity=Severity.WARNING,
                facts=facts,
            )
        )
    return findings


# Dossier columns the findings of the dossier rules show (plus the computed ``_received``, ``_sync_due``).
FINDING_COLUMNS: tuple[str, ...] = ("dossier_code", "unit", "procedure_code", "procedure_name", "status")
_RECEIPT_COLUMNS: tuple[str, ...] = ("status", "received_at", "submitted_at")


def _columns(*groups: Sequence[str]) -> list[str]:
    """The union of column names, first occurrence order."""
    return list(dict.fromkeys(c for group in groups for c in group))


def _received_lazy(dossiers: pl.DataFrame, columns: Sequence[str]) -> pl.LazyFrame:
    """Received dossiers (status 2 or more) with ``_received``; only ``columns`` + what the filter reads."""
    return (
        dossiers.lazy()
        .select(_columns(columns, _RECEIPT_COLUMNS))
        .filter(is_received())
        .with_columns(received_time().alias("_received"))
    )


def received_dossiers(dossiers: pl.DataFrame, columns: Sequence[str] = ("unit", "national_synced")) -> pl.DataFrame:
    """Dossiers the unit has received (status 2 or more), with the time of receipt in ``_received``.

    Only ``columns`` (plus status, received_at, submitted_at) are kept: the filter copies the rows
    it keeps, so a narrow selection keeps a large table from being copied whole.
    """
    return _received_lazy(dossiers, columns).collect()


def unsynced_dossiers(dossiers: pl.DataFrame, now_naive: datetime, settings: SyncSettings) -> pl.DataFrame:
    """Received dossiers not on the national portal ``sync_grace_minutes`` after receipt (``_sync_due``).

    Columns: ``FINDING_COLUMNS``, national_synced, received_at, submitted_at, ``_received``, ``_sync_due``.
    """
    grace = timedelta(minutes=settings.sync_grace_minutes)
    return (
        _received_lazy(dossiers, (*FINDING_COLUMNS, "national_synced"))
        .with_columns((pl.col("_received") + grace).alias("_sync_due"))
        .filter(~pl.col("national_synced").fill_null(False) & (pl.col("_sync_due") < now_naive))
        .collect()
    )


def lagging_dossiers(dossiers: pl.DataFrame, now_naive: datetime, settings: SyncSettings) -> pl.DataFrame:
    """Synced dossiers whose national status still differs ``status_lag_minutes`` after the local change.

    Columns: as ``unsynced_dossiers`` plus national_status, updated_at, national_updated_at.
    """
    lag = timedelta(minutes=settings.status_lag_minutes)
    columns = (*FINDING_COLUMNS, "national_synced", "national_status", "updated_at", "national_updated_at")
    return (
        _received_lazy(dossiers, columns)
        .filter(pl.col("national_synced").fill_null(False))
        .with_columns((pl.coalesce("updated_at", "_received") + lag).alias("_sync_due"))
        .filter(
            # a null national status is unknown (the source does not report it), not a lag
            pl.col("national_status").is_not_null()
            & (pl.col("status") != pl.col("national_status"))
            & pl.col("_sync_due").is_not_null()
            & (pl.col("_sync_due") < now_naive)
            # the portal has not caught up with the local change
            & (pl.col("national_updated_at").is_null() | (pl.col("national_updated_at") < pl.col("updated_at")).fill_null(True))
        )
        .collect()
    )


def _dossier_findings(frame: pl.DataFrame, rule: str, now_naive: datetime) -> pl.DataFrame:
    """One finding per row, column-wise (a findings table)."""
    lag = rule == "dossier_status_lag"
    labels = {int(code): label for code, label in DOSSIER_STATUS_VI.items()}

    def label(column: str, missing: pl.Expr) -> pl.Expr:
        return pl.col(column).replace_strict(labels, default=missing, return_dtype=pl.String)

    facts: list[pl.Expr] = [
        pl.col("procedure_code"),
        pl.col("procedure_name"),
        pl.col("_received").dt.strftime("%d/%m/%Y %H:%M").alias("received_at"),
        # int((now - due).total_seconds() // 60): floor of whole minutes
        ((pl.lit(now_naive, dtype=VN_DATETIME) - pl.col("_sync_due")).dt.total_microseconds() // 60_000_000)
        .cast(pl.Int64)
        .alias("minutes_late"),
        pl.col("status"),
        label("status", pl.col("status").cast(pl.String)).fill_null("None").alias("status_label"),  # str(None)
    ]
    if lag:
        facts += [
            pl.col("national_status"),
            label("national_status", pl.lit("")).fill_null("").alias("national_status_label"),
        ]
    hits = frame.select(
        pl.lit(rule).alias("rule"),
        pl.lit(str(SubjectKind.DOSSIER)).alias("subject_kind"),
        pl.col("dossier_code").alias("subject"),
        pl.col("unit"),
        pl.lit(str(Stage.OVERDUE)).alias("stage"),
        pl.lit(str(Severity.WARNING)).alias("severity"),
        pl.col("_sync_due").alias("due_at"),
        *(pl.col(name) for name in ("procedure_code", "procedure_name", "_received", "_sync_due", "status")),
        *([pl.col("national_status")] if lag else []),
    )
    return findings_frame(hits, check=CHECK_NAME, facts=facts)


def stale_sources(sources: list[SourceStatus], now: datetime, settings: SyncSettings) -> list[Finding]:
    """A source with no successful poll within ``stale_after_polls`` periods, or never, is stale."""
    findings: list[Finding] = []
    for source in sources:
        window = timedelta(seconds=source.interval_seconds * settings.stale_after_polls)
        last = source.last_success_at
        if last is not None and now - last <= window:
            continue
        findings.append(
            Finding(
                check=CHECK_NAME,
                rule="source_stale",
                subject_kind=SubjectKind.SOURCE,
                subject=source.name,
                unit=settings.ops_unit,
                stage=Stage.OVERDUE,
                severity=Severity.CRITICAL,
                due_at=to_vn_aware(last + window) if last is not None else None,
                facts={
                    "source": source.name,
                    "table": source.table.value,
                    "never_succeeded": last is None,
                    "last_success_at": to_vn_naive(last).strftime("%d/%m/%Y %H:%M") if last is not None else None,
                    "minutes_since_success": int((now - last).total_seconds() // 60) if last is not None else None,
                    "interval_seconds": source.interval_seconds,
                },
            )
        )
    return findings


def suspect_sources(sources: list[SourceStatus], settings: SyncSettings) -> list[Finding]:
    """A source whose last full snapshot is held back (quarantine): one finding to ops, with the counts.

    The data in force stays the last good snapshot until an operator accepts the new one
    (``tthc-monitor source accept NAME``) or agreeing polls accept it by themselves.
    """
    findings: list[Finding] = []
    for source in sources:
        if not source.suspect:
            continue
        last, new = source.last_good_rows, source.suspect_rows or 0
        share = None if not last else round(new / last, 4)
        findings.append(
            Finding(
                check=CHECK_NAME,
                rule="source_suspect",
                subject_kind=SubjectKind.SOURCE,
                subject=source.name,
                unit=settings.ops_unit,
                stage=Stage.OVERDUE,
                severity=Severity.CRITICAL,
                facts={
                    "source": source.name,
                    "table": source.table.value,
                    "suspect_reason": source.suspect_reason or "row_share",
                    "new_rows": new,
                    "last_good_rows": last,
                    "share": share,
                    "column": source.suspect_column,
                    "suspect_polls": source.suspect_polls,
                    "since": to_vn_naive(source.suspect_since).strftime("%d/%m/%Y %H:%M") if source.suspect_since else None,
                },
            )
        )
    return findings


def _count(value: object, language: Language) -> str:
    """1200 -> "1.200" (Vietnamese) / "1,200"."""
    number = int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
    text = f"{number:,}"
    return text.replace(",", ".") if language == "vi" else text


def _share(value: object, language: Language) -> str:
    share = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return text.replace(".", ",") if language == "vi" else text


def suspect_detail(facts: Mapping[str, object], language: Language) -> str:
    """What a ``source_suspect`` finding says, in ``language``: the counts and that old data stays."""
    _ = translator(language)
    reason = facts.get("suspect_reason")
    last = _count(facts.get("last_good_rows"), language)
    new = _count(facts.get("new_rows"), language)
    source = str(facts.get("source") or "")
    if reason == "required_column_missing":
        text = _("the required column {column} is missing ({new} rows loaded, {last} last time)").format(
            column=str(facts.get("column") or "?"), new=new, last=last)
    elif reason == "empty":
        text = _("returned no rows, {last} last time").format(last=last)
    else:
        text = _("returned {new} rows, only {share} of the {last} rows last time").format(
            new=new, share=_share(facts.get("share"), language), last=last)
    kept = _("the previous data stays in use until confirmed (tthc-monitor source accept {source})").format(
        source=source)
    return f"{text}; {kept}"


def _catalog_samples(compared: pl.DataFrame, units: list[str]) -> list[MetricSample]:
    grouped = compared.group_by("unit", "state").len()
    counts = {(u, s): n for u, s, n in grouped.iter_rows()}
    return [CATALOG_PROCEDURES.sample(counts.get((u, s), 0), unit=u, state=s) for u in units for s in CATALOG_STATES]


class CatalogFacts(Facts):
    procedure_code: str
    procedure_name: str | None


class CatalogDiffFacts(Facts):
    procedure_code: str
    procedure_name: str | None
    differing_fields: str  # Vietnamese labels, "; "
    differing_field_keys: str
    time_limit_provincial: str | None = None  # only when the time limit differs
    time_limit_national: str | None = None
    fee_provincial: str | None = None  # only when the fee differs
    fee_national: str | None = None


class UnsyncedFacts(Facts):
    procedure_code: str | None
    procedure_name: str | None
    received_at: str | None
    minutes_late: int
    status: int | None
    status_label: str


class StatusLagFacts(UnsyncedFacts):
    national_status: int | None
    national_status_label: str


class SourceSuspectFacts(Facts):
    source: str
    table: str
    suspect_reason: str  # required_column_missing | empty | row_share
    new_rows: int
    last_good_rows: int | None
    share: float | None  # new_rows / last_good_rows
    column: str | None  # the missing required column (the export's header)
    suspect_polls: int  # agreeing suspect polls in a row
    since: str | None


class SourceStaleFacts(Facts):
    source: str
    table: str
    never_succeeded: bool
    last_success_at: str | None
    minutes_since_success: int | None
    interval_seconds: float


SPEC = CheckSpec(
    name=CHECK_NAME,
    label=Label(N_("Data sync")),
    summary=Label(N_("Provincial vs national catalog, dossiers on the national portal, fresh data sources")),
    module="checks/sync.py",
    reads=frozenset({TableName.DOSSIERS, TableName.PROCEDURES}),
    settings=SyncSettings,
    kpis=(
        KpiSpec(name="dossier_synced", plan_order=2, target=1.0,
                label=Label(N_("Dossiers synced to the national portal"))),
        KpiSpec(name="catalog_synced", plan_order=3, target=1.0,
                label=Label(N_("Provincial procedures in sync with the national database"))),
    ),
    rules=(
        RuleSpec(name="catalog_missing_national", label=Label(N_("Missing in the national database")), severity=Severity.WARNING, stage=Stage.OPEN, facts=CatalogFacts),
        RuleSpec(name="catalog_missing_provincial", label=Label(N_("Missing in the provincial system")), severity=Severity.WARNING, stage=Stage.OPEN, facts=CatalogFacts),
        RuleSpec(name="catalog_content_differs", label=Label(N_("Content differs between catalogs")), severity=Severity.WARNING, stage=Stage.OPEN,
                 facts=CatalogDiffFacts,
                 optional_facts=frozenset({"time_limit_provincial", "time_limit_national", "fee_provincial", "fee_national"})),
        RuleSpec(name="dossier_unsynced", label=Label(N_("Not synced to the national portal")), severity=Severity.WARNING, stage=Stage.OVERDUE,
                 facts=UnsyncedFacts),
        RuleSpec(name="dossier_status_lag", label=Label(N_("Status on the national portal lags")), severity=Severity.WARNING, stage=Stage.OVERDUE,
                 facts=StatusLagFacts),
        RuleSpec(name="source_stale", label=Label(N_("Data source stale")),
                 severity=Severity.CRITICAL, stage=Stage.OVERDUE, facts=SourceStaleFacts),
        RuleSpec(name="source_suspect", label=Label(N_("Data source suspect: previous data kept")),
                 severity=Severity.CRITICAL, stage=Stage.OVERDUE, facts=SourceSuspectFacts),
    ),
    metrics=METRICS,
)


class SyncCheck(BaseCheck[SyncSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, cfg: SyncSettings) -> CheckResult:
        now, now_naive, tables = context.now, context.now_naive, context.tables
        compared = compare_catalogs(tables.procedures)
        dossiers = tables.dossiers
        units = context.units(compared["unit"], dossiers["unit"])

        kpis: list[KpiValue] = ratio_kpis(
            compared,
            kpi="catalog_synced",
            numerator=pl.col("state") == "in_sync",
            denominator=pl.lit(True),
            units=units,
            now_naive=now_naive,
            time_col=None,
        )
        kpis += ratio_kpis(
            dossiers.with_columns(received_time().alias("_received")),  # no filtered copy: "received" is a mask
            kpi="dossier_synced",
            numerator=pl.col("national_synced"),
            denominator=is_received(),
            units=units,
            now_naive=now_naive,
            time_col="_received",
        )

        unsynced = unsynced_dossiers(dossiers, now_naive, cfg)
        lagging = lagging_dossiers(dossiers, now_naive, cfg)
        table = concat_findings([
            findings_table(_catalog_findings(compared, cfg.ops_unit)),
            _dossier_findings(unsynced, "dossier_unsynced", now_naive),
            _dossier_findings(lagging, "dossier_status_lag", now_naive),
            findings_table(stale_sources(tables.sources, now, cfg) + suspect_sources(tables.sources, cfg)),
        ])

        unsynced_counts = dict(unsynced.group_by("unit").len().iter_rows())
        samples = _catalog_samples(compared, units) + [
            DOSSIERS_UNSYNCED.sample(unsynced_counts.get(u, 0), unit=u) for u in units
        ]
        return CheckResult(check=CHECK_NAME, kpis=kpis, table=table, samples=samples)
