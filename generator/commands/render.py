"""`mcg-gen render`: show what a cluster group gets, offline, as Kubernetes YAML."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.commands import (
    add_chart_dir_argument,
    add_fact_arguments,
    add_repo_argument,
    add_timeout_argument,
    facts_from_args,
    repository_folder,
)
from generator.errors import EXIT_OK
from generator.manifest import Resource

if TYPE_CHECKING:
    pass

EPILOG = """\
examples:
  mcg-gen render --group hub                       the hub's resources, as one YAML stream
  mcg-gen render path/to/repo --group group-one    ... of a managed group in another folder
  mcg-gen render --group hub --apps                also render every local app chart
  mcg-gen render --group hub -o out/               one file per resource in out/
  mcg-gen render --group group-one --facts facts.yaml --platform Azure --version 4.17

  mcg-gen render -g datacenter --platform AWS --version 4.18 --cluster-name dc1
  mcg-gen render -g hub --chart-dir ~/charts       remote charts from local copies (air-gapped)

What is rendered: the clustergroup chart with the patterns operator's value-file chain
(values-global, values-<group>, values-<platform>, values-<platform>-<version>,
values-<platform>-<group>, values-<version>-<group>, values-<cluster name>, then the hub's
sharedValueFiles or a managed group's extraValueFiles; missing files skipped), then
the platform charts its Argo CD applications use (the acm chart's policies on the hub, each
group's ClusterSecretStore from openshift-external-secrets: mcg-gen's models of the upstream
charts, or a repository's own common/ copies), and with --apps every app chart of the
repository, each with its own value files, parameters and namespace. Nothing contacts a
cluster.

Cluster facts (what the patterns operator injects as global.*) default to a hub at
apps.hub.example.com on AWS 4.16, each managed group at apps.<group>.example.com. A facts file
is YAML with any of: hubClusterDomain, localClusterDomain, clusterDomain, clusterPlatform,
clusterVersion, localClusterName, repoURL, targetRevision; flags override it.

Charts: the clustergroup chart the operator deploys (main.multiSourceConfig) and the remote
charts of applications come from --chart-dir DIR (DIR/<chart>/Chart.yaml), else from the cache
'mcg-gen charts pull' filled, else (clustergroup, acm, ...) from mcg-gen's bundled models, which
one info line then names. Each document says which chart rendered it: "# Chart: <name>
<version> (cache|chart-dir|repository|bundled)".

With --output-dir each resource goes to <kind>-<namespace>-<name>.yaml (lowercase; "cluster"
for cluster-scoped ones); other files in the folder are left alone.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render what a cluster group gets, offline",
        description="Render the Kubernetes resources a cluster group of a Multicloud GitOps "
        "repository receives, the way the patterns operator and Argo CD would, without a cluster.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_repo_argument(parser)
    parser.add_argument("--group", "-g", required=True, help="the cluster group to render")
    parser.add_argument(
        "--apps", action="store_true", help="also render every app chart, not just the platform's"
    )
    parser.add_argument(
        "--output-dir", "-o", type=Path, help="write one file per resource here instead of stdout"
    )
    parser.add_argument("--local-domain", help="apps domain of the rendered cluster")
    add_chart_dir_argument(parser)
    add_fact_arguments(parser)
    add_timeout_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from generator.render import render_group

    repo = repository_folder(args.repo)
    notes: list[str] = []
    resources = render_group(
        repo,
        args.group,
        facts_from_args(args),
        apps=args.apps,
        timeout=args.timeout,
        notes=notes,
        chart_dirs=tuple(args.chart_dir),
    )
    for note in notes:
        print(f"info: {note}", file=sys.stderr)
    for warning in _duplicate_keys(resources):
        print(f"warning: {warning}", file=sys.stderr)
    if args.output_dir:
        write_files(args.output_dir, resources)
    else:
        sys.stdout.write(stream(resources))
    return EXIT_OK


def _duplicate_keys(resources: Sequence[Resource]) -> list[str]:
    """A line per key a rendered object repeats (validate reports them as findings)."""
    from generator.checks.charts import duplicate_key

    found = [
        duplicate_key(resource, key, line)
        for resource in resources
        for key, line in resource.duplicate_keys
    ]
    return [f"{finding.file}:{finding.line}: {finding.message}" for finding in found]


def stream(resources: Sequence[Resource]) -> str:
    """One multi-document YAML stream; each document names the template it came from."""
    from generator.yamlio import dump_yaml

    return "".join(f"---\n{_header(r)}{dump_yaml(r.body)}" for r in resources)


def _header(resource: Resource) -> str:
    """The comment lines before a rendered object: its template, and the chart that rendered it."""
    chart = f"# Chart: {resource.chart}\n" if resource.chart else ""
    return f"# Source: {resource.source}\n{chart}"


def file_name(kind: str, namespace: str, name: str) -> str:
    """`<kind>-<namespace>-<name>.yaml`, lowercase, safe as a file name."""
    raw = f"{kind}-{namespace or 'cluster'}-{name}".lower()
    return re.sub(r"[^a-z0-9._-]", "_", raw) + ".yaml"


def write_files(folder: Path, resources: Sequence[Resource]) -> None:
    """One file per resource; a repeated name gets -2, -3... in render order (deterministic)."""
    from generator.yamlio import dump_yaml

    folder.mkdir(parents=True, exist_ok=True)
    used: dict[str, int] = {}
    for resource in resources:
        base = file_name(resource.kind, resource.namespace, resource.name)
        used[base] = used.get(base, 0) + 1
        target = base if used[base] == 1 else f"{base[:-5]}-{used[base]}.yaml"
        text = f"{_header(resource)}{dump_yaml(resource.body)}"
        # write beside and rename: a symlink already at the target is replaced, not followed
        temporary = folder / f".{target}.tmp"
        temporary.unlink(missing_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, folder / target)
