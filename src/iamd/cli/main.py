"""``iamd``: run, validate and inspect scenarios and recordings.

Every error caused by the user's input (a bad scenario, a missing run directory, a bad
argument) is printed as a message and turned into a non-zero exit status; no traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from iamd.core.errors import IamdError, ScenarioError
from iamd.scenario import DEFAULT_SCENARIO, builtin_names, resolve_scenario
from iamd.sim import RunOptions, run_scenario, summarise

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
) -> None:
    """Run a scenario and write its recording.

    Examples: ``iamd run``; ``iamd run test-tiny --seed 2 --out runs/tiny --json``.
    """
    try:
        model, text, _origin = resolve_scenario(scenario)
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
                options=RunOptions(seed=seed, duration_s=duration, progress=advance),
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
        _print_tracking(summary["tracking"])
    if summary.get("recording_hash"):
        _out.print(f"recording hash {summary['recording_hash'][:16]}…", highlight=False)


def _print_tracking(nodes: list[dict[str, Any]]) -> None:
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
        title="each node's local air picture (SIAP attributes, mean GOSPA)",
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


def main() -> None:
    """Entry point of the ``iamd`` console script."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)
