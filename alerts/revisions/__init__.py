"""Alembic version location of the alerting tables (branch ``alerts``): outbox, alert and digest
state, silences, delivery log and the Zalo token store.

Revision files here import only ``alerts.storage`` (column types) and ``checks``; they describe
each table as it was at that revision, never by importing ``alerts.tables``. They are run by
``monitor.store.migrations.migrate``; see docs/STATE.md to add one.
"""
