"""What `generate` wrote before, what it should do now, and doing it atomically.

The state file (`.mcg-gen/state.json`, committed with the repository) records every generated
file with the SHA-256 of the content mcg-gen wrote, and `.mcg-gen/base/` keeps that content. A
file on disk whose hash differs from its record was edited by someone: its edits are kept. When
the spec changes such a file too, the user's edits and the spec's changes are merged line by
line (`generator.merge`, three-way, as git merges): where both changed the same lines the file
gets conflict markers and the run fails until they are resolved. `--force` takes the generated
version instead (with a backup).

Writes are journaled. All new content is first written to a staging folder; the journal, written
atomically, is the commit point; then files are moved into place. A run killed before the
journal exists leaves the repository untouched (the staging folder is discarded next time); a run
killed after it is completed by the next run (`recover`). One run at a time holds the lock.

Both files come with the repository, so both are untrusted input (see SECURITY.md): every path
in them is confined by `repofs` and checked against what mcg-gen itself could have written; a
journal's sources must be files in the staging folder and its backups go to the backups folder;
a journal that git tracks is never replayed (a journal belongs to the run that wrote it).
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import hashlib
import json
import os
import posixpath
import re
import shutil
import signal
import stat
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from generator import __version__, gitio, repofs
from generator.errors import Location, McgError
from generator.merge import MergeUnavailable, has_conflict_markers, merge3
from generator.model import layout

STATE_DIR = layout.STATE_DIR
STATE_FILE = f"{STATE_DIR}/state.json"
STATE_VERSION = 1
_LOCK = "lock"
_JOURNAL = "journal.json"
_STAGING = layout.STAGING_NAME
_BACKUPS = layout.BACKUPS_NAME
_JOURNAL_PATH = f"{STATE_DIR}/{_JOURNAL}"
# mcg-gen's working files: never a generated file, never a target of a journal or state entry
_MOVING_STATE = f"{STATE_FILE}.moving"  # the state file of a folder move, before it replaces it
_WORKING = {
    STATE_FILE,
    _JOURNAL_PATH,
    f"{_JOURNAL_PATH}.tmp",
    f"{STATE_DIR}/{_LOCK}",
    _MOVING_STATE,
}
_WORKING_DIRS = tuple(f"{folder}/" for folder in layout.WORKING_FOLDERS)
_STAGED_SOURCE = re.compile(rf"^{re.escape(STATE_DIR)}/{_STAGING}/(?:[0-9]+|state)$")
_BACKUP_STAMP = re.compile(r"^[0-9]{8}T[0-9]{6}$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
MAX_GENERATED_BYTES = 64 * 1024 * 1024  # no file mcg-gen writes comes near this
MAX_RECORD_BYTES = 16 * 1024 * 1024  # state file and journal


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    KEEP = "keep"  # edited by the user; the spec's version did not change: the edits stand
    MERGE = "merge"  # edited by the user and changed by the spec: both kept, merged cleanly
    CONFLICT = "conflict"  # both changed the same lines: written with conflict markers
    DIVERGED = "diverged"  # both changed, but nothing to merge from: left alone, reported
    UNRESOLVED = "unresolved"  # an earlier merge's conflict markers are still in the file
    OVERWRITE = "overwrite"  # edited by the user; replaced under --force, with a backup
    ORPHAN = "orphan"  # no longer generated but edited by the user; left alone, forgotten


# What leaves the repository out of date with its spec (generate --check fails on these).
DRIFT = frozenset(
    {
        Action.CREATE,
        Action.UPDATE,
        Action.DELETE,
        Action.MERGE,
        Action.CONFLICT,
        Action.DIVERGED,
        Action.UNRESOLVED,
        Action.OVERWRITE,
    }
)
# What the user has to act on: the run fails.
NEEDS_USER = frozenset({Action.CONFLICT, Action.DIVERGED, Action.UNRESOLVED})


@dataclass(frozen=True)
class Change:
    path: str
    action: Action
    new: bytes | None = None  # content to write
    old: bytes | None = None  # content on disk, when there is one

    def diff(self) -> str:
        before = (self.old or b"").decode("utf-8", "replace").splitlines(keepends=True)
        after = (self.new or b"").decode("utf-8", "replace").splitlines(keepends=True)
        if self.action in (Action.DIVERGED, Action.OVERWRITE):
            labels = (f"{self.path} (yours)", f"{self.path} (generated)")
        elif self.action in (Action.MERGE, Action.CONFLICT):
            labels = (f"{self.path} (yours)", f"{self.path} (merged)")
        else:
            labels = (f"a/{self.path}", f"b/{self.path}")
        return "".join(difflib.unified_diff(before, after, *labels))


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)  # the state file after applying
    conflicts: list[str] = field(default_factory=list)  # files left with conflict markers
    # base copies to write (content) or remove (None), by generated path
    bases: dict[str, bytes | None] = field(default_factory=dict)
    previous: Record | None = None

    def by_action(self, *actions: Action) -> list[Change]:
        return [change for change in self.changes if change.action in actions]

    @property
    def writes(self) -> list[Change]:
        return self.by_action(
            Action.CREATE, Action.UPDATE, Action.OVERWRITE, Action.MERGE, Action.CONFLICT
        )

    @property
    def deletes(self) -> list[Change]:
        return self.by_action(Action.DELETE)

    @property
    def drift(self) -> list[Change]:
        """What differs from what the spec gives, merged edits included (`generate --check`)."""
        return [change for change in self.changes if change.action in DRIFT]

    @property
    def needs_user(self) -> list[Change]:
        return self.by_action(*NEEDS_USER)

    def is_noop(self) -> bool:
        previous = self.previous or Record()
        return (
            not self.writes
            and not self.deletes
            and not self.bases
            and previous.files == self.state
            and previous.conflicts == self.conflicts
        )


@dataclass
class Record:
    """The state file: the generated files with the hash of what mcg-gen wrote, and the files
    an earlier merge left with conflict markers."""

    files: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


def generated_path_problem(relative: str) -> str | None:
    """Why `relative` cannot be a file mcg-gen generates (None when it can be)."""
    problem = repofs.lexical_problem(relative)
    if problem:
        return problem
    normal = repofs.normalise(relative)
    if normal != relative or normal == ".":
        return "is not a normalised relative path"
    if normal in _WORKING or normal.startswith(_WORKING_DIRS):
        return "is one of mcg-gen's own working files"
    return None


def read_state(repo: Path) -> dict[str, str]:
    """The recorded files and hashes (see `read_record`)."""
    return read_record(repo).files


def read_record(repo: Path) -> Record:
    """The state file; an unreadable one is an error, not a silent reset.

    Every entry must be a file mcg-gen could have generated: the state file decides what
    `generate` deletes, so an entry naming `.git/HEAD` or `../x` is refused, never acted on."""
    _state_dir(repo)
    path = repo / STATE_FILE
    if not path.exists() and not path.is_symlink():
        return Record()
    hint = "restore it from git (git checkout -- .mcg-gen/state.json)"
    try:
        raw = repofs.read_repo_file(repo, STATE_FILE, limit=MAX_RECORD_BYTES)
        data = json.loads(raw.decode("utf-8"))
        files = data["files"]
        conflicts = data.get("conflicts", [])
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise ValueError("files must map paths to hashes")
        if not isinstance(conflicts, list) or not all(
            isinstance(item, str) and item in files for item in conflicts
        ):
            raise ValueError("conflicts must list generated files")
    except repofs.UnsafePath as error:
        raise McgError(error.message, location=Location(STATE_FILE), hint=hint) from None
    except (repofs.UnreadableFile, ValueError, KeyError, TypeError) as error:
        reason = error.message if isinstance(error, McgError) else str(error)
        raise McgError(
            f"the state file is unreadable ({reason})", location=Location(STATE_FILE), hint=hint
        ) from None
    for relative, recorded in files.items():
        problem = generated_path_problem(relative)
        if problem or not _DIGEST.match(recorded):
            raise McgError(
                f"the state file lists {relative!r}, which mcg-gen never writes "
                f"({problem or 'its hash is not a SHA-256'})",
                location=Location(STATE_FILE),
                hint=hint,
            )
    return Record(dict(files), sorted(conflicts))


def state_bytes(files: Mapping[str, str], conflicts: Sequence[str] = ()) -> bytes:
    document: dict[str, Any] = {
        "version": STATE_VERSION,
        "generator": f"mcg-gen {__version__}",
        "files": dict(sorted(files.items())),
    }
    if conflicts:
        document["conflicts"] = sorted(conflicts)
    return (json.dumps(document, indent=2) + "\n").encode()


def base_path(relative: str) -> str:
    """Where the content mcg-gen last wrote to a generated file is kept."""
    return f"{layout.BASE_DIR}/{relative}"


def _read_base(repo: Path, relative: str, recorded: str | None) -> bytes | None:
    """The base copy of a generated file, if there is one and it is what the record says mcg-gen
    wrote (anything else is no base at all: a merge needs the true one)."""
    if recorded is None:
        return None
    try:
        path = repofs.confine(repo, base_path(relative))
        if not path.is_file() or path.is_symlink():
            return None
        content = repofs.read_bytes(path, limit=MAX_GENERATED_BYTES)
    except McgError:
        return None
    return content if digest(content) == recorded else None


def _read_existing(path: Path, relative: str) -> bytes | None:
    """The content of a generated file on disk: None when there is none (or it is a special
    file, which `_check_writable_path` refuses); a symbolic link is refused."""
    if path.is_symlink():
        raise McgError(
            "refusing to write through a symbolic link",
            location=Location(relative),
            hint="replace the link with a regular file or remove it",
        )
    if not path.is_file():
        return None
    try:
        return repofs.read_bytes(path, limit=MAX_GENERATED_BYTES, display=relative)
    except repofs.UnreadableFile as error:
        raise McgError(
            error.message,
            location=Location(relative),
            hint="move it out of the way and run the command again",
        ) from None


def _check_writable_path(repo: Path, relative: str, target: Path) -> None:
    """Refuse, before anything is written, what would make a move into place fail after the
    commit point: a folder (or device, pipe) where a file goes, a file where a folder goes."""
    if target.exists() and not target.is_symlink() and not target.is_file():
        raise McgError(
            "this is a folder or special file, but mcg-gen writes a file here",
            location=Location(relative),
            hint="move it out of the way and run the command again",
        )
    folder = target.parent
    while folder != repo and not folder.is_dir():
        if folder.exists() or folder.is_symlink():
            raise McgError(
                f"this is a file, but mcg-gen needs a folder here for {relative}",
                location=Location(folder.relative_to(repo).as_posix()),
                hint="move it out of the way and run the command again",
            )
        folder = folder.parent
    if target.is_file() and not os.access(target, os.W_OK):
        raise McgError(
            "this file is read-only, so mcg-gen leaves it alone",
            location=Location(relative),
            hint="make it writable (chmod u+w) and run the command again",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise McgError(
            f"mcg-gen cannot write here: the folder {folder} is read-only",
            location=Location(relative),
            hint="make it writable (chmod u+w) and run the command again",
        )


def check_inside(repo: Path, relative: str) -> Path:
    """The path of a generated file, refusing any that is not one (see
    `generated_path_problem`) or that a link on its way leads out of the repository."""
    return _inside_checker(repo)(relative)


def _inside_checker(repo: Path) -> Callable[[str], Path]:
    """`check_inside` for many paths of one repository: each folder is resolved once.

    The result is not resolved itself: a link in the last place is the caller's to refuse."""
    verdicts: dict[str, bool] = {}
    linked: dict[str, bool] = {}

    def through_link(folder: str) -> bool:
        """Whether `folder` or a folder above it is a symbolic link (one lstat per folder: a
        path without links cannot leave the repository, only one with them needs resolving)."""
        if folder == ".":
            return False
        if folder not in linked:
            try:
                is_link = stat.S_ISLNK(os.lstat(repo / folder).st_mode)
            except (OSError, ValueError):
                is_link = False  # missing, or below a file: resolve keeps such names as they are
            linked[folder] = is_link or through_link(posixpath.dirname(folder) or ".")
        return linked[folder]

    def check(relative: str) -> Path:
        # a generated file, or its base copy under .mcg-gen/base/
        problem = generated_path_problem(relative.removeprefix(f"{layout.BASE_DIR}/"))
        if problem:
            raise McgError(
                f"{relative!r} {problem}: mcg-gen does not write there",
                hint="remove it from the state file or journal (restore them from git)",
            )
        folder = posixpath.dirname(relative) or "."
        if folder not in verdicts and not through_link(folder):
            verdicts[folder] = True
        if folder not in verdicts:
            try:
                repofs.confine(repo, folder)
                verdicts[folder] = True
            except repofs.UnsafePath:
                verdicts[folder] = False
        if not verdicts[folder]:
            raise McgError(
                f"{relative} would be written outside the repository (a folder on its path is "
                "a symbolic link pointing elsewhere)",
                hint="remove the link",
            )
        return repo / relative

    return check


