"""Checks of values files against our schemas: every entry, in map form and in list form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from generator import rules
from generator.findings import Finding, Severity
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
