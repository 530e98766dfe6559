"""Registries of implementations keyed by a ``kind`` string, with "did you mean" on a miss."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from iamd.core.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named mapping from ``kind`` (e.g. ``radar.rotating``) to a factory.

    Parameters
    ----------
    role : str
        What the registry holds, used in error messages (e.g. ``"sensor"``).
    """

    def __init__(self, role: str) -> None:
        self.role = role
        self._entries: dict[str, T] = {}

    def register(self, kind: str) -> Callable[[T], T]:
        """Return a decorator that registers its argument under ``kind``."""

        def decorate(entry: T) -> T:
            if kind in self._entries:
                raise RegistryError(f"{self.role} kind {kind!r} is already registered")
            self._entries[kind] = entry
            return entry

        return decorate

    def get(self, kind: str) -> T:
        """Return the entry for ``kind``.

        Raises
        ------
        RegistryError
            If ``kind`` is unknown; the message suggests the closest known kinds.
        """
        try:
            return self._entries[kind]
        except KeyError:
            close = difflib.get_close_matches(kind, self._entries, n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            known = ", ".join(sorted(self._entries)) or "none"
            raise RegistryError(
                f"unknown {self.role} kind {kind!r}{hint} (known: {known})"
            ) from None

    def __contains__(self, kind: object) -> bool:
        return kind in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))
