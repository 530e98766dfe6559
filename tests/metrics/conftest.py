"""Small recording tables for the tracking metrics."""

import math
from collections.abc import Callable

import pyarrow as pa
import pytest

from iamd.record.schema import TRUTH

# The ``local_tracks`` columns the metrics read (the table itself is defined by the tracker's
# recording; extra columns are ignored).
LOCAL_TRACKS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("node", pa.string()),
        ("track", pa.int64()),
        ("status", pa.int8()),
        ("x_m", pa.float64()),
        ("y_m", pa.float64()),
        ("z_m", pa.float64()),
        ("vx_mps", pa.float64()),
        ("vy_mps", pa.float64()),
        ("vz_mps", pa.float64()),
    ]
)

Rows = list[dict[str, object]]


def table(schema: pa.Schema, rows: Rows) -> pa.Table:
    full = [
        {
            name: row.get(name, math.nan if schema.field(name).type == pa.float64() else None)
            for name in schema.names
        }
        for row in rows
    ]
    return pa.Table.from_pylist(full, schema=schema)


@pytest.fixture
def truth_table() -> Callable[[Rows], pa.Table]:
    return lambda rows: table(TRUTH, rows)


@pytest.fixture
def tracks_table() -> Callable[[Rows], pa.Table]:
    return lambda rows: table(LOCAL_TRACKS, rows)


@pytest.fixture
def make_table() -> Callable[[pa.Schema, Rows], pa.Table]:
    return table
