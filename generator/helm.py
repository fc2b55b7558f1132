"""Rendering and linting Helm charts, in a child process with limits.

This is the only module that touches `helm_python`. The Helm SDK is Go code loaded into the
process: it is not fork-safe, and a chart whose `tpl` recurses forever kills the whole process
(Go aborts on stack or memory exhaustion; Python cannot catch it). So every chart is rendered
by a worker spawned as a fresh interpreter (never forked), bounded by an address-space limit
and a per-request timeout. The worker is kept for many renders (a render takes about a
millisecond; starting a worker about a hundred) and restarted after it dies. Rendering uses
`Chart.render`, which is `helm template` without a cluster: no kubeconfig is read and `lookup`
returns nothing.

A chart is untrusted input too. Before Helm sees it, mcg-gen refuses a chart that holds a
symlink leading out of it, a `.git` folder, a FIFO or device, or a values schema that refers
to anything outside itself (Helm's schema loader would fetch a `$ref` URL or read a `file://`
path). What the worker sends back is bounded in objects and bytes. One deadline covers a whole
run: no request waits past it, and a chart that hung once is not rendered again in that run.

Use `HelmWorker` as a context manager for batches (one per parallel process), or the
module-level `render_chart` / `lint_chart`, which share one worker per process.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import importlib.metadata
import json
import multiprocessing.util
import os
import re
import resource
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from generator import lintscreen, repofs, yamlio
from generator.errors import Location, McgError, shortened

DEFAULT_TIMEOUT_SECONDS = 60.0
# The Go runtime inside the worker needs a few hundred MiB just to start and render; 4 GiB
# leaves room for large charts while stopping a runaway template long before the host suffers.
DEFAULT_MEMORY_BYTES = 2 * 1024**3

# What one chart may render: far above any real chart (the largest synthetic pattern renders
# about 1,500 objects for one group), far below what would stall the parser.
MAX_RENDERED_OBJECTS = 20_000
MAX_RENDERED_BYTES = 64 * 1024 * 1024
# What a Helm message may take of the user's screen (a recursive include repeats itself).
MAX_MESSAGE_CHARS = 600
# The JSON Schema dialects Helm knows without fetching anything.
KNOWN_DIALECTS = frozenset(
    f"{scheme}://json-schema.org/{draft}{suffix}"
    for scheme in ("http", "https")
    for draft in (
        "schema",  # "the latest draft", which Helm's loader knows too
        "draft-04/schema",
        "draft-06/schema",
        "draft-07/schema",
        "draft/2019-09/schema",
        "draft/2020-12/schema",
    )
    for suffix in ("", "#")
)
_SCHEMA_FILE = "values.schema.json"
_SCHEMA_SCAN_BYTES = 100 * 1024 * 1024  # of a subchart archive, decompressed

_IMPORT_ROOT = str(Path(__file__).resolve().parent.parent)
_WORKER_CODE = "from generator.helm import _serve; _serve()"

_LINT_SEVERITIES = {0: "unknown", 1: "info", 2: "warning", 3: "error"}
# Helm names the failing template as "<chart>/templates/<file>:<line>[:<column>]".
_TEMPLATE_POSITION = re.compile(r"([\w.@+-]+(?:/[\w.@+-]+)+):(\d+)(?::(\d+))?")


@dataclass(frozen=True)
class RenderedDoc:
    """One object rendered from a chart.

    `template` is the template's path inside the chart (`templates/applications.yaml`); `line`
    is the 1-based line where the object starts in that template's rendered output;
    `duplicate_keys` holds the dotted path and line of each key the object repeats (the last
    one is kept, as Helm and Argo CD keep it).
    """

    template: str
    body: dict[str, Any]
    line: int
    duplicate_keys: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class LintMessage:
    """One `helm lint` message; `severity` is "info", "warning", "error" or "unknown"."""

    severity: str
    path: str
    message: str


class HelmError(McgError):
    """Helm could not load, render or lint a chart."""


class HelmCrashError(HelmError):
    """The Helm worker died or hung on a chart (runaway recursion, memory, time)."""


class HelmDeadlineError(HelmError):
    """The run's deadline passed before the chart was rendered."""


class HelmSchemaError(HelmError):
    """The chart's values schema refers to something outside it."""


