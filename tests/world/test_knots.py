"""Hermite knot tables: exact for cubics, corners, clamping, many rows at once."""

from __future__ import annotations

import numpy as np
import pytest

from iamd.world import KnotTable


def _cubic(t: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    position = c[0] + c[1] * t[:, None] + c[2] * t[:, None] ** 2 + c[3] * t[:, None] ** 3
    velocity = c[1] + 2 * c[2] * t[:, None] + 3 * c[3] * t[:, None] ** 2
    return position, velocity


def test_hermite_is_exact_for_cubic_motion_on_uneven_knots() -> None:
    rng = np.random.default_rng(0)
    rows, times, positions, velocities, coefficients = [], [], [], [], []
    for row in range(5):
        c = rng.normal(size=(4, 3)) * np.array([[1e6], [1e3], [10.0], [0.1]])
        t = np.sort(rng.uniform(0, 100, 12)) + 50.0 * row
        p, v = _cubic(t, c)
        rows.append(np.full(t.size, row))
        times.append(t)
        positions.append(p)
        velocities.append(v)
        coefficients.append(c)
    # Shuffled input: the table sorts it.
    order = rng.permutation(60)
    table = KnotTable(
        np.concatenate(rows)[order],
        np.concatenate(times)[order],
        np.concatenate(positions)[order],
        np.concatenate(velocities)[order],
        5,
    )
    for row, c in enumerate(coefficients):
        t_row = table.of_row(row)[0]
        query = rng.uniform(t_row[0], t_row[-1], 7)
        p, v = table.evaluate(query, np.full(7, row))
        p_true, v_true = _cubic(query, c)
        np.testing.assert_allclose(p, p_true, rtol=1e-10, atol=1e-6)
        np.testing.assert_allclose(v, v_true, rtol=1e-10, atol=1e-8)


def test_times_outside_a_row_are_clamped_to_its_ends() -> None:
    table = KnotTable(
        np.array([0, 0]),
        np.array([10.0, 20.0]),
        np.array([[0.0, 0, 0], [100.0, 0, 0]]),
        np.array([[10.0, 0, 0], [10.0, 0, 0]]),
        1,
    )
    p, _ = table.evaluate(np.array([0.0, 15.0, 99.0]), np.array([0, 0, 0]))
    np.testing.assert_allclose(p[:, 0], [0.0, 50.0, 100.0])


def test_a_corner_keeps_the_velocity_before_and_after() -> None:
    """Two knots at the same time: arriving eastward, leaving northward."""
    table = KnotTable(
        np.zeros(4, np.int64),
        np.array([0.0, 10.0, 10.0, 20.0]),
        np.array([[0.0, 0, 0], [100.0, 0, 0], [100.0, 0, 0], [100.0, 100, 0]]),
        np.array([[10.0, 0, 0], [10.0, 0, 0], [0.0, 10, 0], [0.0, 10, 0]]),
        1,
    )
    p, v = table.evaluate(np.array([5.0, 10.0, 15.0]), np.zeros(3, np.int64))
    np.testing.assert_allclose(p, [[50.0, 0, 0], [100.0, 0, 0], [100.0, 50, 0]])
    np.testing.assert_allclose(v, [[10.0, 0, 0], [0.0, 10, 0], [0.0, 10, 0]])


def test_a_row_needs_two_knots() -> None:
    with pytest.raises(ValueError, match="two knots"):
        KnotTable(np.array([0]), np.array([0.0]), np.zeros((1, 3)), np.zeros((1, 3)), 1)


def test_concatenate_shifts_rows() -> None:
    one = KnotTable(np.array([0, 0]), np.array([0.0, 1.0]), np.zeros((2, 3)), np.zeros((2, 3)), 1)
    two = KnotTable(np.array([0, 0]), np.array([5.0, 6.0]), np.ones((2, 3)), np.zeros((2, 3)), 1)
    both = KnotTable.concatenate([one, two])
    assert len(both) == 2
    np.testing.assert_allclose(both.start_s, [0.0, 5.0])
    p, _ = both.evaluate(5.5)
    np.testing.assert_allclose(p, [[0.0, 0, 0], [1.0, 1, 1]])
    assert len(KnotTable.concatenate([])) == 0
