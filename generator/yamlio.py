"""Reading YAML safely, with positions, the way Helm reads values files; writing it
deterministically.

Decision on YAML versions: values files are consumed by Helm, whose parser follows YAML 1.1
(`yes`/`on` are booleans, `0755` is octal). We read with PyYAML's safe resolver, which follows the
same rules, so what we check is what Helm will see. Timestamps stay strings (Helm converts YAML
to JSON, where they are strings too). When we write, strings that either version could misread
are quoted, so the files mean the same thing to every parser.

Hostile input is bounded: file size, nesting depth and the number of nodes an alias may expand
to are limited; duplicate keys and tags outside the YAML core schema are errors; nothing is ever
constructed from a tag.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator import repofs
from generator.errors import Location, McgError
from generator.yamlemit import dump as dump_yaml

__all__ = ["Document", "YamlError", "dump_yaml", "load_file", "parse_document", "parse_documents"]

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 128
MAX_NODES = 1_000_000

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
# YAML 1.1 types Helm's parser (and JSON) read as plain strings: timestamps, `=` and a `<<` that
# is a value rather than a merge key
_READ_AS_TEXT = {
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:value",
    "tag:yaml.org,2002:merge",
}
_MAP_TAGS = {"tag:yaml.org,2002:map"}
_SEQ_TAGS = {"tag:yaml.org,2002:seq"}

Path_ = tuple[str | int, ...]


class YamlError(McgError):
    """The file is not YAML we accept; carries the position of the problem."""


@dataclass
class Document:
    """One parsed YAML document: plain data plus where each value and key came from."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # (path, line) of each key that repeated in its mapping, when duplicates were allowed
    duplicate_keys: list[tuple[Path_, int]] = field(default_factory=list)

    def location(self, path: Path_, *, key: bool = False) -> Location:
        """The closest known position of `path` (its key when `key` is set), else of its parent."""
        table = self.key_positions if key else self.positions
        probe = tuple(path)
        while probe:
            if probe in table:
                line, column = table[probe]
                return Location(self.file, line, column)
            if key and probe in self.positions:
                line, column = self.positions[probe]
                return Location(self.file, line, column)
            probe = probe[:-1]
        line, column = self.positions.get((), (1, 1))
        return Location(self.file, line, column)


