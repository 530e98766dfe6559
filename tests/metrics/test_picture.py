from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from iamd.core import ConfigurationError, RecordingError
from iamd.metrics import AlignedPicture, TimeAlignment, align_picture, sample_tracks

Build = Callable[[list[dict[str, object]]], pa.Table]


def _truth_rows() -> list[dict[str, object]]:
    # T1 flies along x at 1 km/s, sampled every second from 0 to 4 s.
    return [
        {
            "time_s": float(t),
            "threat": "T1",
            "x_m": 1000.0 * t,
            "y_m": 0.0,
            "z_m": 0.0,
            "vx_mps": 1000.0,
            "vy_mps": 0.0,
            "vz_mps": 0.0,
        }
        for t in range(5)
    ]


def _track(time_s: float, track: int, status: int, x_m: float, node: str = "JPN") -> dict:
    return {
        "time_s": time_s,
        "node": node,
        "track": track,
        "status": status,
        "x_m": x_m,
        "y_m": 0.0,
        "z_m": 0.0,
        "vx_mps": 1000.0,
        "vy_mps": 0.0,
        "vz_mps": 0.0,
    }


@pytest.fixture
def tables(truth_table: Build, tracks_table: Build) -> tuple[pa.Table, pa.Table]:
    tracks = [
        _track(0.5, 7, 1, 500.0),  # tentative
        _track(1.5, 7, 2, 1510.0),  # confirmed, 10 m ahead
        _track(4.0, 7, 3, 4000.0),  # coasting
        _track(2.0, 8, 2, -9e5, node="USA"),  # another node's track
    ]
    return truth_table(_truth_rows()), tracks_table(tracks)


def test_latest_state_is_propagated_at_constant_velocity(tables: tuple[pa.Table, pa.Table]) -> None:
    picture = align_picture(*tables, "JPN", alignment=TimeAlignment(max_age_s=2.0))
    assert picture.times_s.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert picture.truth_ids == ("T1",)
    assert picture.track_ids.tolist() == [7]
    # 0 s: no record yet; 1 s: only the tentative record; 2 s and 3 s: the 1.5 s record
    # moved on by 0.5 s and 1.5 s; 4 s: the coasting record itself.
    assert picture.times_s[picture.track_step].tolist() == [2.0, 3.0, 4.0]
    assert picture.track_states[:, 0].tolist() == [2010.0, 3010.0, 4000.0]
    assert np.all(picture.track_states[:, 3] == 1000.0)
    assert picture.truth_states[:, 0].tolist() == [0.0, 1000.0, 2000.0, 3000.0, 4000.0]


def test_age_limit_drops_stale_tracks(tables: tuple[pa.Table, pa.Table]) -> None:
    picture = align_picture(*tables, "JPN", alignment=TimeAlignment(max_age_s=1.0))
    assert picture.times_s[picture.track_step].tolist() == [2.0, 4.0]


def test_tentative_tracks_on_request(tables: tuple[pa.Table, pa.Table]) -> None:
    alignment = TimeAlignment(max_age_s=2.0, include_tentative=True)
    picture = align_picture(*tables, "JPN", alignment=alignment)
    assert picture.times_s[picture.track_step].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert picture.track_states[0, 0] == 1000.0  # 500 m + 0.5 s × 1 km/s


def test_other_nodes_are_ignored_and_grid_extends_to_track_records(
    truth_table: Build, tracks_table: Build
) -> None:
    tracks = tracks_table([_track(6.0, 9, 2, 0.0), _track(3.0, 1, 2, 0.0, node="USA")])
    picture = align_picture(truth_table(_truth_rows()), tracks, "JPN")
    # 5 s holds neither a threat nor a track of JPN; 6 s holds the false track.
    assert picture.times_s.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 6.0]
    assert picture.track_ids.tolist() == [9]
    assert picture.track_step.tolist() == [5]


def test_a_terminal_status_ends_the_track_at_once(truth_table: Build, tracks_table: Build) -> None:
    # A status outside {1, 2, 3} (e.g. a future "deleted") takes the track out of the picture.
    tracks = tracks_table([_track(1.0, 7, 2, 1000.0), _track(2.0, 7, 4, 2000.0)])
    picture = align_picture(truth_table(_truth_rows()), tracks, "JPN")
    assert picture.times_s[picture.track_step].tolist() == [1.0]


def test_no_track_of_the_node(tables: tuple[pa.Table, pa.Table]) -> None:
    picture = align_picture(*tables, "FRA")
    assert picture.track_step.size == 0
    assert picture.times_s.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_empty_tables(truth_table: Build, tracks_table: Build) -> None:
    picture = align_picture(truth_table([]), tracks_table([]), "JPN")
    assert picture.times_s.size == 0


def test_period_is_inferred_or_checked(truth_table: Build, tracks_table: Build) -> None:
    rows = [row for row in _truth_rows() if row["time_s"] != 2.0]
    picture = align_picture(truth_table(rows), tracks_table([]), "JPN")
    assert picture.times_s.tolist() == [0.0, 1.0, 3.0, 4.0]
    with pytest.raises(ConfigurationError, match=r"truth time 1\.0 s is not on the 2\.0 s"):
        align_picture(
            truth_table(rows), tracks_table([]), "JPN", alignment=TimeAlignment(period_s=2.0)
        )


def test_missing_column_is_named(truth_table: Build, tables: tuple[pa.Table, pa.Table]) -> None:
    with pytest.raises(RecordingError, match="'local_tracks' lacks the columns status"):
        align_picture(tables[0], tables[1].drop_columns(["status"]), "JPN")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_age_s": -1.0}, "max_age_s must be finite and >= 0"),
        ({"period_s": 0.0}, "period_s must be finite and > 0"),
    ],
)
def test_alignment_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TimeAlignment(**kwargs)


def test_later_record_at_the_same_time_wins() -> None:
    states = np.array([[0.0, 0, 0, 0, 0, 0], [5.0, 0, 0, 0, 0, 0]])
    step, _, state = sample_tracks(
        np.array([1.0]),
        np.array([1.0, 1.0]),
        np.array([3, 3]),
        states,
        np.array([True, True]),
        max_age_s=1.0,
    )
    assert step.tolist() == [0]
    assert state[0, 0] == 5.0


def test_picture_rows_are_sorted_and_checked() -> None:
    picture = AlignedPicture(
        times_s=np.array([0.0, 1.0]),
        truth_ids=("A", "B"),
        truth_step=np.array([1, 0, 0]),
        truth_index=np.array([0, 1, 0]),
        truth_states=np.arange(18.0).reshape(3, 6),
        track_ids=np.array([5]),
        track_step=np.array([0]),
        track_index=np.array([0]),
        track_states=np.zeros((1, 6)),
    )
    assert picture.truth_step.tolist() == [0, 0, 1]
    assert picture.truth_index.tolist() == [0, 1, 0]
    assert picture.truth_states[:, 0].tolist() == [12.0, 6.0, 0.0]
    with pytest.raises(ValueError, match="two rows at one step"):
        AlignedPicture(
            times_s=np.array([0.0]),
            truth_ids=("A",),
            truth_step=np.array([0, 0]),
            truth_index=np.array([0, 0]),
            truth_states=np.zeros((2, 6)),
            track_ids=np.empty(0),
            track_step=np.empty(0),
            track_index=np.empty(0),
            track_states=np.empty((0, 6)),
        )
