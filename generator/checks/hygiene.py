"""Secrets that must not be in the repository: filled-in values-secret files, private keys, tokens
and high-entropy strings in values files and charts."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from generator import gitio, repofs, rules
from generator.errors import McgError
from generator.findings import Finding, Severity
from generator.model import layout

MAX_SCAN_BYTES = 1024 * 1024
# What the scan reads below charts/ (besides the values files, read wherever they are)
SCANNED_SUFFIXES = (".yaml", ".yml", ".tpl", ".json")

_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_TOKENS = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    (
        "a JSON web token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    ),
)
# `password: <value>` style lines whose value looks random; placeholders and templates are fine.
_SECRET_ASSIGNMENT = re.compile(
    r"""^\s*-?\s*["']?(?P<key>[A-Za-z0-9_.-]*(?:password|passwd|secret|token|apikey|api_key|"""
    r"""access_key|private_key)[A-Za-z0-9_.-]*)["']?\s*[:=]\s*["']?(?P<value>[^\s"'#]{12,})""",
    re.IGNORECASE,
)
_ENTROPY_THRESHOLD = 3.5
_HEX = re.compile(r"[0-9a-fA-F]+")


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _looks_random(value: str) -> bool:
    """Mixed-case alphanumerics of some length, or a long high-entropy token (hex, base64);
    never a template, a reference, a path or a flow collection."""
    if "{{" in value or value.startswith(("$", "<", "/", "[", "{", "(", "http", "secret/")):
        return False
    entropy = shannon_entropy(value)
    mixed = all(re.search(pattern, value) for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    # hex carries at most 4 bits a character: long random hex never reaches the general bar
    random_hex = len(value) >= 32 and _HEX.fullmatch(value) is not None and entropy >= 3.0
    return (
        (len(value) >= 16 and mixed and entropy >= _ENTROPY_THRESHOLD)
        or (len(value) >= 32 and entropy >= 4.0)
        or random_hex
    )


# Line breaks `str.splitlines` knows besides "\n": a text holding one is scanned line by line.
_OTHER_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_NEWLINE = re.compile("\n")
# What every line a pattern of `scan_text` matches contains: the literal start of a key or
# token (case as written), or a key word of `_SECRET_ASSIGNMENT` (any case).
_MARKS = (
    "-----BEGIN", "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-", "xox", "eyJ",
)  # fmt: skip
_KEY_WORDS = (
    "password", "passwd", "secret", "token", "apikey", "api_key", "access_key", "private_key",
)  # fmt: skip


def _candidate_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number, line) of the lines a pattern of `scan_text` may match: every line holding one
    of `_MARKS` or `_KEY_WORDS` (a superset: each pattern matches within one line, and needs
    one of them there). Found with `str.find`, at memory speed: most files hold none. Text
    that is not ASCII (where case-insensitive matching knows letters `str.lower` does not) or
    that breaks lines other than with "\n" is scanned line by line."""
    if not text.isascii() or _OTHER_LINE_BREAKS.search(text):
        yield from enumerate(text.splitlines(), start=1)
        return
    lowered = text.lower()
    offsets = [
        found
        for haystack, needles in ((text, _MARKS), (lowered, _KEY_WORDS))
        for needle in needles
        for found in _occurrences(haystack, needle)
    ]
    if not offsets:
        return
    breaks = [match.start() for match in _NEWLINE.finditer(text)]
    touched = {bisect.bisect_left(breaks, offset) for offset in offsets}
    lines = text.split("\n")
    for index in sorted(touched):
        if index < len(lines):
            yield index + 1, lines[index]


def _occurrences(text: str, needle: str) -> Iterator[int]:
    start = text.find(needle)
    while start != -1:
        yield start
        start = text.find(needle, start + 1)


def scan_text(file: str, text: str) -> Iterator[Finding]:
    """Findings for secret material in one file's text; the value itself is never repeated."""
    for number, line in _candidate_lines(text):
        yield from scan_line(file, number, line)


