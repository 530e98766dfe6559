"""The tables of a recording and their Arrow schemas (see ``docs/recording.md``)."""

from __future__ import annotations

import pyarrow as pa

FORMAT_VERSION = 1
"""Version of the run-directory layout; bumped on any incompatible change."""

TRUTH = pa.schema(
    [
        ("time_s", pa.float64()),
        ("threat", pa.string()),
        ("threat_index", pa.int32()),
        ("category", pa.int8()),
        ("phase", pa.int8()),
        ("x_m", pa.float64()),
        ("y_m", pa.float64()),
        ("z_m", pa.float64()),
        ("vx_mps", pa.float64()),
        ("vy_mps", pa.float64()),
        ("vz_mps", pa.float64()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("alt_m", pa.float64()),
    ]
)

DETECTIONS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("sensor", pa.string()),
        ("nation", pa.string()),
        ("kind", pa.int8()),
        ("z0", pa.float64()),
        ("z1", pa.float64()),
        ("z2", pa.float64()),
        ("r00", pa.float64()),
        ("r01", pa.float64()),
        ("r02", pa.float64()),
        ("r11", pa.float64()),
        ("r12", pa.float64()),
        ("r22", pa.float64()),
        ("snr_db", pa.float64()),
        ("truth_threat", pa.string()),
        ("sensor_x_m", pa.float64()),
        ("sensor_y_m", pa.float64()),
        ("sensor_z_m", pa.float64()),
        ("sensor_lat_deg", pa.float64()),
        ("sensor_lon_deg", pa.float64()),
    ]
)

PLATFORMS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("site", pa.string()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("alt_m", pa.float64()),
        ("heading_deg", pa.float64()),
    ]
)

THREATS = pa.schema(
    [
        ("threat", pa.string()),
        ("threat_index", pa.int32()),
        ("category", pa.int8()),
        ("launch_time_s", pa.float64()),
        ("burnout_time_s", pa.float64()),
        ("end_time_s", pa.float64()),
        ("end_lat_deg", pa.float64()),
        ("end_lon_deg", pa.float64()),
        ("rcs_m2", pa.float64()),
    ]
)

SENSORS = pa.schema(
    [
        ("sensor", pa.string()),
        ("nation", pa.string()),
        ("kind", pa.string()),
        ("site", pa.string()),
        ("period_s", pa.float64()),
    ]
)

LOCAL_TRACKS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("node", pa.string()),
        ("track", pa.int64()),
        ("status", pa.int8()),
        ("category", pa.int8()),
        ("quality", pa.int8()),
        ("updated_at_s", pa.float64()),
        ("x_m", pa.float64()),
        ("y_m", pa.float64()),
        ("z_m", pa.float64()),
        ("vx_mps", pa.float64()),
        ("vy_mps", pa.float64()),
        ("vz_mps", pa.float64()),
        ("impact_time_s", pa.float64()),
        ("impact_lat_deg", pa.float64()),
        ("impact_lon_deg", pa.float64()),
        ("impact_semi_major_m", pa.float64()),
        ("impact_semi_minor_m", pa.float64()),
        ("impact_orientation_deg", pa.float64()),
        # Row-major 6×6 state covariance: a fixed-size list keeps it one column that Arrow,
        # Polars and DuckDB all read as an array.
        ("covariance", pa.list_(pa.float64(), 36)),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "truth": TRUTH,
    "detections": DETECTIONS,
    "local_tracks": LOCAL_TRACKS,
    "platforms": PLATFORMS,
    "threats": THREATS,
    "sensors": SENSORS,
}
"""Every table a recording may hold, by name."""
