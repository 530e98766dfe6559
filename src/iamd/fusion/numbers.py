r"""Network track numbers: one disjoint block per nation, and reporting responsibility.

A system track is known across the network by one **network track number**. Two public ideas
of tactical data links (Link 16 among them) organise them, and this module implements its own,
documented version of both; no number range, field layout or timer comes from any standard.

Track-number blocks
-------------------
Every nation owns a disjoint block of numbers, ``[first, first + size)``, configured in a
:class:`TrackNumberPlan`. A node that starts a system track from its own sensors takes the next
number of its own block (:class:`TrackNumberBlock`), so two nodes never hand out the same
number for two objects without talking to each other. Numbers are never reused within a run: a
retired number (dropped, or merged into another track) always meant the same track, which is
what lets a recording count number changes. ``0`` is not in any block: on the wire it means
"no number yet".

When two nodes numbered the same object independently, every node keeps the **lower number**
(:func:`surviving_number`). The rule needs nothing but the two numbers, so every node that sees
both reaches the same answer without a negotiation; the nation listed first in the plan (the
lowest block) therefore keeps its numbers in a tie of simultaneous starts.

Reporting responsibility (R2)
-----------------------------
Only one node reports each system track: the one that holds **reporting responsibility**,
ideally the node with the best track quality (0–15, see :mod:`iamd.tracking.quality`). Each node
decides for itself, from its own track's quality and the quality carried by the reports of the
node that reports the track now (:func:`hold_reporting_responsibility`):

* a node with no own track of the object never reports it;
* a node whose own track nobody else reports takes responsibility (first come);
* a node that does not report takes over only when its quality is at least the reporter's plus
  a **hysteresis margin** (2 by default), so two nodes of nearly equal quality do not hand the
  track back and forth at every quality step;
* a node that reports and *receives* a report of the same track from another node (a
  take-over in progress, or two nodes that started it at once) gives up when the other's
  quality is higher, or equal and the other wins a fixed tie-break (the nation code that sorts
  first). Both sides apply the same rule, so exactly one of them keeps it. Only a report
  received since the holder's previous decision challenges it: a node that gave way stops
  reporting, and its last report must not take responsibility away from the holder later.

References
----------
.. [1] Northrop Grumman, *Understanding Voice and Data Link Networking*, 2014 (public overview
   of Link 16: track numbers, track-number blocks, track quality, reporting responsibility).
.. [2] S. S. Blackman and R. Popoli, *Design and Analysis of Modern Tracking Systems*,
   Artech House, 1999 (track reporting between systems, track quality).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from iamd.core.errors import ConfigurationError
from iamd.core.ids import NationCode
from iamd.core.typing import BoolArray, IntArray

PENDING_NUMBER = 0
"""Network track number of a track that has none yet (never in any block)."""

MAX_TRACK_NUMBER = 2**63 - 1
"""Largest network track number (the wire carries a signed 64-bit integer)."""

DEFAULT_BLOCK_SIZE = 100_000
"""Numbers per nation in :meth:`TrackNumberPlan.consecutive` unless told otherwise."""


class TrackNumberBlock:
    """Allocator of one nation's network track numbers: increasing, never reused in a run.

    Parameters
    ----------
    nation : NationCode
        The nation that owns the block.
    first : int
        First number of the block (≥ 1).
    size : int
        How many numbers the block holds (≥ 1).

    Raises
    ------
    ConfigurationError
        If the block is empty, starts below 1 or ends above :data:`MAX_TRACK_NUMBER`.

    Examples
    --------
    >>> block = TrackNumberBlock(nation=NationCode("JPN"), first=2001, size=1000)
    >>> block.allocate(3).tolist(), block.allocate(1).tolist(), block.remaining
    ([2001, 2002, 2003], [2004], 996)
    """

    __slots__ = ("_next", "first", "nation", "size")

    def __init__(self, *, nation: NationCode, first: int, size: int) -> None:
        _check_block(nation, first, size)
        self.nation = nation
        self.first = int(first)
        self.size = int(size)
        self._next = self.first

    @property
    def last(self) -> int:
        """The last number of the block."""
        return self.first + self.size - 1

    @property
    def next_number(self) -> int:
        """The number the next allocation starts with."""
        return self._next

    @property
    def issued(self) -> int:
        """How many numbers have been handed out."""
        return self._next - self.first

    @property
    def remaining(self) -> int:
        """How many numbers are left."""
        return self.size - self.issued

    def allocate(self, count: int = 1) -> IntArray:
        """Hand out ``count`` new numbers, in increasing order.

        Parameters
        ----------
        count : int, optional
            How many system tracks need a number (≥ 0).

        Returns
        -------
        ndarray of int, shape (count,)

        Raises
        ------
        ValueError
            If ``count`` is negative.
        ConfigurationError
            If the block has fewer than ``count`` numbers left: the plan gave this nation too
            small a block for the run (numbers are never recycled).
        """
        if count < 0:
            raise ValueError(f"count must be ≥ 0 (got {count})")
        if count > self.remaining:
            raise ConfigurationError(
                f"track-number block of {self.nation} [{self.first}, {self.last}] is exhausted: "
                f"{count} numbers asked, {self.remaining} left; give it a larger size in the "
                "TrackNumberPlan"
            )
        numbers = np.arange(self._next, self._next + count, dtype=np.int64)
        self._next += count
        return numbers

    def contains(self, numbers: npt.ArrayLike) -> BoolArray:
        """Whether each number lies in this block.

        Parameters
        ----------
        numbers : array_like of int, shape (K,)

        Returns
        -------
        ndarray of bool, shape (K,)
        """
        n = np.asarray(numbers, dtype=np.int64)
        return np.asarray((n >= self.first) & (n <= self.last))

    def __repr__(self) -> str:
        return (
            f"TrackNumberBlock(nation={self.nation!r}, first={self.first}, size={self.size}, "
            f"issued={self.issued})"
        )


def _check_block(nation: NationCode, first: int, size: int) -> None:
    if not (isinstance(first, int | np.integer) and isinstance(size, int | np.integer)):
        raise ConfigurationError(
            f"track-number block of {nation}: first and size must be integers "
            f"(got {first!r}, {size!r})"
        )
    if first < 1 or size < 1 or first + size - 1 > MAX_TRACK_NUMBER:
        raise ConfigurationError(
            f"track-number block of {nation}: need first ≥ 1, size ≥ 1 and a last number "
            f"≤ {MAX_TRACK_NUMBER} (got first={first}, size={size})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackNumberPlan:
    """Which block of network track numbers each nation owns.

    Parameters
    ----------
    blocks : mapping of NationCode to (int, int)
        ``(first, size)`` of each nation's block; blocks must not overlap, and 0 belongs to
        none.

    Raises
    ------
    ConfigurationError
        If a block is empty, starts below 1, runs past :data:`MAX_TRACK_NUMBER`, or overlaps
        another.

    Examples
    --------
    >>> plan = TrackNumberPlan.consecutive([NationCode("USA"), NationCode("JPN")], size=1000)
    >>> plan.blocks[NationCode("JPN")]
    (1001, 1000)
    >>> plan.owner_index([5, 1500, 9999]).tolist(), plan.owner(1500)
    ([0, 1, -1], 'JPN')
    """

    blocks: Mapping[NationCode, tuple[int, int]]
    _starts: IntArray = field(init=False, repr=False, compare=False)
    _ends: IntArray = field(init=False, repr=False, compare=False)
    _order: tuple[NationCode, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        blocks = {NationCode(nation): (int(b[0]), int(b[1])) for nation, b in self.blocks.items()}
        if not blocks:
            raise ConfigurationError("TrackNumberPlan: at least one nation needs a block")
        for nation, (first, size) in blocks.items():
            _check_block(nation, first, size)
        order = sorted(blocks, key=lambda nation: blocks[nation][0])
        starts = np.array([blocks[n][0] for n in order], dtype=np.int64)
        ends = np.array([blocks[n][0] + blocks[n][1] - 1 for n in order], dtype=np.int64)
        overlap = np.flatnonzero(starts[1:] <= ends[:-1])
        if overlap.size:
            a, b = order[overlap[0]], order[overlap[0] + 1]
            raise ConfigurationError(
                f"TrackNumberPlan: the blocks of {a} {blocks[a]} and {b} {blocks[b]} overlap "
                "(blocks are (first, size))"
            )
        object.__setattr__(self, "blocks", MappingProxyType(blocks))
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_ends", ends)
        object.__setattr__(self, "_order", tuple(order))

    @classmethod
    def consecutive(
        cls, nations: Iterable[NationCode], *, size: int = DEFAULT_BLOCK_SIZE, first: int = 1
    ) -> TrackNumberPlan:
        """Blocks of ``size`` numbers, one after the other, in the order of ``nations``.

        Parameters
        ----------
        nations : iterable of NationCode
            The nations, each once; the first gets ``[first, first + size)``.
        size : int, optional
            Numbers per nation (≥ 1).
        first : int, optional
            First number of the first block (≥ 1).

        Raises
        ------
        ConfigurationError
            If a nation repeats or a block is invalid.
        """
        listed = list(nations)
        if len(set(listed)) != len(listed):
            raise ConfigurationError(f"TrackNumberPlan: nations repeat in {listed}")
        return cls(blocks={nation: (first + k * size, size) for k, nation in enumerate(listed)})

    @property
    def nations(self) -> tuple[NationCode, ...]:
        """The nations in increasing order of their blocks (what :meth:`owner_index` indexes)."""
        return self._order

    def block(self, nation: NationCode) -> TrackNumberBlock:
        """A fresh allocator over ``nation``'s block.

        Raises
        ------
        ConfigurationError
            If the plan gives ``nation`` no block.
        """
        if nation not in self.blocks:
            raise ConfigurationError(
                f"TrackNumberPlan: nation {nation!r} has no track-number block "
                f"(planned: {', '.join(self._order)})"
            )
        first, size = self.blocks[nation]
        return TrackNumberBlock(nation=nation, first=first, size=size)

    def owner_index(self, numbers: npt.ArrayLike) -> IntArray:
        """Index into :attr:`nations` of the nation whose block holds each number.

        Parameters
        ----------
        numbers : array_like of int, shape (K,)

        Returns
        -------
        ndarray of int, shape (K,)
            ``-1`` for a number in no block (0 among them).
        """
        n = np.asarray(numbers, dtype=np.int64)
        index = np.searchsorted(self._starts, n, side="right") - 1
        safe = np.clip(index, 0, None)
        inside = (index >= 0) & (n <= self._ends[safe])
        return np.where(inside, index, -1).astype(np.int64)

    def owner(self, number: int) -> NationCode | None:
        """The nation whose block holds ``number``, or None."""
        index = int(self.owner_index([number])[0])
        return self._order[index] if index >= 0 else None


def surviving_number(a: npt.ArrayLike, b: npt.ArrayLike) -> IntArray:
    """The number two tracks of one object keep when they are merged: the lower one.

    A pending number (0) always loses to a real one.

    Parameters
    ----------
    a, b : array_like of int, shape (K,)
        The two tracks' network track numbers (≥ 0).

    Returns
    -------
    ndarray of int, shape (K,)

    Examples
    --------
    >>> surviving_number([7, 0, 12], [3, 9, 0]).tolist()
    [3, 9, 12]
    """
    x = np.asarray(a, dtype=np.int64)
    y = np.asarray(b, dtype=np.int64)
    return np.where(x == PENDING_NUMBER, y, np.where(y == PENDING_NUMBER, x, np.minimum(x, y)))


def hold_reporting_responsibility(
    *,
    held: npt.ArrayLike,
    own_present: npt.ArrayLike,
    own_quality: npt.ArrayLike,
    reporter_present: npt.ArrayLike,
    reporter_quality: npt.ArrayLike,
    reporter_wins_tie: npt.ArrayLike,
    margin: int = 2,
) -> BoolArray:
    """Whether this node holds reporting responsibility for each system track after a decision.

    The rule of the module notes, for ``K`` system tracks at once.

    Parameters
    ----------
    held : array_like of bool, shape (K,)
        Whether this node held responsibility before this decision.
    own_present : array_like of bool, shape (K,)
        Whether this node has its own (local) track of the object.
    own_quality : array_like of int, shape (K,)
        Quality of that local track, 0–15 (ignored where absent).
    reporter_present : array_like of bool, shape (K,)
        Whether another node reports the track now. For a track this node holds: a report
        received since its previous decision; otherwise: a report within the reporter
        timeout (the caller's choice, see the module notes).
    reporter_quality : array_like of int, shape (K,)
        The best quality among those reports, 0–15 (ignored where absent).
    reporter_wins_tie : array_like of bool, shape (K,)
        Whether that reporter wins a tie of equal quality against this node.
    margin : int, optional
        Hysteresis margin of a take-over, in quality steps (≥ 0).

    Returns
    -------
    ndarray of bool, shape (K,)

    Raises
    ------
    ValueError
        If ``margin`` is negative or the arrays do not have one shape.

    Examples
    --------
    A node reports quality 12; this node's own track goes 11, 13, 14 (margin 2):

    >>> hold_reporting_responsibility(
    ...     held=[False] * 3, own_present=[True] * 3, own_quality=[11, 13, 14],
    ...     reporter_present=[True] * 3, reporter_quality=[12] * 3,
    ...     reporter_wins_tie=[False] * 3,
    ... ).tolist()
    [False, False, True]
    """
    if margin < 0:
        raise ValueError(f"margin must be ≥ 0 (got {margin})")
    arrays = [
        np.asarray(held, dtype=bool),
        np.asarray(own_present, dtype=bool),
        np.asarray(own_quality, dtype=np.int64),
        np.asarray(reporter_present, dtype=bool),
        np.asarray(reporter_quality, dtype=np.int64),
        np.asarray(reporter_wins_tie, dtype=bool),
    ]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
        raise ValueError(
            "hold_reporting_responsibility: every argument must have one shape (K,) "
            f"(got {[a.shape for a in arrays]})"
        )
    was_held, own, own_q, other, other_q, other_wins_tie = arrays
    outranked = (other_q > own_q) | ((other_q == own_q) & other_wins_tie)
    keep = was_held & ~(other & outranked)
    # "and not outranked" only matters at margin 0: a take-over the holder would answer by
    # taking the track straight back is no take-over.
    take = ~was_held & (~other | ((own_q >= other_q + margin) & ~outranked))
    return np.asarray(own & (keep | take))


__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "MAX_TRACK_NUMBER",
    "PENDING_NUMBER",
    "TrackNumberBlock",
    "TrackNumberPlan",
    "hold_reporting_responsibility",
    "surviving_number",
]
