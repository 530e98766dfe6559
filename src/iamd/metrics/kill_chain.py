"""The kill chain of every threat: when each step from launch to kill assessment happened.

Per threat (a row of the ``threats`` table), times in s from the scenario epoch, ``None``
where the step never happened (``docs/metrics.md``, "Kill chain", gives the reasons):

* **launch**: ``threats.launch_time_s``.
* **first detection**: the earliest ``detections.time_s`` whose ``truth_threat`` is the threat,
  by any sensor; and per nation (``detections.nation``).
* **firm track** of a nation: the first instant at which the nation's air picture
  (``system_tracks``) holds a confirmed or coasting system track associated with the threat,
  by the holdings of the network figures (:func:`iamd.metrics.network.picture_holdings`: the
  time alignment and truth-to-track association of every picture figure); the threat's
  firm track is the earliest over nations.
* The threat's **shots** are the ``engagements`` rows whose ``intended_threat`` is the threat
  (the real threat nearest the fired-at track at the decision). **Decision**: their earliest
  ``decided_at_s``, with the **deciding nation** that fired that shot. **Authority**: the
  instant the engagement authority allowed the shot: the decision itself for a nation's own
  battery; for a shot another nation asked for (with the ``requests`` table), the decision is
  the request — its time, by the requesting nation — and the authority the owner's
  acceptance. **Interceptor launch**: earliest ``launch_at_s``;
  **intercept**: earliest ``time_s`` (any result); **assessment**: earliest ``assessments.time_s``
  of one of these shots (joined on ``shot``).
* **kill**: ``time_s`` of the ``KILL`` shot whose ``threat`` (the threat the seeker took) is
  the threat, whatever threat it was intended for.
* **outcome**: ``killed``; else ``not-launched`` (launch after the run's end); else for a
  ballistic or cruise missile ``leaked`` when its ``end_time_s`` ≤ the run's duration, for an
  aircraft ``survived-route``; else ``in-flight-at-end``.

Summary over threats, for each interval between successive steps: the number of threats with
both ends, their mean and 95th percentile (NumPy's default percentile, linear between order
statistics); ``None`` with nothing to average.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iamd.core import ConfigurationError, RecordingError
from iamd.core.typing import FloatArray
from iamd.messages import ThreatCategory
from iamd.metrics.association import AssociationRule

# The column readers of the network figures, shared so that both read tables alike.
from iamd.metrics.network import _floats, _ints, _require, _strings, picture_holdings
from iamd.metrics.picture import TimeAlignment

THREAT_COLUMNS = ("threat", "category", "launch_time_s", "end_time_s")
DETECTION_COLUMNS = ("time_s", "nation", "truth_threat")
ENGAGEMENT_COLUMNS = (
    "time_s",
    "shot",
    "nation",
    "decided_at_s",
    "launch_at_s",
    "intended_threat",
    "result",
    "threat",
)
ASSESSMENT_COLUMNS = ("time_s", "shot")

_MISSILES = (int(ThreatCategory.BALLISTIC_MISSILE), int(ThreatCategory.CRUISE_MISSILE))

INTERVALS = (
    ("launch_to_detection", "launch_s", "first_detection_s"),
    ("detection_to_firm_track", "first_detection_s", "firm_track_s"),
    ("firm_track_to_decision", "deciding_firm_track_s", "decision_s"),
    ("decision_to_interceptor_launch", "decision_s", "interceptor_launch_s"),
    ("interceptor_launch_to_intercept", "interceptor_launch_s", "intercept_s"),
    ("intercept_to_assessment", "intercept_s", "assessment_s"),
)
"""The summarised intervals: name, and the chain fields of their start and their end."""


class ChainOutcome(enum.StrEnum):
    """What became of a threat by the end of the run."""

    KILLED = "killed"
    """A ``KILL`` shot destroyed it."""
    LEAKED = "leaked"
    """A ballistic or cruise missile not killed that reached its end (impact) within the run."""
    SURVIVED_ROUTE = "survived-route"
    """An aircraft not killed that flew its route to the end within the run."""
    IN_FLIGHT_AT_END = "in-flight-at-end"
    """Launched, not killed, and still flying when the run ended."""
    NOT_LAUNCHED = "not-launched"
    """Its launch time is after the end of the run."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreatKillChain:
    """The kill chain of one threat (module notes for the definitions); times in s."""

    threat: str
    """Threat name."""
    category: int
    """1 ballistic missile, 2 cruise missile, 3 aircraft (as ``threats.category``)."""
    launch_s: float | None
    """Launch (or route start) time."""
    first_detection_s: float | None
    """First detection by any sensor."""
    detection_s_by_nation: dict[str, float | None]
    """First detection by each nation's sensors, every nation of the run."""
    firm_track_s: float | None
    """First firm track in any nation's air picture."""
    firm_track_s_by_nation: dict[str, float | None]
    """First firm track in each nation's air picture, every nation of the run."""
    deciding_nation: str | None
    """Nation of the first decision to fire at the threat."""
    decision_s: float | None
    """First decision to fire at it."""
    authority_s: float | None
    """Engagement authority for that decision (the decision itself, or the owner's acceptance
    of a request: module notes)."""
    interceptor_launch_s: float | None
    """First interceptor launched at it."""
    intercept_s: float | None
    """First intercept of a shot at it, whatever the result."""
    kill_s: float | None
    """When a ``KILL`` shot destroyed it."""
    assessment_s: float | None
    """First kill assessment of a shot at it."""
    shots: int
    """Shots intended for it."""
    outcome: ChainOutcome
    """What became of it."""

    @property
    def deciding_firm_track_s(self) -> float | None:
        """First firm track in the deciding nation's picture (None: no decision or no track)."""
        if self.deciding_nation is None:
            return None
        return self.firm_track_s_by_nation.get(self.deciding_nation)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        out = asdict(self)
        out["deciding_firm_track_s"] = self.deciding_firm_track_s
        out["outcome"] = str(self.outcome)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class IntervalFigures:
    """One interval of the kill chain over the threats that have both of its ends."""

    threats: int
    """Threats with both ends."""
    mean_s: float | None
    """Mean interval, s (None: no threat)."""
    p95_s: float | None
    """95th percentile, s."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class KillChainFigures:
    """The kill chain of every threat of a run, and its intervals summarised."""

    duration_s: float
    """Simulated duration of the run, s."""
    nations: list[str]
    """The run's nation table."""
    threats: list[ThreatKillChain]
    """One chain per row of the ``threats`` table, in its order."""
    intervals: dict[str, IntervalFigures]
    """Each interval of :data:`INTERVALS`, by name."""
    outcomes: dict[str, int]
    """Threats by outcome (every outcome, zeros included)."""
    false_track_shots: int
    """Shots intended for no real threat (``intended_threat`` empty): in no chain."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "duration_s": self.duration_s,
            "nations": list(self.nations),
            "threats": [chain.to_dict() for chain in self.threats],
            "intervals": {name: figures.to_dict() for name, figures in self.intervals.items()},
            "outcomes": dict(self.outcomes),
            "false_track_shots": self.false_track_shots,
        }


def _time(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _earliest(keys: npt.NDArray[np.str_], times: FloatArray) -> dict[str, tuple[float, int]]:
    """Earliest finite time of each key, and the row it is on (the first such row on ties)."""
    finite = np.flatnonzero(np.isfinite(times))
    order = finite[np.lexsort((finite, times[finite], keys[finite]))]
    names, first = np.unique(keys[order], return_index=True)
    return {
        str(name): (float(times[order[row]]), int(order[row]))
        for name, row in zip(names.tolist(), first.tolist(), strict=True)
    }


def interval_figures(start_s: FloatArray, end_s: FloatArray) -> IntervalFigures:
    """Count, mean and 95th percentile of ``end − start`` where both ends are known.

    Parameters
    ----------
    start_s, end_s : ndarray, shape (N,)
        Start and end of each threat's interval, s (NaN: that step never happened).

    Returns
    -------
    IntervalFigures

    Examples
    --------
    >>> figures = interval_figures(np.array([0.0, 10.0, np.nan]), np.array([4.0, 16.0, 3.0]))
    >>> figures.threats, figures.mean_s
    (2, 5.0)
    """
    start = np.asarray(start_s, np.float64).reshape(-1)
    end = np.asarray(end_s, np.float64).reshape(-1)
    both = np.isfinite(start) & np.isfinite(end)
    span = end[both] - start[both]
    if span.size == 0:
        return IntervalFigures(threats=0, mean_s=None, p95_s=None)
    return IntervalFigures(
        threats=int(span.size),
        mean_s=float(np.mean(span)),
        p95_s=float(np.percentile(span, 95.0)),
    )


def _outcome(
    killed: bool, category: int, launch_s: float, end_s: float, duration_s: float
) -> ChainOutcome:
    if killed:
        return ChainOutcome.KILLED
    if launch_s > duration_s:
        return ChainOutcome.NOT_LAUNCHED
    if end_s <= duration_s:
        return ChainOutcome.LEAKED if category in _MISSILES else ChainOutcome.SURVIVED_ROUTE
    return ChainOutcome.IN_FLIGHT_AT_END


def kill_chains(
    *,
    threats: pa.Table,
    detections: pa.Table,
    system_tracks: pa.Table,
    truth: pa.Table,
    engagements: pa.Table,
    assessments: pa.Table,
    nations: Sequence[str],
    duration_s: float,
    alignment: TimeAlignment | None = None,
    association: AssociationRule | None = None,
    requests: pa.Table | None = None,
) -> KillChainFigures:
    """The kill chain of every threat, from launch to kill assessment, and its intervals.

    Parameters
    ----------
    threats, detections, system_tracks, truth, engagements, assessments : pyarrow.Table
        The recording's tables of these names (``docs/recording.md``). Columns read:
        ``threats``: ``threat``, ``category``, ``launch_time_s``, ``end_time_s``;
        ``detections``: ``time_s``, ``nation``, ``truth_threat``; ``system_tracks`` and
        ``truth`` as for :func:`~iamd.metrics.network.picture_holdings`; ``engagements``:
        ``time_s``, ``shot``, ``nation``, ``decided_at_s``, ``launch_at_s``,
        ``intended_threat``, ``result``, ``threat``; ``assessments``: ``time_s``, ``shot``.
    nations : sequence of str
        The run's nation table (``meta.json`` ``nations``); every detecting nation, picture
        node and firing nation must be in it.
    duration_s : float
        Simulated duration of the run, s (``meta.json`` ``duration_s``).
    requests : pyarrow.Table, optional
        The ``requests`` table. When the first decision on a threat is a shot another
        nation asked for (``engagements.requested_by``), the decision is the request (its
        time, and the requesting nation decides) and the authority is the owner's
        acceptance (the shot's ``decided_at_s``); otherwise both are the decision.
    alignment, association : optional
        Time alignment and truth-to-track association of the pictures (defaults as for the
        network figures: 10 s age limit, confirmed and coasting tracks; 5 km, 3 steps to
        start, 2 misses to end).

    Returns
    -------
    KillChainFigures
        One chain per threat (rows of other tables about unknown threats are ignored) and
        the interval summary.

    Raises
    ------
    iamd.core.RecordingError
        A table lacks a column, or names a nation not in ``nations``.
    iamd.core.ConfigurationError
        ``duration_s`` is not finite, more than 64 nations, or truth off the sampling grid.

    Examples
    --------
    From a recording directory::

        run = Recording(run_dir)
        figures = kill_chains(
            **{name: run.table(name) for name in (
                "threats", "detections", "system_tracks", "truth", "engagements",
                "assessments")},
            nations=run.meta["nations"], duration_s=run.meta["duration_s"])
    """
    if not math.isfinite(duration_s):
        raise ConfigurationError(f"kill chains: duration_s must be finite (got {duration_s})")
    _require(threats, "threats", THREAT_COLUMNS)
    _require(detections, "detections", DETECTION_COLUMNS)
    _require(engagements, "engagements", ENGAGEMENT_COLUMNS)
    _require(assessments, "assessments", ASSESSMENT_COLUMNS)
    table = tuple(str(nation) for nation in nations)

    detected = detections.filter(pc.is_valid(detections["truth_threat"]))
    detection_threat = _strings(detected, "truth_threat")
    detection_nation = _strings(detected, "nation")
    detection_time = _floats(detected, "time_s")
    unknown = sorted(set(detection_nation.tolist()) - set(table))
    if unknown:
        raise RecordingError(
            f"table 'detections': {unknown[0]!r} is not in the run's nation table {list(table)}"
        )
    first_detection = _earliest(detection_threat, detection_time)
    nation_detection = {
        nation: _earliest(
            detection_threat[detection_nation == nation], detection_time[detection_nation == nation]
        )
        for nation in table
    }

    picture = picture_holdings(
        truth, system_tracks, table, alignment=alignment, association=association
    )
    firm: dict[str, dict[str, float]] = {nation: {} for nation in table}
    if picture.step.size:
        order = np.lexsort((picture.step, picture.truth, picture.nation))
        nation, truth_index, step = (
            picture.nation[order],
            picture.truth[order],
            picture.step[order],
        )
        start = np.r_[True, (nation[1:] != nation[:-1]) | (truth_index[1:] != truth_index[:-1])]
        for n, o, k in zip(
            nation[start].tolist(), truth_index[start].tolist(), step[start].tolist(), strict=True
        ):
            firm[picture.nations[n]][picture.truth_ids[o]] = float(picture.times_s[k])

    intended = _strings(engagements, "intended_threat")
    shot_nation = _strings(engagements, "nation")
    unknown = sorted(set(shot_nation.tolist()) - set(table))
    if unknown:
        raise RecordingError(
            f"table 'engagements': {unknown[0]!r} is not in the run's nation table {list(table)}"
        )
    shot = _ints(engagements, "shot")
    shot_track = _ints(engagements, "track_number")
    requested_by = (
        _strings(engagements, "requested_by")
        if "requested_by" in engagements.column_names
        else np.full(engagements.num_rows, "", dtype=object)
    )
    sent = (
        [
            (float(r["time_s"]), r["requester"], r["owner"], int(r["track_number"]))
            for r in requests.to_pylist()
            if r["state"] == "REQUESTED" and r["reason"] == "sent"
        ]
        if requests is not None
        else []
    )
    decision = _earliest(intended, _floats(engagements, "decided_at_s"))
    interceptor_launch = _earliest(intended, _floats(engagements, "launch_at_s"))
    intercept = _earliest(intended, _floats(engagements, "time_s"))
    result = _strings(engagements, "result")
    kills = result == "KILL"
    kill = _earliest(_strings(engagements, "threat")[kills], _floats(engagements, "time_s")[kills])
    assessed_shot = _ints(assessments, "shot")
    assessed_at = _floats(assessments, "time_s")
    intended_of_shot = dict(zip(shot.tolist(), intended.tolist(), strict=True))
    assessment = _earliest(
        np.asarray([intended_of_shot.get(s, "") for s in assessed_shot.tolist()], dtype=str),
        assessed_at,
    )
    aimed, counts = np.unique(intended, return_counts=True)
    shots_at = dict(zip(aimed.tolist(), counts.tolist(), strict=True))

    def at(events: dict[str, tuple[float, int]], name: str) -> float | None:
        return events[name][0] if name in events else None

    chains = []
    names = _strings(threats, "threat")
    category = _ints(threats, "category")
    launch = _floats(threats, "launch_time_s")
    end = _floats(threats, "end_time_s")
    for row, name in enumerate(names.tolist()):
        by_nation = {nation: at(nation_detection[nation], name) for nation in table}
        firm_by_nation = {nation: firm[nation].get(name) for nation in table}
        held = [time for time in firm_by_nation.values() if time is not None]
        decided = decision.get(name)
        deciding_nation = str(shot_nation[decided[1]]) if decided is not None else None
        decision_s = authority_s = at(decision, name)
        if decided is not None and requested_by[decided[1]]:
            # The shot answered a request: the requester decided when it asked.
            asker = str(requested_by[decided[1]])
            asked = [
                t
                for t, who, owner, number in sent
                if who == asker
                and owner == deciding_nation
                and number == int(shot_track[decided[1]])
                and authority_s is not None
                and t <= authority_s
            ]
            deciding_nation = asker
            decision_s = max(asked) if asked else authority_s
        chains.append(
            ThreatKillChain(
                threat=name,
                category=int(category[row]),
                launch_s=_time(launch[row]),
                first_detection_s=at(first_detection, name),
                detection_s_by_nation=by_nation,
                firm_track_s=min(held) if held else None,
                firm_track_s_by_nation=firm_by_nation,
                deciding_nation=deciding_nation,
                decision_s=decision_s,
                authority_s=authority_s,
                interceptor_launch_s=at(interceptor_launch, name),
                intercept_s=at(intercept, name),
                kill_s=at(kill, name),
                assessment_s=at(assessment, name),
                shots=int(shots_at.get(name, 0)),
                outcome=_outcome(
                    name in kill,
                    int(category[row]),
                    float(launch[row]),
                    float(end[row]),
                    float(duration_s),
                ),
            )
        )

    def column(field: str) -> FloatArray:
        values = [getattr(chain, field) for chain in chains]
        return np.array([math.nan if v is None else v for v in values], np.float64)

    return KillChainFigures(
        duration_s=float(duration_s),
        nations=list(table),
        threats=chains,
        intervals={
            interval: interval_figures(column(start_field), column(end_field))
            for interval, start_field, end_field in INTERVALS
        },
        outcomes={
            str(outcome): sum(chain.outcome == outcome for chain in chains)
            for outcome in ChainOutcome
        },
        false_track_shots=int(np.count_nonzero(intended == "")),
    )


__all__ = [
    "INTERVALS",
    "ChainOutcome",
    "IntervalFigures",
    "KillChainFigures",
    "ThreatKillChain",
    "interval_figures",
    "kill_chains",
]
