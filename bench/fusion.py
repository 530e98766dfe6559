"""Benchmark: one node's air picture fed 2,000 track reports per second from 30 nations.

One :class:`~iamd.fusion.AirPicture` (node ``NOD``) takes in, for 10 simulated minutes, the
local tracks that 30 other nations (``N00`` … ``N29``) report of 5,000 objects, about 2,000
reports per simulated second, plus its own tracker's tracks of the tenth of the objects
nearest to it. Printed: the simulated-to-CPU time ratio of the picture's calls (target ≥ 10),
the split of that CPU time over the four calls, and SIAP completeness, ambiguity, spuriousness,
accuracy and network-number changes of the picture against those of an **oracle**: the ideal
picture, which holds every object that has been reported, once, at its true state, under the
number the lowest-number rule gives it (see "Reference" below). The last line is a JSON object.

Scene (``make_scene``)
----------------------
* **Objects**: a disk of 1,500 km radius around 35° N 135° E, 1–30 km up when they appear;
  three quarters fly at 100–300 m/s (aircraft), a quarter at 300–2,000 m/s (missiles), on
  straight lines in ECEF. That is the picture's own nearly-constant-velocity model, so the
  benchmark measures correlation and bookkeeping, not manoeuvre handling. A fifth fly in
  formations of 2–4, 2–6 km apart at one velocity (the hard case for correlation). 70 % live
  the whole run, 15 % appear during it, 15 % end during it.
* **Sources**: 30 nations at random points of the disk. Each object is seen by 1–4 of the 6
  nearest (30 %, 35 %, 25 %, 10 %; formation members share their leader's): the first for
  the object's whole life, each other for its whole life (60 %) or for 1–7 minutes of it.
  A nation has a position σ of 50–300 m, a velocity σ of 5–30 m/s (each track ×0.8–1.25),
  a quality from its σ, and an uncorrected position bias drawn from its configured
  allowance (30–150 m per axis). Every report is truth plus bias plus noise drawn from the
  covariance the track claims (correlated, positive definite).
* **Messages**: each nation sends one ``TrackReports`` per report interval (its own, 2–10 s
  scaled so that all together send ``--rate`` reports per second on average) with one item
  per local track it holds: ``CONFIRMED`` at the track's last update (0.1–2 s before
  sending), or ``DROPPED`` once when it lost the object. Links delay messages by
  0.05–0.5 s. Every nation reports every track it holds: the picture sees the contention of
  reporting responsibility at its fullest, not the settled network where one node reports
  each object.
* **Numbers**: a nation numbers its local tracks 1, 2, … (stable for the track's life) and
  reports them under network numbers as a nation in a settled network would: a nation that
  starts an object within ``CONVERGENCE_S`` of the first one to start it reports its own
  block's number for ``CONVERGENCE_S``, then the object's common number (the lowest of those
  early numbers); a nation that picks the object up later reports the common number from
  the start (it already holds the object under it). The node's own block is the highest, so
  the sources' numbers win.
* **Own tracks**: the node's tracker updates each own track every 2 s (half of them at each
  1-s step) with σ 80 m, 8 m/s and quality 12; nobody receives its reports here.

Timing
------
The node runs a processing step every simulated second, in the order the picture asks for:
``ingest_remote`` for each message that arrived since the previous step, ``ingest_local``,
``reports_due(now)``, ``snapshot(now)`` (a snapshot every second, as a recording would keep
it). CPU time (``time.process_time``) is summed over those four calls only: building the
messages and assessing the picture are outside, and so is one call of the fusion rule before
the run, which compiles its numba kernels on a machine's first run (or loads them from the
on-disk cache) and is reported apart (``kernel_warm_up_cpu_s``).

Quality and reference
---------------------
Both pictures are assessed at every snapshot (1 s) with ``iamd.metrics`` (the SIAP rules of
``docs/metrics.md``: nearest truth within 5 km as the candidate, three consecutive steps to
associate, two misses to end; the candidate search uses a k-d tree instead of
``nearest_truth``'s dense matrix, which is too large here). Tracks are identified by the
picture's ``track_id``, so SIAP's track-number changes count track breaks; network-number
changes are counted apart, as the distinct non-zero numbers each object was held under,
minus one. The oracle holds an object from the step that ingests its first report for as
long as some report of it is at most ``max_age_s`` old, at its true state, under the lowest
number ingested so far (an own track that starts the object counts with the node's
number). Its number changes are therefore those the lowest-number rule cannot avoid: a lower
number that arrives after a higher one.

Usage: ``python bench/fusion.py [--minutes 10] [--objects 5000] [--rate 2000] [--sources 30]
[--seed 1] [--profile]``
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import pstats
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from iamd.core.ids import NationCode
from iamd.core.random import RandomStreams
from iamd.core.typing import BoolArray, FloatArray, IntArray
from iamd.fusion import FUSION_RULES, AirPicture, AirPictureConfig, TrackNumberPlan
from iamd.geo import EARTH_RADIUS_MEAN_M, ecef_to_enu_matrix, geodetic_to_ecef
from iamd.messages.reports import TrackReports
from iamd.messages.tracks import LocalTracks, TrackStatus
from iamd.metrics.association import (
    NO_TRUTH,
    AssociationRule,
    TruthAssociation,
    association_segments,
    hold_associations,
)
from iamd.metrics.picture import AlignedPicture, step_bounds
from iamd.metrics.siap import SiapFigures, siap_figures

NODE = NationCode("NOD")
"""The node whose picture is measured; its code and block sort after every source's."""
CENTRE_DEG = (35.0, 135.0)
REGION_RADIUS_M = 1_500_000.0
ALTITUDE_M = (1_000.0, 30_000.0)
AIRCRAFT_SPEED_M_S = (100.0, 300.0)
MISSILE_SPEED_M_S = (300.0, 2_000.0)
MISSILE_SHARE = 0.25
FORMATION_SHARE = 0.2
FORMATION_SIZE = (2, 4)
FORMATION_SPACING_M = (2_000.0, 6_000.0)
LIFE_SHARES = (0.70, 0.15, 0.15)
"""Whole run, appear during it, end during it."""

