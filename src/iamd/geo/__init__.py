"""WGS-84 frames, Earth constants, horizon and line of sight (pure array functions).

Inside iamd every position is Earth-centred, Earth-fixed (ECEF) in metres; geodetic
coordinates (degrees, metres above the ellipsoid) and local East-North-Up (ENU) frames appear
only at the edges and in sensor-local measurement models.
"""

from iamd.geo.constants import (
    EARTH_J2,
    EARTH_MU_M3_S2,
    EARTH_RADIUS_MEAN_M,
    EARTH_ROTATION_RAD_S,
    REFRACTION_K,
    WGS84_A_M,
    WGS84_B_M,
)
from iamd.geo.frames import (
    aer_to_ecef,
    ecef_to_aer,
    ecef_to_enu_matrix,
    ecef_to_geodetic,
    enu_to_ecef_vector,
    geodetic_to_ecef,
    great_circle_distance_m,
    great_circle_interpolate,
)
from iamd.geo.horizon import horizon_distance_m, line_of_sight_clear

__all__ = [
    "EARTH_J2",
    "EARTH_MU_M3_S2",
    "EARTH_RADIUS_MEAN_M",
    "EARTH_ROTATION_RAD_S",
    "REFRACTION_K",
    "WGS84_A_M",
    "WGS84_B_M",
    "aer_to_ecef",
    "ecef_to_aer",
    "ecef_to_enu_matrix",
    "ecef_to_geodetic",
    "enu_to_ecef_vector",
    "geodetic_to_ecef",
    "great_circle_distance_m",
    "great_circle_interpolate",
    "horizon_distance_m",
    "line_of_sight_clear",
]
