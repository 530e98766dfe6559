"""Reading a run directory written by :class:`iamd.record.writer.RecordingWriter`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from iamd.core.errors import RecordingError
from iamd.record.schema import TABLES
from iamd.record.writer import META_FILE, SCENARIO_FILE, TABLES_DIR


class Recording:
    """A run directory opened for analysis.

    Parameters
    ----------
    run_dir : Path
        The directory; it must hold ``meta.json``.

    Raises
    ------
    RecordingError
        If the directory or its metadata is missing or unreadable.
    """

    def __init__(self, run_dir: Path | str) -> None:
        self.run_dir = Path(run_dir)
        meta_path = self.run_dir / META_FILE
        if not self.run_dir.is_dir():
            raise RecordingError(f"{self.run_dir}: not a run directory (no such directory)")
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RecordingError(f"{self.run_dir}: not a run directory (no {META_FILE})") from None
        except (OSError, ValueError) as error:
            raise RecordingError(f"{meta_path}: unreadable metadata ({error})") from None
        if not isinstance(self.meta, dict):
            raise RecordingError(f"{meta_path}: metadata is not a JSON object")

    @property
    def status(self) -> str:
        """``complete``, ``interrupted``, ``failed``, or ``running`` (the writer died)."""
        return str(self.meta.get("status", "unknown"))

    @property
    def scenario_text(self) -> str:
        """The scenario file the run used."""
        return (self.run_dir / SCENARIO_FILE).read_text(encoding="utf-8")

    def parts(self, name: str) -> list[Path]:
        """The complete Parquet parts of table ``name``, in write order."""
        return sorted((self.run_dir / TABLES_DIR / name).glob("part-*.parquet"))

    def table(self, name: str) -> pa.Table:
        """All rows of table ``name`` (an empty table when nothing was written)."""
        if name not in TABLES:
            raise RecordingError(f"unknown table {name!r} (known: {', '.join(sorted(TABLES))})")
        parts = self.parts(name)
        if not parts:
            return TABLES[name].empty_table()
        try:
            return pa.concat_tables([pq.read_table(part) for part in parts])
        except (OSError, pa.ArrowException) as error:
            raise RecordingError(f"{self.run_dir}: table {name} is unreadable ({error})") from None

    def content_hash(self) -> str:
        """SHA-256 over the scenario and every table's rows; equal for equal recordings.

        Hashes decoded rows rather than file bytes, so it does not depend on how rows were
        split into parts or on the Parquet writer's version string.
        """
        digest = hashlib.sha256(self.scenario_text.encode("utf-8"))
        for name in sorted(TABLES):
            table = self.table(name).combine_chunks()
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as stream:
                stream.write_table(table)
            digest.update(name.encode())
            digest.update(sink.getvalue().to_pybytes())
        return digest.hexdigest()
