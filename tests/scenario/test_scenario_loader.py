"""Loading: line numbers, collecting every issue, and no traceback for any bad input."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamd.core.errors import ScenarioError
from iamd.scenario import load_scenario, load_scenario_text, resolve_scenario

MALFORMED = Path(__file__).parent / "malformed"

TINY = resolve_scenario("test-tiny")[1]


def issues_of(text: str, filename: str = "t.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(text, filename)
    return str(caught.value).splitlines()


def test_text_loader_names_the_string_by_default() -> None:
    with pytest.raises(ScenarioError, match=r"^<string>:1: <root>: the file is empty"):
        load_scenario_text("")


def test_load_accepts_a_path_object(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    assert load_scenario(path).name == "test-tiny"


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + TINY.encode())
    assert load_scenario(path).name == "test-tiny"


NESTED = """\
name: lines
epoch: 2030-06-01T00:00:00Z
duration_s: 100
nations: [{code: USA, name: United States}]
sites:
  - {name: S1, nation: USA, kind: land, lat_deg: 10, lon_deg: 10}
sensors:
  - name: IR
    kind: infrared
    nation: USA
    orbit_lon_deg: 10
    coverage:
      lat_min_deg: 0
      lat_max_deg: 20
      lon_min_deg: 0
      lon_max_deg: -20
    frame_period_s: 1
    line_of_sight_noise_urad: 10
    detection_probability: 0.5
  - {name: R1, kind: radar, site: S1, boresight_azimuth_deg: 0, azimuth_extent_deg: 90,
     elevation_min_deg: 0, elevation_max_deg: 80, range_min_m: 0, range_max_m: 1000,
     revisit_period_s: 1, range_noise_m: 1, azimuth_noise_mrad: 1, elevation_noise_mrad: 1,
     reference_range_m: 500}
  - name: R2
    kind: radar
    site: S1
    boresight_azimuth_deg: 0
    azimuth_extent_deg: 90
    elevation_min_deg: 0
    elevation_max_deg: 80
    range_min_m: 0
    range_max_m: 1000
    revisit_period_s: 1
    range_noise_m: -3
    azimuth_noise_mrad: 1
    elevation_noise_mrad: 1
    reference_range_m: 500
threats:
  - name: CM
    kind: aircraft
    waypoints:
      - {lat_deg: 1, lon_deg: 1}
      - lat_deg: 2
        lon_deg: 200
    speed_mps: 100
    altitude_m: 100
    launch_time_s: 0
    rcs_m2: 1