SOURCES_PER_OBJECT = np.array([0.30, 0.35, 0.25, 0.10])
"""Share of objects seen by 1, 2, 3, 4 sources."""
NEAREST_SOURCES = 6
WHOLE_LIFE_SHARE = 0.6
"""Share of an object's other sources that see it for its whole life."""
PARTIAL_COVER_S = (60.0, 420.0)
POSITION_SIGMA_M = (50.0, 300.0)
VELOCITY_SIGMA_M_S = (5.0, 30.0)
TRACK_SIGMA_FACTOR = (0.8, 1.25)
BIAS_ALLOWANCE_M = (30.0, 150.0)
RAW_INTERVAL_S = (2.0, 10.0)
"""Report intervals before scaling to the asked rate."""
TRACK_AGE_S = (0.1, 2.0)
LINK_DELAY_S = (0.05, 0.5)
CONVERGENCE_S = 12.0
"""Time after which a nation that started an object reports its common number (one reporter
timeout of the picture's default configuration: every early starter has heard the others)."""

OWN_SHARE = 0.1
OWN_REVISIT_S = 2
OWN_SIGMA = np.array([80.0, 80.0, 80.0, 8.0, 8.0, 8.0])
OWN_QUALITY = 12
OWN_BIAS_ALLOWANCE_M = 20.0

STEP_S = 1.0
"""The node's processing step and snapshot period, s."""
BLOCK_SIZE = 100_000
CALLS = ("ingest_remote", "ingest_local", "reports_due", "snapshot")


@dataclass(frozen=True, slots=True, kw_only=True)
class FusionScene:
    """Truth, coverage, numbering and message schedule of one run (all arrays, SI, ECEF).

    ``N`` objects, ``S`` sources, ``P`` (source, object) pairs, ``M`` messages.
    """

    duration_s: float
    position: FloatArray
    """(N, 3) ECEF position each object would have at t = 0 on its straight line, m."""
    velocity: FloatArray
    """(N, 3) ECEF velocity, m/s."""
    appear: FloatArray
    """(N,) time each object appears, s."""
    leave: FloatArray
    """(N,) time each object ends (the duration for those that fly on), s."""
    sources: tuple[NationCode, ...]
    bias_allowance: FloatArray
    """(S,) configured position-bias allowance of each source, m per axis."""
    bias: FloatArray
    """(S, 3) each source's actual position bias, m."""
    interval: FloatArray
    """(S,) report interval of each source, s."""
    pair_source: IntArray
    pair_object: IntArray
    pair_start: FloatArray
    pair_end: FloatArray
    pair_local: IntArray
    """(P,) the source's local track number of the pair (from 1)."""
    pair_own_number: IntArray
    """(P,) network number from the source's own block."""
    pair_common_number: IntArray
    """(P,) the object's common number (lowest own number of the early starters)."""
    pair_early: BoolArray
    pair_covariance: FloatArray
    """(P, 6, 6) covariance the pair's local track claims."""
    pair_cholesky: FloatArray
    pair_quality: IntArray
    message_source: IntArray
    """(M,) sender of each message, in the order the node ingests them."""
    message_sent: FloatArray
    message_previous: FloatArray
    """(M,) the sender's previous send time (-inf for its first message)."""
    message_step: IntArray
    """(M,) the node step (1, 2, …) that ingests the message."""
    own_object: IntArray
    """(K,) objects the node's own tracker holds; its local track numbers are 1 … K."""
    own_phase: IntArray
    own_bias: FloatArray
    own_covariance: FloatArray
    own_cholesky: FloatArray
    node_bias_allowance: float
    plan: TrackNumberPlan = field(repr=False)

    @property
    def objects(self) -> int:
        return int(self.appear.size)

    @property
    def steps(self) -> int:
        return round(self.duration_s / STEP_S)

    @property
    def step_times(self) -> FloatArray:
        """Times of the node's steps and snapshots, s: ``STEP_S``, 2 ``STEP_S``, …."""
        return np.arange(1, self.steps + 1, dtype=np.float64) * np.float64(STEP_S)

    def truth(self, objects: IntArray, t: FloatArray | float) -> FloatArray:
        """ECEF states (K, 6) of ``objects`` at ``t`` (scalar or one time per object)."""
        when = np.broadcast_to(np.asarray(t, float), objects.shape)[:, None]
        v = self.velocity[objects]
        return np.hstack([self.position[objects] + when * v, v])

    def config(self) -> AirPictureConfig:
        pairs = zip(self.sources, self.bias_allowance.tolist(), strict=True)
        allowance = {code: float(sigma) for code, sigma in pairs}
        allowance[NODE] = self.node_bias_allowance
        return AirPictureConfig(track_numbers=self.plan, position_bias_sigma_m=allowance)


