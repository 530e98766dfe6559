"""Turning problems into :class:`~iamd.core.errors.ScenarioIssue` records.

Every issue follows one template, ``FILE:LINE: dotted.path: message (got VALUE)``: this
module formats values, converts pydantic's validation errors into issues (dotted paths with
0-based list indices, union tags stripped, readable messages) and finds the line of a path
in the YAML line map.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

from pydantic import ValidationError

from iamd.core.errors import ScenarioIssue

Path = tuple[Hashable, ...]
"""A location in the scenario document: mapping keys and 0-based list indices."""

LineMap = Mapping[Path, int]
"""1-based line of every node of the document, keyed by its path."""

MAX_VALUE_CHARS = 60
"""Longest representation of an offending value in a message; longer ones are cut."""

_UNION_COLLECTIONS = frozenset({"sensors", "threats"})
"""Top-level lists whose items are unions discriminated by ``kind``."""

_AIM_TAGS = frozenset({"asset", "point"})
"""Tags of the union of a ballistic threat's ``aim``."""


def format_number(value: float) -> str:
    """Write a number the way a person would type it: ``2000`` rather than ``2000.0``.

    Examples
    --------
    >>> format_number(1500000.0), format_number(0.5), format_number(1e-06)
    ('1500000', '0.5', '1e-06')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_value(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """Short, YAML-flavoured representation of a value, cut to ``limit`` characters.

    Examples
    --------
    >>> format_value("JPX"), format_value(None), format_value([1, 2.0, "a"])
    ("'JPX'", 'null', "[1, 2, 'a']")
    """
    text = _represent(value, depth=0)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _represent(value: object, depth: int) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return format_number(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if depth > 3:
        return "..."
    if isinstance(value, Mapping):
        inner = ", ".join(
            f"{k if isinstance(k, str) else _represent(k, depth + 1)}: {_represent(v, depth + 1)}"
            for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_represent(item, depth + 1) for item in value) + "]"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return repr(value)


def dotted(path: Path) -> str:
    """Dotted form of a path, e.g. ``sensors.2.range_noise_m`` (``""`` for the root)."""
    return ".".join(str(part) for part in path)


def line_of(path: Path, lines: LineMap) -> int | None:
    """Line of the node at ``path``, or of its nearest ancestor that is in the file."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``"; did you mean 'X'?"`` hint for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def issue_at(
    file: str, lines: LineMap, path: Path, message: str, value: object = None, *, show: bool = True
) -> ScenarioIssue:
    """Build an issue for the node at ``path``, locating its line in ``lines``.

    Parameters
    ----------
    file : str
        Name of the scenario source, as it appears in messages.
    lines : mapping of path to int
        Line map of the document.
    path : tuple of str and int
        Where the problem is.
    message : str
        The broken rule, phrased as what is required (``must be ...``).
    value : object, optional
        The offending value; formatted with :func:`format_value`.
    show : bool, optional
        Whether to show ``value`` at all; pass False when there is none to show.
    """
    return ScenarioIssue(
        file=file,
        line=line_of(path, lines),
        path=dotted(path),
        message=message,
        value=format_value(value) if show else None,
    )


def sort_issues(issues: Iterable[ScenarioIssue]) -> list[ScenarioIssue]:
    """Issues by line (those without a line first), keeping discovery order within a line."""
    return sorted(issues, key=lambda issue: -1 if issue.line is None else issue.line)


