"""The last good data of each source as Parquet files, written atomically, a few kept per source."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Collection
from pathlib import Path

import polars as pl
import structlog

from checks.schema import KEY_COLUMNS, TableName
from monitor.store.files import create_owner_only, owner_only_dir

log = structlog.get_logger(__name__)

KEEP_PER_SOURCE = 3
MAX_CHUNKS = 16  # a merged column in more pieces than this is made whole (see merge_incremental)
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SNAPSHOT_FILE = re.compile(r"^(\d{10})-[0-9a-f]{8}\.parquet$")


class SnapshotStore:
    """Files live in ``<data_dir>/snapshots/<source>/<sequence>-<random>.parquet``."""

    def __init__(self, data_dir: Path, keep: int = KEEP_PER_SOURCE) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self._root = Path(data_dir) / "snapshots"
        self._keep = keep

    def save(self, source: str, frame: pl.DataFrame, *, prune: bool = True) -> Path:
        """Write ``frame`` as the newest snapshot of ``source``; older ones beyond ``keep`` are pruned
        unless ``prune=False`` (the source runner prunes itself, after history names the new file).

        The file appears complete or not at all: written to a temporary name in the same folder,
        flushed to disk, then renamed over (os.replace).
        """
        folder = self._folder(source)
        owner_only_dir(self._root.parent, tighten_existing=False)  # the data dir: 0700 when we make it
        owner_only_dir(self._root)  # the snapshots folder and the source's: always 0700
        owner_only_dir(folder)
        target = self._next_name(source)
        temp = folder / f".{target.name}.tmp"
        try:
            create_owner_only(temp)  # snapshots hold export data: 0600 from the first byte
            frame.write_parquet(temp)
            _fsync_file(temp)
            os.replace(temp, target)
            _fsync_dir(folder)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        log.info("snapshot_saved", source=source, path=str(target), rows=frame.height)
        if prune:
            self.prune(source)
        return target

    def load(self, path: Path) -> pl.DataFrame:
        return pl.read_parquet(path)

    def _next_name(self, source: str) -> Path:
        existing = self.snapshots(source)
        sequence = _sequence_of(existing[-1]) + 1 if existing else 1
        return self._folder(source) / f"{sequence:010d}-{uuid.uuid4().hex[:8]}.parquet"

    def _discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def latest(self, source: str) -> Path | None:
        files = self.snapshots(source)
        return files[-1] if files else None

    def snapshots(self, source: str) -> list[Path]:
        """Complete snapshot files of ``source``, oldest first (temporary files are ignored)."""
        folder = self._folder(source)
        if not folder.is_dir():
            return []
        return sorted((p for p in folder.iterdir() if _SNAPSHOT_FILE.match(p.name)), key=_sequence_of)

    def prune(self, source: str, pinned: Collection[Path | None] = ()) -> list[Path]:
        """Delete all but the newest ``keep`` snapshots of ``source``, never one in ``pinned`` (the
        snapshot history's last good poll names, the one in force, a held suspect one); returns the
        deleted paths."""
        keep = {_identity(path) for path in pinned if path is not None}
        files = self.snapshots(source)
        doomed = [path for path in files[: max(0, len(files) - self._keep)] if _identity(path) not in keep]
        for path in doomed:
            self._discard(path)
        if doomed:
            log.info("snapshots_pruned", source=source, deleted=len(doomed), pinned=len(keep))
        return doomed

    @staticmethod
    def merge_incremental(old: pl.DataFrame, new: pl.DataFrame, table: TableName) -> pl.DataFrame:
        """Rows of ``new`` replace rows of ``old`` with the same natural key; other old rows stay.

        Order: every old row in its place (a replaced one takes its new values there), then the
        keys new to ``old``, each where its last row stands in ``new`` (of a key given twice in
        ``new``, the last row counts). ``old`` has one row per key (a source's frames are
        deduplicated before they are merged or kept). ``old`` itself is never changed (a cycle may be reading it).

        An incremental poll brings a handful of changed dossiers into a province's 950,000: only the
        columns whose values changed at the replaced rows are copied (a column is 1-8 MB), the
        others are shared with ``old``, and the new keys are appended as a chunk of their own (a
        column made of many such chunks is made whole again on its own, one at a time), so the
        merge never holds a second copy of the whole table.
        """
        keys = list(KEY_COLUMNS[table])
        new = new.unique(subset=keys, keep="last", maintain_order=True)
        if old.is_empty():
            return new
        if new.schema != old.schema:  # another shape (a column added or retyped): the plain way
            kept = old.join(new.select(keys), on=keys, how="anti", nulls_equal=True, maintain_order="left")
            return pl.concat([kept, new], how="diagonal_relaxed", rechunk=False)
        pairs = (old.select(keys).with_row_index("__old")
                 .join(new.select(keys).with_row_index("__new"), on=keys, how="inner", nulls_equal=True))
        at_old, at_new = pairs.get_column("__old"), pairs.get_column("__new")
        columns: list[pl.Series] = []
        for name in old.columns:
            column = old.get_column(name)
            if at_old.len():
                values = new.get_column(name).gather(at_new)
                if values.ne_missing(column.gather(at_old)).any():
                    column = column.clone().scatter(at_old, values)
            columns.append(column)
        merged = pl.DataFrame(columns)
        if at_new.len() < new.height:
            fresh = new.with_row_index("__new").filter(~pl.col("__new").is_in(at_new.implode())).drop("__new")
            merged = pl.concat([merged, fresh], how="vertical", rechunk=False)
        return pl.DataFrame([column.rechunk() if column.n_chunks() > MAX_CHUNKS else column
                             for column in merged.iter_columns()])

    def _folder(self, source: str) -> Path:
        if not _SOURCE_NAME.match(source):
            raise ValueError(f"invalid source name for a snapshot folder: {source!r}")
        return self._root / source


def _identity(path: Path) -> str:
    """A path compared by what it points to (history may hold it relative or absolute)."""
    return os.path.abspath(path)


def _sequence_of(path: Path) -> int:
    match = _SNAPSHOT_FILE.match(path.name)
    return int(match.group(1)) if match else 0


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not every platform opens folders
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MemorySnapshotStore(SnapshotStore):
    """Snapshots kept as the frames themselves, under the names a :class:`SnapshotStore` would give,
    for a run whose state is thrown away (``tthc-monitor check``): nothing is written to disk."""

    def __init__(self, data_dir: Path, keep: int = KEEP_PER_SOURCE) -> None:
        super().__init__(data_dir, keep)
        self._frames: dict[Path, pl.DataFrame] = {}

    def save(self, source: str, frame: pl.DataFrame, *, prune: bool = True) -> Path:
        target = self._next_name(source)
        self._frames[target] = frame
        if prune:
            self.prune(source)
        return target

    def load(self, path: Path) -> pl.DataFrame:
        try:
            return self._frames[Path(path)]
        except KeyError:
            raise FileNotFoundError(str(path)) from None

    def snapshots(self, source: str) -> list[Path]:
        folder = self._folder(source)
        return sorted((path for path in self._frames if path.parent == folder), key=_sequence_of)

    def _discard(self, path: Path) -> None:
        self._frames.pop(path, None)
