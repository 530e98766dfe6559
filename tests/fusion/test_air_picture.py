"""The air picture: common numbers after exchange, fusion quality, reporting responsibility,
dual tracks, splits, no data incest, input checks, and a performance smoke test.

Everything is synthetic and deterministic: local tracks are truth plus Gaussian noise drawn
from a seeded generator with the covariance the track claims, and the "network" hands each
node's reports to the others one step later (no simulator, no guards).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pytest

from iamd.core.errors import ConfigurationError, RegistryError
from iamd.core.ids import NationCode
from iamd.core.kinematics import predict_nearly_constant_velocity
from iamd.fusion.numbers import TrackNumberPlan
from iamd.fusion.picture import AirPicture, AirPictureConfig
from iamd.geo import ecef_to_enu_matrix, geodetic_to_ecef
from iamd.messages.picture import NO_LOCAL_TRACK, ReportsDue, SystemTracks
from iamd.messages.reports import TrackReports
from iamd.messages.tracks import LocalTracks, TrackStatus
from iamd.tracking.motion import NearlyConstantVelocity

USA, JPN, KOR = NationCode("USA"), NationCode("JPN"), NationCode("KOR")
PLAN = TrackNumberPlan.consecutive([USA, JPN, KOR], size=10_000)
"""USA's numbers are the lowest, so USA's numbers survive; JPN sorts first, so JPN wins ties
of reporting responsibility: the two rules are independent and the tests see both."""

LAT, LON = 35.0, 139.0
ENU_TO_ECEF = ecef_to_enu_matrix(LAT, LON).T
ORIGIN = geodetic_to_ecef(LAT, LON, 9000.0)
SIGMAS = np.array([50.0, 50.0, 50.0, 5.0, 5.0, 5.0])


def config(**overrides: object) -> AirPictureConfig:
    return dataclasses.replace(AirPictureConfig(track_numbers=PLAN), **overrides)  # type: ignore[arg-type]


# --- synthetic truth and tracks ---------------------------------------------------------------


def enu_states(position_m: np.ndarray, velocity_m_s: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [ORIGIN + position_m @ ENU_TO_ECEF.T, velocity_m_s @ ENU_TO_ECEF.T], axis=1
    )


def grid_truth(count: int, spacing_m: float = 8000.0) -> Callable[[float], np.ndarray]:
    """Aircraft on a grid at 250 m/s, random headings (seeded): truth(t) → (count, 6) ECEF."""
    rng = np.random.default_rng(7)
    side = int(np.ceil(np.sqrt(count)))
    cells = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)[:count]
    start = np.column_stack([spacing_m * cells, np.zeros(count)])
    heading = rng.uniform(0.0, 2.0 * np.pi, count)
    velocity = 250.0 * np.column_stack([np.sin(heading), np.cos(heading), np.zeros(count)])
    return lambda t: enu_states(start + t * velocity, velocity)


def covariances(rng: np.random.Generator, count: int, sigmas: np.ndarray = SIGMAS) -> np.ndarray:
    """Correlated SPD matrices with the given standard deviations."""
    a = rng.normal(size=(count, 6, 6))
    correlation = a @ np.swapaxes(a, -1, -2) + 12.0 * np.eye(6)
    d = 1.0 / np.sqrt(np.einsum("kii->ki", correlation))
    c = correlation * (d * sigmas)[:, :, None] * (d * sigmas)[:, None, :]
    return np.asarray(0.5 * (c + np.swapaxes(c, -1, -2)))


def local_tracks(
    node: NationCode,
    t: float,
    truth: np.ndarray,
    numbers: Sequence[int] | np.ndarray,
    rng: np.random.Generator,
    *,
    quality: int | np.ndarray = 12,
    status: int = TrackStatus.CONFIRMED,
    offset_m: np.ndarray | None = None,
) -> LocalTracks:
    """A tracker's output: truth plus noise drawn from the covariance the tracks claim."""
    k = truth.shape[0]
    p = covariances(rng, k)
    state = truth + np.einsum("kij,kj->ki", np.linalg.cholesky(p), rng.normal(size=(k, 6)))
    if offset_m is not None:
        state[:, :3] += offset_m
    nan = np.full(k, np.nan)
    return LocalTracks(
        node=node,
        valid_at=t,
        track_number=np.asarray(numbers, np.int64),
        status=np.full(k, int(status), np.int64),
        category=np.zeros(k, np.int64),
        state=state,
        covariance=p,
        quality=np.broadcast_to(np.asarray(quality, np.int64), (k,)).copy(),
        updated_at=np.full(k, t),
        impact_time_s=nan,
        impact_lat_deg=nan,
        impact_lon_deg=nan,
        impact_semi_major_m=nan,
        impact_semi_minor_m=nan,
        impact_orientation_deg=nan,
    )


