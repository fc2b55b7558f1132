"""`mcg-gen validate`'s pipeline: load → check every layer → findings.

Layers, in order: YAML (every file read), the spec, values files and the secret template against
our schemas, links across the values files, charts (lint, render every group with real Helm),
every rendered resource against Kubernetes and CRD schemas, links between rendered resources and
the secret template, and secrets hygiene. A layer that cannot run for a file (it does not parse)
leaves a finding and the other layers go on.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import cache, rules
from generator.checks import hygiene, links
from generator.errors import McgError, SpecErrors, UsageError
from generator.findings import Finding, Severity
from generator.manifest import Resource
from generator.model import layout
from generator.model.facts import Facts
from generator.model.layout import GLOBAL_FILE, SECRET_TEMPLATE_FILE, SPEC_FILE
from generator.model.values import ValuesRepo, load_values_repo

if TYPE_CHECKING:
    from generator.checks.kube_schemas import SchemaRegistry
    from generator.helm import HelmWorker
    from generator.yamlio import Document


Progress = Callable[[str], None]
MAX_WORKERS = 8
PARALLEL_FROM = 4  # fewer groups render faster in this process than worker start-up costs


@dataclass(frozen=True)
class Options:
    facts: Facts = field(default_factory=Facts)
    kubernetes_version: str | None = None
    schema_locations: tuple[Path, ...] = ()
    chart_dirs: tuple[Path, ...] = ()
    lint: bool = True
    timeout: float | None = None  # seconds for the whole run (rendering stops after it)
    # set by validate_repository for its run: when rendering stops, and where the charts that
    # hung are remembered by every worker process (not part of any cache key)
    deadline: float | None = None
    hung_registry: Path | None = None


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    resources: int = 0


def _quiet(_: str) -> None:
    pass


def error_findings(error: McgError, rule: str, root: Path) -> list[Finding]:
    """Findings for a user-facing error (one per problem of a SpecErrors)."""
    errors = error.errors if isinstance(error, SpecErrors) else [error]
    findings = []
    for item in errors:
        location = item.location
        file = _relative(location.file, root) if location else ""
        findings.append(
            Finding(
                rule,
                Severity.ERROR,
                file,
                location.line if location else 0,
                location.column if location else 0,
                item.message,
                item.hint,
            )
        )
    return findings


def _relative(file: str, root: Path) -> str:
    """`file` relative to the repository when it is inside it (as named, or once resolved)."""
    path = Path(file)
    if not path.is_absolute():
        return file
    for candidate, base in ((path, root.absolute()), (path.resolve(), root.resolve())):
        if candidate.is_relative_to(base):
            return candidate.relative_to(base).as_posix()
    return file


def validate_repository(
    repo: Path, options: Options, progress: Progress = _quiet, *, use_cache: bool = True
) -> Outcome:
    if not (repo / GLOBAL_FILE).is_file() and not (repo / SPEC_FILE).is_file():
        raise UsageError(
            f"{repo} is not a pattern repository: it has neither {GLOBAL_FILE} nor {SPEC_FILE}",
            hint="run it in (or point it at) a Validated Patterns repository",
        )
    from generator import bundled

    roots = (*options.chart_dirs, *options.schema_locations, bundled.charts_dir())
    store = cache.Cache(repo, enabled=use_cache, roots=roots)
    # Nothing changed since the last run (every file's size, time and inode): its answer stands.
    fingerprint = store.repository_fingerprint(repo)
    options_key = _options_key(options)
    whole_key = cache.key_of("whole", fingerprint, options_key, _bundled_digest())
    cached = store.get("whole", whole_key) if fingerprint else None
    if cached is not None:
        return Outcome(
            cache.findings_from_json(cached["findings"]),
            set(cached["files"]),
            int(cached["resources"]),
        )
    with tempfile.TemporaryDirectory(prefix="mcg-gen-run-") as run_folder:
        if options.timeout:
            options = dataclasses.replace(
                options, deadline=time.time() + options.timeout, hung_registry=Path(run_folder)
            )
        outcome = _validate(repo, options, options_key, progress, store)
    complete = not any(finding.rule == rules.CHART_TIMEOUT.id for finding in outcome.findings)
    if fingerprint and complete:
        store.put(
            "whole",
            whole_key,
            {
                "findings": cache.findings_to_json(outcome.findings),
                "files": sorted(outcome.files),
                "resources": outcome.resources,
            },
            (),
        )
    store.save()
    return outcome


def _validate(
    repo: Path, options: Options, options_key: list[Any], progress: Progress, store: cache.Cache
) -> Outcome:
    outcome = Outcome()
    progress("spec and values files")
    _spec(repo, outcome, store)
    values = load_values_repo(repo)
    for error in values.errors:
        outcome.findings += error_findings(error, rules.YAML_INVALID.id, repo)
    _values_files(repo, values, outcome, store)
    catalogue = _secret_template(repo, outcome)
    outcome.findings += links.check_values_links(values, _injected_globals(values, options))
    _charts(repo, values, catalogue, options, options_key, outcome, progress, store)
    progress("secrets hygiene")
    _hygiene(repo, outcome, store)
    # the same chart rendered for several groups repeats its findings: report each once
    outcome.findings = list(dict.fromkeys(_source_position(f, repo) for f in outcome.findings))
    return outcome


def _options_key(options: Options) -> list[Any]:
    return [
        dataclasses.asdict(options.facts),
        options.kubernetes_version,
        [cache.tree_digest(folder) for folder in options.schema_locations],
        [cache.tree_digest(folder) for folder in options.chart_dirs],
        options.lint,
    ]


def _injected_globals(values: ValuesRepo, options: Options) -> dict[str, dict[str, str]]:
    """Per group, the `global.*` facts the operator would inject (for templated value files)."""
    from generator.model.facts import injected_globals

    declared = values.global_values.get("global")
    merged = {**values.global_values, "global": declared if isinstance(declared, dict) else {}}
    return {group: injected_globals(merged, group, options.facts) for group in values.groups}


def _source_position(finding: Finding, repo: Path) -> Finding:
    """Repository-relative file names; no line for a rendered object in a chart template, whose
    line is one of Helm's output, not of the template the user edits."""
    file = _relative(finding.file, repo)
    if "/templates/" in file and rules.is_rendered(finding.rule):
        return dataclasses.replace(finding, file=file, line=0, column=0)
    return dataclasses.replace(finding, file=file)


