"""Settings for running the monitor against the demo portal and its export files."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from checks.contracts import Unit
from checks.schema import TableName
from monitor.demo.layout import (
    CATALOG_COLUMNS,
    FEEDBACK_COLUMNS,
    FEEDBACK_FILE,
    LIMIT_UNIT_WORDS,
    NATIONAL_CATALOG_FILE,
    ONLINE_LEVEL_WORDS,
    PLAN_COLUMNS,
    PLAN_TRACKER_FILE,
    PROVINCIAL_CATALOG_FILE,
)
from monitor.demo.server import DEMO_TOKEN
from monitor.demo.units import UNIT_PROFILES
from monitor.logging_setup import DEMO_LOG_FORMAT, DEMO_LOG_LEVEL
from monitor.settings import LogSettings, Settings, StateSettings
from monitor.sources.config import (
    HttpJsonSourceSettings,
    MappingSettings,
    SourceSettings,
    TabularSourceSettings,
)

DEMO_EMAIL_DOMAIN = "example.invalid"
CATALOG_VALUE_MAPS: dict[str, dict[str, str | int | float | bool]] = {
    "time_limit_unit": {word: unit for unit, word in LIMIT_UNIT_WORDS.items()},
    "online_level": {word: level for level, word in ONLINE_LEVEL_WORDS.items()},
}


def demo_units() -> list[Unit]:
    """The plan's seven units with demo contacts (never real addresses)."""
    return [
        Unit(
            code=profile.code,
            name=profile.name,
            aliases=list(profile.aliases),
            emails=[f"{profile.code.lower()}@{DEMO_EMAIL_DOMAIN}"],
            zalo_user_ids=[f"demo-zalo-{profile.code.lower()}"],
            escalate_to=None if profile.code == "VP" else "VP",
            handles_dossiers=profile.handles_dossiers,
        )
        for profile in UNIT_PROFILES
    ]


def demo_sources(portal_url: str, data_dir: Path) -> list[SourceSettings]:
    base = portal_url.rstrip("/")
    return [
        HttpJsonSourceSettings(
            name="dvcqg_dossiers",
            table=TableName.DOSSIERS,
            url=f"{base}/api/v1/dossiers",
            token=SecretStr(DEMO_TOKEN),
            interval_seconds=60.0,
            updated_since_param="updatedSince",
            page_workers=4,  # the simulator's limits are ours; a real portal's: see docs/SOURCES.md
            mapping=MappingSettings(preset="dvcqg_dossier"),
        ),
        TabularSourceSettings(
            name="catalog_provincial",
            table=TableName.PROCEDURES,
            path=str(data_dir / PROVINCIAL_CATALOG_FILE),
            format="xlsx",
            mapping=MappingSettings(
                columns={spec.provincial: spec.field for spec in CATALOG_COLUMNS},
                values=CATALOG_VALUE_MAPS,
                constants={"catalog": "provincial"},
            ),
        ),
        TabularSourceSettings(
            name="catalog_national",
            table=TableName.PROCEDURES,
            url=f"{base}/files/{NATIONAL_CATALOG_FILE}",
            format="csv",
            mapping=MappingSettings(
                columns={spec.national: spec.field for spec in CATALOG_COLUMNS},
                values=CATALOG_VALUE_MAPS,
                constants={"catalog": "national"},
            ),
        ),
        TabularSourceSettings(
            name="feedback",
            table=TableName.FEEDBACK,
            path=str(data_dir / FEEDBACK_FILE),
            format="xlsx",
            mapping=MappingSettings(columns=dict(FEEDBACK_COLUMNS)),
        ),
        TabularSourceSettings(
            name="plan_tracker",
            table=TableName.PLAN_TASKS,
            path=str(data_dir / PLAN_TRACKER_FILE),
            format="csv",
            mapping=MappingSettings(columns=dict(PLAN_COLUMNS)),
        ),
    ]


def demo_settings(portal_url: str, data_dir: Path, state_dir: Path) -> Settings:
    """Settings that point every source at the demo portal (``portal_url``) and its files (``data_dir``)."""
    return Settings(
        units=demo_units(),
        sources=demo_sources(portal_url, data_dir),
        log=LogSettings(format=DEMO_LOG_FORMAT, level=DEMO_LOG_LEVEL),
        state=StateSettings(url=f"sqlite:///{state_dir / 'state.db'}", data_dir=state_dir / "snapshots"),
    )
