"""A content-addressed cache of validation results, outside the repository.

Entries live in `$MCG_GEN_CACHE_DIR`, else `$XDG_CACHE_HOME/mcg-gen`, else `~/.cache/mcg-gen`, in
one folder per repository. Each entry is a JSON file holding the key it was computed for and the
content hashes of the files it depends on; an entry whose key or dependencies differ is ignored.
Deleting the folder is always safe. Entries hold findings and counts, what each chart rendered
for a group (`RenderMemo`: never a chart that renders a Secret), and for `mcg-gen diff` the
rendered manifests of a group, Secret values masked (entry files are private to the user:
mkstemp's 0600).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import posixpath
import stat
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import __version__, repofs
from generator.findings import Finding, Severity

if TYPE_CHECKING:  # only a run that renders needs Helm
    from generator.helm import HelmWorker, RenderedDoc

FORMAT = 2
STAT_TABLE = "file-hashes.json"
# folder path -> ["mtime ctime inode device", names, links, subfolders]: see
# Cache.repository_fingerprint
LISTINGS = "folder-listings.json"
TOOL_DIGESTS = "tool-digests.json"  # see tool_digest
TOOL_DIGESTS_KEPT = 8
# From this many files, a second process looks at half of them (see _files_digest)
PARALLEL_FILES = 2_000
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


def tree_digest(
    folder: Path,
    hash_file: Callable[[str, os.stat_result], str] | None = None,
    tree: repofs.Tree | None = None,
) -> str:
    """One hash of every entry below `folder` (names, file contents, link targets), walked in
    `tree` when given."""
    digest = hashlib.sha256()
    for name, path, status in (tree or repofs.Tree()).walk(folder):
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
        self._listings: dict[str, Any] | None = None  # folder listings (LISTINGS), once read
        self._listed: set[str] = set()  # the folders walked in this run
        self._relisted = False
        self._started = time.time_ns()
        self._resolver = repofs.Resolver()  # one run's view of the repository's links
        self.tree = repofs.Tree()  # and of its folders (each listed once per run)
        self._allowed_folders: dict[str, bool] = {}  # most files share a folder with others

    def _stat_table(self) -> dict[str, list[int | str]]:
        if self._known is None:
            self._known = _read_json(self.folder / STAT_TABLE) if self.enabled else {}
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

    def repository_fingerprint(self, repo: Path, leaving_out: Iterable[str] = ()) -> str | None:
        """Names, sizes, times (modification and change) and inodes of every file of the
        repository (outside .git and the folders `leaving_out`, repository paths); None when the
        cache is off or a file changed too recently to trust its times.

        os.walk's order and choice of entries (links to folders are neither entered nor
        listed). This walk is most of an unchanged repository's run: a folder whose own times,
        inode and device are those of the last run has the entries it had then (creating,
        removing or renaming an entry changes its folder's times), so its listing is taken from
        the last run's (LISTINGS) and only its files are looked at, one lstat each (on a large
        repository, half of them by a second process: see _files_digest); a folder that
        changed, or changed too recently to trust its times, is listed again."""
        if not self.enabled:
            return None
        newest = self._started - RACY_NS
        if self._listings is None:
            self._listings = _read_json(self.folder / LISTINGS)
        listings, listed = self._listings, self._listed
        files: list[tuple[str, str, str]] = []  # (folder/, its names, its links), in walk order
        count = 0  # of names
        pending = [os.path.abspath(repo)]  # one spelling of each folder, whatever the caller's
        skipped = {os.path.join(pending[0], folder) for folder in leaving_out}
        while pending:
            folder = pending.pop()
            try:
                status = os.stat(folder)  # before listing it: a change in between is seen next time
            except OSError:
                continue  # os.walk skips a folder it cannot list
            identity = f"{status.st_mtime_ns} {status.st_ctime_ns} {status.st_ino} {status.st_dev}"
            listed.add(folder)
            kept = listings.get(folder)
            if (
                type(kept) is list
                and len(kept) == 4
                and kept[0] == identity
                and type(kept[1]) is type(kept[2]) is type(kept[3]) is str
            ):
                listing = kept
            else:
                try:
                    with os.scandir(folder) as found:
                        entries = sorted(found, key=_name)
                except OSError:
                    continue
                sorted_out = _sort_out(entries)
                if sorted_out is None:
                    return None
                listing = [identity, *sorted_out]
                self._relisted = True
                if status.st_mtime_ns < newest and status.st_ctime_ns < newest:
                    listings[folder] = listing
                else:
                    listings.pop(folder, None)  # listed again next time
            _, names, links, subfolders = listing
            base = folder if folder.endswith("/") else folder + "/"
            if names:
                files.append((base, names, links))
                count += names.count("/") + 1
            if subfolders:
                entered = (base + name for name in reversed(subfolders.split("/")))
                pending.extend(folder for folder in entered if folder not in skipped)
        return _files_digest(files, count, newest)

    def folder_fingerprint(self, folder: Path) -> str | None:
        """Names, sizes, times and inodes of the files below `folder`, as `repofs.walk` finds
        them; None when the cache is off or a file changed too recently to trust its times."""
        if not self.enabled:
            return None
        walked = ((name, status) for _, name, status in self.tree.walk(folder))
        return _stamps(walked, self._started - RACY_NS)

    def paths_fingerprint(self, root: Path, relatives: Sequence[str]) -> str | None:
        """Type, size, times and inode (lstat) of each of `relatives` (repository paths below
        `root`) and of every folder on their way: editing, replacing or removing one of them,
        or swapping a folder for a link, changes it. None when the cache is off or one of them
        changed too recently to trust its times."""
        if not self.enabled:
            return None
        folders: dict[str, None] = {}
        for relative in relatives:
            folder = posixpath.dirname(relative)
            while folder and folder not in folders:
                folders[folder] = None
                folder = posixpath.dirname(folder)
        base = os.path.join(os.path.abspath(root), "")
        looked_at = ((name, _lstat(base + name)) for name in (*folders, *relatives))
        return _stamps(looked_at, self._started - RACY_NS)

    def _allowed_folder(self, folder: str) -> bool:
        """`_allowed` of a folder, asked once per run (the Resolver also sees each folder's
        links once per run); a plain subfolder a walk entered is where its parent is."""
        known = self._allowed_folders.get(folder)
        if known is None:
            parent = self.tree.entered_from(folder)
            allowed = self._allowed_folder(parent) if parent is not None else None
            known = self._allowed_folders[folder] = allowed or self._allowed(Path(folder))
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
                self._digests[name] = tree_digest(path, self.file_digest, self.tree)
            else:
                self._digests[name] = self.file_digest(path)
        return self._digests[name]

    def save(self) -> None:
        """Keep the file hashes learnt in this run for the next one."""
        if self.enabled and self._known_changed and self._known is not None:
            self._write(STAT_TABLE, self._known)
        kept = self._listings
        if kept is not None and (self._relisted or len(kept) != len(self._listed)):
            # the folders this run walked: one that is gone is not kept
            self._write(LISTINGS, {name: kept[name] for name in self._listed if name in kept})

    def tool_digest(self) -> str:
        """`tool_digest`, from the digests kept by file times when the cache is on."""
        return kept_tool_digest() if self.enabled else tool_digest()

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
        _write_json(self.folder, file, content)


class RenderMemo:
    """Charts rendered by earlier runs, for `render.render_charts`: what a chart rendered for a
    group is kept (per group, chart, release and namespace) with what it depends on: the
    chart's files, the values, release and namespace, Helm and mcg-gen. While those are the
    same, the chart is not rendered again. A chart that renders a Secret, or objects JSON would
    not give back as they were, is rendered every time (the cache holds no Secret's values).
    Made in the main process; picklable for the worker processes, which read the cache
    themselves."""

    def __init__(self, store: Cache, tool: str) -> None:
        self._repo, self._enabled, self._roots = store._repo, store.enabled, store._roots[1:]
        self._tool = tool  # Helm's version and mcg-gen's digest
        self._store: Cache | None = store

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_store": None}  # a worker process opens the cache anew

    def render(
        self,
        helm: HelmWorker,
        group: str,
        chart_dir: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
    ) -> list[RenderedDoc]:
        """`helm.render`, answered from the cache when it can be. The chart is checked as for
        every render (`helm.check_chart`: a link out of it, a pipe, a .git folder, a schema
        that refers outside itself raise as they would), and the key holds the name, size and
        times of every file Helm loads besides the digest of their content."""
        from generator.helm import RenderedDoc, check_chart

        if self._store is None:
            self._store = Cache(self._repo, enabled=self._enabled, roots=self._roots)
        store = self._store
        name = f"render:{group}:{chart_dir}:{release}:{namespace}"
        key = self._key(store, check_chart(chart_dir), chart_dir, values, release, namespace)
        found = store.get(name, key) if key is not None else None
        if found is not None:
            return [
                RenderedDoc(
                    str(template), body, int(line), tuple((str(p), int(n)) for p, n in keys)
                )
                for template, body, line, keys in found["documents"]
            ]
        documents = helm.render(chart_dir, values, release=release, namespace=namespace)
        kept = _as_json(documents) if key is not None else None
        if kept is not None:
            store.put(name, str(key), {"documents": kept}, ())
        return documents

    def _key(
        self,
        store: Cache,
        files: str,
        chart_dir: Path,
        values: Mapping[str, Any],
        release: str,
        namespace: str,
    ) -> str | None:
        if not store.enabled:
            return None
        chart = store.digest(str(chart_dir))
        if chart.startswith(("outside", "missing")):
            return None  # not a folder mcg-gen may hash: rendered every time
        # repr, not JSON: it tells 1 from "1" and True from 1 (values are plain YAML data; an
        # object repr cannot spell the same twice only misses)
        given = hashlib.sha256(repr(values).encode(errors="surrogateescape")).hexdigest()
        return key_of("render", files, chart, given, release, namespace, self._tool)


def _as_json(documents: Sequence[RenderedDoc]) -> list[list[Any]] | None:
    """Rendered objects as a render-cache entry keeps them; None for objects not to keep: a
    Secret (or a List holding one), or data JSON would change (dates, keys that are no
    strings)."""
    kept: list[list[Any]] = []
    for document in documents:
        body = document.body
        items = body.get("items") if body.get("kind") == "List" else None
        bodies = [body, *(items if isinstance(items, list) else ())]
        if any(isinstance(item, dict) and item.get("kind") == "Secret" for item in bodies):
            return None
        kept.append(
            [document.template, body, document.line, [list(k) for k in document.duplicate_keys]]
        )
    try:
        same = json.loads(json.dumps(kept)) == kept
    except (TypeError, ValueError):
        return None
    return kept if same else None


def _read_json(path: Path) -> dict[str, Any]:
    """A table the cache keeps, empty when it is missing or not a JSON object."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _write_json(folder: Path, file: str, content: Any) -> None:
    """Replace `folder`/`file` with `content` at once (readers see the old or the new)."""
    import tempfile  # only a run that stores something needs it

    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(content))  # dumps is json's C encoder, dump is not
        os.replace(temporary, folder / file)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(temporary)