def reports(
    due: ReportsDue | LocalTracks,
    *,
    sender: NationCode,
    sent_at: float,
    numbers: np.ndarray | None = None,
    originator: NationCode | None = None,
) -> TrackReports:
    """Track reports as the outbound side would build them (no guard, no sanitising)."""
    if isinstance(due, ReportsDue):
        numbers, local, valid = due.network_track_number, due.local_track_number, due.valid_at
    else:
        assert numbers is not None
        local, valid = due.track_number, np.full(len(due), due.valid_at)
    originator = originator or sender
    nations = (sender,) if originator == sender else (sender, originator)
    k = len(due)
    source = np.full(k, nations.index(originator), np.int64)
    return TrackReports(
        sender=sender,
        sent_at=sent_at,
        sequence=0,
        nations=nations,
        network_track_number=np.asarray(numbers, np.int64),
        originator=source,
        reporting_node=source,
        local_track_number=local,
        valid_at=valid,
        state=due.state,
        covariance=due.covariance,
        quality=due.quality,
        status=due.status,
        category=due.category,
        impact_time_s=due.impact_time_s,
        impact_lat_deg=due.impact_lat_deg,
        impact_lon_deg=due.impact_lon_deg,
        impact_semi_major_m=due.impact_semi_major_m,
        impact_semi_minor_m=due.impact_semi_minor_m,
        impact_orientation_deg=due.impact_orientation_deg,
        sensor_id=np.zeros(k, np.int64),
        classification=np.zeros(k, np.int64),
        rel_to=np.full(k, (1 << len(nations)) - 1, np.uint64),
        caveats=np.zeros(k, np.int64),
    )


class Network:
    """Nodes that exchange their reports with a one-step delay, in a fixed order."""

    def __init__(self, nodes: Sequence[NationCode], **overrides: object) -> None:
        self.pictures = {node: AirPicture(node, config(**overrides)) for node in nodes}
        self.outbox: dict[NationCode, TrackReports] = {}
        self.due: dict[NationCode, ReportsDue] = {}
        self.snapshots: dict[NationCode, SystemTracks] = {}

    def step(self, t: float, local: Mapping[NationCode, LocalTracks]) -> None:
        sent = dict(self.outbox)
        for node, picture in self.pictures.items():
            for sender, batch in sent.items():
                if sender != node:
                    picture.ingest_remote(batch)
            picture.ingest_local(local[node])
            self.due[node] = picture.reports_due(t)
            self.snapshots[node] = picture.snapshot(t)
            self.outbox[node] = reports(self.due[node], sender=node, sent_at=t)


def live(snapshot: SystemTracks) -> np.ndarray:
    return np.flatnonzero(snapshot.status != TrackStatus.DROPPED)


def nearest_truth(snapshot: SystemTracks, truth: np.ndarray) -> dict[int, int]:
    """Network number of the live track nearest each truth object."""
    rows = live(snapshot)
    distance = np.linalg.norm(
        snapshot.state[rows, None, :3] - truth[None, :, :3], axis=-1
    )  # (tracks, objects)
    return {
        obj: int(snapshot.network_track_number[rows[np.argmin(distance[:, obj])]])
        for obj in range(truth.shape[0])
    }


# --- two nodes, one picture -------------------------------------------------------------------


def run_two_nodes(steps: int = 12, count: int = 20) -> tuple[Network, list[dict[str, float]]]:
    truth = grid_truth(count)
    rng = {USA: np.random.default_rng(1), JPN: np.random.default_rng(2)}
    numbers = {USA: np.arange(1, count + 1), JPN: np.arange(501, 501 + count)}
    network = Network([USA, JPN])
    samples: list[dict[str, float]] = []
    last_local: dict[NationCode, LocalTracks] = {}
    for step in range(steps):
        t = float(step)
        local = {node: local_tracks(node, t, truth(t), numbers[node], rng[node]) for node in rng}
        network.step(t, local)
        if step >= 2:
            samples.extend(errors_at(network, local, last_local, truth(t), t))
        last_local = local
    return network, samples


