"""The built-in scenarios shipped with iamd as package data (``scenario/builtin/*.yaml``)."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

DEFAULT_SCENARIO = "western-pacific"
"""Name of the scenario used when none is given."""

_SUFFIX = ".yaml"


def _directory() -> Traversable:
    return resources.files("iamd.scenario").joinpath("builtin")


def builtin_names() -> list[str]:
    """Names of the built-in scenarios, sorted.

    Examples
    --------
    >>> "western-pacific" in builtin_names()
    True
    """
    return sorted(
        entry.name.removesuffix(_SUFFIX)
        for entry in _directory().iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    )


def builtin_origin(name: str) -> str:
    """How a built-in scenario is named in messages and recordings: ``<builtin:NAME>``."""
    return f"<builtin:{name}>"


def builtin_text(name: str) -> str:
    """YAML text of the built-in scenario ``name`` (``KeyError`` if there is none)."""
    if name not in builtin_names():
        raise KeyError(f"no built-in scenario named {name!r}")
    return _directory().joinpath(name + _SUFFIX).read_text(encoding="utf-8")
