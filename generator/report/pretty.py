"""The pretty format: one marked line per finding, as kubeconform's `-output pretty`.

    ✖ deploy.yaml:7:9: spec.replicas: expected integer, got string "two" (schema/invalid)

✖ fails the run, ⚠ is a warning that does not, • is information. Nothing is printed for a clean
run unless `--summary` asks for the summary line.
"""

from __future__ import annotations

from generator.errors import printable
from generator.findings import Severity
from generator.report import Report, summary_line, where

_MARK = {Severity.ERROR: "✖", Severity.WARNING: "⚠", Severity.INFO: "•"}


def render(report: Report) -> str:
    lines = []
    for finding in report.sorted_findings():
        mark = "✖" if report.fails(finding) else _MARK[finding.severity]
        place = where(finding)
        text = f"{place}: {finding.message}" if place else finding.message
        lines.append(printable(f"{mark} {text} ({finding.rule})"))
        if finding.hint:
            lines.append(printable(f"    hint: {finding.hint}"))
    if report.summary:
        lines.append(f"Summary: {summary_line(report)}")
    return "".join(f"{line}\n" for line in lines)
