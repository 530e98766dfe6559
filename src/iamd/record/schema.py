"""The tables of a recording and their Arrow schemas (see ``docs/recording.md``)."""

from __future__ import annotations

import pyarrow as pa

FORMAT_VERSION = 1
"""Version of the run-directory layout; bumped on any incompatible change."""

_STATE = [
    ("x_m", pa.float64()),
    ("y_m", pa.float64()),
    ("z_m", pa.float64()),
    ("vx_mps", pa.float64()),
    ("vy_mps", pa.float64()),
    ("vz_mps", pa.float64()),
]
"""ECEF position (m) and velocity (m/s) columns, shared by every table of states."""

_IMPACT = [
    ("impact_time_s", pa.float64()),
    ("impact_lat_deg", pa.float64()),
    ("impact_lon_deg", pa.float64()),
    ("impact_semi_major_m", pa.float64()),
    ("impact_semi_minor_m", pa.float64()),
    ("impact_orientation_deg", pa.float64()),
]
"""Impact-prediction columns, shared by ``local_tracks`` and ``system_tracks``."""

TRUTH = pa.schema(
    [
        ("time_s", pa.float64()),
        ("threat", pa.string()),
        ("threat_index", pa.int32()),
        ("category", pa.int8()),
        ("phase", pa.int8()),
        *_STATE,
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
        *_STATE,
        *_IMPACT,
        # Row-major 6×6 state covariance: a fixed-size list keeps it one column that Arrow,
        # Polars and DuckDB all read as an array.
        ("covariance", pa.list_(pa.float64(), 36)),
    ]
)


SYSTEM_TRACKS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("node", pa.string()),
        ("track", pa.int64()),
        ("network_track_number", pa.int64()),
        ("status", pa.int8()),
        ("category", pa.int8()),
        ("quality", pa.int8()),
        ("updated_at_s", pa.float64()),
        *_STATE,
        # Upper triangle of the 3×3 position covariance, m² (the full 6×6 at every snapshot
        # of every node would dominate the recording).
        ("pxx_m2", pa.float64()),
        ("pxy_m2", pa.float64()),
        ("pxz_m2", pa.float64()),
        ("pyy_m2", pa.float64()),
        ("pyz_m2", pa.float64()),
        ("pzz_m2", pa.float64()),
        ("sources", pa.uint64()),
        ("reporter", pa.string()),
        ("reporting", pa.bool_()),
        ("local_track", pa.int64()),
        ("merged_into", pa.int64()),
        ("previous_number", pa.int64()),
        ("split_from", pa.int64()),
        *_IMPACT,
    ]
)
"""Each node's air picture at every snapshot; ``sources`` is a mask over ``meta.nations``."""

TRACK_REPORTS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("sender", pa.string()),
        ("recipient", pa.string()),
        ("sequence", pa.int64()),
        ("originator", pa.string()),
        ("reporting_node", pa.string()),
        ("network_track_number", pa.int64()),
        ("local_track_number", pa.int64()),
        ("valid_at_s", pa.float64()),
        ("status", pa.int8()),
        ("category", pa.int8()),
        ("quality", pa.int8()),
        ("sensor_id", pa.int64()),
        ("classification", pa.int8()),
        ("rel_to", pa.uint64()),
        ("caveats", pa.int64()),
        ("x_m", pa.float64()),
        ("y_m", pa.float64()),
        ("z_m", pa.float64()),
    ]
)
"""Every report handed to a link, as sent (after sanitisation); ``rel_to`` over
``meta.nations``."""

AUDIT = pa.schema(
    [
        ("kind", pa.string()),
        ("time_s", pa.float64()),
        ("node", pa.string()),
        ("recipient", pa.string()),
        ("track_number", pa.int64()),
        ("originator", pa.string()),
        ("decision", pa.int8()),
        ("reason", pa.int8()),
        ("classification", pa.int8()),
        ("rel_to", pa.uint64()),
        ("caveats", pa.int64()),
        ("category", pa.int8()),
    ]
)
"""One row per outbound release decision (:class:`iamd.network.AuditRecords`)."""

DELIVERIES = pa.schema(
    [
        ("kind", pa.string()),
        ("time_s", pa.float64()),
        ("node", pa.string()),
        ("sender", pa.string()),
        ("track_number", pa.int64()),
        ("originator", pa.string()),
        ("classification", pa.int8()),
        ("rel_to", pa.uint64()),
        ("caveats", pa.int64()),
        ("category", pa.int8()),
        ("valid_at_s", pa.float64()),
        ("accepted", pa.bool_()),
        ("reason", pa.int8()),
    ]
)
"""One row per item that reached a node (:class:`iamd.network.DeliveryRecords`)."""

