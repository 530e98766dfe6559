"""Launch cues from space-based infrared, handed to radars.

A space infrared sensor sees a boosting missile as a line of sight, with no range: one
satellite cannot place it in three dimensions, but it does know that *something is boosting
along this ray*. The node keeps each such ray as a **cue**; a radar detection that starts a
new track close to a live cue's ray is taken as the cued missile, so its track is confirmed
and classified ballistic at once instead of waiting for M-of-N (the radar "acquires on cue").

Model and assumptions
---------------------
* Successive infrared detections join the cue whose latest ray is closest in angle, within
  ``gate_rad``; a cue is *live* once it has ``min_detections`` detections and until
  ``lifetime_s`` passes without one (a single frame is too often a false alarm).
* A radar detection at ECEF position ``p`` and time ``t`` matches a live cue when its
  perpendicular distance to the cue's latest ray is at most
  ``range · 3σ_LOS + max_speed · (t − t_cue) + margin`` and its height is below
  ``max_altitude_m`` (boosting missiles have not climbed higher).
* Cues carry no state estimate; the radar track's own filter starts from the radar
  measurement as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.geo.frames import ecef_to_geodetic


def line_of_sight_vectors(azimuth_rad: FloatArray, elevation_rad: FloatArray) -> FloatArray:
    """Unit vectors, ECEF axes, of line-of-sight angles ``(atan2(u_y, u_x), asin(u_z))``.

    Returns
    -------
    ndarray, shape (K, 3)

    Examples
    --------
    >>> line_of_sight_vectors(np.array([np.pi / 2]), np.array([0.0])).round(12).tolist()
    [[0.0, 1.0, 0.0]]
    """
    cos_el = np.cos(elevation_rad)
    return np.column_stack(
        [cos_el * np.cos(azimuth_rad), cos_el * np.sin(azimuth_rad), np.sin(elevation_rad)]
    )


def distance_to_rays_m(
    points_m: FloatArray, origins_m: FloatArray, directions: FloatArray
) -> FloatArray:
    """Distance from each point to each ray, m.

    Parameters
    ----------
    points_m : ndarray, shape (P, 3)
        Points, ECEF, m.
    origins_m : ndarray, shape (C, 3)
        Ray origins (sensor positions), ECEF, m.
    directions : ndarray, shape (C, 3)
        Unit ray directions, ECEF axes.

    Returns
    -------
    ndarray, shape (P, C)
        Perpendicular distance where the foot lies ahead of the origin, else the distance to
        the origin.
    """
    offset = points_m[:, None, :] - origins_m[None, :, :]
    along = np.maximum(np.einsum("pcj,cj->pc", offset, directions), 0.0)
    foot = origins_m[None, :, :] + along[..., None] * directions[None, :, :]
    return np.asarray(np.linalg.norm(points_m[:, None, :] - foot, axis=-1))


_CUE_ARRAYS = (
    "origin_m",
    "direction",
    "sigma_rad",
    "first_s",
    "last_s",
    "count",
    "used",
    "cue_id",
)
"""The per-cue arrays of :class:`InfraredCues`: row ``i`` of each is cue ``i``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CuePolicy:
    """When infrared detections make a cue and when a radar detection matches one.

    Attributes
    ----------
    gate_rad : float
        Largest angle between a new line of sight and a cue's latest one to join it, rad.
    min_detections : int
        Infrared detections a cue needs before radars may use it.
    lifetime_s : float
        A cue dies this long after its latest infrared detection, s.
    max_speed_mps : float
        Fastest speed a cued missile may have, m/s (how far it may have moved off the ray
        since the cue's latest detection).
    max_altitude_m : float
        Highest a cued (boosting) missile may be, m.
    margin_m : float
        Added to the matching distance, m.
    """

    gate_rad: float = 2e-3
    min_detections: int = 2
    lifetime_s: float = 120.0
    max_speed_mps: float = 7_000.0
    max_altitude_m: float = 400_000.0
    margin_m: float = 5_000.0