class _Builder:
    def __init__(self, file: str, record_positions: bool, allow_duplicates: bool = False) -> None:
        self.file = file
        self.record = record_positions
        self.allow_duplicates = allow_duplicates
        self.duplicate_keys: list[tuple[Path_, int]] = []
        self.nodes = 0
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.key_positions: dict[Path_, tuple[int, int]] = {}
        constructor = yaml.SafeLoader("")
        self.constructors = {
            "tag:yaml.org,2002:int": constructor.construct_yaml_int,
            "tag:yaml.org,2002:float": constructor.construct_yaml_float,
            "tag:yaml.org,2002:bool": constructor.construct_yaml_bool,
            "tag:yaml.org,2002:null": constructor.construct_yaml_null,
        }

    def fail(self, node: yaml.Node, message: str, hint: str = "") -> YamlError:
        mark = node.start_mark
        return YamlError(
            message, location=Location(self.file, mark.line + 1, mark.column + 1), hint=hint
        )

    def unsupported_tag(self, node: yaml.Node) -> YamlError:
        return self.fail(
            node,
            f"unsupported tag {node.tag!r}",
            "mcg-gen never constructs objects from tags; remove it or quote the value",
        )

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(
                node,
                f"document expands to more than {MAX_NODES:,} nodes",
                "an alias is likely expanded recursively (a 'billion laughs' document)",
            )
        if depth > MAX_DEPTH:
            raise self.fail(node, f"document is nested deeper than {MAX_DEPTH} levels")
        if self.record:
            self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag not in _SEQ_TAGS:
                raise self.unsupported_tag(node)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        raise self.fail(node, "unsupported YAML node")  # pragma: no cover

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR or tag in _READ_AS_TEXT:  # most scalars: no constructor round trip
            return node.value
        if tag == "tag:yaml.org,2002:binary":
            raise self.fail(node, "binary values are not supported here")
        construct = self.constructors.get(tag)
        if construct is None:
            raise self.unsupported_tag(node)
        try:
            return construct(node)
        except (yaml.YAMLError, ValueError) as error:
            raise self.fail(node, f"invalid scalar: {error}") from None

    def mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[Any, Any]:
        if node.tag not in _MAP_TAGS:
            raise self.unsupported_tag(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = self.build(value_node, path, depth + 1)
                sources = merged if isinstance(merged, list) else [merged]
                for source in sources:
                    if not isinstance(source, dict):
                        raise self.fail(value_node, "a merge key (<<) needs a mapping")
                    for merge_key, merge_value in source.items():
                        result.setdefault(merge_key, merge_value)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "mapping keys must be plain scalars")
            key = self.scalar(key_node)
            if isinstance(key, bool | float) or key is None:
                key = key_node.value  # Helm (via JSON) only has string keys
            if key in result and self.allow_duplicates:
                self.duplicate_keys.append(((*path, key), key_node.start_mark.line + 1))
            elif key in result:
                raise self.fail(
                    key_node,
                    f"duplicate key {key!r}",
                    "YAML keeps only the last one silently; remove or rename one of them",
                )
            if self.record:
                mark = key_node.start_mark
                self.key_positions[(*path, key)] = (mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result


def _compose_all(text: str, file: str) -> Iterator[yaml.Node]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                yield node
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = error.problem or "invalid YAML"
        hint = ""
        if mark and text[mark.index : mark.index + 1] == "\t":
            hint = "YAML does not allow tabs for indentation; use spaces"
        raise YamlError(
            f"invalid YAML: {problem}", location=Location(file, line, column), hint=hint
        ) from None
    except yaml.YAMLError as error:
        raise YamlError(f"invalid YAML: {error}", location=Location(file)) from None
    except RecursionError:
        raise YamlError(
            f"document is nested deeper than {MAX_DEPTH} levels", location=Location(file)
        ) from None
    finally:
        loader.dispose()


def parse_documents(
    text: str, file: str, *, positions: bool = True, allow_duplicate_keys: bool = False
) -> list[Document]:
    """All documents in `text`; `file` names it in errors. Without `positions`, only where each
    document starts is kept. With `allow_duplicate_keys` a repeated key is not an error: the
    last one wins, as Helm and Argo CD read rendered manifests, and each is recorded in the
    document's `duplicate_keys`."""
    documents = []
    for node in _compose_all(text, file):
        builder = _Builder(file, positions, allow_duplicate_keys)
        data = builder.build(node, (), 0)
        if not positions:
            builder.positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        documents.append(
            Document(file, data, builder.positions, builder.key_positions, builder.duplicate_keys)
        )
    return documents


def parse_document(text: str, file: str, *, positions: bool = True) -> Document:
    """Exactly one document (an empty file is an empty document with `None` as data)."""
    documents = parse_documents(text, file, positions=positions)
    if len(documents) > 1:
        raise YamlError("expected a single YAML document, found several", location=Location(file))
    return documents[0] if documents else Document(file, None)


def read_text(path: Path, display: str | None = None, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A text file's content, refusing what is not a regular file, too large, binary or not
    UTF-8 (the bounded reader of `repofs`: a device or FIFO is never read)."""
    name = display or str(path)
    try:
        raw = repofs.read_bytes(path, limit=max_bytes, display=name)
    except repofs.FileTooLarge as error:
        raise YamlError(error.message, location=error.location) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlError(
            "file is UTF-16, not UTF-8",
            location=Location(name),
            hint="save it as UTF-8 (Helm and Argo CD read values files as UTF-8)",
        )
    if b"\x00" in raw:
        raise YamlError("file is binary (contains NUL bytes), not YAML", location=Location(name))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise YamlError(
            f"file is not valid UTF-8 (byte {error.start})", location=Location(name)
        ) from None


def load_file(path: Path, display: str | None = None, *, positions: bool = True) -> Document:
    """Read and parse one YAML file with exactly one document."""
    name = display or str(path)
    return parse_document(read_text(path, name), name, positions=positions)
