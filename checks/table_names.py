"""The names of the canonical tables, apart from their schemas (``checks.schema``, which needs
Polars): the command line offers them as choices without loading the data engine."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TableName"]


class TableName(StrEnum):
    DOSSIERS = "dossiers"
    PROCEDURES = "procedures"
    FEEDBACK = "feedback"
    PLAN_TASKS = "plan_tasks"
