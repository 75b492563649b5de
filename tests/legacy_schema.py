"""The schema the home-made migrations (before Alembic) left, as the DDL they emitted, per backend.

Captured from ``monitor.store.migrations`` at commit 4da3811 (core_0001/0002, alerts_0001/0002 and
the Zalo token table), in the order they ran; ``schema_migrations`` was their ledger. Used to build
"old" databases that the Alembic migrations must adopt without losing rows.
"""

from __future__ import annotations

LEGACY_IDS = [
    "core_0001_initial",
    "core_0002_poll_not_modified_findings_unit_index",
    "alerts_0001_outbox_state_silences",
    "alerts_0002_digests_threads",
    "alerts_zalo_0001",
]

LEDGER_DDL = {
    "sqlite": "CREATE TABLE schema_migrations (id VARCHAR(200) NOT NULL, applied_at DATETIME NOT NULL, PRIMARY KEY (id))",
    "postgresql": (
        "CREATE TABLE schema_migrations (id VARCHAR(200) NOT NULL, applied_at TIMESTAMP WITH TIME ZONE NOT NULL, "
        "PRIMARY KEY (id))"
    ),
}

LEGACY_DDL: dict[str, dict[str, list[str]]] = {
    "sqlite": {
        "core_0001_initial": [
            (
                "CREATE TABLE source_polls (id INTEGER NOT NULL, source VARCHAR(100) NOT NULL, "
                "table_name VARCHAR(50) NOT NULL, started_at DATETIME NOT NULL, finished_at DATETIME NOT NULL, "
                "ok BOOLEAN NOT NULL, rows INTEGER DEFAULT '0' NOT NULL, "
                "rejected_rows INTEGER DEFAULT '0' NOT NULL, duration_seconds FLOAT DEFAULT '0' NOT NULL, "
                "error TEXT, cursor TEXT, snapshot_path TEXT, PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_source_polls_source_ok ON source_polls (source, ok, finished_at)",
            (
                "CREATE TABLE check_runs (id INTEGER NOT NULL, cycle_at DATETIME NOT NULL, "
                "check_name VARCHAR(100) NOT NULL, ok BOOLEAN NOT NULL, duration_seconds FLOAT NOT NULL, "
                "error TEXT, findings_count INTEGER DEFAULT '0' NOT NULL, PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_check_runs_check_cycle ON check_runs (check_name, cycle_at)",
            (
                "CREATE TABLE kpi_history (id INTEGER NOT NULL, recorded_at DATETIME NOT NULL, "
                "kpi VARCHAR(100) NOT NULL, unit VARCHAR(50) NOT NULL, period VARCHAR(20) NOT NULL, "
                "period_start DATE NOT NULL, numerator FLOAT NOT NULL, denominator FLOAT NOT NULL, "
                "PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_kpi_history_series ON kpi_history (kpi, unit, period, period_start, id)",
            (
                "CREATE TABLE findings (\"key\" VARCHAR(500) NOT NULL, check_name VARCHAR(100) NOT NULL, "
                "rule VARCHAR(100) NOT NULL, subject_kind VARCHAR(20) NOT NULL, subject VARCHAR(300) NOT NULL, "
                "unit VARCHAR(50) NOT NULL, stage VARCHAR(20) NOT NULL, severity VARCHAR(20) NOT NULL, "
                "due_at DATETIME, facts JSON NOT NULL, first_seen_at DATETIME NOT NULL, "
                "last_seen_at DATETIME NOT NULL, resolved_at DATETIME, PRIMARY KEY (\"key\"))"
            ),
            "CREATE INDEX ix_findings_resolved_at ON findings (resolved_at)",
            (
                "CREATE TABLE finding_events (id INTEGER NOT NULL, \"key\" VARCHAR(500) NOT NULL, "
                "at DATETIME NOT NULL, event VARCHAR(20) NOT NULL, stage VARCHAR(20) NOT NULL, "
                "severity VARCHAR(20) NOT NULL, PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_finding_events_key ON finding_events (\"key\", id)",
            (
                "CREATE TABLE source_rejects (id INTEGER NOT NULL, poll_id INTEGER NOT NULL, "
                "source VARCHAR(100) NOT NULL, row_number INTEGER NOT NULL, column_name VARCHAR(200) NOT NULL, "
                "value TEXT, reason TEXT NOT NULL, PRIMARY KEY (id), "
                "FOREIGN KEY(poll_id) REFERENCES source_polls (id) ON DELETE CASCADE)"
            ),
            "CREATE INDEX ix_source_rejects_poll ON source_rejects (poll_id)",
            "CREATE INDEX ix_source_rejects_source ON source_rejects (source, id)",
        ],
        "core_0002_poll_not_modified_findings_unit_index": [
            "ALTER TABLE source_polls ADD COLUMN not_modified BOOLEAN DEFAULT 0 NOT NULL",
            "CREATE INDEX ix_findings_unit_open ON findings (unit, resolved_at)",
        ],
        "alerts_0001_outbox_state_silences": [
            (
                "CREATE TABLE outbox (id INTEGER NOT NULL, created_at DATETIME NOT NULL, "
                "channel VARCHAR(100) NOT NULL, receiver VARCHAR(320) NOT NULL, unit VARCHAR(50) NOT NULL, "
                "subject TEXT NOT NULL, text TEXT NOT NULL, html TEXT, payload JSON NOT NULL, "
                "idempotency_key VARCHAR(64) NOT NULL, finding_keys JSON NOT NULL, "
                "status VARCHAR(10) DEFAULT 'pending' NOT NULL, attempts INTEGER DEFAULT '0' NOT NULL, "
                "not_before DATETIME, next_attempt_at DATETIME NOT NULL, lease_until DATETIME, last_error TEXT, "
                "sent_at DATETIME, PRIMARY KEY (id), UNIQUE (idempotency_key), "
                "CONSTRAINT ck_outbox_status CHECK (status IN ('pending', 'sending', 'sent', 'dead')))"
            ),
            "CREATE INDEX ix_outbox_status_next ON outbox (status, next_attempt_at)",
            (
                "CREATE TABLE silences (id INTEGER NOT NULL, matchers JSON NOT NULL, "
                "starts_at DATETIME NOT NULL, ends_at DATETIME NOT NULL, author VARCHAR(200) NOT NULL, "
                "reason TEXT NOT NULL, created_at DATETIME NOT NULL, expired_at DATETIME, PRIMARY KEY (id))"
            ),
            (
                "CREATE TABLE delivery_log (id INTEGER NOT NULL, outbox_id INTEGER NOT NULL, "
                "channel VARCHAR(100) NOT NULL, at DATETIME NOT NULL, outcome VARCHAR(20) NOT NULL, error TEXT, "
                "PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_delivery_log_outbox ON delivery_log (outbox_id)",
            "CREATE INDEX ix_delivery_log_channel_outcome ON delivery_log (channel, outcome)",
            (
                "CREATE TABLE alert_state (state_key VARCHAR(600) NOT NULL, finding_key VARCHAR(400) NOT NULL, "
                "route VARCHAR(100) NOT NULL, channel VARCHAR(100) NOT NULL, unit VARCHAR(50) NOT NULL, "
                "last_stage VARCHAR(20), last_sent_at DATETIME, notified_count INTEGER DEFAULT '0' NOT NULL, "
                "episode_started_at DATETIME NOT NULL, finding JSON NOT NULL, updated_at DATETIME NOT NULL, "
                "PRIMARY KEY (state_key))"
            ),
        ],
        "alerts_0002_digests_threads": [
            "ALTER TABLE alert_state ADD COLUMN resolved_at DATETIME",
            "ALTER TABLE alert_state ADD COLUMN resolution_sent BOOLEAN NOT NULL DEFAULT 0",
            (
                "CREATE TABLE alert_digest_state (unit VARCHAR(50) NOT NULL, channel VARCHAR(100) NOT NULL, "
                "last_message_at DATETIME, morning_on DATE, summary_at DATETIME, backlog JSON NOT NULL, "
                "fingerprint VARCHAR(64) DEFAULT '' NOT NULL, updated_at DATETIME NOT NULL, PRIMARY KEY (unit, "
                "channel))"
            ),
        ],
        "alerts_zalo_0001": [
            (
                "CREATE TABLE zalo_tokens (app_id VARCHAR(64) NOT NULL, access_token TEXT, "
                "access_expires_at DATETIME, refresh_token TEXT, refresh_expires_at DATETIME, "
                "version INTEGER NOT NULL, refreshing_until DATETIME, seed_fingerprint VARCHAR(64), "
                "needs_human BOOLEAN DEFAULT 0 NOT NULL, problem TEXT, updated_at DATETIME NOT NULL, "
                "PRIMARY KEY (app_id))"
            ),
        ],
    },
    "postgresql": {
        "core_0001_initial": [
            (
                "CREATE TABLE source_polls (id BIGSERIAL NOT NULL, source VARCHAR(100) NOT NULL, "
                "table_name VARCHAR(50) NOT NULL, started_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "finished_at TIMESTAMP WITH TIME ZONE NOT NULL, ok BOOLEAN NOT NULL, "
                "rows INTEGER DEFAULT '0' NOT NULL, rejected_rows INTEGER DEFAULT '0' NOT NULL, "
                "duration_seconds FLOAT DEFAULT '0' NOT NULL, error TEXT, cursor TEXT, snapshot_path TEXT, "
                "PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_source_polls_source_ok ON source_polls (source, ok, finished_at)",
            (
                "CREATE TABLE check_runs (id BIGSERIAL NOT NULL, cycle_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "check_name VARCHAR(100) NOT NULL, ok BOOLEAN NOT NULL, duration_seconds FLOAT NOT NULL, "
                "error TEXT, findings_count INTEGER DEFAULT '0' NOT NULL, PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_check_runs_check_cycle ON check_runs (check_name, cycle_at)",
            (
                "CREATE TABLE kpi_history (id BIGSERIAL NOT NULL, "
                "recorded_at TIMESTAMP WITH TIME ZONE NOT NULL, kpi VARCHAR(100) NOT NULL, "
                "unit VARCHAR(50) NOT NULL, period VARCHAR(20) NOT NULL, period_start DATE NOT NULL, "
                "numerator FLOAT NOT NULL, denominator FLOAT NOT NULL, PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_kpi_history_series ON kpi_history (kpi, unit, period, period_start, id)",
            (
                "CREATE TABLE findings (key VARCHAR(500) NOT NULL, check_name VARCHAR(100) NOT NULL, "
                "rule VARCHAR(100) NOT NULL, subject_kind VARCHAR(20) NOT NULL, subject VARCHAR(300) NOT NULL, "
                "unit VARCHAR(50) NOT NULL, stage VARCHAR(20) NOT NULL, severity VARCHAR(20) NOT NULL, "
                "due_at TIMESTAMP WITH TIME ZONE, facts JSONB NOT NULL, "
                "first_seen_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "last_seen_at TIMESTAMP WITH TIME ZONE NOT NULL, resolved_at TIMESTAMP WITH TIME ZONE, "
                "PRIMARY KEY (key))"
            ),
            "CREATE INDEX ix_findings_resolved_at ON findings (resolved_at)",
            (
                "CREATE TABLE finding_events (id BIGSERIAL NOT NULL, key VARCHAR(500) NOT NULL, "
                "at TIMESTAMP WITH TIME ZONE NOT NULL, event VARCHAR(20) NOT NULL, stage VARCHAR(20) NOT NULL, "
                "severity VARCHAR(20) NOT NULL, PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_finding_events_key ON finding_events (key, id)",
            (
                "CREATE TABLE source_rejects (id BIGSERIAL NOT NULL, poll_id BIGINT NOT NULL, "
                "source VARCHAR(100) NOT NULL, row_number INTEGER NOT NULL, column_name VARCHAR(200) NOT NULL, "
                "value TEXT, reason TEXT NOT NULL, PRIMARY KEY (id), "
                "FOREIGN KEY(poll_id) REFERENCES source_polls (id) ON DELETE CASCADE)"
            ),
            "CREATE INDEX ix_source_rejects_poll ON source_rejects (poll_id)",
            "CREATE INDEX ix_source_rejects_source ON source_rejects (source, id)",
        ],
        "core_0002_poll_not_modified_findings_unit_index": [
            "ALTER TABLE source_polls ADD COLUMN not_modified BOOLEAN DEFAULT false NOT NULL",
            "CREATE INDEX ix_findings_unit_open ON findings (unit, resolved_at)",
        ],
        "alerts_0001_outbox_state_silences": [
            (
                "CREATE TABLE outbox (id BIGSERIAL NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "channel VARCHAR(100) NOT NULL, receiver VARCHAR(320) NOT NULL, unit VARCHAR(50) NOT NULL, "
                "subject TEXT NOT NULL, text TEXT NOT NULL, html TEXT, payload JSONB NOT NULL, "
                "idempotency_key VARCHAR(64) NOT NULL, finding_keys JSONB NOT NULL, "
                "status VARCHAR(10) DEFAULT 'pending' NOT NULL, attempts INTEGER DEFAULT '0' NOT NULL, "
                "not_before TIMESTAMP WITH TIME ZONE, next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "lease_until TIMESTAMP WITH TIME ZONE, last_error TEXT, sent_at TIMESTAMP WITH TIME ZONE, "
                "PRIMARY KEY (id), UNIQUE (idempotency_key), "
                "CONSTRAINT ck_outbox_status CHECK (status IN ('pending', 'sending', 'sent', 'dead')))"
            ),
            "CREATE INDEX ix_outbox_status_next ON outbox (status, next_attempt_at)",
            (
                "CREATE TABLE silences (id BIGSERIAL NOT NULL, matchers JSONB NOT NULL, "
                "starts_at TIMESTAMP WITH TIME ZONE NOT NULL, ends_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "author VARCHAR(200) NOT NULL, reason TEXT NOT NULL, "
                "created_at TIMESTAMP WITH TIME ZONE NOT NULL, expired_at TIMESTAMP WITH TIME ZONE, "
                "PRIMARY KEY (id))"
            ),
            (
                "CREATE TABLE delivery_log (id BIGSERIAL NOT NULL, outbox_id BIGINT NOT NULL, "
                "channel VARCHAR(100) NOT NULL, at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "outcome VARCHAR(20) NOT NULL, error TEXT, PRIMARY KEY (id))"
            ),
            "CREATE INDEX ix_delivery_log_channel_outcome ON delivery_log (channel, outcome)",
            "CREATE INDEX ix_delivery_log_outbox ON delivery_log (outbox_id)",
            (
                "CREATE TABLE alert_state (state_key VARCHAR(600) NOT NULL, finding_key VARCHAR(400) NOT NULL, "
                "route VARCHAR(100) NOT NULL, channel VARCHAR(100) NOT NULL, unit VARCHAR(50) NOT NULL, "
                "last_stage VARCHAR(20), last_sent_at TIMESTAMP WITH TIME ZONE, "
                "notified_count INTEGER DEFAULT '0' NOT NULL, "
                "episode_started_at TIMESTAMP WITH TIME ZONE NOT NULL, finding JSONB NOT NULL, "
                "updated_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (state_key))"
            ),
        ],
        "alerts_0002_digests_threads": [
            "ALTER TABLE alert_state ADD COLUMN resolved_at TIMESTAMP WITH TIME ZONE",
            "ALTER TABLE alert_state ADD COLUMN resolution_sent BOOLEAN NOT NULL DEFAULT false",
            (
                "CREATE TABLE alert_digest_state (unit VARCHAR(50) NOT NULL, channel VARCHAR(100) NOT NULL, "
                "last_message_at TIMESTAMP WITH TIME ZONE, morning_on DATE, "
                "summary_at TIMESTAMP WITH TIME ZONE, backlog JSONB NOT NULL, "
                "fingerprint VARCHAR(64) DEFAULT '' NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL, "
                "PRIMARY KEY (unit, channel))"
            ),
        ],
        "alerts_zalo_0001": [
            (
                "CREATE TABLE zalo_tokens (app_id VARCHAR(64) NOT NULL, access_token TEXT, "
                "access_expires_at TIMESTAMP WITH TIME ZONE, refresh_token TEXT, "
                "refresh_expires_at TIMESTAMP WITH TIME ZONE, version INTEGER NOT NULL, "
                "refreshing_until TIMESTAMP WITH TIME ZONE, seed_fingerprint VARCHAR(64), "
                "needs_human BOOLEAN DEFAULT false NOT NULL, problem TEXT, "
                "updated_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (app_id))"
            ),
        ],
    },
}