def _decide(
    current: str | None, desired: str, recorded: str | None, force: bool, *, unresolved: bool
) -> Action:
    """What to do with one generated file, from content hashes: on disk, wanted, last written.

    `unresolved`: an earlier merge left conflict markers in the file, and they are still there.
    A MERGE may turn into a CONFLICT (or DIVERGED) once the contents are merged."""
    if current is None:
        return Action.CREATE
    if current == desired:
        return Action.UNCHANGED
    if recorded is not None and current == recorded:
        return Action.UPDATE
    if force:
        return Action.OVERWRITE
    if unresolved:
        return Action.UNRESOLVED
    if desired == recorded:
        return Action.KEEP
    return Action.MERGE if recorded is not None else Action.DIVERGED


def _decide_stale(current: str, recorded: str) -> Action:
    """What to do with a file mcg-gen wrote before but no longer generates."""
    return Action.DELETE if current == recorded else Action.ORPHAN


def make_plan(repo: Path, desired: Mapping[str, bytes], *, force: bool = False) -> Plan:
    previous = read_record(repo)
    inside = _inside_checker(repo)
    plan = Plan(previous=previous)
    for relative, content in desired.items():
        current = _read_existing(inside(relative), relative)
        recorded = previous.files.get(relative)
        wanted = digest(content)
        unresolved = (
            relative in previous.conflicts and current is not None and has_conflict_markers(current)
        )
        action = _decide(
            None if current is None else digest(current),
            wanted,
            recorded,
            force,
            unresolved=unresolved,
        )
        new: bytes | None = content
        if action is Action.MERGE:
            action, new = _merged(repo, relative, recorded, current or b"", content)
        plan.changes.append(Change(relative, action, new, current))
        if action in (Action.DIVERGED, Action.UNRESOLVED):
            # the file stays as the user left it until resolved; the record keeps what mcg-gen
            # last wrote, the base of the merge still to come
            plan.state[relative] = recorded or wanted
        else:
            plan.state[relative] = wanted
        if action in (Action.CONFLICT, Action.UNRESOLVED):
            plan.conflicts.append(relative)
        if plan.state[relative] == wanted and _read_base(repo, relative, wanted) is None:
            plan.bases[relative] = content  # the base of the next merge: what is written now
    for relative, recorded in previous.files.items():
        if relative in desired:
            continue
        if (repo / base_path(relative)).exists():
            plan.bases[relative] = None
        current = _read_existing(inside(relative), relative)
        if current is not None:
            action = _decide_stale(digest(current), recorded)
            plan.changes.append(Change(relative, action, None, current))
    plan.changes.sort(key=lambda change: change.path)
    plan.conflicts.sort()
    return plan