def errors_at(
    network: Network,
    local: Mapping[NationCode, LocalTracks],
    previous: Mapping[NationCode, LocalTracks],
    truth: np.ndarray,
    t: float,
) -> list[dict[str, float]]:
    """Errors of each two-source system track and of its two sources, at ``t``.

    The remote source is the other node's previous-step track predicted to ``t`` (what the
    fusion had), so every error is an error at the same instant.
    """
    out = []
    q = network.pictures[USA].config.acceleration_psd_m2_s3
    for node, other in ((USA, JPN), (JPN, USA)):
        snap = network.snapshots[node]
        two = live(snap)[snap.sources[live(snap)] == 3]
        own_rows = {int(n): k for k, n in enumerate(local[node].track_number)}
        for row in two:
            k = own_rows[int(snap.local_track_number[row])]
            obj = k
            remote_state, _ = predict_nearly_constant_velocity(
                previous[other].state[obj][None], previous[other].covariance[obj][None], 1.0, q
            )
            error = snap.state[row] - truth[obj]
            nees = float(error @ np.linalg.solve(snap.covariance[row], error))
            out.append(
                {
                    "fused": float(np.sum(error[:3] ** 2)),
                    "own": float(np.sum((local[node].state[k, :3] - truth[obj, :3]) ** 2)),
                    "remote": float(np.sum((remote_state[0, :3] - truth[obj, :3]) ** 2)),
                    "nees": nees,
                }
            )
    return out


@pytest.fixture(scope="module")
def two_nodes() -> tuple[Network, list[dict[str, float]]]:
    return run_two_nodes()


def test_two_nodes_hold_every_object_once_under_the_same_number(
    two_nodes: tuple[Network, list[dict[str, float]]],
) -> None:
    network, _ = two_nodes
    truth = grid_truth(20)(11.0)
    usa, jpn = network.snapshots[USA], network.snapshots[JPN]
    assert len(live(usa)) == len(live(jpn)) == 20
    by_usa, by_jpn = nearest_truth(usa, truth), nearest_truth(jpn, truth)
    assert by_usa == by_jpn  # commonality 1
    assert len(set(by_usa.values())) == 20
    # USA's block is the lowest, so every object kept the number USA gave it.
    assert sorted(by_usa.values()) == list(range(1, 21))
    # Every own local track is in the picture under its number.
    assert (usa.local_track_number[live(usa)] != NO_LOCAL_TRACK).all()


def test_exactly_one_node_reports_each_object(
    two_nodes: tuple[Network, list[dict[str, float]]],
) -> None:
    network, _ = two_nodes
    usa = set(network.due[USA].network_track_number.tolist())
    jpn = set(network.due[JPN].network_track_number.tolist())
    assert usa.isdisjoint(jpn)
    assert usa | jpn == set(range(1, 21))
    # Equal quality: the tie goes to the nation code that sorts first.
    assert jpn == set(range(1, 21))
    snap = network.snapshots[USA]
    rows = live(snap)
    assert not snap.reporting[rows].any()
    assert (np.array(snap.nations)[snap.reporter[rows]] == JPN).all()


def test_fused_error_beats_each_source_and_ci_is_consistent(
    two_nodes: tuple[Network, list[dict[str, float]]],
) -> None:
    _, samples = two_nodes
    assert len(samples) >= 150
    rms = {key: float(np.sqrt(np.mean([s[key] for s in samples]))) for key in samples[0]}
    print(
        f"\nposition RMS over {len(samples)} fused tracks: fused {rms['fused']:.1f} m, "
        f"own {rms['own']:.1f} m, remote (predicted) {rms['remote']:.1f} m; "
        f"mean NEES {np.mean([s['nees'] for s in samples]):.2f} (dimension 6)"
    )
    assert rms["fused"] < rms["own"]
    assert rms["fused"] < rms["remote"]
    assert np.mean([s["nees"] for s in samples]) <= 6.0


def test_three_nodes_with_partial_staggered_coverage_converge_to_one_picture() -> None:
    """Each node sees 20 of 30 objects, joins the network at its own time, and reports its
    own qualities; two objects cross on the way (100 m apart at t = 16 s)."""
    count, nodes = 30, [USA, JPN, KOR]
    truth = grid_truth(count)
    pick = np.random.default_rng(3)
    sees = {node: np.sort(pick.choice(count, 20, replace=False)) for node in nodes}
    quality = {node: pick.integers(9, 14, count) for node in nodes}
    start = {USA: 0.0, JPN: 3.0, KOR: 6.0}
    rng = {node: np.random.default_rng(20 + k) for k, node in enumerate(nodes)}
    network = Network(nodes)
    for step in range(25):
        t = float(step)
        x = truth(t)
        local = {}
        for k, node in enumerate(nodes):
            objects = sees[node] if t >= start[node] else np.empty(0, np.int64)
            local[node] = local_tracks(
                node,
                t,
                x[objects],
                objects + 100 * (k + 1),
                rng[node],
                quality=quality[node][objects],
            )
        network.step(t, local)
        if step >= 8:
            assert all(len(live(network.snapshots[node])) == count for node in nodes), step
            reported = np.concatenate([network.due[node].network_track_number for node in nodes])
            assert np.unique(reported).size == reported.size == count, step  # one reporter each
    x = truth(24.0)
    maps = [nearest_truth(network.snapshots[node], x) for node in nodes]
    assert maps[0] == maps[1] == maps[2]
    assert len(set(maps[0].values())) == count
    # The reporter of each object is a node that sees it, with the best quality give or take
    # the hysteresis margin.
    for k, node in enumerate(nodes):
        for n, local_number in zip(
            network.due[node].network_track_number,
            network.due[node].local_track_number,
            strict=True,
        ):
            obj = int(local_number) - 100 * (k + 1)
            assert maps[0][obj] == n
            best = max(int(quality[other][obj]) for other in nodes if obj in sees[other])
            assert int(quality[node][obj]) >= best - 2


