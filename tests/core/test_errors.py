from iamd.core import IamdError, RecordingError, ScenarioError, ScenarioIssue


def test_issue_format_names_file_line_path_and_value() -> None:
    issue = ScenarioIssue(
        file="a.yaml",
        line=12,
        path="sensors.2.range_noise_m",
        message="must be greater than 0",
        value="-3",
    )
    assert str(issue) == "a.yaml:12: sensors.2.range_noise_m: must be greater than 0 (got -3)"


def test_issue_without_line_or_value() -> None:
    issue = ScenarioIssue(file="a.yaml", line=None, path="", message="file is empty")
    assert str(issue) == "a.yaml: <root>: file is empty"


def test_errors_subclass_matching_builtins() -> None:
    error = ScenarioError([ScenarioIssue(file="f", line=1, path="x", message="m")])
    assert isinstance(error, IamdError)
    assert isinstance(error, ValueError)
    assert str(error) == "f:1: x: m"
    assert isinstance(RecordingError("r"), OSError)