def _merged(
    repo: Path, relative: str, recorded: str | None, current: bytes, content: bytes
) -> tuple[Action, bytes | None]:
    """The user's edits merged with the spec's changes, from the base copy of what mcg-gen last
    wrote; DIVERGED when there is no base to merge from (or git cannot merge)."""
    base = _read_base(repo, relative, recorded)
    if base is None:
        return Action.DIVERGED, content
    try:
        merged = merge3(relative, base, current, content)
    except MergeUnavailable:
        return Action.DIVERGED, content
    return (Action.CONFLICT if merged.conflicts else Action.MERGE), merged.content


def out_of_date(
    repo: Path,
    desired: Mapping[str, str],
    digest_of: Callable[[Path, os.stat_result], str] | None = None,
    record: Record | None = None,
) -> list[str]:
    """Paths that differ from what the spec gives, given the wanted hashes of its files: what
    `generate` would create, update, remove or merge, and merges whose conflicts are unresolved
    (edits to a file whose generated version did not change are the user's and do not count).
    `digest_of` may answer from a cache; `record` is the state file, when the caller read it."""
    if record is None:
        record = read_record(repo)
    previous = record.files
    inside = _inside_checker(repo)

    def current(relative: str) -> str | None:
        """The hash of the regular file there; None for anything generate would have to fix."""
        try:
            path = inside(relative)
        except McgError:
            return None
        try:
            status = path.lstat()
            if not stat.S_ISREG(status.st_mode):
                return None  # missing, a link, a folder: generate would have to act
            if digest_of:
                return digest_of(path, status)
            return digest(repofs.read_bytes(path, limit=MAX_GENERATED_BYTES))
        except (OSError, McgError):
            return None

    def unresolved(relative: str) -> bool:
        if relative not in record.conflicts:
            return False
        try:
            return has_conflict_markers(repofs.read_repo_file(repo, relative))
        except McgError:
            return False

    stale = []
    for relative, wanted in desired.items():
        action = _decide(
            current(relative),
            wanted,
            previous.get(relative),
            False,
            unresolved=unresolved(relative),
        )
        if action in DRIFT:
            stale.append(relative)
    for relative, recorded in previous.items():
        existing = None if relative in desired else current(relative)
        if existing is not None and _decide_stale(existing, recorded) is Action.DELETE:
            stale.append(relative)
    return sorted(stale)


