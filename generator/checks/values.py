"""Checks of values files against our schemas: every entry, in map form and in list form."""

from __future__ import annotations

from typing import Literal

from generator import rules
from generator.findings import Finding
from generator.schema_check import schema_findings
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
