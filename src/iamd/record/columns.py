"""Flatten message records into the columns of the recording's tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from iamd.core.ids import NationCode
from iamd.core.typing import IntArray
from iamd.geo import ecef_to_geodetic
from iamd.messages import Detections, PlatformState, TrackReports, TruthState
from iamd.messages.detections import FALSE_ALARM
from iamd.messages.picture import SystemTracks
from iamd.messages.reports import remap_rel_to
from iamd.messages.tracks import LocalTracks
from iamd.network import AuditRecords, DeliveryRecords

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


STATE_NAMES = ("x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps")
"""Columns of an ECEF state (position m, velocity m/s), in state order."""

IMPACT_NAMES = (
    "impact_time_s",
    "impact_lat_deg",
    "impact_lon_deg",
    "impact_semi_major_m",
    "impact_semi_minor_m",
    "impact_orientation_deg",
)
"""Columns of an impact prediction, named as the message fields."""


def state_columns(state: npt.NDArray[np.float64]) -> Columns:
    """The six state columns of ``(K, 6)`` ECEF states."""
    return {name: state[:, j] for j, name in enumerate(STATE_NAMES)}


def impact_columns(tracks: LocalTracks | SystemTracks) -> Columns:
    """The impact-prediction columns of a batch of tracks."""
    return {name: getattr(tracks, name) for name in IMPACT_NAMES}


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
        **state_columns(state),
        **impact_columns(tracks),
        "covariance": list(tracks.covariance.reshape(count, 36)),
    }


def _codes(table: Sequence[str], index: IntArray) -> list[str]:
    """Nation codes of ``index`` into ``table`` ("" for -1 or out of range)."""
    return [table[i] if 0 <= i < len(table) else "" for i in np.asarray(index).tolist()]


def system_track_columns(tracks: SystemTracks, nations: Sequence[str]) -> Columns:
    """Rows of the ``system_tracks`` table: one node's picture at one time.

    ``sources`` is rewritten from the picture's own nation table to the run's ``nations``.
    """
    count = len(tracks)
    state = tracks.state
    cov = tracks.covariance
    return {
        "time_s": np.full(count, tracks.valid_at),
        "node": [str(tracks.node)] * count,
        "track": tracks.track_id.astype(np.int64),
        "network_track_number": tracks.network_track_number.astype(np.int64),
        "status": tracks.status.astype(np.int8),
        "category": tracks.category.astype(np.int8),
        "quality": tracks.quality.astype(np.int8),
        "updated_at_s": tracks.updated_at,
        **state_columns(state),
        "pxx_m2": cov[:, 0, 0],
        "pxy_m2": cov[:, 0, 1],
        "pxz_m2": cov[:, 0, 2],
        "pyy_m2": cov[:, 1, 1],
        "pyz_m2": cov[:, 1, 2],
        "pzz_m2": cov[:, 2, 2],
        "sources": remap_rel_to(tracks.sources, tracks.nations, nations),
        "reporter": _codes(tracks.nations, tracks.reporter),
        "reporting": tracks.reporting.astype(bool),
        "local_track": tracks.local_track_number.astype(np.int64),
        "merged_into": tracks.merged_into.astype(np.int64),
        "previous_number": tracks.previous_number.astype(np.int64),
        "split_from": tracks.split_from.astype(np.int64),
        **impact_columns(tracks),
    }


def report_columns(reports: TrackReports, recipient: str, nations: Sequence[str]) -> Columns:
    """Rows of the ``track_reports`` table: one message as handed to the link."""
    count = len(reports)
    table = reports.nations
    return {
        "time_s": np.full(count, reports.sent_at),
        "sender": [str(reports.sender)] * count,
        "recipient": [recipient] * count,
        "sequence": np.full(count, reports.sequence, dtype=np.int64),
        "originator": _codes(table, reports.originator),
        "reporting_node": _codes(table, reports.reporting_node),
        "network_track_number": reports.network_track_number.astype(np.int64),
        "local_track_number": reports.local_track_number.astype(np.int64),
        "valid_at_s": reports.valid_at,
        "status": reports.status.astype(np.int8),
        "category": reports.category.astype(np.int8),
        "quality": reports.quality.astype(np.int8),
        "sensor_id": reports.sensor_id.astype(np.int64),
        "classification": reports.classification.astype(np.int8),
        "rel_to": remap_rel_to(reports.rel_to, table, nations),
        "caveats": reports.caveats.astype(np.int64),
        "x_m": reports.state[:, 0],
        "y_m": reports.state[:, 1],
        "z_m": reports.state[:, 2],
    }


def audit_columns(records: AuditRecords, nations: Sequence[str], kind: str = "track") -> Columns:
    """Rows of the ``audit`` table; ``rel_to`` over the run's ``nations``.

    ``kind`` names what the items were: ``track`` reports, ``measurement`` reports or
    ``engagement`` statuses.
    """
    table = records.nations
    return {
        "kind": [kind] * len(records),
        "time_s": records.time_s,
        "node": _codes(table, records.node),
        "recipient": _codes(table, records.recipient),
        "track_number": records.track_number.astype(np.int64),
        "originator": _codes(table, records.originator),
        "decision": records.decision.astype(np.int8),
        "reason": records.reason.astype(np.int8),
        "classification": records.classification.astype(np.int8),
        "rel_to": remap_rel_to(records.rel_to, table, nations),
        "caveats": records.caveats.astype(np.int64),
        "category": records.category.astype(np.int8),
    }


def delivery_columns(
    records: DeliveryRecords, nations: Sequence[str], kind: str = "track"
) -> Columns:
    """Rows of the ``deliveries`` table; ``rel_to`` over the run's ``nations``.

    ``kind`` as for :func:`audit_columns`.
    """
    table = records.nations
    return {
        "kind": [kind] * len(records),
        "time_s": records.time_s,
        "node": _codes(table, records.node),
        "sender": _codes(table, records.sender),
        "track_number": records.track_number.astype(np.int64),
        "originator": _codes(table, records.originator),
        "classification": records.classification.astype(np.int8),
        "rel_to": remap_rel_to(records.rel_to, table, nations),
        "caveats": records.caveats.astype(np.int64),
        "category": records.category.astype(np.int8),
        "valid_at_s": records.valid_at_s,
        "accepted": records.accepted.astype(bool),
        "reason": records.reason.astype(np.int8),
    }


def audit_records(columns: Mapping[str, Any], nations: Sequence[str]) -> AuditRecords:
    """The ``audit`` table's columns (as read back) as :class:`AuditRecords` over ``nations``.

    A code not in ``nations`` becomes index -1, which the invariant checker reports as a
    malformed record.
    """
    return AuditRecords(
        nations=tuple(NationCode(n) for n in nations),
        time_s=np.asarray(columns["time_s"], np.float64),
        node=_indices(columns["node"], nations),
        recipient=_indices(columns["recipient"], nations),
        track_number=np.asarray(columns["track_number"], np.int64),
        originator=_indices(columns["originator"], nations),
        decision=np.asarray(columns["decision"], np.int64),
        reason=np.asarray(columns["reason"], np.int64),
        classification=np.asarray(columns["classification"], np.int64),
        rel_to=np.asarray(columns["rel_to"], np.uint64),
        caveats=np.asarray(columns["caveats"], np.int64),
        category=np.asarray(columns["category"], np.int64),
    )


def delivery_records(columns: Mapping[str, Any], nations: Sequence[str]) -> DeliveryRecords:
    """The ``deliveries`` table's columns as :class:`DeliveryRecords` over ``nations``."""
    return DeliveryRecords(
        nations=tuple(NationCode(n) for n in nations),
        time_s=np.asarray(columns["time_s"], np.float64),
        node=_indices(columns["node"], nations),
        sender=_indices(columns["sender"], nations),
        track_number=np.asarray(columns["track_number"], np.int64),
        originator=_indices(columns["originator"], nations),
        classification=np.asarray(columns["classification"], np.int64),
        rel_to=np.asarray(columns["rel_to"], np.uint64),
        caveats=np.asarray(columns["caveats"], np.int64),
        category=np.asarray(columns["category"], np.int64),
        valid_at_s=np.asarray(columns["valid_at_s"], np.float64),
        accepted=np.asarray(columns["accepted"], bool),
        reason=np.asarray(columns["reason"], np.int64),
    )


def _indices(codes: Sequence[str] | npt.ArrayLike, nations: Sequence[str]) -> IntArray:
    lookup = {code: i for i, code in enumerate(nations)}
    return np.array([lookup.get(str(c), -1) for c in np.asarray(codes).tolist()], np.int64)
