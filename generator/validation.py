"""`mcg-gen validate`'s pipeline: load → check every layer → findings.

Layers, in order: YAML (every file read), the spec, values files and the secret template against
our schemas, links across the values files, charts (lint, render every group with real Helm),
every rendered resource against Kubernetes and CRD schemas, links between rendered resources and
the secret template, and secrets hygiene. A layer that cannot run for a file (it does not parse)
leaves a finding and the other layers go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.checks import hygiene, links
from generator.errors import McgError, SpecErrors, UsageError
from generator.findings import Finding, Severity
from generator.manifest import Resource
from generator.model.values import GLOBAL_FILE, ValuesRepo, load_values_repo
from generator.render import Facts

if TYPE_CHECKING:
    from generator.helm import HelmWorker

SPEC_FILE = "pattern.yaml"
TEMPLATE_FILE = "values-secret.yaml.template"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    facts: Facts = field(default_factory=Facts)
    kubernetes_version: str | None = None
    schema_locations: tuple[Path, ...] = ()
    chart_dirs: tuple[Path, ...] = ()
    lint: bool = True


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
    path = Path(file)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return file
    return file


def validate_repository(repo: Path, options: Options, progress: Progress = _quiet) -> Outcome:
    if not (repo / GLOBAL_FILE).is_file() and not (repo / SPEC_FILE).is_file():
        raise UsageError(
            f"{repo} is not a pattern repository: it has neither {GLOBAL_FILE} nor {SPEC_FILE}",
            hint="run it in (or point it at) a Validated Patterns repository",
        )
    outcome = Outcome()
    progress("spec and values files")
    _spec(repo, outcome)
    values = load_values_repo(repo)
    for error in values.errors:
        outcome.findings += error_findings(error, "yaml/invalid", repo)
    _values_files(repo, values, outcome)
    catalogue = _secret_template(repo, outcome)
    outcome.findings += links.check_values_links(values)
    resources = _charts(repo, values, catalogue, options, outcome, progress)
    progress(f"schemas of {len(resources)} resources")
    _schemas(resources, options, outcome)
    progress("secrets hygiene")
    _hygiene(repo, outcome)
    # the same chart rendered for several groups repeats its findings: report each once
    outcome.findings = list(dict.fromkeys(_source_position(f, repo) for f in outcome.findings))
    return outcome


def _source_position(finding: Finding, repo: Path) -> Finding:
    """Repository-relative file names; no line for a chart template, since the line of a rendered
    object is a line of Helm's output, not of the template the user edits."""
    file = _relative(finding.file, repo)
    if "/templates/" in file and finding.rule not in ("chart/render-error", "chart/render-crash"):
        return dataclasses.replace(finding, file=file, line=0, column=0)
    return dataclasses.replace(finding, file=file)


def _spec(repo: Path, outcome: Outcome) -> None:
    spec = repo / SPEC_FILE
    if not spec.is_file():
        return
    from generator.model.spec import load_spec
    from generator.yamlio import YamlError

    outcome.files.add(SPEC_FILE)
    try:
        pattern = load_spec(spec, SPEC_FILE)
    except YamlError as error:
        outcome.findings += error_findings(error, "yaml/invalid", repo)
        return
    except McgError as error:
        outcome.findings += error_findings(error, "spec/invalid", repo)
        return
    from generator import state
    from generator.emit.repo import plan_files

    plan = state.make_plan(repo, plan_files(pattern))
    stale = plan.by_action(state.Action.CREATE, state.Action.UPDATE, state.Action.DELETE)
    if stale:
        shown = ", ".join(change.path for change in stale[:3])
        more = f" and {len(stale) - 3} more" if len(stale) > 3 else ""
        outcome.findings.append(
            Finding(
                "spec/out-of-date",
                Severity.WARNING,
                SPEC_FILE,
                0,
                0,
                f"generated files do not match {SPEC_FILE}: {shown}{more}",
                "run 'mcg-gen generate'",
            )
        )


def _other_values_files(repo: Path, values: ValuesRepo) -> Iterable[Path]:
    """Value files that are neither global nor a group's: platform or version overrides."""
    known = {GLOBAL_FILE, *(document.file for document in values.groups.values())}
    for path in sorted(repo.glob("values-*.yaml")):
        if path.name not in known and not path.name.startswith("values-secret"):
            yield path


def _values_files(repo: Path, values: ValuesRepo, outcome: Outcome) -> None:
    from generator.checks.values import check_values_file
    from generator.yamlio import load_file

    if values.global_doc is not None:
        outcome.files.add(GLOBAL_FILE)
        outcome.findings += check_values_file(values.global_doc, "global")
    for document in values.groups.values():
        outcome.files.add(document.file)
        outcome.findings += check_values_file(document, "group")
    for path in _other_values_files(repo, values):
        outcome.files.add(path.name)
        try:
            document = load_file(path, path.name)
        except McgError as error:
            if not any(f.file == path.name for f in outcome.findings):
                outcome.findings += error_findings(error, "yaml/invalid", repo)
            continue
        if isinstance(document.data, dict):
            outcome.findings += check_values_file(document, "override")


