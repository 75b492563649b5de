"""Alembic version location of the store's tables (branch ``core``): poll and check history, KPI
history, findings and their events.

A revision describes the tables as they were at that point, never by importing
``monitor.store.tables`` (the latest shape). Run by ``monitor.store.migrations.migrate``; see
docs/STATE.md to add one.
"""