def _destination(
    lat_deg: FloatArray, lon_deg: FloatArray, distance_m: FloatArray, bearing_rad: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Point at ``distance_m`` along ``bearing_rad`` from each start (sphere: placement only)."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    angle = distance_m / EARTH_RADIUS_MEAN_M
    lat2 = np.arcsin(
        np.sin(lat) * np.cos(angle) + np.cos(lat) * np.sin(angle) * np.cos(bearing_rad)
    )
    lon2 = lon + np.arctan2(
        np.sin(bearing_rad) * np.sin(angle) * np.cos(lat),
        np.cos(angle) - np.sin(lat) * np.sin(lat2),
    )
    return np.degrees(lat2), np.degrees(lon2)


def _disk(rng: np.random.Generator, count: int, radius_m: float) -> tuple[FloatArray, FloatArray]:
    """Geodetic points uniform over a disk around :data:`CENTRE_DEG`."""
    distance = radius_m * np.sqrt(rng.uniform(size=count))
    bearing = rng.uniform(0.0, 2.0 * np.pi, count)
    return _destination(
        np.full(count, CENTRE_DEG[0]), np.full(count, CENTRE_DEG[1]), distance, bearing
    )


def _covariances(rng: np.random.Generator, sigmas: FloatArray) -> FloatArray:
    """Correlated SPD matrices (K, 6, 6) with standard deviations ``sigmas`` (K, 6)."""
    a = rng.normal(size=(sigmas.shape[0], 6, 6))
    correlation = a @ np.swapaxes(a, -1, -2) + 12.0 * np.eye(6)
    d = 1.0 / np.sqrt(np.einsum("kii->ki", correlation))
    c = correlation * (d * sigmas)[:, :, None] * (d * sigmas)[:, None, :]
    return np.asarray(0.5 * (c + np.swapaxes(c, -1, -2)))


def _objects(
    rng: np.random.Generator, count: int, duration_s: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Truth lines, lives and formation leaders (each object's own index when alone)."""
    # Formations: consecutive indices share a leader.
    leader = np.arange(count)
    k = 0
    in_formation = rng.uniform(size=count) < FORMATION_SHARE / np.mean(FORMATION_SIZE)
    while k < count:
        if in_formation[k]:
            size = int(rng.integers(FORMATION_SIZE[0], FORMATION_SIZE[1] + 1))
            leader[k : k + size] = k
            k += size
        else:
            k += 1
    lat, lon = _disk(rng, count, REGION_RADIUS_M)
    altitude = rng.uniform(*ALTITUDE_M, count)
    missile = rng.uniform(size=count) < MISSILE_SHARE
    speed = np.where(
        missile, rng.uniform(*MISSILE_SPEED_M_S, count), rng.uniform(*AIRCRAFT_SPEED_M_S, count)
    )
    heading = rng.uniform(0.0, 2.0 * np.pi, count)
    life = rng.choice(3, count, p=LIFE_SHARES)
    appear = np.where(life == 1, rng.uniform(0.0, 0.8 * duration_s, count), 0.0)
    leave = np.where(life == 2, rng.uniform(0.2 * duration_s, duration_s, count), duration_s)
    # Followers take their leader's point, velocity and life, and an offset in its ENU plane.
    lat, lon, altitude = lat[leader], lon[leader], altitude[leader]
    speed, heading = speed[leader], heading[leader]
    appear, leave = appear[leader], leave[leader]
    rotation = ecef_to_enu_matrix(lat, lon)  # rows E, N, U in ECEF
    # Members on a line through the leader, one spacing apart, so that none coincide.
    spacing = rng.uniform(*FORMATION_SPACING_M, count)[leader]
    rank = np.arange(count) - leader
    side = rng.uniform(0.0, 2.0 * np.pi, count)[leader]
    offset = (spacing * rank)[:, None] * np.column_stack([np.sin(side), np.cos(side)])
    enu_offset = np.column_stack([offset, np.zeros(count)])
    enu_velocity = speed[:, None] * np.column_stack(
        [np.sin(heading), np.cos(heading), np.zeros(count)]
    )
    at_appear = geodetic_to_ecef(lat, lon, altitude) + np.einsum("ki,kij->kj", enu_offset, rotation)
    velocity = np.einsum("ki,kij->kj", enu_velocity, rotation)
    return at_appear - appear[:, None] * velocity, velocity, appear, leave, leader


def make_scene(
    *, objects: int, sources: int, rate: float, minutes: float, seed: int = 1
) -> FusionScene:
    """Build the truth, coverage, numbering and message schedule of one run.

    Parameters
    ----------
    objects : int
        Objects over the run (≥ 1).
    sources : int
        Remote reporting nations (1 … 63: with the node, at most 64 in a picture).
    rate : float
        Mean remote reports per simulated second (> 0).
    minutes : float
        Simulated duration, min (> 0).
    seed : int
        Root seed of every random stream.
    """
    if not (1 <= sources <= 63 and objects >= 1 and rate > 0 and minutes > 0):
        raise ValueError("need 1 ≤ sources ≤ 63, objects ≥ 1, rate > 0 and minutes > 0")
    streams = RandomStreams(seed)
    duration = float(minutes) * 60.0
    position, velocity, appear, leave, leader = _objects(
        streams.stream("objects"), objects, duration
    )
    rng = streams.stream("sources")
    codes = tuple(NationCode(f"N{k:02d}") for k in range(sources))
    plan = TrackNumberPlan.consecutive([*codes, NODE], size=BLOCK_SIZE)
    site_lat, site_lon = _disk(rng, sources, 0.9 * REGION_RADIUS_M)
    site = geodetic_to_ecef(site_lat, site_lon, 0.0).reshape(sources, 3)
    position_sigma = rng.uniform(*POSITION_SIGMA_M, sources)
    velocity_sigma = rng.uniform(*VELOCITY_SIGMA_M_S, sources)
    base_quality = np.rint(14.0 - 6.0 * (position_sigma - 50.0) / 250.0).astype(np.int64)
    allowance = rng.uniform(*BIAS_ALLOWANCE_M, sources)
    bias = rng.normal(size=(sources, 3)) * allowance[:, None]

    # Coverage: 1–4 of the nearest sources, chosen by the leader at the middle of its life.
    middle = position + 0.5 * (appear + leave)[:, None] * velocity
    nearest = min(NEAREST_SOURCES, sources)
    distance = np.linalg.norm(middle[:, None, :] - site[None, :, :], axis=-1)
    candidates = np.argsort(distance, axis=1)[:, :nearest]
    shuffled = np.take_along_axis(
        candidates, np.argsort(rng.uniform(size=candidates.shape), axis=1), axis=1
    )
    seen_by = np.minimum(rng.choice(4, objects, p=SOURCES_PER_OBJECT) + 1, nearest)
    shuffled, seen_by = shuffled[leader], seen_by[leader]
    slot = np.arange(nearest)[None, :]
    chosen = slot < seen_by[:, None]
    pair_object = np.broadcast_to(np.arange(objects)[:, None], chosen.shape)[chosen]
    pair_source = shuffled[chosen]
    primary = np.broadcast_to(slot == 0, chosen.shape)[chosen]
    count = pair_object.size
    whole = primary | (rng.uniform(size=count) < WHOLE_LIFE_SHARE)
    life_start, life_end = appear[pair_object], leave[pair_object]
    start = np.where(whole, life_start, rng.uniform(life_start, life_end))
    end = np.where(
        whole, life_end, np.minimum(start + rng.uniform(*PARTIAL_COVER_S, count), life_end)
    )

    # Local numbers in order of first sight; network numbers from each source's block.
    order = np.lexsort((pair_object, start, pair_source))
    pair_source, pair_object = pair_source[order], pair_object[order]
    start, end, primary = start[order], end[order], primary[order]
    first_of_source = np.searchsorted(pair_source, np.arange(sources))
    local = np.arange(count) - first_of_source[pair_source] + 1
    block_first = np.array([plan.blocks[code][0] for code in codes], np.int64)
    own_number = block_first[pair_source] + local - 1
    first_start = np.full(objects, np.inf)
    np.minimum.at(first_start, pair_object, start)
    early = start < first_start[pair_object] + CONVERGENCE_S
    common = np.full(objects, np.iinfo(np.int64).max)
    np.minimum.at(common, pair_object[early], own_number[early])

    factor = rng.uniform(*TRACK_SIGMA_FACTOR, count)[:, None]
    sigmas = (
        factor
        * np.column_stack(
            [np.repeat(position_sigma[:, None], 3, 1), np.repeat(velocity_sigma[:, None], 3, 1)]
        )[pair_source]
    )
    covariance = _covariances(rng, sigmas)
    quality = np.clip(base_quality[pair_source] + rng.integers(-1, 2, count), 0, 15)

    # Report intervals scaled so that the sources together send `rate` reports per second.
    raw = rng.uniform(*RAW_INTERVAL_S, sources)
    active = np.bincount(pair_source, weights=end - start, minlength=sources) / duration
    scale = float(np.sum(active / raw)) / rate
    interval = raw * scale
    message_source, message_sent, message_previous, message_step = _schedule(
        rng, interval, duration
    )

    # The node's own tracker: the objects nearest to it.
    own_rng = streams.stream("own")
    node_position = geodetic_to_ecef(*CENTRE_DEG, 0.0)
    own_count = round(OWN_SHARE * objects)
    own_object = np.sort(np.argsort(np.linalg.norm(middle - node_position, axis=1))[:own_count])
    own_covariance = _covariances(own_rng, np.tile(OWN_SIGMA, (own_count, 1)))
    return FusionScene(
        duration_s=duration,
        position=position,
        velocity=velocity,
        appear=appear,
        leave=leave,
        sources=codes,
        bias_allowance=allowance,
        bias=bias,
        interval=interval,
        pair_source=pair_source,
        pair_object=pair_object,
        pair_start=start,
        pair_end=end,
        pair_local=local,
        pair_own_number=own_number,
        pair_common_number=common[pair_object],
        pair_early=early,
        pair_covariance=covariance,
        pair_cholesky=np.asarray(np.linalg.cholesky(covariance), np.float64),
        pair_quality=quality,
        message_source=message_source,
        message_sent=message_sent,
        message_previous=message_previous,
        message_step=message_step,
        own_object=own_object,
        own_phase=own_rng.integers(0, OWN_REVISIT_S, own_count),
        own_bias=own_rng.normal(size=3) * OWN_BIAS_ALLOWANCE_M,
        own_covariance=own_covariance,
        own_cholesky=np.asarray(np.linalg.cholesky(own_covariance), np.float64),
        node_bias_allowance=OWN_BIAS_ALLOWANCE_M,
        plan=plan,
    )


def _schedule(
    rng: np.random.Generator, interval: FloatArray, duration_s: float
) -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    """Every message: sender, send time, sender's previous send time, ingesting step."""
    senders: list[IntArray] = []
    sent: list[FloatArray] = []
    previous: list[FloatArray] = []
    for sender, period in enumerate(interval.tolist()):
        times = rng.uniform(0.0, period) + period * np.arange(math.ceil(duration_s / period) + 1)
        times = times[times < duration_s]
        senders.append(np.full(times.size, sender, np.int64))
        sent.append(times)
        previous.append(np.r_[-np.inf, times[:-1]])
    source, sent_at, before = (
        np.concatenate(senders),
        np.concatenate(sent),
        np.concatenate(previous),
    )
    arrival = sent_at + rng.uniform(*LINK_DELAY_S, sent_at.size)
    step = np.maximum(np.ceil(arrival / STEP_S - 1e-9), 1).astype(np.int64)
    order = np.argsort(arrival, kind="stable")
    keep = order[step[order] * STEP_S <= duration_s + 1e-9]
    return source[keep], sent_at[keep], before[keep], step[keep]


# --- messages ---------------------------------------------------------------------------------


def _nan(k: int) -> FloatArray:
    return np.full(k, np.nan)


def build_reports(
    scene: FusionScene, message: int, rng: np.random.Generator
) -> tuple[TrackReports, IntArray, IntArray]:
    """The ``message``-th message; also each item's object and number (-1 for DROPPED)."""
    source = int(scene.message_source[message])
    sent_at = float(scene.message_sent[message])
    before = float(scene.message_previous[message])
    lo, hi = np.searchsorted(scene.pair_source, [source, source + 1])
    start, end = scene.pair_start[lo:hi], scene.pair_end[lo:hi]
    held = np.flatnonzero((start <= sent_at) & (sent_at < end)) + lo
    lost = np.flatnonzero((start <= before) & (before < end) & (end <= sent_at)) + lo
    pairs = np.concatenate([held, lost])
    k, k_held = pairs.size, held.size
    age = rng.uniform(TRACK_AGE_S[0], min(TRACK_AGE_S[1], 0.5 * scene.interval[source]), k)
    valid = np.concatenate(
        [np.maximum(sent_at - age[:k_held], scene.pair_start[held]), scene.pair_end[lost]]
    )
    objects = scene.pair_object[pairs]
    noise = np.einsum("kij,kj->ki", scene.pair_cholesky[pairs], rng.normal(size=(k, 6)))
    state = scene.truth(objects, valid) + noise
    state[:, :3] += scene.bias[source]
    adopted = ~scene.pair_early[pairs] | (sent_at >= scene.pair_start[pairs] + CONVERGENCE_S)
    number = np.where(adopted, scene.pair_common_number[pairs], scene.pair_own_number[pairs])
    status = np.full(k, int(TrackStatus.CONFIRMED), np.int64)
    status[k_held:] = TrackStatus.DROPPED
    zeros = np.zeros(k, np.int64)
    reports = TrackReports(
        sender=scene.sources[source],
        sent_at=sent_at,
        sequence=message,
        nations=(scene.sources[source],),
        network_track_number=number,
        originator=zeros,
        reporting_node=zeros,
        local_track_number=scene.pair_local[pairs],
        valid_at=valid,
        state=state,
        covariance=scene.pair_covariance[pairs],
        quality=scene.pair_quality[pairs],
        status=status,
        category=zeros,
        impact_time_s=_nan(k),
        impact_lat_deg=_nan(k),
        impact_lon_deg=_nan(k),
        impact_semi_major_m=_nan(k),
        impact_semi_minor_m=_nan(k),
        impact_orientation_deg=_nan(k),
        sensor_id=zeros,
        classification=zeros,
        rel_to=np.ones(k, np.uint64),
        caveats=zeros,
    )
    return reports, objects, np.where(status == TrackStatus.CONFIRMED, number, -1)


def build_local(
    scene: FusionScene, step: int, rng: np.random.Generator
) -> tuple[LocalTracks, IntArray]:
    """The node's tracker output at ``step``: tracks updated now, and tracks lost since."""
    t = step * STEP_S
    objects = scene.own_object
    alive = (scene.appear[objects] <= t) & (t <= scene.leave[objects])
    due = alive & ((step + scene.own_phase) % OWN_REVISIT_S == 0)
    lost = (t - STEP_S < scene.leave[objects]) & (scene.leave[objects] < t)
    rows = np.concatenate([np.flatnonzero(due), np.flatnonzero(lost)])
    k = rows.size
    noise = np.einsum("kij,kj->ki", scene.own_cholesky[rows], rng.normal(size=(k, 6)))
    state = scene.truth(objects[rows], t) + noise
    state[:, :3] += scene.own_bias
    status = np.full(k, int(TrackStatus.CONFIRMED), np.int64)
    status[int(due.sum()) :] = TrackStatus.DROPPED
    tracks = LocalTracks(
        node=NODE,
        valid_at=t,
        track_number=rows.astype(np.int64) + 1,
        status=status,
        category=np.zeros(k, np.int64),
        state=state,
        covariance=scene.own_covariance[rows],
        quality=np.full(k, OWN_QUALITY, np.int64),
        updated_at=np.full(k, t),
        impact_time_s=_nan(k),
        impact_lat_deg=_nan(k),
        impact_lon_deg=_nan(k),
        impact_semi_major_m=_nan(k),
        impact_semi_minor_m=_nan(k),
        impact_orientation_deg=_nan(k),
    )
    return tracks, objects[rows[: int(due.sum())]]


# --- the run ----------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class PictureRun:
    """What one run produced: CPU and wall time per call, and both pictures at every step."""

    cpu_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CALLS, 0.0))
    wall_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CALLS, 0.0))
    calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CALLS, 0))
    warm_up_cpu_s: float = 0.0
    """CPU time of the fusion rule's first call, before the timed run (compiled kernels)."""
    remote_reports: int = 0
    own_updates: int = 0
    reports_due: int = 0
    system_tracks_max: int = 0
    track_step: list[IntArray] = field(default_factory=list)
    track_id: list[IntArray] = field(default_factory=list)
    track_number: list[IntArray] = field(default_factory=list)
    track_state: list[FloatArray] = field(default_factory=list)
    oracle_step: list[IntArray] = field(default_factory=list)
    oracle_object: list[IntArray] = field(default_factory=list)
    oracle_number: list[IntArray] = field(default_factory=list)

    @property
    def cpu_total_s(self) -> float:
        return sum(self.cpu_s.values())

    @property
    def wall_total_s(self) -> float:
        return sum(self.wall_s.values())


