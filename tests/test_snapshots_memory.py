"""The in-memory snapshot store of ``check`` (state thrown away: nothing written to disk)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from checks.timeutil import VN_TZ
from monitor.runtime import check_once
from monitor.settings import load_settings
from monitor.store.snapshots import MemorySnapshotStore, SnapshotStore


def test_memory_store_names_loads_and_prunes_as_the_file_store_does(tmp_path: Path) -> None:
    memory, files = MemorySnapshotStore(tmp_path / "m", keep=2), SnapshotStore(tmp_path / "f", keep=2)
    frames = [pl.DataFrame({"dossier_code": [str(i)]}) for i in range(4)]
    saved = [memory.save("ho_so", frame, prune=False) for frame in frames]
    written = [files.save("ho_so", frame, prune=False) for frame in frames]
    assert [p.name[:10] for p in saved] == [p.name[:10] for p in written] == [f"{i:010d}" for i in range(1, 5)]
    assert [p.parent.name for p in saved] == ["ho_so"] * 4
    assert all(memory.load(path) is frame for path, frame in zip(saved, frames, strict=True))  # no copy
    assert memory.latest("ho_so") == saved[-1] and memory.snapshots("other") == []

    assert memory.prune("ho_so", pinned=[saved[0]]) == [saved[1]]  # the pinned oldest stays
    assert files.prune("ho_so", pinned=[written[0]]) == [written[1]]
    assert memory.snapshots("ho_so") == [saved[0], saved[2], saved[3]]
    with pytest.raises(FileNotFoundError):
        memory.load(saved[1])
    memory.save("ho_so", frames[0])  # prune=True: back to two (nothing pinned)
    assert len(memory.snapshots("ho_so")) == 2
    assert not (tmp_path / "m").exists()  # not even a folder


def test_check_polls_and_checks_without_writing_a_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export = tmp_path / "ho_so.csv"
    export.write_text(
        "Mã hồ sơ,Tên thủ tục,Ngày tiếp nhận,Ngày hẹn trả,Trạng thái,Đơn vị xử lý\n"
        "H48-0001,Cấp giấy phép A,10/11/2026 08:00,13/11/2026 17:00,Đang xử lý,QLKH\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
units:
  - {{code: QLKH, name: "Phòng Quản lý Khoa học", emails: [qlkh@example.invalid]}}
sources:
  - name: ho_so
    kind: tabular
    table: dossiers
    path: {export}
    mapping:
      columns: {{"Mã hồ sơ": dossier_code, "Tên thủ tục": procedure_name, "Ngày tiếp nhận": received_at,
                 "Ngày hẹn trả": due_at, "Trạng thái": status, "Đơn vị xử lý": unit}}
      values:
        status: {{"Đang xử lý": 4}}
""",
        encoding="utf-8",
    )
    written: list[object] = []
    monkeypatch.setattr(pl.DataFrame, "write_parquet", lambda self, *a, **k: written.append(a))
    outcome = check_once(config, load_settings(config), datetime(2026, 11, 20, 10, 0, tzinfo=VN_TZ))
    assert written == []
    assert [s.rows for s in outcome.report.sources] == [1]
    overdue = outcome.report.table.filter(pl.col("rule") == "dossier_overdue")
    assert overdue.get_column("subject").to_list() == ["H48-0001"]
