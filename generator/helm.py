"""Rendering and linting Helm charts, in a child process with limits.

This is the only module that touches `helm_python`. The Helm SDK is Go code loaded into the
process: it is not fork-safe, and a chart whose `tpl` recurses forever kills the whole process
(Go aborts on stack or memory exhaustion; Python cannot catch it). So every chart is rendered
by a worker spawned as a fresh interpreter (never forked), bounded by an address-space limit
and a per-request timeout. The worker is kept for many renders (a render takes about a
millisecond; starting a worker about a hundred) and restarted after it dies. Rendering uses
`Chart.render`, which is `helm template` without a cluster: no kubeconfig is read and `lookup`
returns nothing.

Use `HelmWorker` as a context manager for batches (one per parallel process), or the
module-level `render_chart` / `lint_chart`, which share one worker per process.
"""

from __future__ import annotations

import atexit
import os
import re
import resource
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from generator import yamlio
from generator.errors import Location, McgError

DEFAULT_TIMEOUT_SECONDS = 60.0
# The Go runtime inside the worker needs a few hundred MiB just to start and render; 4 GiB
# leaves room for large charts while stopping a runaway template long before the host suffers.
DEFAULT_MEMORY_BYTES = 2 * 1024**3

_IMPORT_ROOT = str(Path(__file__).resolve().parent.parent)
_WORKER_CODE = "from generator.helm import _serve; _serve()"

_LINT_SEVERITIES = {0: "unknown", 1: "info", 2: "warning", 3: "error"}
# Helm names the failing template as "<chart>/templates/<file>:<line>[:<column>]".
_TEMPLATE_POSITION = re.compile(r"([\w.@+-]+(?:/[\w.@+-]+)+):(\d+)(?::(\d+))?")


@dataclass(frozen=True)
class RenderedDoc:
    """One object rendered from a chart.

    `template` is the template's path inside the chart (`templates/applications.yaml`); `line`
    is the 1-based line where the object starts in that template's rendered output.
    """

    template: str
    body: dict[str, Any]
    line: int


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


def _limit_memory(memory_bytes: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _serve() -> None:
    """The worker's loop (run as `python -c`): one request in, one answer out, until EOF."""
    requests = Connection(os.dup(0), writable=False)
    answers = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # whatever Go prints must not corrupt the answer stream
    _limit_memory(int(sys.argv[1]))
    import helm_python

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
            else:
                answer = helm_python.lint(chart_dir, values)
            answers.send(("ok", answer))
        except helm_python.HelmError as error:
            answers.send(("error", type(error).__name__, str(error.detail)))
        except Exception as error:  # reported to the parent, never allowed to end the loop
            answers.send(("error", type(error).__name__, str(error)))


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
    ) -> None:
        self.timeout = timeout
        self.memory_bytes = memory_bytes
        self._process: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None
        self._receive: Connection | None = None
        self._stderr_path = ""

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
        if self._stderr_path:
            Path(self._stderr_path).unlink(missing_ok=True)
            self._stderr_path = ""

    def _start(self) -> Connection:
        if self._receive is not None and self._process is not None and self._process.poll() is None:
            return self._receive
        self.close()
        with tempfile.NamedTemporaryFile(prefix="mcg-helm-", suffix=".log", delete=False) as log:
            self._stderr_path = log.name
            # A fresh interpreter (fork + exec), not multiprocessing: nothing of this process,
            # its main module included, is inherited or re-imported by the worker.
            self._process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_CODE, str(self.memory_bytes)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env={**os.environ, "PYTHONPATH": _worker_pythonpath()},
            )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._send = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._receive = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        return self._receive

    def _crash_reason(self) -> str:
        try:
            log = Path(self._stderr_path).read_text(errors="replace")
        except OSError:
            log = ""
        fatal = [line for line in log.splitlines() if line.startswith(("fatal error", "runtime:"))]
        return fatal[0] if fatal else "no message"

    def _request(
        self, operation: str, chart_dir: Path, values: Mapping[str, Any], **options: Any
    ) -> Any:
        _check_confined(chart_dir)
        conn = self._start()
        assert self._send is not None
        where = Location(str(chart_dir))
        try:
            self._send.send((operation, str(chart_dir.resolve()), dict(values), options))
            answered = conn.poll(self.timeout)
            answer = conn.recv() if answered else None
        except (EOFError, OSError):
            raise self._crashed(chart_dir) from None
        if answer is None:
            if self._process is not None:
                self._process.kill()
            self.close()
            raise HelmCrashError(
                f"Helm did not finish with chart {chart_dir.name!r} within "
                f"{self.timeout:g} seconds",
                location=where,
                hint="a template probably loops forever (a recursive `tpl` or `include`)",
            )
        if answer[0] == "ok":
            return answer[1]
        _, kind, detail = answer
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
        rendered: dict[str, str] = self._request(
            "render", chart_dir, values, name=release, namespace=namespace
        )
        documents: list[RenderedDoc] = []
        for path in sorted(rendered):
            template = path.split("/", 1)[1] if "/" in path else path
            if not template.endswith((".yaml", ".yml", ".json")):
                continue  # NOTES.txt and friends are messages, not manifests
            display = str(chart_dir / template)
            for document in yamlio.parse_documents(rendered[path], display, positions=False):
                if document.data is None:
                    continue
                if not isinstance(document.data, dict):
                    raise HelmError(
                        "template rendered something that is not a Kubernetes object",
                        location=document.location(()),
                    )
                line = document.positions.get((), (1, 1))[0]
                documents.append(RenderedDoc(template, document.data, line))
        return documents

    def lint(self, chart_dir: Path, values: Mapping[str, Any]) -> list[LintMessage]:
        """`helm lint` of a chart directory with the given values."""
        report: dict[str, Any] = self._request("lint", chart_dir, values)
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