def _spec(repo: Path, outcome: Outcome, store: cache.Cache) -> None:
    """pattern.yaml's own problems, and whether the generated files still follow from it."""
    spec = repo / SPEC_FILE
    if not spec.is_file():
        return
    outcome.files.add(SPEC_FILE)
    key = cache.key_of("spec", cache.file_digest(spec), _bundled_digest())
    cached = store.get("spec", key)
    if cached is None:
        cached = _check_spec(repo, spec)
        store.put("spec", key, cached, ())
    outcome.findings += cache.findings_from_json(cached["findings"])
    if cached["desired"] is None:
        return
    from generator import state

    stale = state.out_of_date(repo, cached["desired"], store.file_digest)
    if stale:
        shown = ", ".join(stale[:3])
        more = f" and {len(stale) - 3} more" if len(stale) > 3 else ""
        outcome.findings.append(
            Finding(
                rules.SPEC_OUT_OF_DATE.id,
                Severity.WARNING,
                SPEC_FILE,
                0,
                0,
                f"generated files do not match {SPEC_FILE}: {shown}{more}",
                "run 'mcg-gen generate'",
            )
        )


def _check_spec(repo: Path, spec: Path) -> dict[str, Any]:
    """Findings of the spec, and the hashes of the files it generates (None when it is invalid)."""
    from generator import state
    from generator.emit.repo import plan_files
    from generator.model.spec import load_spec
    from generator.yamlio import YamlError

    try:
        pattern = load_spec(spec, SPEC_FILE)
    except YamlError as error:
        return {
            "findings": cache.findings_to_json(error_findings(error, rules.YAML_INVALID.id, repo)),
            "desired": None,
        }
    except McgError as error:
        return {
            "findings": cache.findings_to_json(error_findings(error, rules.SPEC_INVALID.id, repo)),
            "desired": None,
        }
    desired = {path: state.digest(content) for path, content in plan_files(pattern).items()}
    return {"findings": [], "desired": desired}


def _other_values_files(repo: Path, values: ValuesRepo) -> Iterable[Path]:
    """Value files that are neither global nor a group's: platform or version overrides."""
    known = {GLOBAL_FILE, *(document.file for document in values.groups.values())}
    for path in sorted(repo.glob(layout.group_file("*"))):
        if path.name not in known and not path.name.startswith("values-secret"):
            yield path


def _cached(
    store: cache.Cache, name: str, key: str, compute: Callable[[], list[Finding]]
) -> list[Finding]:
    cached = store.get(name, key)
    if cached is not None:
        return cache.findings_from_json(cached["findings"])
    findings = compute()
    store.put(name, key, {"findings": cache.findings_to_json(findings)}, ())
    return findings


