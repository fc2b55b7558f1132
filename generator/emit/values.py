"""The Validated Patterns values files: values-global.yaml and values-<group>.yaml.

Current key names only (`argoProjects`, `argoProject`; the hub is `main.clusterGroupName`, never
`isHubCluster`). Map form keyed by name for applications, subscriptions and managed groups.
"""

from __future__ import annotations

from typing import Any

from generator.model import platform
from generator.model.pattern import App, ClusterGroup, HelmValue, Operator, Pattern
from generator.model.values import merge_values


def global_values(pattern: Pattern) -> dict[str, Any]:
    return merge_values(_global_values(pattern), pattern.extra_values)


def _global_values(pattern: Pattern) -> dict[str, Any]:
    options = pattern.options
    return {
        "global": {
            "pattern": pattern.name,
            "singleArgoCD": platform.SINGLE_ARGOCD,
            "options": {
                "useCSV": options.use_csv,
                "syncPolicy": options.sync_policy,
                "installPlanApproval": options.install_plan_approval,
                "applicationRetryLimit": options.application_retry_limit,
            },
        },
        "main": {
            "clusterGroupName": pattern.hub.name,
            "git": {"repoURL": pattern.repo_url, "revision": pattern.revision},
            "multiSourceConfig": {
                "enabled": True,
                "clusterGroupChartVersion": options.cluster_group_chart_version,
            },
        },
    }


def group_values(pattern: Pattern, group: ClusterGroup) -> dict[str, Any]:
    apps = [pattern.apps[name] for name in group.apps]
    operators = [pattern.operators[key] for key in group.operators]
    tree: dict[str, Any] = {"name": group.name, "namespaces": _namespaces(group, operators)}
    subscriptions = {key: _subscription(pattern, key) for key in group.operators}
    if subscriptions:
        tree["subscriptions"] = subscriptions
    tree["argoProjects"] = list(dict.fromkeys(app.project for app in apps))
    retry = pattern.options.application_retry_limit
    tree["applications"] = {
        app.name: _application(app, group.overrides_for(app), retry) for app in apps
    }
    if group.jobs:
        tree["imperative"] = {"jobs": [_job(job) for job in group.jobs]}
    if group.is_hub and pattern.groups:
        tree["managedClusterGroups"] = {
            managed.name: _managed_group(managed) for managed in pattern.groups
        }
    return merge_values({"clusterGroup": tree}, group.extra_values)


def _namespaces(group: ClusterGroup, operators: list[Operator]) -> list[Any]:
    """The group's namespaces in list form; the namespace of an operator that watches all
    namespaces is a one-key map whose OperatorGroup has no target namespaces."""
    cluster_wide = {operator.namespace for operator in operators if operator.all_namespaces}
    return [
        {name: {"operatorGroup": True, "targetNamespaces": []}} if name in cluster_wide else name
        for name in group.namespaces
    ]


def _subscription(pattern: Pattern, key: str) -> dict[str, Any]:
    operator = pattern.operators[key]
    entry: dict[str, Any] = {"name": operator.name, "namespace": operator.namespace}
    if operator.channel:
        entry["channel"] = operator.channel
    if operator.source != "redhat-operators":
        entry["source"] = operator.source
    if operator.source_namespace != "openshift-marketplace":
        entry["sourceNamespace"] = operator.source_namespace
    if operator.approval:
        entry["installPlanApproval"] = operator.approval
    if operator.csv:
        entry["csv"] = operator.csv
    return entry


def _application(app: App, overrides: dict[str, HelmValue], retry_limit: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": app.name,
        "namespace": app.namespace,
        "argoProject": app.project,
    }
    if app.chart:
        entry["chart"] = app.chart
        entry["chartVersion"] = app.version
        if app.repo_url and app.repo_url.rstrip("/") != platform.HELM_REPO.rstrip("/"):
            entry["repoURL"] = app.repo_url
    else:
        entry["path"] = app.path
    if app.value_files:
        entry["extraValueFiles"] = [f"/{path}" for path in app.value_files]
    if overrides:
        entry["overrides"] = [{"name": name, "value": value} for name, value in overrides.items()]
    if app.sync_policy:
        entry["syncPolicy"] = _sync_policy(app.sync_policy, retry_limit)
    if app.ignore_differences:
        entry["ignoreDifferences"] = [
            {
                key: value
                for key, value in (
                    ("group", diff.group),
                    ("kind", diff.kind),
                    ("name", diff.name),
                    ("namespace", diff.namespace),
                    ("jsonPointers", list(diff.json_pointers)),
                    ("jqPathExpressions", list(diff.jq_path_expressions)),
                    ("managedFieldsManagers", list(diff.managed_fields_managers)),
                )
                if value not in (None, [])
            }
            for diff in app.ignore_differences
        ]
    return entry


def _sync_policy(policy: str, retry_limit: int) -> dict[str, Any]:
    """An app-level Argo CD syncPolicy. Manual has no `automated` key but is never empty: the
    clustergroup chart treats an empty policy as absent and would apply the pattern default."""
    retry = {"retry": {"limit": retry_limit}}
    if policy == "Manual":
        return retry
    return {"automated": {"prune": True, "selfHeal": True}, **retry}


def _job(job: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": job.name, "playbook": job.playbook}
    for key, value in (
        ("verbosity", job.verbosity),
        ("timeout", job.timeout),
        ("image", job.image),
        ("tags", job.tags),
        ("extravars", list(job.extravars)),
    ):
        if value not in (None, []):
            entry[key] = value
    return entry


def _managed_group(group: ClusterGroup) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": group.name,
        "acmlabels": [
            {"name": key, "value": value} for key, value in group.selector_labels.items()
        ],
    }
    if group.helm_overrides:
        entry["helmOverrides"] = [
            {"name": name, "value": value} for name, value in group.helm_overrides.items()
        ]
    return entry
