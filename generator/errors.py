"""The errors mcg-gen reports to users, and the exit codes they map to."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

EXIT_OK = 0
EXIT_INVALID = 1  # invalid input, or findings
EXIT_USAGE = 2  # usage error, or an internal failure

# Characters that reorder what a terminal or editor shows (Trojan Source).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """Text safe for a terminal: control, bidi-override and lone surrogate characters (from file
    names that are not UTF-8) as escapes such as `\\x1b`; line breaks kept when asked."""
    return "".join(
        char
        if keep_newlines and char == "\n"
        else char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS
        else char
        for char in text
    )


def shortened(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


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
