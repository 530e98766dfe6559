"""Defense outcome of a run: leakers, defended-asset survival, shots and kills.

Definitions (from the ``threats``, ``engagements`` and ``defended_assets`` tables):

- A **kill** is a shot whose result is ``KILL``; the threat it names is destroyed then.
- A **leaker** is a ballistic or cruise missile that was not destroyed and reached its
  impact point (its ``end_time_s``) within the run. Aircraft never leak: the end of their
  route is where they leave. A missile still in flight at the end of the run is counted
  apart (``in_flight_at_end``).
- A leaker **hits** a defended asset when its impact point (``end_lat_deg``,
  ``end_lon_deg``) lies within the asset's radius (great-circle distance on the sphere of
  the mean Earth radius, which is within 0.5 % of the ellipsoid's at these distances).
  **Value-weighted survival** is ``1 − Σ value of hit assets / Σ value of all assets``.
- **Wasted shots** could not kill: their threat was gone before they arrived
  (``TARGET_GONE``), the guiding track was lost (``TRACK_LOST``), or no real threat was
  within the interceptor's divert basket (``OUTSIDE_BASKET``, which includes shots at
  false tracks).
- **Cross-nation requests**: requests sent, accepted and declined by their owners, and the
  shots fired on request.
- **Magazines** (from the ``inventory`` table): each battery's ready and depot rounds at
  the start and the end, the rounds production delivered to it, and the first time it had
  none left.
- A **double engagement** is a threat at which two nations had interceptors in the air at
  the same time (by the threat each shot's track was on at the decision, whatever became
  of the shot) (their launch-to-intercept intervals overlap): the accident engagement
  status on the network exists to prevent. Engaging a threat again after another nation's
  shots missed is not one.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from iamd.geo import great_circle_distance_m
from iamd.messages import ThreatCategory

_WASTED = ("TARGET_GONE", "TRACK_LOST", "OUTSIDE_BASKET")
_MISSILES = (int(ThreatCategory.BALLISTIC_MISSILE), int(ThreatCategory.CRUISE_MISSILE))


@dataclass(frozen=True, slots=True)
class NationShots:
    """What one nation fired and achieved."""

    nation: str
    shots: int
    kills: int
    wasted: int
    shots_per_kill: float | None


@dataclass(frozen=True, slots=True)
class Magazine:
    """One battery's rounds over the run (from the ``inventory`` table)."""

    shooter: str
    nation: str
    ready_at_start: int
    depot_at_start: int
    ready_at_end: int
    depot_at_end: int
    delivered: int
    """Rounds that production added to its depot."""
    empty_at_s: float | None
    """First time it had no round left, ready or in the depot (None: never)."""


