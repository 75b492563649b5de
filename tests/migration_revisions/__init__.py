"""Alembic revisions used by the migration tests (not part of the product), and a helper that
writes one-off revision files for a test."""

from __future__ import annotations

import textwrap
from pathlib import Path

from alerts.storage import MigrationPackage

RACE_MIGRATIONS = MigrationPackage(branch="race", versions=Path(__file__).with_name("race"))


def revision_package(
    folder: Path, revision: str, body: str, *, down_revision: str | None = None, branch: str | None = None
) -> MigrationPackage:
    """A version location in ``folder`` holding one revision whose ``upgrade()`` runs ``body``
    (Python using ``op`` and ``sa``); its first revision gets the label ``branch``."""
    folder.mkdir(parents=True, exist_ok=True)
    branch = branch or f"{revision}-branch"  # a branch label may not equal a revision id
    labels = (branch,) if down_revision is None else None
    source = (
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {down_revision!r}\n"
        f"branch_labels = {labels!r}\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n" + textwrap.indent(textwrap.dedent(body).strip() or "pass", "    ") + "\n"
    )
    (folder / f"{revision}.py").write_text(source, encoding="utf-8")
    return MigrationPackage(branch=branch, versions=folder)