def _state_dir(repo: Path, *, create: bool = False) -> Path:
    """`.mcg-gen`, which must be a real folder of the repository (a link would carry the
    staging folder, the lock and the backups elsewhere), as must the folders mcg-gen keeps in it."""
    state_dir = repo / STATE_DIR
    for folder in (state_dir, state_dir / _STAGING, state_dir / _BACKUPS):
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise McgError(
                f"{folder.relative_to(repo).as_posix()} is not a folder (a symbolic link or a "
                "file): mcg-gen keeps its working files there and will not follow it",
                location=Location(folder.relative_to(repo).as_posix()),
                hint="remove it; mcg-gen recreates what it needs",
            )
    if create:
        state_dir.mkdir(parents=True, exist_ok=True)
    return state_dir


@contextlib.contextmanager
def repository_lock(repo: Path) -> Iterator[None]:
    """Hold the repository's lock; a second run fails at once with a clear message."""
    state_dir = _state_dir(repo, create=True)
    lock = state_dir / _LOCK
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(lock, flags, 0o644)
    except OSError as error:
        raise McgError(
            f"cannot use the lock file: {error.strerror}",
            location=Location(f"{STATE_DIR}/{_LOCK}"),
            hint="remove it (it must be a regular file, not a link) and run the command again",
        ) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise McgError(
            "the lock file is not a regular file",
            location=Location(f"{STATE_DIR}/{_LOCK}"),
            hint="remove it and run the command again",
        )
    handle = os.fdopen(descriptor, "r+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read(100).strip() or "another process"
            raise McgError(
                f"another mcg-gen run ({holder}) is writing this repository",
                location=Location(str(repo)),
                hint="wait for it to finish and run the command again",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, content: bytes) -> None:
    """Write a new file (whatever was there, a link included, is removed first, not followed)."""
    path.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags, 0o644), "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the files are in place (SIGKILL is what the journal is for)."""
    blocked = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def apply_plan(repo: Path, plan: Plan, *, fail_after: int | None = None) -> Path | None:
    """Carry out `plan`; returns the backup folder when files were overwritten.

    `fail_after` raises an OSError after staging that many files; tests use it to prove that a
    failure before the commit point leaves the repository as it was.
    """
    for change in plan.writes + plan.deletes:
        _check_writable_path(repo, change.path, repo / change.path)
    state_dir = _state_dir(repo, create=True)
    staging = state_dir / _STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    operations: list[dict[str, str]] = []
    backup_dir: Path | None = None
    try:
        for index, change in enumerate(plan.writes):
            if fail_after is not None and index >= fail_after:
                raise OSError(errno.EIO, "injected failure")
            staged = staging / str(index)
            staged.write_bytes(change.new or b"")
            if change.action is Action.OVERWRITE:
                if backup_dir is None:
                    backup_dir = state_dir / _BACKUPS / time.strftime("%Y%m%dT%H%M%S")
                operations.append(
                    {
                        "op": "backup",
                        "path": change.path,
                        "to": str((backup_dir / change.path).relative_to(repo)),
                    }
                )
            operations.append(
                {"op": "write", "path": change.path, "from": str(staged.relative_to(repo))}
            )
        for change in plan.deletes:
            operations.append({"op": "delete", "path": change.path})
        for index, (relative, content) in enumerate(sorted(plan.bases.items())):
            if content is None:
                operations.append({"op": "delete", "path": base_path(relative)})
                continue
            staged = staging / str(len(plan.writes) + index)
            staged.write_bytes(content)
            operations.append(
                {"op": "write", "path": base_path(relative), "from": str(staged.relative_to(repo))}
            )
        staged_state = staging / "state"
        staged_state.write_bytes(state_bytes(plan.state, plan.conflicts))
        operations.append(
            {"op": "write", "path": STATE_FILE, "from": str(staged_state.relative_to(repo))}
        )
        # one flush of everything staged (a file-by-file fsync costs seconds on large patterns)
        os.sync()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with _signals_deferred():
        journal = state_dir / _JOURNAL
        temporary = state_dir / (_JOURNAL + ".tmp")
        _write_synced(temporary, json.dumps({"operations": operations}).encode())
        os.replace(temporary, journal)  # the commit point
        _fsync_dir(state_dir)
        _replay(repo, operations)
    return backup_dir


