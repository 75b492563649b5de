"""A third-party-style channel for the tests: "memo" drops each message as a JSON file in a folder.

Everything the rest of the code needs is declared here (section, contact key, digest format,
payload extra, building); nothing else in the package knows it. Registered only through the
``tthc_monitor.channels`` entry point that tests/test_plugins.py installs on ``sys.path``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alerts.channels.kind import BuildContext, ChannelKind, DigestFormat
from checks.contracts import Channel, DeliveryError, Message

MEMO_MAX_CHARS = 900


class MemoSettings(BaseModel):
    """``alerts.channels.memo`` in the YAML file."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    directory: Path
    board: str = Field(default="bảng tin", min_length=1)


class MemoChannel:
    name = "memo"

    def __init__(self, settings: MemoSettings) -> None:
        self.settings = settings

    def send(self, message: Message) -> None:
        if not message.receiver.startswith("box:"):
            raise DeliveryError("memo: receiver must be box:<id>", permanent=True)
        self.settings.directory.mkdir(parents=True, exist_ok=True)
        target = self.settings.directory / f"{message.idempotency_key.replace('/', '_')}.json"
        document = {"board": self.settings.board, **message.model_dump(mode="json")}
        target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


class MemoKind(ChannelKind):
    name = "memo"
    section = "memo"
    section_type = MemoSettings
    contacts = {"memo_boxes": "box:"}
    digest = DigestFormat(text_template="zalo.txt.j2", html_template=None, max_chars=MEMO_MAX_CHARS)

    def build(self, section: Any, context: BuildContext) -> dict[str, Channel]:
        return {self.name: MemoChannel(section)} if self.names(section) else {}

    def payload_extras(self, context: Mapping[str, Any]) -> dict[str, Any]:
        return {"memo": {"unit_name": context["unit_name"], "actionable": context["actionable_total"]}}


KIND = MemoKind()