class InfraredCues:
    """The live and forming launch cues of one node.

    Parameters
    ----------
    policy : CuePolicy
        Gating and lifetime rules.
    """

    def __init__(self, policy: CuePolicy | None = None) -> None:
        self.policy = policy or CuePolicy()
        self.origin_m: FloatArray = np.empty((0, 3))
        self.direction: FloatArray = np.empty((0, 3))
        self.sigma_rad: FloatArray = np.empty(0)
        self.first_s: FloatArray = np.empty(0)
        self.last_s: FloatArray = np.empty(0)
        self.count: IntArray = np.empty(0, np.int64)
        self.used: BoolArray = np.empty(0, bool)
        self.cue_id: IntArray = np.empty(0, np.int64)
        self._next_id = 0

    def __len__(self) -> int:
        return int(self.count.size)

    def observe(
        self,
        time_s: float,
        sensor_ecef_m: FloatArray,
        measurements: FloatArray,
        covariances: FloatArray,
    ) -> None:
        """Add one frame of line-of-sight detections.

        Parameters
        ----------
        time_s : float
            Frame time, s since the epoch.
        sensor_ecef_m : ndarray, shape (3,)
            Satellite position, ECEF, m.
        measurements : ndarray, shape (K, 2)
            Azimuth and elevation of each line of sight, rad (ECEF axes).
        covariances : ndarray, shape (K, 2, 2)
            Their noise covariances, rad².
        """
        self._expire(time_s)
        if measurements.shape[0] == 0:
            return
        directions = line_of_sight_vectors(measurements[:, 0], measurements[:, 1])
        sigma = np.sqrt(np.max(np.diagonal(covariances, axis1=1, axis2=2), axis=1))
        joined = np.full(directions.shape[0], -1, np.int64)
        if len(self):
            cosine = np.clip(directions @ self.direction.T, -1.0, 1.0)
            angle = np.arccos(cosine)
            nearest = np.argmin(angle, axis=1)
            close = angle[np.arange(angle.shape[0]), nearest] <= self.policy.gate_rad
            joined[close] = nearest[close]
        # Several detections of one frame joining one cue: the first keeps it, the others
        # start cues of their own (two missiles launched side by side).
        _, first = np.unique(joined, return_index=True)
        keep_join = np.zeros(joined.size, bool)
        keep_join[first] = True
        joined[(joined >= 0) & ~keep_join] = -1
        rows = joined[joined >= 0]
        self.origin_m[rows] = sensor_ecef_m
        self.direction[rows] = directions[joined >= 0]
        self.sigma_rad[rows] = sigma[joined >= 0]
        self.last_s[rows] = time_s
        self.count[rows] += 1
        new = np.flatnonzero(joined < 0)
        count = new.size
        started = {
            "origin_m": np.tile(sensor_ecef_m, (count, 1)),
            "direction": directions[new],
            "sigma_rad": sigma[new],
            "first_s": np.full(count, time_s),
            "last_s": np.full(count, time_s),
            "count": np.ones(count, np.int64),
            "used": np.zeros(count, bool),
            "cue_id": self._next_id + np.arange(count),
        }
        for name in _CUE_ARRAYS:
            setattr(self, name, np.concatenate([getattr(self, name), started[name]]))
        self._next_id += count

    def match(self, time_s: float, positions_m: FloatArray) -> IntArray:
        """The id of the live cue each radar-derived position matches, or -1.

        Each cue is handed to at most one position (the closest); a cue that has been
        handed over stays live for other radars but is not handed again by this node.

        Parameters
        ----------
        time_s : float
            Time of the radar detections, s since the epoch.
        positions_m : ndarray, shape (P, 3)
            Their positions, ECEF, m.

        Returns
        -------
        ndarray of int, shape (P,)
        """
        self._expire(time_s)
        matched = np.full(positions_m.shape[0], -1, np.int64)
        live = np.flatnonzero((self.count >= self.policy.min_detections) & ~self.used)
        if live.size == 0 or positions_m.shape[0] == 0:
            return matched
        distance = distance_to_rays_m(positions_m, self.origin_m[live], self.direction[live])
        slant = np.linalg.norm(positions_m[:, None, :] - self.origin_m[None, live, :], axis=-1)
        policy = self.policy
        allowed = (
            slant * 3.0 * self.sigma_rad[live]
            + policy.max_speed_mps * np.maximum(time_s - self.last_s[live], 0.0)
            + policy.margin_m
        )
        _, _, height = ecef_to_geodetic(positions_m)
        ok = (distance <= allowed) & (height[:, None] <= policy.max_altitude_m)
        score = np.where(ok, distance, np.inf)
        for cue in np.argsort(score.min(axis=0)):
            point = int(np.argmin(score[:, cue]))
            if np.isfinite(score[point, cue]) and matched[point] < 0:
                matched[point] = self.cue_id[live[cue]]
                self.used[live[cue]] = True
                score[point, :] = np.inf
        return matched

    def _expire(self, time_s: float) -> None:
        keep = time_s - self.last_s <= self.policy.lifetime_s
        if keep.all():
            return
        for name in _CUE_ARRAYS:
            setattr(self, name, getattr(self, name)[keep])
