"""Settings: YAML plus TTHC_MONITOR_* overrides; a wrong key names itself and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from monitor.settings import Settings, SettingsError, load_settings


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


# --------------------------------------------------------------------------- language: one key, at the root


def test_language_at_the_root_reaches_the_alerts(tmp_path: Path) -> None:
    with capture_logs() as logs:
        settings = load_settings(_write(tmp_path, "language: en\n"))
    assert (settings.language, settings.alerts.language) == ("en", "en")
    assert not [entry for entry in logs if entry["event"] == "deprecated_setting"]


def test_alerts_language_still_works_and_names_its_new_spelling(tmp_path: Path) -> None:
    with capture_logs() as logs:
        settings = load_settings(_write(tmp_path, "alerts:\n  language: en\n"))
    assert (settings.language, settings.alerts.language) == ("en", "en")
    (warning,) = [entry for entry in logs if entry["event"] == "deprecated_setting"]
    assert (warning["key"], warning["replaced_by"], warning["log_level"]) == ("alerts.language", "language", "warning")


def test_the_root_language_wins_over_the_old_spelling(tmp_path: Path) -> None:
    with capture_logs() as logs:
        settings = load_settings(_write(tmp_path, "language: vi\nalerts:\n  language: en\n"))
    assert (settings.language, settings.alerts.language) == ("vi", "vi")
    assert [entry["replaced_by"] for entry in logs if entry["event"] == "deprecated_setting"] == ["language"]


def test_a_wrong_language_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"language: Input should be 'vi' or 'en'"):
        load_settings(_write(tmp_path, "language: fr\n"))
    with pytest.raises(SettingsError, match=r"  - language: Input should be 'vi' or 'en'"):
        load_settings(_write(tmp_path, "alerts: {language: fr}\n"))


@pytest.mark.parametrize("text", ["language: vi\n", "alerts: {language: vi}\n"])
def test_the_environment_wins_over_either_spelling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  text: str) -> None:
    monkeypatch.setenv("TTHC_MONITOR_LANGUAGE", "en")
    settings = load_settings(_write(tmp_path, text))
    assert (settings.language, settings.alerts.language) == ("en", "en")


def test_an_override_wins_over_the_environment_and_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTHC_MONITOR_METRICS__PORT", "9200")
    path = _write(tmp_path, "metrics: {port: 9100}\nlog: {level: ERROR}\n")
    settings = load_settings(path, metrics={"port": 9300})
    assert (settings.metrics.port, settings.log.level) == (9300, "ERROR")


def test_loads_do_not_leak_their_file_into_each_other(tmp_path: Path) -> None:
    first = load_settings(_write(tmp_path, "metrics: {port: 9100}\n"))
    assert first.metrics.port == 9100
    assert load_settings(None).metrics.port == 9708  # no file: the defaults, not the last file read
    assert Settings().metrics.port == 9708
    assert type(first) is Settings and first == Settings(metrics={"port": 9100})


def test_a_settings_error_names_the_key_and_never_the_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, """
metrics: {port: "p4ss-in-the-wrong-key"}
alerts:
  channels:
    email: {host: smtp.example.invalid, password: "S3cret-SMTP-pass", port: "S3cret-as-port"}
""")
    monkeypatch.setenv("TTHC_MONITOR_LOG__LEVEL", "Zalo-Secret-999")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    text = str(caught.value)
    assert "metrics.port" in text and "log.level" in text and "email" in text
    for secret in ("p4ss-in-the-wrong-key", "S3cret-SMTP-pass", "S3cret-as-port", "Zalo-Secret-999"):
        assert secret not in text
