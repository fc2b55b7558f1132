"""Rendering and checking cluster groups: one group per call, in parallel worker processes when
there are several, each with its own long-lived Helm worker; results cached per group."""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import cache, chartcache, repofs, rules
from generator.checks import charts, deploy, links
from generator.errors import McgError
from generator.findings import Finding, error_findings
from generator.manifest import Resource
from generator.model import layout
from generator.model.layout import GLOBAL_FILE, SECRET_TEMPLATE_FILE
from generator.model.values import ValuesRepo, local_app_path
from generator.validate.options import Options, Outcome, Progress

if TYPE_CHECKING:
    from generator.checks.kube_schemas import SchemaRegistry

MAX_WORKERS = 8
PARALLEL_FROM = 4  # fewer groups render faster in this process than worker start-up costs
# ... unless they are large: a forked process costs a few milliseconds, so even one large group
# renders there while this process checks the layers without Helm (for small groups, the
# worker's own Helm start-up, a fraction of a second, is more than that overlap wins)
FORK_FROM_APPLICATIONS = 20


@dataclass
class GroupResult:
    """What rendering and checking one cluster group found (picklable, cacheable)."""

    findings: list[Finding]
    resources: int
    charts: list[tuple[str, str]]  # (label, chart folder) of every chart rendered
    inputs: list[str]  # files and folders the result depends on besides the values files
    pushed: list[str]  # Vault paths the group's PushSecrets write
    linted: dict[str, list[Finding]] = field(default_factory=dict)  # charts Helm linted now
    clean_objects: list[str] = field(default_factory=list)  # digests of its objects found clean


@dataclass(frozen=True)
class GroupWork:
    """What is already known of a group's work: the charts (repository paths) it lints when it
    renders them, the lint findings of some of them (cached by chart content), the digests of
    objects the schema layer found clean (see `validate_changed_resources`), and the charts
    rendered by earlier runs (`renders`)."""

    charts: frozenset[str] = frozenset()
    known: Mapping[str, list[Finding]] = field(default_factory=dict)
    clean_objects: frozenset[str] = frozenset()
    renders: cache.RenderMemo | None = None


def check_group(
    repo: Path,
    values: ValuesRepo,
    group: str,
    catalogue: links.SecretCatalogue | None,
    options: Options,
    work: GroupWork = GroupWork(),
) -> GroupResult:
    """Render one group with real Helm and check what it gets: schemas and resource links; lint
    the charts of `lint` that it renders."""
    from generator.checks.resources import validate_changed_resources
    from generator.helm import shared_worker
    from generator.render import render_charts

    findings: list[Finding] = []
    resources: list[Resource] = []
    rendered_charts: dict[str, str] = {}
    inputs: set[str] = set()
    linted: dict[str, list[Finding]] = {}
    to_lint = work.charts
    helm = shared_worker()
    helm.limit(options.deadline, run_timeout=options.timeout, hung_registry=options.hung_registry)
    # a group renders again because something it reads changed, so some chart is rendered:
    # Helm starts up while the charts that did not change are read from the cache
    helm.start()
    try:
        renders = list(
            render_charts(
                values,
                group,
                options.facts,
                apps=True,
                helm=helm,
                chart_dirs=options.chart_dirs,
                memo=work.renders,
            )
        )
    except McgError as error:
        return GroupResult(error_findings(error, rules.CHART_RENDER_ERROR.id, repo), 0, [], [], [])
    for rendered in renders:
        if rendered.chart_dir is not None:
            inputs.add(str(rendered.chart_dir))
        inputs.update(str(path) for path in rendered.value_files)
        if rendered.error is not None:
            if rendered.chart in _reported_missing_paths(values, group):
                continue  # links/app-path-missing reports it, at the line to edit
            rule = charts.render_rule(rendered.error)
            findings += error_findings(rendered.error, rule, repo, rules.rule(rule).severity)
            chart_folder = repo / rendered.chart
            if chart_folder.is_dir():
                inputs.add(str(chart_folder))
            continue
        resources += rendered.resources
        findings += [
            charts.duplicate_key(resource, key, line)
            for resource in rendered.resources
            for key, line in resource.duplicate_keys
        ]
        if rendered.chart_dir is not None:
            rendered_charts.setdefault(str(rendered.chart_dir), rendered.chart)
            if rendered.chart in to_lint:
                known = work.known.get(rendered.chart)
                if known is None:
                    known = charts.lint(helm, rendered.chart, rendered.chart_dir)
                    if options.deadline is None or time.time() < options.deadline:
                        linted[rendered.chart] = known  # not an answer cut short by the deadline
                findings += known
                to_lint = to_lint - {rendered.chart}
    rendered_applications = {rendered.application for rendered in renders if rendered.application}
    unrendered = charts.unrendered_remote(values, resources, rendered_applications)
    findings += unrendered
    findings += links.check_resource_links(
        values.alternate_hub_of(group) or group,
        values.is_hub(group),
        resources,
        catalogue,
        unrendered_charts=bool(unrendered),
    )
    findings += deploy.check_deployability(
        resources,
        deploy.cluster_argo_namespace(values),
        deploy.managed_groups(values, group),
        unrendered_charts=bool(unrendered),
    )
    invalid, clean = validate_changed_resources(resources, _registry(options), work.clean_objects)
    findings += invalid
    return GroupResult(
        findings,
        len(resources),
        [(label, folder) for folder, label in rendered_charts.items()],
        sorted(inputs),
        sorted(links.pushed_keys(resources)),
        linted,
        sorted(clean),
    )