def _values_files(repo: Path, values: ValuesRepo, outcome: Outcome, store: cache.Cache) -> None:
    from generator.checks.values import ValuesKind, check_values_file
    from generator.yamlio import load_file

    def check(name: str, kind: ValuesKind, document: Document | None) -> None:
        outcome.files.add(name)
        key = cache.key_of("values", kind, store.digest(str(repo / name)), _bundled_digest())

        def compute() -> list[Finding]:
            loaded = document
            if loaded is None:
                try:
                    loaded = load_file(repo / name, name)
                except McgError as error:
                    return error_findings(error, rules.YAML_INVALID.id, repo)
            return check_values_file(loaded, kind) if isinstance(loaded.data, dict) else []

        outcome.findings += _cached(store, f"values:{name}", key, compute)

    if values.global_doc is not None:
        check(GLOBAL_FILE, "global", values.global_doc)
    for document in values.groups.values():
        check(document.file, "group", document)
    reported = {error.location.file for error in values.errors if error.location}
    loaded = {document.file: document for document in values.others.values()}
    for path in _other_values_files(repo, values):
        if path.name not in reported:
            check(path.name, "override", loaded.get(path.name))


def _secret_template(repo: Path, outcome: Outcome) -> links.SecretCatalogue | None:
    path = repo / SECRET_TEMPLATE_FILE
    if not path.is_file():
        return None
    from generator.model.secrets_file import secrets_file
    from generator.model.secrets_format import check_secrets_format
    from generator.yamlio import load_file

    outcome.files.add(SECRET_TEMPLATE_FILE)
    try:
        document = load_file(path, SECRET_TEMPLATE_FILE)
    except McgError as error:
        outcome.findings += error_findings(error, rules.YAML_INVALID.id, repo)
        return None
    # The template is meant to be filled in: fields without a value are its point.
    findings = [f for f in check_secrets_format(document) if f.rule != rules.SECRETS_NO_VALUE.id]
    outcome.findings += findings
    if any(f.severity is Severity.ERROR for f in findings):
        return None
    loaded = secrets_file(document)
    return links.SecretCatalogue(SECRET_TEMPLATE_FILE, {s.name: s for s in loaded.secrets})


@dataclass
class GroupResult:
    """What rendering and checking one cluster group found (picklable, cacheable)."""

    findings: list[Finding]
    resources: int
    charts: list[tuple[str, str]]  # (label, chart folder) of every chart rendered
    inputs: list[str]  # files and folders the result depends on besides the values files


def check_group(
    repo: Path,
    values: ValuesRepo,
    group: str,
    catalogue: links.SecretCatalogue | None,
    options: Options,
    lint: frozenset[str] = frozenset(),
) -> GroupResult:
    """Render one group with real Helm and check what it gets: schemas and resource links; lint
    the charts in `lint` (repository paths) that it renders."""
    from generator.checks.resources import validate_resources
    from generator.helm import shared_worker
    from generator.render import render_charts

    findings: list[Finding] = []
    resources: list[Resource] = []
    charts: dict[str, str] = {}
    inputs: set[str] = set()
    helm = shared_worker()
    helm.limit(options.deadline, run_timeout=options.timeout, hung_registry=options.hung_registry)
    try:
        renders = list(
            render_charts(
                values, group, options.facts, apps=True, helm=helm, chart_dirs=options.chart_dirs
            )
        )
    except McgError as error:
        return GroupResult(error_findings(error, rules.CHART_RENDER_ERROR.id, repo), 0, [], [])
    for rendered in renders:
        if rendered.chart_dir is not None:
            inputs.add(str(rendered.chart_dir))
        inputs.update(str(path) for path in rendered.value_files)
        if rendered.error is not None:
            findings += error_findings(rendered.error, _render_rule(rendered.error), repo)
            chart_folder = repo / rendered.chart
            if chart_folder.is_dir():
                inputs.add(str(chart_folder))
            continue
        resources += rendered.resources
        if rendered.chart_dir is not None:
            charts.setdefault(str(rendered.chart_dir), rendered.chart)
            if rendered.chart in lint:
                findings += _lint(helm, rendered.chart, rendered.chart_dir)
                lint = lint - {rendered.chart}
    unrendered = _unrendered_remote(values, resources, options.chart_dirs)
    findings += unrendered
    findings += links.check_resource_links(
        group, group == values.hub_name, resources, catalogue, unrendered_charts=bool(unrendered)
    )
    findings += validate_resources(resources, _registry(options))
    return GroupResult(
        findings,
        len(resources),
        [(label, folder) for folder, label in charts.items()],
        sorted(inputs),
    )


