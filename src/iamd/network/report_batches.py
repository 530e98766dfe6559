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


def labelled_measurements(reports: MeasurementReports) -> LabelledTracks:
    """The guards' view of a measurement batch (never to be sanitised; module notes).

    The track number audited is the originator's local track that took the detection, so
    that a released measurement counts, like a report of that track, towards what its
    recipient is entitled to hold. The state is the sensor's position at rest with a unit
    covariance: the guards read kinematics only to sanitise, which measurements never are.
    """
    k = len(reports)
    state = np.zeros((k, 6))
    state[:, :3] = reports.sensor_position
    return LabelledTracks(
        nations=reports.nations,
        track_number=reports.local_track_number,
        originator=reports.originator,
        classification=reports.classification,
        rel_to=reports.rel_to,
        caveats=reports.caveats,
        category=np.zeros(k, np.int64),
        sensor_id=reports.sensor_id,
        valid_at_s=reports.valid_at,
        state=state,
        covariance=np.broadcast_to(np.eye(6), (k, 6, 6)),
    )


def labelled_statuses(statuses: EngagementStatuses) -> LabelledTracks:
    """The guards' view of engagement statuses (never sanitised: there is nothing to coarsen).

    The audited track number is the engaged network track number; kinematics are absent
    (zeros, unit covariance), as for measurements.
    """
    k = len(statuses)
    return LabelledTracks(
        nations=statuses.nations,
        track_number=statuses.network_track_number,
        originator=statuses.originator,
        classification=statuses.classification,
        rel_to=statuses.rel_to,
        caveats=statuses.caveats,
        category=np.zeros(k, np.int64),
        sensor_id=np.zeros(k, np.int64),
        valid_at_s=statuses.valid_at,
        state=np.zeros((k, 6)),
        covariance=np.broadcast_to(np.eye(6), (k, 6, 6)),
    )


def labelled_warnings(warnings: MissileWarnings) -> LabelledTracks:
    """The guards' view of missile warnings (never sanitised), with their threat category.

    The audited track number is the warned missile's network track number; kinematics are
    absent (zeros, unit covariance).
    """
    k = len(warnings)
    return LabelledTracks(
        nations=warnings.nations,
        track_number=warnings.network_track_number,
        originator=warnings.originator,
        classification=warnings.classification,
        rel_to=warnings.rel_to,
        caveats=warnings.caveats,
        category=warnings.category,
        sensor_id=np.zeros(k, np.int64),
        valid_at_s=warnings.valid_at,
        state=np.zeros((k, 6)),
        covariance=np.broadcast_to(np.eye(6), (k, 6, 6)),
    )


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
