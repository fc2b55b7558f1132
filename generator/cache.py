"""A content-addressed cache of validation results, outside the repository.

Entries live in `$MCG_GEN_CACHE_DIR`, else `$XDG_CACHE_HOME/mcg-gen`, else `~/.cache/mcg-gen`, in
one folder per repository. Each entry is a JSON file holding the key it was computed for and the
content hashes of the files it depends on; an entry whose key or dependencies differ is ignored.
Deleting the folder is always safe. Entries hold findings and counts, and for `mcg-gen diff` the
rendered manifests of a group, Secret values masked (entry files are private to the user:
mkstemp's 0600).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from generator import __version__, repofs
from generator.findings import Finding, Severity

FORMAT = 2
STAT_TABLE = "file-hashes.json"
# Files change within one tick of the file system clock (a few ms) without a new time; a
# change younger than this margin is rehashed rather than trusted.
RACY_NS = 50_000_000


def cache_root() -> Path:
    explicit = os.environ.get("MCG_GEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcg-gen"


def repository_cache(repo: Path) -> Path:
    identity = hashlib.sha256(str(repo.resolve()).encode()).hexdigest()[:20]
    return cache_root() / identity


def file_digest(path: Path | str) -> str:
    """A regular file's content hash (see `repofs.file_digest`); never follows a device."""
    return repofs.file_digest(path)


def entry_digest(path: Path | str, status: os.stat_result) -> str:
    """A walked entry's identity: its content for a file, its target's name for a link (a link
    is never followed: where it leads is judged by whoever reads it)."""
    if stat.S_ISLNK(status.st_mode):
        try:
            return "link:" + os.readlink(path)
        except OSError:
            return "missing"
    return file_digest(path)


def tree_digest(folder: Path, hash_file: Callable[[str, os.stat_result], str] | None = None) -> str:
    """One hash of every entry below `folder` (names, file contents, link targets)."""
    digest = hashlib.sha256()
    for name, path, status in repofs.walk_names(folder):
        digest.update(name.encode(errors="surrogateescape") + b"\0")
        if hash_file and not stat.S_ISLNK(status.st_mode):
            digest.update(hash_file(path, status).encode())
        else:
            digest.update(entry_digest(path, status).encode(errors="surrogateescape"))
        digest.update(b"\0")
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
            anchor=str(item.get("anchor", "")),
        )
        for item in items
    ]


