"""Battle management: each nation's battle manager and the engagements it fires.

One :class:`BattleManager` per nation with rules of engagement works from that nation's own
air picture, every ``c2_period_s``:

1. **Threat evaluation** (:func:`iamd.c2.evaluate_threats`): each confirmed, classified
   track of the picture against the defended assets of the nations it defends (its own, plus
   those its rules list: the collective-defense condition); the track's value at risk is
   Σ asset value × probability of reaching it.
2. **Engagement feasibility** (:func:`iamd.c2.engagement_feasibility`) of every own shooter
   against every such track, along the track's predicted trajectory (ballistic tracks flown
   by the tracker's ballistic model until they reach the ground, air-breathing ones in a
   straight line), with the shooters' free rounds and fire channels.
3. **Weapon-target assignment** (:func:`iamd.c2.solve_heuristic`): maximise the expected
   value protected, at most ``doctrine.salvo`` shots per (shooter, threat) pair.
4. **Orders**: a pair is planned only when its launch for the earliest intercept falls
   before the next cycle (so that decisions wait for the best track there is), and only on
   a *fire-control-quality* track: one whose 95 % position error is within the
   interceptor's divert radius. Every assigned shot launches at the time that makes it meet
   the threat at the predicted intercept point, flying straight at the interceptor's mean
   speed (:class:`Shot`).

A track with interceptors in the air is not planned again, nor is a track another nation
reports engaging (:class:`~iamd.messages.EngagementStatuses` on the network, ``PLANNED`` to
``ENGAGING``, for up to :data:`PARTNER_STATUS_TIMEOUT_S` past its predicted intercept), nor
one another nation reports killed. Under ``salvo`` doctrine a
track is engaged once; under ``shoot_look_shoot`` it may be engaged again once the kill
assessment of every shot at it says it survived. A track assessed killed is never engaged
again (even if the assessment was wrong: a false kill lets a live threat through).

Each nation reports its engagements on the network as it orders them (``ENGAGING``, with
the interceptors in the air and the predicted intercept time) and when every shot at a
track has been assessed (``KILL`` or ``MISS``), under its agreements like any other data.

What it does not do yet: a nation engages only with its own shooters (no cross-nation
requests).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from iamd.c2 import (
    DefendedAssets,
    Feasibility,
    Shooters,
    ThreatEvaluationSettings,
    WtaProblem,
    engagement_feasibility,
    evaluate_threats,
    solve_heuristic,
)
from iamd.core.ids import NationCode, SiteId
from iamd.core.kinematics import predict_nearly_constant_velocity
from iamd.core.typing import FloatArray
from iamd.engagement import InterceptResult, assess_kills, resolve_intercepts
from iamd.geo import ecef_to_geodetic
from iamd.messages import (
    Classification,
    EngagementState,
    EngagementStatuses,
    PlatformState,
    ThreatCategory,
    TrackStatus,
)
from iamd.messages.picture import SystemTracks
from iamd.network import take_reports
from iamd.scenario import schema
from iamd.tracking.motion import Ballistic
from iamd.tracking.quality import position_error_radius_95_m
from iamd.world import Truth

PlatformTrack = Callable[[float], PlatformState]

HORIZON_S = 900.0
"""How far ahead a track's trajectory is predicted for feasibility, s."""

GRID_STEP_S = 2.0
"""Time step of the predicted trajectories, s (feasibility refines between steps)."""

SWITCH_PENALTY = 0.05
"""What withdrawing or re-aiming one shot of the standing plan costs in the assignment, in
units of asset value (a twentieth of a typical asset): plans change for a real gain only."""

PARTNER_STATUS_TIMEOUT_S = 30.0
"""A partner's engagement counts as live until this long after its predicted intercept."""

_LIVE_STATES = frozenset(
    {
        EngagementState.PLANNED,
        EngagementState.REQUESTED,
        EngagementState.ACCEPTED,
        EngagementState.ENGAGING,
    }
)


@dataclass(slots=True)
class ShooterState:
    """One battery at run time: where it is, what it fires, what it has left."""

    name: str
    nation: NationCode
    platform: PlatformTrack
    interceptor: schema.InterceptorType
    rounds: int
    channels: int
    number: int = 0
    """The owner's small number of the shooter (1, 2, …, in scenario order within the nation)."""
    salvo: int | None = None
    """The battery's own salvo (None: its nation's doctrine)."""
    initial_rounds: int = 0
    """Rounds at the start: the launchers' capacity, and what the reserve is a share of."""
    depot: int = 0
    """Reload rounds at the site."""
    reload_time_s: float = 1800.0
    """Time to refill the launchers from the depot, s."""
    reloading: bool = False
    """A reload is under way."""
    busy_until: list[float] = field(default_factory=list)
    """Intercept times of the interceptors it guides now (one channel each)."""

    def free_channels(self, now_s: float) -> int:
        """Fire channels not guiding an interceptor at ``now_s`` (ordered ones count busy)."""
        self.busy_until = [t for t in self.busy_until if t > now_s]
        return self.channels - len(self.busy_until)


@dataclass(slots=True, kw_only=True)
class Shot:
    """One interceptor, from the decision to the kill assessment."""

    shot_id: int
    nation: NationCode
    shooter: str
    track_number: int
    decided_at_s: float
    launch_at_s: float
    intercept_at_s: float
    launch_ecef_m: FloatArray
    aim_ecef_m: FloatArray
    kill_probability: float
    divert_radius_m: float
    value_at_risk: float
    asset: str
    """The defended asset the threat endangers most (value × probability)."""
    asset_nation: str
    intended: str = ""
    """The real threat nearest to the track at the decision (for analysis only)."""
    requested_by: str = ""
    """The nation whose request this shot answers ("" for the nation's own decision)."""
    track_sources: str = ""
    """The nations whose data made the track at the decision, comma-separated."""
    result: int = 0
    threat: str = ""
    miss_m: float = float("nan")
    assessed_killed: bool | None = None


