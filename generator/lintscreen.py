"""Proving that `helm lint` has nothing to say about a chart, without asking it.

`helm lint` costs about 2 ms per rendered object: for every object its deprecation rule builds
Kubernetes' whole type registry anew (helm pkg/chart/v2/lint/rules/deprecations.go). On a
pattern with hundreds of application charts that is half of a cold `validate`. Almost every
chart is clean, and for a clean chart lint's answer is fixed: the two notices "icon is
recommended" and "values.yaml: file does not exist" where they apply. This module decides, from
the chart's files and one render with lint's inputs, whether a chart is certainly clean.

A screen, never a second linter: every question has three answers, clean, dirty and "not sure",
and only "clean" is trusted; anything else sends the chart to the real `helm lint`, whose
messages are then reported as they are. So the screen may be narrow (charts with dependencies,
CRDs, maintainers or an icon that is not a plain https URL are always linted for real), but it
must never call a chart clean that lint would report. Each rule below names the lint rule it
stands in for; tests/test_lint_screen.py compares the screen with the real lint on every case.

Lint renders with the release "test-release", an empty namespace, IsInstall false and
revision 0; a render without a cluster can only give the namespace "default", IsInstall true
and revision 1. So a chart whose files mention `Release` other than as `.Release.Name` or
`.Release.Service` is linted for real. Lint's render also turns `required` and `fail` into
no-ops; a render that does not fail never reached either, so its output is lint's output.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from generator import yamlio

LINT_RELEASE = "test-release"  # the release name helm lint renders with

# Chart.yaml fields whose values the screen understands; any other field is linted for real.
_PLAIN_FIELDS = {"apiVersion", "name", "version", "description", "type", "appVersion", "home"}
_LIST_FIELDS = {"keywords"}
# an icon URL lint's validateChartIconURL (govalidator.IsRequestURL) certainly accepts
_ICON = re.compile(
    r"https://[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+(/[A-Za-z0-9._~-]+)*/?"
)
_MAP_FIELDS = {"annotations"}
_CHART_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# SemVer 2 without pre-release or build: lint's two version rules both accept it
_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_APP_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
# Entries of a chart folder that bring in lint rules the screen does not model.
_UNMODELLED = ("charts", "crds", "requirements.yaml", "requirements.lock")
_TEMPLATE_EXTENSIONS = (".yaml", ".yml", ".tpl", ".txt")  # lint's allowed extensions, exact case
_YAML_EXTENSIONS = (".yaml", ".yml")
# `Release` anywhere but in these two forms: a value lint renders differently
_OTHER_RELEASE_FIELD = re.compile(rb"Release(?!\.(?:Name|Service)\b)")
# YAML floats JSON cannot carry; Helm's YAML-to-JSON step refuses them
_NON_FINITE = re.compile(r"\.(?:inf|Inf|INF|nan|NaN|NAN)\b")
_SEPARATOR_REST = re.compile(r"[ \t\r\v\f]*(#.*)?")

# Object names valid under every name rule of lint's validateMetadataName (DNS-1123 subdomain,
# DNS-1123 and DNS-1035 labels, path segments); a Service or Namespace needs a label.
_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_KINDS = {"service", "namespace"}
_SELECTOR_KINDS = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"}
_PROBE_API_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{0,252}")
_PROBE_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]{0,99}")

GroupVersionKind = tuple[str, str]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_NODES = 1_000_000  # as yamlio's bound: a larger document is linted for real
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"  # text to Helm's YAML-to-JSON step
_CORE_TAGS = {
    _STR,
    _NULL,
    _MERGE,
    _TIMESTAMP,
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


def chart_notices(chart_dir: Path) -> list[tuple[str, str]] | None:
    """The (path, message) notices `helm lint` gives a chart whose Chart.yaml and values.yaml
    the screen understands, or None when it does not: lint's Chartfile, Values, Dependencies
    and Crds rules then have something to check that the screen leaves to Helm. A values
    schema is the caller's to check, with Helm's validator (`validate_schema`)."""
    try:
        with os.scandir(chart_dir) as listing:
            entries = {entry.name: entry for entry in listing}
    except OSError:
        return None
    if any(name in entries for name in _UNMODELLED) or "templates" not in entries:
        return None
    if not entries["templates"].is_dir(follow_symlinks=False):
        return None
    metadata = _plain_yaml(chart_dir / "Chart.yaml")
    if not isinstance(metadata, dict) or not _plain_metadata(metadata):
        return None
    icon = metadata.get("icon")
    notices = [] if icon else [("Chart.yaml", "icon is recommended")]
    values = entries.get("values.yaml")
    if values is None:
        notices.append(("values.yaml", "file does not exist"))
    elif not values.is_file(follow_symlinks=False):
        return None
    else:
        data = _plain_yaml(chart_dir / "values.yaml")
        if data is _NOT_PLAIN or not (data is None or isinstance(data, dict)):
            return None
        if data is not None and _holds_null(data):
            return None  # lint's two schema checks would see different values
    if not _release_fields_plain(chart_dir):
        return None
    return notices


def _plain_metadata(metadata: Mapping[Any, Any]) -> bool:
    """Chart.yaml holds only fields the screen knows, each with a value lint accepts."""
    for key, value in metadata.items():
        if key in _PLAIN_FIELDS:
            if not isinstance(value, str):
                return False
        elif key == "icon":
            if not isinstance(value, str) or _ICON.fullmatch(value) is None:
                return False
        elif key in _LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                return False
        elif key in _MAP_FIELDS:
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                return False
        else:
            return False
    version = metadata.get("version", "")
    return (
        metadata.get("apiVersion") == "v2"
        and _CHART_NAME.fullmatch(metadata.get("name", "")) is not None
        and _VERSION.fullmatch(version) is not None
        and version != "0.0.0"
        and metadata.get("type", "application") == "application"
        and _APP_VERSION.fullmatch(metadata.get("appVersion", "1")) is not None
    )


_NOT_PLAIN = object()


def _plain_yaml(path: Path) -> Any:
    """The one document of a regular file, read as Helm reads it (no duplicate keys, no tags,
    no non-finite floats), or `_NOT_PLAIN`."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return _NOT_PLAIN
        text = yamlio.read_text(path)
        if _NON_FINITE.search(text) or _single_node(text) is _NOT_PLAIN:
            return _NOT_PLAIN
        return yamlio.parse_document(text, str(path), positions=False).data
    except (OSError, yamlio.YamlError, UnicodeDecodeError):
        return _NOT_PLAIN