"""


def test_line_numbers_in_nested_lists() -> None:
    assert issues_of(NESTED) == [
        "t.yaml:16: sensors.0.coverage.lon_max_deg: must be greater than lon_min_deg = 0 (got -20)",
        "t.yaml:34: sensors.2.range_noise_m: must be greater than 0 (got -3)",
        "t.yaml:44: threats.0.waypoints.1.lon_deg: must be less than or equal to 180 (got 200)",
    ]


def test_line_of_a_flow_item_is_where_the_value_is() -> None:
    text = NESTED.replace("range_noise_m: 1, azimuth", "range_noise_m: 0, azimuth")
    assert "t.yaml:22: sensors.1.range_noise_m: must be greater than 0 (got 0)" in issues_of(text)


def test_missing_field_points_at_its_parent() -> None:
    text = NESTED.replace("    detection_probability: 0.5\n", "")
    assert "t.yaml:8: sensors.0.detection_probability: required field is missing" in issues_of(text)


def test_every_issue_is_reported_sorted_by_line() -> None:
    text = (
        TINY.replace("duration_s: 300", "duration_s: 300\nlinks: [a]")
        .replace("nation: JPN, kind: land", "nation: USA, kind: land")
        .replace("interceptor: LOWER-TIER", "interceptor: LOWER")
        .replace("launch_time_s: 20", "launch_time_s: 400")
    )
    lines = issues_of(text)
    assert len(lines) == 1  # a schema error stops the document-wide checks ...
    assert "links.0: must be a mapping (got 'a')" in lines[0]
    lines = issues_of(text.replace("links: [a]", "links: []"))
    assert len(lines) == 3  # ... which then report every problem at once
    numbers = [int(line.split(":")[1]) for line in lines]
    assert numbers == sorted(numbers)
    assert "sites.0.nation: unknown nation" in lines[0]
    assert "shooters.0.interceptor: unknown interceptor type" in lines[1]
    assert "threats.1.launch_time_s: must be before the end" in lines[2]


def test_duplicate_keys_are_reported_with_schema_issues() -> None:
    text = TINY.replace("seed: 7", "seed: 7\nseed: -1")
    assert issues_of(text) == [
        "t.yaml:9: seed: duplicate key; first defined at line 8",
        "t.yaml:9: seed: must be greater than or equal to 0 (got -1)",
    ]


def test_merge_keys_and_anchors_keep_lines() -> None:
    text = TINY.replace(
        "  - name: JPN-Matsue-R\n    kind: radar\n",
        "  - &radar\n    name: JPN-Matsue-R\n    kind: radar\n",
    ).replace(
        "interceptor_types:",
        "  - <<: *radar\n    name: JPN-Matsue-R2\n    range_noise_m: -1\n"
        "    elevation_min_deg: 85\ninterceptor_types:",
    )
    # A key the mapping sets itself is at its own line; a merged one at the anchor's.
    assert issues_of(text) == [
        "t.yaml:24: sensors.1.elevation_max_deg: must be greater than elevation_min_deg = 85 "
        "(got 80)",
        "t.yaml:35: sensors.1.range_noise_m: must be greater than 0 (got -1)",
    ]


def test_recursive_alias_is_refused() -> None:
    assert issues_of("name: &a [*a]\n") == [
        "t.yaml:1: <root>: an alias refers to a node that contains it"
    ]


def test_alias_bomb_is_refused() -> None:
    # Each level lists the previous one ten times: 10**7 nodes from a few lines.
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{chr(97 + level)}: &{chr(97 + level)} [{', '.join([f'*{chr(96 + level)}'] * 10)}]"
        for level in range(1, 7)
    ]
    result = issues_of("\n".join(lines) + "\n")
    assert len(result) == 1
    assert "the document expands to more than 200000 nodes" in result[0]


def test_deep_nesting_is_refused() -> None:
    assert issues_of("a: " + "[" * 2000 + "]" * 2000 + "\n") == [
        "t.yaml:1: <root>: the document is nested too deeply"
    ]


def test_long_values_are_cut() -> None:
    lines = issues_of(TINY.replace("name: test-tiny", "name: " + "x" * 200 + " y"))
    assert lines == [
        "t.yaml:4: name: must be a slug: lowercase letters and digits joined by single '-' "
        "(got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...)"
    ]


def test_huge_numbers_are_issues() -> None:
    lines = issues_of(TINY.replace("duration_s: 300", "duration_s: " + "9" * 400))
    assert len(lines) == 1
    assert lines[0].startswith("t.yaml:7: duration_s: must be")


def test_unsafe_tags_are_refused() -> None:
    lines = issues_of(TINY.replace("seed: 7", "seed: !!python/object/apply:os.system [ls]"))
    assert lines == [
        "t.yaml:8: <root>: invalid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    ]


def test_nul_character_is_an_issue() -> None:
    assert issues_of("name: x\nseed: \x00\n") == [
        "t.yaml:2: <root>: invalid YAML: unacceptable character #x0000: special characters are "
        "not allowed"
    ]


def test_non_text_keys_are_an_issue() -> None:
    assert issues_of("name: x\n? [a, b]\n: 1\n") == [
        "t.yaml:2: <root>: mapping keys must be plain text, not lists or mappings"
    ]


def test_directory_is_an_issue(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path)
    assert str(caught.value) == f"{tmp_path}: <root>: is a directory, not a scenario file"


def test_missing_file_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: <root>: no such file"


def test_binary_file_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "image.yaml"
    path.write_bytes(b"name: x\n\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}:2: <root>: is not UTF-8 text: byte 0x89 at offset 8 cannot be decoded "
        "(a binary file?)"
    )


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(TINY, encoding="utf-8")
    path.chmod(0)
    try:
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
    finally:
        path.chmod(0o600)
    assert str(caught.value) == f"{path}: <root>: cannot be read: permission denied"


def test_special_file_is_an_issue() -> None:
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null")
    with pytest.raises(ScenarioError, match=r"^/dev/null: <root>: is not a regular file$"):
        load_scenario("/dev/null")


# Any text at all gives a scenario or a ScenarioError, never another exception.

BASE = yaml.safe_load((MALFORMED / "many-defects.yaml").read_text(encoding="utf-8"))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.datetimes(),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


def _error_of(text: str) -> ScenarioError | None:
    """The ScenarioError the text raises, or None if it is a valid scenario."""
    try:
        load_scenario_text(text)
    except ScenarioError as error:
        return error
    return None


PATHS = _paths(yaml.safe_load(TINY))[1:]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(PATHS), value=values)
def test_any_replaced_value_gives_a_scenario_or_a_scenario_error(
    where: tuple[object, ...], value: object
) -> None:
    document = yaml.safe_load(TINY)
    node = document
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    text = yaml.safe_dump(document, sort_keys=False)
    error = _error_of(text)
    if error is not None:
        assert error.issues
        assert all(issue.line is not None for issue in error.issues)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_gives_a_scenario_error(text: str) -> None:
    with pytest.raises(ScenarioError):
        load_scenario_text(text)


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(TINY)), junk=st.text(max_size=5))
def test_damaged_builtin_gives_a_scenario_or_a_scenario_error(cut: int, junk: str) -> None:
    error = _error_of(TINY[:cut] + junk + TINY[cut:])
    assert error is None or error.issues


def test_permission_error_is_an_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.yaml"
    path.write_text(TINY, encoding="utf-8")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: <root>: cannot be read: permission denied"


def test_other_os_error_is_an_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "flaky.yaml"
    path.write_text(TINY, encoding="utf-8")

    def fail(self: Path) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Path, "read_bytes", fail)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: <root>: cannot be read: Input/output error"