@dataclass(slots=True, kw_only=True)
class Request:
    """One cross-nation request: fire ``shots`` of another nation's shooter at a track."""

    requester: NationCode
    owner: NationCode
    shooter: str
    shooter_number: int
    track_number: int
    shots: int
    intercept_at_s: float


class BattleManager:
    """The battle manager of one nation (module notes).

    Parameters
    ----------
    rules : RulesOfEngagement
        The nation's rules from the scenario.
    shooters : sequence of ShooterState
        The nation's own batteries (shared with the run, which spends their rounds).
    assets : DefendedAssets
        The defended assets it protects (its own and those of the nations it defends).
    ids : iterator of int, optional
        Where shot numbers come from (shared by the run's managers so they are unique).
    asset_names, asset_nations : sequence of str, optional
        Name and nation of each asset, in the order of ``assets`` (for the record).
    partners : sequence of ShooterState, optional
        Shooters of the nations in ``rules.requests_to``, as this nation knows them.
    fire_control_from : sequence of str, optional
        Other nations whose agreements with this one allow launching or engaging on their
        data; a track is engaged only if its own sensors or one of these contribute (and,
        with ``engage_on_remote`` false, only its own).
    """

    def __init__(
        self,
        rules: schema.RulesOfEngagement,
        shooters: Sequence[ShooterState],
        assets: DefendedAssets,
        ids: Iterator[int] | None = None,
        asset_names: Sequence[str] = (),
        asset_nations: Sequence[str] = (),
        partners: Sequence[ShooterState] = (),
        fire_control_from: Sequence[str] = (),
    ) -> None:
        self.rules = rules
        self.fire_control_from = frozenset(fire_control_from)
        """Other nations whose data it may launch or engage on (by their agreements)."""
        self.partners = list(partners)
        """Other nations' shooters it may request, as it believes them to be (their rounds
        and channels as declared: their owners decide with the real ones)."""
        self._requested: dict[int, float] = {}
        """Track number → time its pending request is given up."""
        self._plan: dict[tuple[int, str], int] = {}
        """The standing plan: (track number, battery) → shots planned but not yet due."""
        self.partner_delay: dict[str, float] = {}
        """Each requestable nation's decision delay, s (asked that much ahead)."""
        self._declined: set[tuple[int, str, int]] = set()
        """(track number, owner, shooter number) requests that were declined: not asked again."""
        self.asset_names = list(asset_names) or [str(i) for i in range(len(assets))]
        self.asset_nations = list(asset_nations) or [""] * len(assets)
        self.nation = NationCode(rules.nation)
        self.shooters = list(shooters)
        self.assets = assets
        self.settings = ThreatEvaluationSettings()
        self._ballistic = Ballistic(acceleration_psd_m2_s3=0.0, max_step_s=GRID_STEP_S)
        self._in_flight: dict[int, int] = {}
        """Track number → interceptors of this nation in the air (or waiting to launch)."""
        self._pending: dict[int, int] = {}
        """Track number → shots not yet assessed."""
        self._survived: set[int] = set()
        """Tracks whose every assessed shot says they survived (may be engaged again)."""
        self._killed: set[int] = set()
        """Tracks assessed killed."""
        self._engaged: set[int] = set()
        """Tracks engaged at least once."""
        self._ids = ids if ids is not None else itertools.count(1)
        self._clock = -np.inf
        self.declined_because = ""
        """Why the latest request was declined (for the record)."""
        self._answering = ""
        """The nation whose request is being answered (its own engagement of the track does
        not stop the answer)."""
        self._partner: dict[int, tuple[int, float, str]] = {}
        """Track number → (state, valid-until time) of another nation's engagement of it."""

    def plan(self, now_s: float, picture: SystemTracks) -> tuple[list[Shot], list[Request]]:
        """Decide this cycle's shots, and requests to partners, from the picture at ``now_s``."""
        self._clock = now_s
        self._requested = {n: t for n, t in self._requested.items() if now_s < t}
        batteries = self.shooters + self.partners
        if not batteries or not len(picture) or not len(self.assets):
            return [], []
        rows = self._candidates(picture)
        if not rows.size:
            return [], []
        return self._assign(now_s, picture, rows, batteries, self.assets, requester=None)

    def accept(
        self,
        now_s: float,
        picture: SystemTracks,
        request: Request,
        assets: DefendedAssets,
        asset_names: Sequence[str],
        asset_nations: Sequence[str],
    ) -> list[Shot]:
        """Answer another nation's request with this nation's shooter: the shots it fires.

        It fires when its own picture holds the track as a candidate (confirmed, classified,
        not engaged or killed, at fire-control quality), the track threatens the
        requester's assets, and the shooter can make an intercept with its real rounds and
        channels; otherwise none (declined).
        """
        self._clock = now_s
        shooter = next((s for s in self.shooters if s.name == request.shooter), None)
        if shooter is None or not len(picture):
            return []
        names, nations = self.asset_names, self.asset_nations
        self.asset_names, self.asset_nations = list(asset_names), list(asset_nations)
        self._answering = str(request.requester)
        try:
            rows = self._candidates(picture)
            rows = rows[picture.network_track_number[rows] == request.track_number]
            if not rows.size:
                held = request.track_number in set(picture.network_track_number.tolist())
                self.declined_because = (
                    "it engages or killed the track already, or cannot fire on its sources"
                    if held
                    else "its picture does not hold the track"
                )
                return []
            if shooter.rounds <= 0 or shooter.free_channels(now_s) <= 0:
                self.declined_because = "the battery has no free round or fire channel"
                return []
            self.declined_because = "no intercept at fire-control quality from its picture"
            shots, _ = self._assign(
                now_s,
                picture,
                rows,
                [shooter],
                assets,
                requester=request.requester,
                salvo=request.shots,
                any_time=True,
            )
        finally:
            self.asset_names, self.asset_nations = names, nations
            self._answering = ""
        return shots

    def _assign(
        self,
        now_s: float,
        picture: SystemTracks,
        rows: np.ndarray,
        batteries: list[ShooterState],
        assets: DefendedAssets,
        *,
        requester: NationCode | None,
        salvo: int | None = None,
        any_time: bool = False,
    ) -> tuple[list[Shot], list[Request]]:
        """Threat evaluation, feasibility and assignment of ``batteries`` to ``rows``."""
        state, covariance = picture.state[rows], picture.covariance[rows]
        assessment = evaluate_threats(
            category=picture.category[rows],
            state=state,
            covariance=covariance,
            impact_time_s=picture.impact_time_s[rows],
            impact_lat_deg=picture.impact_lat_deg[rows],
            impact_lon_deg=picture.impact_lon_deg[rows],
            impact_semi_major_m=picture.impact_semi_major_m[rows],
            impact_semi_minor_m=picture.impact_semi_minor_m[rows],
            impact_orientation_deg=picture.impact_orientation_deg[rows],
            now_s=now_s,
            assets=assets,
            settings=self.settings,
        )
        threatening = assessment.value_at_risk > 0.0
        if not threatening.any():
            return [], []
        rows = rows[threatening]
        values = assessment.value_at_risk[threatening]
        most = assessment.most_threatened_asset[threatening]
        times, trajectory = self._trajectories(picture, rows, now_s)
        shooters = _shooter_arrays(batteries, now_s)
        r95 = position_error_radius_95_m(picture.covariance[rows])
        divert = np.array([s.interceptor.divert_radius_m for s in batteries], float)
        feasible = engagement_feasibility(
            shooters,
            times_s=times,
            trajectory_ecef_m=trajectory,
            now_s=now_s,
            fire_control_track=r95[None, :] <= divert[:, None],
        )
        launch = (
            feasible.intercept_time_s
            - feasible.intercept_range_m / shooters.mean_speed_mps[:, None]
        )
        lead = now_s + shooters.reaction_time_s[:, None] + float(self.rules.c2_period_s)
        # A partner's battery must be asked a decision delay ahead of its launch.
        ask = np.array([self.partner_delay.get(str(b.nation), 0.0) for b in batteries])
        due = (
            launch
            <= lead + np.where(np.arange(len(batteries)) < len(self.shooters), 0.0, ask)[:, None]
        )
        # The plan covers every feasible pair (a standing plan, sticky from cycle to cycle);
        # only the pairs due now are fired or asked for.
        ready = (
            feasible.feasible.copy() if requester is None else feasible.feasible & (due | any_time)
        )
        if requester is None and self._declined:
            numbers = picture.network_track_number[rows].tolist()
            for s, battery in enumerate(batteries[len(self.shooters) :], start=len(self.shooters)):
                for n, number in enumerate(numbers):
                    if (number, battery.nation, battery.number) in self._declined:
                        ready[s, n] = False
        if not ready.any():
            return [], []
        doctrine = self.rules.doctrine
        if requester is None and doctrine.layered:
            ready &= ~_held_for_upper_tier(batteries, feasible.feasible)
        if requester is None and doctrine.reserve_fraction > 0.0:
            value = np.where(most >= 0, np.asarray(assets.value)[np.maximum(most, 0)], 0.0)
            ready &= ~_held_in_reserve(
                batteries, value, doctrine.reserve_fraction, doctrine.reserve_value
            )
        if not ready.any():
            return [], []
        per_battery = np.array(
            [(salvo if salvo is not None else b.salvo or doctrine.salvo) for b in batteries],
            np.int64,
        )
        problem = WtaProblem(
            values=values,
            kill_probability=np.where(ready, feasible.kill_probability, 0.0),
            rounds=(
                np.minimum(shooters.rounds, shooters.free_channels)
                if requester is not None
                else shooters.rounds
            ),
            max_salvo=np.repeat(per_battery[:, None], ready.shape[1], axis=1),
            feasible=ready,
        )
        numbers = picture.network_track_number[rows].tolist()
        if requester is None:
            previous = np.array(
                [[self._plan.get((n, b.name), 0) for n in numbers] for b in batteries], np.int64
            ).reshape(ready.shape)
            plan = solve_heuristic(problem, previous=previous, switch_penalty=SWITCH_PENALTY).shots
            # Fire (or ask for) what is due now, within each own battery's free channels;
            # keep the rest as the standing plan for the next cycle.
            now_plan = np.where(due, plan, 0)
            for s in range(len(self.shooters)):
                free = int(shooters.free_channels[s])
                order = np.argsort(-values)
                for n in order.tolist():
                    take = min(int(now_plan[s, n]), free)
                    now_plan[s, n] = take
                    free -= take
            later = plan - now_plan
            self._plan = {
                (numbers[n], batteries[s].name): int(later[s, n])
                for s, n in zip(*np.nonzero(later), strict=True)
            }
            plan = now_plan
        else:
            plan = solve_heuristic(problem).shots
        own = len(self.shooters) if requester is None else len(batteries)
        shots = self._orders(
            plan[:own],
            feasible,
            launch,
            picture,
            rows,
            values,
            most,
            now_s,
            batteries,
            requester,
        )
        requests = []
        for s, n in zip(*np.nonzero(plan[own:]), strict=True):
            partner = batteries[own + int(s)]
            number = int(picture.network_track_number[rows[n]])
            requests.append(
                Request(
                    requester=self.nation,
                    owner=partner.nation,
                    shooter=partner.name,
                    shooter_number=partner.number,
                    track_number=number,
                    shots=int(plan[own + int(s), n]),
                    intercept_at_s=float(feasible.intercept_time_s[own + int(s), n]),
                )
            )
            self._requested[number] = now_s + float(self.rules.request_timeout_s)
        return shots, requests

    def _candidates(self, picture: SystemTracks) -> np.ndarray:
        live = (picture.status == TrackStatus.CONFIRMED) | (picture.status == TrackStatus.COASTING)
        classified = picture.category != 0
        live &= (picture.sources & self._usable_sources(picture)) != 0
        numbers = picture.network_track_number
        free = np.array(
            [
                n > 0
                and n not in self._requested
                and n not in self._killed
                and self._in_flight.get(n, 0) == 0
                and self._pending.get(n, 0) == 0
                and (n not in self._engaged or self._may_reengage(n))
                for n in numbers.tolist()
            ],
            bool,
        ).reshape(numbers.shape)
        return np.flatnonzero(live & classified & free & self._not_partners(numbers))

    def _not_partners(self, numbers: np.ndarray) -> np.ndarray:
        """False for tracks another nation engages now or has killed."""
        now = self._clock
        out = np.ones(numbers.shape, bool)
        for i, n in enumerate(numbers.tolist()):
            status = self._partner.get(n)
            if status is None:
                continue
            state, until, nation = status
            if nation == self._answering:
                continue  # the nation whose request it answers engages alongside
            if state == EngagementState.KILL or (state in _LIVE_STATES and now <= until):
                out[i] = False
        return out

    def on_partner_statuses(self, statuses: EngagementStatuses) -> None:
        """Take in other nations' engagement statuses (module notes)."""
        for i in range(len(statuses)):
            nation = statuses.nations[int(statuses.engaging_nation[i])]
            if nation == self.nation:
                continue
            number = int(statuses.network_track_number[i])
            state = int(statuses.state[i])
            intercept = float(statuses.predicted_intercept_time_s[i])
            valid = float(statuses.valid_at[i])
            until = (intercept if np.isfinite(intercept) else valid) + PARTNER_STATUS_TIMEOUT_S
            self._partner[number] = (state, until, str(nation))
            if state in (EngagementState.ACCEPTED, EngagementState.DECLINED):
                self._requested.pop(number, None)  # the owner answered (whoever asked)
            if state == EngagementState.DECLINED:
                self._declined.add((number, nation, int(statuses.shooter_id[i])))
            if state == EngagementState.KILL:
                self._killed.add(number)

    def _usable_sources(self, picture: SystemTracks) -> np.uint64:
        """Bits (over the picture's nation table) of the sources it may fire on."""
        mask = 1  # nations[0] is the node itself
        if self.rules.engage_on_remote:
            for j, code in enumerate(picture.nations):
                if code in self.fire_control_from:
                    mask |= 1 << j
        return np.uint64(mask)

    def _may_reengage(self, number: int) -> bool:
        return (
            self.rules.doctrine.mode == schema.DoctrineMode.SHOOT_LOOK_SHOOT
            and number in self._survived
        )

    def _trajectories(
        self, picture: SystemTracks, rows: np.ndarray, now_s: float
    ) -> tuple[FloatArray, FloatArray]:
        """Predicted ECEF positions of the tracks on a time grid from now (NaN once down)."""
        times = now_s + np.arange(0.0, HORIZON_S + GRID_STEP_S / 2, GRID_STEP_S)
        k, t = rows.size, times.size
        out = np.full((k, t, 3), np.nan)
        ballistic = picture.category[rows] == ThreatCategory.BALLISTIC_MISSILE
        state = picture.state[rows]
        if (~ballistic).any():
            air = np.flatnonzero(~ballistic)
            dt = times - now_s
            out[air] = state[air, None, :3] + dt[None, :, None] * state[air, None, 3:6]
        if ballistic.any():
            b = np.flatnonzero(ballistic)
            x = state[b].copy()
            out[b, 0] = x[:, :3]
            alive = np.ones(b.size, bool)
            for j in range(1, t):
                x = self._ballistic.propagate(x, GRID_STEP_S)
                _, _, height = ecef_to_geodetic(x[:, :3])
                alive &= height > 0.0
                out[b[alive], j] = x[alive, :3]
                if not alive.any():
                    break
        return times, out

    def _orders(
        self,
        plan: np.ndarray,
        feasible: Feasibility,
        launch_at: FloatArray,
        picture: SystemTracks,
        rows: np.ndarray,
        values: FloatArray,
        most: np.ndarray,
        now_s: float,
        batteries: Sequence[ShooterState],
        requester: NationCode | None,
    ) -> list[Shot]:
        shots: list[Shot] = []
        for s, n in zip(*np.nonzero(plan), strict=True):
            shooter = batteries[int(s)]
            number = int(picture.network_track_number[rows[n]])
            intercept = float(feasible.intercept_time_s[s, n])
            launch = max(float(launch_at[s, n]), now_s)
            for _ in range(int(plan[s, n])):
                shots.append(
                    Shot(
                        shot_id=next(self._ids),
                        nation=self.nation,
                        shooter=shooter.name,
                        track_number=number,
                        decided_at_s=now_s,
                        launch_at_s=launch,
                        intercept_at_s=intercept,
                        launch_ecef_m=shooter.platform(launch).position_ecef_m,
                        aim_ecef_m=np.asarray(feasible.intercept_ecef_m[s, n], float),
                        kill_probability=float(shooter.interceptor.single_shot_pk),
                        divert_radius_m=float(shooter.interceptor.divert_radius_m),
                        value_at_risk=float(values[n]),
                        asset=self.asset_names[int(most[n])],
                        asset_nation=self.asset_nations[int(most[n])],
                        requested_by="" if requester is None else str(requester),
                        track_sources=",".join(
                            sorted(
                                code
                                for j, code in enumerate(picture.nations)
                                if int(picture.sources[rows[n]]) >> j & 1
                            )
                        ),
                    )
                )
                shooter.rounds -= 1
                shooter.busy_until.append(intercept)  # guided from launch to intercept
                self._in_flight[number] = self._in_flight.get(number, 0) + 1
                self._pending[number] = self._pending.get(number, 0) + 1
            self._engaged.add(number)
            self._survived.discard(number)
        return shots

    def unassessed(self, track_number: int) -> int:
        """Shots at ``track_number`` whose kill assessment has not come in."""
        return self._pending.get(track_number, 0)

    def believes_killed(self, track_number: int) -> bool:
        """Whether the nation holds ``track_number`` killed (assessed or reported)."""
        return track_number in self._killed

    def on_intercept(self, shot: Shot) -> None:
        """The shot reached its intercept time (whatever happened)."""
        left = self._in_flight.get(shot.track_number, 0) - 1
        self._in_flight[shot.track_number] = max(left, 0)

    def on_assessment(self, shot: Shot, killed: bool) -> None:
        """The kill assessment of one shot came in."""
        number = shot.track_number
        self._pending[number] = max(self._pending.get(number, 0) - 1, 0)
        if killed:
            self._killed.add(number)
            self._survived.discard(number)
        elif number not in self._killed and self._pending[number] == 0:
            self._survived.add(number)


