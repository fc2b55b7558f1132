"""The bundled clustergroup and acm charts against the upstream charts they model.

mcg-gen renders with its own charts (`charts/`) when the real ones are not in the cache, so what
it shows must be what the patterns operator deploys with upstream clustergroup 0.9.x and acm
0.2.x. Every bundled example (generated with the CLI) and a fixture shaped like today's upstream
Multicloud GitOps values are rendered for every cluster group, in both `global.singleArgoCD`
modes, with the bundled chart and with the upstream chart in ../shared/reference/charts (test
oracle data, never copied), and the two are compared object by object: the same objects (kind,
namespace, name) and the same fields, except for the few differences listed in ALLOWED.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator import bundled
from generator.helm import render_chart
from generator.model.values import load_values_repo, merge_values
from generator.render import parse_set_value, set_parameter
from generator.yamlio import parse_document
from tests.conftest import REFERENCE, needs_shared

FIXTURE = Path(__file__).parent / "fixtures" / "upstream-mcg"
EXAMPLES = sorted(path.stem for path in bundled.patterns_dir().glob("*.yaml"))
HUB_DOMAIN = "apps.hub.example.com"
ACM_NAMESPACE = "open-cluster-management"

# Differences we keep on purpose: (kind, field path pattern) -> why. A path names a field as
# `spec.repo.initContainers[0].command`; `*` matches any part of it.
ALLOWED: dict[tuple[str, str], str] = {
    ("ConsoleLink", "spec.applicationMenu.imageURL"): "our own icon, not upstream's image data",
    ("ArgoCD", "spec.resourceHealthChecks[*].check"): "the same Lua health check in our words",
    ("*", "*ontainers[*].command*"): (
        "the CA, clone and final steps of the imperative jobs and the repo server are our own "
        "shell scripts (same inputs, same files); only containers in ALLOWED_CONTAINERS, the "
        "playbook containers' commands are compared in full"
    ),
    ("ConfigMap", "data.values.yaml"): (
        "upstream runs `tpl` over the whole values tree; we hand the values over as data"
    ),
    ("ExternalSecret", "apiVersion"): (
        "upstream's external-secrets.io/v1beta1 is no longer served; v1 has the same fields"
    ),
}
# Containers whose command may differ (scripts in our words); all others are compared in full.
ALLOWED_CONTAINERS = {"fetch-ca", "git-init", "ansible-dev-mode", "done", "*-sequencejob"}

# A value resolved later, by ACM on the hub or the managed cluster (`{{ ... }}`, `{{hub ... hub}}`)
# or by External Secrets from what it read.
TEMPLATE = re.compile(r"\{\{.*\}\}", re.DOTALL)

CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConsoleLink",
    "ClusterExtension",
    "ManagedClusterSet",
    "Node",
    "Scheduler",
}


def operator_parameters(values: dict[str, Any], group: str, *, hub: bool) -> dict[str, str]:
    """The `global.*` parameters the patterns operator gives the clustergroup chart (its
    newApplicationParameters), and on a spoke what the acm policy gives it instead."""
    main = values.get("main") or {}
    multi_source = main.get("multiSourceConfig") or {}
    local = HUB_DOMAIN if hub else f"apps.{group}.example.com"
    return {
        "global.pattern": str(values["global"]["pattern"]),
        "global.namespace": "openshift-operators",
        "global.repoURL": "https://github.com/example/pattern.git",
        "global.originURL": "",
        "global.targetRevision": "main",
        "global.hubClusterDomain": HUB_DOMAIN,
        "global.localClusterDomain": local,
        "global.clusterDomain": local.removeprefix("apps."),
        "global.clusterVersion": "4.18",
        "global.clusterPlatform": "AWS",
        "global.localClusterName": "hub" if hub else f"{group}-1",
        "global.privateRepo": "false",
        "global.multiSourceSupport": str(bool(multi_source.get("enabled"))).lower(),
        "global.multiSourceRepoUrl": "https://charts.validatedpatterns.io",
        "global.experimentalCapabilities": "",
        "global.gitOpsSubNamespace": "openshift-operators",
        "global.vpArgoNamespace": "openshift-gitops",
        "global.multiSourceTargetRevision": str(
            multi_source.get("clusterGroupChartVersion") or "0.9.*"
        ),
    }


# Operator settings that change what the charts render, tried on the fixture: a private
# repository with a custom Argo CD namespace and GitOps subscription namespace, spokes without
# multi-source, extra parameters, auto-approval; and the pattern's deletion.
VARIANTS: dict[str, dict[str, str]] = {
    "defaults": {},
    "private-custom": {
        "global.privateRepo": "true",
        "global.vpArgoNamespace": "vp-gitops",
        "global.gitOpsSubNamespace": "gitops-operator",
        "global.multiSourceSupport": "false",
        "extraParametersNested.team": "blue",
        "global.options.autoApproveManualInstallPlans": "true",
        "global.excludeESO": "true",
    },
    "deleting-spoke-apps": {"global.deletePattern": "DeleteSpokeChildApps"},
    "deleting-hub-apps": {"global.deletePattern": "DeleteChildApps"},
}


@dataclass(frozen=True)
class Case:
    """One chart rendered for one group of one repository in one singleArgoCD mode."""

    repo: Path
    group: str
    single_argo: bool
    chart: str  # clustergroup or acm
    variant: str = "defaults"

    @property
    def label(self) -> str:
        mode = "single" if self.single_argo else "per-group"
        return f"{self.repo.name}/{self.group}/{self.chart}/{mode}/{self.variant}"


def case_values(case: Case) -> dict[str, Any]:
    values_repo = load_values_repo(case.repo)
    assert values_repo.global_doc is not None
    merged = merge_values(
        values_repo.global_doc.data or {}, values_repo.groups[case.group].data or {}
    )
    merged.setdefault("global", {})["singleArgoCD"] = case.single_argo
    hub = case.group == values_repo.hub_name
    parameters = operator_parameters(merged, case.group, hub=hub) | VARIANTS[case.variant]
    for name, text in parameters.items():
        set_parameter(merged, name, parse_set_value(text))
    set_parameter(merged, "clusterGroup.name", case.group)
    return merged


def render(case: Case, chart_dir: Path) -> list[dict[str, Any]]:
    namespace = ACM_NAMESPACE if case.chart == "acm" else "openshift-operators"
    release = "acm" if case.chart == "acm" else f"multicloud-gitops-{case.group}"
    documents = render_chart(chart_dir, case_values(case), release=release, namespace=namespace)
    return [doc.body for doc in documents]


def keyed(bodies: list[dict[str, Any]], release_namespace: str) -> dict[tuple[str, str, str], Any]:
    """Objects by (kind, namespace, name); a namespaced object without a namespace lands in the
    release's namespace, a cluster-scoped one has none whatever its metadata says. The objects a
    Policy enforces are compared as objects of their own, as `<kind>@<policy>`."""
    found: dict[tuple[str, str, str], Any] = {}

    def add(kind: str, body: dict[str, Any], default_namespace: str) -> None:
        metadata = body.get("metadata") or {}
        namespace = str(metadata.get("namespace") or default_namespace)
        if kind.split("@")[0] in CLUSTER_SCOPED:
            namespace = ""
        elif TEMPLATE.search(namespace):
            namespace = "<chosen on the cluster>"
        key = (kind, namespace, str(metadata.get("name")))
        assert key not in found, f"{key} rendered twice"
        found[key] = normalised(body)

    for body in bodies:
        kind = str(body.get("kind"))
        if kind == "Policy":
            body = copy.deepcopy(body)
            for template in body["spec"].get("policy-templates") or []:
                for enforced in template["objectDefinition"]["spec"].get("object-templates") or []:
                    inner = enforced.pop("objectDefinition")
                    enforced["object"] = f"{inner.get('kind')}/{inner['metadata'].get('name')}"
                    add(f"{inner.get('kind')}@{body['metadata']['name']}", inner, "")
        add(kind, body, release_namespace)
    return found


def normalised(value: Any) -> Any:
    """Drop what Kubernetes drops (null fields, `status`, the namespace already in the key);
    parameters' null values are the empty strings Argo CD reads."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if item is None or key == "status":
                continue
            result[key] = normalised(item)
        metadata = result.get("metadata")
        if isinstance(metadata, dict):
            metadata.pop("namespace", None)
            for empty in ("labels", "annotations"):
                if metadata.get(empty) == {}:
                    metadata.pop(empty)
        if isinstance(value.get("values"), str) and "valueFiles" in value:
            result["values"] = normalised(parse_document(value["values"], "values").data)
        if isinstance(value.get("parameters"), list):
            result["parameters"] = [_parameter(item) for item in value["parameters"]]
        return result
    if isinstance(value, list):
        return [normalised(item) for item in value]
    return value


