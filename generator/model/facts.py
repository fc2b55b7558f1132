"""The cluster facts the patterns operator injects into every chart as `global.*` values.

On a cluster the operator reads them from the cluster itself (its domain, platform, OpenShift
version); offline they come from flags or a facts file, with defaults that stand for a typical
hub on AWS.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import McgError
from generator.model import layout, platform

PLACEHOLDER_REPO_URL = "https://git.example.com/pattern.git"


@dataclass(frozen=True)
class Facts:
    """The cluster facts the patterns operator injects as `global.*` Helm values.

    Empty fields take defaults when the group is rendered:
    - `local_cluster_domain`: the hub's domain for the hub group (`main.clusterGroupName`,
      default "hub"), `apps.<group>.example.com` for a managed group;
    - `cluster_domain`: the local domain without its leading `apps.`;
    - `cluster_name`: the second label of the local domain (`apps.<name>.example.org`), as the
      operator derives it from the cluster's ingress domain; it selects values-<name>.yaml.
      The placeholder domains name no cluster (their second label is the group's own name,
      and values-<group>.yaml merged again last would undo every platform or version file);
    - `repo_url` / `target_revision`: `main.git.repoURL` / `main.git.revision` from
      values-global.yaml, else a placeholder URL / `main`.
    """

    hub_cluster_domain: str = layout.DEFAULT_HUB_DOMAIN
    local_cluster_domain: str = ""
    cluster_domain: str = ""
    cluster_platform: str = "AWS"
    cluster_version: str = "4.16"
    cluster_name: str = ""
    repo_url: str = ""
    target_revision: str = ""


# Keys of a facts file, named as the `global.*` values they become.
_FACT_KEYS = {
    "hubClusterDomain": "hub_cluster_domain",
    "localClusterDomain": "local_cluster_domain",
    "clusterDomain": "cluster_domain",
    "clusterPlatform": "cluster_platform",
    "clusterVersion": "cluster_version",
    "localClusterName": "cluster_name",
    "repoURL": "repo_url",
    "targetRevision": "target_revision",
}


def load_facts(path: Path, base: Facts | None = None) -> Facts:
    """Facts from a YAML file of `global.*` names (hubClusterDomain: ..., clusterVersion: ...)."""
    from generator import yamlio  # only here: validate's cached answer needs no YAML parser

    document = yamlio.load_file(path)
    data = document.data or {}
    if not isinstance(data, dict):
        raise McgError(
            "a facts file is a mapping of fact names to values",
            location=document.location(()),
            hint=f"known facts: {', '.join(_FACT_KEYS)}",
        )
    changes: dict[str, str] = {}
    for key, value in data.items():
        if key not in _FACT_KEYS:
            raise McgError(
                f"unknown fact {key!r}",
                location=document.location((key,), key=True),
                hint=f"known facts: {', '.join(_FACT_KEYS)}",
            )
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise McgError(f"fact {key!r} must be a string", location=document.location((key,)))
        changes[_FACT_KEYS[key]] = str(value)
    return dataclasses.replace(base or Facts(), **changes)


def injected_globals(values: dict[str, Any], group: str, facts: Facts) -> dict[str, str]:
    """The `global.*` values the patterns operator injects for a cluster of `group`."""
    main = _mapping(values.get("main"))
    git = _mapping(main.get("git"))
    hub_group = str(main.get("clusterGroupName") or layout.DEFAULT_HUB)
    local = facts.local_cluster_domain or (
        facts.hub_cluster_domain if group == hub_group else _placeholder_domain(group)
    )
    pattern = str(values["global"].get("pattern") or "pattern")
    return {
        "pattern": pattern,
        "repoURL": facts.repo_url or str(git.get("repoURL") or PLACEHOLDER_REPO_URL),
        "targetRevision": facts.target_revision or str(git.get("revision") or "main"),
        "hubClusterDomain": facts.hub_cluster_domain,
        "localClusterDomain": local,
        "clusterDomain": facts.cluster_domain or local.removeprefix("apps."),
        "clusterPlatform": facts.cluster_platform,
        "clusterVersion": facts.cluster_version,
        "localClusterName": facts.cluster_name or _cluster_name(local, group),
        "namespace": f"{pattern}-{group}",
    }


def operator_parameters(values: dict[str, Any], group: str, facts: Facts) -> dict[str, Any]:
    """Every `global.*` parameter the patterns operator (and, for a managed cluster, the acm
    chart's policy) passes to the clustergroup chart: the facts, and what it takes from
    `main.multiSourceConfig` of values-global.yaml. Parameters win over every value file."""
    main = _mapping(values.get("main"))
    multi_source = _mapping(main.get("multiSourceConfig"))
    facts_values = injected_globals(values, group, facts)
    enabled = multi_source.get("enabled")
    return {
        **facts_values,
        "originURL": facts_values["repoURL"],
        "privateRepo": False,
        # the operator's defaults when the Pattern leaves them out
        "multiSourceSupport": True if enabled is None else bool(enabled),
        "multiSourceRepoUrl": str(multi_source.get("helmRepoUrl") or platform.HELM_REPO),
        "multiSourceTargetRevision": str(
            multi_source.get("clusterGroupChartVersion") or platform.CLUSTERGROUP_CHART.version
        ),
        "vpArgoNamespace": platform.ARGO_NAMESPACE,
    }


def _cluster_name(local_domain: str, group: str) -> str:
    if local_domain in (layout.DEFAULT_HUB_DOMAIN, _placeholder_domain(group)):
        return ""
    labels = local_domain.split(".")
    return labels[1] if len(labels) > 1 else labels[0]


def _placeholder_domain(group: str) -> str:
    return f"apps.{group}.example.com"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