class HelmMissingDependencies(HelmError):
    """The chart declares dependencies it does not carry: Argo CD fetches them (it runs helm
    dependency build), mcg-gen does not, so the chart cannot be rendered offline."""


def _limit_memory(memory_bytes: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _limit_file_size(file_bytes: int) -> None:
    """No file the worker writes grows past this (a download that does not end fails)."""
    if file_bytes > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))


def _serve() -> None:
    """The worker's loop (run as `python -c`): one request in, one answer out, until EOF."""
    requests = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # whatever Go prints must not corrupt the answer stream
    _limit_memory(int(sys.argv[1]))
    _limit_file_size(int(sys.argv[2]))
    import helm_python

    deprecated: dict[lintscreen.GroupVersionKind, bool] = {}  # lint's verdict on each API
    while True:
        try:
            operation, chart_dir, values, options = requests.recv()
        except EOFError:
            return
        try:
            if operation == "render":
                chart = helm_python.Chart.load(chart_dir)
                missing = _missing_dependencies(chart)
                if missing:
                    answers.send(("error", "MissingDependencies", "\n".join(missing)))
                    continue
                chart.validate_schema(values)
                answer: Any = chart.render(values, is_install=True, **options)
                problem = _oversized(answer)
                if problem:
                    answers.send(("error", "Oversized", problem))
                    continue
            elif operation == "pull":
                # chart_dir is the empty folder the archive is downloaded into
                helm_python.pull(
                    options["chart"],
                    repo_url=options["repo_url"] or None,
                    version=options["version"] or None,
                    destination=chart_dir,
                )
                answer = sorted(os.listdir(chart_dir))
            else:
                answer = None
                if options.get("screen", True):
                    with contextlib.suppress(Exception):  # the screen unsure: Helm lints
                        answer = _screened_lint(helm_python, chart_dir, values, deprecated)
                if answer is None:
                    answer = helm_python.lint(chart_dir, values)
            answers.send(("ok", answer))
        except helm_python.HelmError as error:
            answers.send(("error", type(error).__name__, str(error.detail)))
        except Exception as error:  # reported to the parent, never allowed to end the loop
            answers.send(("error", type(error).__name__, str(error)))


def _screened_lint(
    helm_python: Any,
    chart_dir: str,
    values: Mapping[str, Any],
    deprecated: dict[lintscreen.GroupVersionKind, bool],
) -> dict[str, Any] | None:
    """`helm lint`'s report on a chart the screen proves clean (see `lintscreen`), or None:
    lint the chart for real. `deprecated` remembers what lint said of each API it was asked
    about, for the worker's life."""
    if values:
        return None
    notices = lintscreen.chart_notices(Path(chart_dir))
    if notices is None:
        return None
    try:
        chart = helm_python.Chart.load(chart_dir)
        names = [str(template["name"]) for template in chart.templates]
        if not lintscreen.template_names_plain(names):
            return None
        chart.validate_schema({})  # lint's values rule, and the check before its render
        rendered = chart.render({}, name=lintscreen.LINT_RELEASE)
    except helm_python.HelmError:
        return None
    if _oversized(rendered):
        return None
    kinds = lintscreen.rendered_kinds(chart.name, names, rendered)
    if kinds is None:
        return None
    unknown = kinds - deprecated.keys()
    if unknown:
        deprecated.update(_lint_verdicts(helm_python, unknown))
    if any(deprecated[kind] for kind in kinds):
        return None
    messages = [{"severity": 1, "path": path, "error": text} for path, text in notices]
    return {"total_charts_linted": 1, "messages": messages, "errors": [], "screened": True}


