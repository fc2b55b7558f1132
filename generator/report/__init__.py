"""Output formats of `mcg-gen validate`: one module per format, all fed the same `Report`.

`render(report, fmt)` picks the format; `exit_code(report)` is the verdict, the same whatever the
format. Errors fail a run; warnings fail it only when `strict`; info never does.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from generator.errors import EXIT_INVALID, EXIT_OK, UsageError
from generator.findings import Finding, Severity

FORMATS: tuple[str, ...] = ("text", "json", "junit", "sarif", "github", "tap", "pretty")
_MODULES = {"json": "json_format"}  # a format's module, when not named as the format


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]  # any order; reporters sort with Finding.sort_key
    repo: Path  # to read offending lines for the text format
    files_checked: int
    resources_checked: int
    strict: bool = False  # warnings count as failures
    show_info: bool = True  # the text format lists info findings only when set
    baselined: int = 0  # known findings the baseline hid
    # each finding's stable fingerprint, computed before the baseline hid any (see baseline.py)
    fingerprints: Mapping[Finding, str] | None = None
    summary: bool = False  # tap and pretty print the summary only when asked (as kubeconform)

    def fingerprint(self, finding: Finding) -> str:
        known = self.fingerprints
        if known is None:
            from generator.report.baseline import fingerprints

            known = dict(zip(self.findings, fingerprints(self.findings), strict=True))
            object.__setattr__(self, "fingerprints", known)
        return known[finding]

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    def fails(self, finding: Finding) -> bool:
        """Whether this finding alone makes the run fail."""
        return finding.severity == Severity.ERROR or (
            self.strict and finding.severity == Severity.WARNING
        )

    @property
    def passed(self) -> bool:
        return not any(self.fails(finding) for finding in self.findings)


def exit_code(report: Report) -> int:
    """0 when the run passes, 1 when an error (or, when strict, a warning) was found."""
    return EXIT_OK if report.passed else EXIT_INVALID


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """The report in one of `FORMATS`; `color` adds ANSI colours to the text format only."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format '{fmt}'", hint=f"use one of {', '.join(FORMATS)}")
    # only the format asked for is imported (junit's XML library costs start-up time)
    module = importlib.import_module(f"generator.report.{_MODULES.get(fmt, fmt)}")
    if fmt == "text":
        return str(module.render(report, color=color))
    return str(module.render(report))


def wants_color(stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Colour for a terminal, unless NO_COLOR is set to anything but the empty string."""
    return not environ.get("NO_COLOR") and stream.isatty()


def where(finding: Finding) -> str:
    """`file:line:column`, leaving out what is unknown; "" for the repository as a whole."""
    if not finding.file:
        return ""
    known = [finding.line, finding.column] if finding.line and finding.column else [finding.line]
    return ":".join([finding.file, *(str(number) for number in known if number)])


def summary_line(report: Report) -> str:
    """`3 errors, 1 warning, 2 info in 12 files (240 resources)`, or `no problems in ...`."""
    scope = (
        f"{plural(report.files_checked, 'file')} ({plural(report.resources_checked, 'resource')})"
    )
    counts = [
        plural(report.count(Severity.ERROR), "error"),
        plural(report.count(Severity.WARNING), "warning"),
        f"{report.count(Severity.INFO)} info",
    ]
    found = [count for count in counts if not count.startswith("0 ")]
    line = f"{', '.join(found)} in {scope}" if found else f"no problems in {scope}"
    if report.baselined:
        line += f"; {plural(report.baselined, 'known finding')} hidden by the baseline"
    return line


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def select_findings(
    findings: Iterable[Finding], select: Sequence[str], ignore: Sequence[str]
) -> list[Finding]:
    """Keep findings whose rule matches a `select` prefix (all when empty) and no `ignore` one."""

    def matches(rule: str, patterns: Sequence[str]) -> bool:
        return any(rule == p or rule.startswith(p.rstrip("/*") + "/") for p in patterns)

    return [
        finding
        for finding in findings
        if (not select or matches(finding.rule, select)) and not matches(finding.rule, ignore)
    ]