class Cache:
    """Named entries for one repository; a disabled cache stores and finds nothing."""

    def __init__(self, repo: Path, *, enabled: bool = True, roots: Iterable[Path] = ()) -> None:
        self.folder = repository_cache(repo)
        self.enabled = enabled
        # Only files below these are ever hashed: the repository and folders the user named.
        self._repo = repo.resolve()
        self._roots = (self._repo, *(Path(root).resolve() for root in roots))
        self._digests: dict[str, str] = {}  # many entries share dependencies: hash each once
        # path -> [mtime, ctime, size, ino, sha]
        self._known: dict[str, list[int | str]] | None = None
        self._known_changed = False
        self._started = time.time_ns()
        self._resolver = repofs.Resolver()  # one run's view of the repository's links
        self._allowed_folders: dict[str, bool] = {}  # most files share a folder with others

    def _stat_table(self) -> dict[str, list[int | str]]:
        if self._known is None:
            self._known = {}
            if self.enabled:
                try:
                    loaded = json.loads((self.folder / STAT_TABLE).read_text(encoding="utf-8"))
                    if isinstance(loaded, dict):
                        self._known = loaded
                except (OSError, ValueError):
                    pass
        return self._known

    def file_digest(self, path: Path | str, status: os.stat_result | None = None) -> str:
        """A file's content hash, read again only when its size, inode or times changed.

        Like git's index: a file changed within the same clock tick as its recording could
        keep its size and time, so entries that recent are never trusted. The change time is
        part of the fingerprint because no one can set it: a file rewritten with its old size
        and modification time put back (`touch -r`, `cp -p`, rsync) is read again. A file
        outside the repository and the folders the user named is never opened: it hashes as
        "outside"."""
        name = os.fspath(path)
        try:
            if status is None or stat.S_ISLNK(status.st_mode):
                if not self._allowed(Path(name)):
                    return "outside:" + (os.readlink(name) if os.path.islink(name) else name)
                status = os.stat(name)
            elif not self._allowed_folder(os.path.dirname(name)):
                return "outside:" + name
        except (OSError, RuntimeError):
            return "missing"
        table = self._stat_table()
        fingerprint: list[int | str] = [*_times(status), status.st_size, status.st_ino]
        known = table.get(name)
        racy = max(_times(status)) >= self._started - RACY_NS
        if known is not None and known[:-1] == fingerprint and not racy:
            return str(known[-1])
        digest = file_digest(path)
        if not racy:
            table[name] = [*fingerprint, digest]
            self._known_changed = True
        return digest

    def repository_fingerprint(self, repo: Path) -> str | None:
        """Names, sizes, times (modification and change) and inodes of every file of the
        repository (outside .git); None when the cache is off or a file changed too recently to
        trust its times."""
        if not self.enabled:
            return None
        digest = hashlib.sha256()
        newest = self._started - RACY_NS
        # os.walk's order and choice of entries (links to folders are neither entered nor
        # listed), one scandir per folder: this walk is most of an unchanged repository's run
        pending = [os.fspath(repo)]
        while pending:
            folder = pending.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError:
                continue  # os.walk skips a folder it cannot list
            subfolders = []
            records = []
            for entry in entries:
                try:
                    is_folder = entry.is_dir()
                    if is_folder:
                        if entry.name != ".git" and not entry.is_symlink():
                            subfolders.append(entry.path)
                        continue
                    status = entry.stat(follow_symlinks=False)
                except OSError:
                    return None
                modified, changed = status.st_mtime_ns, status.st_ctime_ns  # inline: 13,000 files
                if modified >= newest or changed >= newest:
                    return None
                records.append(
                    f"{folder}/{entry.name}\0{modified}\0{changed}\0{status.st_size}"
                    f"\0{status.st_ino}\0"
                )
            digest.update("".join(records).encode(errors="surrogateescape"))
            pending.extend(reversed(subfolders))
        return digest.hexdigest()

    def folder_fingerprint(self, folder: Path) -> str | None:
        """Names, sizes, times and inodes of the files below `folder`, as `repofs.walk` finds
        them; None when the cache is off or a file changed too recently to trust its times."""
        if not self.enabled:
            return None
        newest = self._started - RACY_NS
        records = []
        for _, name, status in repofs.walk_names(folder):
            modified, changed = status.st_mtime_ns, status.st_ctime_ns
            if modified >= newest or changed >= newest:
                return None
            records.append(f"{name}\0{modified}\0{changed}\0{status.st_size}\0{status.st_ino}")
        return hashlib.sha256("\0".join(records).encode(errors="surrogateescape")).hexdigest()

    def _allowed_folder(self, folder: str) -> bool:
        """`_allowed` of a folder, asked once per run (the Resolver also sees each folder's
        links once per run)."""
        known = self._allowed_folders.get(folder)
        if known is None:
            known = self._allowed_folders[folder] = self._allowed(Path(folder))
        return known

    def _allowed(self, path: Path) -> bool:
        """Whether `path`, links resolved, is below a root (and not in the repository's .git)."""
        try:
            resolved = self._resolver.resolve(path)
        except (OSError, RuntimeError):
            return False
        if repofs.is_confined(self._repo, resolved, self._resolver):
            return True
        return any(resolved.is_relative_to(root) for root in self._roots[1:])

    def digest(self, name: str) -> str:
        """The hash of a file's content, or of a folder's tree (only below the roots)."""
        if name not in self._digests:
            path = Path(name)
            if not self._allowed(path):
                self._digests[name] = "outside"
            elif path.is_dir():
                self._digests[name] = tree_digest(path, self.file_digest)
            else:
                self._digests[name] = self.file_digest(path)
        return self._digests[name]

    def save(self) -> None:
        """Keep the file hashes learnt in this run for the next one."""
        if self.enabled and self._known_changed and self._known is not None:
            self._write(STAT_TABLE, self._known)

    def still_valid(self, recorded: Mapping[str, str]) -> bool:
        return all(self.digest(name) == digest for name, digest in recorded.items())

    def _path(self, name: str) -> Path:
        safe = hashlib.sha256(name.encode()).hexdigest()[:32]
        return self.folder / f"{safe}.json"

    def remember(
        self,
        name: str,
        key: str,
        compute: Callable[[], dict[str, Any]],
        *,
        depends_on: Iterable[str] = (),
        keep: Callable[[dict[str, Any]], bool] = lambda _: True,
    ) -> dict[str, Any]:
        """The entry `name` for `key`, computed and stored when there is none; stored only when
        `keep` says it is a whole answer."""
        found = self.get(name, key)
        if found is None:
            found = compute()
            if keep(found):
                self.put(name, key, found, depends_on)
        return found

    def remember_findings(
        self, name: str, key: str, compute: Callable[[], list[Finding]]
    ) -> list[Finding]:
        """`remember` for a list of findings."""
        data = self.remember(name, key, lambda: {"findings": findings_to_json(compute())})
        return findings_from_json(data["findings"])

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
        self._write(self._path(name).name, {"key": key, "deps": deps, "data": data})

    def _write(self, file: str, content: Any) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(content))  # dumps is json's C encoder, dump is not
            os.replace(temporary, self.folder / file)
        except OSError:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(temporary)


def _times(status: os.stat_result) -> tuple[int, int]:
    return status.st_mtime_ns, status.st_ctime_ns


@functools.cache
def tool_digest() -> str:
    """mcg-gen itself: its code, charts and schemas (in a development checkout they change
    without a version bump, and cached results must not outlive them)."""
    from generator import bundled

    return key_of(
        tree_digest(Path(__file__).parent),
        tree_digest(bundled.charts_dir()),
        tree_digest(bundled.schemas_dir()),
    )
