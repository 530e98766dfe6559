"""``iamd``: run, validate and inspect scenarios and recordings.

Every error caused by the user's input (a bad scenario, a missing run directory, a bad
argument) is printed as a message and turned into a non-zero exit status; no traceback.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from iamd.core.errors import ConfigurationError, IamdError, ScenarioError
from iamd.scenario import (
    DEFAULT_SCENARIO,
    apply_variant,
    builtin_names,
    resolve_scenario,
)
from iamd.sim import RunOptions, run_scenario, summarise
from iamd.sim.compare import Comparison, compare_variants, default_variants

app = typer.Typer(
    name="iamd",
    help="Networked, multinational integrated air and missile defense testbed.\n\n"
    "Examples:\n\n  iamd run                      # the built-in western-pacific scenario\n\n"
    "  iamd run test-duo --seed 3 --out runs/duo --json\n\n"
    "  iamd validate my-scenario.yaml\n\n  iamd show runs/duo",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_out = Console()
_err = Console(stderr=True)


def _fail(error: IamdError, code: int = 1) -> typer.Exit:
    if isinstance(error, ScenarioError):
        for issue in error.issues:
            _err.print(str(issue), markup=False, highlight=False, soft_wrap=True)
        _err.print(f"{len(error.issues)} problem(s) found", style="red")
    else:
        _err.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _default_run_dir(scenario: str, seed: int) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{scenario}-seed{seed}-{stamp}"


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="Built-in scenario name or path to a scenario YAML file.")
    ] = DEFAULT_SCENARIO,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Root random seed (default: the scenario's seed).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Run directory to create (default: runs/NAME-seedN-TIMESTAMP)."),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(min=0.0, help="Stop after this many simulated seconds.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print a machine-readable summary as the last line of stdout."),
    ] = False,
    variant: Annotated[
        str | None,
        typer.Option(help="Run one of the scenario's variants (listed by `iamd scenarios`)."),
    ] = None,
) -> None:
    """Run a scenario and write its recording.

    Examples: ``iamd run``; ``iamd run test-tiny --seed 2 --out runs/tiny --json``;
    ``iamd run western-pacific --variant national``.
    """
    try:
        model, text, _origin = resolve_scenario(scenario)
        if variant is not None:
            apply_variant(model, variant)  # a bad name fails here, before any output
        actual_seed = model.seed if seed is None else seed
        run_dir = out if out is not None else _default_run_dir(model.name, actual_seed)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:>7.0f}/{task.total:.0f} s"),
            TimeElapsedColumn(),
            console=_err,
            transient=True,
        ) as progress:
            task = progress.add_task(
                f"{model.name} (seed {actual_seed})", total=duration or model.duration_s
            )

            def advance(time_s: float, _total: float) -> None:
                progress.update(task, completed=time_s)

            result = run_scenario(
                model,
                text,
                run_dir,
                options=RunOptions(
                    seed=seed, duration_s=duration, progress=advance, variant=variant
                ),
            )
        summary = summarise(result.run_dir)
    except IamdError as error:
        raise _fail(error) from None
    except KeyboardInterrupt:
        _err.print("interrupted: the recording so far is readable in the run directory")
        raise typer.Exit(130) from None
    _print_summary(summary)
    if as_json:
        print(json.dumps(summary, sort_keys=True, separators=(",", ":")))


@app.command()
def validate(
    files: Annotated[
        list[str], typer.Argument(help="Scenario YAML files or built-in scenario names.")
    ],
) -> None:
    """Check scenarios; print every problem as FILE:LINE: path: message (got VALUE).

    Exit status 0 when every one is valid, 1 otherwise. Example: ``iamd validate a.yaml``
    or ``iamd validate western-pacific``.
    """
    failed = False
    for file in files:
        try:
            model, _text, _origin = resolve_scenario(file)
        except ScenarioError as error:
            _fail(error)
            failed = True
            continue
        _out.print(
            f"{file}: ok ({model.name}: {len(model.expanded_threats())} threats, "
            f"{len(model.sensors)} sensors, {len(model.nations)} nations)",
            markup=False,
            highlight=False,
            # One line per file whatever the path's length: scripts grep it.
            soft_wrap=True,
        )
    if failed:
        raise typer.Exit(1)


@app.command()
def compare(
    scenario: Annotated[
        str, typer.Argument(help="Built-in scenario name or path to a scenario YAML file.")
    ] = DEFAULT_SCENARIO,
    seeds: Annotated[int, typer.Option(min=1, help="Number of seeds per variant.")] = 5,
    first_seed: Annotated[int, typer.Option(min=0, help="First seed; then +1, +2, …")] = 1,
    variants: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated variants, baseline first (default: every declared variant)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for the runs (default: runs/compare-NAME-TIMESTAMP)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Parallel runs (default: one per CPU).")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(min=0.0, help="Stop every run after this many seconds.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the comparison as JSON as the last line of stdout."),
    ] = False,
) -> None:
    """Compare the scenario's variants over seeds: means, 95 % intervals, paired differences.

    Every variant runs with the same seeds (common random numbers); differences to the
    first variant are paired seed by seed. Example: ``iamd compare western-pacific --seeds 5``
    or ``iamd compare test-duo --seeds 3 --variants national,as-written``.
    """
    try:
        model, text, origin = resolve_scenario(scenario)
        chosen = [v.strip() for v in variants.split(",")] if variants else None
        if chosen is not None:
            for name in chosen:
                apply_variant(model, name)  # unknown names fail before any run
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out_dir = out if out is not None else Path("runs") / f"compare-{model.name}-{stamp}"
        if out_dir.exists() and any(out_dir.iterdir()):
            raise ConfigurationError(f"{out_dir}: output directory exists and is not empty")
        names = chosen or default_variants(model)
        total = len(names) * seeds
        done = 0

        def advance(variant: str, seed: int) -> None:
            nonlocal done
            done += 1
            _err.print(f"[{done}/{total}] {variant} seed {seed} done", highlight=False)

        result = compare_variants(
            model,
            text,
            out_dir,
            seeds=list(range(first_seed, first_seed + seeds)),
            variants=chosen,
            workers=workers,
            duration_s=duration,
            filename=str(origin),
            progress=advance,
        )
    except IamdError as error:
        raise _fail(error) from None
    except KeyboardInterrupt:
        _err.print("interrupted: finished runs are readable in the output directory")
        raise typer.Exit(130) from None
    _print_comparison(result)
    if as_json:
        print(json.dumps(result.to_dict(), sort_keys=True, separators=(",", ":")))


def _estimate(mean: float, half: float, digits: int) -> str:
    if not math.isfinite(mean):
        return "—"
    if not math.isfinite(half):
        return f"{mean:,.{digits}f}"
    return f"{mean:,.{digits}f} ± {half:,.{digits}f}"


def _digits(figure: str) -> int:
    """Decimals to show of a comparison figure: fractions 3, times and errors 1, bytes 0."""
    if figure.startswith("network_bytes"):
        return 0
    if figure.startswith(
        ("warning_s", "position_error", "velocity_error", "release_viol", "leakers", "shots")
    ):
        return 1
    return 3


def _print_comparison(result: Comparison) -> None:
    _out.print(
        f"[bold]{result.scenario}[/bold]: {len(result.variants)} variants × "
        f"{len(result.seeds)} seeds ({', '.join(map(str, result.seeds))}); "
        f"mean ± 95 % CI; Δ = paired difference to {result.baseline}",
        highlight=False,
    )
    table = Table("figure", *result.variants, title="architecture comparison")
    for name in result.names():
        digits = _digits(name)
        cells = []
        for variant in result.variants:
            e = result.estimate(variant, name)
            cell = _estimate(e.mean, e.half_width, digits)
            if variant != result.baseline:
                d = result.difference(variant, name)
                if math.isfinite(d.mean):
                    cell += f"\nΔ {_estimate(d.mean, d.half_width, digits)}"
            cells.append(cell)
        table.add_row(name, *cells)
    _out.print(table)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios (the default is marked)."""
    for name in builtin_names():
        model, _text, _origin = resolve_scenario(name)
        mark = " (default)" if name == DEFAULT_SCENARIO else ""
        _out.print(
            f"[bold]{name}[/bold]{mark}: {model.duration_s:.0f} s, nations "
            f"{' '.join(n.code for n in model.nations)}, {len(model.sensors)} sensors, "
            f"{len(model.expanded_threats())} threats",
            highlight=False,
        )
        if model.description:
            _out.print(f"    {model.description}", markup=False, highlight=False)
        if model.variants:
            _out.print(
                f"    variants: {', '.join(v.name for v in model.variants)}",
                markup=False,
                highlight=False,
            )


