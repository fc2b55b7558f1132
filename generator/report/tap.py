"""The tap format: the Test Anything Protocol (version 13), as kubeconform's `-output tap`.

One test point per finding: `not ok` when it fails the run (errors; warnings too under
--strict), `ok` otherwise, its description the place, rule and message. A run without findings
is one passing test point naming what was checked. `--summary` adds the summary as a comment.
"""

from __future__ import annotations

from generator.errors import printable
from generator.findings import Finding
from generator.report import Report, summary_line, where


def render(report: Report) -> str:
    findings = report.sorted_findings()
    lines = ["TAP version 13"]
    if not findings:
        lines.append(f"ok 1 - {summary_line(report)}")
    for number, finding in enumerate(findings, start=1):
        status = "not ok" if report.fails(finding) else "ok"
        lines.append(f"{status} {number} - {_description(finding)}")
    lines.append(f"1..{max(1, len(findings))}")
    if report.summary:
        lines.append(f"# {summary_line(report)}")
    return "".join(f"{line}\n" for line in lines)


def _description(finding: Finding) -> str:
    place = where(finding)
    text = f"{finding.severity.value} {finding.rule} {finding.message}"
    # '#' starts a TAP directive: a message holding one must not read as '# SKIP'
    text = printable(f"{place}: {text}" if place else text).replace("#", "\\#")
    return text.replace("\n", " ")