def _stamps(entries: Iterable[tuple[str, os.stat_result | None]], newest: int) -> str | None:
    """One hash of each entry's name, type, size, times and inode (a missing entry, None, by
    its name): what changes when a file is edited, replaced, moved or removed, like git's
    index. None when an entry changed after `newest`, too recently for its times to tell."""
    digest = hashlib.sha256()
    for name, status in entries:
        if status is None:
            record = f"{name}\0-\0"
        else:
            modified, changed = status.st_mtime_ns, status.st_ctime_ns
            if modified >= newest or changed >= newest:
                return None
            record = (
                f"{name}\0{status.st_mode}\0{modified}\0{changed}\0{status.st_size}\0"
                f"{status.st_ino}\0"
            )
        digest.update(record.encode(errors="surrogateescape"))
    return digest.hexdigest()


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _times(status: os.stat_result) -> tuple[int, int]:
    return status.st_mtime_ns, status.st_ctime_ns


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _sort_out(entries: list[os.DirEntry[str]]) -> tuple[str, str, str] | None:
    """A folder's listing as LISTINGS keeps it: the names that are not folders (links to
    folders included: whether a link leads to a folder is asked on every walk), those of them
    that are links, and the folders to enter (not .git); each joined by "/", which no name
    holds. None when an entry cannot be looked at."""
    names, links, folders = [], [], []
    for entry in entries:
        try:
            if entry.is_symlink():
                links.append(entry.name)
            elif entry.is_dir():
                if entry.name != ".git":
                    folders.append(entry.name)
                continue
        except OSError:
            return None
        names.append(entry.name)
    return "/".join(names), "/".join(links), "/".join(folders)


