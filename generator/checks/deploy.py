"""Deployability: what a group renders is reconciled by someone on its clusters.

An Application nobody syncs and a Policy nobody places are valid objects that change nothing; no
schema sees them. These checks read the rendered resources of one group: every Argo CD
Application and AppProject sits in a namespace an Argo CD instance serves, and every ACM Policy
is bound to a Placement that exists and, for a managed group's Policy, selects that group's
clusters. (That every ExternalSecret's store exists on its group is links/secret-store-missing.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator import rules
from generator.findings import Finding, Severity
from generator.manifest import Resource
from generator.model import platform
from generator.model.values import ValuesRepo, acm_labels

_ARGO_KINDS = ("Application", "AppProject")
_PLACEMENT_KINDS = ("Placement", "PlacementRule")


@dataclass(frozen=True)
class ManagedGroup:
    """A managed cluster group as the hub's acm chart sees it: the labels its clusters carry, or
    None when its own clusterSelector chooses them (their labels are then unknown)."""

    name: str
    labels: Mapping[str, str] | None


def managed_groups(values: ValuesRepo, group: str) -> list[ManagedGroup]:
    """The managed cluster groups the group's values give the acm chart (on the hub)."""
    found = []
    for entry in values.entries(group, "managedClusterGroups"):
        if entry.body.get("disabled"):
            continue
        name = str(entry.body.get("name", entry.key))
        if entry.body.get("clusterSelector"):
            found.append(ManagedGroup(name, None))
        else:
            found.append(ManagedGroup(name, acm_labels(entry.body) or {"clusterGroup": name}))
    return found


def cluster_argo_namespace(values: ValuesRepo) -> str:
    """global.vpArgoNamespace: where the cluster-wide Argo CD runs."""
    settings = values.global_values.get("global")
    named = settings.get("vpArgoNamespace") if isinstance(settings, dict) else None
    return named if isinstance(named, str) and named else platform.ARGO_NAMESPACE


def check_deployability(
    resources: Sequence[Resource],
    cluster_argo_namespace: str,
    managed_groups: Sequence[ManagedGroup] = (),
    *,
    unrendered_charts: bool = False,
) -> list[Finding]:
    """Findings about the rendered resources of one group. `cluster_argo_namespace` is the
    namespace of the cluster-wide Argo CD (global.vpArgoNamespace); `managed_groups` are the
    hub's managed cluster groups (empty elsewhere). With `unrendered_charts` (some charts could
    not be rendered offline, and one of them may bind a Policy) an unplaced Policy is a warning."""
    findings = list(_unserved(resources, cluster_argo_namespace))
    findings += _unplaced(resources, managed_groups, unrendered_charts)
    return findings


def _served_namespaces(resources: Sequence[Resource], cluster_argo_namespace: str) -> set[str]:
    """The cluster-wide instance's namespace, and the namespace (and sourceNamespaces, Argo CD's
    apps in any namespace) of every ArgoCD instance the group renders."""
    served = {cluster_argo_namespace}
    for resource in resources:
        if resource.kind == "ArgoCD" and resource.api_version.startswith("argoproj.io/"):
            served.add(resource.namespace)
            spec = resource.body.get("spec") or {}
            served.update(str(name) for name in spec.get("sourceNamespaces") or [])
    return served


def _unserved(resources: Sequence[Resource], cluster_argo_namespace: str) -> Iterator[Finding]:
    served = _served_namespaces(resources, cluster_argo_namespace)
    for resource in resources:
        if resource.kind not in _ARGO_KINDS or not resource.api_version.startswith("argoproj.io/"):
            continue
        # without a namespace the object lands in its Application's destination, unknown here
        if not resource.namespace or resource.namespace in served or "*" in served:
            continue
        namespace = resource.namespace
        yield Finding(
            rules.DEPLOY_ARGO_NAMESPACE_UNSERVED.id,
            Severity.ERROR,
            resource.source,
            resource.line,
            0,
            f"{resource.kind} '{resource.name}' is in namespace '{namespace}', which no Argo CD "
            f"instance of group '{resource.group}' serves (served: {', '.join(sorted(served))}): "
            "nothing syncs it",
            "use a clustergroup chart that creates the group's ArgoCD instance, set "
            "global.singleArgoCD: true, or put the object in a served namespace",
        )


