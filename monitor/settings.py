"""Daemon settings: a YAML file plus TTHC_MONITOR_* environment variables (which win)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from alerts.settings import AlertsSettings, Language
from checks.calendar import CalendarSettings
from checks.contracts import Unit
from checks.redaction import register_settings_secrets
from checks.rulebook import RuleBook, RuleBookError
from checks.settings import ChecksSettings
from monitor.sources.config import SourceSettings

log = structlog.get_logger(__name__)


class StateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = "sqlite:///tthc-state/state.db"  # SQLAlchemy URL: sqlite:///… or postgresql+psycopg://…
    data_dir: Path = Path("tthc-state")  # last good snapshots of each source (Parquet)
    # SQLite only: how long a write waits for another connection's lock before "database is locked"
    busy_timeout_seconds: float = Field(default=30.0, ge=0, le=600)


class MetricsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Address of /metrics and /healthz. Loopback by default; anything else needs web_config_file
    # (TLS) or allow_insecure (docs/ENDPOINT.md).
    host: str = "127.0.0.1"
    port: int = Field(default=9708, ge=0, le=65535)
    # A web configuration file in Prometheus exporter-toolkit's format: tls_server_config (HTTPS,
    # mutual TLS), http_server_config.headers, basic_auth_users (bcrypt). Re-read when it changes.
    web_config_file: Path | None = None
    # Serve plain HTTP beyond loopback anyway (a trusted network, or a TLS proxy in front): the
    # start-up then logs metrics_exposed_without_tls. Off: such a host is refused.
    allow_insecure: bool = False

    @model_validator(mode="after")
    def _not_exposed_in_clear(self) -> MetricsSettings:
        from monitor.web_config import exposure_problem

        problem = exposure_problem(self.host, self.web_config_file, self.allow_insecure)
        if problem is not None:
            raise ValueError(problem)
        return self


class ScheduleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cycle_interval_seconds: float = Field(default=60.0, gt=0)  # run every check over the current tables
    dispatch_interval_seconds: float = Field(default=15.0, gt=0)  # deliver due notifications from the outbox
    demo_tick_seconds: float = Field(default=30.0, gt=0)  # demo only: how often the simulated portal moves
    # source polls running at once, off the job loop (the cycle and the dispatcher never wait for them)
    poll_workers: int = Field(default=4, ge=1, le=64)
    # a poll still running this long past its source's poll_deadline_seconds is reported failed
    poll_overrun_grace_seconds: float = Field(default=60.0, ge=0)


class HaSettings(BaseModel):
    """Several instances on one state store (PostgreSQL): a leader lease decides which runs the cycle."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True  # take the leader lease in the state store before running the cycle; false: always run it
    instance_name: str | None = Field(default=None, min_length=1, max_length=100)  # in metrics, logs, health; default: host name
    lease_seconds: float | None = Field(default=None, gt=0)  # lease lifetime; default 1.5 x schedule.cycle_interval_seconds
    renew_seconds: float | None = Field(default=None, gt=0)  # how often to renew (or try to take) it; default lease / 10

    def timing(self, cycle_interval_seconds: float) -> tuple[float, float]:
        """(lease, renew) seconds: the configured values or the defaults derived from the cycle interval."""
        lease = self.lease_seconds if self.lease_seconds is not None else 1.5 * cycle_interval_seconds
        renew = self.renew_seconds if self.renew_seconds is not None else lease / 10
        return lease, renew


class LogSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["json", "console"] = "json"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(BaseSettings):
    """Everything the daemon needs. Load with :func:`load_settings`.

    Sources, highest first: keyword arguments, TTHC_MONITOR_* environment variables, then the YAML
    file named by ``model_config["yaml_file"]`` (none on this class: :func:`load_settings` names the
    file on a subclass made for that one load).
    """

    model_config = SettingsConfigDict(
        env_prefix="TTHC_MONITOR_", env_nested_delimiter="__", extra="forbid", yaml_file_encoding="utf-8"
    )

    # The one language of everything a person reads (messages, reports, calendar output); the
    # alerts part receives it (``alerts.language`` is the deprecated spelling).
    language: Language = "vi"
    department: str = "Sở Khoa học và Công nghệ"
    state: StateSettings = Field(default_factory=StateSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    ha: HaSettings = Field(default_factory=HaSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    units: list[Unit] = Field(default_factory=list)
    sources: list[SourceSettings] = Field(default_factory=list)
    checks: ChecksSettings = Field(default_factory=ChecksSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)

    def unit_codes(self) -> list[str]:
        """Units whose dossiers and procedures the checks report on."""
        return [unit.code for unit in self.units if unit.handles_dossiers]

    @model_validator(mode="before")
    @classmethod
    def _language_at_the_root(cls, data: Any) -> Any:
        """``alerts.language`` (deprecated) still works: it becomes ``language`` unless that is given."""
        if not isinstance(data, dict):
            return data
        given = data.get("alerts")
        if isinstance(given, AlertsSettings) and "language" in given.model_fields_set and "language" not in data:
            return {**data, "language": given.language}  # built in code: the alerts part's own choice
        if not isinstance(given, dict) or "language" not in given:
            return data
        alerts = dict(data["alerts"])
        old = alerts.pop("language")
        data = {**data, "alerts": alerts}
        if "language" in data:
            log.warning("deprecated_setting", key="alerts.language", replaced_by="language",
                        detail="ignored: language is set" if data["language"] != old else "same value as language")
        else:
            log.warning("deprecated_setting", key="alerts.language", replaced_by="language")
            data["language"] = old
        return data

    @model_validator(mode="after")
    def _alerts_speak_the_language(self) -> Settings:
        if self.alerts.language != self.language:
            self.alerts = self.alerts.model_copy(update={"language": self.language})
        return self

    @model_validator(mode="after")
    def _rules_fit_the_settings(self) -> Settings:
        """``checks.rules`` variants name real settings with values they accept, without overlaps."""
        try:
            RuleBook.load(self.checks, self.checks.rules)
        except RuleBookError as error:
            raise ValueError(f"checks.rules: {error}") from error
        return self

    @model_validator(mode="after")
    def _lease_renewed_in_time(self) -> Settings:
        lease, renew = self.ha.timing(self.schedule.cycle_interval_seconds)
        if renew >= lease:
            raise ValueError("ha.renew_seconds must be shorter than ha.lease_seconds (renew several times per lease)")
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        for what, names in (("sources", [s.name for s in self.sources]), ("units", [u.code for u in self.units])):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what}: duplicate names {dupes}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls)


def _reading(path: Path) -> type[Settings]:
    """:class:`Settings` whose YAML source is ``path``: a subclass per load, so no load leaks its file
    into another (pydantic-settings reads ``yaml_file`` from the class's ``model_config``)."""

    class SettingsFromFile(Settings):
        model_config = SettingsConfigDict(yaml_file=path)

    return SettingsFromFile


class SettingsError(Exception):
    """A configuration problem, worded for the operator: which key, what is allowed."""


def format_validation_error(error: ValidationError, origin: str) -> str:
    """One line per problem: the key and what is wrong with it, never the value given."""
    lines = [f"invalid configuration in {origin}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        ctx = item.get("ctx") or {}
        if "expected" in ctx:
            message += f" (allowed: {ctx['expected']})"
        lines.append(f"  - {key}: {message}")  # never the value given: it may be a password or a token
    return "\n".join(lines)


def load_settings(path: Path | None, **overrides: Any) -> Settings:
    """Read ``path`` (YAML) with TTHC_MONITOR_* env overrides; raise SettingsError with a clear text."""
    if path is not None and not path.is_file():
        raise SettingsError(f"configuration file not found: {path}")
    try:
        if path is None:
            return Settings(**overrides)
        loaded = _reading(path)(**overrides)
    except ValidationError as error:
        raise SettingsError(format_validation_error(error, str(path or "environment"))) from error
    # Hand back a plain Settings (equal to one built in code); every value is validated already.
    settings = Settings.model_construct(_fields_set=loaded.model_fields_set, **dict(loaded))
    register_settings_secrets(settings)  # from now on their values are masked in logs and errors
    problem = token_key_problem(settings)
    if problem is not None:
        raise SettingsError(f"invalid configuration in {path or 'environment'}:\n  - {problem}")
    return settings


def with_listen(settings: Settings, listen: str | None) -> Settings:
    """Apply --listen HOST:PORT to the metrics settings."""
    if not listen:
        return settings
    host, _, port = listen.rpartition(":")
    metrics = settings.metrics.model_copy(update={"host": host.strip("[]") or "127.0.0.1", "port": int(port)})
    return settings.model_copy(update={"metrics": metrics})


def token_key_problem(settings: Settings) -> str | None:
    """Why the Zalo channel cannot keep its tokens (encrypted at rest), or None: a configured Zalo
    channel needs a valid TTHC_MONITOR_TOKEN_KEY in the environment (never the YAML file)."""
    from alerts.channels import channel_names

    if "zalo" not in channel_names(settings.alerts.channels):
        return None
    from alerts.channels.token_crypto import TokenCipher, TokenKeyError

    try:
        TokenCipher.from_env()
    except TokenKeyError as error:
        return f"alerts.channels.zalo: {error}"
    return None
