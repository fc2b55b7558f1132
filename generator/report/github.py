"""The github format: GitHub Actions workflow commands, shown as annotations on the changed files.

    ::error file=values-hub.yaml,line=12,col=5,title=values/unknown-key::clusterGroup.aplications...

Errors are `::error`, warnings `::warning`, info `::notice`; the hint follows the message on its
own line. File paths are relative to the repository: run validate from the root of the checkout
(or the annotations land on no file). A plain summary line ends the output.

GitHub turns only the first 10 errors and 10 warnings of a step (50 per job) into annotations;
the rest stay in the log. Errors come first, so the ones that fail the run are never crowded out.
"""

from __future__ import annotations

from generator.errors import printable
from generator.findings import Finding, Severity
from generator.report import Report, summary_line

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}

# The runner decodes these in a command's message, and additionally ':' and ',' in properties.
_DATA_ESCAPES = {"%": "%25", "\r": "%0D", "\n": "%0A"}
_PROPERTY_ESCAPES = {**_DATA_ESCAPES, ":": "%3A", ",": "%2C"}


def render(report: Report) -> str:
    order = list(COMMANDS)
    findings = sorted(report.findings, key=lambda f: (order.index(f.severity), f.sort_key()))
    lines = [_command(finding) for finding in findings]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def _command(finding: Finding) -> str:
    properties: dict[str, object] = {}
    if finding.file:
        properties["file"] = finding.file
        if finding.line:
            properties["line"] = finding.line
            if finding.column:
                properties["col"] = finding.column
    properties["title"] = finding.rule
    listed = ",".join(
        f"{key}={escape(str(value), _PROPERTY_ESCAPES)}" for key, value in properties.items()
    )
    message = f"{finding.message}\nhint: {finding.hint}" if finding.hint else finding.message
    return f"::{COMMANDS[finding.severity]} {listed}::{escape(message, _DATA_ESCAPES)}"


def escape(text: str, escapes: dict[str, str]) -> str:
    """The runner's escapes, then `printable` for what is left (a terminal escape sequence)."""
    return printable("".join(escapes.get(char, char) for char in text))
