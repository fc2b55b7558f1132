"""A content-addressed cache of validation results, outside the repository.

Entries live in `$MCG_GEN_CACHE_DIR`, else `$XDG_CACHE_HOME/mcg-gen`, else `~/.cache/mcg-gen`, in
one folder per repository. Each entry is a JSON file holding the key it was computed for and the
content hashes of the files it depends on; an entry whose key or dependencies differ is ignored.
Deleting the folder is always safe. Entries hold findings and counts, never file contents.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from generator import __version__
from generator.findings import Finding, Severity

FORMAT = 1


def cache_root() -> Path:
    explicit = os.environ.get("MCG_GEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcg-gen"


def repository_cache(repo: Path) -> Path:
    identity = hashlib.sha256(str(repo.resolve()).encode()).hexdigest()[:20]
    return cache_root() / identity


def file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def tree_digest(folder: Path) -> str:
    """One hash of every file below `folder` (names and contents)."""
    digest = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(file_digest(path).encode() + b"\0")
    return digest.hexdigest()


def key_of(*parts: Any) -> str:
    text = json.dumps([FORMAT, __version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def findings_to_json(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [asdict(finding) for finding in findings]


def findings_from_json(items: Iterable[Mapping[str, Any]]) -> list[Finding]:
    return [
        Finding(
            rule=str(item["rule"]),
            severity=Severity(item["severity"]),
            file=str(item["file"]),
            line=int(item["line"]),
            column=int(item["column"]),
            message=str(item["message"]),
            hint=str(item.get("hint", "")),
        )
        for item in items
    ]


class Cache:
    """Named entries for one repository; a disabled cache stores and finds nothing."""

    def __init__(self, repo: Path, *, enabled: bool = True) -> None:
        self.folder = repository_cache(repo)
        self.enabled = enabled
        self._digests: dict[str, str] = {}  # many entries share dependencies: hash each once

    def digest(self, name: str) -> str:
        if name not in self._digests:
            path = Path(name)
            self._digests[name] = tree_digest(path) if path.is_dir() else file_digest(path)
        return self._digests[name]

    def still_valid(self, recorded: Mapping[str, str]) -> bool:
        return all(self.digest(name) == digest for name, digest in recorded.items())

    def _path(self, name: str) -> Path:
        safe = hashlib.sha256(name.encode()).hexdigest()[:32]
        return self.folder / f"{safe}.json"

    def get(self, name: str, key: str) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        try:
            entry = json.loads(self._path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        if not self.still_valid(entry.get("deps") or {}):
            return None
        data = entry.get("data")
        return data if isinstance(data, dict) else None

    def put(self, name: str, key: str, data: dict[str, Any], depends_on: Iterable[str]) -> None:
        """Store `data` for `key`, valid while the files and folders `depends_on` are unchanged."""
        if not self.enabled:
            return
        deps = {path: self.digest(path) for path in depends_on}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump({"key": key, "deps": deps, "data": data}, stream)
            os.replace(temporary, self._path(name))
        except OSError:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(temporary)
