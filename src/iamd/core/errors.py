"""The one exception tree of iamd.

::

    IamdError
    ├── ScenarioError (ValueError)        a scenario file is invalid; carries every issue found
    ├── ConfigurationError (ValueError)   a component was built with inconsistent parameters
    ├── RegistryError (KeyError)          an unknown ``kind`` was asked of a registry
    ├── RecordingError (OSError)          a run directory cannot be written or read
    └── WireError (ValueError)            a network message is malformed or not authentic;
                                          carries a closed ``RejectReason`` (in ``iamd.network``,
                                          because its reasons are the wire format's vocabulary)

Every error raised for bad user input is one of these, so the command line can turn it into a
clear message instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class IamdError(Exception):
    """Root of every error that iamd raises on purpose."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioIssue:
    """One problem found in a scenario file.

    Parameters
    ----------
    file : str
        Path of the file (or ``<builtin:NAME>`` / ``<string>``).
    line : int or None
        1-based line of the offending node, when known.
    path : str
        Dotted field path, with list indices, e.g. ``sensors.2.range_noise_m``.
    message : str
        The rule that was broken.
    value : str or None
        A short representation of the offending value, when there is one.
    """

    file: str
    line: int | None
    path: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        got = f" (got {self.value})" if self.value is not None else ""
        path = self.path or "<root>"
        return f"{where}: {path}: {self.message}{got}"


class ScenarioError(IamdError, ValueError):
    """A scenario file broke one or more rules; ``issues`` lists every one of them."""

    def __init__(self, issues: list[ScenarioIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class ConfigurationError(IamdError, ValueError):
    """A component was configured with values that cannot work together."""


class RegistryError(IamdError, KeyError):
    """An unknown ``kind`` was requested from a registry."""

    def __str__(self) -> str:
        # KeyError quotes its argument; the message reads better without quotes.
        return str(self.args[0]) if self.args else ""


class RecordingError(IamdError, OSError):
    """A run directory is missing, incomplete beyond repair, or cannot be written."""