def _files_digest(files: list[tuple[str, str, str]], count: int, newest: int) -> str | None:
    """The digest of every name's lstat (see Cache.repository_fingerprint), in two halves: on
    a large repository and a machine with a second core, a forked child looks at the second
    meanwhile (the same answer: when it gives none, this process looks). None if a file
    changed after `newest`."""
    middle, seen = len(files), 0
    for index, (_, names, _) in enumerate(files):
        seen += names.count("/") + 1
        if 2 * seen >= count:
            middle = index + 1
            break
    first, second = files[:middle], files[middle:]
    child = _in_child(second, newest) if count >= PARALLEL_FILES and _cores() > 1 else None
    try:
        ours = _half_digest(first, newest)
    finally:
        theirs = child() if child else None  # and the child reaped, whatever happened here
    if theirs is None:
        theirs = _half_digest(second, newest)
    elif theirs == _TOO_RECENT:
        theirs = None
    if ours is None or theirs is None:
        return None
    return hashlib.sha256(f"{ours} {theirs}".encode()).hexdigest()


def _half_digest(files: list[tuple[str, str, str]], newest: int) -> str | None:
    digest = hashlib.sha256()
    lstat = os.lstat
    for base, names, links in files:
        linked = links.split("/") if links else ()
        records = []
        for name in names.split("/"):
            path = base + name
            try:
                if linked and name in linked and _is_folder(path):
                    continue  # a link to a folder, as os.walk: neither entered nor listed
                entry = lstat(path)
            except OSError:
                return None
            modified, changed = entry.st_mtime_ns, entry.st_ctime_ns  # inline: 13,000 files
            if modified >= newest or changed >= newest:
                return None
            records.append(f"{path}\0{modified}\0{changed}\0{entry.st_size}\0{entry.st_ino}\0")
        digest.update("".join(records).encode(errors="surrogateescape"))
    return digest.hexdigest()