def _lint_verdicts(
    helm_python: Any, kinds: set[lintscreen.GroupVersionKind]
) -> dict[lintscreen.GroupVersionKind, bool]:
    """Whether `helm lint` reports an object of each (apiVersion, kind) for its API alone: one
    lint of a probe chart that holds one otherwise clean object of each. Helm's own answer,
    never a list of deprecated APIs kept here."""
    templates = lintscreen.probe_templates(kinds)
    if templates is None:
        return dict.fromkeys(kinds, True)
    with tempfile.TemporaryDirectory(prefix="mcg-gen-probe-") as folder:
        Path(folder, "templates").mkdir()
        Path(folder, "Chart.yaml").write_text(lintscreen.PROBE_CHART_YAML, encoding="utf-8")
        for path, (api_version, kind) in templates.items():
            Path(folder, path).write_text(lintscreen.probe_text(api_version, kind), "utf-8")
        report = helm_python.lint(folder, {})
    reported = [entry for entry in report.get("messages") or [] if entry.get("severity", 0) >= 2]
    if report.get("errors") or any(entry.get("path") not in templates for entry in reported):
        return dict.fromkeys(kinds, True)  # the probe itself failed: trust nothing of it
    flagged = {entry.get("path") for entry in reported}
    return {kind: path in flagged for path, kind in templates.items()}


def _oversized(rendered: dict[str, str]) -> str:
    """Why a chart's rendered output is too large to take in, or ''."""
    size = sum(len(text) for text in rendered.values())
    if size > MAX_RENDERED_BYTES:
        return f"it rendered {size:,} bytes, more than the {MAX_RENDERED_BYTES:,} mcg-gen takes"
    objects = sum(text.count("\n---") + 1 for text in rendered.values())
    if objects > MAX_RENDERED_OBJECTS:
        return (
            f"it rendered about {objects:,} objects, more than the {MAX_RENDERED_OBJECTS:,} "
            "mcg-gen takes from one chart"
        )
    return ""


def _missing_dependencies(chart: Any) -> list[str]:
    """Dependencies Chart.yaml declares that the chart's charts/ folder does not hold, as
    "name (repository)". Helm's `template` refuses to render without them, and mcg-gen never
    downloads anything, so the repository must carry them."""
    loaded = {str(dependency.get("name")) for dependency in chart.dependencies}
    declared = chart.metadata.get("dependencies") or []
    return [
        f"{entry.get('name')} ({entry.get('repository') or 'no repository'})"
        for entry in declared
        if isinstance(entry, dict) and str(entry.get("name")) not in loaded
    ]


def _worker_pythonpath() -> str:
    inherited = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(filter(None, [_IMPORT_ROOT, inherited]))


