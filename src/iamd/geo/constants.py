"""Earth constants (WGS-84 / EGM-96 values, SI units)."""

WGS84_A_M = 6_378_137.0
"""Semi-major axis of the WGS-84 ellipsoid, m."""

WGS84_F = 1.0 / 298.257223563
"""Flattening of the WGS-84 ellipsoid."""

WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
"""Semi-minor axis of the WGS-84 ellipsoid, m."""

EARTH_RADIUS_MEAN_M = 6_371_008.8
"""Mean Earth radius (IUGG), m; used for great-circle distances."""

EARTH_MU_M3_S2 = 3.986004418e14
"""Earth's gravitational parameter GM, m³/s²."""

EARTH_J2 = 1.08262668e-3
"""Second zonal harmonic of the geopotential (unnormalised)."""

EARTH_ROTATION_RAD_S = 7.2921150e-5
"""Earth's rotation rate about the ECEF z axis, rad/s."""

REFRACTION_K = 4.0 / 3.0
"""Effective-Earth-radius factor of the standard 4/3-Earth refraction model."""

STANDARD_GRAVITY_M_S2 = 9.80665
"""Standard gravity g0, m/s² (specific impulse and load factors)."""
