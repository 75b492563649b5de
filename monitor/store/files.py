"""Owner-only files and folders for everything the monitor writes that holds data or secrets.

The state database (and SQLite's -wal/-shm, which SQLite creates with the database file's mode),
snapshot folders and files, reports: 0600 files in 0700 folders, whatever the process umask.
A file is created with its mode (``os.open(..., 0o600)``) before anything is written into it, so
it is never readable by others, not even for a moment.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_FILE_MODE = 0o600
OWNER_DIR_MODE = 0o700


def owner_only_dir(path: Path, *, tighten_existing: bool = True) -> Path:
    """Create ``path`` (and missing parents) as 0700; an existing folder is tightened too unless
    ``tighten_existing`` is false (a folder the operator chose, which may hold other things)."""
    existed = path.is_dir()
    path.mkdir(parents=True, exist_ok=True, mode=OWNER_DIR_MODE)
    if tighten_existing or not existed:
        tighten(path, OWNER_DIR_MODE)
    return path


def create_owner_only(path: Path) -> Path:
    """Make sure ``path`` exists as a 0600 file (created empty if absent, contents kept if not)
    so that a writer opening it afterwards (xlsxwriter, Polars, SQLite) keeps the mode.

    An existing file is never opened here, only chmodded: closing any descriptor of a file drops
    every POSIX lock this process holds on it, and SQLite's locks on an open database are such
    locks (a second engine in one process would otherwise break the first one's transactions)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_FILE_MODE)
    except FileExistsError:
        os.chmod(path, OWNER_FILE_MODE)
        return path
    try:
        os.fchmod(descriptor, OWNER_FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def tighten(path: Path, mode: int = OWNER_FILE_MODE) -> bool:
    """Remove group and other permissions from an existing ``path``; True if it had some."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if current & 0o077 == 0:
        return False
    os.chmod(path, (current & 0o700) | (mode & 0o700))
    return True
