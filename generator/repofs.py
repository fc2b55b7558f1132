"""The one rule for every byte mcg-gen reads or writes on behalf of a repository.

A repository is untrusted input (validate runs on pull requests, generate in clones). A path it
names (a values file, an application's chart or value file, a journal or state entry, a file a
finding points at) is used only when:

- it is relative, has no `..` step and no `.git` step, and holds no control character;
- once symbolic links are resolved it is still inside the repository and still not under `.git`;
- for reading, it is a regular file (never a device, FIFO or socket: opened without blocking and
  checked on the open descriptor), of at most `limit` bytes (read `limit + 1`, then stop).

Files the user names on the command line (a facts file, a values-secret file) are the user's
own: they are not confined to the repository, but they are read by the same bounded reader.
See SECURITY.md for the threat model.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from collections.abc import Collection, Iterator
from pathlib import Path

from generator.errors import Location, McgError

GIT_DIR = ".git"
# Generous for YAML and chart files, small enough that no hostile file costs much memory.
DEFAULT_LIMIT = 8 * 1024 * 1024
# What hashing reads of one file at most; a larger file is hashed by its size and time only.
HASH_LIMIT = 256 * 1024 * 1024
_CHUNK = 1024 * 1024


class UnsafePath(McgError):
    """A path from a repository that mcg-gen refuses to follow."""


class UnreadableFile(McgError):
    """A file that is not a regular file, or cannot be opened."""


class FileTooLarge(UnreadableFile):
    """A file larger than the reader's limit."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def lexical_problem(relative: str) -> str | None:
    """Why `relative` may not be used as a repository path, judged by its text alone."""
    if not relative:
        return "is empty"
    if _CONTROL.search(relative):
        return "contains a control character"
    if relative.startswith(("/", "\\", "~")) or "\\" in relative:
        return "is not a relative path inside the repository"
    normal = posixpath.normpath(relative)
    if normal == ".." or normal.startswith("../"):
        return "leaves the pattern repository"
    if GIT_DIR in normal.split("/"):
        return "is inside a .git folder"
    return None


def normalise(relative: str) -> str:
    """`relative` without `.` steps, doubled and trailing slashes (after `lexical_problem`)."""
    return posixpath.normpath(relative)


def _within(resolved: Path, root: Path) -> bool:
    """Whether `resolved` is `root` or below it, and not in a `.git` folder (both resolved:
    compared as text, as pathlib would, without its cost per part for thousands of files)."""
    name, base = str(resolved), str(root)
    if name == base:
        return True
    prefix = base.rstrip("/") + "/"
    if not name.startswith(prefix):
        return False
    return GIT_DIR not in name[len(prefix) :].split("/")


def confine(
    root: Path, relative: str, *, where: Location | None = None, resolver: Resolver | None = None
) -> Path:
    """`root/relative`, resolved, refusing anything that leaves `root` or enters `.git`.

    The path need not exist; the parts of it that do are resolved (links followed), by
    `resolver` when given (for many paths of one run)."""
    problem = lexical_problem(relative)
    place = where or Location(relative)
    if problem:
        raise UnsafePath(
            f"path {relative!r} {problem}",
            location=place,
            hint="paths are relative to the repository root and may not climb out of it or "
            "into .git",
        )
    if resolver is None:
        base = root.resolve()
        resolved = (base / normalise(relative)).resolve()
    else:
        base = resolver.resolve_folder(root.absolute())
        resolved = resolver.resolve(base / normalise(relative))
    if not _within(resolved, base):
        raise UnsafePath(
            f"path {relative!r} is a symlink that "
            + (
                "leads into .git"
                if resolved.is_relative_to(base)
                else "leaves the pattern repository"
            ),
            location=place,
            hint="Argo CD refuses such files, and mcg-gen reads only inside the repository: "
            "replace the link with the file itself",
        )
    return resolved


def is_confined(root: Path, path: Path, resolver: Resolver | None = None) -> bool:
    """Whether an existing `path` resolves inside `root` and outside `.git`."""
    try:
        if resolver is None:
            return _within(path.resolve(), root.resolve())
        return resolver.confined(root, path)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False