def warm_up(rule: str) -> float:
    """Call a fusion rule once on a pair and a triple; return the CPU time it took, s.

    The default rule runs numba kernels, compiled at their first use on a machine (about 10
    CPU-s) and loaded from the on-disk cache after that (a fraction of a second): a cost of
    the installation, not of the picture's calls, so it is paid here, outside the timing,
    and reported apart.
    """
    started = time.process_time()
    states = np.zeros((2, 3, 6))
    covariances = np.tile(np.diag([1e4, 1e4, 1e4, 1e2, 1e2, 1e2]), (2, 3, 1, 1))
    covariances[:, 1] *= 2.0
    present = np.array([[True, True, False], [True, True, True]])
    FUSION_RULES.get(rule)(states, covariances, present=present)
    return time.process_time() - started


def run_picture(
    scene: FusionScene, *, seed: int = 1, profiler: cProfile.Profile | None = None
) -> PictureRun:
    """Feed the scene to one node's picture, step by step; time the picture's calls only."""
    streams = RandomStreams(seed)
    report_rng, own_rng = streams.stream("report-noise"), streams.stream("own-noise")
    picture = AirPicture(NODE, scene.config())
    run = PictureRun()
    run.warm_up_cpu_s = warm_up(picture.config.fusion_rule)
    max_age = picture.config.max_age_s
    # The oracle: latest report time and lowest number ingested of each object.
    latest = np.full(scene.objects, -np.inf)
    number = np.zeros(scene.objects, np.int64)
    node_number = scene.plan.blocks[NODE][0]

    def timed(name: str, call: Any, *args: Any) -> Any:
        if profiler is not None:
            profiler.enable()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = call(*args)
        run.cpu_s[name] += time.process_time() - cpu0
        run.wall_s[name] += time.perf_counter() - wall0
        if profiler is not None:
            profiler.disable()
        run.calls[name] += 1
        return result

    bounds = np.searchsorted(scene.message_step, np.arange(1, scene.steps + 2))
    for step in range(1, scene.steps + 1):
        now = step * STEP_S
        for message in range(bounds[step - 1], bounds[step]):
            reports, objects, numbers = build_reports(scene, message, report_rng)
            timed("ingest_remote", picture.ingest_remote, reports)
            run.remote_reports += len(reports)
            held = numbers >= 0
            objects, numbers = objects[held], numbers[held]
            np.maximum.at(latest, objects, reports.valid_at[held])
            lower = (number[objects] == 0) | (numbers < number[objects])
            number[objects[lower]] = numbers[lower]
        local, own = build_local(scene, step, own_rng)
        timed("ingest_local", picture.ingest_local, local)
        run.own_updates += own.size
        latest[own] = now
        number[own[number[own] == 0]] = node_number
        due = timed("reports_due", picture.reports_due, now)
        snapshot = timed("snapshot", picture.snapshot, now)
        run.reports_due += len(due)

        rows = np.flatnonzero(snapshot.status != TrackStatus.DROPPED)
        run.system_tracks_max = max(run.system_tracks_max, rows.size)
        run.track_step.append(np.full(rows.size, step - 1, np.int64))
        run.track_id.append(snapshot.track_id[rows])
        run.track_number.append(snapshot.network_track_number[rows])
        run.track_state.append(snapshot.state[rows])
        shown = np.flatnonzero(
            (latest >= now - max_age) & (scene.appear <= now) & (now <= scene.leave)
        )
        run.oracle_step.append(np.full(shown.size, step - 1, np.int64))
        run.oracle_object.append(shown)
        run.oracle_number.append(number[shown])
    return run


