"""Settings of the alert channels: one pydantic model per channel, composed in ChannelsSettings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class EmailChannelSettings(BaseModel):
    """SMTP delivery. ``security``: "starttls" (port 587), "tls" (implicit, port 465) or "none"."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender_address: str = "tthc-monitor@localhost"
    sender_name: str = "Hệ thống giám sát thủ tục hành chính"
    timeout_seconds: float = Field(default=30.0, gt=0)
    ca_file: Path | None = None  # extra CA bundle for a private SMTP server certificate

    @model_validator(mode="after")
    def _auth_pairs(self) -> EmailChannelSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be given together")
        return self


class ZaloChannelSettings(BaseModel):
    """Zalo Official Account (DOMAIN.md §8). ``refresh_token`` only seeds the token store."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    app_id: str
    app_secret: SecretStr
    refresh_token: SecretStr | None = None
    oauth_url: str = "https://oauth.zaloapp.com/v4/oa/access_token"
    openapi_base: str = "https://openapi.zalo.me"
    business_base: str = "https://business.openapi.zalo.me"
    template_id: str | None = None  # ZNS template for messages by phone number
    refresh_margin_seconds: float = Field(default=3600.0, ge=0)
    refresh_token_lifetime_days: float = Field(default=90.0, gt=0)  # Zalo: about 3 months
    timeout_seconds: float = Field(default=15.0, gt=0)

    @field_validator("openapi_base", "business_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class WebhookChannelSettings(BaseModel):
    """A JSON POST signed with HMAC-SHA256 in ``X-TTHC-Signature: sha256=<hex>``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    url: str
    secret: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)


class AlertmanagerSettings(BaseModel):
    """Push open findings to an Alertmanager (``{url}/api/v2/alerts``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    url: str = "http://127.0.0.1:9093"
    timeout_seconds: float = Field(default=10.0, gt=0)
    username: str | None = None
    password: SecretStr | None = None
    resend_window_seconds: float = Field(default=900.0, gt=0)  # endsAt = now + this, for active alerts
    generator_url: str | None = None

    @field_validator("url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _auth_pairs(self) -> AlertmanagerSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be given together")
        return self


class FileChannelSettings(BaseModel):
    """Each message written as a file (.eml or .json) in ``directory``: the embedded default."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    directory: Path = Path("tthc-state/outbox")
    sender_address: str = "tthc-monitor@localhost"
    sender_name: str = "Hệ thống giám sát thủ tục hành chính"


class ChannelsSettings(BaseModel):
    """All channels. Missing ones are off, except the file channel (the embedded default)."""

    model_config = ConfigDict(extra="forbid")

    email: EmailChannelSettings | None = None
    zalo: ZaloChannelSettings | None = None
    webhooks: list[WebhookChannelSettings] = Field(default_factory=list)
    alertmanager: AlertmanagerSettings | None = None
    file: FileChannelSettings | None = Field(default_factory=FileChannelSettings)

    @model_validator(mode="after")
    def _unique_webhooks(self) -> ChannelsSettings:
        names = [hook.name for hook in self.webhooks]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"webhooks: duplicate names {dupes}")
        return self