def _checked_operations(repo: Path, operations: Any) -> list[dict[str, str]]:
    """The journal's operations if each is one mcg-gen itself writes: a generated path, a source
    in the staging folder, a backup in the backups folder under the same path. Anything else
    means the journal did not come from a run of mcg-gen, and nothing of it is carried out."""
    inside = _inside_checker(repo)
    checked: list[dict[str, str]] = []
    if not isinstance(operations, list):
        raise ValueError("operations must be a list")
    for operation in operations:
        if not isinstance(operation, dict) or not all(
            isinstance(value, str) for value in operation.values()
        ):
            raise ValueError("an operation is not a mapping of strings")
        kind, path = operation.get("op"), operation.get("path", "")
        expected = {"backup": {"op", "path", "to"}, "write": {"op", "path", "from"}}.get(
            str(kind), {"op", "path"}
        )
        if kind not in ("backup", "write", "delete") or set(operation) != expected:
            raise ValueError(f"unknown operation {operation!r}"[:200])
        if not (kind == "write" and path == STATE_FILE):
            inside(path)
        if kind == "write" and not _STAGED_SOURCE.match(operation["from"]):
            raise ValueError(f"a write from {operation['from']!r} (not a staged file)"[:200])
        if kind == "backup":
            parts = operation["to"].split("/", 3)
            if (
                len(parts) != 4
                or parts[:2] != [STATE_DIR, _BACKUPS]
                or not _BACKUP_STAMP.match(parts[2])
                or parts[3] != path
            ):
                raise ValueError(f"a backup to {operation['to']!r} (not a backup file)"[:200])
        checked.append(operation)
    return checked