def test_crossing_objects_of_different_sources_are_not_merged() -> None:
    """USA sees X only, JPN sees Y only; they cross at 30° (129 m/s apart), 0 m at t = 10 s.

    Inside a position gate for about four seconds: a position-only dual-track check merges
    them, the position-velocity check does not.
    """
    north = ENU_TO_ECEF @ np.array([0.0, 1.0, 0.0])
    slant = ENU_TO_ECEF @ np.array([np.sin(np.radians(30.0)), np.cos(np.radians(30.0)), 0.0])

    def truth(t: float) -> np.ndarray:
        return np.stack(
            [
                np.concatenate([ORIGIN + north * 250.0 * (t - 10.0), north * 250.0]),
                np.concatenate([ORIGIN + slant * 250.0 * (t - 10.0), slant * 250.0]),
            ]
        )

    rng = {USA: np.random.default_rng(30), JPN: np.random.default_rng(31)}
    network = Network([USA, JPN])
    for step in range(21):
        t = float(step)
        x = truth(t)
        network.step(
            t,
            {
                USA: local_tracks(USA, t, x[:1], [1], rng[USA]),
                JPN: local_tracks(JPN, t, x[1:], [1], rng[JPN]),
            },
        )
        for node in (USA, JPN) if step > 0 else ():  # nobody has heard anyone at step 0
            snap = network.snapshots[node]
            assert len(live(snap)) == 2, (step, node)
            assert not (snap.status == TrackStatus.DROPPED).any(), (step, node)
    assert sorted(network.snapshots[USA].network_track_number.tolist()) == [1, 10_001]
    assert sorted(network.snapshots[JPN].network_track_number.tolist()) == [1, 10_001]


# --- reporting responsibility -----------------------------------------------------------------


