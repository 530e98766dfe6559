"""Every malformed scenario under ``malformed/`` fails with exactly the pinned messages.

Each ``NAME.yaml`` is a small complete scenario with one or a few defects (its first lines
say which); ``NAME.expected`` holds the exact lines of the resulting ScenarioError, in the
template ``FILE:LINE: dotted.path: message (got VALUE)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iamd.core.errors import ScenarioError
from iamd.scenario import load_scenario

MALFORMED = Path(__file__).parent / "malformed"
CASES = sorted(path.stem for path in MALFORMED.glob("*.yaml"))


def test_there_are_many_malformed_cases() -> None:
    assert len(CASES) >= 25
    assert sorted(path.stem for path in MALFORMED.glob("*.expected")) == CASES


@pytest.mark.parametrize("case", CASES)
def test_malformed_case_gives_the_expected_messages(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(MALFORMED)
    expected = (MALFORMED / f"{case}.expected").read_text(encoding="utf-8").splitlines()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(f"{case}.yaml")
    assert str(caught.value).splitlines() == expected
    issues = caught.value.issues
    assert all(issue.file == f"{case}.yaml" for issue in issues)
    assert all(issue.line is not None for issue in issues)
    assert [issue.line for issue in issues] == sorted(issue.line or 0 for issue in issues)


@pytest.mark.parametrize("case", CASES)
def test_malformed_case_states_its_defect(case: str) -> None:
    first_line = (MALFORMED / f"{case}.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# Defect")