def _copy_regular(source: Path, target: Path) -> None:
    """Copy a regular file (bounded), never following a link or blocking on a special file."""
    content = repofs.read_bytes(source, limit=MAX_GENERATED_BYTES)
    with open(target, "xb") as handle:
        handle.write(content)


def _replay(repo: Path, operations: list[dict[str, str]]) -> None:
    """Carry out journaled operations (already checked); each is idempotent, so a re-run after a
    crash is safe."""
    inside = _inside_checker(repo)
    made: set[Path] = set()
    for operation in operations:
        relative = operation["path"]
        target = repo / STATE_FILE if relative == STATE_FILE else inside(relative)
        if operation["op"] == "backup":
            backup = repo / operation["to"]
            if target.is_file() and not target.is_symlink() and not backup.exists():
                backup.parent.mkdir(parents=True, exist_ok=True)
                repofs.confine(repo, operation["to"])  # no link on the way out of the repo
                _copy_regular(target, backup)
        elif operation["op"] == "write":
            source = repo / operation["from"]
            if source.is_file() and not source.is_symlink():
                if target.parent not in made:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    made.add(target.parent)
                os.replace(source, target)
        elif operation["op"] == "delete":
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            _prune_empty_dirs(repo, target.parent)
    state_dir = repo / STATE_DIR
    (state_dir / _JOURNAL).unlink()
    shutil.rmtree(state_dir / _STAGING, ignore_errors=True)