def _check_confined(chart_dir: Path) -> None:
    """Refuse a chart with symlinks leading out of it: Helm follows them when it loads the chart,
    and `.Files.Get` would then read whatever they point at. Refuse named pipes and devices too:
    Helm reads every file of a chart, and reading those blocks or never ends."""
    root = chart_dir.resolve()
    for folder, subfolders, files in os.walk(chart_dir):
        for name in subfolders + files:
            entry = Path(folder, name)
            if entry.is_symlink() and not entry.resolve().is_relative_to(root):
                raise HelmError(
                    f"chart {chart_dir.name!r} contains a symlink that leaves the chart",
                    location=Location(str(entry)),
                    hint="a chart may only use its own files; copy the file into the chart",
                )
            if entry.exists() and not (entry.is_file() or entry.is_dir()):
                raise HelmError(
                    f"chart {chart_dir.name!r} contains a named pipe, socket or device",
                    location=Location(str(entry)),
                    hint="a chart holds regular files only; remove it",
                )


def _helm_error(chart_dir: Path, kind: str, detail: str) -> HelmError:
    """An error from the worker, as the user should read it: which file, which line, what."""
    text = " ".join(detail.split())
    if kind == "HelmValuesError":
        return HelmError(
            f"values do not match the schema of chart {chart_dir.name!r}: {text}",
            location=Location(str(chart_dir / "values.schema.json")),
            hint="fix the values named in the message",
        )
    if kind == "MissingDependencies":
        return HelmError(
            f"chart {chart_dir.name!r} depends on charts it does not contain: "
            + ", ".join(detail.splitlines()),
            location=Location(str(chart_dir / "Chart.yaml")),
            hint="mcg-gen never downloads dependencies: vendor them into the chart's charts/ "
            "folder (helm dependency build), or remove them from Chart.yaml",
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
        _shared = (os.getpid(), worker)
    return _shared[1]


def render_chart(
    chart_dir: Path, values: Mapping[str, Any], *, release: str, namespace: str
) -> list[RenderedDoc]:
    """Render one chart with this process's shared worker; see `HelmWorker.render`."""
    return shared_worker().render(chart_dir, values, release=release, namespace=namespace)


def lint_chart(chart_dir: Path, values: Mapping[str, Any]) -> list[LintMessage]:
    """Lint one chart with this process's shared worker; see `HelmWorker.lint`."""
    return shared_worker().lint(chart_dir, values)
