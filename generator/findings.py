"""A finding: one problem a check found, with where it is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """`rule` is a stable id such as `values/unknown-key`.

    Line and column are 1-based, 0 when unknown.
    """

    rule: str
    severity: Severity
    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.rule, self.message)