def scan_line(file: str, number: int, line: str) -> Iterator[Finding]:
    """Findings for secret material in one line of a file: a private key, else a token, else a
    key that holds a random-looking value."""

    def found(severity: Severity, column: int, message: str, hint: str) -> Finding:
        return Finding(
            rules.SECRETS_PLAINTEXT_VALUE.id, severity, file, number, column + 1, message, hint
        )

    match = _PRIVATE_KEY.search(line)
    if match:
        yield found(
            Severity.ERROR,
            match.start(),
            "a private key is committed in plain text",
            "move it to your values-secret file and read it through an ExternalSecret; "
            "rotate the key, it is in the git history",
        )
        return
    for what, pattern in _TOKENS:
        token = pattern.search(line)
        if token:
            yield found(
                Severity.ERROR,
                token.start(),
                f"{what} is committed in plain text",
                "move it to Vault (values-secret file) and revoke it",
            )
            return
    assignment = _SECRET_ASSIGNMENT.match(line)
    if assignment and _looks_random(assignment.group("value")):
        yield found(
            Severity.WARNING,
            assignment.start("value"),
            f"'{assignment.group('key')}' holds what looks like a real secret value",
            "keep secret values in Vault; if this is not a secret, ignore this rule for the file",
        )


def scan_file(root: Path, path: Path, resolver: repofs.Resolver | None = None) -> list[Finding]:
    """Findings for secret material in one file of the repository; nothing for a file that is
    not the repository's to read (a symlink out of it or into .git) or not UTF-8 text."""
    if not repofs.is_confined(root, path, resolver):
        return []
    try:
        text = repofs.read_bytes(path, limit=MAX_SCAN_BYTES).decode("utf-8")
    except (McgError, UnicodeDecodeError):
        return []
    return list(scan_text(path.relative_to(root).as_posix(), text))


def committed_secret_files(root: Path, tree: repofs.Tree | None = None) -> list[Finding]:
    """A filled-in values-secret file anywhere in the repository (outside .git, mcg-gen's
    working folders and the parts of a vendored common that hold upstream's test data), walked
    in `tree` when given."""
    findings = []
    vendored = [
        folder.relative_to(root).as_posix() for folder in layout.unread_vendored_folders(root)
    ]
    unread = {*layout.WORKING_FOLDERS, *vendored}
    found = [
        root / relative
        for relative, _, _ in (tree or repofs.Tree()).walk(root, unread)
        if layout.is_values_secret(relative.rpartition("/")[2])
    ]
    for path in sorted(found):
        relative = path.relative_to(root)
        if not path.is_file():
            continue
        findings.append(
            Finding(
                rules.SECRETS_VALUES_SECRET_COMMITTED.id,
                Severity.ERROR,
                relative.as_posix(),
                0,
                0,
                f"{relative.as_posix()} holds secret values and must not be in the repository",
                "move it to ~/values-secret-<pattern>.yaml; if it was committed, "
                "rotate its secrets",
            )
        )
    return findings


def ignore_coverage(root: Path) -> list[Finding]:
    """Warn when git would not ignore a values-secret.yaml put in the repository."""
    if not (root / ".git").exists():
        return []
    probes = ("values-secret.yaml", "values-secret-pattern.yaml")
    try:
        result = gitio.run(root, "check-ignore", "--no-index", *probes, check=False)
    except gitio.GitUnavailable:
        return []
    ignored = set(result.stdout.split())
    missing = [probe for probe in probes if probe not in ignored]
    if not missing:
        return []
    return [
        Finding(
            rules.SECRETS_VALUES_SECRET_NOT_IGNORED.id,
            Severity.WARNING,
            ".gitignore",
            0,
            0,
            f"git does not ignore {', '.join(missing)}: a filled-in secrets file could be "
            "committed",
            "add 'values-secret*.yaml' to .gitignore",
        )
    ]
