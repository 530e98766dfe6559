"""Report batches through the guards: the adapter between the wire records and the guards.

The guards work on :class:`~iamd.network.guard.LabelledTracks` (labels, kinematics, sensor
id). A node's outbound side builds a full :class:`~iamd.messages.reports.TrackReports`
batch, shows its labelled view to the guard, and keeps the released rows with the guard's
sanitised state, covariance and sensor id (:func:`released_reports`); the inbound side keeps
the accepted rows (:func:`take_reports`). Everything else in a report travels unchanged.

Measurement batches (:class:`~iamd.messages.reports.MeasurementReports`) go through the same
guards by their own view (:func:`labelled_measurements`), but are never sanitised: a raw
measurement coarsened or stripped of its sensor is no longer a measurement, so the guards run
with ``sanitisable=False`` and deny what would need it. :func:`take_reports` and
:func:`concatenate_reports` work on either kind of batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from iamd.messages.reports import (
    EngagementStatuses,
    MeasurementReports,
    MissileWarnings,
    TrackReports,
)
from iamd.network.guard import LabelledTracks, OutboundRelease

_BATCH_FIELDS = frozenset({"sender", "sent_at", "sequence", "nations"})


def _item_fields(record: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(record) if f.name not in _BATCH_FIELDS)


ITEM_FIELDS: tuple[str, ...] = _item_fields(TrackReports)
"""Names of the per-item array fields of :class:`TrackReports`."""

_FIELDS_OF: dict[type[Any], tuple[str, ...]] = {
    TrackReports: ITEM_FIELDS,
    MeasurementReports: _item_fields(MeasurementReports),
    EngagementStatuses: _item_fields(EngagementStatuses),
    MissileWarnings: _item_fields(MissileWarnings),
}

Batch = TypeVar("Batch", TrackReports, MeasurementReports, EngagementStatuses, MissileWarnings)


def labelled_tracks(reports: TrackReports) -> LabelledTracks:
    """The guards' view of a batch: labels, originator's local track numbers, kinematics.

    The track number the guards audit is the originator's *local* track number: it is unique
    per originator and stays the same for a track's life, while the network number can
    change when numbers are reconciled.
    """
    return LabelledTracks(
        nations=reports.nations,
        track_number=reports.local_track_number,
        originator=reports.originator,
        classification=reports.classification,
        rel_to=reports.rel_to,
        caveats=reports.caveats,
        category=reports.category,
        sensor_id=reports.sensor_id,
        valid_at_s=reports.valid_at,
        state=reports.state,
        covariance=reports.covariance,
    )


def _unsanitisable_view(
    batch: MeasurementReports | EngagementStatuses | MissileWarnings,
    track_number: npt.NDArray[np.int64],
    *,
    category: npt.NDArray[np.int64] | None = None,
    sensor_id: npt.NDArray[np.int64] | None = None,
) -> LabelledTracks:
    """The guards' view of a batch that is never sanitised: its labels, with no kinematics.

    The guards read kinematics only to sanitise, so the state is zero and the covariance
    the identity.
    """
    k = len(batch)
    none = np.zeros(k, np.int64)
    return LabelledTracks(
        nations=batch.nations,
        track_number=track_number,
        originator=batch.originator,
        classification=batch.classification,
        rel_to=batch.rel_to,
        caveats=batch.caveats,
        category=none if category is None else category,
        sensor_id=none if sensor_id is None else sensor_id,
        valid_at_s=batch.valid_at,
        state=np.zeros((k, 6)),
        covariance=np.broadcast_to(np.eye(6), (k, 6, 6)),
    )


def labelled_measurements(reports: MeasurementReports) -> LabelledTracks:
    """The guards' view of a measurement batch (never to be sanitised; module notes).

    The track number audited is the originator's local track that took the detection, so
    that a released measurement counts, like a report of that track, towards what its
    recipient is entitled to hold.
    """
    return _unsanitisable_view(reports, reports.local_track_number, sensor_id=reports.sensor_id)


def labelled_statuses(statuses: EngagementStatuses) -> LabelledTracks:
    """The guards' view of engagement statuses (never sanitised: there is nothing to coarsen).

    The audited track number is the engaged network track number.
    """
    return _unsanitisable_view(statuses, statuses.network_track_number)


def labelled_warnings(warnings: MissileWarnings) -> LabelledTracks:
    """The guards' view of missile warnings (never sanitised), with their threat category.

    The audited track number is the warned missile's network track number.
    """
    return _unsanitisable_view(warnings, warnings.network_track_number, category=warnings.category)


def take_reports(reports: Batch, index: npt.ArrayLike) -> Batch:
    """The items at ``index`` (integer positions or a boolean mask); batch fields unchanged."""
    rows = np.asarray(index)
    fields = _FIELDS_OF[type(reports)]
    items: dict[str, Any] = {name: getattr(reports, name)[rows] for name in fields}
    return dataclasses.replace(reports, **items)


def concatenate_reports(parts: Sequence[Batch]) -> Batch:
    """The items of ``parts`` in order, as one batch with the first part's batch fields.

    Raises
    ------
    ValueError
        If ``parts`` is empty or the parts use different nation tables.
    """
    if not parts:
        raise ValueError("concatenate_reports needs at least one batch")
    first = parts[0]
    if any(part.nations != first.nations for part in parts[1:]):
        raise ValueError("concatenate_reports: every batch must use the same nation table")
    if len(parts) == 1:
        return first
    if any(type(part) is not type(first) for part in parts[1:]):
        raise ValueError("concatenate_reports: every batch must be of the same kind")
    items: dict[str, Any] = {
        name: np.concatenate([getattr(part, name) for part in parts])
        for name in _FIELDS_OF[type(first)]
    }
    return dataclasses.replace(first, **items)


def released_reports(reports: TrackReports, release: OutboundRelease) -> TrackReports:
    """The released rows of ``reports`` as the guard let them out.

    Parameters
    ----------
    reports : TrackReports
        The batch whose :func:`labelled_tracks` view the guard decided on.
    release : OutboundRelease
        The guard's answer for one recipient.

    Returns
    -------
    TrackReports
        One row per released item, with the sanitised state, covariance and sensor id; the
        batch fields (sender, send time, sequence) are those of ``reports``, for the sender to
        stamp when it cuts the rows into messages.
    """
    kept = take_reports(reports, release.index)
    out = release.released
    return dataclasses.replace(
        kept, state=out.state, covariance=out.covariance, sensor_id=out.sensor_id
    )


__all__ = [
    "ITEM_FIELDS",
    "concatenate_reports",
    "labelled_measurements",
    "labelled_statuses",
    "labelled_tracks",
    "labelled_warnings",
    "released_reports",
    "take_reports",
]
