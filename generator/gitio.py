"""Running git on a repository that may be hostile.

A repository's own `.git/config` (from an archive, not a clone) can name programs git runs: an
fsmonitor hook, hooks, diff text converters, transport helpers that reach the network. Every git
command mcg-gen runs goes through `run`, which switches those off on the command line (which wins
over any configuration file), never prompts, never takes optional locks (so a read-only command
never rewrites the index) and is bounded in time and output.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_SECONDS = 60.0
_HARDENING = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "protocol.allow=never",
    "-c",
    "core.sshCommand=false",
    "-c",
    "credential.helper=",
)


class GitUnavailable(Exception):
    """git is not installed, timed out, or the folder is not a git work tree."""


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_LAZY_FETCH": "1",
        "GIT_ASKPASS": "true",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
    }


def run(
    repo: Path,
    *args: str,
    check: bool = True,
    timeout: float = TIMEOUT_SECONDS,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in `repo`, hardened; raises GitUnavailable when git cannot answer (and, with
    `check`, when it exits non-zero)."""
    try:
        completed = subprocess.run(
            ["git", *_HARDENING, *args],
            cwd=repo,
            env=_environment(),
            capture_output=True,
            text=True,
            errors="surrogateescape",
            timeout=timeout,
            input=input_text,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitUnavailable(str(error)) from None
    if check and completed.returncode != 0:
        raise GitUnavailable(completed.stderr.strip() or f"git {args[0]} failed")
    return completed


def run_bytes(
    repo: Path, *args: str, timeout: float = TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[bytes]:
    """`run` for output taken byte for byte (file contents: no newline translation); the exit
    status is the caller's to judge."""
    try:
        return subprocess.run(
            ["git", *_HARDENING, *args],
            cwd=repo,
            env=_environment(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitUnavailable(str(error)) from None


def is_tracked(repo: Path, relative: str) -> bool:
    """Whether git tracks `relative` in `repo`; False without git or outside a work tree."""
    try:
        return run(repo, "ls-files", "--error-unmatch", "--", relative, check=False).returncode == 0
    except GitUnavailable:
        return False


# What one revision may hold before `list_revision` refuses it: large enough for the largest
# patterns (6,000 files, tens of MiB), small enough that a hostile commit cannot fill the disk.
EXPORT_MAX_FILES = 50_000
EXPORT_MAX_BYTES = 512 * 1024 * 1024
_REGULAR_MODES = {"100644": 0o644, "100755": 0o755}
LINK_MODE = "120000"


class UnsafeRevision(Exception):
    """A revision whose tree cannot be exported safely (unsafe names, or too large)."""


def resolve_commit(repo: Path, revision: str) -> str:
    """The commit id `revision` names; GitUnavailable when it names none."""
    completed = run(
        repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"
    )
    return completed.stdout.strip()


def merge_base(repo: Path, first: str, second: str) -> str:
    """The best common ancestor of two commits (what `git diff A...B` compares from)."""
    return run(repo, "merge-base", "--end-of-options", first, second).stdout.strip()


def changed_since(repo: Path, commit: str) -> list[str]:
    """Repository-relative paths that differ between `commit` and the work tree (committed,
    staged or not), plus untracked files that are not ignored; a rename counts as both names."""
    diff = run(repo, "diff", "--name-only", "--no-renames", "--no-ext-diff", "-z", commit, "--")
    untracked = run(repo, "ls-files", "--others", "--exclude-standard", "-z")
    return sorted({name for name in (diff.stdout + untracked.stdout).split("\0") if name})


@dataclass(frozen=True)
class TreeEntry:
    """A file of a revision: git's mode (100644, 100755, 120000 for a link), blob id, path."""

    mode: str
    object_id: str
    path: str


def list_revision(repo: Path, commit: str) -> list[TreeEntry]:
    """The files of `commit` (submodules left out), names checked (no `..`, no `.git`, no
    absolute path) and bounded in count and size before anything is read."""
    listing = run_bytes(repo, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
    if listing.returncode != 0:
        raise GitUnavailable(listing.stderr.decode(errors="replace").strip() or "git ls-tree")
    entries: list[TreeEntry] = []
    total = 0
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        header, _, raw_path = record.partition(b"\t")
        mode, kind, object_id, size = header.decode("ascii", errors="replace").split()
        if kind != "blob" or (mode not in _REGULAR_MODES and mode != LINK_MODE):
            continue  # submodules: another repository's commit, not content of this one
        path = raw_path.decode(errors="surrogateescape")
        _check_export_name(path)
        entries.append(TreeEntry(mode, object_id, path))
        total += int(size) if size.isdigit() else 0
    if len(entries) > EXPORT_MAX_FILES or total > EXPORT_MAX_BYTES:
        raise UnsafeRevision(
            f"{commit[:12]} holds {len(entries):,} files, {total:,} bytes: more than the "
            f"{EXPORT_MAX_FILES:,} files or {EXPORT_MAX_BYTES:,} bytes mcg-gen exports"
        )
    return entries


def export_entries(repo: Path, entries: list[TreeEntry], target: Path) -> None:
    """Write `entries` (from `list_revision`) below the folder `target`, as git stores them.

    Blobs are read with `cat-file --batch`, which never runs a filter, a text converter or an
    LFS hook (`git archive` and `checkout` would run the repository's filter drivers), and no
    file is written through a link the revision itself holds."""
    if not entries:
        return
    request = "".join(f"{entry.object_id}\n" for entry in entries).encode()
    try:
        batch = subprocess.run(
            ["git", *_HARDENING, "cat-file", "--batch"],
            cwd=repo,
            env=_environment(),
            input=request,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitUnavailable(str(error)) from None
    if batch.returncode != 0:
        raise GitUnavailable(batch.stderr.decode(errors="replace").strip() or "git cat-file")
    try:
        _write_blobs(batch.stdout, entries, target.resolve())
    except (ValueError, IndexError, OSError) as error:
        raise UnsafeRevision(f"the revision could not be exported: {error}") from None


def _write_blobs(output: bytes, entries: list[TreeEntry], root: Path) -> None:
    """Split `cat-file --batch` output (`<id> <type> <size>` LF content LF, in request order)
    into the files of `entries` below `root`."""
    offset = 0
    checked = {root}  # folders known to be real folders below root, not links
    for entry in entries:
        end = output.index(b"\n", offset)
        size = int(output[offset:end].split()[2])
        content = output[end + 1 : end + 1 + size]
        offset = end + 1 + size + 1
        destination = root / entry.path
        parent = destination.parent
        if parent not in checked:
            parent.mkdir(parents=True, exist_ok=True)
            if parent.resolve() != parent:
                raise ValueError(f"{entry.path!r} lies behind a symbolic link of the revision")
            checked.add(parent)
        if entry.mode == LINK_MODE:
            os.symlink(content.decode(errors="surrogateescape"), destination)
            continue
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(destination, flags, _REGULAR_MODES[entry.mode]), "wb") as stream:
            stream.write(content)


def blob_ids(repo: Path, relative_paths: list[str]) -> dict[str, str]:
    """git's blob id of each regular file (`hash-object --no-filters`: no filter runs); names
    holding a line break cannot be asked for and are left out."""
    asked = [path for path in relative_paths if "\n" not in path and "\r" not in path]
    if not asked:
        return {}
    completed = run(
        repo, "hash-object", "--no-filters", "--stdin-paths", input_text="\n".join(asked) + "\n"
    )
    return dict(zip(asked, completed.stdout.split(), strict=True))


def link_blob_id(target: str) -> str:
    """The blob id git gives a symbolic link to `target`."""
    data = target.encode(errors="surrogateescape")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _check_export_name(path: str) -> None:
    parts = path.split("/")
    if path.startswith("/") or any(
        part in ("", ".", "..") or part.lower() == ".git" for part in parts
    ):
        raise UnsafeRevision(f"the revision holds a file named {path!r}, which is not safe")
