"""The junit format: JUnit XML, as GitLab, Jenkins, Azure DevOps and test-report actions read it.

One testsuite; one testcase per finding, its classname the file (so CI groups them by file) and
its name the rule and position; errors are failures, warnings too under --strict, the rest pass
with their text in system-out. One more, always passing, testcase records what was checked, so
a clean run is shown as a passed check and not as "no tests".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from generator.findings import Finding
from generator.report import Report, summary_line, where

SUITE = "mcg-gen validate"

# What XML 1.0 cannot carry even escaped: most C0 controls, lone surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Report) -> str:
    findings = report.sorted_findings()
    failures = sum(1 for finding in findings if report.fails(finding))
    counts = {"tests": str(len(findings) + 1), "failures": str(failures), "errors": "0"}
    suites = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(suites, "testsuite", {"name": SUITE, **counts, "skipped": "0"})
    for finding in findings:
        _testcase(suite, finding, failed=report.fails(finding))
    ET.SubElement(
        suite, "testcase", {"classname": "mcg-gen", "name": xml_text(summary_line(report))}
    )
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _testcase(suite: ET.Element, finding: Finding, *, failed: bool) -> None:
    place = where(finding)
    name = f"{finding.rule} at {place}" if place else finding.rule
    attributes = {"classname": xml_text(finding.file or "."), "name": xml_text(name)}
    if finding.file:
        attributes["file"] = xml_text(finding.file)
    if finding.line:
        attributes["line"] = str(finding.line)
    case = ET.SubElement(suite, "testcase", attributes)
    details = f"{finding.severity.value} {finding.rule} {finding.message}"
    if place:
        details = f"{place}: {details}"
    if finding.hint:
        details += f"\nhint: {finding.hint}"
    if failed:
        failure = ET.SubElement(
            case, "failure", {"type": finding.rule, "message": xml_text(finding.message)}
        )
        failure.text = xml_text(details)
    else:
        ET.SubElement(case, "system-out").text = xml_text(details)


def xml_text(text: str) -> str:
    """Text XML can carry: characters it forbids become visible escapes (`\\x1b`)."""
    return _NOT_XML.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
