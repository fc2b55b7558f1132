"""Findings about charts: Helm's lint messages, render failures by kind, and remote charts that
an offline run cannot render."""

from __future__ import annotations

from collections.abc import Sequence, Set
from pathlib import Path
from typing import TYPE_CHECKING

from generator import rules
from generator.errors import McgError
from generator.findings import Finding, Severity
from generator.manifest import Resource
from generator.model.values import ValuesRepo

if TYPE_CHECKING:
    from generator.helm import HelmWorker


def render_rule(error: McgError) -> str:
    """The rule of a chart that could not be rendered, by what stopped it."""
    from generator.helm import (
        HelmCrashError,
        HelmDeadlineError,
        HelmMissingDependencies,
        HelmSchemaError,
    )

    if isinstance(error, HelmDeadlineError):
        return rules.CHART_TIMEOUT.id
    if isinstance(error, HelmMissingDependencies):
        return rules.CHART_NOT_RENDERED.id
    if isinstance(error, HelmSchemaError):
        return rules.CHART_SCHEMA_REFERENCE.id
    if isinstance(error, HelmCrashError):
        return rules.CHART_RENDER_CRASH.id
    return rules.CHART_RENDER_ERROR.id


def _application_location(values: ValuesRepo, group: str, name: str) -> tuple[str, int, int]:
    """Where the application `name` of `group` is declared in the group's values file."""
    document = values.groups[group]
    for entry in values.entries(group, "applications"):
        if str(entry.body.get("name", entry.key)) == name:
            location = document.location(entry.path, key=True)
            return location.file, location.line, location.column
    return document.file, 0, 0


def unrendered_remote(
    values: ValuesRepo, resources: Sequence[Resource], rendered_applications: Set[str]
) -> list[Finding]:
    """The Applications of remote charts that were not rendered: no copy was given with
    --chart-dir and `charts pull` has not cached them."""
    from generator.render import remote_charts

    findings = []
    for resource in resources:
        if resource.kind != "Application" or resource.name in rendered_applications:
            continue
        for pin in remote_charts(resource.body):
            findings.append(
                Finding(
                    rules.CHART_NOT_RENDERED.id,
                    Severity.INFO,
                    *_application_location(values, resource.group, resource.name),
                    f"application '{resource.name}' on group '{resource.group}' uses the remote "
                    f"chart {pin.name} {pin.version}; it is not rendered offline",
                    "run 'mcg-gen charts pull' (network) to cache it, or pass a local copy with "
                    "--chart-dir DIR (DIR/<chart>/Chart.yaml)",
                )
            )
    return findings


def duplicate_key(resource: Resource, key: str, line: int) -> Finding:
    """A key the rendered object repeats (see `rules.CHART_DUPLICATE_KEY`)."""
    return Finding(
        rules.CHART_DUPLICATE_KEY.id,
        Severity.WARNING,
        resource.source,
        line,
        0,
        f"{resource.kind} '{resource.name}' on group '{resource.group}' has the key '{key}' more "
        "than once; the last one is used, as Helm and Argo CD do",
        "remove the repetition from the template, or use a chart version without it",
    )


def lint(helm: HelmWorker, chart: str, chart_dir: Path) -> list[Finding]:
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
