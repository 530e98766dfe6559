"""The air picture of one node: its system tracks, and the own tracks it must report.

Both records are batches, like :class:`~iamd.messages.reports.TrackReports`: every per-item
field is a NumPy array over the ``K`` items, and the constructors do not validate (the fusion
stage builds them from arrays it already checked).

:class:`SystemTracks` is what a node's recording keeps of its picture at one time: one row per
system track, plus one final row (status ``DROPPED``) for each track that ended since the
previous snapshot. Three *change fields* let a metric count network track number changes
without replaying the fusion: they are non-zero only in the first snapshot after the change.

``merged_into``
    On a ``DROPPED`` row: the number of the system track this one was merged into (two
    numbers for one object; the other number survived). 0 when the track simply ended.
``previous_number``
    The number this system track had in the previous snapshot, when it changed since (it
    adopted the number another node uses for the object). 0 when unchanged.
``split_from``
    On the first row of a track that was split off another one (one number held two objects
    that separated): that track's number at the split. 0 otherwise.

:class:`ReportsDue` is what the fusion stage tells the outbound side after a decision on
reporting responsibility: which of the node's *own* local tracks it must report, under which
network track numbers. It never holds a remote or fused estimate: reporting a fused track, or
relaying another node's track as one's own, would feed the network's own output back to it as
if it were a new measurement (data incest).
"""

from __future__ import annotations

from dataclasses import dataclass

from iamd.core.ids import NationCode
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.messages.reports import MaskArray

NO_NATION = -1
"""``reporter`` value of a system track nobody is known to report."""

NO_LOCAL_TRACK = -1
"""``local_track_number`` value of a system track the node holds no own local track of."""