def _render_rule(error: McgError) -> str:
    from generator.helm import HelmCrashError, HelmDeadlineError, HelmSchemaError

    if isinstance(error, HelmDeadlineError):
        return rules.CHART_TIMEOUT.id
    if isinstance(error, HelmSchemaError):
        return rules.CHART_SCHEMA_REFERENCE.id
    if isinstance(error, HelmCrashError):
        return rules.CHART_RENDER_CRASH.id
    return rules.CHART_RENDER_ERROR.id


@functools.cache
def _registry_for(version: str | None, locations: tuple[Path, ...]) -> SchemaRegistry:
    from generator.checks.kube_schemas import SchemaRegistry

    return SchemaRegistry(version, locations)


def _registry(options: Options) -> SchemaRegistry:
    return _registry_for(options.kubernetes_version, options.schema_locations)


def _group_key(repo: Path, group: str, options_key: list[Any], lint: frozenset[str]) -> str:
    """Everything a group's result depends on, besides the charts and value files it read."""
    return cache.key_of(
        "group",
        group,
        sorted(lint),
        cache.file_digest(repo / GLOBAL_FILE),
        cache.file_digest(repo / layout.group_file(group)),
        cache.file_digest(repo / SECRET_TEMPLATE_FILE),
        options_key,
        _bundled_digest(),
    )


@functools.cache
def _bundled_digest() -> str:
    """mcg-gen itself: its code, charts and schemas (in a development checkout they change
    without a version bump, and cached results must not outlive them)."""
    from generator import bundled

    return cache.key_of(
        cache.tree_digest(Path(__file__).parent),
        cache.tree_digest(bundled.charts_dir()),
        cache.tree_digest(bundled.schemas_dir()),
    )


def _run_groups(
    repo: Path,
    values: ValuesRepo,
    groups: list[str],
    catalogue: links.SecretCatalogue | None,
    options: Options,
    progress: Progress,
    lint: Mapping[str, frozenset[str]],
) -> dict[str, GroupResult]:
    """Check the groups, in parallel worker processes when there are several and cores to spare."""
    workers = min(len(groups), os.cpu_count() or 1, MAX_WORKERS)
    results: dict[str, GroupResult] = {}
    if workers < 2 or len(groups) < PARALLEL_FROM:
        for index, group in enumerate(groups, start=1):
            progress(f"rendering group {group} ({index}/{len(groups)})")
            results[group] = check_group(repo, values, group, catalogue, options, lint[group])
        return results
    # fork is cheap and safe while this process has not loaded the Helm library (only Helm
    # worker processes do); the library is not fork-safe, so fall back to spawn if it is loaded
    method = "spawn" if "helm_python" in sys.modules else "fork"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(check_group, repo, values, group, catalogue, options, lint[group]): group
            for group in groups
        }
        for done, future in enumerate(as_completed(futures), start=1):
            group = futures[future]
            progress(f"rendered group {group} ({done}/{len(groups)})")
            results[group] = future.result()
    return results


def _lint_assignment(values: ValuesRepo, options: Options) -> dict[str, frozenset[str]]:
    """Which group lints which chart of the repository: the first group (hub first) whose
    applications use it, so that each chart is linted once whichever groups run."""
    owners: dict[str, str] = {}
    groups = sorted(values.groups, key=lambda name: (name != values.hub_name, name))
    for group in groups:
        for entry in values.entries(group, "applications"):
            path = entry.body.get("path")
            if options.lint and isinstance(path, str) and "chart" not in entry.body:
                owners.setdefault(path.strip("/"), group)
    return {
        group: frozenset(path for path, owner in owners.items() if owner == group)
        for group in values.groups
    }


