"""Fixtures of the fault-injection suite (see README.md in this folder) and its summary lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.ledger import SUMMARIES
from tests.resilience.rig import Rig, make_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """A daemon on SQLite with e-mail, Zalo and a webhook, its first notifications delivered."""
    with make_rig(tmp_path / "rig") as running:
        running.wait_all_delivered(timeout=60)
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per fault test: faults injected, messages expected / delivered / lost / duplicated / spurious."""
    if SUMMARIES:
        terminalreporter.section("resilience ledger")
        for line in SUMMARIES:
            terminalreporter.write_line(line)
