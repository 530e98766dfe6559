"""Architecture comparison: a scenario's variants over seeds, common random numbers, 95 % CIs.

:func:`compare_variants` runs every (variant, seed) pair and reduces each recording to a few
figures (:func:`run_figures`). Every variant is run with the **same seeds**, and every
component draws from its own named random stream, so the truth, the sensors' noise and the
links' draws are the same in every variant of one seed wherever the variant does not change
the component itself (common random numbers). The differences between variants are then
measured **per seed** (paired) and their confidence intervals are much narrower than the
difference of two independent means would be.

Intervals are Student-t intervals on the ``K`` per-seed values: ``mean ± t(0.975, K−1)·s/√K``
with ``s`` the sample standard deviation; with one seed there is no interval. They assume the
per-seed figures are independent and roughly normal; with ``K`` ≥ 5 the t interval is robust
to moderate skew.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from iamd.core.errors import ConfigurationError
from iamd.scenario import AS_WRITTEN, load_scenario_text, schema, variant_names
from iamd.sim.run import RunOptions, run_scenario, summarise

Figures = dict[str, float]
"""A run's figures by name (NaN where a figure is undefined, e.g. nothing to measure)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """The mean of one figure over seeds, with its 95 % confidence interval.

    Attributes
    ----------
    mean : float
        Mean over the seeds where the figure is defined (NaN if none).
    half_width : float
        Half-width of the 95 % Student-t interval (NaN with fewer than two values).
    count : int
        Number of seeds where the figure is defined.
    """

    mean: float
    half_width: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        """The estimate from per-seed values (NaN values are left out)."""
        data = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
        if data.size == 0:
            return cls(mean=math.nan, half_width=math.nan, count=0)
        if data.size == 1:
            return cls(mean=float(data[0]), half_width=math.nan, count=1)
        spread = float(np.std(data, ddof=1)) / math.sqrt(data.size)
        return cls(
            mean=float(data.mean()),
            half_width=float(stats.t.ppf(0.975, data.size - 1)) * spread,
            count=int(data.size),
        )

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready (NaN as None)."""
        return {
            "mean": _finite_or_none(self.mean),
            "ci95_half_width": _finite_or_none(self.half_width),
            "seeds": self.count,
        }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """Figures of every variant over the seeds, and their paired differences to a baseline.

    Attributes
    ----------
    scenario : str
        Scenario name.
    variants : tuple of str
        The variants, baseline first.
    seeds : tuple of int
        The seeds every variant was run with.
    figures : dict of str to dict of str to list of float
        ``figures[variant][name]``: the figure of each seed, in ``seeds`` order.
    run_dirs : dict of str to list of str
        ``run_dirs[variant]``: the run directory of each seed.
    """

    scenario: str
    variants: tuple[str, ...]
    seeds: tuple[int, ...]
    figures: dict[str, dict[str, list[float]]]
    run_dirs: dict[str, list[str]]

    @property
    def baseline(self) -> str:
        """The variant the differences are measured from (the first)."""
        return self.variants[0]

    def names(self) -> list[str]:
        """Every figure name, in first-seen order."""
        seen: dict[str, None] = {}
        for variant in self.variants:
            seen.update(dict.fromkeys(self.figures[variant]))
        return list(seen)

    def estimate(self, variant: str, name: str) -> Estimate:
        """Mean and interval of figure ``name`` in ``variant``."""
        return Estimate.of(self.figures[variant].get(name, []))

    def difference(self, variant: str, name: str) -> Estimate:
        """Paired difference ``variant − baseline`` of figure ``name``, seed by seed."""
        ours = self.figures[variant].get(name, [])
        base = self.figures[self.baseline].get(name, [])
        if len(ours) != len(base):
            return Estimate.of([])
        return Estimate.of([a - b for a, b in zip(ours, base, strict=True)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per variant and figure, the estimate and the paired difference."""
        return {
            "scenario": self.scenario,
            "baseline": self.baseline,
            "seeds": list(self.seeds),
            "variants": {
                variant: {
                    name: {
                        **self.estimate(variant, name).to_dict(),
                        "difference_to_baseline": self.difference(variant, name).to_dict(),
                        "per_seed": [_finite_or_none(v) for v in self.figures[variant][name]],
                    }
                    for name in self.figures[variant]
                }
                for variant in self.variants
            },
            "run_dirs": self.run_dirs,
        }


def _nan(value: object) -> float:
    """``value`` as a float, NaN when it is missing (None in a summary)."""
    return float(value) if isinstance(value, int | float) else math.nan


def run_figures(summary: Mapping[str, Any]) -> Figures:
    """The figures a comparison reports, from a run's summary (:func:`summarise`).

    Per nation ``N``: ``completeness/N``, ``spuriousness/N``, ``position_error_m/N`` and
    ``velocity_error_mps/N`` (SIAP attributes of its air picture: the errors are means over
    the associated track steps, m and m/s), ``warning_s/N``
    (mean time from the first hold of a threat in its picture to the threat's impact or end of
    route, s, over the threats it holds), ``coverage/N`` (share of the coalition's own-sensor
    picture it holds); per pair ``commonality/A-B``; over the coalition: ``commonality``,
    ``coalition_completeness``, ``network_bytes_per_s`` (sent on every link together), and the
    means over nations of the per-nation figures; when nations fight, ``leakers``,
    ``zero_leakers`` (1 or 0: its mean over seeds is the probability of zero leakers),
    ``value_weighted_survival``, ``shots`` and ``shots_per_kill``; and
    ``release_violations`` (0 in a correct run).
    """
    figures: Figures = {}
    network = summary.get("network") or {}
    for picture in summary.get("picture") or []:
        node, siap = picture["node"], picture["siap"]
        figures[f"completeness/{node}"] = _nan(siap["completeness"])
        figures[f"spuriousness/{node}"] = _nan(siap["spuriousness"])
        figures[f"position_error_m/{node}"] = _nan(siap["position_accuracy_m"])
        figures[f"velocity_error_mps/{node}"] = _nan(siap["velocity_accuracy_mps"])
    for warning in network.get("warning") or []:
        figures[f"warning_s/{warning['node']}"] = _nan(warning["picture"]["mean_warning_s"])
    coverage = network.get("coverage") or {}
    for nation in coverage.get("nations") or []:
        figures[f"coverage/{nation['node']}"] = _nan(nation["coverage"])
    common = network.get("commonality") or {}
    figures["commonality"] = _nan(common.get("commonality"))
    for pair in common.get("pairwise") or []:
        figures[f"commonality/{'-'.join(pair['nations'])}"] = _nan(pair["commonality"])
    figures["coalition_completeness"] = _nan(coverage.get("coalition_completeness"))
    links = network.get("links") or []
    figures["network_bytes_per_s"] = float(sum(_nan(link["bytes_per_s"]) for link in links))
    for prefix in (
        "completeness",
        "spuriousness",
        "position_error_m",
        "velocity_error_mps",
        "warning_s",
        "coverage",
    ):
        values = [v for k, v in figures.items() if k.startswith(prefix + "/") and math.isfinite(v)]
        figures[prefix] = float(np.mean(values)) if values else math.nan
    defense = summary.get("defense")
    if defense:
        figures["leakers"] = float(defense["leakers"])
        figures["zero_leakers"] = 1.0 if defense["zero_leakers"] else 0.0
        figures["value_weighted_survival"] = _nan(defense["value_weighted_survival"])
        figures["shots"] = float(defense["shots"])
        figures["shots_per_kill"] = _nan(defense["shots_per_kill"])
    figures["release_violations"] = _nan(summary.get("release_violations") or 0)
    return figures


def default_variants(scenario: schema.Scenario) -> list[str]:
    """The variants a comparison runs by default: every declared one, baseline first.

    A scenario declaring a single variant (say ``national``) is compared with itself as
    written: ``[national, as-written]``; one declaring none runs ``as-written`` alone.
    """
    declared = variant_names(scenario)[1:]
    return declared if len(declared) >= 2 else [*declared, AS_WRITTEN]


def _one_run(
    job: tuple[str, str, str, int, str, float | None],
) -> tuple[str, int, str, Figures]:
    """Run one (variant, seed) in a worker process and reduce it to its figures."""
    text, filename, variant, seed, run_dir, duration_s = job
    scenario = load_scenario_text(text, filename)
    options = RunOptions(
        seed=seed,
        variant=None if variant == AS_WRITTEN else variant,
        duration_s=duration_s,
    )
    run_scenario(scenario, text, Path(run_dir), options=options)
    return variant, seed, run_dir, run_figures(summarise(Path(run_dir)))


def compare_variants(
    scenario: schema.Scenario,
    text: str,
    out_dir: Path,
    *,
    seeds: Sequence[int],
    variants: Sequence[str] | None = None,
    workers: int | None = None,
    duration_s: float | None = None,
    filename: str = "scenario.yaml",
    progress: Callable[[str, int], None] | None = None,
) -> Comparison:
    """Run ``variants`` × ``seeds`` and collect their figures.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario (its variants are the candidates).
    text : str
        Its YAML text (kept in every run directory).
    out_dir : Path
        Parent of the run directories ``VARIANT/seed-N`` (must not hold them already).
    seeds : sequence of int
        Root seeds, the same for every variant (common random numbers).
    variants : sequence of str, optional
        Variant names, baseline first; default :func:`default_variants`.
    workers : int, optional
        Worker processes (default: the CPU count, at most the number of runs).
    duration_s : float, optional
        Stop every run earlier than the scenario's duration, s.
    filename : str
        Name used in error messages when a worker reloads the scenario.
    progress : callable, optional
        Called with ``(variant, seed)`` as each run ends.

    Returns
    -------
    Comparison

    Raises
    ------
    ConfigurationError
        If a variant is unknown or repeated, or no seed is given.
    """
    known = variant_names(scenario)
    chosen = list(variants) if variants else default_variants(scenario)
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise ConfigurationError(
            f"unknown variant(s) {', '.join(unknown)} of {scenario.name} "
            f"(declared: {', '.join(known)})"
        )
    if len(set(chosen)) != len(chosen):
        raise ConfigurationError(f"variants repeat: {', '.join(chosen)}")
    if not seeds:
        raise ConfigurationError("compare needs at least one seed")
    jobs = [
        (text, filename, variant, int(seed), str(out_dir / variant / f"seed-{seed}"), duration_s)
        for seed in seeds
        for variant in chosen
    ]
    count = min(len(jobs), workers or os.cpu_count() or 1)
    results: list[tuple[str, int, str, Figures]] = []
    if count == 1:
        for job in jobs:
            results.append(_one_run(job))
            if progress is not None:
                progress(job[2], job[3])
    else:
        with ProcessPoolExecutor(max_workers=count) as pool:
            for result in pool.map(_one_run, jobs):
                results.append(result)
                if progress is not None:
                    progress(result[0], result[1])
    order = {seed: i for i, seed in enumerate(seeds)}
    results.sort(key=lambda r: (chosen.index(r[0]), order[r[1]]))
    figures: dict[str, dict[str, list[float]]] = {v: {} for v in chosen}
    run_dirs: dict[str, list[str]] = {v: [] for v in chosen}
    names: dict[str, None] = {}
    for _, _, _, f in results:
        names.update(dict.fromkeys(f))
    for variant, _seed, run_dir, f in results:
        run_dirs[variant].append(run_dir)
        for name in names:
            figures[variant].setdefault(name, []).append(f.get(name, math.nan))
    return Comparison(
        scenario=scenario.name,
        variants=tuple(chosen),
        seeds=tuple(int(s) for s in seeds),
        figures=figures,
        run_dirs=run_dirs,
    )


__all__ = [
    "Comparison",
    "Estimate",
    "Figures",
    "compare_variants",
    "default_variants",
    "run_figures",
]
