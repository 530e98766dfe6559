"""Threat evaluation: impact-ellipse probabilities against closed forms, Monte Carlo and a dense
quadrature; closest-approach probabilities of air threats; value at risk, priorities, empty
inputs and input validation (``iamd.c2.threat_evaluation``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.integrate import simpson
from scipy.stats import norm

from iamd.c2.threat_evaluation import (
    NO_ASSET,
    DefendedAssets,
    ThreatAssessment,
    ThreatEvaluationSettings,
    evaluate_system_tracks,
    evaluate_threats,
    offset_disc_probability,
)
from iamd.core import ConfigurationError, NationCode
from iamd.core.gating import chi2_gate_threshold
from iamd.core.typing import FloatArray
from iamd.geo import ecef_to_geodetic, enu_to_ecef_vector, geodetic_to_ecef
from iamd.messages import ThreatCategory, TrackStatus
from iamd.messages.picture import SystemTracks

LAT0, LON0 = 35.5, 139.5
K95 = math.sqrt(chi2_gate_threshold(0.95, 2))  # 95 % semi-axis / σ
NAN = float("nan")
BALLISTIC = int(ThreatCategory.BALLISTIC_MISSILE)
CRUISE = int(ThreatCategory.CRUISE_MISSILE)
AIRCRAFT = int(ThreatCategory.AIRCRAFT)


def point_enu(east: float, north: float, up: float = 0.0) -> tuple[float, float, float]:
    """Geodetic latitude, longitude, height of a point given in the ENU frame at the origin."""
    ecef = geodetic_to_ecef(LAT0, LON0, 0.0) + enu_to_ecef_vector(
        np.array([east, north, up]), LAT0, LON0
    )
    lat, lon, height = ecef_to_geodetic(ecef)
    return float(lat), float(lon), float(height)


def assets_at(
    offsets_enu: list[tuple[float, float]],
    radius_m: float | list[float] = 1000.0,
    value: float | list[float] = 1.0,
) -> DefendedAssets:
    points = [point_enu(east, north) for east, north in offsets_enu]
    count = len(points)
    return DefendedAssets.of(
        lat_deg=[p[0] for p in points],
        lon_deg=[p[1] for p in points],
        altitude_m=[p[2] for p in points],
        radius_m=np.broadcast_to(radius_m, (count,)),
        value=np.broadcast_to(value, (count,)),
        nation=np.zeros(count, dtype=int),
    )


def tracks(**fields: Any) -> dict[str, Any]:
    """Keyword arguments of evaluate_threats for N tracks; unspecified fields are blank."""
    n = len(fields["category"])
    blank = np.full(n, NAN)
    base: dict[str, Any] = {
        "state": np.zeros((n, 6)),
        "covariance": np.zeros((n, 6, 6)),
        "impact_time_s": blank,
        "impact_lat_deg": blank,
        "impact_lon_deg": blank,
        "impact_semi_major_m": blank,
        "impact_semi_minor_m": blank,
        "impact_orientation_deg": blank,
        "now_s": 100.0,
    }
    base.update(fields)
    return base


def ballistic(
    assets: DefendedAssets,
    *,
    sigma_major: float,
    sigma_minor: float,
    orientation_deg: float = 0.0,
    impact_enu: tuple[float, float] = (0.0, 0.0),
    impact_time_s: float = 400.0,
    settings: ThreatEvaluationSettings | None = None,
) -> ThreatAssessment:
    lat, lon, _ = point_enu(*impact_enu)
    return evaluate_threats(
        **tracks(
            category=[BALLISTIC],
            impact_time_s=[impact_time_s],
            impact_lat_deg=[lat],
            impact_lon_deg=[lon],
            impact_semi_major_m=[sigma_major * K95],
            impact_semi_minor_m=[sigma_minor * K95],
            impact_orientation_deg=[orientation_deg],
        ),
        assets=assets,
        settings=settings,
    )


def air_track(
    start_enu: tuple[float, float, float],
    velocity_enu: tuple[float, float, float],
    position_sigma_m: float = 50.0,
    velocity_sigma_mps: float = 5.0,
    *,
    asset_frame: bool = False,
) -> tuple[FloatArray, FloatArray]:
    """ECEF state (6,) and covariance (6, 6) of an air track starting at ``start_enu`` (in
    the frame at the origin). Its velocity is given in its own ENU frame (horizontal at the
    track, as a tracker reports it), or with ``asset_frame`` in the frame at the origin (a
    straight line in the origin's horizontal plane, for exact miss distances)."""
    lat, lon, height = point_enu(*start_enu)
    position = geodetic_to_ecef(lat, lon, height)
    frame_lat, frame_lon = (LAT0, LON0) if asset_frame else (lat, lon)
    velocity = enu_to_ecef_vector(np.asarray(velocity_enu, dtype=float), frame_lat, frame_lon)
    covariance = np.diag([position_sigma_m**2] * 3 + [velocity_sigma_mps**2] * 3)
    return np.concatenate([position, velocity]), covariance


def air(
    assets: DefendedAssets,
    states: list[tuple[FloatArray, FloatArray]],
    category: int = CRUISE,
    settings: ThreatEvaluationSettings | None = None,
) -> ThreatAssessment:
    return evaluate_threats(
        **tracks(
            category=[category] * len(states),
            state=np.stack([s for s, _ in states]),
            covariance=np.stack([c for _, c in states]),
        ),
        assets=assets,
        settings=settings,
    )


def dense_reference(s1: float, s2: float, c1: float, c2: float, radius: float) -> float:
    """Independent reference: chords along axis 1 on a dense Simpson grid."""
    lower, upper = max(c1 - radius, -12 * s1), min(c1 + radius, 12 * s1)
    if lower >= upper:
        return 0.0
    x = np.linspace(lower, upper, 200_001)
    half = np.sqrt(np.maximum(radius**2 - (x - c1) ** 2, 0.0))
    y = norm.pdf(x, 0.0, s1) * (norm.cdf((c2 + half) / s2) - norm.cdf((c2 - half) / s2))
    return float(simpson(y, x=x))


# --------------------------------------------------------------------------------------------
# ballistic: the impact ellipse against a disc


@pytest.mark.parametrize(("sigma", "radius"), [(100.0, 100.0), (800.0, 300.0), (250.0, 1500.0)])
def test_centred_circle_matches_closed_form(sigma: float, radius: float) -> None:
    expected = 1.0 - math.exp(-(radius**2) / (2.0 * sigma**2))
    direct = offset_disc_probability([sigma], [sigma], [0.0], [0.0], [radius])
    assert direct[0] == pytest.approx(expected, abs=1e-9)
    # End to end: a 95 % circle on the asset, which sits on the predicted impact point.
    result = ballistic(assets_at([(0.0, 0.0)], radius), sigma_major=sigma, sigma_minor=sigma)
    assert result.probability[0, 0] == pytest.approx(expected, abs=1e-6)
    assert result.time_to_go_s[0] == pytest.approx(300.0)


def test_offset_ellipse_matches_monte_carlo() -> None:
    sigma_major, sigma_minor, orientation = 2000.0, 600.0, 30.0
    asset_east, asset_north, radius = 1500.0, 800.0, 1000.0
    result = ballistic(
        assets_at([(asset_east, asset_north)], radius),
        sigma_major=sigma_major,
        sigma_minor=sigma_minor,
        orientation_deg=orientation,
    )
    p = float(result.probability[0, 0])

    rng = np.random.default_rng(20240605)
    samples = 100_000
    azimuth = math.radians(orientation)
    major_axis = np.array([math.sin(azimuth), math.cos(azimuth)])  # clockwise from north
    minor_axis = np.array([math.cos(azimuth), -math.sin(azimuth)])
    z = rng.standard_normal((samples, 2))
    impacts = (
        z[:, :1] * sigma_major * major_axis[None, :] + z[:, 1:] * sigma_minor * minor_axis[None, :]
    )
    hits = np.hypot(impacts[:, 0] - asset_east, impacts[:, 1] - asset_north) <= radius
    estimate = hits.mean()
    standard_error = math.sqrt(estimate * (1.0 - estimate) / samples)
    assert 0.05 < estimate < 0.95  # a case where orientation and offset both matter
    assert abs(p - estimate) <= 3.0 * standard_error
    # Turning the ellipse by 90° changes the answer: the orientation is really used.
    turned = ballistic(
        assets_at([(asset_east, asset_north)], radius),
        sigma_major=sigma_major,
        sigma_minor=sigma_minor,
        orientation_deg=orientation + 90.0,
    )
    assert abs(turned.probability[0, 0] - p) > 20.0 * standard_error


def test_quadrature_against_dense_reference() -> None:
    # Hard cases: elongated ellipses, discs far larger and far smaller than σ, and centres
    # near the edge of the disc.
    rng = np.random.default_rng(5)
    cases = []
    for _ in range(40):
        s1 = 10 ** rng.uniform(1.5, 4.0)
        s2 = s1 * 10 ** rng.uniform(-2.0, 0.0)
        radius = 10 ** rng.uniform(1.5, 4.0)
        distance = rng.choice([rng.uniform(0, 1.2) * radius, radius * (1 + rng.normal(0, 0.02))])
        angle = rng.uniform(0.0, 2.0 * math.pi)
        cases.append((s1, s2, distance * math.cos(angle), distance * math.sin(angle), radius))
    s1, s2, c1, c2, radius = (np.array(column) for column in zip(*cases, strict=True))
    got = offset_disc_probability(s1, s2, c1, c2, radius)
    expected = np.array([dense_reference(*case) for case in cases])
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # The axes are interchangeable.
    np.testing.assert_allclose(offset_disc_probability(s2, s1, c2, c1, radius), got, atol=1e-12)


def test_far_asset_gets_exactly_zero() -> None:
    assets = assets_at([(0.0, 0.0), (60e3, 0.0)], radius_m=2000.0, value=[1.0, 5.0])
    result = ballistic(assets, sigma_major=1000.0, sigma_minor=500.0, orientation_deg=90.0)
    assert result.probability[0, 0] > 0.8
    assert result.probability[0, 1] == 0.0
    assert np.isnan(result.asset_time_to_go_s[0, 1])
    assert result.most_threatened_asset[0] == 0
    # Nothing near any asset: no threat at all.
    away = ballistic(assets, sigma_major=1000.0, sigma_minor=500.0, impact_enu=(0.0, 40e3))
    assert (away.probability == 0.0).all()
    assert np.isnan(away.time_to_go_s[0])
    assert away.most_threatened_asset[0] == NO_ASSET
    assert away.value_at_risk[0] == 0.0


def test_point_prediction_uses_the_floor_sigma() -> None:
    lat, lon, _ = point_enu(0.0, 0.0)
    settings = ThreatEvaluationSettings(min_impact_sigma_m=150.0)
    result = evaluate_threats(
        **tracks(
            category=[BALLISTIC],
            impact_time_s=[160.0],
            impact_lat_deg=[lat],
            impact_lon_deg=[lon],
        ),
        assets=assets_at([(0.0, 0.0)], radius_m=200.0),
        settings=settings,
    )
    expected = 1.0 - math.exp(-(200.0**2) / (2.0 * 150.0**2))
    assert result.probability[0, 0] == pytest.approx(expected, abs=1e-6)
    assert result.time_to_go_s[0] == pytest.approx(60.0)


def test_unclassified_and_unpredicted_tracks_threaten_nothing() -> None:
    lat, lon, _ = point_enu(0.0, 0.0)
    result = evaluate_threats(
        **tracks(
            category=[0, BALLISTIC],
            impact_time_s=[400.0, NAN],
            impact_lat_deg=[lat, NAN],
            impact_lon_deg=[lon, NAN],
            impact_semi_major_m=[500.0, NAN],
            impact_semi_minor_m=[500.0, NAN],
            impact_orientation_deg=[0.0, NAN],
        ),
        assets=assets_at([(0.0, 0.0)]),
    )
    assert (result.probability == 0.0).all()
    assert np.isnan(result.time_to_go_s).all()
    assert (result.most_threatened_asset == NO_ASSET).all()


# --------------------------------------------------------------------------------------------
# air-breathing: closest point of approach


def test_air_threat_straight_at_an_asset() -> None:
    # An aircraft at 10 km altitude, 100 km north, flying south along the meridian at
    # 250 m/s: it is over the asset in 400 s, and its altitude does not make it miss.
    assets = assets_at([(0.0, 0.0)], radius_m=3000.0, value=7.0)
    state = air_track((0.0, 100e3, 10e3), (0.0, -250.0, 0.0), 50.0, 5.0)
    result = air(assets, [state], category=AIRCRAFT)
    assert result.time_to_go_s[0] == pytest.approx(400.0, rel=1e-3)
    # Miss 0; across the track σ² = 50² + (5 m/s · 400 s)² + 3000² (+ 1 m²).
    sigma = math.sqrt(50.0**2 + 2000.0**2 + 3000.0**2 + 1.0)
    expected = 2.0 * norm.cdf(3000.0 / sigma) - 1.0
    assert result.probability[0, 0] == pytest.approx(expected, abs=2e-3)
    assert result.most_threatened_asset[0] == 0
    assert result.value_at_risk[0] == pytest.approx(7.0 * result.probability[0, 0])
    # A good track without the manoeuvre allowance: a near-certain hit.
    precise = air_track((0.0, 100e3, 10e3), (0.0, -250.0, 0.0), 20.0, 0.5)
    no_manoeuvre = ThreatEvaluationSettings(air_manoeuvre_sigma_m=0.0)
    assert air(assets, [precise], settings=no_manoeuvre).probability[0, 0] > 0.999


def test_air_threat_flying_away_threatens_nothing() -> None:
    assets = assets_at([(0.0, 0.0)], radius_m=3000.0)
    state = air_track((0.0, 50e3, 200.0), (0.0, 250.0, 0.0))
    result = air(assets, [state])
    assert result.probability[0, 0] == 0.0
    assert np.isnan(result.time_to_go_s[0])
    assert result.most_threatened_asset[0] == NO_ASSET
    # Moving away but still over the asset: reached now.
    over = air(assets, [air_track((0.0, 1000.0, 200.0), (0.0, 250.0, 0.0))])
    assert over.probability[0, 0] > 0.99
    assert over.time_to_go_s[0] == 0.0


def test_air_miss_probability_matches_the_normal_model() -> None:
    # Passing 4 km abeam of an asset of radius 5 km, with a perfect track: the miss has
    # standard deviation sqrt(σ_m² + 1 m²) once the manoeuvre allowance is fully built.
    assets = assets_at([(0.0, 0.0)], radius_m=5000.0)
    state = air_track((-150e3, 4000.0, 100.0), (250.0, 0.0, 0.0), 0.0, 0.0, asset_frame=True)
    result = air(assets, [state])
    sigma = math.sqrt(3000.0**2 + 1.0)
    expected = norm.cdf((5000.0 - 4000.0) / sigma) - norm.cdf((-5000.0 - 4000.0) / sigma)
    assert result.probability[0, 0] == pytest.approx(expected, abs=1e-6)
    assert result.time_to_go_s[0] == pytest.approx(600.0, rel=1e-6)
    # 30 s out the allowance is half built: σ = 1500 m.
    close = air_track((-7500.0, 4000.0, 100.0), (250.0, 0.0, 0.0), 0.0, 0.0, asset_frame=True)
    sigma = math.sqrt(1500.0**2 + 1.0)
    expected = norm.cdf((5000.0 - 4000.0) / sigma) - norm.cdf((-5000.0 - 4000.0) / sigma)
    assert air(assets, [close]).probability[0, 0] == pytest.approx(expected, abs=1e-6)


def test_track_uncertainty_widens_the_miss() -> None:
    # A near miss 3 km outside the radius: a poor track makes a hit more likely.
    assets = assets_at([(0.0, 0.0)], radius_m=1000.0)
    settings = ThreatEvaluationSettings(air_manoeuvre_sigma_m=0.0)
    start, velocity = (-60e3, 4000.0, 100.0), (250.0, 0.0, 0.0)
    good = air_track(start, velocity, 10.0, 0.1, asset_frame=True)
    poor = air_track(start, velocity, 1500.0, 10.0, asset_frame=True)
    result = air(assets, [good, poor], settings=settings)
    assert result.probability[0, 0] == 0.0
    assert result.probability[1, 0] > 0.05


def test_closest_approach_beyond_the_horizon_is_ignored() -> None:
    assets = assets_at([(0.0, 0.0)], radius_m=3000.0)
    state = air_track((0.0, 300e3, 100.0), (0.0, -250.0, 0.0), 50.0, 0.5)  # 1200 s out
    result = air(assets, [state])
    assert result.probability[0, 0] > 0.5
    # 300 km out the projection on the asset's horizontal plane is 0.1 % off the arc.
    assert result.time_to_go_s[0] == pytest.approx(1200.0, rel=3e-3)
    short = ThreatEvaluationSettings(horizon_s=900.0)
    assert air(assets, [state], settings=short).probability[0, 0] == 0.0


# --------------------------------------------------------------------------------------------
# value at risk and priorities


def test_value_at_risk_and_priority_order() -> None:
    assets = assets_at(
        [(0.0, 0.0), (3000.0, 0.0), (0.0, 80e3)],
        radius_m=[2500.0, 2500.0, 2000.0],
        value=[10.0, 4.0, 1.0],
    )
    lat_a, lon_a, _ = point_enu(1500.0, 0.0)  # between assets 0 and 1
    lat_b, lon_b, _ = point_enu(0.0, 80e3)  # on asset 2
    # A cruise missile flying south over asset 2 (in 120 s) on toward assets 0 and 1.
    cruise_state, cruise_cov = air_track((0.0, 110e3, 100.0), (0.0, -250.0, 0.0))
    zeros, zero_cov = np.zeros(6), np.zeros((6, 6))
    result = evaluate_threats(
        **tracks(
            category=[BALLISTIC, BALLISTIC, 0, CRUISE, BALLISTIC],
            state=np.stack([zeros, zeros, zeros, cruise_state, zeros]),
            covariance=np.stack([zero_cov, zero_cov, zero_cov, cruise_cov, zero_cov]),
            impact_time_s=[400.0, 300.0, NAN, NAN, 250.0],
            impact_lat_deg=[lat_a, lat_b, NAN, NAN, lat_b],
            impact_lon_deg=[lon_a, lon_b, NAN, NAN, lon_b],
            impact_semi_major_m=[800.0, 800.0, NAN, NAN, 800.0],
            impact_semi_minor_m=[800.0, 800.0, NAN, NAN, 800.0],
            impact_orientation_deg=[0.0, 0.0, NAN, NAN, 0.0],
        ),
        assets=assets,
    )
    p = result.probability
    np.testing.assert_allclose(result.value_at_risk, p @ assets.value)
    assert p[0, 0] > 0.9
    assert p[0, 1] > 0.9  # one impact threatens two assets
    assert result.value_at_risk[0] == pytest.approx(10.0 * p[0, 0] + 4.0 * p[0, 1])
    assert (p[3] > 0.0).all()  # the cruise missile threatens all three
    # The most threatened asset carries the largest expected loss: for the cruise missile
    # asset 0 (value 10, reached in 440 s), not asset 2 (value 1, overflown in 120 s).
    assert result.most_threatened_asset.tolist() == [0, 2, NO_ASSET, 0, 2]
    assert result.time_to_go_s[3] == pytest.approx(440.0, rel=1e-3)
    np.testing.assert_allclose(result.asset_time_to_go_s[3], [440.0, 440.0, 120.0], rtol=2e-3)
    # Tracks 1 and 4 threaten asset 2 alike: the sooner impact (4) comes first; the
    # unclassified track (2) comes last.
    assert result.value_at_risk[1] == pytest.approx(result.value_at_risk[4])
    assert result.value_at_risk[0] > result.value_at_risk[3] > result.value_at_risk[4]
    assert result.priority_order.tolist() == [0, 3, 4, 1, 2]


def test_empty_inputs() -> None:
    assets = assets_at([(0.0, 0.0)])
    empty_tracks = evaluate_threats(**tracks(category=np.zeros(0, dtype=int)), assets=assets)
    assert empty_tracks.probability.shape == (0, 1)
    assert empty_tracks.priority_order.shape == (0,)
    no_assets = DefendedAssets(
        position_ecef_m=np.zeros((0, 3)),
        lat_deg=[],
        lon_deg=[],
        radius_m=[],
        value=[],
        nation=np.zeros(0, dtype=int),
    )
    lat, lon, _ = point_enu(0.0, 0.0)
    state, covariance = air_track((0.0, 10e3, 100.0), (0.0, -250.0, 0.0))
    result = evaluate_threats(
        **tracks(
            category=[BALLISTIC, CRUISE],
            state=np.stack([np.zeros(6), state]),
            covariance=np.stack([np.zeros((6, 6)), covariance]),
            impact_time_s=[400.0, NAN],
            impact_lat_deg=[lat, NAN],
            impact_lon_deg=[lon, NAN],
        ),
        assets=no_assets,
    )
    assert result.probability.shape == (2, 0)
    assert result.value_at_risk.tolist() == [0.0, 0.0]
    assert result.most_threatened_asset.tolist() == [NO_ASSET, NO_ASSET]
    assert result.priority_order.tolist() == [0, 1]


def test_system_tracks_drop_the_dropped_rows() -> None:
    lat, lon, _ = point_enu(0.0, 0.0)
    k = 2
    ints = np.zeros(k, dtype=np.int64)
    picture = SystemTracks(
        node=NationCode("AAA"),
        valid_at=100.0,
        nations=(NationCode("AAA"),),
        track_id=np.arange(k),
        network_track_number=np.arange(1, k + 1),
        status=np.array([TrackStatus.CONFIRMED, TrackStatus.DROPPED]),
        category=np.full(k, BALLISTIC),
        state=np.zeros((k, 6)),
        covariance=np.zeros((k, 6, 6)),
        quality=np.full(k, 10),
        updated_at=np.full(k, 100.0),
        sources=np.ones(k, dtype=np.uint64),
        reporter=ints,
        reporting=np.ones(k, dtype=bool),
        local_track_number=ints,
        merged_into=ints,
        previous_number=ints,
        split_from=ints,
        impact_time_s=np.full(k, 400.0),
        impact_lat_deg=np.full(k, lat),
        impact_lon_deg=np.full(k, lon),
        impact_semi_major_m=np.full(k, 500.0),
        impact_semi_minor_m=np.full(k, 500.0),
        impact_orientation_deg=np.zeros(k),
    )
    result = evaluate_system_tracks(picture, assets_at([(0.0, 0.0)]))
    assert result.probability[0, 0] > 0.9
    assert result.probability[1, 0] == 0.0
    assert result.time_to_go_s[0] == pytest.approx(300.0)


def test_results_are_read_only() -> None:
    result = ballistic(assets_at([(0.0, 0.0)]), sigma_major=500.0, sigma_minor=500.0)
    with pytest.raises(ValueError, match="read-only"):
        result.probability[0, 0] = 0.0


# --------------------------------------------------------------------------------------------
# validation


def asset_fields(**overrides: Any) -> dict[str, Any]:
    lat, lon, height = point_enu(0.0, 0.0)
    fields: dict[str, Any] = {
        "position_ecef_m": geodetic_to_ecef(lat, lon, height)[None],
        "lat_deg": [lat],
        "lon_deg": [lon],
        "radius_m": [1000.0],
        "value": [1.0],
        "nation": [0],
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"radius_m": [0.0]}, "radius_m must be > 0"),
        ({"value": [-1.0]}, "value must be >= 0"),
        ({"value": [NAN]}, "value must be finite"),
        ({"lat_deg": [1.0, 2.0]}, r"lat_deg must have shape \(1,\)"),
        ({"lat_deg": [95.0]}, r"lat_deg must lie in \[-90, 90\]"),
        ({"lon_deg": [LON0 + 1.0]}, "position_ecef_m of asset 0 does not lie at lat_deg, lon_deg"),
        ({"nation": [0.5]}, "nation must be whole numbers"),
        ({"nation": ["a"]}, "nation must be integers"),
        ({"position_ecef_m": np.zeros(3)}, r"position_ecef_m must have shape \(A, 3\)"),
    ],
)
def test_bad_assets_name_the_field(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        DefendedAssets(**asset_fields(**overrides))


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("min_impact_sigma_m", 0.0, "min_impact_sigma_m must be finite and > 0"),
        ("horizon_s", -5.0, "horizon_s must be finite and > 0"),
        ("air_manoeuvre_sigma_m", -1.0, "air_manoeuvre_sigma_m must be finite and >= 0"),
        ("min_probability", 1.0, r"min_probability must lie in \[0, 1\)"),
        ("cutoff_sigma", math.inf, "cutoff_sigma must be finite and > 0"),
    ],
)
def test_bad_settings_name_the_field(field: str, value: float, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        ThreatEvaluationSettings(**{field: value})


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"state": np.zeros((1, 3))}, r"state must have shape \(1, 6\)"),
        ({"covariance": np.zeros((1, 6))}, r"covariance must have shape \(1, 6, 6\)"),
        ({"category": [9]}, "category must be 0 or a ThreatCategory value"),
        ({"category": [[1]]}, r"category must have shape \(N,\)"),
        ({"impact_semi_major_m": [-1.0]}, "impact_semi_major_m must be >= 0"),
        ({"impact_time_s": [1.0, 2.0]}, r"impact_time_s must have shape \(1,\)"),
        ({"now_s": NAN}, "now_s must be finite"),
        ({"category": [CRUISE], "state": np.full((1, 6), NAN)}, "state of air-breathing"),
        (
            {"category": [AIRCRAFT], "covariance": np.full((1, 6, 6), NAN)},
            "covariance of air-breathing",
        ),
    ],
)
def test_bad_tracks_name_the_field(overrides: dict[str, Any], match: str) -> None:
    fields = tracks(category=overrides.pop("category", [BALLISTIC]))
    fields.update(overrides)
    with pytest.raises(ConfigurationError, match=match):
        evaluate_threats(**fields, assets=assets_at([(0.0, 0.0)]))
