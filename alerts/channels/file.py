"""File channel: each message written to a folder, the embedded default for the demo.

E-mail-like messages (receiver is an e-mail address, or the message has an HTML body) are
written as ``.eml``, built exactly as the e-mail channel would send them; others as ``.json``.
The name is ``<created time>_<key>.<ext>``; writing is atomic (temporary file + rename) and
idempotent: a message whose key already has a file is not written twice.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict

from alerts.channels.email import build_email_message, safe_key
from alerts.channels.kind import BuildContext, ChannelKind, DigestFormat
from checks.contracts import Channel, DeliveryError, Message, Unit
from checks.timeutil import to_vn_aware

log = structlog.get_logger(__name__)


class FileChannelSettings(BaseModel):
    """Each message written as a file (.eml or .json) in ``directory``: the embedded default."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    directory: Path = Path("tthc-state/outbox")
    sender_address: str = "tthc-monitor@localhost"
    sender_name: str = "Hệ thống giám sát thủ tục hành chính"


def is_email_like(message: Message) -> bool:
    return "@" in message.receiver or message.html is not None


def render_file(message: Message, settings: FileChannelSettings, created_at: datetime) -> tuple[str, bytes]:
    """The extension and the bytes to write for ``message`` (pure)."""
    if is_email_like(message):
        email = build_email_message(message, settings.sender_address, settings.sender_name, created_at)
        return "eml", email.as_bytes()
    document = {**message.model_dump(mode="json"), "created_at": to_vn_aware(created_at).isoformat()}
    return "json", json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


class FileChannel:
    name = "file"

    def __init__(self, settings: FileChannelSettings, now_fn: Callable[[], datetime]) -> None:
        self._settings = settings
        self._now_fn = now_fn

    def send(self, message: Message) -> None:
        directory = self._settings.directory
        key = safe_key(message.idempotency_key)
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)  # messages name units and dossiers
            existing = self.path_for_key(message.idempotency_key)
            if existing is not None:
                log.info("file_message_exists", idempotency_key=message.idempotency_key, path=str(existing))
                return
            created_at = self._now_fn()
            extension, content = render_file(message, self._settings, created_at)
            stamp = to_vn_aware(created_at).strftime("%Y%m%dT%H%M%S")
            target = directory / f"{stamp}_{key}.{extension}"
            _atomic_write(target, content)
        except OSError as error:
            raise DeliveryError(f"file channel: cannot write to {directory}: {error.strerror}") from error
        log.info("file_message_written", idempotency_key=message.idempotency_key, path=str(target))

    def path_for_key(self, idempotency_key: str) -> Path | None:
        """The file already written for this key, if any."""
        key = safe_key(idempotency_key)
        for extension in ("eml", "json"):
            matches = sorted(self._settings.directory.glob(f"*_{key}.{extension}"))
            if matches:
                return matches[0]
        return None


def _atomic_write(target: Path, content: bytes) -> None:
    # mkstemp creates the file 0600 (owner only), whatever the umask; the rename keeps the mode.
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FileKind(ChannelKind):
    """``alerts.channels.file`` (on by default): one file per message and unit; the demo's e-mail."""

    name = "file"
    section = "file"
    section_type = FileChannelSettings
    digest = DigestFormat(detailed_items=True)
    quiet_by_default = True  # stands for e-mail in the demo
    default_receivers = ("unit", "escalation")

    def default_section(self) -> Any:
        return FileChannelSettings()

    def build(self, section: Any, context: BuildContext) -> dict[str, Channel]:
        return {self.name: FileChannel(section, context.now_fn)} if self.names(section) else {}

    def addresses(self, unit: Unit | None, channel: str, unit_code: str) -> list[str]:
        return [unit_code]  # one file per unit


KIND = FileKind()