def _parameter(item: Any) -> Any:
    """A Helm parameter as Argo CD reads it: its value is text, `value:` left empty is ""."""
    if not isinstance(item, dict):
        return item
    value = item.get("value")
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return {**normalised(item), "value": text}


def differences(ours: Any, theirs: Any, path: str = "") -> Iterator[str]:
    """Paths where two normalised objects differ."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs), key=str):
            child = f"{path}.{key}" if path else str(key)
            if key not in ours or key not in theirs:
                yield child
            else:
                yield from differences(ours[key], theirs[key], child)
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for index, (mine, upstream) in enumerate(zip(ours, theirs, strict=True)):
            yield from differences(mine, upstream, f"{path}[{index}]")
    elif ours != theirs and not _same_text(ours, theirs):
        # both sides ACM templates: our own expressions of the same facts (compared by hand)
        yield path


def _matches(pattern: str, text: str) -> bool:
    """`*` matches anything, `[*]` any list index; everything else is literal."""
    parts = [re.escape(part) for part in pattern.replace("[*]", "\0").split("*")]
    regex = ".*".join(parts).replace(re.escape("\0"), r"\[\d+\]")
    return re.fullmatch(regex, text) is not None


def _same_text(ours: Any, theirs: Any) -> bool:
    """Two texts that say the same: the same lines, JSON or base64 YAML documents that parse
    alike, or templates on both sides (ACM's or External Secrets': our own expressions of the
    same facts, compared by hand)."""
    if not (isinstance(ours, str) and isinstance(theirs, str)):
        return False
    if TEMPLATE.search(ours) and TEMPLATE.search(theirs):
        return True
    if [line.rstrip() for line in ours.splitlines()] == [
        line.rstrip() for line in theirs.splitlines()
    ]:
        return True  # spaces a template left at the ends of lines
    try:
        return bool(json.loads(ours) == json.loads(theirs))
    except ValueError:
        pass
    try:  # a base64 YAML document (an install-config): the same once decoded
        decoded = [base64.b64decode(text, validate=True).decode() for text in (ours, theirs)]
    except ValueError:
        return False
    mine, upstream = (parse_document(text, "base64").data for text in decoded)
    return bool(mine == upstream)


def allowed(kind: str, path: str, body: Any) -> bool:
    kind = kind.split("@")[0]
    for (allowed_kind, pattern), _reason in ALLOWED.items():
        if allowed_kind in (kind, "*") and _matches(pattern, path):
            if re.search(r"ontainers\[\d+\]\.command", path):
                name = _container_name(body, path)
                return any(_matches(allowed, name) for allowed in ALLOWED_CONTAINERS)
            return True
    return False


def _container_name(body: Any, path: str) -> str:
    """The name of the container a field path points into."""
    found = re.match(r"(.*ontainers)\[(\d+)\]\.command", path)
    assert found is not None
    node = body
    for part in found.group(1).replace("[", ".[").split("."):
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return str(node[int(found.group(2))].get("name"))


@dataclass
class Comparison:
    compared: int
    mismatches: list[str]


def compare(case: Case, reference: Path) -> Comparison:
    ours = keyed(render(case, bundled.charts_dir() / case.chart), _release_namespace(case))
    theirs = keyed(render(case, reference / case.chart), _release_namespace(case))
    mismatches = [f"only upstream renders {key}" for key in sorted(set(theirs) - set(ours))]
    mismatches += [f"only mcg-gen renders {key}" for key in sorted(set(ours) - set(theirs))]
    for key in sorted(set(ours) & set(theirs)):
        for path in differences(ours[key], theirs[key]):
            if not allowed(key[0], path, ours[key]):
                mismatches.append(f"{key} differs at {path}")
    return Comparison(len(set(ours) | set(theirs)), mismatches)


def _release_namespace(case: Case) -> str:
    return ACM_NAMESPACE if case.chart == "acm" else "openshift-operators"


def cases_of(repo: Path, variants: tuple[str, ...] = ("defaults",)) -> list[Case]:
    values_repo = load_values_repo(repo)
    found = []
    for group in sorted(values_repo.groups):
        charts = ["clustergroup"]
        if values_repo.cluster_group(group).get("managedClusterGroups"):
            charts.append("acm")
        for chart in charts:
            for single in (False, True):
                found += [Case(repo, group, single, chart, variant) for variant in variants]
    return found


@pytest.fixture(scope="module")
def example_repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every bundled example, generated by the CLI into its own repository."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("examples")
    repos = {}
    for example in EXAMPLES:
        target = root / example
        subprocess.run(
            [
                sys.executable,
                "-m",
                "generator",
                "new",
                example,
                "--from",
                example,
                "--output",
                str(target),
                "--no-git",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        repos[example] = target
    return repos


@pytest.mark.parametrize("source", [*EXAMPLES, "upstream-mcg"])
def test_bundled_charts_render_what_upstream_renders(
    source: str, example_repos: dict[str, Path]
) -> None:
    needs_shared()
    if source == "upstream-mcg":
        cases = cases_of(FIXTURE, tuple(VARIANTS))
    else:
        cases = cases_of(example_repos[source])
    assert any(case.chart == "acm" for case in cases), "every source has a hub with spokes"
    report = {case.label: compare(case, REFERENCE / "charts") for case in cases}
    failures = {label: result.mismatches for label, result in report.items() if result.mismatches}
    assert not failures, "\n".join(
        f"{label}:\n  " + "\n  ".join(found) for label, found in failures.items()
    )


def test_the_comparison_sees_a_difference(tmp_path: Path) -> None:
    """A field the bundled chart gets wrong is reported, not normalised away."""
    ours = normalised({"kind": "Application", "metadata": {"name": "a"}, "spec": {"project": "x"}})
    theirs = normalised(
        {"kind": "Application", "metadata": {"name": "a"}, "spec": {"project": "y"}}
    )
    assert list(differences(ours, theirs)) == ["spec.project"]
    assert not allowed("Application", "spec.project", ours)
    assert allowed("ConsoleLink", "spec.applicationMenu.imageURL", {})


def test_the_allow_list_stays_small() -> None:
    assert len(ALLOWED) <= 6, "a difference from upstream is a bug unless it has a good reason"