def _charts(
    repo: Path,
    values: ValuesRepo,
    catalogue: links.SecretCatalogue | None,
    options: Options,
    options_key: list[Any],
    outcome: Outcome,
    progress: Progress,
    store: cache.Cache,
) -> None:
    results: dict[str, GroupResult] = {}
    lint = _lint_assignment(values, options)
    keys = {group: _group_key(repo, group, options_key, lint[group]) for group in values.groups}
    for group, key in keys.items():
        cached = store.get(f"group:{group}", key)
        if cached is not None:
            results[group] = GroupResult(
                cache.findings_from_json(cached["findings"]),
                int(cached["resources"]),
                [(str(label), str(folder)) for label, folder in cached["charts"]],
                list(cached["inputs"]),
            )
    missing = [group for group in values.groups if group not in results]
    rendered = _run_groups(repo, values, missing, catalogue, options, progress, lint)
    for group, result in rendered.items():
        results[group] = result
        if any(finding.rule == rules.CHART_TIMEOUT.id for finding in result.findings):
            continue  # cut short by the deadline: not an answer to keep
        store.put(
            f"group:{group}",
            keys[group],
            {
                "findings": cache.findings_to_json(result.findings),
                "resources": result.resources,
                "charts": result.charts,
                "inputs": result.inputs,
            },
            result.inputs,
        )
    for group in values.groups:
        outcome.findings += results[group].findings
        outcome.resources += results[group].resources


def _application_location(values: ValuesRepo, group: str, name: str) -> tuple[str, int, int]:
    """Where the application `name` of `group` is declared in the group's values file."""
    document = values.groups[group]
    for entry in values.entries(group, "applications"):
        if str(entry.body.get("name", entry.key)) == name:
            location = document.location(entry.path, key=True)
            return location.file, location.line, location.column
    return document.file, 0, 0


def _unrendered_remote(
    values: ValuesRepo, resources: Sequence[Resource], chart_dirs: Sequence[Path]
) -> list[Finding]:
    from generator.render import remote_charts

    findings = []
    for resource in resources:
        if resource.kind != "Application":
            continue
        for chart, version in remote_charts(resource.body):
            if any((folder / chart / "Chart.yaml").is_file() for folder in chart_dirs):
                continue
            findings.append(
                Finding(
                    rules.CHART_NOT_RENDERED.id,
                    Severity.INFO,
                    *_application_location(values, resource.group, resource.name),
                    f"application '{resource.name}' on group '{resource.group}' uses the remote "
                    f"chart {chart} {version}; it is not rendered offline",
                    "pass a local copy with --chart-dir DIR (DIR/<chart>/Chart.yaml)",
                )
            )
    return findings


def _lint(helm: HelmWorker, chart: str, chart_dir: Path) -> list[Finding]:
    """helm lint with the chart's own values. Template errors are left to rendering, which uses
    the real values; what remains is the chart's structure: metadata, values, schema, YAML."""
    findings = []
    try:
        messages = helm.lint(chart_dir, {})
    except McgError:
        return []  # rendering the same chart reports it
    located = {message.message for message in messages if message.path}
    for message in messages:
        if message.severity not in ("warning", "error"):
            continue
        if not message.path and message.message in located:
            continue  # helm reports an error twice: once with its file, once without
        if "executing" in message.message or "nil pointer" in message.message:
            continue
        findings.append(
            Finding(
                rules.CHART_LINT.id,
                Severity.WARNING if message.severity == "warning" else Severity.ERROR,
                f"{chart}/{message.path}"
                if message.path and not Path(message.path).is_absolute()
                else chart,
                0,
                0,
                " ".join(message.message.split()),
                "see helm lint's rules for charts",
            )
        )
    return findings


def _hygiene(repo: Path, outcome: Outcome, store: cache.Cache) -> None:
    outcome.findings += hygiene.committed_secret_files(repo)
    outcome.findings += hygiene.ignore_coverage(repo)
    scanned = {
        repo / name: store.file_digest(repo / name)
        for name in sorted(outcome.files)
        if (repo / name).is_file()
    }
    for _, path, status in cache.walk_files(repo / "charts"):
        if path.suffix in (".yaml", ".yml", ".tpl", ".json"):
            scanned[path] = store.file_digest(path, status)
    key = cache.key_of(
        "hygiene", [(str(path), path.is_symlink(), digest) for path, digest in scanned.items()]
    )
    outcome.findings += _cached(store, "hygiene", key, lambda: hygiene.scan_files(repo, scanned))


def select_findings(
    findings: Iterable[Finding], select: Sequence[str], ignore: Sequence[str]
) -> list[Finding]:
    """Keep findings whose rule matches a `select` prefix (all when empty) and no `ignore` one."""

    def matches(rule: str, patterns: Sequence[str]) -> bool:
        return any(rule == p or rule.startswith(p.rstrip("/*") + "/") for p in patterns)

    return [
        finding
        for finding in findings
        if (not select or matches(finding.rule, select)) and not matches(finding.rule, ignore)
    ]
