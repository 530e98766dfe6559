"""Named, independent random streams derived from one root seed.

Each component asks for its own stream by name; the stream depends only on the root seed and
the name, never on the order in which components are built or on how many draws another
component made. This keeps runs reproducible when a scenario gains or loses a component.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> tuple[int, ...]:
    # A stable hash (Python's hash() is salted per process) split into 32-bit words,
    # used as the SeedSequence spawn key.
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class RandomStreams:
    """Factory of named NumPy generators under one root seed.

    Parameters
    ----------
    seed : int
        Root seed, a non-negative integer.

    Examples
    --------
    >>> streams = RandomStreams(7)
    >>> a = streams.stream("sensor/JPN-1").normal()
    >>> b = RandomStreams(7).stream("sensor/JPN-1").normal()
    >>> a == b
    True
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be non-negative (got {seed})")
        self.seed = int(seed)
        self._issued: set[str] = set()

    def stream(self, name: str) -> np.random.Generator:
        """Return the generator for ``name``; each name may be issued once per run.

        Raises
        ------
        ValueError
            If the name was already issued: two components sharing a stream would couple
            their draws.
        """
        if name in self._issued:
            raise ValueError(f"random stream {name!r} was already issued")
        self._issued.add(name)
        sequence = np.random.SeedSequence(entropy=self.seed, spawn_key=_name_key(name))
        return np.random.Generator(np.random.PCG64(sequence))
