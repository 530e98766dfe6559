"""Trajectories of many objects stored as knots, read back by cubic Hermite interpolation.

Each object (row) has its own increasing knot times with ECEF position and velocity at each
knot; all rows are stored in flat arrays so that looking up N objects at one instant is one
``searchsorted`` and a handful of array operations, with no Python loop over objects.
"""

from __future__ import annotations

import numpy as np

from iamd.core.typing import FloatArray, IntArray


class KnotTable:
    """Piecewise cubic Hermite trajectories of ``n_rows`` objects.

    Parameters
    ----------
    rows : ndarray of int, shape (M,)
        Object (row) index of each knot, in ``[0, n_rows)``.
    time_s : ndarray, shape (M,)
        Knot time, s since the scenario epoch.
    position_ecef_m : ndarray, shape (M, 3)
        Position at the knot, ECEF, m.
    velocity_ecef_mps : ndarray, shape (M, 3)
        Velocity at the knot (relative to the Earth), ECEF, m/s.
    n_rows : int
        Number of objects; each must have at least two knots.

    Notes
    -----
    Knots may arrive in any order; they are sorted by (row, time) with a stable sort, so two
    knots of one row at the same time keep their order: the first closes the interval before
    (e.g. the velocity arriving at a route corner), the second opens the interval after (the
    velocity leaving it). Between knots the position is the cubic Hermite polynomial matching
    both positions and both velocities (de Boor, *A Practical Guide to Splines*, ch. IV),
    whose error is ``Δt⁴/384·max|d⁴r/dt⁴|``.
    """

    def __init__(
        self,
        rows: IntArray,
        time_s: FloatArray,
        position_ecef_m: FloatArray,
        velocity_ecef_mps: FloatArray,
        n_rows: int,
    ) -> None:
        rows = np.asarray(rows, np.int64)
        order = np.lexsort((np.asarray(time_s, float), rows))
        self.rows: IntArray = rows[order]
        self.time_s: FloatArray = np.asarray(time_s, float)[order]
        self.position_ecef_m: FloatArray = np.asarray(position_ecef_m, float)[order]
        self.velocity_ecef_mps: FloatArray = np.asarray(velocity_ecef_mps, float)[order]
        self.n_rows = int(n_rows)
        counts = np.bincount(self.rows, minlength=self.n_rows)
        if self.n_rows and counts.min() < 2:
            raise ValueError("every row of a KnotTable needs at least two knots")
        self.row_stop: IntArray = np.cumsum(counts)
        self.row_start: IntArray = self.row_stop - counts
        self.start_s: FloatArray = self.time_s[self.row_start] if self.n_rows else np.empty(0)
        self.end_s: FloatArray = self.time_s[self.row_stop - 1] if self.n_rows else np.empty(0)
        # Search keys: each row's times relative to its start, shifted by row·span so that one
        # sorted array holds every row and one searchsorted call finds every interval.
        durations = self.end_s - self.start_s
        self._span = float(durations.max() * 2.0 + 1.0) if self.n_rows else 1.0
        self._keys = self.rows * self._span + (self.time_s - self.start_s[self.rows])

    def __len__(self) -> int:
        return self.n_rows

    def evaluate(
        self, time_s: FloatArray | float, rows: IntArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Interpolated positions and velocities of rows at given times.

        Parameters
        ----------
        time_s : float or ndarray, shape (K,)
            Time for each requested row, s since the epoch; a float applies to every row.
            Times outside a row's knots are clamped to its first or last knot.
        rows : ndarray of int, shape (K,), optional
            Which rows; all rows in order by default.

        Returns
        -------
        position_ecef_m : ndarray, shape (K, 3)
            ECEF position, m.
        velocity_ecef_mps : ndarray, shape (K, 3)
            ECEF velocity relative to the Earth, m/s.
        """
        which = np.arange(self.n_rows) if rows is None else np.asarray(rows, np.int64)
        t = np.broadcast_to(np.asarray(time_s, float), which.shape)
        t = np.clip(t, self.start_s[which], self.end_s[which])
        keys = which * self._span + (t - self.start_s[which])
        index = np.searchsorted(self._keys, keys, side="right") - 1
        index = np.clip(index, self.row_start[which], self.row_stop[which] - 2)
        t0 = self.time_s[index]
        step = self.time_s[index + 1] - t0
        safe = np.where(step > 0.0, step, 1.0)
        s = np.where(step > 0.0, (t - t0) / safe, 0.0)[:, None]
        p0, p1 = self.position_ecef_m[index], self.position_ecef_m[index + 1]
        v0 = self.velocity_ecef_mps[index] * step[:, None]
        v1 = self.velocity_ecef_mps[index + 1] * step[:, None]
        s2, s3 = s * s, s * s * s
        position = (
            (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * v0 + (3 * s2 - 2 * s3) * p1
        ) + (s3 - s2) * v1
        velocity = (
            (6 * s2 - 6 * s) * (p0 - p1) + (3 * s2 - 4 * s + 1) * v0 + (3 * s2 - 2 * s) * v1
        ) / safe[:, None]
        return np.asarray(position), np.asarray(velocity)

    def of_row(self, row: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Knot times (s), positions (m) and velocities (m/s) of one row, ECEF."""
        sl = slice(int(self.row_start[row]), int(self.row_stop[row]))
        return self.time_s[sl], self.position_ecef_m[sl], self.velocity_ecef_mps[sl]

    @staticmethod
    def concatenate(tables: list[KnotTable]) -> KnotTable:
        """One table holding the rows of several, in order (row indices are shifted)."""
        offset = 0
        rows, times, positions, velocities = [], [], [], []
        for table in tables:
            rows.append(table.rows + offset)
            times.append(table.time_s)
            positions.append(table.position_ecef_m)
            velocities.append(table.velocity_ecef_mps)
            offset += table.n_rows
        if not rows:
            return KnotTable(
                np.empty(0, np.int64), np.empty(0), np.empty((0, 3)), np.empty((0, 3)), 0
            )
        return KnotTable(
            np.concatenate(rows),
            np.concatenate(times),
            np.concatenate(positions),
            np.concatenate(velocities),
            offset,
        )
