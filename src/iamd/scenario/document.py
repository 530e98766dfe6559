"""Reading a YAML document while keeping the line of every node.

PyYAML's safe loader first composes a node tree (each node knows where it starts) and then
constructs Python objects from it. This module walks the tree in between to record the
1-based line of every path (``sensors.2.range_noise_m`` → 41) and to reject what a plain
``yaml.safe_load`` would silently accept: duplicate keys (the last one would win), recursive
aliases and documents that expand to millions of nodes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import yaml

from iamd.core.errors import ScenarioIssue
from iamd.scenario.issues import Path, dotted, format_value

MAX_NODES = 200_000
"""Most nodes a document may expand to (aliases included) before it is refused."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """A parsed YAML document.

    Attributes
    ----------
    data : object
        The constructed Python value, or None when the text could not be used at all.
    lines : dict of path to int
        1-based line of every node: a mapping entry at the line of its key, a list item at
        the line where it starts.
    issues : list of ScenarioIssue
        Problems found while reading (syntax errors, duplicate keys, a non-mapping root).
    """

    data: object
    lines: dict[Path, int] = field(default_factory=dict)
    issues: list[ScenarioIssue] = field(default_factory=list)


class _RefusedError(Exception):
    """The node tree exceeds :data:`MAX_NODES` or recurses through an alias."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def parse_document(text: str, file: str) -> Document:
    """Parse the YAML text of a scenario, recording lines and reading problems.

    Parameters
    ----------
    text : str
        The whole file.
    file : str
        Name of the source, as it appears in messages.

    Returns
    -------
    Document
        ``data`` is a mapping when the document can be validated, None otherwise.
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as error:
        return _failed(file, *_describe_reader_error(error, text))
    try:
        return _parse(loader, text, file)
    except RecursionError:
        return _failed(file, 1, "the document is nested too deeply")
    finally:
        loader.dispose()


def _describe_reader_error(error: yaml.reader.ReaderError, text: str) -> tuple[int, str]:
    """Line and message of a character YAML does not allow (e.g. a NUL byte)."""
    line = text[: error.position].count("\n") + 1
    return line, f"invalid YAML: unacceptable character #x{error.character:04x}: {error.reason}"


def _parse(loader: yaml.SafeLoader, text: str, file: str) -> Document:
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        return _failed(file, *_describe_yaml_error(error))
    except yaml.reader.ReaderError as error:
        return _failed(file, *_describe_reader_error(error, text))
    except yaml.YAMLError as error:
        return _failed(file, 1, f"invalid YAML: {error}")
    if root is None:
        return _failed(file, 1, "the file is empty; a scenario is a mapping of fields")

    lines: dict[Path, int] = {(): root.start_mark.line + 1}
    issues: list[ScenarioIssue] = []
    walker = _Walker(loader, file, lines, issues)
    try:
        walker.walk(root, ())
    except _RefusedError as error:
        return _failed(file, error.line, error.message)
    if walker.unconstructable:
        # Construction would fail on them with a less helpful message and no line.
        return Document(data=None, lines=lines, issues=issues)

    try:
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        return _failed(file, *_describe_yaml_error(error))
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
        # PyYAML lets a few conversion errors through unmarked (e.g. a timestamp whose
        # fields are out of range); the root line is the best we know.
        return _failed(file, lines[()], f"invalid YAML value: {error}")
    if not isinstance(data, dict):
        issue = ScenarioIssue(
            file=file,
            line=lines[()],
            path="",
            message="must be a mapping of scenario fields (name, epoch, duration_s, ...)",
            value=format_value(data),
        )
        return Document(data=None, lines=lines, issues=[*issues, issue])
    return Document(data=data, lines=lines, issues=issues)


def _failed(file: str, line: int, message: str) -> Document:
    return Document(
        data=None, issues=[ScenarioIssue(file=file, line=line, path="", message=message)]
    )


def _describe_yaml_error(error: yaml.MarkedYAMLError) -> tuple[int, str]:
    """Line and message of a YAML syntax error, e.g. ``invalid YAML: found a tab``."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    problem = error.problem or "cannot parse"
    if problem.startswith("but found another document"):
        return line, "invalid YAML: a scenario file holds one document; found a second one"
    if "'\\t'" in problem:
        problem += "; indent with spaces, not tabs"
    context = ""
    if error.context:
        context = f" ({error.context}"
        started = error.context_mark
        if started is not None and mark is not None and started.line != mark.line:
            context += f" started at line {started.line + 1}"
        context += ")"
    return line, f"invalid YAML: {problem}{context}"


