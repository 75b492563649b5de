"""Settings: YAML plus TTHC_MONITOR_* overrides; a wrong key names itself and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.settings import SettingsError, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_with_env_override_and_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(
        tmp_path,
        """
metrics: {host: 127.0.0.1, port: 9100}
units:
  - {code: QLKH, name: Phòng Quản lý Khoa học, emails: [qlkh@example.invalid]}
sources:
  - name: catalog
    kind: tabular
    table: procedures
    path: /data/thu_tuc.xlsx
    headers: {Authorization: Bearer abc}
    mapping:
      columns: {"Mã thủ tục": procedure_code, "Tên thủ tục": procedure_name}
      constants: {catalog: provincial}
""",
    )
    monkeypatch.setenv("TTHC_MONITOR_METRICS__PORT", "9200")
    settings = load_settings(path)
    assert settings.metrics.port == 9200  # environment wins over the file
    assert settings.units[0].name == "Phòng Quản lý Khoa học"
    source = settings.sources[0]
    assert source.headers["Authorization"].get_secret_value() == "Bearer abc"
    assert "Bearer abc" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("metrics: {port: 99999}", "metrics.port"),
        ("log: {format: xml}", "log.format"),
        ("unknown_key: 1", "unknown_key"),
        (
            "sources: [{name: a, kind: tabular, table: dossiers, path: x.csv, mapping: {columns: {A: nope}}}]",
            "'nope' is not a field of table dossiers",
        ),
        ("sources: [{name: a, kind: ftp, table: dossiers}]", "sources.0"),
        ("calendar: {working_hours: [['11:00', '08:00']]}", "calendar.working_hours"),
    ],
)
def test_wrong_setting_names_the_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_write(tmp_path, text))
    assert needle in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "absent.yaml")
