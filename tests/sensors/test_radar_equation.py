"""The pure radar functions: range equation and Swerling I detection probability."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iamd.sensors import radar_snr_db, swerling1_detection_probability

REFERENCE = {"reference_range_m": 150e3, "reference_rcs_m2": 1.0, "reference_snr_db": 13.0}


def test_snr_is_the_reference_at_the_reference_point() -> None:
    assert radar_snr_db(150e3, 1.0, **REFERENCE) == pytest.approx(13.0)


def test_snr_follows_the_fourth_power_of_range_and_the_cross_section() -> None:
    snr = radar_snr_db(np.array([75e3, 150e3, 300e3]), np.array([1.0, 0.1, 100.0]), **REFERENCE)
    expected = [13.0 + 40 * math.log10(2), 13.0 - 10.0, 13.0 - 40 * math.log10(2) + 20.0]
    np.testing.assert_allclose(snr, expected, atol=1e-12)


def test_zero_cross_section_gives_minus_infinity_and_pd_equal_to_pfa() -> None:
    snr = radar_snr_db(100e3, 0.0, **REFERENCE)
    assert snr == -np.inf
    assert swerling1_detection_probability(snr, 1e-4) == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("snr_db", "pfa", "pd"),
    [
        # Pd = Pfa ** (1 / (1 + SNR)), worked by hand.
        (-math.inf, 1e-6, 1e-6),
        (0.0, 1e-6, 1e-3),  # SNR = 1: square root of Pfa
        (10 * math.log10(3.0), 1e-8, 1e-2),  # SNR = 3: fourth root
        # Single-dwell Swerling I at Pfa = 1e-6 needs about 12.8 dB for Pd = 0.5 and 21.2 dB
        # for Pd = 0.9 (some 8 dB more than a steady target), as on the textbook curves.
        (12.77, 1e-6, 0.5),
        (21.15, 1e-6, 0.9),
    ],
)
def test_swerling1_known_points(snr_db: float, pfa: float, pd: float) -> None:
    assert swerling1_detection_probability(snr_db, pfa) == pytest.approx(pd, rel=2e-3)


def test_swerling1_is_vectorised_and_broadcasts() -> None:
    pd = swerling1_detection_probability(np.array([[0.0], [10.0]]), np.array([1e-6, 1e-4]))
    assert pd.shape == (2, 2)
    assert pd[1, 1] > pd[1, 0] > pd[0, 0]


@given(
    st.floats(-30.0, 60.0),
    st.floats(0.01, 10.0),
    st.floats(1e-12, 0.5),
)
def test_swerling1_rises_with_snr_and_with_pfa(snr_db: float, step_db: float, pfa: float) -> None:
    low = swerling1_detection_probability(snr_db, pfa)
    assert pfa <= low < 1.0
    assert swerling1_detection_probability(snr_db + step_db, pfa) > low
    assert swerling1_detection_probability(snr_db, min(2 * pfa, 0.9)) > low
