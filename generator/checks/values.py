"""Checks of values files against our schemas: every entry, in map form and in list form."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

from generator import repofs, rules
from generator.errors import McgError
from generator.findings import Finding, Severity
from generator.model import layout
from generator.schema_check import dotted, finding_at, schema_findings
from generator.yamlio import Document

# "override" is a partial group file layered on top of the group's values (values-4.18-hub.yaml,
# values-AWS.yaml, overrides/...): checked like a group file except for keys it may leave out.
ValuesKind = Literal["global", "group", "override"]

_SCHEMA_OF_KIND: dict[ValuesKind, str] = {
    "global": "values-global.schema.json",
    "group": "values-clustergroup.schema.json",
    "override": "values-clustergroup.schema.json",
}


def check_values_file(doc: Document, kind: ValuesKind) -> list[Finding]:
    """Findings for a values-global.yaml, a values-<group>.yaml, or an override of a group file."""
    findings = schema_findings(doc, _SCHEMA_OF_KIND[kind], "values")
    if kind == "override":
        return [finding for finding in findings if finding.rule != rules.VALUES_MISSING_KEY.id]
    return findings


def no_op_overrides(doc: Document, replaced: Iterable[str]) -> list[Finding]:
    """`clusterGroup.<key>: {}` in an override file: merged into the group's map, it removes
    nothing. `replaced` are the keys some group file holds as a list, which `{}` does replace."""
    tree = doc.data.get("clusterGroup") if isinstance(doc.data, dict) else None
    if not isinstance(tree, dict):
        return []
    lists = set(replaced)
    findings = []
    for key, value in tree.items():
        if value == {} and key not in lists:
            path = ("clusterGroup", key)
            findings.append(
                finding_at(
                    doc,
                    path,
                    rules.VALUES_NO_OP_OVERRIDE.id,
                    f"{dotted(path)}: {{}} merges into the group's {key} and removes none of them",
                    f"to remove an entry set it to null ({key}: {{<name>: null}}) or give it "
                    "'disabled: true'; otherwise delete the line",
                    Severity.WARNING,
                )
            )
    return findings


# `.Values.clusterGroup.storageClass`, `$.Values.storageSystem`, `index .Values "clusterGroup"
# "storageClass"`: the top-level key and, under clusterGroup, the key a template reads.
_DOTTED_READ = re.compile(r"\.Values\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?")
_INDEX_READ = re.compile(r'index\s+\$?\.Values\s+"([^"]+)"(?:\s+"([^"]+)")?')
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt")
TEMPLATE_FOLDERS = ("charts", layout.VENDORED_COMMON)  # where the templates it reads live
MAX_TEMPLATE_BYTES = 1024 * 1024


def template_units(root: Path) -> list[Path]:
    """The folders whose templates `keys_read_by_templates` can read apart: each folder
    directly below charts/ and common/ (not a link: the walk does not enter those)."""
    units = []
    for folder in TEMPLATE_FOLDERS:
        try:
            with os.scandir(root / folder) as listing:
                units += [
                    root / folder / entry.name
                    for entry in listing
                    if entry.is_dir(follow_symlinks=False)
                    and entry.name not in (repofs.GIT_DIR, "__pycache__")
                ]
        except OSError:
            continue
    return sorted(units)


def keys_read_by_templates(
    root: Path,
    keys_in: Callable[[Path, os.stat_result], Iterable[str]] | None = None,
    units: Iterable[Path] | None = None,
    tree: repofs.Tree | None = None,
) -> set[str]:
    """Top-level keys and `clusterGroup.<key>`s that some template of the repository reads.

    Every Application gets values-global.yaml and values-<group>.yaml, so a key a chart of the
    repository reads is not unknown even when no schema names it. `keys_in` may answer for a
    file from a cache (it must give what `keys_read_in` does); `units`, some of
    `template_units`, limits the answer to the templates below them; `tree` is the run's
    listing of the repository's folders, when it has one."""
    unread = tuple(f"{folder}/" for folder in layout.unread_vendored_folders(root))
    read: set[str] = set()
    resolver = repofs.Resolver()
    tree = tree or repofs.Tree()
    tops = [root / folder for folder in TEMPLATE_FOLDERS]
    walks = [(top, top) for top in tops] if units is None else [(u.parent, u) for u in units]
    for top, below in walks:
        skip = len(os.fspath(top)) + 1  # "templates" is looked for below charts/ or common/
        for _, full, status in tree.walk(below):
            if not full.endswith(_TEMPLATE_SUFFIXES) or "templates" not in full[skip:].split("/"):
                continue
            if unread and f"{full}/".startswith(unread):
                continue
            path = Path(full)
            if not repofs.is_confined(root, path, resolver):
                continue
            read.update((keys_in or keys_read_in)(path, status))
    return read


def keys_read_in(path: Path, _status: os.stat_result | None = None) -> set[str]:
    """The keys one template reads (see `keys_read_by_templates`); none if it cannot be read."""
    try:
        text = repofs.read_bytes(path, limit=MAX_TEMPLATE_BYTES).decode("utf-8", "replace")
    except McgError:
        return set()
    read: set[str] = set()
    for pattern in (_DOTTED_READ, _INDEX_READ):
        for top, below in pattern.findall(text):
            read.add(top)
            if top == "clusterGroup" and below:
                read.add(f"clusterGroup.{below}")
    return read | _fields_read_in_ranges(text)


_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_OPENS_BLOCK = re.compile(r"^\s*(range|if|with|define|block)\b")
_ENDS_BLOCK = re.compile(r"^\s*end\b")
_RANGE_OVER = re.compile(r"^\s*range\b.*?\$?\.Values\.clusterGroup\.([A-Za-z_][A-Za-z0-9_]*)\s*$")
_FIELD = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")
# an entry key of a clusterGroup section: `clusterGroup.managedClusterGroups.region-one.provider`
# or `clusterGroup.managedClusterGroups[0].provider`
_ENTRY_KEY = re.compile(
    r"^(clusterGroup\.[A-Za-z_][A-Za-z0-9_]*)(?:\[\d+\]|\.[^.\[\]]+)\.([^.\[\]]+)$"
)


def _fields_read_in_ranges(text: str) -> set[str]:
    """`clusterGroup.<section>[*].<field>` for each field a template reads inside a
    `range` over `.Values.clusterGroup.<section>` (an approximation: any `.field` in the body)."""
    read: set[str] = set()
    stack: list[str | None] = []  # per open block, the section it ranges over
    for action in _ACTION.findall(text):
        if _ENDS_BLOCK.match(action):
            if stack:
                stack.pop()
            continue
        sections = {section for section in stack if section}
        for section in sections:
            read.update(f"clusterGroup.{section}[*].{field}" for field in _FIELD.findall(action))
        if _OPENS_BLOCK.match(action):
            over = _RANGE_OVER.match(action)
            stack.append(over.group(1) if over else None)
    return read


def without_keys_read(findings: Sequence[Finding], read: set[str]) -> list[Finding]:
    """`findings` less the unknown-key findings of keys a template of the repository reads."""

    def is_read(anchor: str) -> bool:
        entry = _ENTRY_KEY.match(anchor)
        return anchor in read or (entry is not None and f"{entry[1]}[*].{entry[2]}" in read)

    return [
        finding
        for finding in findings
        if not (finding.rule == rules.VALUES_UNKNOWN_KEY.id and is_read(finding.anchor))
    ]