class Resolver:
    """`Path.resolve` for the many files of one walk: each folder's links are resolved once, and
    a file's own name only when it is a link. For one run over a tree (a folder replaced by a
    link during the run is seen as it was when first resolved, as with one walk)."""

    def __init__(self) -> None:
        self._folders: dict[str, Path] = {}
        self._confined: dict[tuple[str, str], bool] = {}  # (root, folder): inside root

    def confined(self, root: Path, path: Path) -> bool:
        """`is_confined(root, path)`: a file that is not a link is inside `root` when its folder
        is (and it is no `.git`), and a folder is judged once for all the files it holds."""
        try:
            is_link = stat.S_ISLNK(os.lstat(path).st_mode)
        except (OSError, ValueError):
            is_link = False
        if is_link or path.name in ("", ".", ".."):
            return _within(path.resolve(), self.resolve_folder(root))
        folder = os.path.dirname(path)
        key = (str(root), folder)
        verdict = self._confined.get(key)
        if verdict is None:
            resolved = self.resolve_folder(Path(folder))
            verdict = self._confined[key] = _within(resolved, self.resolve_folder(root))
        return verdict and path.name != GIT_DIR

    def resolve_folder(self, folder: Path) -> Path:
        """`folder.resolve()`, from its parent's when the folder itself is not a link (one
        lstat per folder of a tree, not one per part of each folder's path)."""
        name = str(folder)
        resolved = self._folders.get(name)
        if resolved is None:
            parent, base = os.path.split(name)
            try:
                plain = not stat.S_ISLNK(os.lstat(name).st_mode)
            except (OSError, ValueError):
                plain = False  # missing or odd: Path.resolve decides
            if plain and folder.is_absolute() and parent != name and base not in ("", ".", ".."):
                resolved = self.resolve_folder(Path(parent)) / base
            else:
                resolved = folder.resolve()
            self._folders[name] = resolved
        return resolved

    def resolve(self, path: Path) -> Path:
        """What `path.resolve()` returns (raises RuntimeError on a symlink loop as it does)."""
        try:
            is_link = stat.S_ISLNK(os.lstat(path).st_mode)
        except (OSError, ValueError):
            is_link = False  # missing: resolve keeps the name, as it does
        if is_link or path.name in ("", ".", ".."):
            return path.resolve()
        return self.resolve_folder(path.parent) / path.name


