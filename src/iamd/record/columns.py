"""Flatten message records into the columns of the recording's tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from iamd.core.typing import IntArray
from iamd.geo import ecef_to_geodetic
from iamd.messages import Detections, PlatformState, TruthState
from iamd.messages.detections import FALSE_ALARM
from iamd.messages.tracks import LocalTracks

Columns = dict[str, Any]


def truth_columns(state: TruthState, threat_ids: Sequence[str], categories: IntArray) -> Columns:
    """Rows of the ``truth`` table for the threats in flight at ``state.time_s``."""
    rows = np.flatnonzero(state.active)
    position = state.position_ecef_m[rows]
    velocity = state.velocity_ecef_mps[rows]
    lat, lon, _ = ecef_to_geodetic(position)
    return {
        "time_s": np.full(rows.size, state.time_s),
        "threat": [threat_ids[i] for i in rows.tolist()],
        "threat_index": rows.astype(np.int32),
        "category": categories[rows].astype(np.int8),
        "phase": state.phase[rows].astype(np.int8),
        "x_m": position[:, 0],
        "y_m": position[:, 1],
        "z_m": position[:, 2],
        "vx_mps": velocity[:, 0],
        "vy_mps": velocity[:, 1],
        "vz_mps": velocity[:, 2],
        "lat_deg": lat,
        "lon_deg": lon,
        "alt_m": state.altitude_m[rows],
    }


def detection_columns(detections: Detections, threat_ids: Sequence[str]) -> Columns:
    """Rows of the ``detections`` table for one batch (2-D measurements pad with NaN)."""
    count = len(detections)
    z = np.full((count, 3), np.nan)
    r = np.full((count, 3, 3), np.nan)
    dim = detections.measurements.shape[1]
    z[:, :dim] = detections.measurements
    r[:, :dim, :dim] = detections.covariances
    position = detections.sensor_position_ecef_m
    truth = [None if i == FALSE_ALARM else threat_ids[i] for i in detections.truth_index.tolist()]
    return {
        "time_s": np.full(count, detections.valid_at),
        "sensor": [str(detections.sensor)] * count,
        "nation": [str(detections.nation)] * count,
        "kind": np.full(count, int(detections.kind), dtype=np.int8),
        "z0": z[:, 0],
        "z1": z[:, 1],
        "z2": z[:, 2],
        "r00": r[:, 0, 0],
        "r01": r[:, 0, 1],
        "r02": r[:, 0, 2],
        "r11": r[:, 1, 1],
        "r12": r[:, 1, 2],
        "r22": r[:, 2, 2],
        "snr_db": detections.snr_db,
        "truth_threat": truth,
        "sensor_x_m": np.full(count, position[0]),
        "sensor_y_m": np.full(count, position[1]),
        "sensor_z_m": np.full(count, position[2]),
        "sensor_lat_deg": np.full(count, detections.sensor_lat_deg),
        "sensor_lon_deg": np.full(count, detections.sensor_lon_deg),
    }


def platform_columns(sites: Sequence[str], states: Sequence[PlatformState]) -> Columns:
    """Rows of the ``platforms`` table: where each site is at one time."""
    return {
        "time_s": [s.time_s for s in states],
        "site": list(sites),
        "lat_deg": [s.lat_deg for s in states],
        "lon_deg": [s.lon_deg for s in states],
        "alt_m": [s.alt_m for s in states],
        "heading_deg": [s.heading_deg for s in states],
    }


def track_columns(tracks: LocalTracks) -> Columns:
    """Rows of the ``local_tracks`` table for one step of one node."""
    count = len(tracks)
    state = tracks.state
    return {
        "time_s": np.full(count, tracks.valid_at),
        "node": [str(tracks.node)] * count,
        "track": tracks.track_number.astype(np.int64),
        "status": tracks.status.astype(np.int8),
        "category": tracks.category.astype(np.int8),
        "quality": tracks.quality.astype(np.int8),
        "updated_at_s": tracks.updated_at,
        "x_m": state[:, 0],
        "y_m": state[:, 1],
        "z_m": state[:, 2],
        "vx_mps": state[:, 3],
        "vy_mps": state[:, 4],
        "vz_mps": state[:, 5],
        "impact_time_s": tracks.impact_time_s,
        "impact_lat_deg": tracks.impact_lat_deg,
        "impact_lon_deg": tracks.impact_lon_deg,
        "impact_semi_major_m": tracks.impact_semi_major_m,
        "impact_semi_minor_m": tracks.impact_semi_minor_m,
        "impact_orientation_deg": tracks.impact_orientation_deg,
        "covariance": list(tracks.covariance.reshape(count, 36)),
    }
