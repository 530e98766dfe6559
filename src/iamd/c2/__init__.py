"""The command-and-control stage: threat evaluation, feasibility, weapon-target assignment.

Doctrine and engagement authority live in ``iamd.sim.battle`` for now.
"""

from iamd.c2.feasibility import (
    Feasibility,
    FeasibilityReason,
    Shooters,
    engagement_feasibility,
)
from iamd.c2.threat_evaluation import (
    NO_ASSET,
    DefendedAssets,
    ThreatAssessment,
    ThreatEvaluationSettings,
    evaluate_system_tracks,
    evaluate_threats,
    offset_disc_probability,
)
from iamd.c2.wta import (
    MIN_SURVIVAL,
    WtaProblem,
    WtaSolution,
    brute_force,
    check_shots,
    count_switches,
    is_feasible,
    objective,
)
from iamd.c2.wta_exact import PATTERN_LIMIT, solve_exact
from iamd.c2.wta_heuristic import solve_heuristic

__all__: list[str] = [
    "MIN_SURVIVAL",
    "NO_ASSET",
    "PATTERN_LIMIT",
    "DefendedAssets",
    "Feasibility",
    "FeasibilityReason",
    "Shooters",
    "ThreatAssessment",
    "ThreatEvaluationSettings",
    "WtaProblem",
    "WtaSolution",
    "brute_force",
    "check_shots",
    "count_switches",
    "engagement_feasibility",
    "evaluate_system_tracks",
    "evaluate_threats",
    "is_feasible",
    "objective",
    "offset_disc_probability",
    "solve_exact",
    "solve_heuristic",
]
