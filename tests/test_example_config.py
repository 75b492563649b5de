"""The shipped example configuration loads: it is documentation that must not rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.settings import load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "config.example.yaml"


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTHC_MONITOR_ALERTS__CHANNELS__EMAIL__PASSWORD", "from-the-environment")
    settings = load_settings(EXAMPLE)
    assert [u.code for u in settings.units] == ["VP", "QLKH", "QLCN", "TDC", "BCVT", "CDS", "BPMC"]
    assert {s.name for s in settings.sources} == {"dvcqg_dossiers", "igate_report", "catalog_national", "plan_tracker"}
    email = settings.alerts.channels.email
    assert email is not None and email.password is not None
    assert email.password.get_secret_value() == "from-the-environment"
    assert settings.unit_codes() == ["QLKH", "QLCN", "TDC", "BCVT", "CDS"]


def test_example_config_of_the_old_spelling_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written before ``language`` moved to the root (``alerts: {language: …}``) keep working."""
    monkeypatch.setenv("TTHC_MONITOR_ALERTS__CHANNELS__EMAIL__PASSWORD", "from-the-environment")
    text = EXAMPLE.read_text(encoding="utf-8")
    old = tmp_path / "old.yaml"
    old.write_text(text.replace("\nlanguage: vi", "\n# language: vi").replace("\nalerts:\n", "\nalerts:\n  language: en\n"),
                   encoding="utf-8")
    settings = load_settings(old)
    assert (settings.language, settings.alerts.language) == ("en", "en")
    assert settings.units == load_settings(EXAMPLE).units
