"""The text format: findings grouped by file, each with its source line and a caret, then a summary.

    values-hub.yaml:12:5: error values/unknown-key clusterGroup.aplications: not a key ...
       12 |     aplications:
          |     ^
        hint: did you mean 'applications'?

Everything that comes from the repository (file names, messages, source lines) is printed with
control and bidirectional-override characters escaped, so a hostile file cannot move the cursor,
recolour the terminal or hide text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

from generator import repofs, rules
from generator.errors import McgError, printable
from generator.findings import Finding, Severity
from generator.report import Report, summary_line, where

_MAX_SOURCE_BYTES = 4 * 1024 * 1024  # larger files are not YAML anyone edits; skip the excerpt
_MAX_SHOWN = 120  # characters of a long source line shown around the column
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # YAML's line breaks, not str.splitlines()'s many

_RESET = "\033[0m"
_STYLE = {
    Severity.ERROR: "1;31",
    Severity.WARNING: "1;33",
    Severity.INFO: "1;36",
}
_DIM, _BOLD, _CARET = "2", "1", "1;32"

Paint = Callable[[str, str], str]


def render(report: Report, *, color: bool = False) -> str:
    paint: Paint = _ansi if color else _plain
    blocks: list[str] = []
    shown = [
        finding
        for finding in report.sorted_findings()
        if report.show_info or finding.severity is not Severity.INFO
    ]
    for file, findings in groupby(shown, key=lambda finding: finding.file):
        in_file = list(findings)
        lines = _source_lines(report.repo, file)
        # a line holding a plaintext secret is never copied into terminals and CI logs
        hidden = {f.line for f in in_file if f.rule == rules.SECRETS_PLAINTEXT_VALUE.id}
        block: list[str] = []
        for finding in in_file:
            block += _finding_lines(finding, None if finding.line in hidden else lines, paint)
        blocks.append("\n".join(block) + "\n")
    summary = summary_line(report)
    if len(shown) < len(report.findings):
        summary += " (--show-info lists the info)"
    blocks.append(paint(summary, _BOLD) + "\n")
    return "\n".join(blocks)


def _finding_lines(finding: Finding, source: list[str] | None, paint: Paint) -> list[str]:
    severity = paint(finding.severity.value, _STYLE[finding.severity])
    place = where(finding)
    head = f"{severity} {paint(finding.rule, _DIM)} {printable(finding.message)}"
    if place:
        head = f"{printable(place)}: {head}"
    lines = [head]
    if source is not None and 0 < finding.line <= len(source):
        lines += _excerpt(source[finding.line - 1], finding.line, finding.column, paint)
    if finding.hint:
        lines.append(f"    {paint('hint:', _BOLD)} {printable(finding.hint)}")
    return lines


def _excerpt(line: str, number: int, column: int, paint: Paint) -> list[str]:
    """The source line (a window of it when long) and, when the column is on it, a caret."""
    start = 0
    if len(line) > _MAX_SHOWN and column:
        start = max(0, min(column - 1 - _MAX_SHOWN // 2, len(line) - _MAX_SHOWN))
    shown = line[start : start + _MAX_SHOWN]
    left = "…" if start else ""
    right = "…" if start + _MAX_SHOWN < len(line) else ""
    gutter = f"{number:>5} | "
    lines = [paint(gutter, _DIM) + left + _display(shown) + right]
    if 0 < column <= len(line) + 1:
        before = left + _display(shown[: column - 1 - start])
        lines.append(paint(" " * 5 + " | ", _DIM) + " " * _width(before) + paint("^", _CARET))
    return lines


def _source_lines(repo: Path, file: str) -> list[str] | None:
    """The lines of a repository file, or None when it cannot be shown safely."""
    if not file:
        return None
    try:
        data = repofs.read_repo_file(repo, file, limit=_MAX_SOURCE_BYTES)
    except McgError:  # outside the repository, in .git, not a regular file, too large
        return None
    if b"\0" in data:
        return None
    return _LINE_BREAK.split(data.decode("utf-8", errors="replace"))


def _display(source: str) -> str:
    return printable(source.expandtabs(4))


def _width(text: str) -> int:
    """Terminal columns of text: wide East Asian characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
        for char in text
    )


def _ansi(text: str, style: str) -> str:
    return f"\033[{style}m{text}{_RESET}"


def _plain(text: str, style: str) -> str:
    return text


def plain(findings: list[Finding]) -> str:
    """One line per finding and its hint, without the source excerpt: for files of secret
    values (`secrets check`), whose lines must never be copied to a terminal."""
    lines = []
    for finding in findings:
        head = f"{finding.severity.value}: {finding.message} [{finding.rule}]"
        place = where(finding)
        lines.append(printable(f"{place}: {head}" if place else head))
        if finding.hint:
            lines.append(f"  hint: {printable(finding.hint)}")
    return "".join(f"{line}\n" for line in lines)