def _open_regular(path: Path | str, display: str) -> tuple[int, os.stat_result]:
    """A descriptor of `path` if it is a regular file; never blocks on a FIFO or device."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise UnreadableFile(f"cannot read file: {reason}", location=Location(display)) from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        what = "a file" if stat.S_ISDIR(status.st_mode) else "a regular file"
        raise UnreadableFile(
            f"is {_kind(status.st_mode)}, not {what}: mcg-gen reads regular files only",
            location=Location(display),
            hint="replace it with a regular file",
        )
    return descriptor, status


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def read_bytes(path: Path, *, limit: int = DEFAULT_LIMIT, display: str | None = None) -> bytes:
    """The content of a regular file of at most `limit` bytes (st_size is not trusted)."""
    name = display or str(path)
    descriptor, status = _open_regular(path, name)
    try:
        if status.st_size > limit:
            raise _too_large(status.st_size, limit, name)
        chunks = list(_chunks(descriptor, limit + 1))
    except OSError as error:
        raise UnreadableFile(
            f"cannot read file: {error.strerror}", location=Location(name)
        ) from None
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise _too_large(len(data), limit, name)
    return data


def _chunks(descriptor: int, most: int) -> Iterator[bytes]:
    """What the descriptor holds, in chunks, up to `most` bytes (never trusting st_size)."""
    remaining = most
    while remaining > 0:
        chunk = os.read(descriptor, min(_CHUNK, remaining))
        if not chunk:
            return
        yield chunk
        remaining -= len(chunk)


def _too_large(size: int, limit: int, name: str) -> FileTooLarge:
    return FileTooLarge(
        f"file is {'more than ' if size == limit + 1 else ''}{size:,} bytes, larger than the "
        f"{limit:,} bytes mcg-gen reads",
        location=Location(name),
    )


def read_repo_file(
    root: Path, relative: str, *, limit: int = DEFAULT_LIMIT, where: Location | None = None
) -> bytes:
    """A repository file's content, confined and bounded (see the module's rule)."""
    return read_bytes(confine(root, relative, where=where), limit=limit, display=relative)


def file_digest(path: Path | str) -> str:
    """SHA-256 of a regular file's content; a marker for anything else, never blocking.

    Files above HASH_LIMIT are identified by size and time instead of being read whole."""
    try:
        descriptor, status = _open_regular(path, str(path))
    except UnreadableFile:
        return "missing"
    try:
        if status.st_size > HASH_LIMIT:
            return f"large:{status.st_size}:{status.st_mtime_ns}"
        digest = hashlib.sha256()
        for chunk in _chunks(descriptor, HASH_LIMIT + 1):
            digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return "missing"
    finally:
        os.close(descriptor)


def walk(folder: Path) -> Iterator[tuple[str, Path, os.stat_result]]:
    """(relative name, path, lstat) of every entry below `folder` that is a regular file or a
    symbolic link, in a stable order; `.git` folders and links to folders are not entered."""
    for relative, full, status in walk_names(folder):
        yield relative, Path(full), status


def walk_names(folder: Path) -> Iterator[tuple[str, str, os.stat_result]]:
    """`walk` with the full path as text: for walks over thousands of files, where building a
    Path for each costs more than the walk itself."""
    return Tree().walk(folder)


_NOT_ENTERED = (GIT_DIR, "__pycache__")

Listing = tuple[list[tuple[str, os.stat_result]], list[str]]


class Tree:
    """`walk_names` for the many walks of one run over a tree (every chart's digest, the
    secrets scan, the template keys): each folder is listed once and each of its entries looked
    at once (lstat), however many walks pass through it. A file changed during the run is seen
    as it was when first walked, as within one walk."""

    def __init__(self) -> None:
        self._listings: dict[str, Listing | None] = {}  # None: a folder that cannot be listed
        self._entered_from: dict[str, str] = {}  # a folder walked into: the folder it is in

    def walk(
        self, folder: Path | str, leaving_out: Collection[str] = ()
    ) -> Iterator[tuple[str, str, os.stat_result]]:
        """(relative name, full path, lstat) of every regular file and symbolic link below
        `folder`, names sorted, each folder's files before its subfolders (os.walk's order).
        `.git` and `__pycache__` folders, the folders `leaving_out` (relative names) and links
        to folders are not entered; a link to a folder is itself an entry."""
        top = os.fspath(folder)
        pending = [(top, "")]
        while pending:
            current, below = pending.pop()
            listing = self._listing(current)
            if listing is None:
                continue
            files, subfolders = listing
            base = current if current.endswith("/") else current + "/"  # os.path.join's
            above = below + "/" if below else ""
            for name, status in files:
                yield above + name, base + name, status
            for name in reversed(subfolders):
                if above + name not in leaving_out:
                    pending.append((base + name, above + name))

    def entered_from(self, folder: str) -> str | None:
        """The folder a walk found `folder` in as a plain subfolder (not a link), if it did."""
        return self._entered_from.get(folder)

    def _listing(self, folder: str) -> Listing | None:
        if folder in self._listings:
            return self._listings[folder]
        files: list[tuple[str, os.stat_result]] = []
        subfolders: list[str] = []
        try:
            with os.scandir(folder) as entries:
                found = sorted(entries, key=_entry_name)
        except OSError:
            self._listings[folder] = None
            return None
        for entry in found:
            try:
                is_folder = entry.is_dir()  # a link to a folder too, as os.walk sees it
                if is_folder and entry.name in _NOT_ENTERED:
                    continue
                if is_folder and not entry.is_symlink():
                    subfolders.append(entry.name)
                    self._entered_from[entry.path] = folder
                    continue
                status = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(status.st_mode) or stat.S_ISLNK(status.st_mode):
                files.append((entry.name, status))
        self._listings[folder] = listing = (files, subfolders)
        return listing


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name
