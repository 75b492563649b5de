"""A check that can hold the cycle in the middle (tests/test_two_instances.py), registered through an
entry point like any plug-in. With ``TTHC_TEST_GATE_DIR`` set, each run first writes
``entered-<n>`` there, then waits while ``hold`` exists (at most a minute). No findings, no KPIs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from checks.context import BaseCheck, CycleContext
from checks.contracts import CheckResult
from checks.spec import CheckSpec, Label

NAME = "gate"


class GateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")


SPEC = CheckSpec(
    name=NAME,
    label=Label(vi="Cửa chặn chu kỳ (thử nghiệm)", en="Cycle gate (test)"),
    summary=Label(vi="Giữ chu kỳ lại giữa chừng khi kiểm thử", en="Holds the cycle in the middle, for tests"),
    module="tests/plugins/gate_check.py",
    settings=GateSettings,
)


class GateCheck(BaseCheck[GateSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, settings: GateSettings) -> CheckResult:
        folder = os.environ.get("TTHC_TEST_GATE_DIR")
        if folder:
            gate = Path(folder)
            (gate / f"entered-{len(list(gate.glob('entered-*')))}").touch()
            deadline = time.monotonic() + 60
            while (gate / "hold").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        return CheckResult(check=NAME, kpis=[], findings=[], samples=[])
