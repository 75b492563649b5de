"""structlog configuration: JSON lines in production, readable console in the demo.

A redaction processor (``checks.redaction``) masks values under secret-looking keys, the literal
values of the configured secrets, token-shaped text and anything shaped like a Vietnamese phone or
ID number, so neither secrets nor personal data reach the logs; library loggers get the same
redaction through a filter on the root handler.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Final

import structlog

from checks.redaction import PERSONAL_NUMBERS, REDACTED, SECRET_KEYS, redact_structure, redact_text

__all__ = ["DEMO_LOG_FORMAT", "DEMO_LOG_LEVEL", "PERSONAL_NUMBERS", "REDACTED", "SECRET_KEYS", "RedactingFilter",
           "configure_logging", "log_starting", "redact_event", "redact_value"]

# The embedded demo's log (``monitor.demo.config``; the environment does not change it): known
# before any settings are read, so ``run`` logs its first line before loading the daemon.
DEMO_LOG_FORMAT: Final = "console"
DEMO_LOG_LEVEL: Final = "INFO"


def redact_value(value: Any) -> Any:
    """A log value with secrets, token-shaped text and personal numbers masked (``checks.redaction``)."""
    return redact_structure(value)


def redact_event(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret-named keys, registered secrets, token-shaped text and
    personal numbers in string values (nested lists and dicts included)."""
    for key in list(event_dict):
        if SECRET_KEYS.search(key) and event_dict[key] is not None:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact_value(event_dict[key])
    return event_dict


class RedactingFilter(logging.Filter):
    """For the stdlib loggers of libraries (urllib3, alembic…): the same redaction on the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would
            return True
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return True


def log_starting(**fields: Any) -> None:
    """The daemon's first log line: ``starting`` (``run``; the demo logs it before loading anything)."""
    structlog.get_logger("monitor").info("starting", **fields)


def configure_logging(fmt: str = "json", level: str = "INFO", stream: Any = None) -> None:
    """Set up structlog (and the stdlib root logger, for libraries) once per process."""
    out = stream or sys.stderr
    logging.basicConfig(stream=out, level=getattr(logging, level), format="%(message)s", force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
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
