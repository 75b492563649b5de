"""The Zalo channel's settings and its permanent "a person must act" error: what reading a
configuration needs, apart from the channel and its token store (``alerts.channels.zalo``,
``alerts.channels.zalo_tokens``), so that loading the settings imports no HTTP client, no database
layer and no cryptography (start-up to the first log line, issue #11)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from checks.contracts import DeliveryError


class ZaloChannelSettings(BaseModel):
    """Zalo Official Account (DOMAIN.md §8): the channel's settings (``alerts.channels.zalo`` declares
    them); ``refresh_token`` only seeds the token store."""

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


HUMAN_NEEDED_TEXT = "Zalo cần quản trị viên cấp quyền lại (needs re-authorisation by a human)"


class ZaloNeedsHumanError(DeliveryError):
    """Permanent: Zalo will refuse until a person acts (re-authorise the OA, fix the app)."""

    needs_human = True

    def __init__(self, problem: str) -> None:
        super().__init__(f"{HUMAN_NEEDED_TEXT}: {problem}", permanent=True)
        self.problem = problem
