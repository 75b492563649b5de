"""What a channel module declares about itself: ``ChannelKind``.

One object per channel module (``KIND``) says everything the rest of alerting needs to know
about the channel, so routing, rendering, quiet hours, settings and wiring ask it instead of
switching on the channel's name:

- the YAML section it reads under ``alerts.channels`` and its pydantic model (``section`` and
  ``section_type``; a missing section takes ``default_section()``);
- which channel names it serves (``owns``: "email", or "webhook:<name>") and builds (``build``);
- the contact keys a unit needs for it (``contacts``: ``Unit.contacts`` key -> receiver prefix);
- how a digest is rendered for it (``digest``: templates, a body length limit, JSON body) and
  what extra it adds to a message's payload (``payload_extras``);
- its quiet-hours defaults (``quiet_by_default``, ``urgent_outside_windows``, ``is_quiet``) and
  the default route receivers it takes part in (``default_receivers``).

Built-in kinds are listed in ``alerts.channels.registry``; third-party ones are found through
the ``tthc_monitor.channels`` entry-point group (docs/CHANNELS.md, "Adding a channel").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

if TYPE_CHECKING:
    import requests
    from sqlalchemy.engine import Engine

    from checks.contracts import Channel, MetricSample, Unit


def _session() -> requests.Session:
    import requests

    return requests.Session()


class QuietChannelList(Protocol):
    """What a kind reads of ``alerts.settings.QuietHoursSettings`` (kept apart: settings import the kinds)."""

    quiet_channels: list[str]


class DigestFormat(BaseModel):
    """How a digest becomes the body of one message on a channel.

    ``body="text"``: ``text_template`` (and ``html_template`` when set) from the shared Jinja2
    templates (``alerts/templates/``, words from the catalog); with ``max_chars`` the rows are spread over as
    many messages as needed so each text fits (rows move on, they never vanish).
    ``body="json"``: the text is the JSON document of the subject and the payload (machines).
    ``detailed_items``: the payload lists every row with its facts (code, rule, due…), not only
    code, stage and section.
    """

    model_config = ConfigDict(frozen=True)

    body: Literal["text", "json"] = "text"
    text_template: str = "email.txt.j2"
    html_template: str | None = "email.html.j2"
    max_chars: int | None = Field(default=None, gt=0)
    detailed_items: bool = False


@dataclass(frozen=True)
class BuildContext:
    """What building a channel may use: the state database, the injected clock, one HTTP session."""

    engine: Engine
    now_fn: Callable[[], datetime]
    http: requests.Session = field(default_factory=_session)


class ChannelKind:
    """The declaration of one channel module. Subclass it, set the class attributes, override
    ``build`` (and whatever differs from the defaults), and expose an instance as ``KIND``."""

    name: ClassVar[str]  # the channel name ("email"); for a family, the prefix before ":" ("webhook")
    section: ClassVar[str]  # key under alerts.channels in the YAML file
    section_type: ClassVar[Any]  # the section's pydantic model (or e.g. list[Model])
    contacts: ClassVar[Mapping[str, str]] = {}  # Unit.contacts key -> receiver prefix
    digest: ClassVar[DigestFormat] = DigestFormat()
    quiet_by_default: ClassVar[bool] = False  # listed in quiet_hours.quiet_channels by default
    urgent_outside_windows: ClassVar[bool] = True  # urgent severities may leave outside the windows
    default_receivers: ClassVar[tuple[Literal["unit", "escalation"], ...]] = ()  # in the default route
    name_hint: ClassVar[str | None] = None  # how a receiver spells it, for error texts ("'webhook:<name>'")
    receivable: ClassVar[bool] = True  # False: not a route receiver (Alertmanager takes findings)

    _adapter: TypeAdapter[Any] | None = None

    # ------------------------------------------------------------------ settings

    def default_section(self) -> Any:
        """The section's value when the YAML file has none (None: the channel is off)."""
        return None

    def validate_section(self, value: Any) -> Any:
        if value is None:
            return None
        if self._adapter is None:
            self._adapter = TypeAdapter(self.section_type)
        return self._adapter.validate_python(value)

    # ------------------------------------------------------------------ names and building

    def owns(self, channel: str) -> bool:
        """Whether a receiver's ``channel`` is served by this kind."""
        return channel == self.name

    def hint(self) -> str:
        return self.name_hint or repr(self.name)

    def names(self, section: Any) -> list[str]:
        """The channel names ``build`` would return for ``section``, without any I/O."""
        return [self.name] if _enabled(section) else []

    def build(self, section: Any, context: BuildContext) -> dict[str, Channel]:
        """The enabled channels of this kind by name ({} when the section is off)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ routing and rendering

    def addresses(self, unit: Unit | None, channel: str, unit_code: str) -> list[str]:
        """Where ``channel`` delivers for one unit: its contacts with this kind's prefixes."""
        if unit is None:
            return []
        return [f"{prefix}{value}" for key, prefix in self.contacts.items() for value in unit.contacts.get(key, [])]

    def payload_extras(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """Channel-specific payload fields, from the template context of one message part."""
        return {}

    def is_quiet(self, channel: str, settings: QuietChannelList) -> bool:
        """Whether messages on ``channel`` wait for the working windows."""
        return channel in settings.quiet_channels


def _enabled(section: Any) -> bool:
    return section is not None and bool(getattr(section, "enabled", True))


def samples_of(channel: object) -> list[MetricSample]:
    """The health samples a channel publishes (``samples()``), none when it has no such method."""
    method = getattr(channel, "samples", None)
    return list(method()) if callable(method) else []
