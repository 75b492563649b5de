"""structlog configuration: JSON lines in production, readable console in the demo.

A redaction processor masks values under secret-looking keys and anything shaped like a
Vietnamese phone or ID number, so neither secrets nor personal data reach the logs.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(r"(password|secret|token|authorization|api_key|apikey|credential)", re.IGNORECASE)
# Vietnamese phone numbers (0[1-9]xxxxxxxx / +84…) and 12-digit citizen ID numbers (CCCD), standing
# alone: digits inside identifiers (hex keys, file names, dossier codes) are left alone.
PERSONAL_NUMBERS = re.compile(r"(?<![\w.+-])(?:(?:\+?84|0)[1-9]\d{8}|\d{12})(?![\w.-])")
REDACTED = "***"


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return PERSONAL_NUMBERS.sub(REDACTED, value)
    return value


def redact_event(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret-named keys and personal numbers in string values."""
    for key in list(event_dict):
        if SECRET_KEYS.search(key) and event_dict[key] is not None:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact_value(event_dict[key])
    return event_dict


def configure_logging(fmt: str = "json", level: str = "INFO", stream: Any = None) -> None:
    """Set up structlog (and the stdlib root logger, for libraries) once per process."""
    out = stream or sys.stderr
    logging.basicConfig(stream=out, level=getattr(logging, level), format="%(message)s", force=True)
    # alembic: its INFO lines ("Running upgrade …") are plain text in a JSON log; migrate() logs
    # migration_applied events instead
    for noisy in ("apscheduler", "urllib3", "aiosmtpd", "mail.log", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False) if fmt == "console" else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
