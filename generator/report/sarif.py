"""The sarif format: a SARIF 2.1.0 log, for GitHub code scanning and SARIF viewers.

One run whose driver lists every rule of the catalogue (`mcg-gen rules`), so viewers can show a
rule's explanation next to each result. File locations are relative to the repository
(`uriBaseId` SRCROOT, whose absolute URI is given in `originalUriBaseIds`); columns count
Unicode code points, as YAML positions do.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from generator import __version__
from generator.findings import Finding, Severity
from generator.report import Report
from generator.rules import Rule, all_rules

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
BASE_ID = "SRCROOT"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2) + "\n"


def sarif_log(report: Report) -> dict[str, Any]:
    findings = report.sorted_findings()
    catalogue = all_rules()
    # A rule missing from the catalogue still gets a descriptor: results point at one by index.
    ids = [*catalogue, *sorted({finding.rule for finding in findings} - catalogue.keys())]
    index = {rule_id: position for position, rule_id in enumerate(ids)}
    root = report.repo.resolve().as_uri()
    run = {
        "tool": {
            "driver": {
                "name": "mcg-gen",
                "version": __version__,
                "rules": [
                    _descriptor(catalogue[rule_id]) if rule_id in catalogue else {"id": rule_id}
                    for rule_id in ids
                ],
            }
        },
        "originalUriBaseIds": {BASE_ID: {"uri": root if root.endswith("/") else root + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [
            _result(finding, index[finding.rule], report.fingerprint(finding))
            for finding in findings
        ],
        "properties": {
            "filesChecked": report.files_checked,
            "resourcesChecked": report.resources_checked,
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.explanation},
        "help": {"text": f"{rule.explanation}\n\nRun 'mcg-gen rules {rule.id}' for this text."},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
    }


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    text = f"{finding.message}\nhint: {finding.hint}" if finding.hint else finding.message
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": text},
        # code scanning tracks a result across commits by it (see report/baseline.py)
        "partialFingerprints": {"mcgGenFinding/v1": fingerprint},
    }
    if finding.file:
        # surrogateescape: a file name that is not UTF-8 keeps its original bytes in the URI.
        uri = quote(finding.file, safe="/", errors="surrogateescape")
        physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": BASE_ID}}
        if finding.line >= 1:
            physical["region"] = {"startLine": finding.line}
            if finding.column >= 1:
                physical["region"]["startColumn"] = finding.column
        result["locations"] = [{"physicalLocation": physical}]
    return result
