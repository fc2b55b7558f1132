"""Every resource `render_group` produces is valid, strictly, for the API server that gets it.

Custom resources are checked against the upstream CRD schemas in ../shared (kubeconform layout,
unknown fields are errors), built-in kinds against the Kubernetes 1.29 (OpenShift 4.16) strict
schemas bundled with `kubernetes-validate`. ACM ConfigurationPolicies are opened up: each object
they would create on a spoke is checked against its own kind's schema too.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from referencing import Registry, Resource

from generator.model.facts import Facts
from generator.render import render_group

SHARED = Path(__file__).parents[2] / "shared"
CRD_SCHEMAS = SHARED / "reference" / "crd-schemas"
BUILTIN_SCHEMAS = (
    Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / "v1.29.0-local-strict"
)
FIXTURE = Path(__file__).parent / "fixtures" / "reference-mcg"

pytestmark = pytest.mark.skipif(
    not CRD_SCHEMAS.is_dir(), reason="reference CRD schemas (../shared) are not available"
)


@cache
def _builtin_registry() -> Registry:
    definitions = json.loads((BUILTIN_SCHEMAS / "_definitions.json").read_text())
    return Registry().with_resource("/api/_definitions.json", Resource.from_contents(definitions))


@cache
def validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    group, _, version = api_version.rpartition("/")
    crd = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if group and crd.is_file():
        return jsonschema.Draft7Validator(json.loads(crd.read_text()))
    prefix = group.split(".")[0]
    name = f"{kind.lower()}-{prefix}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    builtin = BUILTIN_SCHEMAS / name
    assert builtin.is_file(), f"no schema for {api_version} {kind}"
    schema = json.loads(builtin.read_text())
    return jsonschema.Draft202012Validator(schema, registry=_builtin_registry())


# Kinds ../shared has no upstream schema for yet: the External Secrets operator's own API, set by
# openshift-external-secrets (mcg-gen's schemas/ checks what the chart sets).
NO_UPSTREAM_SCHEMA = {("operator.openshift.io/v1alpha1", "ExternalSecretsConfig")}


def problems(body: dict[str, Any]) -> list[str]:
    if (body["apiVersion"], body["kind"]) in NO_UPSTREAM_SCHEMA:
        return []
    found = [
        f"{body['kind']} {body['metadata'].get('name')}: {'/'.join(map(str, e.absolute_path))}: "
        f"{e.message}"
        for e in validator(body["apiVersion"], body["kind"]).iter_errors(body)
    ]
    for template in _spoke_objects(body):
        found += problems(template)
    return found


def _spoke_objects(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects an ACM Policy's ConfigurationPolicies would create on managed clusters."""
    if body["kind"] != "Policy":
        return []
    objects = []
    for policy_template in body["spec"]["policy-templates"]:
        configuration = policy_template["objectDefinition"]
        objects.append(configuration)
        objects += [t["objectDefinition"] for t in configuration["spec"]["object-templates"]]
    return objects


@pytest.mark.parametrize("group", ["hub", "group-one"])
def test_every_rendered_resource_is_valid_for_its_api(group: str) -> None:
    resources = render_group(FIXTURE, group, Facts(), apps=True)
    kinds = {r.kind for r in resources}
    assert {"Application", "AppProject", "Namespace", "ClusterSecretStore"} <= kinds
    found = [p for r in resources for p in problems(r.body)]
    assert found == []


def test_spoke_objects_of_the_acm_policy_are_checked_too() -> None:
    resources = render_group(FIXTURE, "hub", Facts(), apps=False)
    policies = {r.name: r.body for r in resources if r.kind == "Policy"}
    kinds = sorted(o["kind"] for o in _spoke_objects(policies["group-one-clustergroup-policy"]))
    assert kinds == ["Application", "ClusterRoleBinding", "ConfigurationPolicy"]
    kinds = sorted(o["kind"] for o in _spoke_objects(policies["group-one-gitops-policy-argocd"]))
    assert kinds == ["ArgoCD", "ConfigurationPolicy"]


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        (
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AppProject",
                "metadata": {"name": "x"},
                "spec": {"sourceRepo": ["*"]},
            },
            "sourceRepo",
        ),
        (
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "date": {}},
            "date",
        ),
    ],
)
def test_the_validators_are_strict(broken: dict[str, Any], field: str) -> None:
    assert any(field in p for p in problems(broken))