def _held_for_upper_tier(batteries: Sequence[ShooterState], feasible: np.ndarray) -> np.ndarray:
    """Pairs a layered defense holds back (upper tier first).

    A battery is held from a threat while another battery with a higher interceptor
    ceiling can engage it, now or later on its trajectory.
    """
    ceiling = np.array([b.interceptor.max_intercept_altitude_m for b in batteries], float)
    best = np.where(feasible, ceiling[:, None], -np.inf).max(axis=0, initial=-np.inf)
    return np.asarray(ceiling[:, None] < best[None, :])


def _held_in_reserve(
    batteries: Sequence[ShooterState],
    asset_value: FloatArray,
    fraction: float,
    threshold: float,
) -> np.ndarray:
    """Pairs held back to keep each battery's reserve for high-value assets.

    A battery keeps ``ceil(fraction × starting rounds)``; once down to it, it fires only at
    threats whose most threatened asset is worth at least ``threshold``. (The reserve is
    checked per planning cycle, so one cycle can dip into it by the shots of that cycle.)
    """
    reserve = np.array([math.ceil(fraction * b.initial_rounds) for b in batteries], np.int64)
    at_reserve = np.array([b.rounds for b in batteries], np.int64) <= reserve
    low = np.asarray(asset_value) < threshold
    return np.asarray(at_reserve[:, None] & low[None, :])