@dataclass(frozen=True, slots=True)
class DefenseFigures:
    """Defense outcome of one run (module notes for the definitions)."""

    missiles: int
    destroyed: int
    leakers: int
    in_flight_at_end: int
    zero_leakers: bool
    assets: int
    assets_hit: list[str]
    value_weighted_survival: float | None
    shots: int
    kills: int
    wasted_shots: int
    shots_per_kill: float | None
    double_engagements: int
    by_nation: list[NationShots]
    requests_sent: int
    requests_accepted: int
    requests_declined: int
    shots_on_request: int
    magazines: list[Magazine]

    def to_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready dictionary."""
        return asdict(self)


def defense_summary(
    threats: pa.Table,
    engagements: pa.Table,
    assets: pa.Table,
    *,
    duration_s: float,
    requests: pa.Table | None = None,
    inventory: pa.Table | None = None,
) -> DefenseFigures:
    """Leakers, asset survival and shot figures of a run (module notes).

    Parameters
    ----------
    threats, engagements, assets : pyarrow.Table
        The recording's ``threats``, ``engagements`` and ``defended_assets`` tables.
    requests : pyarrow.Table, optional
        The ``requests`` table (cross-nation requests; none: no request figures).
    inventory : pyarrow.Table, optional
        The ``inventory`` table (none: no magazine figures).
    duration_s : float
        Simulated duration of the run, s.
    """
    ids = np.array(threats["threat"].to_pylist(), dtype=object)
    category = threats["category"].to_numpy().astype(np.int64)
    end = threats["end_time_s"].to_numpy()
    result = np.array(engagements["result"].to_pylist(), dtype=object)
    target = np.array(engagements["threat"].to_pylist(), dtype=object)
    nation = np.array(engagements["nation"].to_pylist(), dtype=object)
    killed_ids = set(target[result == "KILL"].tolist())
    destroyed = np.isin(ids, list(killed_ids))
    missile = np.isin(category, _MISSILES)
    arrived = end <= duration_s
    leak = missile & ~destroyed & arrived
    hit: list[str] = []
    survival = None
    if assets.num_rows:
        names = assets["asset"].to_pylist()
        value = assets["value"].to_numpy()
        distance = great_circle_distance_m(
            threats["end_lat_deg"].to_numpy()[leak][:, None],
            threats["end_lon_deg"].to_numpy()[leak][:, None],
            assets["lat_deg"].to_numpy()[None, :],
            assets["lon_deg"].to_numpy()[None, :],
        )
        struck = (distance <= assets["radius_m"].to_numpy()[None, :]).any(axis=0)
        hit = [name for name, s in zip(names, struck.tolist(), strict=True) if s]
        survival = float(1.0 - value[struck].sum() / value.sum())
    wasted = np.isin(result, _WASTED)
    kills = int(np.count_nonzero(result == "KILL"))
    intended = np.array(engagements["intended_threat"].to_pylist(), dtype=object)
    launch = engagements["launch_at_s"].to_numpy()
    intercept = engagements["intercept_at_s"].to_numpy()
    doubled: set[str] = set()
    for threat in set(intended.tolist()) - {""}:
        rows = np.flatnonzero(intended == threat)
        for i in rows.tolist():
            others = rows[nation[rows] != nation[i]]
            overlap = (launch[others] < intercept[i]) & (launch[i] < intercept[others])
            if overlap.any():
                doubled.add(threat)
    by_nation = []
    for code in sorted(set(nation.tolist())):
        mine = nation == code
        k = int(np.count_nonzero(result[mine] == "KILL"))
        count = int(mine.sum())
        by_nation.append(
            NationShots(
                nation=code,
                shots=count,
                kills=k,
                wasted=int(np.count_nonzero(wasted[mine])),
                shots_per_kill=count / k if k else None,
            )
        )
    leakers = int(leak.sum())
    states = [] if requests is None else requests["state"].to_pylist()
    reasons = [] if requests is None else requests["reason"].to_pylist()
    asked = sum(1 for s, r in zip(states, reasons, strict=True) if s == "REQUESTED" and r == "sent")
    by_request = (
        np.array(engagements["requested_by"].to_pylist(), dtype=object)
        if "requested_by" in engagements.column_names
        else np.array([], dtype=object)
    )
    return DefenseFigures(
        missiles=int(missile.sum()),
        destroyed=int(destroyed.sum()),
        leakers=leakers,
        in_flight_at_end=int(np.count_nonzero(missile & ~destroyed & ~arrived)),
        zero_leakers=leakers == 0,
        assets=assets.num_rows,
        assets_hit=hit,
        value_weighted_survival=survival,
        shots=len(result),
        kills=kills,
        wasted_shots=int(wasted.sum()),
        shots_per_kill=len(result) / kills if kills else None,
        double_engagements=len(doubled),
        by_nation=by_nation,
        requests_sent=asked,
        requests_accepted=states.count("ACCEPTED"),
        requests_declined=states.count("DECLINED"),
        shots_on_request=int(np.count_nonzero(by_request != "")),
        magazines=[] if inventory is None else _magazines(inventory),
    )


def _magazines(inventory: pa.Table) -> list[Magazine]:
    """Each battery's rounds at the start and end, deliveries, and when it ran dry."""
    rows = inventory.to_pylist()
    by_shooter: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_shooter.setdefault(row["shooter"], []).append(row)
    out = []
    for name in sorted(by_shooter):
        history = sorted(by_shooter[name], key=lambda r: r["time_s"])
        first, last = history[0], history[-1]
        delivered = 0
        for before, after in itertools.pairwise(history):
            # A delivery raises the depot without touching the launchers.
            if after["depot"] > before["depot"] and after["ready"] == before["ready"]:
                delivered += after["depot"] - before["depot"]
        empty = next((r["time_s"] for r in history if r["ready"] + r["depot"] == 0), None)
        out.append(
            Magazine(
                shooter=name,
                nation=first["nation"],
                ready_at_start=first["ready"],
                depot_at_start=first["depot"],
                ready_at_end=last["ready"],
                depot_at_end=last["depot"],
                delivered=delivered,
                empty_at_s=empty,
            )
        )
    return out


__all__ = ["DefenseFigures", "Magazine", "NationShots", "defense_summary"]
