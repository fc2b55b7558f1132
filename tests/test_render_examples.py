"""Every bundled example, generated and rendered for every cluster group: the resources each group
gets, how they are wired, and that the real APIs (upstream CRD schemas) accept every one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import bundled
from generator.manifest import Resource
from generator.model import names
from generator.model.facts import Facts
from generator.model.pattern import Pattern
from generator.model.spec import load_spec
from generator.render import render_group
from tests.conftest import needs_shared

EXAMPLES = sorted(path.stem for path in bundled.patterns_dir().glob("*.yaml"))


def by_kind(resources: list[Resource], kind: str) -> dict[str, dict[str, Any]]:
    return {r.name: r.body for r in resources if r.kind == kind}


@pytest.fixture(params=EXAMPLES)
def generated(
    request: pytest.FixtureRequest, example_repo: Callable[[str], Path]
) -> tuple[Path, Pattern]:
    repo = example_repo(request.param)
    return repo, load_spec(repo / "pattern.yaml")


def test_applications_follow_the_spec(generated: tuple[Path, Pattern]) -> None:
    repo, pattern = generated
    for group in pattern.cluster_groups:
        resources = render_group(repo, group.name, Facts(), apps=False)
        applications = by_kind(resources, "Application")
        assert set(applications) == set(group.apps)
        projects = by_kind(resources, "AppProject")
        namespaces = by_kind(resources, "Namespace")
        for name, body in applications.items():
            app = pattern.apps[name]
            spec = body["spec"]
            assert spec["project"] == app.project and app.project in projects
            assert spec["destination"]["namespace"] == app.namespace
            assert app.namespace in namespaces
            sources = spec.get("sources") or [spec["source"]]
            if app.chart:
                chart_source = next(s for s in sources if s.get("chart"))
                assert chart_source["chart"] == app.chart
                assert chart_source["targetRevision"] == app.version
                pattern_ref = next(s for s in sources if s.get("ref") == "patternref")
                assert pattern_ref["repoURL"] == pattern.repo_url
                assert f"$patternref/values-{group.name}.yaml" in chart_source["helm"]["valueFiles"]
            else:
                [source] = sources
                assert source["repoURL"] == pattern.repo_url
                assert source["targetRevision"] == pattern.revision
                assert source["path"] == app.path
                value_files = source["helm"]["valueFiles"]
                assert value_files[:2] == ["/values-global.yaml", f"/values-{group.name}.yaml"]
                assert source["helm"]["ignoreMissingValueFiles"] is True
            automated = "automated" in (spec.get("syncPolicy") or {})
            assert automated == ((app.sync_policy or pattern.options.sync_policy) == "Automatic")
        subscriptions = by_kind(resources, "Subscription")
        for key in group.operators:
            operator = pattern.operators[key]
            subscription = subscriptions[operator.name]
            assert subscription["metadata"]["namespace"] == operator.namespace
            approval = operator.approval or pattern.options.install_plan_approval
            assert subscription["spec"]["installPlanApproval"] == approval
            if operator.namespace != "openshift-operators":
                groups = [r for r in resources if r.kind == "OperatorGroup"]
                assert any(r.namespace == operator.namespace for r in groups)


def test_hub_policies_place_each_managed_group(generated: tuple[Path, Pattern]) -> None:
    repo, pattern = generated
    resources = render_group(repo, pattern.hub.name, Facts(), apps=False)
    policies = by_kind(resources, "Policy")
    bindings = by_kind(resources, "PlacementBinding")
    placements = by_kind(resources, "Placement")
    assert len([p for p in policies if p.endswith("-clustergroup-policy")]) == len(pattern.groups)
    for group in pattern.groups:
        policy_name = f"{group.name}-clustergroup-policy"
        assert policy_name in policies
        [binding] = [
            b for b in bindings.values() if any(s["name"] == policy_name for s in b["subjects"])
        ]
        placement = placements[binding["placementRef"]["name"]]
        assert binding["placementRef"]["kind"] == "Placement"
        selector = placement["spec"]["predicates"][0]["requiredClusterSelector"]["labelSelector"]
        assert selector["matchLabels"] == dict(group.selector_labels)
        excluded = {
            e["key"] for e in selector.get("matchExpressions", []) if e["operator"] == "NotIn"
        }
        assert "local-cluster" in excluded or "name" in excluded
        [configuration] = policies[policy_name]["spec"]["policy-templates"]
        objects = configuration["objectDefinition"]["spec"]["object-templates"]
        spoke_app = next(
            o["objectDefinition"] for o in objects if o["objectDefinition"]["kind"] == "Application"
        )
        # the operator runs multi-source: spokes get the clustergroup chart from the Helm
        # repository and their values from the pattern repository ($patternref)
        pattern_source, source = spoke_app["spec"]["sources"]
        assert pattern_source["repoURL"] == pattern.repo_url
        assert pattern_source["ref"] == "patternref"
        assert source["chart"] == "clustergroup"
        assert source["helm"]["valueFiles"][:2] == [
            "$patternref/values-global.yaml",
            f"$patternref/values-{group.name}.yaml",
        ]
        parameters = {p["name"]: p["value"] for p in source["helm"]["parameters"]}
        for name, value in group.helm_overrides.items():
            assert parameters[name] == str(value)
    assert len(by_kind(resources, "ManagedClusterSetBinding")) == (1 if pattern.groups else 0)


def test_external_secrets_read_through_the_store_of_their_group(
    generated: tuple[Path, Pattern],
) -> None:
    repo, pattern = generated
    for group in pattern.cluster_groups:
        resources = render_group(repo, group.name, Facts(), apps=True)
        stores = by_kind(resources, "ClusterSecretStore")
        external = by_kind(resources, "ExternalSecret")
        consumers = [pattern.apps[a] for a in group.apps if pattern.apps[a].secrets]
        assert set(external) == {s for app in consumers for s in app.secrets}
        assert bool(stores) == bool(consumers)
        for name, body in external.items():
            secret = pattern.secrets[name]
            store = body["spec"]["secretStoreRef"]
            assert store == {"name": "vault-backend", "kind": "ClusterSecretStore"}
            assert "vault-backend" in stores
            keys = {item["remoteRef"]["key"] for item in body["spec"]["data"]}
            [key] = keys
            prefix = key.split("/")[2]
            assert prefix in secret.prefixes and prefix in group.readable_prefixes
            assert {item["remoteRef"]["property"] for item in body["spec"]["data"]} == {
                field.name for field in secret.fields
            }
            # the ESO template survives Helm literally
            assert body["spec"]["target"]["template"]["data"] == {
                field.name: f'{{{{ index . "{field.name}" }}}}' for field in secret.fields
            }
        for body in stores.values():
            auth = body["spec"]["provider"]["vault"]["auth"]["kubernetes"]
            domain = f"{group.name}.example.com"  # the cluster domain Facts() gives a spoke
            if group.is_hub:
                expected = (names.HUB_AUTH_MOUNT, names.HUB_VAULT_ROLE)
            else:
                expected = (domain, names.spoke_vault_role(domain))
            assert (auth["mountPath"], auth["role"]) == expected


def test_every_rendered_resource_passes_the_upstream_schemas(
    generated: tuple[Path, Pattern],
) -> None:
    needs_shared()
    from tests.test_render_schemas import problems

    repo, pattern = generated
    for group in pattern.cluster_groups:
        resources = render_group(repo, group.name, Facts(), apps=True)
        assert [p for r in resources for p in problems(r.body)] == []