def _reported_missing_paths(values: ValuesRepo, group: str) -> set[str]:
    """Application paths of the group's values file that are not folders of the repository
    (missing or refused): links/app-path-missing reports them, at the line to edit."""
    missing = set()
    resolver = repofs.Resolver()
    for entry in values.entries(group, "applications"):
        path = local_app_path(entry.body)
        if path is not None and "{{" not in path:
            folder, _ = links.app_folder(values.root, path, resolver)
            if folder is None:
                missing.add(path.strip("/"))
    return missing


@functools.cache
def _registry_for(version: str | None, locations: tuple[Path, ...]) -> SchemaRegistry:
    from generator.checks.kube_schemas import SchemaRegistry

    return SchemaRegistry(version, locations)


def _registry(options: Options) -> SchemaRegistry:
    return _registry_for(options.kubernetes_version, options.schema_locations)


def forget_registries() -> None:
    """Start a run with schemas read anew: a schema location is named by its path, and its
    files may have changed since an earlier run in this process."""
    _registry_for.cache_clear()


def _group_key(
    store: cache.Cache,
    values: ValuesRepo,
    group: str,
    options_key: list[Any],
    lint: frozenset[str],
) -> str:
    """Everything a group's result depends on, besides the charts and value files it read:
    also what other group files say of it (whether ACM manages it, whether it is a hub)."""
    repo = values.root
    return cache.key_of(
        "group",
        group,
        sorted(lint),
        group in values.managed_group_names(),
        values.alternate_hub_of(group),
        values.is_hub(group),
        store.digest(str(repo / GLOBAL_FILE)),
        store.digest(str(repo / layout.group_file(group))),
        store.digest(str(repo / SECRET_TEMPLATE_FILE)),
        options_key,
        store.tool_digest(),
        chartcache.fingerprint(),
    )


