"""Synthetic pattern repositories of a chosen size, for the benchmarks.

A size is cluster groups (the hub counts as one) x apps per group x resources per app chart. The
spec (pattern.yaml) goes through the real `mcg-gen generate`; then every app chart gets one more
template, a `range` of ConfigMaps, so that each app renders about the requested number of
resources. That template is an extra file, not an edit of a generated one, so the repository
stays up to date with its spec (`mcg-gen generate --check` is clean).

Some groups' apps are shared (charts/all/...), the others belong to one group (charts/<group>/...),
as in real patterns; every fourth app consumes a secret from Vault.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import bundled
from generator.yamlio import dump_yaml

PROJECT = Path(__file__).resolve().parents[1]

# What the scaffolded app chart renders without help: ConfigMap, Deployment, Service, Route.
BASE_RESOURCES_PER_APP = 4
# pattern.schema.json allows 2000 apps; stay clear of it.
MAX_DISTINCT_APPS = 1900
SECRET_EVERY = 4
EXTRA_TEMPLATE = "templates/bench-extra-configmaps.yaml"

_EXTRA_TEMPLATE_TEXT = """\
{{- /* Added by mcg-gen's bench/synthetic.py: extra resources so validation has more to do. */ -}}
{{- range $index := until %d }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $.Chart.Name }}-extra-{{ $index }}
  labels:
    {{- include "app.labels" $ | nindent 4 }}
data:
  index: {{ $index | quote }}
  group: {{ ($.Values.clusterGroup | default dict).name | default "unknown" | quote }}
{{- end }}
"""


@dataclass(frozen=True)
class Size:
    """A pattern to benchmark: the bundled example `example`, or a synthetic one."""

    name: str
    groups: int = 0
    apps_per_group: int = 0
    resources_per_app: int = BASE_RESOURCES_PER_APP
    example: str | None = None

    def describe(self) -> str:
        if self.example:
            return f"{self.example} (bundled example)"
        shape = f"{self.groups} groups x {self.apps_per_group} apps"
        if self.resources_per_app > BASE_RESOURCES_PER_APP:
            shape += f" x ~{self.resources_per_app} resources/app"
        return shape


REFERENCE = Size("reference", example="multicloud-gitops")


def mcg_gen_command() -> list[str]:
    """mcg-gen as this checkout's code, whatever is installed."""
    return [sys.executable, "-m", "generator"]


def mcg_gen_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    return env


def run_mcg_gen(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*mcg_gen_command(), *args],
        env=mcg_gen_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"mcg-gen {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def shared_app_count(size: Size) -> int:
    """A third of each group's apps are shared by every group, more when the spec's app limit
    would otherwise be exceeded (100 groups x 50 apps)."""
    if size.groups <= 1:
        return 0
    wanted = size.apps_per_group // 3
    total = size.groups * size.apps_per_group
    needed = -(-(total - MAX_DISTINCT_APPS) // (size.groups - 1))
    return min(size.apps_per_group, max(wanted, needed))


def group_names(size: Size) -> list[str]:
    """The hub first, then the managed groups."""
    return ["hub", *(f"group-{index:03d}" for index in range(1, size.groups))]


def synthetic_spec(size: Size) -> dict[str, Any]:
    """pattern.yaml content of a synthetic size."""
    shared = [f"shared-{index:02d}" for index in range(shared_app_count(size))]
    own_count = size.apps_per_group - len(shared)
    groups: list[dict[str, Any]] = []
    for group in group_names(size):
        own = [f"{group}-app-{index:02d}" for index in range(own_count)]
        groups.append({"name": group, "apps": shared + own})
    app_names = shared + [app for group in groups for app in group["apps"][len(shared) :]]
    apps: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for index, app in enumerate(app_names):
        if index % SECRET_EVERY == 0:
            secret = f"{app}-credentials"
            apps[app] = {"secrets": [secret]}
            secrets[secret] = {"fields": {"password": "generate", "api-token": "required"}}
        else:
            apps[app] = {}
    hub, *managed = groups
    spec: dict[str, Any] = {
        "name": f"synthetic-{size.name}",
        "description": f"Benchmark pattern: {size.describe()}.",
        "git": {"repoURL": "https://github.com/example/synthetic.git", "revision": "main"},
        "hub": {"apps": hub["apps"]},
        "groups": managed,
        "apps": apps,
    }
    if secrets:
        spec["secrets"] = secrets
    return spec


def pattern_text(size: Size) -> str:
    if size.example:
        return (bundled.patterns_dir() / f"{size.example}.yaml").read_text(encoding="utf-8")
    return dump_yaml(synthetic_spec(size))


def add_extra_resources(repo: Path, size: Size) -> int:
    """Give every app chart of `repo` the extra ConfigMaps of `size`; returns the charts changed."""
    extra = size.resources_per_app - BASE_RESOURCES_PER_APP
    if size.example or extra <= 0:
        return 0
    charts = [chart.parent for chart in sorted((repo / "charts").glob("*/*/Chart.yaml"))]
    for chart in charts:
        (chart / EXTRA_TEMPLATE).write_text(_EXTRA_TEMPLATE_TEXT % extra, encoding="utf-8")
    return len(charts)


def create_repo(size: Size, repo: Path) -> float:
    """Write the pattern of `size` to the empty folder `repo`, run `mcg-gen generate` on it and add
    the extra resources; returns the seconds `mcg-gen generate` took."""
    repo.mkdir(parents=True, exist_ok=True)
    (repo / "pattern.yaml").write_text(pattern_text(size), encoding="utf-8")
    start = time.perf_counter()
    run_mcg_gen("generate", str(repo))
    elapsed = time.perf_counter() - start
    add_extra_resources(repo, size)
    return elapsed
