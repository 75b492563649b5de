"""Logs are JSON events with keys; secrets and personal numbers never reach them."""

from __future__ import annotations

import io
import json

import structlog

from monitor.logging_setup import configure_logging


def test_json_events_redact_secrets_and_personal_numbers() -> None:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    log = structlog.get_logger("t")
    log.info("source_polled", source="dvcqg", rows=3, token="s3cr3t-value", smtp_password="hunter2")
    log.warning("odd_value", value="gọi 0912345678 hoặc CCCD 001203004567")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "source_polled" and lines[0]["rows"] == 3 and lines[0]["source"] == "dvcqg"
    assert lines[0]["token"] == "***" and lines[0]["smtp_password"] == "***"
    assert "0912345678" not in lines[1]["value"] and "001203004567" not in lines[1]["value"]
    assert "s3cr3t" not in stream.getvalue() and "hunter2" not in stream.getvalue()
    # dossier codes and procedure codes survive redaction
    log.info(
        "x",
        dossier="000.00.53.H48-220921-0099",
        procedure="1.001612",
        key="f2d48f7941937a57c721e026b123456789012d1e",
        path="/state/snapshots/0000000001-decfa098.parquet",
    )
    last = json.loads(stream.getvalue().splitlines()[-1])
    assert last["dossier"] == "000.00.53.H48-220921-0099" and last["procedure"] == "1.001612"
    assert last["key"] == "f2d48f7941937a57c721e026b123456789012d1e"
    assert last["path"] == "/state/snapshots/0000000001-decfa098.parquet"
