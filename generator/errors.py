"""The errors mcg-gen reports to users, and the exit codes they map to."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_INVALID = 1  # invalid input, or findings
EXIT_USAGE = 2  # usage error, or an internal failure


@dataclass(frozen=True)
class Location:
    """A place in a file; line and column are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


class McgError(Exception):
    """An error meant for the user: printed as one clear message, never as a traceback."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, *, location: Location | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(McgError):
    """The command line itself is wrong (bad flag combination, missing repository)."""

    exit_code = EXIT_USAGE


class SpecErrors(McgError):
    """Several problems found at once in one input; each is an McgError with its own location."""

    def __init__(self, errors: list[McgError]) -> None:
        super().__init__(f"{len(errors)} problem(s) found")
        self.errors = errors

    def __str__(self) -> str:
        listed = "\n".join(str(error) for error in self.errors)
        return listed if len(self.errors) == 1 else f"{len(self.errors)} problems:\n{listed}"
