"""The engagement stage: interceptor flyout, intercept resolution and kill assessment."""

from iamd.engagement.intercept import (
    InterceptResult,
    assess_kills,
    flyout_positions,
    resolve_intercepts,
)

__all__: list[str] = [
    "InterceptResult",
    "assess_kills",
    "flyout_positions",
    "resolve_intercepts",
]