@app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `iamd run`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summarise a recording. Example: ``iamd show runs/western-pacific-seed1-…``."""
    try:
        summary = summarise(run_dir)
    except IamdError as error:
        raise _fail(error) from None
    if as_json:
        print(json.dumps(summary, sort_keys=True, separators=(",", ":")))
    else:
        _print_summary(summary)


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def _print_summary(summary: dict[str, Any]) -> None:
    figures = summary["detection"]
    _out.print(
        f"[bold]{summary['scenario']}[/bold]  seed {summary['seed']}  "
        f"status {summary['status']}  {summary['run_dir']}",
        highlight=False,
    )
    _out.print(
        f"simulated {_fmt(summary['duration_s'], ' s')} in "
        f"{_fmt(summary['wall_time_s'], ' s')} wall "
        f"(×{_fmt(summary['speedup'])})",
        highlight=False,
    )
    detected = figures["threats_detected_by_category"]
    categories = ", ".join(
        f"{detected[k]}/{n} {k.replace('_', ' ')}"
        for k, n in figures["threats_by_category"].items()
    )
    _out.print(
        f"threats detected {figures['threats_detected']}/{figures['threats']} ({categories}); "
        f"detections {figures['detections']:,} of which false alarms "
        f"{figures['false_alarms']:,}; median first-detection latency "
        f"{_fmt(figures['median_latency_s'], ' s')}",
        highlight=False,
    )
    nations = Table("nation", "threats detected", "median latency")
    for row in figures["nations"]:
        nations.add_row(
            row["nation"],
            f"{row['threats_detected']}/{row['threats']}",
            _fmt(row["median_latency_s"], " s"),
        )
    _out.print(nations)
    sensors = Table("sensor", "nation", "kind", "detections", "false alarms", "threats seen")
    for row in figures["sensors"]:
        sensors.add_row(
            row["sensor"],
            row["nation"],
            row["kind"],
            f"{row['detections']:,}",
            f"{row['false_alarms']:,}",
            str(row["threats_detected"]),
        )
    _out.print(sensors)
    if summary.get("tracking"):
        _print_tracking(summary["tracking"], "each node's local tracks (own sensors only)")
    if summary.get("picture"):
        _print_tracking(summary["picture"], "each node's air picture (fused from every source)")
    if summary.get("network"):
        _print_network(summary["network"], summary.get("release_violations"))
    _print_defense(summary.get("defense"), summary.get("authority_violations"))
    if summary.get("recording_hash"):
        _out.print(f"recording hash {summary['recording_hash'][:16]}…", highlight=False)


def _print_tracking(nodes: list[dict[str, Any]], what: str) -> None:
    table = Table(
        "node",
        "tracks",
        "complete",
        "ambig.",
        "spurious",
        "pos. m",
        "vel. m/s",
        "TN chg",
        "GOSPA m",
        title=f"{what}: SIAP attributes, mean GOSPA",
    )
    for node in nodes:
        siap = node["siap"]
        table.add_row(
            node["node"],
            str(siap["tracks"]),
            _fmt(siap["completeness"], "", 3),
            _fmt(siap["ambiguity"], "", 3),
            _fmt(siap["spuriousness"], "", 3),
            _fmt(siap["position_accuracy_m"], "", 0),
            _fmt(siap["velocity_accuracy_mps"], "", 0),
            str(siap["track_number_changes"]),
            _fmt(node["mean_gospa_m"], "", 0),
        )
    _out.print(table)


def _print_network(network: dict[str, Any], violations: int | None) -> None:
    common = network["commonality"]
    pairs = "; ".join(
        f"{'-'.join(p['nations'])} {_fmt(p['commonality'], '', 3)}" for p in common["pairwise"]
    )
    _out.print(
        f"commonality {_fmt(common['commonality'], '', 3)} over "
        f"{common['object_times']:,} shared object-seconds (pairwise: {pairs or '—'}); "
        f"network numbers per object "
        f"{_fmt(max(common['numbers_per_object'].values(), default=None))} at most; "
        f"coalition completeness {_fmt(network['coverage']['coalition_completeness'], '', 3)}",
        highlight=False,
    )
    staleness = {row["node"]: row for row in network["staleness"]}
    warning = {row["node"]: row for row in network["warning"]}
    nations = Table(
        "node",
        "coverage",
        "own share",
        "warning s",
        "own-sensor warning s",
        "staleness s (mean/p95)",
        title="what each nation's picture holds of the coalition's (release coverage)",
    )
    for row in network["coverage"]["nations"]:
        node = row["node"]
        stale = staleness.get(node)
        warn = warning.get(node)
        nations.add_row(
            node,
            _fmt(row["coverage"], "", 3),
            _fmt(row["own_share"], "", 3),
            _fmt(warn["picture"]["mean_warning_s"] if warn else None, "", 0),
            _fmt(warn["own"]["mean_warning_s"] if warn else None, "", 0),
            f"{_fmt(stale['mean_s'])}/{_fmt(stale['p95_s'])}" if stale else "—",
        )
    _out.print(nations)
    if network["links"]:
        links = Table(
            "link",
            "messages",
            "delivered",
            "drops",
            "delay s (mean/p95)",
            "reports/s",
            title="links",
        )
        for row in network["links"]:
            drops = ", ".join(f"{k} {v}" for k, v in row["drops"].items() if v) or "—"
            links.add_row(
                f"{row['sender']}→{row['receiver']}",
                f"{row['messages']:,}",
                _fmt(row["delivered_fraction"], "", 3),
                drops,
                f"{_fmt(row['mean_delay_s'], '', 2)}/{_fmt(row['p95_delay_s'], '', 2)}",
                _fmt(row["reports_per_s"], "", 2),
            )
        _out.print(links)
    if network["releases_by_originator"]:
        releases = Table(
            "originator",
            "to",
            "released",
            "sanitised",
            "denied (by reason)",
            title="release decisions (every hop, by whose data it was)",
        )
        for row in network["releases_by_originator"]:
            reasons = ", ".join(f"{k} {v}" for k, v in row["denials"].items() if v)
            releases.add_row(
                row["sender"],
                row["recipient"],
                f"{row['released']:,}",
                f"{row['sanitised']:,}",
                f"{row['denied']:,}" + (f" ({reasons})" if reasons else ""),
            )
        _out.print(releases)
    for row in network.get("warnings") or []:
        _out.print(
            f"missile warnings to {row['node']}: {row['warnings']:,} for {row['missiles']} "
            f"missiles; {row['threats_warned']} ballistic threats warned of, mean lead "
            f"{_fmt(row['mean_lead_s'], ' s')} before impact",
            highlight=False,
            soft_wrap=True,
        )
    rejected = sum(row["rejected"] for row in network["rejects"])
    _out.print(
        f"release violations {_fmt(violations)} (invariant checker); "
        f"messages rejected by inbound gates {rejected:,}",
        highlight=False,
    )


def _print_defense(defense: dict[str, Any] | None, violations: int | None) -> None:
    """The defense outcome: leakers, asset survival, shots by nation."""
    if not defense:
        return
    hit = ", ".join(defense["assets_hit"]) or "none"
    _out.print(
        f"defense: {defense['destroyed']} of {defense['missiles']} missiles destroyed, "
        f"{defense['leakers']} leakers ({defense['in_flight_at_end']} still flying at the end); "
        f"assets hit: {hit}; value-weighted survival "
        f"{_fmt(defense['value_weighted_survival'], '', 3)}",
        highlight=False,
        soft_wrap=True,
    )
    if not defense["by_nation"]:
        return
    table = Table("nation", "shots", "kills", "wasted", "shots/kill", title="engagements")
    for row in defense["by_nation"]:
        table.add_row(
            row["nation"],
            f"{row['shots']:,}",
            f"{row['kills']:,}",
            f"{row['wasted']:,}",
            _fmt(row["shots_per_kill"], "", 2),
        )
    _out.print(table)
    magazines = defense.get("magazines") or []
    if magazines:
        empty = [m for m in magazines if m["empty_at_s"] is not None]
        delivered = sum(m["delivered"] for m in magazines)
        first = min((m["empty_at_s"] for m in empty), default=None)
        _out.print(
            f"magazines: {sum(m['ready_at_end'] + m['depot_at_end'] for m in magazines):,} of "
            f"{sum(m['ready_at_start'] + m['depot_at_start'] for m in magazines):,} rounds left "
            f"(+{delivered:,} produced); {len(empty)} of {len(magazines)} batteries ran dry"
            + (f", the first at {_fmt(first, ' s')}" if first is not None else ""),
            highlight=False,
            soft_wrap=True,
        )
    chain = defense.get("kill_chain") or {}
    steps = [
        ("launch_to_detection", "detect"),
        ("detection_to_firm_track", "firm track"),
        ("firm_track_to_decision", "decide"),
        ("decision_to_interceptor_launch", "launch"),
        ("interceptor_launch_to_intercept", "fly"),
        ("intercept_to_assessment", "assess"),
    ]
    parts = [
        f"{label} {_fmt(chain['intervals'][key]['mean_s'], ' s')}"
        for key, label in steps
        if key in chain.get("intervals", {})
    ]
    if parts:
        _out.print(
            "kill chain (mean per threat): " + " → ".join(parts), highlight=False, soft_wrap=True
        )
    _out.print(
        f"cross-nation requests {defense['requests_sent']} sent, "
        f"{defense['requests_accepted']} accepted, {defense['requests_declined']} declined, "
        f"{defense['shots_on_request']} shots on request; "
        f"double engagements {defense['double_engagements']}; engagement-authority "
        f"violations {_fmt(violations)} (invariant checker)",
        highlight=False,
        soft_wrap=True,
    )


def main() -> None:
    """Entry point of the ``iamd`` console script."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)