class HelmWorker:
    """A reusable Helm worker process; use as a context manager, or call `close()`."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        file_bytes: int = 0,
        helm_home: Path | None = None,
    ) -> None:
        """`file_bytes` bounds every file the worker writes (0: no bound); `helm_home` is where
        Helm keeps its own cache and configuration (repository indexes), instead of the
        user's ~/.cache/helm."""
        self.timeout = timeout
        self.memory_bytes = memory_bytes
        self.file_bytes = file_bytes
        self.helm_home = helm_home
        self._process: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None
        self._receive: Connection | None = None
        self._log: Any = None  # the worker's stderr: an unlinked temporary file
        self.deadline: float | None = None  # time.time() after which nothing more is rendered
        self.hung_registry: Path | None = None  # charts that hung, shared by a run's processes
        self._hung: set[str] = set()  # fingerprints of charts that hung in this worker
        self.screened_lints = 0  # lints the screen answered without Helm's lint (lintscreen)

    def limit(
        self,
        deadline: float | None,
        *,
        run_timeout: float | None = None,
        hung_registry: Path | None = None,
    ) -> None:
        """Set the limits of one run: nothing is rendered after `deadline` (seconds since the
        epoch); one chart may take a quarter of the run's `run_timeout` (at most the default),
        so that a run meeting a looping chart still gets through the rest; charts that hang are
        remembered in `hung_registry`, a folder every process of the run shares."""
        self.deadline = deadline
        self.timeout = (
            min(DEFAULT_TIMEOUT_SECONDS, max(1.0, run_timeout / 4))
            if run_timeout
            else DEFAULT_TIMEOUT_SECONDS
        )
        self.hung_registry = hung_registry

    def __enter__(self) -> HelmWorker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker (it is started again on the next request)."""
        for conn in (self._send, self._receive):
            if conn is not None:
                conn.close()
        self._send = self._receive = None
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def start(self) -> None:
        """Start the worker process now, without waiting for it: the first request then finds
        it ready (its start-up, about 0.2 s, overlaps other work)."""
        self._start()

    def _start(self) -> Connection:
        if self._receive is not None and self._process is not None and self._process.poll() is None:
            return self._receive
        self.close()
        # unlinked at once: nothing is left behind in the temporary folder, whatever happens
        self._log = tempfile.TemporaryFile(prefix="mcg-helm-", suffix=".log")  # noqa: SIM115
        # A fresh interpreter (fork + exec), not multiprocessing: nothing of this process,
        # its main module included, is inherited or re-imported by the worker.
        self._process = subprocess.Popen(
            [sys.executable, "-c", _WORKER_CODE, str(self.memory_bytes), str(self.file_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, "PYTHONPATH": _worker_pythonpath(), **self._helm_environment()},
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._send = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._receive = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        return self._receive

    def _helm_environment(self) -> dict[str, str]:
        if self.helm_home is None:
            return {}
        return {
            f"XDG_{kind}_HOME": str(self.helm_home / kind.lower())
            for kind in ("CACHE", "CONFIG", "DATA")
        }

    def _crash_reason(self) -> str:
        try:
            self._log.seek(0)
            log = self._log.read(1024 * 1024).decode(errors="replace")
        except (OSError, AttributeError):
            log = ""
        fatal = [line for line in log.splitlines() if line.startswith(("fatal error", "runtime:"))]
        return fatal[0] if fatal else "no message"

    def _hung_before(self, fingerprint: str) -> bool:
        registry = self.hung_registry
        return fingerprint in self._hung or bool(registry and (registry / fingerprint).exists())

    def _remember_hung(self, fingerprint: str) -> None:
        self._hung.add(fingerprint)
        if self.hung_registry is not None:
            # the registry is an optimisation: without it the chart is only tried again
            with contextlib.suppress(OSError):
                (self.hung_registry / fingerprint).touch()

    def _hang_error(self, chart_dir: Path) -> HelmCrashError:
        return HelmCrashError(
            f"Helm did not finish with chart {chart_dir.name!r} within {self.timeout:g} seconds",
            location=Location(str(chart_dir)),
            hint="a template probably loops forever (a recursive `tpl` or `include`)",
        )

    def _wait_limit(self, chart_dir: Path) -> float:
        """How long this request may take: the per-chart timeout, cut by the run's deadline."""
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.time()
        if left <= 0:
            raise HelmDeadlineError(
                f"chart {chart_dir.name!r} was not rendered: the run's time limit had passed",
                location=Location(str(chart_dir)),
                hint="raise --timeout (seconds) for a very large pattern",
            )
        return min(self.timeout, left)

    def _request(
        self,
        operation: str,
        chart_dir: Path,
        values: Mapping[str, Any],
        *,
        helm_text: bool = False,
        **options: Any,
    ) -> Any:
        """One request to the worker. A Helm error is explained as a chart's (file, line), or,
        with `helm_text`, raised with Helm's own words only."""
        fingerprint = check_chart(chart_dir)
        if self._hung_before(fingerprint):
            raise self._hang_error(chart_dir)  # the same finding, not another minute lost
        wait = self._wait_limit(chart_dir)
        conn = self._start()
        assert self._send is not None
        try:
            self._send.send((operation, str(chart_dir.resolve()), dict(values), options))
            answered = conn.poll(wait)
            answer = conn.recv() if answered else None
        except (EOFError, OSError):
            raise self._crashed(chart_dir) from None
        if answer is None:
            if self._process is not None:
                self._process.kill()
            self.close()
            if wait < self.timeout:
                raise HelmDeadlineError(
                    f"chart {chart_dir.name!r} was still rendering when the run's time limit "
                    "passed",
                    location=Location(str(chart_dir)),
                    hint="raise --timeout (seconds), or look for a template that loops",
                )
            self._remember_hung(fingerprint)
            raise self._hang_error(chart_dir)
        if answer[0] == "ok":
            return answer[1]
        _, kind, detail = answer
        if helm_text:
            raise HelmError(shortened(" ".join(str(detail).split()), MAX_MESSAGE_CHARS))
        raise _helm_error(chart_dir, kind, detail)

    def _crashed(self, chart_dir: Path) -> HelmCrashError:
        assert self._process is not None
        code = self._process.wait(timeout=5)
        reason = self._crash_reason()
        self.close()
        return HelmCrashError(
            f"Helm crashed while rendering chart {chart_dir.name!r} "
            f"(worker exit code {code}: {reason})",
            location=Location(str(chart_dir)),
            hint="a template that recurses without end (e.g. `tpl` of a value that calls "
            "`tpl` on itself) exhausts Go's stack or the worker's memory limit",
        )

    def render(
        self,
        chart_dir: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
    ) -> list[RenderedDoc]:
        """Every object the chart renders, in template order (`helm template` semantics)."""
        rendered = self.render_manifests(chart_dir, values, release=release, namespace=namespace)
        documents: list[RenderedDoc] = []
        for template, text in rendered:
            display = str(chart_dir / template)
            for document in yamlio.parse_documents(
                text, display, positions=False, allow_duplicate_keys=True
            ):
                if document.data is None:
                    continue
                if not isinstance(document.data, dict):
                    raise HelmError(
                        "template rendered something that is not a Kubernetes object",
                        location=document.location(()),
                    )
                line = document.positions.get((), (1, 1))[0]
                repeated = tuple(
                    (".".join(str(key) for key in key_path), key_line)
                    for key_path, key_line in document.duplicate_keys
                )
                documents.append(RenderedDoc(template, document.data, line, repeated))
        return documents

    def render_manifests(
        self,
        chart_dir: Path,
        values: Mapping[str, Any],
        *,
        release: str,
        namespace: str,
    ) -> list[tuple[str, str]]:
        """(template path inside the chart, rendered text) of every manifest template, sorted;
        messages such as NOTES.txt left out. `render` parses these."""
        rendered: dict[str, str] = self._request(
            "render", chart_dir, values, name=release, namespace=namespace
        )
        manifests = []
        for path in sorted(rendered):
            template = path.split("/", 1)[1] if "/" in path else path
            if template.endswith((".yaml", ".yml", ".json")):
                manifests.append((template, rendered[path]))
        return manifests

    def pull(self, chart: str, *, repo_url: str, version: str, destination: Path) -> Path:
        """Download `chart` from the Helm repository at `repo_url` into the empty folder
        `destination`, the newest version matching `version` (an exact version, a constraint
        such as `0.9.*` or `~0.2.0` resolved by Helm against the repository's index.yaml, or ''
        for the newest), and return the archive. The only request that uses the network."""
        scheme, separator, _ = repo_url.partition("://")
        if scheme in ("http", "https"):
            reference, index_url = chart, repo_url
        else:  # an OCI registry: Argo CD writes it without a scheme
            registry = repo_url.removeprefix("oci://") if separator else repo_url
            reference, index_url = f"oci://{registry.rstrip('/')}/{chart}", ""
        try:
            files: list[str] = self._request(
                "pull",
                destination,
                {},
                helm_text=True,
                chart=reference,
                repo_url=index_url,
                version=version,
            )
        except HelmCrashError as error:
            raise HelmError(
                f"the download was stopped: {error.message}",
                hint="the archive is larger than mcg-gen takes, or the server does not finish",
            ) from None
        except HelmDeadlineError:
            raise
        except HelmError as error:
            raise HelmError(
                f"the download failed: {error.message}",
                hint="check the repository URL, the chart's name and version, and the network",
            ) from None
        archives = [name for name in files if name.endswith(".tgz")]
        if len(archives) != 1:
            raise HelmError(
                f"the download left {files!r}", hint="expected one <chart>-<version>.tgz"
            )
        return destination / archives[0]

    def lint(
        self, chart_dir: Path, values: Mapping[str, Any], *, screen: bool = True
    ) -> list[LintMessage]:
        """`helm lint` of a chart directory with the given values: its messages, exactly. With
        `screen`, a chart `lintscreen` proves clean is answered without running lint (a tenth
        of the time); without, Helm always lints."""
        report: dict[str, Any] = self._request("lint", chart_dir, values, screen=screen)
        self.screened_lints += bool(report.get("screened"))
        messages = [
            LintMessage(
                _LINT_SEVERITIES.get(int(entry.get("severity", 0)), "unknown"),
                str(entry.get("path", "")),
                str(entry.get("error", "")),
            )
            for entry in report.get("messages") or []
        ]
        messages += [LintMessage("error", "", str(text)) for text in report.get("errors") or []]
        return messages