def _secret_template(repo: Path, outcome: Outcome) -> links.SecretCatalogue | None:
    path = repo / TEMPLATE_FILE
    if not path.is_file():
        return None
    from generator.checks.secret_template import check_secret_template
    from generator.model.secret_template import secrets_file
    from generator.yamlio import load_file

    outcome.files.add(TEMPLATE_FILE)
    try:
        document = load_file(path, TEMPLATE_FILE)
    except McgError as error:
        outcome.findings += error_findings(error, "yaml/invalid", repo)
        return None
    # The template is meant to be filled in: fields without a value are its point.
    findings = [f for f in check_secret_template(document) if f.rule != "secrets/no-value"]
    outcome.findings += findings
    if any(f.severity is Severity.ERROR for f in findings):
        return None
    loaded = secrets_file(document)
    return links.SecretCatalogue(TEMPLATE_FILE, {s.name: s for s in loaded.secrets})


def _charts(
    repo: Path,
    values: ValuesRepo,
    catalogue: links.SecretCatalogue | None,
    options: Options,
    outcome: Outcome,
    progress: Progress,
) -> list[Resource]:
    from generator.helm import HelmCrashError, HelmWorker
    from generator.render import render_charts

    resources: list[Resource] = []
    linted: set[Path] = set()
    with HelmWorker() as helm:
        for index, group in enumerate(values.groups, start=1):
            progress(f"rendering group {group} ({index}/{len(values.groups)})")
            group_resources: list[Resource] = []
            try:
                renders = list(
                    render_charts(
                        repo,
                        group,
                        options.facts,
                        apps=True,
                        helm=helm,
                        chart_dirs=options.chart_dirs,
                    )
                )
            except McgError as error:
                outcome.findings += error_findings(error, "chart/render-error", repo)
                continue
            for rendered in renders:
                if rendered.error is not None:
                    rule = (
                        "chart/render-crash"
                        if isinstance(rendered.error, HelmCrashError)
                        else "chart/render-error"
                    )
                    outcome.findings += error_findings(rendered.error, rule, repo)
                    continue
                group_resources += rendered.resources
                if options.lint and rendered.chart_dir and rendered.chart_dir not in linted:
                    linted.add(rendered.chart_dir)
                    outcome.findings += _lint(
                        helm, rendered.chart, rendered.chart_dir, rendered.values or {}
                    )
            unrendered = _unrendered_remote(values, group_resources, options.chart_dirs)
            outcome.findings += unrendered
            outcome.findings += links.check_resource_links(
                group,
                group == values.hub_name,
                group_resources,
                catalogue,
                unrendered_charts=bool(unrendered),
            )
            resources += group_resources
    return resources


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
                    "chart/not-rendered",
                    Severity.INFO,
                    *_application_location(values, resource.group, resource.name),
                    f"application '{resource.name}' on group '{resource.group}' uses the remote "
                    f"chart {chart} {version}; it is not rendered offline",
                    "pass a local copy with --chart-dir DIR (DIR/<chart>/Chart.yaml)",
                )
            )
    return findings


def _lint(
    helm: HelmWorker, chart: str, chart_dir: Path, values: Mapping[str, Any]
) -> list[Finding]:
    findings = []
    try:
        messages = helm.lint(chart_dir, values)
    except McgError:
        return []  # the render of the same chart reports it
    for message in messages:
        if message.severity not in ("warning", "error"):
            continue
        if message.severity == "error" and "executing" in message.message:
            continue  # template errors: rendering with the real values is the judge
        findings.append(
            Finding(
                "chart/lint",
                Severity.WARNING if message.severity == "warning" else Severity.ERROR,
                f"{chart}/{message.path}".rstrip("/") if message.path else chart,
                0,
                0,
                " ".join(message.message.split()),
                "see helm lint's rules for charts",
            )
        )
    return findings


def _schemas(resources: list[Resource], options: Options, outcome: Outcome) -> None:
    from generator.checks.kube_schemas import SchemaRegistry
    from generator.checks.resources import validate_resources

    registry = SchemaRegistry(options.kubernetes_version, options.schema_locations)
    outcome.findings += validate_resources(resources, registry)
    outcome.resources += len(resources)


def _hygiene(repo: Path, outcome: Outcome) -> None:
    outcome.findings += hygiene.committed_secret_files(repo)
    outcome.findings += hygiene.ignore_coverage(repo)
    scanned = [repo / name for name in outcome.files if (repo / name).is_file()]
    scanned += (
        [
            path
            for path in sorted((repo / "charts").rglob("*"))
            if path.is_file() and path.suffix in (".yaml", ".yml", ".tpl", ".json")
        ]
        if (repo / "charts").is_dir()
        else []
    )
    outcome.findings += hygiene.scan_files(repo, scanned)


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