LINK_EVENTS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("link", pa.string()),
        ("sender", pa.string()),
        ("receiver", pa.string()),
        ("sequence", pa.int64()),
        ("reports", pa.int32()),
        ("size_bytes", pa.int64()),
        ("departure_s", pa.float64()),
        ("arrival_s", pa.float64()),
        ("drop_reason", pa.string()),
    ]
)
"""One row per message handed to a link; ``arrival_s`` NaN and ``drop_reason`` set when
it was not delivered."""

REJECTS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("node", pa.string()),
        ("link_sender", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)
"""One row per message a node's inbound gate rejected whole (signature, wire format,
replay)."""

DEFENDED_ASSETS = pa.schema(
    [
        ("asset", pa.string()),
        ("nation", pa.string()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("radius_m", pa.float64()),
        ("value", pa.float64()),
    ]
)
"""The scenario's defended assets (static; written when nations have rules of engagement)."""

ENGAGEMENTS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("shot", pa.int64()),
        ("nation", pa.string()),
        ("shooter", pa.string()),
        ("track_number", pa.int64()),
        ("decided_at_s", pa.float64()),
        ("launch_at_s", pa.float64()),
        ("intercept_at_s", pa.float64()),
        ("value_at_risk", pa.float64()),
        ("asset", pa.string()),
        ("asset_nation", pa.string()),
        ("kill_probability", pa.float64()),
        ("intended_threat", pa.string()),
        ("requested_by", pa.string()),
        ("track_sources", pa.string()),
        ("result", pa.string()),
        ("threat", pa.string()),
        ("miss_m", pa.float64()),
    ]
)
"""One row per interceptor, written when it reaches its intercept time."""

ASSESSMENTS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("shot", pa.int64()),
        ("nation", pa.string()),
        ("track_number", pa.int64()),
        ("killed", pa.bool_()),
        ("assessed_killed", pa.bool_()),
    ]
)
"""One row per kill assessment: what happened, and what the nation believes."""

WARNINGS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("node", pa.string()),
        ("originator", pa.string()),
        ("network_track_number", pa.int64()),
        ("update_number", pa.int64()),
        ("valid_at_s", pa.float64()),
        ("launch_time_s", pa.float64()),
        ("launch_lat_deg", pa.float64()),
        ("launch_lon_deg", pa.float64()),
        ("impact_time_s", pa.float64()),
        ("impact_lat_deg", pa.float64()),
        ("impact_lon_deg", pa.float64()),
        ("impact_semi_major_m", pa.float64()),
        ("impact_semi_minor_m", pa.float64()),
        ("impact_orientation_deg", pa.float64()),
    ]
)
"""Missile warnings, one row per warning a node accepted from another nation."""

INVENTORY = pa.schema(
    [
        ("time_s", pa.float64()),
        ("shooter", pa.string()),
        ("nation", pa.string()),
        ("ready", pa.int64()),
        ("depot", pa.int64()),
    ]
)
"""Rounds of each battery: at time 0 and whenever they change (shots, reloads, deliveries)."""

REQUESTS = pa.schema(
    [
        ("time_s", pa.float64()),
        ("requester", pa.string()),
        ("owner", pa.string()),
        ("shooter", pa.string()),
        ("track_number", pa.int64()),
        ("shots", pa.int64()),
        ("state", pa.string()),
        ("reason", pa.string()),
    ]
)
"""Cross-nation engagement requests: each sent, received, accepted or declined."""

TABLES: dict[str, pa.Schema] = {
    "truth": TRUTH,
    "detections": DETECTIONS,
    "local_tracks": LOCAL_TRACKS,
    "platforms": PLATFORMS,
    "threats": THREATS,
    "sensors": SENSORS,
    "system_tracks": SYSTEM_TRACKS,
    "track_reports": TRACK_REPORTS,
    "audit": AUDIT,
    "deliveries": DELIVERIES,
    "link_events": LINK_EVENTS,
    "rejects": REJECTS,
    "defended_assets": DEFENDED_ASSETS,
    "engagements": ENGAGEMENTS,
    "assessments": ASSESSMENTS,
    "requests": REQUESTS,
    "warnings": WARNINGS,
    "inventory": INVENTORY,
}
"""Every table a recording may hold, by name."""