def test_reporting_responsibility_hands_over_with_hysteresis() -> None:
    truth = grid_truth(3)
    rng = {USA: np.random.default_rng(3), JPN: np.random.default_rng(4)}
    numbers = {USA: [1, 2, 3], JPN: [7, 8, 9]}
    # USA's quality per phase of 6 steps; JPN stays at 12 (margin 2).
    phases = [13, 11, 10, 13, 14, 12]
    network = Network([USA, JPN])
    reporters: list[frozenset[NationCode]] = []
    for step in range(6 * len(phases)):
        t = float(step)
        quality = {USA: phases[step // 6], JPN: 12}
        local = {
            node: local_tracks(node, t, truth(t), numbers[node], rng[node], quality=quality[node])
            for node in rng
        }
        network.step(t, local)
        # Which objects each node reports (by its local track numbers), and under what numbers.
        reporting = {
            node: {numbers[node].index(n) for n in network.due[node].local_track_number.tolist()}
            for node in (USA, JPN)
        }
        assert reporting[USA] | reporting[JPN] == {0, 1, 2}
        if step > 0:  # at step 0 neither node has heard the other: each uses its own number
            assert {n for node in (USA, JPN) for n in network.due[node].network_track_number} == {
                1,
                2,
                3,
            }
        # All three objects change hands together: one set of reporters per step.
        assert len({frozenset(n for n in reporting if k in reporting[n]) for k in (0, 1, 2)}) == 1
        reporters.append(frozenset(n for n in reporting if 0 in reporting[n]))

    def phase(k: int) -> list[frozenset[NationCode]]:
        return reporters[6 * k : 6 * k + 6]

    usa, jpn, both = frozenset({USA}), frozenset({JPN}), frozenset({USA, JPN})
    # 13 vs 12: both start the tracks, JPN gives way to the better quality at once.
    assert phase(0) == [both] + [usa] * 5
    # 11 vs 12: inside the band, USA keeps reporting.
    assert phase(1) == [usa] * 6
    # 10 vs 12: JPN takes over (one step of overlap until USA hears JPN's report).
    assert phase(2) == [usa, both] + [jpn] * 4
    # 13 vs 12: inside the band, no flap back.
    assert phase(3) == [jpn] * 6
    # 14 vs 12: USA takes back.
    assert phase(4) == [both] + [usa] * 5
    # 12 vs 12: USA holds; a tie does not move an unchallenged holder.
    assert phase(5) == [usa] * 6


def test_a_reporter_that_drops_its_track_says_so_and_another_node_takes_over_at_once() -> None:
    truth = grid_truth(1)
    rng = {USA: np.random.default_rng(32), JPN: np.random.default_rng(33)}
    quality = {USA: 13, JPN: 12}
    network = Network([USA, JPN])
    for step in range(10):
        t = float(step)
        status = {USA: TrackStatus.CONFIRMED, JPN: TrackStatus.CONFIRMED}
        if step == 5:
            status[USA] = TrackStatus.DROPPED  # USA's radar loses it; USA reports the object
        local = {
            node: local_tracks(
                node, t, truth(t), [1], rng[node], quality=quality[node], status=status[node]
            )
            for node in rng
        }
        if step > 5:
            local[USA] = local_tracks(USA, t, truth(t)[:0], [], rng[USA])
        network.step(t, local)
        usa, jpn = network.due[USA], network.due[JPN]
        if 1 <= step < 5:
            assert (usa.network_track_number.tolist(), len(jpn)) == ([1], 0)
        if step == 5:
            assert usa.network_track_number.tolist() == [1]
            assert usa.status.tolist() == [TrackStatus.DROPPED]  # the final report
        if step >= 6:
            # JPN heard the drop at step 6 and reports the object under the same number.
            assert (len(usa), jpn.network_track_number.tolist()) == (0, [1])
            assert network.snapshots[USA].network_track_number.tolist() == [1]


# --- dual tracks ------------------------------------------------------------------------------


def test_dual_tracks_from_a_delayed_correlation_merge_and_the_merge_is_recorded() -> None:
    truth = grid_truth(1)
    rng = np.random.default_rng(5)
    picture = AirPicture(USA, config())
    jpn_number = np.array([10_001])
    east = ENU_TO_ECEF @ np.array([1.0, 0.0, 0.0])
    counts: list[int] = []
    merges: list[tuple[int, int]] = []
    for step in range(14):
        t = float(step)
        # JPN's track starts 4 km off (an alignment error it then corrects): out of any gate.
        offset = east * max(0.0, 4000.0 * (1.0 - step / 6.0))
        theirs = local_tracks(JPN, t, truth(t), [42], rng, offset_m=offset)
        picture.ingest_remote(reports(theirs, sender=JPN, sent_at=t, numbers=jpn_number))
        picture.ingest_local(local_tracks(USA, t, truth(t), [1], rng))
        snap = picture.snapshot(t)
        counts.append(len(live(snap)))
        ended = np.flatnonzero(snap.status == TrackStatus.DROPPED)
        merges.extend(
            zip(
                snap.network_track_number[ended].tolist(),
                snap.merged_into[ended].tolist(),
                strict=True,
            )
        )
    assert counts[0] == 2  # dual tracks: USA 1 and JPN 10001
    assert counts[-1] == 1
    assert merges == [(10_001, 1)]  # the higher number merged into the lower, once
    # Later reports under the retired number join the survivor by number.
    assert snap.network_track_number[live(snap)].tolist() == [1]
    assert snap.sources[live(snap)].tolist() == [0b11]


# --- splits -----------------------------------------------------------------------------------


def test_objects_that_separate_split_into_two_numbers_at_both_nodes() -> None:
    east = ENU_TO_ECEF @ np.array([1.0, 0.0, 0.0])
    base = grid_truth(1)

    def truth(t: float) -> np.ndarray:
        """Object 0 flies straight; object 1 flies with it, then drifts east at 60 m/s."""
        x = np.repeat(base(t), 2, axis=0)
        drift = 60.0 * max(0.0, t - 10.0)
        x[1, :3] += east * drift
        if t > 10.0:
            x[1, 3:] += east * 60.0
        return x

    rng = {USA: np.random.default_rng(8), JPN: np.random.default_rng(9)}
    network = Network([USA, JPN])
    split_seen: dict[NationCode, list[int]] = {USA: [], JPN: []}
    numbers_per_step = []
    for step in range(40):
        t = float(step)
        x = truth(t)
        local = {
            USA: local_tracks(USA, t, x[:1], [1], rng[USA]),  # USA sees object 0 only
            JPN: local_tracks(JPN, t, x[1:], [1], rng[JPN]),  # JPN sees object 1 only
        }
        network.step(t, local)
        for node in (USA, JPN):
            snap = network.snapshots[node]
            split_seen[node].extend(snap.split_from[snap.split_from > 0].tolist())
        numbers_per_step.append(
            {node: nearest_truth(network.snapshots[node], x) for node in (USA, JPN)}
        )
    # Together: one object to the network, under one number at both nodes.
    together = numbers_per_step[9]
    assert together[USA] == together[JPN] == {0: 1, 1: 1}
    # Apart: two numbers, the same at both nodes; the anchor (USA's block) kept number 1.
    apart = numbers_per_step[-1]
    assert apart[USA] == apart[JPN]
    assert apart[USA][0] == 1
    assert apart[USA][1] not in (0, 1)
    assert all(len(live(network.snapshots[node])) == 2 for node in (USA, JPN))
    assert 1 in split_seen[USA] or 1 in split_seen[JPN]


# --- no data incest ---------------------------------------------------------------------------


def test_reports_due_holds_only_own_local_tracks_as_the_tracker_gave_them() -> None:
    truth = grid_truth(20)
    rng = np.random.default_rng(10)
    picture = AirPicture(USA, config())
    echo: TrackReports | None = None
    for step in range(5):
        t = float(step)
        x = truth(t)
        jpn = local_tracks(JPN, t, x[10:], np.arange(100, 110), rng)
        mine = local_tracks(USA, t, x[:10], np.arange(1, 11), rng)
        picture.ingest_remote(
            reports(jpn, sender=JPN, sent_at=t, numbers=np.arange(10_001, 10_011))
        )
        picture.ingest_local(mine)
        # USA's previous reports, relayed back by KOR after its newer local tracks: ignored,
        # never a contribution and never an overwrite of the newer own estimate.
        if echo is not None:
            picture.ingest_remote(echo)
        due = picture.reports_due(t)
        snap = picture.snapshot(t)
        assert sorted(due.local_track_number.tolist()) == list(range(1, 11))
        order = np.argsort(due.local_track_number)
        np.testing.assert_array_equal(due.state[order], mine.state)
        np.testing.assert_array_equal(due.covariance[order], mine.covariance)
        rows = live(snap)
        assert len(rows) == 20
        remote_only = rows[snap.local_track_number[rows] == NO_LOCAL_TRACK]
        assert len(remote_only) == 10
        assert not snap.reporting[remote_only].any()
        assert set(due.network_track_number.tolist()).isdisjoint(
            snap.network_track_number[remote_only].tolist()
        )
        own = rows[snap.local_track_number[rows] != NO_LOCAL_TRACK]
        assert (snap.sources[own] == 1).all()  # the echo added nothing
        echo = reports(due, sender=KOR, sent_at=t, originator=USA)
    assert picture.nations == (USA, JPN)


def test_a_report_older_than_the_contribution_held_is_ignored() -> None:
    truth = grid_truth(1)
    rng = np.random.default_rng(18)
    picture = AirPicture(USA, config())
    old = local_tracks(JPN, 0.0, truth(0.0), [5], rng)
    new = local_tracks(JPN, 1.0, truth(1.0), [5], rng)
    picture.ingest_remote(reports(new, sender=JPN, sent_at=1.0, numbers=np.array([10_001])))
    late = reports(old, sender=KOR, sent_at=1.5, numbers=np.array([10_001]), originator=JPN)
    picture.ingest_remote(late)
    snap = picture.snapshot(1.0)
    np.testing.assert_array_equal(snap.state, new.state)
    assert snap.updated_at.tolist() == [1.0]


# --- life cycle -------------------------------------------------------------------------------


def test_dropped_and_stale_tracks_end_with_a_final_row() -> None:
    truth = grid_truth(2)
    rng = np.random.default_rng(11)
    picture = AirPicture(USA, config(max_age_s=5.0, reporter_timeout_s=3.0))
    picture.ingest_local(local_tracks(USA, 0.0, truth(0.0), [1, 2], rng))
    picture.ingest_remote(
        reports(
            local_tracks(JPN, 0.0, truth(0.0)[:1] + 50_000.0, [5], rng),
            sender=JPN,
            sent_at=0.0,
            numbers=np.array([10_001]),
        )
    )
    assert len(live(picture.snapshot(0.0))) == 3
    picture.ingest_local(
        local_tracks(USA, 1.0, truth(1.0)[:1], [2], rng, status=TrackStatus.DROPPED)
    )
    snap = picture.snapshot(1.0)
    ended = snap.status == TrackStatus.DROPPED
    assert snap.network_track_number[ended].tolist() == [2]
    assert snap.merged_into[ended].tolist() == [0]
    assert len(live(snap)) == 2
    # JPN's track is not reported again: it ends after max_age_s; USA's goes on.
    picture.ingest_local(local_tracks(USA, 6.0, truth(6.0)[:1], [1], rng))
    snap = picture.snapshot(6.0)
    assert snap.network_track_number[snap.status == TrackStatus.DROPPED].tolist() == [10_001]
    assert snap.network_track_number[live(snap)].tolist() == [1]


def test_tentative_tracks_stay_out_unless_asked() -> None:
    truth = grid_truth(2)
    rng = np.random.default_rng(12)
    for include, expected in ((False, 0), (True, 2)):
        picture = AirPicture(USA, config(include_tentative=include))
        picture.ingest_local(
            local_tracks(USA, 0.0, truth(0.0), [1, 2], rng, status=TrackStatus.TENTATIVE)
        )
        assert len(live(picture.snapshot(0.0))) == expected


def test_snapshot_predicts_to_its_time() -> None:
    truth = grid_truth(1)
    picture = AirPicture(USA, config())
    tracks = local_tracks(USA, 0.0, truth(0.0), [1], np.random.default_rng(13))
    picture.ingest_local(tracks)
    snap = picture.snapshot(2.0)
    np.testing.assert_allclose(
        snap.state[0, :3], tracks.state[0, :3] + 2.0 * tracks.state[0, 3:], rtol=0, atol=1e-6
    )
    assert snap.valid_at == 2.0
    assert snap.updated_at[0] == 0.0


def test_prediction_matches_the_trackers_nearly_constant_velocity_model() -> None:
    rng = np.random.default_rng(14)
    x = enu_states(rng.normal(0, 1e4, (5, 3)), rng.normal(0, 300, (5, 3)))
    p = covariances(rng, 5)
    dt = rng.uniform(0.0, 8.0, 5)
    model = NearlyConstantVelocity(acceleration_psd_m2_s3=37.0)
    f = model.jacobian(x, dt)
    expected = f @ p @ np.swapaxes(f, -1, -2) + model.process_noise(x, dt)
    state, covariance = predict_nearly_constant_velocity(x, p, dt, 37.0)
    np.testing.assert_allclose(state, model.propagate(x, dt), rtol=0, atol=1e-6)
    np.testing.assert_allclose(covariance, expected, rtol=1e-12, atol=1e-9)
    # Backwards: the state moves back, and the process noise of |Δt| is still added.
    back, back_covariance = predict_nearly_constant_velocity(x, p, -dt, 37.0)
    f_back = model.jacobian(x, -dt)
    expected_back = f_back @ p @ np.swapaxes(f_back, -1, -2) + model.process_noise(x, dt)
    np.testing.assert_allclose(back, model.propagate(x, -dt), rtol=0, atol=1e-6)
    np.testing.assert_allclose(back_covariance, expected_back, rtol=1e-12, atol=1e-9)


# --- input checks -----------------------------------------------------------------------------


def good_local() -> LocalTracks:
    return local_tracks(USA, 0.0, grid_truth(3)(0.0), [1, 2, 3], np.random.default_rng(15))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "state",
            np.zeros((3, 5)),
            r"LocalTracks\.state must have shape \(K, 6\) \(got \(3, 5\)\)",
        ),
        ("covariance", np.zeros((3, 6)), r"LocalTracks\.covariance must have shape \(K, 6, 6\)"),
        ("quality", np.zeros(2), r"LocalTracks\.quality must have shape \(K,\) \(got \(2,\)\)"),
        ("impact_time_s", np.zeros(4), r"LocalTracks\.impact_time_s must have shape \(K,\)"),
        ("track_number", np.zeros((3, 1)), r"LocalTracks\.track_number must have shape \(K,\)"),
        ("valid_at", float("nan"), r"LocalTracks\.valid_at must be finite"),
        ("node", JPN, r"LocalTracks of node 'JPN' given to the air picture of 'USA'"),
    ],
)
def test_malformed_local_tracks_raise_a_clear_value_error(
    field: str, value: object, message: str
) -> None:
    picture = AirPicture(USA, config())
    with pytest.raises(ValueError, match=message):
        picture.ingest_local(dataclasses.replace(good_local(), **{field: value}))  # type: ignore[arg-type]
    assert len(picture) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("state", np.zeros((3, 3)), r"TrackReports\.state must have shape \(K, 6\)"),
        ("valid_at", np.zeros(2), r"TrackReports\.valid_at must have shape \(K,\)"),
        ("valid_at", np.array([0.0, np.inf, 0.0]), r"TrackReports\.valid_at must be finite"),
        ("originator", np.array([0, 1, 0]), r"originator must index the batch's nation table"),
        ("local_track_number", np.zeros(4), r"local_track_number must have shape \(K,\)"),
        ("state", np.full((3, 6), "x"), r"TrackReports\.state must be numeric"),
    ],
)
def test_malformed_track_reports_raise_a_clear_value_error(
    field: str, value: object, message: str
) -> None:
    picture = AirPicture(USA, config())
    batch = reports(good_local(), sender=JPN, sent_at=0.0, numbers=np.array([5, 6, 7]))
    with pytest.raises(ValueError, match=message):
        picture.ingest_remote(dataclasses.replace(batch, **{field: value}))  # type: ignore[arg-type]