def _run_groups(
    repo: Path,
    values: ValuesRepo,
    groups: list[str],
    catalogue: links.SecretCatalogue | None,
    options: Options,
    progress: Progress,
    work: Mapping[str, GroupWork],
    meanwhile: Callable[[], None],
    finished: Callable[[str, GroupResult], None],
) -> dict[str, GroupResult]:
    """Check the groups, in parallel worker processes when there are several and cores to spare;
    `meanwhile` runs in this process while they render, and `finished` as each result comes in
    (while the others still render)."""
    # fork is cheap and safe while this process has not loaded the Helm library (only Helm
    # worker processes do); the library is not fork-safe, so fall back to spawn if it is loaded
    method = "spawn" if "helm_python" in sys.modules else "fork"
    workers = min(len(groups), os.cpu_count() or 1, MAX_WORKERS)
    results: dict[str, GroupResult] = {}
    applications = sum(len(values.entries(group, "applications")) for group in groups)
    large = method == "fork" and applications >= FORK_FROM_APPLICATIONS
    if (os.cpu_count() or 1) < 2 or not groups or (len(groups) < PARALLEL_FROM and not large):
        if groups:
            from generator.helm import shared_worker

            shared_worker().start()  # Helm starts up while the layers without it run
        meanwhile()
        for index, group in enumerate(groups, start=1):
            progress(f"rendering group {group} ({index}/{len(groups)})")
            results[group] = check_group(repo, values, group, catalogue, options, work[group])
            finished(group, results[group])
        return results
    context = multiprocessing.get_context(method)

    def record(group: str, result: GroupResult) -> None:
        results[group] = result
        progress(f"rendered group {group} ({len(results)}/{len(groups)})")
        finished(group, result)

    # the largest groups first, so that the last to finish is a small one (a hub with many
    # applications started last would keep one process working alone at the end)
    largest_first = sorted(groups, key=lambda group: -len(values.entries(group, "applications")))
    # This process is one of the workers: once `meanwhile` is done it renders the groups no
    # worker process has started, smallest first, while they take theirs from the largest (a
    # worker process fewer, with its Helm worker: about 150 MB less on two cores).
    shared = (repo, values, catalogue, options)
    with ProcessPoolExecutor(
        max_workers=max(1, workers - 1),
        mp_context=context,
        initializer=_share_run,
        initargs=shared,
    ) as pool:
        futures = {
            pool.submit(_check_shared_group, group, work[group]): group for group in largest_first
        }
        meanwhile()
        for future in reversed(list(futures)):
            if not future.cancel():  # started, or handed to a worker process already
                break
            group = futures.pop(future)
            record(group, check_group(repo, values, group, catalogue, options, work[group]))
        for future in as_completed(futures):
            record(futures[future], future.result())
    return results


# In a worker process: what every group of the run shares, handed over once when the process
# starts (inherited by a forked one) rather than pickled with each group (the values of every
# group: a cost that grew with the square of the groups)
_SHARED: tuple[Path, ValuesRepo, links.SecretCatalogue | None, Options] | None = None


def _share_run(
    repo: Path, values: ValuesRepo, catalogue: links.SecretCatalogue | None, options: Options
) -> None:
    global _SHARED
    _SHARED = (repo, values, catalogue, options)


def _check_shared_group(group: str, work: GroupWork) -> GroupResult:
    assert _SHARED is not None, "a worker process of _run_groups"
    repo, values, catalogue, options = _SHARED
    return check_group(repo, values, group, catalogue, options, work)


def _lint_key(store: cache.Cache, repo: Path, chart: str) -> str:
    """What `helm lint` of a chart (with its own values) depends on: its files, Helm, mcg-gen."""
    from generator.helm import helm_version

    return cache.key_of(
        "lint", chart, store.digest(str(repo / chart)), helm_version(), store.tool_digest()
    )


def _group_work(
    store: cache.Cache,
    group: str,
    charts: frozenset[str],
    keys: Mapping[str, str],
    clean_key: str,
    renders: cache.RenderMemo,
) -> GroupWork:
    known = {}
    for chart in charts:
        cached = store.get(f"lint:{chart}", keys[chart])
        if cached is not None:
            known[chart] = cache.findings_from_json(cached["findings"])
    clean = (store.get(f"clean:{group}", clean_key) or {}).get("objects") or []
    return GroupWork(charts, known, frozenset(str(digest) for digest in clean), renders)