class _Walker:
    """Records the line of every node and finds duplicate and non-text keys."""

    def __init__(
        self,
        loader: yaml.SafeLoader,
        file: str,
        lines: dict[Path, int],
        issues: list[ScenarioIssue],
    ) -> None:
        self.loader = loader
        self.key_loader = yaml.SafeLoader("")
        self.file = file
        self.lines = lines
        self.issues = issues
        self.count = 0
        self.unconstructable = False
        self.active: set[int] = set()

    def _key(self, node: yaml.ScalarNode) -> Hashable:
        """A key as pydantic will see it in an error location (``5`` stays an int)."""
        # A separate loader: a failed construction leaves state behind in the loader.
        try:
            key = self.key_loader.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            self.key_loader = yaml.SafeLoader("")
            return str(node.value)  # construction fails again later, and is reported then
        return key if isinstance(key, Hashable) else str(node.value)

    def walk(self, node: yaml.Node, path: Path) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise _RefusedError(
                f"the document expands to more than {MAX_NODES} nodes (through aliases?)",
                node.start_mark.line + 1,
            )
        if id(node) in self.active:
            raise _RefusedError(
                "an alias refers to a node that contains it", node.start_mark.line + 1
            )
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                self._walk_mapping(node, path)
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    self.lines.setdefault((*path, index), item.start_mark.line + 1)
                    self.walk(item, (*path, index))
            elif node.tag == _TIMESTAMP_TAG:
                self._check_timestamp(node, path)
        finally:
            self.active.discard(id(node))

    def _check_timestamp(self, node: yaml.Node, path: Path) -> None:
        """Report a date or time that matches YAML's pattern but does not exist (Feb 30)."""
        try:
            yaml.SafeLoader("").construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
            self.unconstructable = True
            self.issues.append(
                ScenarioIssue(
                    file=self.file,
                    line=node.start_mark.line + 1,
                    path=dotted(path),
                    message=f"not a valid date or time: {error}",
                    value=format_value(node.value),
                )
            )

    def _walk_mapping(self, node: yaml.MappingNode, path: Path) -> None:
        first_line: dict[Hashable, int] = {}
        merged: list[yaml.Node] = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                merged.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.unconstructable = True
                self.issues.append(
                    ScenarioIssue(
                        file=self.file,
                        line=line,
                        path=dotted(path),
                        message="mapping keys must be plain text, not lists or mappings",
                    )
                )
                continue
            key = self._key(key_node)
            child = (*path, key)
            if not isinstance(key, str):
                self.issues.append(
                    ScenarioIssue(
                        file=self.file,
                        line=line,
                        path=dotted(path),
                        message="mapping keys must be text",
                        value=format_value(key),
                    )
                )
            if key in first_line:
                self.issues.append(
                    ScenarioIssue(
                        file=self.file,
                        line=line,
                        path=dotted(child),
                        message=f"duplicate key; first defined at line {first_line[key]}",
                    )
                )
            else:
                first_line[key] = line
            self.lines[child] = line
            self.walk(value_node, child)
        # Keys brought in by a merge (<<: *anchor) are located at the anchor, unless the
        # mapping sets them itself.
        for value_node in merged:
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    self._walk_merged(source, path)

    def _walk_merged(self, node: yaml.MappingNode, path: Path) -> None:
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            child = (*path, self._key(key_node))
            if child not in self.lines:
                self.lines[child] = key_node.start_mark.line + 1
                self.walk(value_node, child)
