"""The shared result types and plug-in contracts (Source, Check, Channel) in one small file.

``checks/`` and ``alerts/`` both depend on this module and on nothing of each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from checks import findings_table as _findings_table
from checks.calendar import WorkingCalendar
from checks.finding import DEADLINE_TRACKS as DEADLINE_TRACKS
from checks.finding import FactValue as FactValue
from checks.finding import Finding as Finding
from checks.finding import Period as Period
from checks.finding import Severity as Severity
from checks.finding import Stage as Stage
from checks.finding import SubjectKind as SubjectKind
from checks.finding import thread_of_key as thread_of_key
from checks.schema import TableName, empty_table


class KpiValue(BaseModel):
    """One indicator for one unit ("ALL" for the department) over one period up to ``now``."""

    model_config = ConfigDict(frozen=True)

    kpi: str
    unit: str
    period: Period
    numerator: float
    denominator: float

    @property
    def ratio(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator


class MetricSpec(BaseModel):
    """A gauge family that a producer owns: name, help and label names."""

    model_config = ConfigDict(frozen=True)

    name: str
    help: str
    labels: tuple[str, ...] = ()
    kind: Literal["gauge", "counter"] = "gauge"  # counters: name ends in _total, value is monotonic

    def sample(self, value: float, **labels: str) -> MetricSample:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name}: labels {sorted(labels)} != {sorted(self.labels)}")
        return MetricSample(spec=self, labels=labels, value=float(value))


class MetricSample(BaseModel):
    model_config = ConfigDict(frozen=True)

    spec: MetricSpec
    labels: dict[str, str]
    value: float


class CheckResult(BaseModel):
    """What one check found. The findings are a table (``checks.findings_table``): a vectorised
    check passes ``table``; a check with a few findings may pass ``findings=[...]`` instead, and
    the table is made from them. ``findings`` gives the rows as objects (made on first use)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    check: str
    kpis: list[KpiValue] = Field(default_factory=list)
    table: pl.DataFrame = Field(default_factory=lambda: _findings_table.empty_findings())
    samples: list[MetricSample] = Field(default_factory=list)
    _objects: list[Finding] | None = PrivateAttr(default=None)

    def __init__(self, /, findings: list[Finding] | None = None, **data: Any) -> None:
        if findings is not None:
            if "table" in data:
                raise ValueError("CheckResult takes findings or table, not both")
            data["table"] = _findings_table.findings_table(findings)
        super().__init__(**data)
        if findings is not None:
            self._objects = list(findings)
        else:
            _findings_table.validate(self.table)

    @property
    def findings(self) -> list[Finding]:
        if self._objects is None:
            self._objects = _findings_table.findings_of(self.table)
        return self._objects

    @property
    def findings_count(self) -> int:
        return self.table.height




class SourceStatus(BaseModel):
    """What the daemon knows about one source after its last poll."""

    name: str
    table: TableName
    up: bool
    interval_seconds: float
    last_attempt_at: datetime | None = None  # aware
    last_success_at: datetime | None = None  # aware
    rows: int = 0
    rejected_rows: int = 0
    invalid_values: dict[str, int] = Field(default_factory=dict)  # field -> optional values nulled, last poll
    fetch_duration_seconds: float = 0.0
    error: str | None = None
    has_data: bool = False  # a snapshot is in force (restored or polled); False: the checks see none of it
    duplicate_keys: int = 0  # rows of the last fetch dropped because their natural key came again
    # Quarantine: the last full snapshot looked implausible and is held back; ``rows`` stays the last good one's.
    suspect: bool = False
    suspect_reason: str | None = None  # required_column_missing | empty | row_share
    suspect_rows: int | None = None  # rows of the held snapshot
    last_good_rows: int | None = None  # rows of the snapshot in force when it was judged
    suspect_column: str | None = None  # the missing required column (the export's header)
    suspect_polls: int = 0  # agreeing suspect polls in a row
    suspect_since: datetime | None = None  # aware: the first suspect poll of the run


