"""What lands on a cluster group: values chain -> charts -> `manifest.Resource` list.

`render_group` does offline what the Validated Patterns operator and Argo CD do on a cluster:
it merges the operator's value-file chain (`layout.clustergroup_value_files`) with the
parameters the operator injects (`global.*`), renders the clustergroup chart, then renders the
charts its Argo CD Applications point at, each with the Application's own value files, Helm
parameters and destination namespace. A chart of a Helm repository is rendered from a copy the
user gives (--chart-dir), else from the real chart `mcg-gen charts pull` cached
(`chartcache`); the upstream platform charts mcg-gen models (the clustergroup chart, `acm`,
`openshift-external-secrets`: `platform.BUNDLED_MODELS`) fall back to the bundled models, and a
repository that vendors base charts under `common/` renders its own copies, so the hub always
shows its ACM policies and every group its ClusterSecretStore. Every rendered object records
which chart rendered it (`ChartOrigin`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import bundled, chartcache, repofs, yamlio
from generator.chartcache import ChartPin
from generator.errors import Location, McgError
from generator.helm import HelmWorker, RenderedDoc
from generator.manifest import Resource
from generator.model import layout, platform
from generator.model.facts import Facts, operator_parameters
from generator.model.names import is_dns_label
from generator.model.values import ValuesRepo, load_values_repo, merge_values

if TYPE_CHECKING:
    from generator.cache import RenderMemo

BASE_CHARTS = platform.VENDORED_CHARTS


@dataclass(frozen=True)
class ChartRender:
    """One chart rendered for a group: the clustergroup chart, or a chart an Application uses.

    `chart` is where it came from (`charts/all/web`, `<mcg-gen>/charts/acm`); `error` is set when
    it could not be rendered, and then `resources` is empty.
    """

    chart: str
    application: str | None
    resources: list[Resource]
    error: McgError | None = None
    chart_dir: Path | None = None
    values: Mapping[str, Any] | None = None
    value_files: tuple[Path, ...] = ()  # read, or looked for, to render it
    merged_files: tuple[str, ...] = ()  # the value files merged, as repository paths
    origin: ChartOrigin | None = None


@dataclass(frozen=True)
class ChartOrigin:
    """Which chart rendered something: its name and version (its Chart.yaml's) and where it came
    from: "repository" (a chart of the pattern repository), "chart-dir" (a copy the user
    passed), "cache" (a real chart `mcg-gen charts pull` fetched) or "bundled" (mcg-gen's own
    model). `stands_in_for` is the real chart a bundled model renders instead of (`clustergroup
    0.9.* from https://...`), '' when none was wanted."""

    name: str
    version: str
    source: str
    stands_in_for: str = ""

    def __str__(self) -> str:
        return f"{self.name} {self.version or '(no version)'} ({self.source})"


@dataclass(frozen=True)
class LocatedChart:
    """A chart folder to render, the label its resources' sources start with, and its origin."""

    path: Path
    label: str
    origin: ChartOrigin


def render_charts(
    values_repo: ValuesRepo,
    group: str,
    facts: Facts,
    *,
    apps: bool,
    helm: HelmWorker,
    chart_dirs: Sequence[Path] = (),
    memo: RenderMemo | None = None,
) -> Iterator[ChartRender]:
    """Render the group's charts one by one, reporting each chart's failure instead of stopping.

    Always the clustergroup chart and the base charts its Applications use; with `apps`, also
    every other chart in the pattern repository that an Application points at, and remote charts
    (`chart` + `chartVersion`) found as `<dir>/<chart>/Chart.yaml` in `chart_dirs`. Problems with
    the group's values files themselves raise. With `memo`, a chart whose files and values are
    those of an earlier run is answered from its cache.
    """

    def render(
        chart_dir: Path, values: Mapping[str, Any], release: str, namespace: str
    ) -> list[RenderedDoc]:
        if memo is None:
            return helm.render(chart_dir, values, release=release, namespace=namespace)
        return memo.render(helm, group, chart_dir, values, release=release, namespace=namespace)

    repo = values_repo.root.resolve()
    chain = group_values(values_repo, group, facts)
    values = chain.values
    clustergroup = _clustergroup_chart(repo, values, chart_dirs)
    argo_namespace = _argo_namespace(values)
    try:
        release = f"{values['global']['pattern']}-{group}"[:53]
        documents = render(clustergroup.path, values, release, argo_namespace)
    except McgError as error:
        yield ChartRender(clustergroup.label, None, [], error, origin=clustergroup.origin)
        return
    base = _resources(documents, clustergroup, group)
    resolver = repofs.Resolver()  # the applications' charts and value files share folders
    looked_up = tuple(repo / relative for relative in chain.chain)
    yield ChartRender(
        clustergroup.label,
        None,
        base,
        chart_dir=clustergroup.path,
        values=values,
        value_files=looked_up,
        merged_files=chain.merged,
        origin=clustergroup.origin,
    )
    for app in [r for r in base if _is_application(r)]:
        source = _local_source(app.body, values["global"]["repoURL"])
        label = ""
        try:
            if source is not None:
                label = str(source.get("path", "")).strip("/")
                if not (apps or label.startswith("common/")):
                    continue
                located = _app_chart_dir(repo, label, source, app, resolver)
            else:
                source, located = _remote_chart(app, chart_dirs, apps=apps)
                label = located.label if located else ""
            if source is None or located is None:
                continue
            spec = app.body.get("spec") or {}
            namespace = str((spec.get("destination") or {}).get("namespace") or app.namespace)
            in_repo = located.label if located.origin.source == "repository" else None
            read: list[Path] = []
            app_values = _app_values(repo, in_repo, source, app, namespace, read, resolver)
            release = str((source.get("helm") or {}).get("releaseName") or app.name)
            rendered = render(located.path, app_values, release, namespace)
        except McgError as error:
            yield ChartRender(label, app.name, [], error)
            continue
        yield ChartRender(
            located.label,
            app.name,
            _resources(rendered, located, group),
            chart_dir=located.path,
            values=app_values,
            value_files=tuple(read),
            origin=located.origin,
        )


def _resources(documents: Sequence[RenderedDoc], chart: LocatedChart, group: str) -> list[Resource]:
    return [
        Resource(
            doc.body,
            f"{chart.label}/{doc.template}",
            group,
            doc.line,
            doc.duplicate_keys,
            chart=str(chart.origin),
        )
        for doc in documents
    ]


def remote_charts(application: Mapping[str, Any]) -> list[ChartPin]:
    """The chart, version and Helm repository of each Helm-repository source of an Application."""
    return [_pin(source) for source in _sources(application) if source.get("chart")]


def _pin(source: Mapping[str, Any]) -> ChartPin:
    return ChartPin(
        str(source.get("chart") or ""),
        str(source.get("targetRevision") or ""),
        str(source.get("repoURL") or ""),
    )


def clustergroup_pin(values_repo: ValuesRepo, group: str, facts: Facts) -> ChartPin | None:
    """The clustergroup chart the operator deploys for the group from a Helm repository
    (`main.multiSourceConfig`); None without multi-source."""
    return _clustergroup_pin(group_values(values_repo, group, facts).values["global"])


def application_pins(
    values_repo: ValuesRepo,
    group: str,
    facts: Facts,
    *,
    helm: HelmWorker,
    chart_dirs: Sequence[Path] = (),
) -> list[ChartPin]:
    """The Helm-repository charts of the group's Applications, as the clustergroup chart (the
    real one when it is cached) renders them."""
    first = next(
        render_charts(values_repo, group, facts, apps=False, helm=helm, chart_dirs=chart_dirs)
    )
    if first.error is not None:
        raise first.error
    return [
        pin
        for resource in first.resources
        if _is_application(resource)
        for pin in remote_charts(resource.body)
    ]


def _clustergroup_pin(global_values: Mapping[str, Any]) -> ChartPin | None:
    """The clustergroup chart in the Helm repository, as the operator's parameters name it."""
    if not global_values.get("multiSourceSupport"):
        return None
    return ChartPin(
        "clustergroup",
        str(global_values.get("multiSourceTargetRevision", "")),
        str(global_values.get("multiSourceRepoUrl", "")),
    )


def _sources(application: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An Application's sources, single-source or multi-source alike."""
    spec = application.get("spec") or {}
    sources = spec.get("sources") or ([spec["source"]] if spec.get("source") else [])
    return [source for source in sources if isinstance(source, dict)]


def _remote_chart(
    app: Resource, chart_dirs: Sequence[Path], *, apps: bool
) -> tuple[dict[str, Any] | None, LocatedChart | None]:
    """The Helm-repository source of an Application and the chart to render it with: a copy
    in `chart_dirs` (`<dir>/<chart>/Chart.yaml`), else the real chart `charts pull` cached,
    else mcg-gen's bundled model of an upstream platform chart (the acm chart's policies and
    the secret store show on every render, as vendored base charts did). Without `apps`, only
    the platform charts are rendered."""
    for source in _sources(app.body):
        name = str(source.get("chart") or "")
        model = platform.BUNDLED_MODELS.get(name)
        if not name or not (apps or model):
            continue
        pin = _pin(source)
        located = _given_chart(pin, chart_dirs)
        if located is not None:
            return source, located
        if model is not None:
            folder = bundled.charts_dir() / model
            origin = ChartOrigin(model, _chart_version(folder), "bundled", str(pin))
            return source, LocatedChart(folder, f"<mcg-gen>/charts/{model}", origin)
    return None, None


def _given_chart(pin: ChartPin, chart_dirs: Sequence[Path]) -> LocatedChart | None:
    """A real chart for `pin`: the user's copy in `chart_dirs`, else the cached download."""
    for folder in chart_dirs:
        candidate = folder / pin.name
        if (candidate / "Chart.yaml").is_file():
            origin = ChartOrigin(pin.name, _chart_version(candidate), "chart-dir")
            return LocatedChart(candidate.resolve(), f"<chart-dir>/{pin.name}", origin)
    cached = chartcache.find(pin)
    if cached is not None:
        origin = ChartOrigin(pin.name, cached.version, "cache")
        return LocatedChart(cached.path, f"<cache>/{pin.name}-{cached.version}", origin)
    return None


def _clustergroup_chart(
    repo: Path, values: Mapping[str, Any], chart_dirs: Sequence[Path]
) -> LocatedChart:
    """The clustergroup chart the operator deploys. With multi-source (the operator's default)
    that is the chart `main.multiSourceConfig` pins in the Helm repository: a copy in
    `chart_dirs`, else the cached download, else the repository's vendored common/clustergroup,
    else mcg-gen's bundled model; without, the vendored copy, else the bundled model."""
    vendored = "common/clustergroup"
    pin = _clustergroup_pin(values["global"])
    if pin is not None:
        located = _given_chart(pin, chart_dirs)
        if located is not None:
            return located
        return _chart_dir(repo, vendored, stands_in_for=str(pin))
    return _chart_dir(repo, vendored, stands_in_for=vendored)


def _chart_version(chart: Path) -> str:
    """The version a chart's Chart.yaml declares, '' when it cannot be read (Helm reports it)."""
    try:
        status = (chart / "Chart.yaml").stat()
    except OSError:
        return ""
    return _declared_version(chart / "Chart.yaml", status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=256)
def _declared_version(chart_yaml: Path, mtime_ns: int, size: int) -> str:
    """Parsed once per content: every group renders the same charts."""
    try:
        document = yamlio.load_file(chart_yaml, positions=False)
    except McgError:
        return ""
    data = document.data if isinstance(document.data, dict) else {}
    return str(data.get("version") or "")


def render_group(
    repo: Path,
    group: str,
    facts: Facts,
    *,
    apps: bool,
    timeout: float | None = None,
    notes: list[str] | None = None,
    chart_dirs: Sequence[Path] = (),
) -> list[Resource]:
    """Every resource the group's cluster gets, sorted by kind, namespace, name, source; the
    first chart that fails to render raises. Nothing renders after `timeout` seconds. What the
    user should know about how it was rendered (the value files merged, the real charts that
    mcg-gen's bundled models stood in for) is added to `notes`."""
    import time

    from generator.helm import HelmWorker

    values = load_values_repo(repo)
    resources: list[Resource] = []
    renders: list[ChartRender] = []
    with HelmWorker() as helm:
        if timeout:
            helm.limit(time.time() + timeout, run_timeout=timeout)
        for rendered in render_charts(
            values, group, facts, apps=apps, helm=helm, chart_dirs=chart_dirs
        ):
            if rendered.error is not None:
                raise rendered.error
            renders.append(rendered)
            resources += rendered.resources
    if notes is not None:
        notes += render_notes(group, renders)
    return sorted(resources, key=lambda r: (*r.sort_key(), r.source, r.line))


def render_notes(group: str, renders: Sequence[ChartRender]) -> list[str]:
    """What a user reading the rendered group should know: the value files of the clustergroup
    chart, and in one line the real charts that mcg-gen's bundled models stood in for."""
    notes = [
        f"{group}: value files {', '.join(rendered.merged_files)}"
        for rendered in renders
        if rendered.application is None and rendered.error is None
    ]
    stand_ins = sorted(
        {
            f"{rendered.origin.stands_in_for} (as {rendered.origin})"
            for rendered in renders
            if rendered.origin is not None and rendered.origin.source == "bundled"
        }
    )
    if stand_ins:
        notes.append(
            f"{group}: rendered with mcg-gen's bundled models instead of the real charts: "
            + "; ".join(stand_ins)
            + ". For the real ones run 'mcg-gen charts pull' once (network), pass --chart-dir "
            "DIR, or vendor the chart into the repository"
        )
    return notes


@dataclass(frozen=True)
class GroupValues:
    """The clustergroup chart's values for one group, and the value-file chain behind them.

    `chain` is every repository path the operator's chain names, in merge order; `merged` the
    ones that exist and were merged (the others are skipped, as Argo CD skips them)."""

    values: dict[str, Any]
    chain: tuple[str, ...]
    merged: tuple[str, ...]


def group_values(repo: ValuesRepo, group: str, facts: Facts) -> GroupValues:
    """The operator's value-file chain for the group (see `layout.clustergroup_value_files`),
    then the group's `extraValueFiles` from the hub's managedClusterGroups (a managed group) or
    the templated `clusterGroup.sharedValueFiles` (the hub), merged in order, with the
    operator's `global.*` parameters on top."""
    if not is_dns_label(group):
        raise McgError(
            f"{group!r} is not a cluster group name",
            hint="a group name is a DNS label: lowercase letters, digits and '-', at most 63",
        )
    group_file = layout.group_file(group)
    unreadable = {error.location.file: error for error in repo.errors if error.location}
    for name in (layout.GLOBAL_FILE, group_file):
        if name in unreadable:
            raise unreadable[name]
    global_doc = repo.global_doc
    if global_doc is None:
        raise McgError(
            f"not a Validated Patterns repository: {layout.GLOBAL_FILE} is missing",
            location=Location(str(repo.root)),
            hint="run 'mcg-gen render' in (or point it at) the pattern repository",
        )
    group_doc = repo.groups.get(group) or repo.others.get(group)
    if group_doc is None:
        raise McgError(
            f"no cluster group {group!r}: {group_file} is missing",
            location=Location(str(repo.root)),
            hint=f"groups in this repository: {', '.join(sorted(repo.groups)) or 'none'}",
        )
    for document in (global_doc, group_doc):
        if not isinstance(document.data, dict | None):
            raise McgError("a values file must be a mapping", location=document.location(()))
    values = merge_values(global_doc.data or {}, group_doc.data or {})
    cluster_group = values.get("clusterGroup")
    if not isinstance(cluster_group, dict):
        raise McgError(
            "values file has no clusterGroup section",
            location=group_doc.location(()),
            hint=f"add 'clusterGroup: {{name: {group}}}'",
        )
    named = cluster_group.get("name")
    alternate = repo.alternate_hub_of(group)
    if named not in (None, group) and alternate is None and group not in repo.managed_group_names():
        raise McgError(
            f"clusterGroup.name is {named!r}, but the file is {group_file}",
            location=group_doc.location(("clusterGroup", "name")),
            hint=f"the operator selects values-<name>.yaml by group name: use {group!r}",
        )
    if not isinstance(values.get("global", {}), dict):
        raise McgError("global must be a mapping", location=global_doc.location(("global",)))
    parameters = operator_parameters(values, group, facts)
    root = repo.root.resolve()
    chain = layout.clustergroup_value_files(
        group,
        platform=parameters["clusterPlatform"],
        version=parameters["clusterVersion"],
        cluster_name=parameters["localClusterName"],
    )
    documents = {layout.GLOBAL_FILE: global_doc.data or {}, group_file: group_doc.data or {}}
    read: list[str] = []
    merged = _merge_value_files(root, chain, documents, {}, read)
    extra = _group_extra_value_files(repo, group, merged, parameters)
    merged = _merge_value_files(root, extra, documents, merged, read)
    looked_up = [*chain, *extra]
    merged.setdefault("global", {})
    merged.setdefault("clusterGroup", {})
    if not isinstance(merged["global"], dict) or not isinstance(merged["clusterGroup"], dict):
        raise McgError(
            "global and clusterGroup must stay mappings in every file of the value chain",
            location=Location(str(root)),
            hint=f"the chain: {', '.join(looked_up)}",
        )
    merged["global"].update(parameters)
    # ACM's policy sets the name of a managed group; a second hub file keeps its own
    merged["clusterGroup"]["name"] = alternate or group
    if not repo.is_hub(group):
        _apply_helm_overrides(merged, _managed_group_entry(repo, group))
    return GroupValues(merged, tuple(looked_up), tuple(read))


def _merge_value_files(
    root: Path,
    paths: Sequence[str],
    parsed: Mapping[str, dict[str, Any]],
    values: dict[str, Any],
    read: list[str],
) -> dict[str, Any]:
    """`values` with the files of `paths` that exist merged on top in order (missing ones are
    skipped: the operator and the acm chart set ignoreMissingValueFiles); `parsed` holds files
    already loaded. Every file merged is appended to `read`."""
    for relative in paths:
        found = layout.value_file(root, f"/{relative}", None)
        if found is None:
            continue
        read.append(relative)
        data = parsed.get(relative)
        values = merge_values(values, _values_file_data(found, relative) if data is None else data)
    return values


def _group_extra_value_files(
    repo: ValuesRepo, group: str, merged: Mapping[str, Any], parameters: Mapping[str, Any]
) -> list[str]:
    """What follows the operator's chain: for a managed group, the `extraValueFiles` of its
    entry in the hub's managedClusterGroups (the acm chart appends them); for the hub, its
    `clusterGroup.sharedValueFiles` with plain `.Values` references expanded (the operator
    appends them; one it cannot expand is left out, and validate reports it)."""
    if repo.is_hub(group):
        shared = (merged.get("clusterGroup") or {}).get("sharedValueFiles")
        context = {**merged, "global": {**(merged.get("global") or {}), **parameters}}
        entries = [
            layout.expand_value_file(str(entry), context)
            for entry in (shared if isinstance(shared, list) else [])
        ]
    else:
        extra = _managed_group_entry(repo, group).get("extraValueFiles")
        entries = [str(item) for item in (extra if isinstance(extra, list) else [])]
    paths = [
        layout.value_file_path(entry, None) for entry in entries if not layout.is_template(entry)
    ]
    return [path for path in paths if path]


def _managed_group_entry(repo: ValuesRepo, group: str) -> dict[str, Any]:
    """The hub's managedClusterGroups entry of a managed group ({} for none)."""
    for entry in repo.entries(repo.hub_name, "managedClusterGroups"):
        if str(entry.body.get("name") or entry.key) == group:
            return entry.body
    return {}


def _apply_helm_overrides(values: dict[str, Any], entry: Mapping[str, Any]) -> None:
    """The `helmOverrides` of a managed group's entry: the acm chart's policy passes them as the
    last parameters of the group's clustergroup Application, so they win over everything."""
    overrides = entry.get("helmOverrides")
    for override in overrides if isinstance(overrides, list) else []:
        if isinstance(override, dict) and override.get("name"):
            value = parse_set_value(str(override.get("value", "")))
            set_parameter(values, str(override["name"]), value)


def _argo_namespace(values: dict[str, Any]) -> str:
    global_values = values["global"]
    if global_values.get("singleArgoCD"):
        return str(global_values.get("vpArgoNamespace") or "openshift-gitops")
    return f"{global_values['pattern']}-{values['clusterGroup']['name']}"


def _is_application(resource: Resource) -> bool:
    return resource.kind == "Application" and resource.api_version.startswith("argoproj.io/")


def _local_source(application: dict[str, Any], repo_url: str) -> dict[str, Any] | None:
    """The source of an Application that is a chart directory in the pattern repository."""
    for source in _sources(application):
        if not source.get("path") or source.get("chart"):
            continue
        if str(source.get("repoURL", "")).rstrip("/") == repo_url.rstrip("/"):
            return source
    return None


def _chart_dir(repo: Path, path: str, *, stands_in_for: str = "") -> LocatedChart:
    """A base chart: the repository's vendored copy, else the one shipped with mcg-gen (which
    then stands in for the chart named by `stands_in_for`)."""
    name = path.removeprefix("common/")
    in_repo = layout.inside(repo, path, Location(str(repo)))
    if in_repo is not None and (in_repo / "Chart.yaml").is_file():
        origin = ChartOrigin(name, _chart_version(in_repo), "repository")
        return LocatedChart(in_repo, path, origin)
    model = bundled.charts_dir() / name
    origin = ChartOrigin(name, _chart_version(model), "bundled", stands_in_for or path)
    return LocatedChart(model, f"<mcg-gen>/charts/{name}", origin)


def _app_chart_dir(
    repo: Path,
    path: str,
    source: dict[str, Any],
    app: Resource,
    resolver: repofs.Resolver | None = None,
) -> LocatedChart | None:
    where = Location(app.source, app.line)
    chart = layout.inside(repo, path, where, resolver)
    if chart is not None and (chart / "Chart.yaml").is_file():
        origin = ChartOrigin(chart.name, _chart_version(chart), "repository")
        return LocatedChart(chart, path, origin)
    name = path.removeprefix("common/")
    if path.startswith("common/") and name in BASE_CHARTS:
        return _chart_dir(repo, path)
    if path.startswith("common/") or "helm" not in source:
        # another vendored chart the repository does not carry, or a kustomize / plugin app
        # that mcg-gen does not render: nothing to show
        return None
    raise McgError(
        f"application {app.name!r} points at {path!r}, which is not a chart in the repository",
        location=where,
        hint="create the chart there (with a Chart.yaml) or fix the application's path",
    )


def _app_values(
    repo: Path,
    chart_path: str | None,
    source: dict[str, Any],
    app: Resource,
    namespace: str,
    read: list[Path] | None = None,
    resolver: repofs.Resolver | None = None,
) -> dict[str, Any]:
    """The values Argo CD gives the chart: value files in order, inline values, parameters.

    Every value file read is appended to `read`."""
    helm_options = source.get("helm") or {}
    where = Location(app.source, app.line)
    values: dict[str, Any] = {}
    for entry in helm_options.get("valueFiles") or []:
        path = layout.value_file(repo, str(entry), chart_path, where, resolver)
        if path is None:
            continue  # ignoreMissingValueFiles, as every application of the chart sets
        if read is not None:
            read.append(path)
        values = merge_values(values, _values_file_data(path, str(path.relative_to(repo))))
    if helm_options.get("values"):
        inline = yamlio.parse_document(str(helm_options["values"]), f"{app.source} (helm.values)")
        if isinstance(inline.data, dict):
            values = merge_values(values, inline.data)
    if isinstance(helm_options.get("valuesObject"), dict):
        values = merge_values(values, helm_options["valuesObject"])
    build_env = {
        "$ARGOCD_APP_NAME": app.name,
        "$ARGOCD_APP_NAMESPACE": namespace,
        "$ARGOCD_APP_SOURCE_REPO_URL": str(source.get("repoURL", "")),
        "$ARGOCD_APP_SOURCE_PATH": str(source.get("path", "")),
        "$ARGOCD_APP_SOURCE_TARGET_REVISION": str(source.get("targetRevision", "")),
    }
    for parameter in helm_options.get("parameters") or []:
        if not isinstance(parameter, dict) or not parameter.get("name"):
            continue
        text = str(parameter.get("value", ""))
        # longest first: $ARGOCD_APP_NAME is a prefix of $ARGOCD_APP_NAMESPACE
        for variable in sorted(build_env, key=len, reverse=True):
            text = text.replace(variable, build_env[variable])
        value = text if parameter.get("forceString") else parse_set_value(text)
        set_parameter(values, str(parameter["name"]), value)
    return values


def _values_file_data(path: Path, display: str) -> dict[str, Any]:
    """A value file's mapping; parsed once per content (many applications share the same files).

    Callers must not modify the result: `merge_values` copies what it takes."""
    stat = path.stat()
    return _parsed_values(path, display, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _parsed_values(path: Path, display: str, mtime_ns: int, size: int) -> dict[str, Any]:
    document = yamlio.load_file(path, display, positions=False)
    if document.data is not None and not isinstance(document.data, dict):
        raise McgError("a values file must be a mapping", location=Location(display))
    return document.data or {}


_INTEGER = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")


def parse_set_value(text: str) -> Any:
    """A `--set` value as Helm types it: true/false, null, integers; everything else a string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if _INTEGER.match(text):
        return int(text)
    return text


def set_parameter(values: dict[str, Any], name: str, value: Any) -> None:
    """Set a dotted `--set` name (`a.b.c`, `\\.` escapes a dot) in place."""
    keys = [part.replace("\0", ".") for part in name.replace("\\.", "\0").split(".")]
    target = values
    for key in keys[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = target[key] = {}
        target = child
    target[keys[-1]] = value
