"""Smoke tests of the `iamd` command: every command, and bad input without tracebacks."""

import json
from pathlib import Path

from typer.testing import CliRunner

from iamd.cli import app

runner = CliRunner()


def test_help_everywhere() -> None:
    for args in (
        [],
        ["--help"],
        ["run", "--help"],
        ["validate", "--help"],
        ["scenarios", "--help"],
        ["show", "--help"],
        ["compare", "--help"],
    ):
        result = runner.invoke(app, args)
        assert "Usage" in result.output, args
        assert result.exit_code in (0, 2)


def test_scenarios_lists_the_builtins() -> None:
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0
    for name in ("western-pacific", "test-tiny", "test-duo"):
        assert name in result.output


def test_run_json_then_show(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "test-tiny", "--seed", "2", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["seed"] == 2
    assert summary["status"] == "complete"
    assert summary["detection"]["threats"] == 2
    shown = runner.invoke(app, ["show", str(out), "--json"])
    assert shown.exit_code == 0
    again = json.loads(shown.output.strip().splitlines()[-1])
    assert again["recording_hash"] == summary["recording_hash"]
    text = runner.invoke(app, ["show", str(out)])
    assert "test-tiny" in text.output


def test_run_refuses_an_existing_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "x").write_text("keep me")
    result = runner.invoke(app, ["run", "test-tiny", "--out", str(out)])
    assert result.exit_code == 1
    assert "exists and is not empty" in result.output
    assert (out / "x").read_text() == "keep me"
    assert "Traceback" not in result.output


def test_unknown_scenario_suggests_a_name() -> None:
    result = runner.invoke(app, ["run", "test-tiyn"])
    assert result.exit_code == 1
    assert "test-tiny" in result.output
    assert "Traceback" not in result.output


def test_bad_arguments_are_usage_errors() -> None:
    result = runner.invoke(app, ["run", "test-tiny", "--seed", "minus"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["run", "test-tiny", "--seed", "-3"])
    assert result.exit_code == 2


def test_validate_reports_problems_and_exit_status(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration_s: -5\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: duration_s:" in result.output
    assert "Traceback" not in result.output


def test_validate_takes_builtin_names_with_a_did_you_mean() -> None:
    result = runner.invoke(app, ["validate", "western-pacific", "test-duo"])
    assert result.exit_code == 0
    assert "western-pacific: ok (western-pacific: 32 threats" in result.output
    result = runner.invoke(app, ["validate", "western-pacfic"])
    assert result.exit_code == 1
    assert "did you mean 'western-pacific'?" in result.output


def test_show_of_a_missing_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "not a run directory" in result.output


def test_compare_prints_a_table_and_json(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = runner.invoke(
        app,
        ["compare", "test-duo", "--seeds", "1", "--duration", "60", "--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert "architecture comparison" in result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["baseline"] == "national"
    assert set(data["variants"]) == {"national", "networked", "measurements", "defended"}


def test_compare_and_run_refuse_an_unknown_variant_without_a_traceback(tmp_path: Path) -> None:
    for args in (
        ["compare", "test-duo", "--variants", "national,nope", "--out", str(tmp_path / "c")],
        ["run", "test-duo", "--variant", "nope", "--out", str(tmp_path / "r")],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, args
        assert "Traceback" not in result.output
        assert "nope" in result.output