def check_chart(chart_dir: Path) -> str:
    """What every request checks before Helm loads a chart, raising HelmError. Refuse a chart
    with symlinks leading out of it: Helm follows them when it loads the chart, and `.Files.Get`
    would then read whatever they point at. Refuse a `.git` folder (a chart at the repository's
    root would hand git's configuration, credentials included, to templates), named pipes and
    devices (Helm reads every file, and those block or never end), and values schemas that
    refer outside themselves (see `schema_references`).

    Returns a fingerprint of the chart's files (names, sizes, times), one lstat each."""
    root = chart_dir.resolve()
    fingerprint = hashlib.sha256(str(root).encode(errors="surrogateescape"))
    schemas: list[Path] = []
    archives: list[Path] = []
    for folder, subfolders, files in os.walk(chart_dir):
        subfolders.sort()
        if repofs.GIT_DIR in subfolders or repofs.GIT_DIR in files:
            raise HelmError(
                f"chart {chart_dir.name!r} contains a .git folder",
                location=Location(str(Path(folder, repofs.GIT_DIR))),
                hint="a chart is a folder of its own inside the repository, never its root",
            )
        for name in subfolders + sorted(files):
            entry = Path(folder, name)
            try:
                status = entry.lstat()
            except OSError:
                continue
            mode = status.st_mode
            if stat.S_ISLNK(mode):
                if not repofs.is_confined(root, entry):
                    raise HelmError(
                        f"chart {chart_dir.name!r} contains a symlink that leaves the chart",
                        location=Location(str(entry)),
                        hint="a chart may only use its own files; copy the file into the chart",
                    )
                try:
                    mode = entry.stat().st_mode
                except OSError:
                    continue
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise HelmError(
                    f"chart {chart_dir.name!r} contains a named pipe, socket or device",
                    location=Location(str(entry)),
                    hint="a chart holds regular files only; remove it",
                )
            if name == _SCHEMA_FILE:
                schemas.append(entry)
            elif name.endswith(".tgz"):
                archives.append(entry)
            # the change time too: an edit that keeps size, inode and modification time (touch -r,
            # cp -p, rsync) still changes it, and nobody can set it back
            record = (
                f"{entry}\0{status.st_size}\0{status.st_mtime_ns}\0{status.st_ctime_ns}"
                f"\0{status.st_ino}\0"
            )
            fingerprint.update(record.encode(errors="surrogateescape"))
    for where, line, reference in schema_references(schemas, archives):
        raise HelmSchemaError(
            f"chart {chart_dir.name!r}: its values schema refers to {shortened(reference, 120)!r}"
            ", outside itself; mcg-gen does not let Helm fetch or read it",
            location=Location(where, line),
            hint="inline the referenced schema (only '#/...' references stay inside the file)",
        )
    return fingerprint.hexdigest()


