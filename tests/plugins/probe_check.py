"""A check that lives only in the tests: registered through an entry point, it must show up
everywhere a built-in check does (settings, /metrics, findings, alerts, reports) with no other file
touched. It flags every unit with received dossiers."""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from checks.common import ratio_kpis
from checks.context import BaseCheck, CycleContext
from checks.contracts import CheckResult, Finding, MetricSpec, Severity, Stage, SubjectKind
from checks.spec import CheckSpec, Facts, KpiSpec, Label, RuleSpec

NAME = "probe"
RULE_LABEL = Label(vi="Đơn vị được kiểm tra thử", en="Unit probed")
KPI_LABEL = Label(vi="Tỷ lệ hồ sơ đã tiếp nhận (thử nghiệm)", en="Received dossiers (probe)")

PROBE_DOSSIERS = MetricSpec(name="tthc_probe_dossiers", help="Received dossiers per unit (probe check).",
                            labels=("unit",))


class ProbeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_dossiers: int = Field(default=1, ge=0)  # a unit with at least this many received dossiers is flagged


class ProbeFacts(Facts):
    dossier_count: int
    min_dossiers: int


SPEC = CheckSpec(
    name=NAME,
    label=Label(vi="Kiểm tra thử", en="Probe"),
    summary=Label(vi="Kiểm tra thử nghiệm từ gói cài thêm", en="A check from a plug-in distribution"),
    module="tests/plugins/probe_check.py",
    settings=ProbeSettings,
    kpis=(KpiSpec(name="probe_received", target=0.9, label=KPI_LABEL),),
    rules=(RuleSpec(name="probe_flagged", label=RULE_LABEL, severity=Severity.WARNING, stage=Stage.OPEN,
                    facts=ProbeFacts),),
    metrics=(PROBE_DOSSIERS,),
)


class ProbeCheck(BaseCheck[ProbeSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, settings: ProbeSettings) -> CheckResult:
        dossiers = context.tables.dossiers
        units = context.units(dossiers["unit"])
        received = (pl.col("status") >= 2).fill_null(False)
        counts = dict(dossiers.filter(received).group_by("unit").len().iter_rows())
        findings = [
            Finding(check=NAME, rule="probe_flagged", subject_kind=SubjectKind.UNIT, subject=f"{unit}/probe", unit=unit,
                    stage=Stage.OPEN, severity=Severity.WARNING,
                    facts={"dossier_count": int(counts[unit]), "min_dossiers": settings.min_dossiers})
            for unit in units
            if counts.get(unit, 0) >= max(settings.min_dossiers, 1)
        ]
        kpis = ratio_kpis(dossiers, kpi="probe_received", numerator=received, denominator=pl.lit(True), units=units,
                          now_naive=context.now_naive, time_col="submitted_at")
        samples = [PROBE_DOSSIERS.sample(counts.get(unit, 0), unit=unit) for unit in units]
        return CheckResult(check=NAME, kpis=kpis, findings=findings, samples=samples)