def _lint_assignment(values: ValuesRepo, options: Options) -> dict[str, frozenset[str]]:
    """Which group lints which chart of the repository: the first group (hub first) whose
    applications use it, so that each chart is linted once whichever groups run."""
    owners: dict[str, str] = {}
    checked = [g for g in values.groups if options.groups is None or g in options.groups]
    groups = sorted(checked, key=lambda name: (name != values.hub_name, name))
    for group in groups:
        for entry in values.entries(group, "applications"):
            path = local_app_path(entry.body)
            if options.lint and path is not None:
                owners.setdefault(path.strip("/"), group)
    return {
        group: frozenset(path for path, owner in owners.items() if owner == group)
        for group in values.groups
    }


def check_groups(
    repo: Path,
    values: ValuesRepo,
    catalogue: links.SecretCatalogue | None,
    options: Options,
    options_key: list[Any],
    outcome: Outcome,
    progress: Progress,
    store: cache.Cache,
    meanwhile: Callable[[], None] = lambda: None,
) -> None:
    """Every group's result, from the cache or rendered; `meanwhile` runs while they render."""
    results: dict[str, GroupResult] = {}
    lint = _lint_assignment(values, options)
    groups = [g for g in values.groups if options.groups is None or g in options.groups]
    keys = {group: _group_key(store, values, group, options_key, lint[group]) for group in groups}
    for group, key in keys.items():
        cached = store.get(f"group:{group}", key)
        if cached is not None:
            results[group] = GroupResult(
                cache.findings_from_json(cached["findings"]),
                int(cached["resources"]),
                [(str(label), str(folder)) for label, folder in cached["charts"]],
                list(cached["inputs"]),
                list(cached["pushed"]),
            )
    missing = [group for group in groups if group not in results]
    lint_keys = {chart: _lint_key(store, repo, chart) for group in missing for chart in lint[group]}
    # objects are judged by the schemas alone: the options that choose them, and mcg-gen's own
    clean_key = cache.key_of("clean-objects", options_key, store.tool_digest())
    from generator.helm import helm_version

    renders = cache.RenderMemo(store, cache.key_of(helm_version(), store.tool_digest()))
    work = {
        group: _group_work(store, group, lint[group], lint_keys, clean_key, renders)
        for group in missing
    }

    def keep(group: str, result: GroupResult) -> None:
        """Store a group's result (hashing the charts it read) while the others render."""
        for chart, found in result.linted.items():
            store.put(
                f"lint:{chart}",
                lint_keys[chart],
                {"findings": cache.findings_to_json(found)},
                (),
            )
        store.put(f"clean:{group}", clean_key, {"objects": result.clean_objects}, ())
        if any(finding.rule == rules.CHART_TIMEOUT.id for finding in result.findings):
            return  # cut short by the deadline: not an answer to keep
        store.put(
            f"group:{group}",
            keys[group],
            {
                "findings": cache.findings_to_json(result.findings),
                "resources": result.resources,
                "charts": result.charts,
                "inputs": result.inputs,
                "pushed": result.pushed,
            },
            result.inputs,
        )

    results.update(
        _run_groups(repo, values, missing, catalogue, options, progress, work, meanwhile, keep)
    )
    # a PushSecret of one group may write what an ExternalSecret of another reads (for a group
    # not checked this run, as far as its last cached result says)
    pushed = {key for result in results.values() for key in result.pushed}
    for group in values.groups:
        if group not in keys:
            known = store.get(
                f"group:{group}", _group_key(store, values, group, options_key, lint[group])
            )
            pushed.update(known["pushed"] if known else ())
    for group in groups:
        outcome.findings += links.without_pushed_reads(results[group].findings, pushed)
        outcome.resources += results[group].resources