class Tables(BaseModel):
    """The canonical tables a check reads, plus the state of the sources that fed them."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    dossiers: pl.DataFrame = Field(default_factory=lambda: empty_table(TableName.DOSSIERS))
    procedures: pl.DataFrame = Field(default_factory=lambda: empty_table(TableName.PROCEDURES))
    feedback: pl.DataFrame = Field(default_factory=lambda: empty_table(TableName.FEEDBACK))
    plan_tasks: pl.DataFrame = Field(default_factory=lambda: empty_table(TableName.PLAN_TASKS))
    sources: list[SourceStatus] = Field(default_factory=list)


class Unit(BaseModel):
    """A responsible unit of the department, with the contacts alerts go to.

    ``contacts`` holds every channel's addresses by contact key (a channel declares the keys it
    reads, e.g. the e-mail channel ``emails``, Zalo ``zalo_user_ids`` and ``zalo_phones``). A
    contact key may also be written directly on the unit, as configuration files always did
    (``emails: [a@x.vn]``): any other key whose value is a list, or a single text (``emails: a@x.vn``
    is one address), lands in ``contacts`` — never silently dropped: the daemon names a key no
    channel reads (``unit_contacts_unused``), e.g. a misspelt ``email:``.
    """

    code: str
    name: str
    aliases: list[str] = Field(default_factory=list)  # other spellings seen in exports (DonViXuLy)
    contacts: dict[str, list[str]] = Field(default_factory=dict)
    escalate_to: str | None = None  # unit code that receives escalations
    handles_dossiers: bool = True  # False for units that own no procedures (e.g. leadership)

    @model_validator(mode="before")
    @classmethod
    def _contacts_at_top_level(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        listed = {key: [value] if isinstance(value, str) else value for key, value in data.items()
                  if key not in cls.model_fields and isinstance(value, list | tuple | str)}
        if not listed:
            return data
        contacts = {**listed, **dict(data.get("contacts") or {})}
        return {**{k: v for k, v in data.items() if k not in listed}, "contacts": contacts}

    def contact(self, key: str) -> list[str]:
        return list(self.contacts.get(key, []))

    # Read-only views kept for existing readers; channels use ``contacts`` through their declaration.
    @property
    def emails(self) -> list[str]:
        return self.contact("emails")

    @property
    def zalo_user_ids(self) -> list[str]:
        return self.contact("zalo_user_ids")

    @property
    def zalo_phones(self) -> list[str]:
        return self.contact("zalo_phones")


class RejectedRow(BaseModel):
    """A row that failed validation: where and why. ``value`` is never personal data."""

    row: int  # 1-based data row number in the export (header excluded)
    column: str
    value: str | None
    reason: str


class InvalidValues(BaseModel):
    """Values of an optional field that could not be read: set to null, the row kept, counted here.

    Never holds the values themselves (they may be personal data): the field, the export column,
    why, how many, and the first row (1-based data row) where it happened.
    """

    field: str
    column: str
    reason: str
    count: int
    first_row: int


class FetchResult(BaseModel):
    """What one poll of a source produced."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    table: TableName
    frame: pl.DataFrame | None  # None when the source reported "not modified"
    rejected: list[RejectedRow] = Field(default_factory=list)
    rejected_count: int = 0  # may exceed len(rejected): the list is capped
    invalid: list[InvalidValues] = Field(default_factory=list)  # per (field, reason): optional values nulled
    # field -> distinct words of a word column (status, channel, unit…) that no value map knew; for
    # `validate --preview` only: never logged, stored or exported
    unmatched: dict[str, list[str]] = Field(default_factory=dict)
    cursor: str | None = None  # opaque state for the next conditional poll (ETag, updated-since…)
    incremental: bool = False  # True: frame holds only changed rows, merge by key


class SourceError(Exception):
    """A poll failed; the source keeps its last good snapshot."""


@runtime_checkable
class Source(Protocol):
    name: str
    table: TableName
    interval_seconds: float

    def fetch(self, cursor: str | None, now: datetime) -> FetchResult: ...


class Check(Protocol):
    """What the cycle runs. Checks derive from ``checks.context.BaseCheck`` (declared ``spec``, typed
    ``evaluate(context, settings)``); any object with ``name`` and this one-off ``run`` also works."""

    @property
    def name(self) -> str: ...

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: Any) -> CheckResult: ...


class DeliveryError(Exception):
    """A channel could not deliver. ``permanent`` means retrying will not help."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after_seconds: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after_seconds = retry_after_seconds


class Message(BaseModel):
    """A rendered notification for one receiver on one channel."""

    channel: str
    receiver: str  # address: e-mail, zalo user id / phone, webhook name, unit code
    subject: str
    text: str
    html: str | None = None
    idempotency_key: str
    payload: dict[str, Any] = Field(default_factory=dict)  # channel-specific extras


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None:
        """Deliver or raise DeliveryError."""
        ...


def labels_of(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items()))