def _release_fields_plain(chart_dir: Path) -> bool:
    """No file of the chart (templates, values, files a template may `tpl`) names a release
    field other than Name and Service, and none is a link or anything but a regular file."""
    for folder, subfolders, files in os.walk(chart_dir):
        for name in subfolders:
            if Path(folder, name).is_symlink():
                return False
        for name in files:
            path = Path(folder, name)
            try:
                status = path.lstat()
                if not stat.S_ISREG(status.st_mode) or status.st_size > yamlio.MAX_FILE_BYTES:
                    return False
                if _OTHER_RELEASE_FIELD.search(path.read_bytes()):
                    return False
            except OSError:
                return False
    return True


def template_names_plain(names: Iterable[str]) -> bool:
    """Every template has an extension lint allows (its validateAllowedExtension)."""
    return all(name.endswith(_TEMPLATE_EXTENSIONS) for name in names)


def rendered_kinds(
    chart_name: str, template_names: Iterable[str], rendered: Mapping[str, str]
) -> set[GroupVersionKind] | None:
    """The (apiVersion, kind) of every object the chart's YAML templates render, when lint's
    per-template rules (indent, YAML, metadata name, selector, List annotations) certainly
    pass; None when they may not. Deprecated APIs are the caller's: see `probe_templates`."""
    kinds: set[GroupVersionKind] = set()
    for name in template_names:
        if not name.endswith(_YAML_EXTENSIONS):
            continue
        content = rendered.get(f"{chart_name}/{name}", "")
        found = _template_kinds(content)
        if found is None:
            return None
        kinds |= found
    return kinds


def _template_kinds(content: str) -> set[GroupVersionKind] | None:
    if not content.strip(" \t\n\r\v\f"):
        return set() if not content.strip() else None
    if _NON_FINITE.search(content):
        return None
    lines = content.split("\n")
    if any(len(line) > 60_000 for line in lines):
        return None  # lint's line scanner gives up on long lines
    first = next(line for line in lines if line.strip(" \t\n\r\v\f"))
    if first.startswith((" ", "\t")) or first.lstrip().startswith("{"):
        return None  # lint's indent rule, or a JSON stream, which lint decodes differently
    kinds: set[GroupVersionKind] = set()
    for chunk in _documents(lines):
        if chunk is None:
            return None
        node = _single_node(chunk)
        if node is _NOT_PLAIN:
            return None
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL):
            continue  # an empty document: lint skips it
        kind = _object_kind(node, content)
        if kind is None:
            return None
        if all(kind):  # lint's deprecation rule skips an object without both
            kinds.add(kind)
    return kinds


