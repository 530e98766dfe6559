"""Local tracks: a node's own estimates of the objects its sensors see."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from iamd.core.ids import NationCode
from iamd.core.typing import FloatArray, IntArray


class TrackStatus(enum.IntEnum):
    """Life-cycle state of a track (stored as its integer value)."""

    TENTATIVE = 1
    """Initiated, not yet confirmed; not reported to other nodes."""

    CONFIRMED = 2
    """Confirmed by M-of-N and updated on the last scan that expected a detection."""

    COASTING = 3
    """Confirmed, but the last scan that expected a detection got none: predicted only."""

    DROPPED = 4
    """Deleted; its track number is never reused."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalTracks:
    """The tracks of one node that changed at one processing step.

    Attributes
    ----------
    node : NationCode
        The node (nation) that holds the tracks.
    valid_at : float
        Time of the step, s since the scenario epoch; every state is given at this time.
    track_number : ndarray of int, shape (K,)
        The node's local track numbers (stable for a track's life, never reused).
    status : ndarray of int, shape (K,)
        :class:`TrackStatus` values.
    category : ndarray of int, shape (K,)
        :class:`~iamd.messages.truth.ThreatCategory` values, or 0 when not yet classified.
    state : ndarray, shape (K, 6)
        ECEF position (m) and velocity relative to the Earth (m/s).
    covariance : ndarray, shape (K, 6, 6)
        State covariance, m² / m²·s⁻¹ / m²·s⁻².
    quality : ndarray of int, shape (K,)
        Track quality 0–15 (15 best).
    updated_at : ndarray, shape (K,)
        Time of each track's last measurement update, s since the epoch.
    impact_time_s : ndarray, shape (K,)
        Predicted impact time of ballistic tracks, s since the epoch (NaN: no prediction).
    impact_lat_deg, impact_lon_deg : ndarray, shape (K,)
        Predicted impact point, geodetic degrees (NaN: no prediction).
    impact_semi_major_m, impact_semi_minor_m : ndarray, shape (K,)
        Semi-axes of the 95 % impact error ellipse on the ground, m.
    impact_orientation_deg : ndarray, shape (K,)
        Direction of the ellipse's major axis, degrees clockwise from north, [0, 180).
    """

    node: NationCode
    valid_at: float
    track_number: IntArray
    status: IntArray
    category: IntArray
    state: FloatArray
    covariance: FloatArray
    quality: IntArray
    updated_at: FloatArray
    impact_time_s: FloatArray
    impact_lat_deg: FloatArray
    impact_lon_deg: FloatArray
    impact_semi_major_m: FloatArray
    impact_semi_minor_m: FloatArray
    impact_orientation_deg: FloatArray

    def __len__(self) -> int:
        return int(self.track_number.shape[0])