def _prune_empty_dirs(repo: Path, folder: Path) -> None:
    root = repo.resolve()
    while folder.resolve() != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def recover(repo: Path) -> bool:
    """Finish a run that was killed after its commit point; discard one killed before it.

    Returns True when an interrupted run was completed.
    """
    state_dir = _state_dir(repo)
    journal = state_dir / _JOURNAL
    if journal.exists() or journal.is_symlink():
        hint = "delete .mcg-gen/journal.json (and .mcg-gen/staging), then run the command again"
        if gitio.is_tracked(repo, _JOURNAL_PATH):
            raise McgError(
                "the journal of an interrupted run is committed to git: a journal belongs to "
                "the run that wrote it, so mcg-gen does not carry it out",
                location=Location(_JOURNAL_PATH),
                hint=f"remove it from git (git rm --cached {_JOURNAL_PATH}) and {hint}",
            )
        try:
            raw = repofs.read_repo_file(repo, _JOURNAL_PATH, limit=MAX_RECORD_BYTES)
            operations = _checked_operations(repo, json.loads(raw.decode("utf-8"))["operations"])
        except (McgError, ValueError, KeyError, TypeError) as error:
            reason = error.message if isinstance(error, McgError) else str(error)
            raise McgError(
                f"the journal of an interrupted run is not one mcg-gen wrote ({reason}); "
                "nothing of it was carried out",
                location=Location(_JOURNAL_PATH),
                hint=hint,
            ) from None
        with _signals_deferred():
            _replay(repo, operations)
        return True
    (state_dir / (_JOURNAL + ".tmp")).unlink(missing_ok=True)
    if (state_dir / _STAGING).is_dir():
        shutil.rmtree(state_dir / _STAGING, ignore_errors=True)
    return False


def last_written(repo: Path, relative: str) -> bytes | None:
    """What mcg-gen last wrote to a generated file (its base copy), None when that is unknown."""
    return _read_base(repo, relative, read_record(repo).files.get(relative))


def move_folder(repo: Path, old: str, new: str) -> None:
    """Move the generated folder `old` to `new` with everything in it (the user's files and
    edits included) and its record entries and base copies with it, so that the next plan sees
    it as if mcg-gen had always written it at `new`. Call it holding the repository lock.

    Each step is one rename; an interrupted move leaves every file in one of the two places."""
    source = repofs.confine(repo, old)
    target = repofs.confine(repo, new)
    if source.is_symlink() or not source.is_dir():
        raise McgError(
            f"cannot move {old}: it is not a folder",
            location=Location(old),
            hint="run 'mcg-gen generate' without --move to write the chart afresh",
        )
    if target.exists() or target.is_symlink():
        raise McgError(
            f"cannot move {old} to {new}: {new} already exists",
            location=Location(new),
            hint=f"move or remove {new} first, or run 'mcg-gen generate' without --move",
        )
    record = read_record(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(source, target)
    _prune_empty_dirs(repo, source.parent)
    base_source = repofs.confine(repo, base_path(old))
    if base_source.is_dir() and not base_source.is_symlink():
        base_target = repofs.confine(repo, base_path(new))
        base_target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(base_source, base_target)
        _prune_empty_dirs(repo, base_source.parent)

    def moved(relative: str) -> str:
        inside_old = relative.startswith(f"{old}/")
        return f"{new}/{relative.removeprefix(f'{old}/')}" if inside_old else relative

    files = {moved(relative): recorded for relative, recorded in record.files.items()}
    staged = repo / _MOVING_STATE
    _write_synced(staged, state_bytes(files, [moved(path) for path in record.conflicts]))
    os.replace(staged, repo / STATE_FILE)
    _fsync_dir(staged.parent)