# eq=False: arrays have no single truth value, so field-wise == would raise; compare the
# arrays explicitly instead.
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SystemTracks:
    """The system tracks one node holds at one time (its air picture).

    Attributes
    ----------
    node : NationCode
        The node whose picture this is.
    valid_at : float
        Time of the snapshot, s since the scenario epoch; every live track's state is
        predicted to it.
    nations : tuple of NationCode
        Nation table that ``sources`` bits and ``reporter`` refer to (≤ 64 codes); the node
        itself is ``nations[0]``.
    track_id : ndarray of int, shape (K,)
        The node's own identity of each system track: stable for the track's life even when
        its network number changes, never reused, meaningless to other nodes.
    network_track_number : ndarray of int, shape (K,)
        Network track number (≥ 1), or 0 while the track waits for one (a track split off a
        number that another node still reports the object under).
    status : ndarray of int, shape (K,)
        :class:`~iamd.messages.tracks.TrackStatus` values: the best status among the
        contributing local tracks (confirmed before coasting), or ``DROPPED`` on the final row
        of a track that ended.
    category : ndarray of int, shape (K,)
        :class:`~iamd.messages.truth.ThreatCategory` of the best-quality contribution that is
        classified, or 0.
    state : ndarray, shape (K, 6)
        Fused ECEF position (m) and velocity relative to the Earth (m/s) at ``valid_at``
        (at ``updated_at`` on a ``DROPPED`` row).
    covariance : ndarray, shape (K, 6, 6)
        Its covariance, m² / m²·s⁻¹ / m²·s⁻².
    quality : ndarray of int, shape (K,)
        Track quality 0–15: the best quality among the contributions, as their sources
        reported it.
    updated_at : ndarray, shape (K,)
        Time of the newest contribution, s since the epoch.
    sources : ndarray of uint64, shape (K,)
        Bitmask over ``nations``: bit ``j`` set when ``nations[j]`` contributes a track.
    reporter : ndarray of int, shape (K,)
        Index into ``nations`` of the node that holds reporting responsibility, as this node
        sees it (``0`` is this node), or :data:`NO_NATION`.
    reporting : ndarray of bool, shape (K,)
        Whether this node holds reporting responsibility (reports its own track of it).
    local_track_number : ndarray of int, shape (K,)
        This node's own local track in the system track, or :data:`NO_LOCAL_TRACK`.
    merged_into, previous_number, split_from : ndarray of int, shape (K,)
        The change fields (module notes).
    impact_time_s : ndarray, shape (K,)
        Predicted impact time of the best-quality contribution that has one, s since the
        epoch (NaN: no prediction).
    impact_lat_deg, impact_lon_deg : ndarray, shape (K,)
        Predicted impact point, geodetic degrees (NaN: no prediction).
    impact_semi_major_m, impact_semi_minor_m : ndarray, shape (K,)
        Semi-axes of the 95 % impact error ellipse on the ground, m.
    impact_orientation_deg : ndarray, shape (K,)
        Direction of the ellipse's major axis, degrees clockwise from north, [0, 180].
    """

    node: NationCode
    valid_at: float
    nations: tuple[NationCode, ...]
    track_id: IntArray
    network_track_number: IntArray
    status: IntArray
    category: IntArray
    state: FloatArray
    covariance: FloatArray
    quality: IntArray
    updated_at: FloatArray
    sources: MaskArray
    reporter: IntArray
    reporting: BoolArray
    local_track_number: IntArray
    merged_into: IntArray
    previous_number: IntArray
    split_from: IntArray
    impact_time_s: FloatArray
    impact_lat_deg: FloatArray
    impact_lon_deg: FloatArray
    impact_semi_major_m: FloatArray
    impact_semi_minor_m: FloatArray
    impact_orientation_deg: FloatArray

    def __len__(self) -> int:
        return int(self.network_track_number.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReportsDue:
    """The own local tracks a node must report now, and the numbers to report them under.

    Every estimate here is the node's own local track exactly as its tracker gave it (module
    notes: no fused or remote data).

    Attributes
    ----------
    node : NationCode
        The reporting node (the originator and reporting node of every report).
    decided_at : float
        Time of the decision on reporting responsibility, s since the scenario epoch.
    network_track_number : ndarray of int, shape (K,)
        Network track number to report each track under (≥ 1).
    local_track_number : ndarray of int, shape (K,)
        The node's local track number.
    valid_at : ndarray, shape (K,)
        Time of each state, s since the epoch (the tracker's latest row of the track).
    state : ndarray, shape (K, 6)
        ECEF position (m) and velocity relative to the Earth (m/s).
    covariance : ndarray, shape (K, 6, 6)
        State covariance, m² / m²·s⁻¹ / m²·s⁻².
    quality : ndarray of int, shape (K,)
        Track quality 0–15.
    status : ndarray of int, shape (K,)
        :class:`~iamd.messages.tracks.TrackStatus` values. ``DROPPED`` marks the final report
        of a track the node was reporting and no longer holds (its tracker dropped it):
        send it like the others, so that receivers let another node take over at once.
    category : ndarray of int, shape (K,)
        :class:`~iamd.messages.truth.ThreatCategory` values, or 0.
    updated_at : ndarray, shape (K,)
        Time of each track's last measurement update, s since the epoch.
    impact_time_s, impact_lat_deg, impact_lon_deg, impact_semi_major_m, impact_semi_minor_m, \
impact_orientation_deg : ndarray, shape (K,)
        The local track's impact prediction, as in :class:`~iamd.messages.tracks.LocalTracks`.
    """

    node: NationCode
    decided_at: float
    network_track_number: IntArray
    local_track_number: IntArray
    valid_at: FloatArray
    state: FloatArray
    covariance: FloatArray
    quality: IntArray
    status: IntArray
    category: IntArray
    updated_at: FloatArray
    impact_time_s: FloatArray
    impact_lat_deg: FloatArray
    impact_lon_deg: FloatArray
    impact_semi_major_m: FloatArray
    impact_semi_minor_m: FloatArray
    impact_orientation_deg: FloatArray

    def __len__(self) -> int:
        return int(self.network_track_number.shape[0])


__all__ = ["NO_LOCAL_TRACK", "NO_NATION", "ReportsDue", "SystemTracks"]