def _shooter_arrays(batteries: Sequence[ShooterState], now_s: float) -> Shooters:
    """The c2 stage's view of ``batteries`` at ``now_s``."""
    platforms = [s.platform(now_s) for s in batteries]
    kind = [s.interceptor for s in batteries]
    return Shooters(
        position_ecef_m=np.array([p.position_ecef_m for p in platforms]).reshape(-1, 3),
        mean_speed_mps=np.array([i.mean_speed_mps for i in kind], float),
        min_range_m=np.array([i.min_range_m for i in kind], float),
        max_range_m=np.array([i.max_range_m for i in kind], float),
        min_intercept_altitude_m=np.array([i.min_intercept_altitude_m for i in kind], float),
        max_intercept_altitude_m=np.array([i.max_intercept_altitude_m for i in kind], float),
        single_shot_pk=np.array([i.single_shot_pk for i in kind], float),
        reaction_time_s=np.array([i.reaction_time_s for i in kind], float),
        rounds=np.array([s.rounds for s in batteries], np.int64),
        free_channels=np.array([s.free_channels(now_s) for s in batteries], np.int64),
    )


def aim_at(picture: SystemTracks | None, track_number: int, time_s: float) -> FloatArray:
    """The guiding track's position at ``time_s`` (NaN when the picture no longer holds it)."""
    if picture is None:
        return np.full(3, np.nan)
    live = (picture.network_track_number == track_number) & (picture.status != TrackStatus.DROPPED)
    rows = np.flatnonzero(live)
    if not rows.size:
        return np.full(3, np.nan)
    row = rows[0]
    state, _ = predict_nearly_constant_velocity(
        picture.state[row : row + 1],
        picture.covariance[row : row + 1],
        np.array([time_s - picture.valid_at]),
        0.0,
    )
    return np.asarray(state[0, :3], float)


