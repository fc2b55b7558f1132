"""Stable fingerprints of findings, and baseline files of known findings.

A fingerprint is the rule, the file and the finding's anchor (the key path, object or Vault path
it is about; its message when it has none), never a line or column: it stays the same when
unrelated lines are added or removed above it. Findings that share all three are told apart by
their order in the file.

A baseline file lists the fingerprints of findings a team accepts for now. `--baseline FILE`
hides exactly those; any other finding, including a second one of the same kind in the same
file, is still reported. Shape (version 1)::

    {"version": 1, "findings": [{"fingerprint": "...", "rule": "...", "file": "...",
                                 "message": "..."}]}

Only `fingerprint` is read back; the rest is for people reviewing the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from generator.errors import Location, McgError
from generator.findings import Finding

VERSION = 1
MAX_BASELINE_BYTES = 16 * 1024 * 1024
# positions some messages quote (a YAML error's "line 3, column 5"): not part of the identity
_POSITION = re.compile(r"\b(line|column)s? \d+", re.IGNORECASE)


def _anchor(finding: Finding) -> str:
    return finding.anchor or _POSITION.sub(r"\1", finding.message)


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """The fingerprint of each finding, in the order given."""
    ordered = sorted(range(len(findings)), key=lambda index: findings[index].sort_key())
    seen: Counter[tuple[str, str, str]] = Counter()
    result = [""] * len(findings)
    for index in ordered:
        finding = findings[index]
        identity = (finding.rule, finding.file, _anchor(finding))
        occurrence = seen[identity]
        seen[identity] += 1
        text = "\0".join((*identity, str(occurrence)))
        result[index] = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return result


def baseline_document(findings: Sequence[Finding]) -> str:
    entries = [
        {"fingerprint": fingerprint, "rule": f.rule, "file": f.file, "message": f.message}
        for fingerprint, f in sorted(
            zip(fingerprints(findings), findings, strict=True), key=lambda pair: pair[1].sort_key()
        )
    ]
    return json.dumps({"version": VERSION, "findings": entries}, indent=2) + "\n"


def write_baseline(path: Path, findings: Sequence[Finding]) -> None:
    try:
        path.write_text(baseline_document(findings), encoding="utf-8")
    except OSError as error:
        raise McgError(
            f"cannot write the baseline: {error.strerror}",
            location=Location(str(path)),
            hint="pick a writable path",
        ) from None


def read_baseline(path: Path) -> set[str]:
    """The fingerprints a baseline file lists; a clear error for anything else."""

    def invalid(problem: str) -> McgError:
        return McgError(
            f"not a baseline file: {problem}",
            location=Location(str(path)),
            hint="write one with 'mcg-gen validate --write-baseline FILE'",
        )

    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BASELINE_BYTES + 1)
    except OSError as error:
        raise invalid(error.strerror or "unreadable") from None
    if len(raw) > MAX_BASELINE_BYTES:
        raise invalid(f"larger than {MAX_BASELINE_BYTES} bytes")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid(f"invalid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise invalid(f"expected a JSON object with version {VERSION}")
    entries = document.get("findings")
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str) for entry in entries
    ):
        raise invalid("'findings' must be a list of objects with a 'fingerprint'")
    return {entry["fingerprint"] for entry in entries}


def new_findings(findings: Iterable[Finding], known: set[str]) -> tuple[list[Finding], int]:
    """The findings not in the baseline, and how many were hidden."""
    listed = list(findings)
    printed = fingerprints(listed)
    kept = [f for f, mark in zip(listed, printed, strict=True) if mark not in known]
    return kept, len(listed) - len(kept)
