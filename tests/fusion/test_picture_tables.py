"""The air picture's tables: buffered appends and lazy removal change no output.

``_Columns.append`` writes into spare room behind each column instead of copying the table,
and ``AirPicture._remove_rows`` leaves removed contributions in place, inert, until an
eighth of the table is removed. Both are bookkeeping only: a run of the fusion benchmark's
scene (``bench/fusion.py``, tiny) gives bit-identical snapshots and reports with the eager
reference (copy at every append, compact at every removal).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import iamd.fusion.picture as picture_module
from iamd.fusion.picture import _Contributions, _Tracks

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

# The scene lives with the benchmark that uses it at scale.
import fusion as fusion_bench


def eager_append(self: Any, **columns: Any) -> Any:
    first = len(self)
    for name in self.names:
        old = getattr(self, name)
        setattr(self, name, np.concatenate([old, np.asarray(columns[name], dtype=old.dtype)]))
    return np.arange(first, len(self), dtype=np.int64)


def eager_remove_rows(self: Any, rows: Any) -> None:
    keep = np.ones(len(self._rows), bool)
    keep[rows] = False
    self._rows.keep(keep)


def run_scene(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every snapshot and every ``reports_due`` of one small benchmark run."""
    outputs: list[Any] = []

    class Recording(fusion_bench.AirPicture):  # type: ignore[misc]
        def snapshot(self, now: float) -> Any:
            outputs.append(super().snapshot(now))
            return outputs[-1]

        def reports_due(self, now: float) -> Any:
            outputs.append(super().reports_due(now))
            return outputs[-1]

    monkeypatch.setattr(fusion_bench, "AirPicture", Recording)
    scene = fusion_bench.make_scene(objects=300, sources=8, rate=150.0, minutes=2.0, seed=4)
    fusion_bench.run_picture(scene, seed=4)
    return outputs


def test_buffered_appends_and_lazy_removal_change_no_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compactions: list[int] = []
    keep = _Contributions.keep

    def counted_keep(self: Any, mask: Any) -> Any:
        compactions.append(len(self))
        return keep(self, mask)

    with monkeypatch.context() as patch:
        # Compact after a few removals, so that a short run compacts many times.
        patch.setattr(picture_module, "_MIN_COMPACTION", 4)
        patch.setattr(picture_module, "_COMPACTION_SHARE", 100)
        patch.setattr(_Contributions, "keep", counted_keep)
        lazy = run_scene(patch)
    with monkeypatch.context() as patch:
        patch.setattr(picture_module._Columns, "append", eager_append)
        patch.setattr(picture_module.AirPicture, "_remove_rows", eager_remove_rows)
        eager = run_scene(patch)
    assert len(compactions) >= 5
    assert len(lazy) == len(eager) > 0
    for ours, reference in zip(lazy, eager, strict=True):
        assert type(ours) is type(reference)
        for field in dataclasses.fields(ours):
            value, expected = getattr(ours, field.name), getattr(reference, field.name)
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, expected, err_msg=field.name)
            else:
                assert value == expected, field.name


def test_append_fills_spare_room_and_never_moves_old_rows() -> None:
    tracks = _Tracks()
    rows = {name: getattr(tracks, name) for name in tracks.names}

    def some(count: int, start: int) -> dict[str, Any]:
        return {
            name: np.full((count, *value.shape[1:]), start, dtype=value.dtype)
            for name, value in rows.items()
        }

    assert tracks.append(**some(3, 1)).tolist() == [0, 1, 2]
    first_ids = tracks.id
    assert tracks.append(**some(2, 7)).tolist() == [3, 4]
    # The earlier view still shows the earlier rows; the new one shares their memory.
    assert first_ids.tolist() == [1, 1, 1]
    assert tracks.id.tolist() == [1, 1, 1, 7, 7]
    assert np.shares_memory(first_ids, tracks.id)
    # A column replaced by another array moves to a new buffer on the next append.
    tracks.holds = np.ones(5, bool)
    tracks.append(**some(1, 0))
    assert tracks.holds.tolist() == [True] * 5 + [False]
    assert len(tracks) == 6
    assert tracks.covariance.shape == (6, 6, 6)
    with pytest.raises(ValueError, match="column state"):
        tracks.append(**{**some(1, 0), "state": np.zeros((1, 3))})


def test_a_column_replaced_by_another_view_of_its_buffer_is_copied() -> None:
    tracks = _Tracks()
    rows = {name: getattr(tracks, name) for name in tracks.names}
    tracks.append(**{name: np.zeros((4, *v.shape[1:]), v.dtype) for name, v in rows.items()})
    tracks.id[:] = [1, 2, 3, 4]
    tracks.keep(np.ones(4, bool))
    tracks.append(**{name: np.zeros((1, *v.shape[1:]), v.dtype) for name, v in rows.items()})
    tracks.id = tracks.id[::2]  # a strided view of the same buffer, not its front
    for name in tracks.names:
        if name != "id":
            setattr(tracks, name, getattr(tracks, name)[[0, 2, 4]])
    tracks.append(**{name: np.full((1, *v.shape[1:]), 9, v.dtype) for name, v in rows.items()})
    assert tracks.id.tolist() == [1, 3, 0, 9]
