"""What `generate` wrote before, what it should do now, and doing it atomically.

The state file (`.mcg-gen/state.json`, committed with the repository) records every generated
file with the SHA-256 of the content mcg-gen wrote. A file on disk whose hash differs from its
record was edited by someone: it is reported and left alone unless forced (then backed up).

Writes are journaled. All new content is first written to a staging folder; the journal, written
atomically, is the commit point; then files are moved into place. A run killed before the
journal exists leaves the repository untouched (the staging folder is discarded next time); a run
killed after it is completed by the next run (`recover`). One run at a time holds the lock.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from generator import __version__
from generator.errors import Location, McgError

STATE_DIR = ".mcg-gen"
STATE_FILE = f"{STATE_DIR}/state.json"
STATE_VERSION = 1
_LOCK = "lock"
_JOURNAL = "journal.json"
_STAGING = "staging"
_BACKUPS = "backups"


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"  # edited by the user; left alone
    OVERWRITE = "overwrite"  # edited by the user; replaced under --force, with a backup
    ORPHAN = "orphan"  # no longer generated but edited by the user; left alone, forgotten


@dataclass(frozen=True)
class Change:
    path: str
    action: Action
    new: bytes | None = None  # content to write
    old: bytes | None = None  # content on disk, when there is one

    def diff(self) -> str:
        before = (self.old or b"").decode("utf-8", "replace").splitlines(keepends=True)
        after = (self.new or b"").decode("utf-8", "replace").splitlines(keepends=True)
        if self.action in (Action.CONFLICT, Action.OVERWRITE):
            labels = (f"{self.path} (yours)", f"{self.path} (generated)")
        else:
            labels = (f"a/{self.path}", f"b/{self.path}")
        return "".join(difflib.unified_diff(before, after, *labels))


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)  # the state file after applying

    def by_action(self, *actions: Action) -> list[Change]:
        return [change for change in self.changes if change.action in actions]

    @property
    def writes(self) -> list[Change]:
        return self.by_action(Action.CREATE, Action.UPDATE, Action.OVERWRITE)

    @property
    def deletes(self) -> list[Change]:
        return self.by_action(Action.DELETE)

    def is_noop(self, previous_state: Mapping[str, str]) -> bool:
        return not self.writes and not self.deletes and dict(previous_state) == self.state


def read_state(repo: Path) -> dict[str, str]:
    """The recorded files and hashes; an unreadable state file is an error, not a silent reset."""
    path = repo / STATE_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise ValueError("files must map paths to hashes")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise McgError(
            f"the state file is unreadable ({error})",
            location=Location(STATE_FILE),
            hint="restore it from git (git checkout -- .mcg-gen/state.json)",
        ) from None
    return dict(files)


def state_bytes(files: Mapping[str, str]) -> bytes:
    document = {
        "version": STATE_VERSION,
        "generator": f"mcg-gen {__version__}",
        "files": dict(sorted(files.items())),
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def _read_existing(path: Path) -> bytes | None:
    if path.is_symlink():
        raise McgError(
            "refusing to write through a symbolic link",
            location=Location(str(path)),
            hint="replace the link with a regular file or remove it",
        )
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError as error:
        raise McgError(f"cannot read: {error.strerror}", location=Location(str(path))) from None


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
    """The absolute path of `relative`, refusing anything that resolves outside the repository."""
    return _inside_checker(repo)(relative)


def _inside_checker(repo: Path) -> Callable[[str], Path]:
    """`check_inside` for many paths of one repository: each folder is resolved once."""
    root = repo.resolve()
    verdicts: dict[Path, bool] = {}

    def check(relative: str) -> Path:
        target = repo / relative
        folder = target.parent
        if folder not in verdicts:
            resolved = folder.resolve()
            verdicts[folder] = resolved == root or root in resolved.parents
        if not verdicts[folder]:
            raise McgError(
                f"{relative} would be written outside the repository (a folder on its path is "
                "a symbolic link pointing elsewhere)",
                hint="remove the link",
            )
        return target

    return check


def _decide(current: str | None, desired: str, recorded: str | None, force: bool) -> Action:
    """What to do with one generated file, from content hashes: on disk, wanted, last written."""
    if current is None:
        return Action.CREATE
    if current == desired:
        return Action.UNCHANGED
    if recorded is not None and current == recorded:
        return Action.UPDATE
    return Action.OVERWRITE if force else Action.CONFLICT


def _decide_stale(current: str, recorded: str) -> Action:
    """What to do with a file mcg-gen wrote before but no longer generates."""
    return Action.DELETE if current == recorded else Action.ORPHAN


def make_plan(repo: Path, desired: Mapping[str, bytes], *, force: bool = False) -> Plan:
    previous = read_state(repo)
    inside = _inside_checker(repo)
    plan = Plan()
    for relative, content in desired.items():
        current = _read_existing(inside(relative))
        recorded = previous.get(relative)
        wanted = digest(content)
        action = _decide(None if current is None else digest(current), wanted, recorded, force)
        plan.changes.append(Change(relative, action, content, current))
        # a conflict keeps what we last wrote: the file stays "edited" until the user resolves it
        plan.state[relative] = (recorded or wanted) if action is Action.CONFLICT else wanted
    for relative, recorded in previous.items():
        if relative in desired:
            continue
        current = _read_existing(inside(relative))
        if current is not None:
            action = _decide_stale(digest(current), recorded)
            plan.changes.append(Change(relative, action, None, current))
    plan.changes.sort(key=lambda change: change.path)
    return plan


def out_of_date(
    repo: Path,
    desired: Mapping[str, str],
    digest_of: Callable[[Path, os.stat_result], str] | None = None,
) -> list[str]:
    """Paths `generate` would create, update or remove, given the wanted hashes of its files
    (edited files are the user's and do not count). `digest_of` may answer from a cache."""
    previous = read_state(repo)
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
            return digest_of(path, status) if digest_of else digest(path.read_bytes())
        except OSError:
            return None

    stale = []
    for relative, wanted in desired.items():
        action = _decide(current(relative), wanted, previous.get(relative), False)
        if action in (Action.CREATE, Action.UPDATE):
            stale.append(relative)
    for relative, recorded in previous.items():
        existing = None if relative in desired else current(relative)
        if existing is not None and _decide_stale(existing, recorded) is Action.DELETE:
            stale.append(relative)
    return sorted(stale)


@contextlib.contextmanager
def repository_lock(repo: Path) -> Iterator[None]:
    """Hold the repository's lock; a second run fails at once with a clear message."""
    state_dir = repo / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    handle = open(state_dir / _LOCK, "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
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
    with open(path, "wb") as handle:
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
    state_dir = repo / STATE_DIR
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
        staged_state = staging / "state"
        staged_state.write_bytes(state_bytes(plan.state))
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


def _replay(repo: Path, operations: list[dict[str, str]]) -> None:
    """Carry out journaled operations; each is idempotent, so a re-run after a crash is safe."""
    inside = _inside_checker(repo)
    made: set[Path] = set()
    for operation in operations:
        target = inside(operation["path"])
        if operation["op"] == "backup":
            backup = repo / operation["to"]
            if target.exists() and not backup.exists():
                backup.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(target, backup)
        elif operation["op"] == "write":
            source = repo / operation["from"]
            if source.exists():
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
    state_dir = repo / STATE_DIR
    journal = state_dir / _JOURNAL
    if journal.exists():
        try:
            operations = json.loads(journal.read_text(encoding="utf-8"))["operations"]
        except (OSError, ValueError, KeyError) as error:
            raise McgError(
                f"the journal of an interrupted run is unreadable ({error})",
                location=Location(f"{STATE_DIR}/{_JOURNAL}"),
                hint="restore the repository from git and delete the journal",
            ) from None
        with _signals_deferred():
            _replay(repo, operations)
        return True
    (state_dir / (_JOURNAL + ".tmp")).unlink(missing_ok=True)
    shutil.rmtree(state_dir / _STAGING, ignore_errors=True)
    return False