def _unplaced(
    resources: Sequence[Resource], managed_groups: Sequence[ManagedGroup], unrendered_charts: bool
) -> Iterator[Finding]:
    placements = {(r.namespace, r.name): r for r in resources if r.kind in _PLACEMENT_KINDS}
    bindings = [r for r in resources if r.kind == "PlacementBinding"]
    policy_sets = {
        (r.namespace, r.name): {
            str(name) for name in (r.body.get("spec") or {}).get("policies") or []
        }
        for r in resources
        if r.kind == "PolicySet"
    }
    for policy in [r for r in resources if r.kind == "Policy"]:
        if (policy.body.get("spec") or {}).get("disabled") is True:
            continue
        refs = [
            binding.body.get("placementRef") or {}
            for binding in bindings
            if binding.namespace == policy.namespace and _binds(binding, policy.name, policy_sets)
        ]
        found = [placements.get((policy.namespace, str(ref.get("name")))) for ref in refs]
        chosen = [placement for placement in found if placement is not None]
        if not chosen:
            missing = [str(ref.get("name")) for ref in refs]
            yield _finding(
                rules.DEPLOY_POLICY_UNPLACED,
                policy,
                Severity.WARNING if unrendered_charts else Severity.ERROR,
                (
                    f"Policy '{policy.name}' is bound to Placement '{missing[0]}', which does "
                    f"not exist in namespace '{policy.namespace}': ACM never propagates it"
                    if missing
                    else f"Policy '{policy.name}' has no PlacementBinding (of its own or of a "
                    "PolicySet holding it): ACM never propagates it"
                )
                + (" (a chart that was not rendered may bind it)" if unrendered_charts else ""),
                "add a PlacementBinding whose subjects name the Policy and whose placementRef "
                "names a Placement in the same namespace",
            )
            continue
        group = _group_of(policy, managed_groups)
        if group is None or group.labels is None:
            continue
        if not any(_selects(placement.body, group.labels) for placement in chosen):
            labels = ", ".join(f"{key}={value}" for key, value in sorted(group.labels.items()))
            yield _finding(
                rules.DEPLOY_PLACEMENT_MISSES_GROUP,
                chosen[0],
                Severity.ERROR,
                f"Placement '{chosen[0].name}' of Policy '{policy.name}' does not select the "
                f"clusters of group '{group.name}' (labelled {labels}): they never get it",
                "select the group's labels (clusterGroup=<group>, or its acmlabels)",
            )


def _finding(
    rule: rules.Rule, resource: Resource, severity: Severity, message: str, hint: str
) -> Finding:
    return Finding(rule.id, severity, resource.source, resource.line, 0, message, hint)


def _binds(binding: Resource, policy: str, policy_sets: Mapping[tuple[str, str], set[str]]) -> bool:
    """Whether a PlacementBinding places the Policy: by name, or through a PolicySet of its
    namespace that holds it."""
    for subject in binding.body.get("subjects") or []:
        if not isinstance(subject, dict):
            continue
        if subject.get("kind") == "Policy" and subject.get("name") == policy:
            return True
        held = policy_sets.get((binding.namespace, str(subject.get("name"))), set())
        if subject.get("kind") == "PolicySet" and policy in held:
            return True
    return False


def _group_of(policy: Resource, managed_groups: Sequence[ManagedGroup]) -> ManagedGroup | None:
    """The managed group a Policy is for: the `clusterGroup.name` of an Application it
    enforces, else the group its name is made of (`<group>-...`, `...-<group>-...`)."""
    by_name = {group.name: group for group in managed_groups}
    for parameter in _enforced_parameters(policy.body):
        if parameter.get("name") == "clusterGroup.name" and parameter.get("value") in by_name:
            return by_name[str(parameter["value"])]
    words = f"-{policy.name}-"
    named = [group for group in managed_groups if f"-{group.name}-" in words]
    return max(named, key=lambda group: len(group.name)) if named else None


def _enforced_parameters(policy: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Helm parameters of the Applications a Policy's ConfigurationPolicies enforce."""
    for template in (policy.get("spec") or {}).get("policy-templates") or []:
        configuration = (template or {}).get("objectDefinition") or {}
        for enforced in (configuration.get("spec") or {}).get("object-templates") or []:
            body = (enforced or {}).get("objectDefinition") or {}
            if body.get("kind") != "Application":
                continue
            spec = body.get("spec") or {}
            for source in spec.get("sources") or [spec.get("source") or {}]:
                for parameter in ((source or {}).get("helm") or {}).get("parameters") or []:
                    if isinstance(parameter, dict):
                        yield parameter


def _selects(placement: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a Placement (any predicate) or PlacementRule chooses a cluster with these labels
    (and no others: local-cluster and the like are absent)."""
    spec = placement.get("spec") or {}
    selectors = [
        ((predicate or {}).get("requiredClusterSelector") or {}).get("labelSelector") or {}
        for predicate in spec.get("predicates") or []
    ]
    if placement.get("kind") == "PlacementRule":
        selectors = [spec.get("clusterSelector") or {}]
    return not selectors or any(_matches(selector, labels) for selector in selectors)


def _matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Kubernetes label selector semantics."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(str(key)) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        key = str(expression.get("key"))
        values = {str(value) for value in expression.get("values") or []}
        operator = expression.get("operator")
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