# --- assessment -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PictureQuality:
    """SIAP figures and network-number figures of one picture."""

    siap: SiapFigures
    objects_held: int
    """Objects associated at some step."""
    number_changes: int
    """Σ over objects of (distinct non-zero numbers it was held under − 1)."""
    numbers_per_object: float
    """Mean distinct non-zero numbers per held object (ideal: 1)."""
    unnumbered_share: float
    """Share of associated track-steps under number 0 (waiting for a number)."""

    def to_dict(self) -> dict[str, Any]:
        siap = self.siap
        return {
            "completeness": _round(siap.completeness, 4),
            "ambiguity": _round(siap.ambiguity, 4),
            "spuriousness": _round(siap.spuriousness, 4),
            "position_accuracy_m": _round(siap.position_accuracy_m, 1),
            "velocity_accuracy_mps": _round(siap.velocity_accuracy_mps, 2),
            "track_breaks": siap.track_number_changes,
            "longest_track_segment": _round(siap.longest_track_segment, 4),
            "objects_held": self.objects_held,
            "number_changes": self.number_changes,
            "numbers_per_object": round(self.numbers_per_object, 4),
            "unnumbered_share": round(self.unnumbered_share, 5),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _truth_rows(scene: FusionScene) -> tuple[IntArray, IntArray, FloatArray]:
    """Every object alive at each step: step, object, state (sorted by step then object)."""
    times = scene.step_times
    alive = (scene.appear[None, :] <= times[:, None]) & (times[:, None] <= scene.leave[None, :])
    step, obj = np.nonzero(alive)
    return step, obj, scene.truth(obj, times[step])


def _candidates(picture: AlignedPicture, threshold_m: float) -> IntArray:
    """``nearest_truth`` with a k-d tree per step (same rule; exact ties are measure zero)."""
    count = picture.times_s.size
    candidate = np.full(picture.track_step.size, NO_TRUTH, np.int64)
    truth_begin, truth_end = step_bounds(picture.truth_step, count)
    track_begin, track_end = step_bounds(picture.track_step, count)
    for k in range(count):
        if truth_end[k] == truth_begin[k] or track_end[k] == track_begin[k]:
            continue
        tree = cKDTree(picture.truth_states[truth_begin[k] : truth_end[k], :3])
        distance, nearest = tree.query(
            picture.track_states[track_begin[k] : track_end[k], :3],
            distance_upper_bound=threshold_m,
        )
        hit = np.isfinite(distance) & (distance < threshold_m)
        candidate[track_begin[k] : track_end[k]] = np.where(
            hit,
            picture.truth_index[
                truth_begin[k] + np.minimum(nearest, truth_end[k] - truth_begin[k] - 1)
            ],
            NO_TRUTH,
        )
    return candidate


def assess(
    scene: FusionScene,
    step: IntArray,
    label: IntArray,
    number: IntArray,
    state: FloatArray,
    rule: AssociationRule | None = None,
) -> PictureQuality:
    """SIAP and number figures of one picture given as rows (step, track label, number, state)."""
    rule = rule or AssociationRule()
    truth_step, truth_index, truth_states = _truth_rows(scene)
    track_ids, track_index = np.unique(label, return_inverse=True)
    # Rows in the order AlignedPicture keeps them, so that per-row numbers stay aligned.
    order = np.lexsort((track_index, step))
    step, track_index, number, state = step[order], track_index[order], number[order], state[order]
    picture = AlignedPicture(
        times_s=scene.step_times,
        truth_ids=tuple(f"O{k:05d}" for k in range(scene.objects)),
        truth_step=truth_step,
        truth_index=truth_index,
        truth_states=truth_states,
        track_ids=track_ids,
        track_step=step,
        track_index=track_index,
        track_states=state,
    )
    truth_of_row = hold_associations(
        picture.track_index,
        _candidates(picture, rule.threshold_m),
        confirm_steps=rule.confirm_steps,
        end_misses=rule.end_misses,
    )
    segment_track, segment_truth, segment_start, segment_end = association_segments(
        picture.times_s, picture.track_step, picture.track_index, truth_of_row
    )
    association = TruthAssociation(
        truth_of_row=truth_of_row,
        segment_track=segment_track,
        segment_truth=segment_truth,
        segment_start_s=segment_start,
        segment_end_s=segment_end,
    )
    siap = siap_figures(picture, association)
    associated = truth_of_row != NO_TRUTH
    held_truth, held_number = truth_of_row[associated], number[associated]
    numbered = held_number > 0
    pairs = np.unique(np.column_stack([held_truth[numbered], held_number[numbered]]), axis=0)
    objects_held = int(np.unique(held_truth).size)
    distinct = np.bincount(pairs[:, 0], minlength=scene.objects) if pairs.size else np.zeros(1)
    with_number = distinct[distinct > 0]
    return PictureQuality(
        siap=siap,
        objects_held=objects_held,
        number_changes=int(np.sum(with_number - 1)),
        numbers_per_object=float(with_number.mean()) if with_number.size else 0.0,
        unnumbered_share=float(1.0 - numbered.mean()) if numbered.size else 0.0,
    )


def assess_run(scene: FusionScene, run: PictureRun) -> tuple[PictureQuality, PictureQuality]:
    """Quality of our picture and of the oracle's, by the same rules."""
    ours = assess(
        scene,
        np.concatenate(run.track_step),
        np.concatenate(run.track_id),
        np.concatenate(run.track_number),
        np.concatenate(run.track_state).reshape(-1, 6),
    )
    oracle_step = np.concatenate(run.oracle_step)
    oracle_object = np.concatenate(run.oracle_object)
    oracle = assess(
        scene,
        oracle_step,
        oracle_object,
        np.concatenate(run.oracle_number),
        scene.truth(oracle_object, scene.step_times[oracle_step]),
    )
    return ours, oracle


# --- main -------------------------------------------------------------------------------------


def benchmark(
    *,
    objects: int,
    sources: int,
    rate: float,
    minutes: float,
    seed: int = 1,
    profiler: cProfile.Profile | None = None,
) -> dict[str, Any]:
    """Build, run and assess one scene; return the figures (the JSON line's content)."""
    build0 = time.process_time()
    scene = make_scene(objects=objects, sources=sources, rate=rate, minutes=minutes, seed=seed)
    build_cpu = time.process_time() - build0
    run = run_picture(scene, seed=seed, profiler=profiler)
    assess0 = time.process_time()
    ours, oracle = assess_run(scene, run)
    assess_cpu = time.process_time() - assess0
    cpu = run.cpu_total_s
    return {
        "benchmark": "fusion",
        "seed": seed,
        "objects": objects,
        "sources": sources,
        "simulated_s": scene.duration_s,
        "remote_reports": run.remote_reports,
        "remote_reports_per_s": round(run.remote_reports / scene.duration_s, 1),
        "remote_messages": int(scene.message_source.size),
        "own_updates": run.own_updates,
        "pairs": int(scene.pair_object.size),
        "report_interval_s": [
            round(float(scene.interval.min()), 2),
            round(float(scene.interval.max()), 2),
        ],
        "snapshot_period_s": STEP_S,
        "system_tracks_max": run.system_tracks_max,
        "reports_due_total": run.reports_due,
        "picture_cpu_s": round(cpu, 2),
        "picture_wall_s": round(run.wall_total_s, 2),
        "cpu_s_by_call": {name: round(value, 2) for name, value in run.cpu_s.items()},
        "ms_per_call": {
            name: round(1e3 * run.cpu_s[name] / max(run.calls[name], 1), 2) for name in CALLS
        },
        "sim_to_cpu_ratio": round(scene.duration_s / cpu, 2),
        "target_ratio": 10.0,
        "profiled": profiler is not None,
        "scene_build_cpu_s": round(build_cpu, 2),
        "kernel_warm_up_cpu_s": round(run.warm_up_cpu_s, 2),
        "assess_cpu_s": round(assess_cpu, 2),
        "iamd": ours.to_dict(),
        "oracle": oracle.to_dict(),
    }


def report(result: dict[str, Any]) -> None:
    """Print the human-readable lines of one result."""
    ours, oracle = result["iamd"], result["oracle"]
    print(
        f"{result['objects']:,} objects, {result['sources']} sources, "
        f"{result['simulated_s']:.0f} s simulated: {result['remote_reports']:,} remote reports "
        f"({result['remote_reports_per_s']:,}/s in {result['remote_messages']:,} messages, "
        f"intervals {result['report_interval_s'][0]}–{result['report_interval_s'][1]} s) "
        f"+ {result['own_updates']:,} own updates; at most {result['system_tracks_max']:,} "
        "system tracks",
        flush=True,
    )
    by_call = ", ".join(
        f"{name} {result['cpu_s_by_call'][name]} s ({result['ms_per_call'][name]} ms/call)"
        for name in CALLS
    )
    print(
        f"picture CPU {result['picture_cpu_s']} s (wall {result['picture_wall_s']} s): "
        f"simulated/CPU = {result['sim_to_cpu_ratio']}× (target ≥ 10"
        f"{', profiler on: inflated' if result['profiled'] else ''}); {by_call}"
    )
    for name, figures in (("iamd  ", ours), ("oracle", oracle)):
        print(
            f"{name}: completeness {figures['completeness']}, ambiguity {figures['ambiguity']}, "
            f"spuriousness {figures['spuriousness']}, position error "
            f"{figures['position_accuracy_m']} m, "
            f"velocity error {figures['velocity_accuracy_mps']} m/s, track breaks "
            f"{figures['track_breaks']}, objects held {figures['objects_held']:,}, network-number "
            f"changes {figures['number_changes']:,} ({figures['numbers_per_object']} numbers per "
            f"object), unnumbered {figures['unnumbered_share']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="simulated minutes")
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=2000.0, help="remote reports per second")
    parser.add_argument("--sources", type=int, default=30, help="remote nations (≤ 63)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the picture's calls (inflates CPU)"
    )
    args = parser.parse_args()
    wall0 = time.perf_counter()
    profiler = cProfile.Profile() if args.profile else None
    result = benchmark(
        objects=args.objects,
        sources=args.sources,
        rate=args.rate,
        minutes=args.minutes,
        seed=args.seed,
        profiler=profiler,
    )
    result["wall_s"] = round(time.perf_counter() - wall0, 1)
    report(result)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats("picture.py", 25)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
