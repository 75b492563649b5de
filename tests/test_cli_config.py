"""Every command takes ``--config`` where it is typed, after its command words (``silence add
--config x.yaml`` used to fail with "unrecognized arguments")."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import build_cli, main

pytestmark = pytest.mark.usefixtures("restore_logging")


def test_every_leaf_command_has_a_config_option() -> None:
    leaves = [command.parser for command in build_cli().commands]
    assert len(leaves) >= 15
    assert all(any(action.dest == "config" for action in leaf._actions) for leaf in leaves)


def test_silence_add_and_list_with_config_after_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"state:\n  url: sqlite:///{tmp_path / 'state.db'}\n  data_dir: {tmp_path / 'snapshots'}\n"
                      "units:\n  - {code: QLKH, name: Phòng Quản lý Khoa học}\n", encoding="utf-8")
    assert main(["silence", "add", "--config", str(config), "--match", "unit=QLKH", "--until", "2099-01-01T00:00",
                 "--reason", "bảo trì", "--author", "ops"]) == 0
    assert main(["silence", "list", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Đã tạo silence #1" in out and "bảo trì" in out
    assert main(["outbox", "list", "--config", str(config)]) == 0
    assert main(["calendar", "due", "--config", str(config), "--from", "2026-02-12T09:00", "--working-days", "3"]) == 0
    assert "2026-02-24T17:00:00+07:00" in capsys.readouterr().out
