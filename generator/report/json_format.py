"""The json format: one JSON document, stable for scripts.

Shape (version 1; fields are only ever added, and a change of meaning bumps `version`)::

    {
      "version": 1,
      "findings": [
        {
          "rule": rules.VALUES_UNKNOWN_KEY.id,   // stable rule id, see 'mcg-gen rules'
          "severity": "error",            // "error", "warning" or "info"
          "file": "values-hub.yaml",      // relative to the repository, "/" separated
          "line": 12,                     // 1-based; 0 when unknown
          "column": 5,                    // 1-based; 0 when unknown
          "message": "...",
          "hint": "...",                  // how to fix it; "" when there is none
          "fingerprint": "..."            // stable across unrelated edits: rule, file and what
                                          // the finding is about, never its line
        }
      ],
      "summary": {
        "errors": 1, "warnings": 0, "info": 0,   // findings of each severity
        "files": 12,                             // files checked
        "resources": 240,                        // rendered resources checked
        "passed": false,                         // the verdict: also the exit code (0 or 1)
        "baselined": 0                           // known findings --baseline hid
      }
    }

Findings are sorted by file, line, column, rule and message. `passed` is false when there is an
error, or a warning under --strict.
"""

from __future__ import annotations

import json
from typing import Any

from generator.findings import Severity
from generator.report import Report


def render(report: Report) -> str:
    # ASCII escapes keep the output valid UTF-8 even for names that are not (lone surrogates).
    return json.dumps(document(report), indent=2) + "\n"


def document(report: Report) -> dict[str, Any]:
    return {
        "version": 1,
        "findings": [
            {
                "rule": finding.rule,
                "severity": finding.severity.value,
                "file": finding.file,
                "line": finding.line,
                "column": finding.column,
                "message": finding.message,
                "hint": finding.hint,
                "fingerprint": report.fingerprint(finding),
            }
            for finding in report.sorted_findings()
        ],
        "summary": {
            "errors": report.count(Severity.ERROR),
            "warnings": report.count(Severity.WARNING),
            "info": report.count(Severity.INFO),
            "files": report.files_checked,
            "resources": report.resources_checked,
            "passed": report.passed,
            "baselined": report.baselined,
        },
    }
