"""A finding: one problem a check found, with where it is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from generator.errors import McgError, SpecErrors


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """`rule` is a stable id such as `values/unknown-key`.

    Line and column are 1-based, 0 when unknown. `anchor` names what in the file the finding is
    about (a key path such as `clusterGroup.subscriptions.acm`, a Vault path), independent of
    line numbers; "" when the message says it well enough.
    """

    rule: str
    severity: Severity
    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    anchor: str = ""

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.rule, self.message)


def error_findings(
    error: McgError, rule: str, root: Path, severity: Severity = Severity.ERROR
) -> list[Finding]:
    """Findings for a user-facing error (one per problem of a SpecErrors)."""
    errors = error.errors if isinstance(error, SpecErrors) else [error]
    findings = []
    for item in errors:
        location = item.location
        file = relative_to(location.file, root) if location else ""
        findings.append(
            Finding(
                rule,
                severity,
                file,
                location.line if location else 0,
                location.column if location else 0,
                item.message,
                item.hint,
            )
        )
    return findings


def relative_to(file: str, root: Path) -> str:
    """`file` relative to the repository when it is inside it (as named, or once resolved)."""
    path = Path(file)
    if not path.is_absolute():
        return file
    for candidate, base in ((path, root.absolute()), (path.resolve(), root.resolve())):
        if candidate.is_relative_to(base):
            return candidate.relative_to(base).as_posix()
    return file
