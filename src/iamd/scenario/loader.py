"""Loading scenarios from files, strings and built-in names, with line-numbered errors.

Every bad input, whether an unreadable path, a binary file, a YAML syntax error, a field
that breaks the schema or a reference to nothing, ends as one
:class:`~iamd.core.errors.ScenarioError` that lists every issue found, sorted by line.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from iamd.core.errors import ScenarioError, ScenarioIssue
from iamd.scenario.catalog import builtin_names, builtin_origin, builtin_text
from iamd.scenario.document import parse_document
from iamd.scenario.issues import did_you_mean, issues_from_validation_error, sort_issues
from iamd.scenario.schema import Scenario
from iamd.scenario.validation import check_scenario

MAX_FILE_BYTES = 10_000_000
"""Largest scenario file read, bytes."""


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read, parse and validate a scenario file.

    Parameters
    ----------
    path : str or path-like
        The YAML file; it appears in messages exactly as given.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        If the file cannot be read, is not UTF-8 YAML, or breaks any rule; the error lists
        every issue as ``FILE:LINE: dotted.path: message (got VALUE)``.
    """
    file = os.fspath(path)
    return load_scenario_text(_read_text(file), file)


def load_scenario_text(text: str, filename: str = "<string>") -> Scenario:
    """Parse and validate a scenario given as YAML text.

    Parameters
    ----------
    text : str
        The YAML document.
    filename : str, optional
        Name used for the source in messages.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        Listing every issue found, sorted by line.

    Examples
    --------
    >>> load_scenario_text("name: x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    iamd.core.errors.ScenarioError: <string>:1: epoch: required field is missing
    <string>:1: duration_s: required field is missing
    <string>:1: nations: required field is missing
    """
    document = parse_document(text, filename)
    issues = list(document.issues)
    if document.data is None:
        raise ScenarioError(sort_issues(issues))
    try:
        scenario = Scenario.model_validate(document.data)
    except ValidationError as error:
        issues += issues_from_validation_error(error, document.data, filename, document.lines)
        raise ScenarioError(sort_issues(issues)) from None
    except RecursionError:
        issues.append(
            ScenarioIssue(
                file=filename, line=1, path="", message="the document is nested too deeply"
            )
        )
        raise ScenarioError(sort_issues(issues)) from None
    issues += check_scenario(scenario, filename, document.lines)
    if issues:
        raise ScenarioError(sort_issues(issues))
    return scenario


def resolve_scenario(name_or_path: str) -> tuple[Scenario, str, str]:
    """Load a built-in scenario by name, or a scenario file by path.

    A built-in name wins over a file of the same name in the working directory.

    Parameters
    ----------
    name_or_path : str
        A name from :func:`builtin_names` or the path of a YAML file.

    Returns
    -------
    scenario : Scenario
        The validated scenario.
    text : str
        Its YAML text, to be kept with a recording.
    origin : str
        Where it came from: the path as given, or ``<builtin:NAME>``.

    Raises
    ------
    ScenarioError
        If ``name_or_path`` is neither a built-in name nor an existing path (with the
        closest built-in names as a hint), or the scenario is invalid.
    """
    names = builtin_names()
    if name_or_path in names:
        origin = builtin_origin(name_or_path)
        text = builtin_text(name_or_path)
    elif os.path.lexists(name_or_path):
        origin = name_or_path
        text = _read_text(name_or_path)
    else:
        hint = did_you_mean(name_or_path, names)
        message = (
            f"no built-in scenario or file of this name{hint} "
            f"(built-in scenarios: {', '.join(names)})"
        )
        raise ScenarioError([ScenarioIssue(file=name_or_path, line=None, path="", message=message)])
    return load_scenario_text(text, origin), text, origin


def _read_text(file: str) -> str:
    """Read a scenario file as UTF-8 text, turning every failure into a ScenarioError."""
    path = Path(file)
    try:
        if path.is_dir():
            raise _unreadable(file, "is a directory, not a scenario file")
        if path.exists() and not path.is_file():
            raise _unreadable(file, "is not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _unreadable(
                file, f"is {size} bytes; a scenario file may have at most {MAX_FILE_BYTES}"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _unreadable(file, "no such file") from None
    except PermissionError:
        raise _unreadable(file, "cannot be read: permission denied") from None
    except OSError as error:
        raise _unreadable(file, f"cannot be read: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        message = (
            f"is not UTF-8 text: byte 0x{raw[error.start]:02x} at offset {error.start} "
            "cannot be decoded (a binary file?)"
        )
        raise ScenarioError(
            [ScenarioIssue(file=file, line=line, path="", message=message)]
        ) from None


def _unreadable(file: str, message: str) -> ScenarioError:
    return ScenarioError([ScenarioIssue(file=file, line=None, path="", message=message)])