def schema_references(schemas: list[Path], archives: list[Path]) -> Iterator[tuple[str, int, str]]:
    """(file, line, reference) of every `$ref`-like keyword or unknown `$schema` in values
    schemas (and those inside subchart archives) that points outside the schema document:
    Helm's loader would fetch a URL or open a file for it."""
    for schema_path in schemas:
        try:
            text = repofs.read_bytes(schema_path).decode("utf-8", errors="replace")
        except McgError:
            continue  # Helm reports what it cannot load
        yield from _external_references(str(schema_path), text)
    for archive in archives:
        yield from _archived_references(archive)


def _archived_references(archive: Path) -> Iterator[tuple[str, int, str]]:
    try:
        with tarfile.open(archive, "r:gz") as bundle:
            budget = _SCHEMA_SCAN_BYTES
            for member in bundle:
                budget -= max(member.size, 0)
                if budget < 0:
                    return  # Helm's own unpack limit refuses such an archive
                if not member.isfile() or not member.name.endswith("/" + _SCHEMA_FILE):
                    continue
                extracted = bundle.extractfile(member)
                if extracted is None:
                    continue
                text = extracted.read(repofs.DEFAULT_LIMIT).decode("utf-8", errors="replace")
                yield from _external_references(f"{archive}!{member.name}", text)
    except (OSError, tarfile.TarError, EOFError, ValueError):
        return  # not a readable archive: Helm reports it