def test_configuration_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="needs the previous fused estimate"):
        config(fusion_rule="information-decorrelated")
    with pytest.raises(RegistryError, match="did you mean"):
        config(fusion_rule="covariance-intersectoin")
    with pytest.raises(ConfigurationError, match="reporter_timeout_s must not exceed"):
        config(max_age_s=5.0, reporter_timeout_s=6.0)
    with pytest.raises(ConfigurationError, match="merge_updates must be ≥ 1"):
        config(merge_updates=0)
    with pytest.raises(ConfigurationError, match=r"position_bias_sigma_m\['JPN'\]"):
        config(position_bias_sigma_m={JPN: -1.0})
    with pytest.raises(ConfigurationError, match="'KOR' has no track-number block"):
        AirPicture(KOR, config(track_numbers=TrackNumberPlan.consecutive([USA, JPN])))


@pytest.mark.parametrize("rule", ["covariance-intersection", "fast-ci", "independent"])
def test_every_allowed_fusion_rule_builds_one_picture(rule: str) -> None:
    network = Network([USA, JPN], fusion_rule=rule)
    truth = grid_truth(5)
    rng = np.random.default_rng(16)
    for step in range(4):
        t = float(step)
        network.step(
            t,
            {
                USA: local_tracks(USA, t, truth(t), np.arange(1, 6), rng),
                JPN: local_tracks(JPN, t, truth(t), np.arange(1, 6), rng),
            },
        )
    assert len(live(network.snapshots[USA])) == len(live(network.snapshots[JPN])) == 5