def issues_from_validation_error(
    error: ValidationError, data: object, file: str, lines: LineMap
) -> list[ScenarioIssue]:
    """Convert every error of a pydantic validation into a scenario issue.

    Parameters
    ----------
    error : pydantic.ValidationError
        The failed validation of the whole document.
    data : object
        The document that was validated (used to name the fields an unknown key resembles).
    file : str
        Name of the scenario source.
    lines : mapping of path to int
        Line map of the document.

    Returns
    -------
    list of ScenarioIssue
        One issue per pydantic error, in pydantic's order.
    """
    errors = error.errors(include_url=False)
    paths = [_strip_union_tags(tuple(details["loc"])) for details in errors]
    issues = []
    for details, path in zip(errors, paths, strict=True):
        kind = details["type"]
        value: object = details.get("input")
        # A default that a cross-field rule rejects was never written in the file.
        show = not (path not in lines and (value is None or value == ()))
        context = details.get("ctx") or {}
        if kind == "too_short" and any(
            other[: len(path)] == path and len(other) > len(path) for other in paths
        ):
            continue  # a list is "too short" only because its items failed: they say why
        if kind == "invalid_key":
            continue  # reported with its line while reading the document
        if kind in _TYPE_MESSAGES:
            message = _TYPE_MESSAGES[kind]
        elif kind == "missing":
            message, show = "required field is missing", False
        elif kind == "extra_forbidden":
            message = "unknown field" + _unknown_field_hint(path, data)
        elif kind == "union_tag_invalid":
            path = (*path, "kind")
            message = f"must be one of {context.get('expected_tags', '')}"
            value = context.get("tag")
        elif kind == "union_tag_not_found":
            path = (*path, "kind")
            message, show = "required field is missing", False
        elif kind in {"model_type", "model_attributes_type", "dict_type"}:
            message = "must be a mapping"
        elif kind in {"tuple_type", "list_type"}:
            message = "must be a list"
        elif kind == "too_short":
            count = context.get("min_length", 0)
            message = f"must have at least {count} item{'' if count == 1 else 's'}"
        elif kind == "too_long":
            count = context.get("max_length", 0)
            message = f"must have at most {count} item{'' if count == 1 else 's'}"
        elif kind == "value_error":
            message = str(context.get("error", details["msg"]))
        else:
            message = _rephrase(details["msg"])
        issues.append(issue_at(file, lines, path, message, value, show=show))
    return issues


def _strip_union_tags(loc: Path) -> Path:
    """Remove the tags pydantic inserts after a discriminated union's position.

    ``('sensors', 2, 'radar', 'range_noise_m')`` becomes ``('sensors', 2, 'range_noise_m')``
    and ``('threats', 0, 'ballistic', 'aim', 'point', 'lat_deg')`` becomes
    ``('threats', 0, 'aim', 'lat_deg')``.
    """
    parts = list(loc)
    if len(parts) > 2 and parts[0] in _UNION_COLLECTIONS and isinstance(parts[1], int):
        del parts[2]
        if len(parts) > 3 and parts[0] == "threats" and parts[2] == "aim" and parts[3] in _AIM_TAGS:
            del parts[3]
    return tuple(parts)


def _unknown_field_hint(path: Path, data: object) -> str:
    """Suggest the declared field closest to an unknown key, using the model's field names."""
    if not path or not isinstance(path[-1], str):
        return ""
    if len(path) > 1 and path[-2] == "aim":
        return "; an aim is either {asset: NAME} or {lat_deg, lon_deg, altitude_m}"
    # Imported here: the schema imports this module for its value formatting.
    from iamd.scenario.schema import fields_at

    fields = fields_at(path[:-1], data)
    if path[-1] == "nation" and "site" in fields:
        return "; this belongs to the nation of its site"
    return did_you_mean(path[-1], fields)


_TYPE_MESSAGES = {
    "float_type": "must be a number",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "finite_number": "must be a finite number",
}

_PHRASES: Sequence[tuple[str, str]] = (
    ("Input should be ", "must be "),
    ("String should ", "must "),
    ("Value should ", "must "),
    ("Tuple should ", "must "),
    ("List should ", "must "),
)


def _rephrase(message: str) -> str:
    """Make pydantic's ``Input should be ...`` read like every other rule: ``must be ...``."""
    for old, new in _PHRASES:
        if message.startswith(old):
            return new + message[len(old) :]
    return message[:1].lower() + message[1:]
