import json
from pathlib import Path

import numpy as np
import pytest

from iamd.core import RecordingError
from iamd.record import Recording, RecordingWriter


def _platform_rows(n: int, t: float) -> dict[str, object]:
    return {
        "time_s": [t] * n,
        "site": [f"S{i}" for i in range(n)],
        "lat_deg": np.zeros(n),
        "lon_deg": np.arange(n, dtype=float),
        "alt_m": np.zeros(n),
        "heading_deg": np.zeros(n),
    }


def test_parts_are_readable_before_close(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path / "run", scenario_text="name: x\n", meta={"seed": 1})
    table = writer.table("platforms")
    table.max_rows = 3
    for step in range(5):
        table.append(_platform_rows(2, float(step)))
    # The writer has not been closed: whatever was flushed must already be readable,
    # and meta.json must say the run did not finish.
    recording = Recording(tmp_path / "run")
    assert recording.status == "running"
    rows = recording.table("platforms")
    assert rows.num_rows in (4, 6, 8)
    assert rows["time_s"].to_pylist()[:2] == [0.0, 0.0]
    writer.close("complete")
    recording = Recording(tmp_path / "run")
    assert recording.status == "complete"
    assert recording.table("platforms").num_rows == 10
    assert recording.meta["rows"] == {"platforms": 10}


def test_missing_table_reads_empty_and_hash_is_stable(tmp_path: Path) -> None:
    for name in ("a", "b"):
        writer = RecordingWriter(tmp_path / name, scenario_text="s", meta={})
        writer.table("platforms").append(_platform_rows(3, 1.0))
        writer.close("complete")
    a, b = Recording(tmp_path / "a"), Recording(tmp_path / "b")
    assert a.table("detections").num_rows == 0
    assert a.content_hash() == b.content_hash()


def test_hash_changes_with_content(tmp_path: Path) -> None:
    for name, t in (("a", 1.0), ("b", 2.0)):
        writer = RecordingWriter(tmp_path / name, scenario_text="s", meta={})
        writer.table("platforms").append(_platform_rows(3, t))
        writer.close("complete")
    assert Recording(tmp_path / "a").content_hash() != Recording(tmp_path / "b").content_hash()


def test_refuses_non_empty_output_directory(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "other.txt").write_text("x")
    with pytest.raises(RecordingError, match="exists and is not empty"):
        RecordingWriter(tmp_path / "run", scenario_text="", meta={})


def test_reader_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no such directory"):
        Recording(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecordingError, match=r"no meta\.json"):
        Recording(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "meta.json").write_text("{not json")
    with pytest.raises(RecordingError, match="unreadable metadata"):
        Recording(tmp_path / "bad")
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "meta.json").write_text(json.dumps([1]))
    with pytest.raises(RecordingError, match="not a JSON object"):
        Recording(tmp_path / "list")


def test_temporary_files_are_never_read(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path / "run", scenario_text="", meta={})
    writer.table("platforms").append(_platform_rows(1, 0.0))
    writer.flush()
    folder = tmp_path / "run" / "tables" / "platforms"
    (folder / "part-000001.parquet.tmp").write_bytes(b"half a file")
    assert Recording(tmp_path / "run").table("platforms").num_rows == 1