def test_the_same_inputs_give_the_same_picture() -> None:
    first, _ = run_two_nodes(steps=5, count=8)
    second, _ = run_two_nodes(steps=5, count=8)
    for node in (USA, JPN):
        a, b = first.snapshots[node], second.snapshots[node]
        np.testing.assert_array_equal(a.network_track_number, b.network_track_number)
        np.testing.assert_array_equal(a.state, b.state)
        np.testing.assert_array_equal(a.covariance, b.covariance)


# --- performance smoke ------------------------------------------------------------------------


def test_performance_5000_system_tracks_2000_reports() -> None:
    count, reported = 5000, 2000
    truth = grid_truth(count, spacing_m=6000.0)
    rng = np.random.default_rng(17)
    picture = AirPicture(USA, config())
    started = time.perf_counter()
    picture.ingest_local(local_tracks(USA, 0.0, truth(0.0), np.arange(1, count + 1), rng))
    build = time.perf_counter() - started

    chosen = np.sort(rng.choice(count, reported, replace=False))
    x = truth(1.0)[chosen]
    theirs = local_tracks(JPN, 1.0, x, chosen + 1, rng)
    batch = reports(theirs, sender=JPN, sent_at=1.0, numbers=10_001 + chosen)
    started = time.perf_counter()
    picture.ingest_remote(batch)
    first = time.perf_counter() - started

    theirs = local_tracks(JPN, 2.0, truth(2.0)[chosen], chosen + 1, rng)
    batch = reports(theirs, sender=JPN, sent_at=2.0, numbers=chosen + 1)
    started = time.perf_counter()
    picture.ingest_remote(batch)
    by_number = time.perf_counter() - started

    started = time.perf_counter()
    due = picture.reports_due(2.0)
    snap = picture.snapshot(2.0)
    out = time.perf_counter() - started
    print(
        f"\n{count} own tracks in {build * 1e3:.0f} ms; {reported} new remote reports "
        f"(kinematic correlation) in {first * 1e3:.0f} ms; {reported} reports by number in "
        f"{by_number * 1e3:.0f} ms; reports_due + snapshot in {out * 1e3:.0f} ms"
    )
    assert len(live(snap)) == count
    assert int((snap.sources == 3).sum()) == reported
    # Equal quality: JPN (first in code order) reports the 2,000 objects both see.
    assert len(due) == count - reported
    assert max(first, by_number) < 5.0  # smoke only: the report prints the figures