class Battles:
    """Every nation's battle manager and the engagements in the world (see :mod:`run`).

    Parameters
    ----------
    scenario : Scenario
        The scenario (after its variant).
    truth : Truth
        The world's threats; shots destroy them.
    platforms : mapping of site name to PlatformTrack
        Where each site is at each time.
    nations : sequence of NationCode
        The run's nation table.
    rng : numpy.random.Generator
        The engagement stream (kill draws and kill assessments).
    record : callable
        ``record(table, row)``: writes one row of ``engagements`` or ``assessments``.
    """

    def __init__(
        self,
        scenario: schema.Scenario,
        truth: Truth,
        platforms: dict[SiteId, PlatformTrack],
        nations: Sequence[NationCode],
        rng: np.random.Generator,
        record: Callable[[str, dict[str, object]], None],
    ) -> None:
        self.truth = truth
        self.rng = rng
        self._record = record
        self.pictures: dict[NationCode, SystemTracks] = {}
        """Each nation's latest picture (the one the recording took)."""
        kinds = {k.name: k for k in scenario.interceptor_types}
        site_nation = {site.name: NationCode(site.nation) for site in scenario.sites}
        self.shooters = [
            ShooterState(
                name=spec.name,
                nation=site_nation[spec.site],
                platform=platforms[SiteId(spec.site)],
                interceptor=kinds[spec.interceptor],
                rounds=int(spec.inventory),
                channels=int(spec.fire_channels),
                salvo=spec.salvo,
                initial_rounds=int(spec.inventory),
                depot=int(spec.depot),
                reload_time_s=float(spec.reload_time_s),
            )
            for spec in scenario.shooters
        ]
        self.production = scenario.production
        for nation in {s.nation for s in self.shooters}:
            for k, shooter in enumerate(s for s in self.shooters if s.nation == nation):
                shooter.number = k + 1
        table = tuple(nations)
        self.nations = table
        self._send: Callable[[NationCode, EngagementStatuses, float], None] | None = None
        ids = itertools.count(1)
        self._wreck: dict[int, tuple[float, FloatArray]] = {}
        """Threat row → (time, position) of a threat destroyed, for shots arriving after."""
        self._scenario_assets = scenario.defended_assets
        self._schedule: Callable[[float, Callable[[float], None]], None] | None = None
        self._launch: Callable[[Shot], None] | None = None
        self.managers: dict[NationCode, BattleManager] = {}
        self.rules = {NationCode(r.nation): r for r in scenario.rules_of_engagement}
        for rules in scenario.rules_of_engagement:
            nation = NationCode(rules.nation)
            defends = {*(rules.defends or ()), rules.nation}
            assets, names, owners = self._assets_of(defends)
            own = [s for s in self.shooters if s.nation == nation]
            # What a nation knows of its partners' batteries is what the scenario declares.
            partners = [
                ShooterState(
                    name=s.name,
                    nation=s.nation,
                    platform=s.platform,
                    interceptor=s.interceptor,
                    rounds=s.rounds,
                    channels=s.channels,
                    number=s.number,
                    salvo=s.salvo,
                    initial_rounds=s.initial_rounds,
                )
                for s in self.shooters
                if s.nation in set(rules.requests_to) and s.nation != nation
            ]
            fire_control = [
                a.provider
                for a in scenario.sharing_agreements
                if a.recipient == rules.nation and a.fire_control
            ]
            self.managers[nation] = BattleManager(
                rules,
                own,
                assets,
                ids,
                asset_names=names,
                asset_nations=owners,
                partners=partners,
                fire_control_from=fire_control,
            )
            self.managers[nation].partner_delay = {
                r.nation: float(r.decision_delay_s)
                for r in scenario.rules_of_engagement
                if r.nation in set(rules.requests_to)
            }
        self.assessment = {
            NationCode(r.nation): r.kill_assessment for r in scenario.rules_of_engagement
        }

    def _assets_of(self, nations: set[str]) -> tuple[DefendedAssets, list[str], list[str]]:
        """The defended assets of ``nations``, with their names and nations."""
        chosen = [a for a in self._scenario_assets if a.nation in nations]
        assets = DefendedAssets.of(
            lat_deg=[a.lat_deg for a in chosen],
            lon_deg=[a.lon_deg for a in chosen],
            altitude_m=[a.altitude_m for a in chosen],
            radius_m=[a.radius_m for a in chosen],
            value=[a.value for a in chosen],
            nation=[self.nations.index(NationCode(a.nation)) for a in chosen],
        )
        return assets, [a.name for a in chosen], [a.nation for a in chosen]

    def attach_network(self, send: Callable[[NationCode, EngagementStatuses, float], None]) -> None:
        """``send(nation, statuses, now_s)`` puts a nation's engagement statuses on its node."""
        self._send = send

    def attach_world(
        self,
        schedule: Callable[[float, Callable[[float], None]], None],
        launch: Callable[[Shot], None],
    ) -> None:
        """Let the battle defer actions and fly shots.

        ``schedule(time_s, action)`` defers an action (a nation's answer to a request);
        ``launch(shot)`` flies an ordered shot.
        """
        self._schedule = schedule
        self._launch = launch

    def on_statuses(self, nation: NationCode, statuses: EngagementStatuses, now_s: float) -> None:
        """Engagement statuses of other nations that reached ``nation``'s node."""
        manager = self.managers.get(nation)
        if manager is None:
            return
        own = self.nations.index(nation) if nation in self.nations else -1
        ask = (statuses.state == EngagementState.REQUESTED) & (statuses.engaging_nation == own)
        manager.on_partner_statuses(take_reports(statuses, ~ask))
        for i in np.flatnonzero(ask).tolist():
            requester = statuses.nations[int(statuses.originator[i])]
            number = int(statuses.shooter_id[i])
            shooter = next((s for s in manager.shooters if s.number == number), None)
            request = Request(
                requester=requester,
                owner=nation,
                shooter="" if shooter is None else shooter.name,
                shooter_number=number,
                track_number=int(statuses.network_track_number[i]),
                shots=max(int(statuses.interceptors_in_flight[i]), 1),
                intercept_at_s=float(statuses.predicted_intercept_time_s[i]),
            )
            self._log_request(request, "REQUESTED", now_s, "received")
            delay = float(self.rules[nation].decision_delay_s)
            if self._schedule is None:
                self.answer(request, now_s)
            else:
                self._schedule(now_s + delay, self._answer_later(request))

    def _answer_later(self, request: Request) -> Callable[[float], None]:
        def answer(now_s: float) -> None:
            self.answer(request, now_s)

        return answer

    def answer(self, request: Request, now_s: float) -> None:
        """``request.owner`` decides on a request: accept and fire, or decline."""
        nation = request.owner
        rules = self.rules[nation]
        manager = self.managers[nation]
        shots: list[Shot] = []
        reason = "not accepted from this nation"
        if request.requester in set(rules.accepts_from):
            defends = {*(self.rules[request.requester].defends or ()), request.requester}
            assets, names, owners = self._assets_of(defends)
            picture = self.pictures.get(nation)
            shots = (
                []
                if picture is None
                else manager.accept(now_s, picture, request, assets, names, owners)
            )
            reason = "accepted" if shots else manager.declined_because
        if shots:
            self._name_intended(shots, self.pictures[nation], now_s)
        state = EngagementState.ACCEPTED if shots else EngagementState.DECLINED
        self._log_request(request, state.name, now_s, reason)
        self._report(
            nation,
            [
                (
                    request.track_number,
                    request.shooter_number,
                    int(state),
                    len(shots),
                    max((s.intercept_at_s for s in shots), default=float("nan")),
                )
            ],
            now_s,
        )
        if shots:
            self._spent(shots, now_s)
        if self._launch is not None:
            for shot in shots:
                self._launch(shot)

    def record_inventory(
        self, now_s: float, shooters: Sequence[ShooterState] | None = None
    ) -> None:
        """Write the ready and depot rounds of ``shooters`` (all by default) at ``now_s``."""
        for shooter in self.shooters if shooters is None else shooters:
            self._record(
                "inventory",
                {
                    "time_s": now_s,
                    "shooter": shooter.name,
                    "nation": str(shooter.nation),
                    "ready": shooter.rounds,
                    "depot": shooter.depot,
                },
            )

    def _start_reloads(self, now_s: float) -> None:
        """Start a reload at every battery below capacity with rounds in its depot."""
        for shooter in self.shooters:
            if shooter.reloading or shooter.depot <= 0 or shooter.rounds >= shooter.initial_rounds:
                continue
            if self._schedule is None:
                continue
            shooter.reloading = True
            self._schedule(now_s + shooter.reload_time_s, self._reloaded(shooter))

    def _reloaded(self, shooter: ShooterState) -> Callable[[float], None]:
        def done(now_s: float) -> None:
            moved = min(shooter.initial_rounds - shooter.rounds, shooter.depot)
            shooter.rounds += moved
            shooter.depot -= moved
            shooter.reloading = False
            self.record_inventory(now_s, [shooter])
            self._start_reloads(now_s)

        return done

    def deliver(self, line: int, now_s: float) -> None:
        """One round of production line ``line`` reaches the neediest eligible battery."""
        spec = self.production[line]
        eligible = [
            s
            for s in self.shooters
            if s.interceptor.name == spec.interceptor and s.nation in set(spec.nations)
        ]
        if not eligible:
            return
        shooter = min(eligible, key=lambda s: (s.rounds + s.depot, s.name))
        shooter.depot += 1
        self.record_inventory(now_s, [shooter])
        self._start_reloads(now_s)

    def _log_request(self, request: Request, state: str, now_s: float, reason: str) -> None:
        self._record(
            "requests",
            {
                "time_s": now_s,
                "requester": str(request.requester),
                "owner": str(request.owner),
                "shooter": request.shooter,
                "track_number": request.track_number,
                "shots": request.shots,
                "state": state,
                "reason": reason,
            },
        )

    def _report_request(self, nation: NationCode, request: Request, now_s: float) -> None:
        """Ask ``request.owner`` on the network (a REQUESTED status naming its shooter)."""
        if self._send is None:
            return
        own = self.nations.index(nation)
        statuses = EngagementStatuses(
            sender=nation,
            sent_at=float(now_s),
            sequence=0,
            nations=self.nations,
            network_track_number=np.array([request.track_number], np.int64),
            valid_at=np.array([float(now_s)]),
            predicted_intercept_time_s=np.array([request.intercept_at_s]),
            engaging_nation=np.array([self.nations.index(request.owner)], np.int64),
            shooter_id=np.array([request.shooter_number], np.int64),
            state=np.array([int(EngagementState.REQUESTED)], np.int64),
            interceptors_in_flight=np.array([request.shots], np.int64),
            originator=np.array([own], np.int64),
            classification=np.array([int(Classification.CONFIDENTIAL)], np.int64),
            rel_to=np.array([(1 << len(self.nations)) - 1], np.uint64),
            caveats=np.zeros(1, np.int64),
        )
        self._send(nation, statuses, now_s)

    def _report(
        self, nation: NationCode, items: list[tuple[int, int, int, int, float]], now_s: float
    ) -> None:
        """Send ``nation``'s engagement statuses.

        Each item is (track number, shooter number, state, interceptors in flight, predicted
        intercept time).
        """
        if self._send is None or not items:
            return
        k = len(items)
        own = self.nations.index(nation)
        number, shooter, state, flying, intercept = (list(c) for c in zip(*items, strict=True))
        statuses = EngagementStatuses(
            sender=nation,
            sent_at=float(now_s),
            sequence=0,
            nations=self.nations,
            network_track_number=np.array(number, np.int64),
            valid_at=np.full(k, float(now_s)),
            predicted_intercept_time_s=np.array(intercept, float),
            engaging_nation=np.full(k, own, np.int64),
            shooter_id=np.array(shooter, np.int64),
            state=np.array(state, np.int64),
            interceptors_in_flight=np.array(flying, np.int64),
            originator=np.full(k, own, np.int64),
            # Engagement status exists to be shared with every partner the agreements allow.
            classification=np.full(k, int(Classification.CONFIDENTIAL), np.int64),
            rel_to=np.full(k, (1 << len(self.nations)) - 1, np.uint64),
            caveats=np.zeros(k, np.int64),
        )
        self._send(nation, statuses, now_s)

    def on_picture(self, nation: NationCode, picture: SystemTracks) -> None:
        """Keep the picture the recording just took (the battle manager plans from it)."""
        self.pictures[nation] = picture

    def plan(self, nation: NationCode, now_s: float) -> list[Shot]:
        """One planning cycle of ``nation``; returns the shots it ordered."""
        picture = self.pictures.get(nation)
        if picture is None:
            return []
        manager = self.managers[nation]
        shots, requests = manager.plan(now_s, picture)
        if shots:
            self._name_intended(shots, picture, now_s)
        for request in requests:
            self._log_request(request, "REQUESTED", now_s, "sent")
            self._report_request(nation, request, now_s)
        engagements: dict[tuple[int, str], list[Shot]] = {}
        for shot in shots:
            engagements.setdefault((shot.track_number, shot.shooter), []).append(shot)
        names = [s.name for s in manager.shooters]
        self._report(
            nation,
            [
                (
                    number,
                    names.index(shooter) + 1,
                    int(EngagementState.ENGAGING),
                    len(group),
                    max(s.intercept_at_s for s in group),
                )
                for (number, shooter), group in engagements.items()
            ],
            now_s,
        )
        if shots:
            self._spent(shots, now_s)
        return shots

    def _spent(self, shots: Sequence[Shot], now_s: float) -> None:
        """Record the batteries that fired, and start their reloads."""
        names = {shot.shooter for shot in shots}
        self.record_inventory(now_s, [s for s in self.shooters if s.name in names])
        self._start_reloads(now_s)

    def _name_intended(self, shots: list[Shot], picture: SystemTracks, now_s: float) -> None:
        """Record, for analysis, which real threat each shot's track was on when decided."""
        state = self.truth.state_at(now_s)
        flying = np.flatnonzero(state.active)
        for shot in shots:
            aim = aim_at(picture, shot.track_number, now_s)
            if not flying.size or not np.isfinite(aim).all():
                continue
            distance = np.linalg.norm(state.position_ecef_m[flying] - aim, axis=1)
            nearest = int(np.argmin(distance))
            if distance[nearest] <= 10.0 * shot.divert_radius_m:
                shot.intended = str(self.truth.threat_ids[flying[nearest]])

    def intercept(self, shot: Shot, now_s: float) -> None:
        """Resolve ``shot`` at its intercept time against the real threats."""
        aim = aim_at(self.pictures.get(shot.nation), shot.track_number, now_s)
        state = self.truth.state_at(now_s)
        threat = np.full(3, np.nan)
        row = -1
        flying = np.flatnonzero(state.active)
        # Threats destroyed in the last second still count as "there", so that a second
        # interceptor arriving at a threat just killed is wasted on it, not retargeted.
        wrecks = [(r, p) for r, (t, p) in self._wreck.items() if now_s - t <= 1.0]
        rows = np.concatenate([flying, np.array([r for r, _ in wrecks], np.int64)])
        positions = np.concatenate(
            [state.position_ecef_m[flying], np.array([p for _, p in wrecks]).reshape(-1, 3)]
        )
        if rows.size and np.isfinite(aim).all():
            # The seeker takes whatever real threat is nearest to where the track says.
            nearest = int(np.argmin(np.linalg.norm(positions - aim, axis=1)))
            row = int(rows[nearest])
            threat = positions[nearest] if nearest < flying.size else np.full(3, np.nan)
        elif flying.size:
            threat = np.zeros(3)  # something flies, but no track guides the interceptor
        result, miss = resolve_intercepts(
            aim[None], threat[None], shot.divert_radius_m, shot.kill_probability, self.rng
        )
        shot.result = int(result[0])
        shot.miss_m = float(miss[0])
        shot.threat = str(self.truth.threat_ids[row]) if row >= 0 else ""
        if shot.result == InterceptResult.KILL:
            self._wreck[row] = (now_s, state.position_ecef_m[row].copy())
            self.truth.destroy([row], now_s)
        self.managers[shot.nation].on_intercept(shot)
        self._record("engagements", _shot_row(shot, now_s))

    def assess(self, shot: Shot, now_s: float) -> None:
        """The kill assessment of ``shot`` reaches its nation's battle manager."""
        rules = self.assessment[shot.nation]
        seen = assess_kills(
            [shot.result == InterceptResult.KILL],
            false_kill_probability=float(rules.false_kill_probability),
            missed_kill_probability=float(rules.missed_kill_probability),
            rng=self.rng,
        )
        shot.assessed_killed = bool(seen[0])
        manager = self.managers[shot.nation]
        manager.on_assessment(shot, shot.assessed_killed)
        if manager.unassessed(shot.track_number) == 0:
            killed = manager.believes_killed(shot.track_number)
            state = EngagementState.KILL if killed else EngagementState.MISS
            names = [s.name for s in manager.shooters]
            self._report(
                shot.nation,
                [(shot.track_number, names.index(shot.shooter) + 1, int(state), 0, float("nan"))],
                now_s,
            )
        self._record(
            "assessments",
            {
                "time_s": now_s,
                "shot": shot.shot_id,
                "nation": str(shot.nation),
                "track_number": shot.track_number,
                "killed": shot.result == InterceptResult.KILL,
                "assessed_killed": shot.assessed_killed,
            },
        )


def _shot_row(shot: Shot, now_s: float) -> dict[str, object]:
    return {
        "time_s": now_s,
        "shot": shot.shot_id,
        "nation": str(shot.nation),
        "shooter": shot.shooter,
        "track_number": shot.track_number,
        "decided_at_s": shot.decided_at_s,
        "launch_at_s": shot.launch_at_s,
        "intercept_at_s": shot.intercept_at_s,
        "value_at_risk": shot.value_at_risk,
        "asset": shot.asset,
        "asset_nation": shot.asset_nation,
        "kill_probability": shot.kill_probability,
        "intended_threat": shot.intended,
        "requested_by": shot.requested_by,
        "track_sources": shot.track_sources,
        "result": InterceptResult(shot.result).name,
        "threat": shot.threat,
        "miss_m": shot.miss_m,
    }


__all__ = ["BattleManager", "Battles", "ShooterState", "Shot", "aim_at"]
