"""Writing a run directory so that a crash leaves everything recorded so far readable.

Each table is a folder of Parquet *parts*. Rows are buffered in memory and flushed as a new
part when the buffer is large or old enough; a part is written to a temporary name and renamed
into place, so a reader never sees a half-written file (``os.replace`` is atomic on POSIX).
A single Parquet file would be unreadable until its footer is written at close, which is why
the parts scheme is used instead. ``meta.json`` is rewritten the same way; its ``status`` says
whether the run completed, was interrupted, failed, or is (or was, when the process died)
still running.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from iamd.core.errors import RecordingError
from iamd.record.schema import FORMAT_VERSION, TABLES

META_FILE = "meta.json"
TABLES_DIR = "tables"
SCENARIO_FILE = "scenario.yaml"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class TableWriter:
    """Buffered, crash-safe writer of one table as numbered Parquet parts.

    Parameters
    ----------
    folder : Path
        The table's folder (created if needed).
    schema : pyarrow.Schema
        Column names and types; every appended batch must provide all of them.
    max_rows : int
        Flush a part when this many rows are buffered.
    max_age_s : float
        Flush a part when the oldest buffered row is older than this (wall clock), so a long,
        sparse run still reaches the disk regularly.
    """

    def __init__(
        self, folder: Path, schema: pa.Schema, *, max_rows: int = 200_000, max_age_s: float = 5.0
    ) -> None:
        self.folder = folder
        self.schema = schema
        self.max_rows = max_rows
        self.max_age_s = max_age_s
        self.rows_written = 0
        self._batches: list[pa.RecordBatch] = []
        self._buffered = 0
        self._oldest: float | None = None
        self._parts = 0
        folder.mkdir(parents=True, exist_ok=True)

    def append(self, columns: Mapping[str, Any]) -> None:
        """Buffer one batch given as ``{column: array}``; flush if the buffer is due."""
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array(columns[name], type=field.type)
                for name, field in zip(self.schema.names, self.schema, strict=True)
            ],
            schema=self.schema,
        )
        if batch.num_rows == 0:
            return
        self._batches.append(batch)
        self._buffered += batch.num_rows
        if self._oldest is None:
            self._oldest = time.monotonic()
        if self._buffered >= self.max_rows or time.monotonic() - self._oldest >= self.max_age_s:
            self.flush()

    def flush(self) -> None:
        """Write buffered rows as a new part (no-op when nothing is buffered)."""
        if not self._batches:
            return
        table = pa.Table.from_batches(self._batches, schema=self.schema)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        _atomic_write_bytes(
            self.folder / f"part-{self._parts:06d}.parquet", sink.getvalue().to_pybytes()
        )
        self._parts += 1
        self.rows_written += table.num_rows
        self._batches.clear()
        self._buffered = 0
        self._oldest = None


class RecordingWriter:
    """Creates and fills a run directory.

    Parameters
    ----------
    run_dir : Path
        Directory to create. It must not exist, or be empty: a recording is never mixed
        with another.
    scenario_text : str
        The scenario file as run, copied verbatim into the directory.
    meta : mapping
        Initial metadata (scenario name, seed, versions, …); ``status``, ``format_version``
        and ``started_at`` are added.
    """

    def __init__(self, run_dir: Path, *, scenario_text: str, meta: Mapping[str, Any]) -> None:
        self.run_dir = Path(run_dir)
        if self.run_dir.exists() and (not self.run_dir.is_dir() or any(self.run_dir.iterdir())):
            raise RecordingError(f"{self.run_dir}: output directory exists and is not empty")
        try:
            (self.run_dir / TABLES_DIR).mkdir(parents=True, exist_ok=True)
            _atomic_write_bytes(self.run_dir / SCENARIO_FILE, scenario_text.encode("utf-8"))
        except OSError as error:
            raise RecordingError(
                f"{self.run_dir}: cannot write the run directory ({error})"
            ) from error
        self.meta: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            **meta,
            "status": "running",
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self._tables: dict[str, TableWriter] = {}
        self._write_meta()

    def table(self, name: str) -> TableWriter:
        """The writer of table ``name`` (one of :data:`iamd.record.schema.TABLES`)."""
        if name not in self._tables:
            self._tables[name] = TableWriter(self.run_dir / TABLES_DIR / name, TABLES[name])
        return self._tables[name]

    def flush(self) -> None:
        """Flush every table's buffered rows to disk."""
        for writer in self._tables.values():
            writer.flush()

    def update_meta(self, **fields: Any) -> None:
        """Merge ``fields`` into the metadata and rewrite ``meta.json``."""
        self.meta.update(fields)
        self._write_meta()

    def close(self, status: str, **fields: Any) -> None:
        """Flush everything and record the final ``status`` (complete, interrupted, failed)."""
        self.flush()
        self.update_meta(
            status=status,
            rows={name: w.rows_written for name, w in sorted(self._tables.items())},
            **fields,
        )

    def _write_meta(self) -> None:
        text = json.dumps(self.meta, indent=2, sort_keys=True, default=_json_default)
        _atomic_write_bytes(self.run_dir / META_FILE, (text + "\n").encode("utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