def _external_references(file: str, text: str) -> Iterator[tuple[str, int, str]]:
    try:
        document = json.loads(text)
    except ValueError:
        return  # Helm reports a schema that is not JSON
    for keyword, value in _keywords(document):
        local = keyword == "$schema" and value in KNOWN_DIALECTS
        if not local and not (keyword != "$schema" and value.startswith("#")):
            line = text.count("\n", 0, max(text.find(json.dumps(value)[1:-1]), 0)) + 1
            yield file, line, value
            return


def _keywords(node: Any) -> Iterator[tuple[str, str]]:
    """Every reference keyword in a JSON document with a string value (a non-string value is a
    schema error Helm reports)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if key in ("$ref", "$dynamicRef", "$recursiveRef", "$schema") and isinstance(
                    value, str
                ):
                    yield key, value
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(current, list):
            stack.extend(current)


def _helm_error(chart_dir: Path, kind: str, detail: str) -> HelmError:
    """An error from the worker, as the user should read it: which file, which line, what.

    The text is the chart's (a `fail` message is anything its author wrote): it is shortened
    and its control characters are escaped when it is shown."""
    text = shortened(" ".join(detail.split()), MAX_MESSAGE_CHARS)
    if kind == "HelmValuesError":
        return HelmError(
            f"values do not match the schema of chart {chart_dir.name!r}: {text}",
            location=Location(str(chart_dir / "values.schema.json")),
            hint="fix the values named in the message",
        )
    if kind == "Oversized":
        return HelmError(
            f"chart {chart_dir.name!r} was not taken in: {text}",
            location=Location(str(chart_dir)),
            hint="a template probably repeats without bound (a range over a huge list)",
        )
    if kind == "MissingDependencies":
        return HelmMissingDependencies(
            f"chart {chart_dir.name!r} depends on charts it does not contain, which Argo CD "
            "downloads and mcg-gen does not: " + ", ".join(detail.splitlines()),
            location=Location(str(chart_dir / "Chart.yaml")),
            hint="to have it checked, vendor them into the chart's charts/ folder "
            "(helm dependency build)",
        )
    match = _TEMPLATE_POSITION.search(text)
    if kind == "HelmRenderError" and match:
        template = match.group(1).split("/", 1)[1]
        message = text[match.end() :].lstrip("):, ")
        return HelmError(
            f"chart {chart_dir.name!r}, template {template}: {message or text}",
            location=Location(
                str(chart_dir / template), int(match.group(2)), int(match.group(3) or 0)
            ),
            hint="the template failed with these values",
        )
    return HelmError(
        f"Helm could not use chart {chart_dir.name!r}: {text}",
        location=Location(str(chart_dir)),
        hint="check Chart.yaml and the templates",
    )


_shared: tuple[int, HelmWorker] | None = None  # (owner pid, worker)


def shared_worker() -> HelmWorker:
    """This process's long-lived worker (a forked child gets its own, never its parent's)."""
    global _shared
    if _shared is None or _shared[0] != os.getpid():
        worker = HelmWorker()
        atexit.register(worker.close)
        # a pool process ends without running atexit: its finalizers stop and wait for the
        # worker, so that no Helm process outlives the run or escapes its parent's accounting
        multiprocessing.util.Finalize(worker, worker.close, exitpriority=10)
        _shared = (os.getpid(), worker)
    return _shared[1]


@functools.cache
def helm_version() -> str:
    """The version of the Helm SDK mcg-gen renders with (without loading it)."""
    try:
        return importlib.metadata.version("helm-python-sdk")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def render_chart(
    chart_dir: Path, values: Mapping[str, Any], *, release: str, namespace: str
) -> list[RenderedDoc]:
    """Render one chart with this process's shared worker; see `HelmWorker.render`."""
    return shared_worker().render(chart_dir, values, release=release, namespace=namespace)


def lint_chart(chart_dir: Path, values: Mapping[str, Any]) -> list[LintMessage]:
    """Lint one chart with this process's shared worker; see `HelmWorker.lint`."""
    return shared_worker().lint(chart_dir, values)