def _documents(lines: list[str]) -> Iterable[str | None]:
    """The documents of a rendered template, split as Kubernetes' YAML reader splits them: at
    lines starting with `---`, which may only be followed by spaces or a comment (None: a line
    the reader refuses)."""
    chunk: list[str] = []
    for line in lines:
        if line.startswith("---"):
            if _SEPARATOR_REST.fullmatch(line[3:]) is None:
                yield None
                return
            if chunk:
                yield "\n".join(chunk)
            chunk = []
            continue
        chunk.append(line)
    if chunk:
        yield "\n".join(chunk)


def _single_node(text: str) -> Any:
    """The one YAML document of `text` as a node (None when empty), when Helm's YAML-to-JSON
    step certainly takes it; `_NOT_PLAIN` otherwise."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except (yaml.YAMLError, RecursionError):
        return _NOT_PLAIN
    if len(nodes) > 1 or (nodes and not _plain_node(nodes[0])):
        return _NOT_PLAIN
    return nodes[0] if nodes else None


def _plain_node(root: yaml.Node) -> bool:
    """Every node has a core tag, and every key is a scalar other than null (the YAML-to-JSON
    step refuses a null key). Each node is looked at once, so aliases cost nothing."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if len(seen) > _MAX_NODES or node.tag not in _CORE_TAGS:
            return False
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == _NULL:
                    return False
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return True


def _field(mapping: yaml.MappingNode, name: str) -> Any:
    """The value node of `name` (None when absent); `_NOT_PLAIN` when Go's JSON decoding
    could pick another: the name twice, in another case, or a merge key beside it."""
    found = None
    for key, value in mapping.value:
        if key.tag == _MERGE:
            return _NOT_PLAIN
        if key.value.lower() == name.lower():
            if key.value != name or found is not None:
                return _NOT_PLAIN
            found = value
    return found


def _scalar_text(node: Any) -> str | None:
    """The text of a string scalar ('' for null or absent), or None."""
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL):
        return ""
    if isinstance(node, yaml.ScalarNode) and node.tag in (_STR, _TIMESTAMP):
        return str(node.value)
    return None


def _object_kind(node: yaml.Node, content: str) -> GroupVersionKind | None:
    """(apiVersion, kind) of one rendered object that passes lint's name, selector and List
    rules and decodes into lint's stub struct; None when it may not."""
    if not isinstance(node, yaml.MappingNode):
        return None  # lint cannot decode a list or a scalar into its stub
    api_version = _scalar_text(_field(node, "apiVersion"))
    kind = _scalar_text(_field(node, "kind"))
    metadata = _field(node, "metadata")
    if isinstance(metadata, yaml.MappingNode):
        name = _scalar_text(_field(metadata, "name"))
        namespace = _scalar_text(_field(metadata, "namespace"))
    elif _scalar_text(metadata) == "":
        name = namespace = ""
    else:
        return None
    if api_version is None or kind is None or name is None or namespace is None:
        return None
    if not _name_valid(kind, name) or kind == "List":
        return None
    selector = "matchLabels" in content or "matchExpressions" in content  # lint looks no closer
    if kind in _SELECTOR_KINDS and not selector:
        return None
    return api_version, kind


def _name_valid(kind: str, name: str) -> bool:
    if kind.lower() in _LABEL_KINDS:
        return len(name) <= 63 and _LABEL.fullmatch(name) is not None
    return len(name) <= 253 and _SUBDOMAIN.fullmatch(name) is not None


def _holds_null(value: Any) -> bool:
    """A null anywhere: Helm drops it when it coalesces values for rendering, and the values
    rule checks the file as it is."""
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_holds_null(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_null(item) for item in value)
    return False


def probe_templates(kinds: Iterable[GroupVersionKind]) -> dict[str, GroupVersionKind] | None:
    """Templates of a probe chart, one object per (apiVersion, kind), that pass every other lint
    rule: whatever lint says of one of them, it says because of its API (a deprecation). None
    when a kind cannot be written into a template as it is."""
    templates = {}
    for index, (api_version, kind) in enumerate(sorted(kinds)):
        if not (_PROBE_API_VERSION.fullmatch(api_version) and _PROBE_KIND.fullmatch(kind)):
            return None
        templates[f"templates/probe-{index}.yaml"] = (api_version, kind)
    return templates


def probe_text(api_version: str, kind: str) -> str:
    """The probe object for one (apiVersion, kind): a valid name and a selector."""
    return (
        f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: probe\n"
        "spec:\n  selector:\n    matchLabels:\n      probe: probe\n"
    )


PROBE_CHART_YAML = "apiVersion: v2\nname: probe\nversion: 0.1.0\n"
