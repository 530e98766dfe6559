"""Configuration checks shared by the sensor configs (one error template for all)."""

from __future__ import annotations

import math

from iamd.core.errors import ConfigurationError


def require(condition: bool, *, owner: str, field: str, rule: str, value: object) -> None:
    """Raise :class:`ConfigurationError` naming the sensor, field, rule and value.

    Parameters
    ----------
    condition : bool
        The rule holds.
    owner : str
        Which component, e.g. ``radar 'JPN-FPS5'``.
    field : str
        The configuration field at fault.
    rule : str
        What the field must be, e.g. ``"positive"``.
    value : object
        The offending value.
    """
    if not condition:
        raise ConfigurationError(f"{owner}: {field} must be {rule} (got {value!r})")


def require_positive(value: float, *, owner: str, field: str) -> None:
    """Require a finite, strictly positive number."""
    require(
        math.isfinite(value) and value > 0.0,
        owner=owner,
        field=field,
        rule="a positive number",
        value=value,
    )


def require_finite(value: float, *, owner: str, field: str) -> None:
    """Require a finite number."""
    require(math.isfinite(value), owner=owner, field=field, rule="finite", value=value)