_TOO_RECENT = "too recent"  # a forked child's answer when _half_digest's is None


def _in_child(files: list[tuple[str, str, str]], newest: int) -> Callable[[], str | None] | None:
    """`_half_digest(files, newest)` started in a forked child; None where it cannot be (no
    fork, or other threads running, which a fork copies in the middle of what they do). Call
    the answer for the child's: a digest, _TOO_RECENT, or None when it gave none."""
    threads = sys.modules.get("threading")
    if not hasattr(os, "fork") or (threads is not None and threads.active_count() > 1):
        return None
    try:
        reader, writer = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # the child: its answer through the pipe, and gone without exit handlers
        code = 1
        try:
            os.close(reader)
            os.write(writer, (_half_digest(files, newest) or _TOO_RECENT).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)

    def answer() -> str | None:
        received = b""
        try:
            while chunk := os.read(reader, 128):
                received += chunk
        except OSError:
            received = b""
        finally:
            os.close(reader)
            with contextlib.suppress(ChildProcessError):  # reaped already (SIGCHLD ignored)
                os.waitpid(pid, 0)
        text = received.decode("ascii", "replace")
        return text if text == _TOO_RECENT or len(text) == 64 else None

    return answer


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every system
        return os.cpu_count() or 1


def _is_folder(path: str) -> bool:
    """DirEntry.is_dir() of a link: its target is a folder; a missing target is not one."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


@functools.cache
def tool_digest() -> str:
    """mcg-gen itself: its code, charts and schemas (in a development checkout they change
    without a version bump, and cached results must not outlive them)."""
    return key_of(*(tree_digest(folder) for folder in _tool_folders()))


@functools.cache
def kept_tool_digest() -> str:
    """tool_digest, read again only when a file's name, size, times or inode changed: the
    digests of those are kept in TOOL_DIGESTS, shared by every repository (as
    Cache.file_digest, one file at a time)."""
    tree = repofs.Tree()
    walked = ((path, status) for folder in _tool_folders() for _, path, status in tree.walk(folder))
    stamp = _stamps(walked, time.time_ns() - RACY_NS)
    if stamp is None:
        return tool_digest()  # a file changed a moment ago: its times do not tell yet
    table = _read_json(cache_root() / TOOL_DIGESTS)
    known = table.get(stamp)
    if isinstance(known, str):
        return known
    digest = tool_digest()
    # a few installations (virtual environments, checkouts) share the cache: keep theirs
    kept = dict(list(table.items())[-(TOOL_DIGESTS_KEPT - 1) :])
    _write_json(cache_root(), TOOL_DIGESTS, {**kept, stamp: digest})
    return digest


def _tool_folders() -> tuple[Path, ...]:
    from generator import bundled

    return Path(__file__).parent, bundled.charts_dir(), bundled.schemas_dir()
