"""Throughput of the resource-schema layer (layer 5 of `mcg-gen validate`), on one core.

Prints resources/s for `validate_resources` on a typical rendered mix (built-in kinds and the
custom resources of a Multicloud GitOps hub), and for `kubernetes_validate.validate(...,
strict=True)` on the built-in part of the same input (it has no schemas for custom resources).

    PYTHONPATH=. python bench/bench_schema_layer.py [--resources 20000]
"""

from __future__ import annotations

import argparse
import copy
import time
from typing import Any

import kubernetes_validate

from generator.checks.kube_schemas import SchemaRegistry
from generator.checks.resources import validate_resources
from generator.manifest import Resource

_LABELS = {"app.kubernetes.io/instance": "hub", "app.kubernetes.io/managed-by": "Helm"}

TEMPLATES: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns", "labels": _LABELS}},
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "ns", "labels": _LABELS},
        "data": {"values.yaml": "a: 1\n", "mode": "prod"},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "labels": _LABELS},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "serviceAccountName": "web",
                    "containers": [
                        {
                            "name": "web",
                            "image": "quay.io/example/web:1.0",
                            "ports": [{"containerPort": 8080, "name": "http"}],
                            "env": [{"name": "MODE", "value": "prod"}],
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                        }
                    ],
                },
            },
        },
    },
    {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "app", "namespace": "mcg-hub", "labels": _LABELS},
        "spec": {
            "project": "hub",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "ns"},
            "source": {
                "repoURL": "https://github.com/validatedpatterns/multicloud-gitops",
                "targetRevision": "main",
                "path": "charts/all/config-demo",
                "helm": {
                    "ignoreMissingValueFiles": True,
                    "valueFiles": ["/values-global.yaml", "/values-hub.yaml"],
                    "parameters": [
                        {"name": "global.repoURL", "value": "https://github.com/x/y"},
                        {"name": "global.hubClusterDomain", "value": "apps.hub.example.com"},
                    ],
                },
            },
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "retry": {"limit": 20}},
        },
    },
    {
        "apiVersion": "operators.coreos.com/v1alpha1",
        "kind": "Subscription",
        "metadata": {"name": "sub", "namespace": "openshift-operators"},
        "spec": {
            "name": "openshift-gitops-operator",
            "source": "redhat-operators",
            "sourceNamespace": "openshift-marketplace",
            "channel": "gitops-1.15",
            "installPlanApproval": "Automatic",
        },
    },
    {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "es", "namespace": "ns"},
        "spec": {
            "refreshInterval": "15s",
            "secretStoreRef": {"name": "vault-backend", "kind": "ClusterSecretStore"},
            "target": {"name": "secret", "template": {"type": "Opaque"}},
            "data": [
                {"secretKey": "pw", "remoteRef": {"key": "secret/data/hub/x", "property": "pw"}}
            ],
        },
    },
    {
        "apiVersion": "policy.open-cluster-management.io/v1",
        "kind": "Policy",
        "metadata": {"name": "pol", "namespace": "open-cluster-management"},
        "spec": {
            "disabled": False,
            "remediationAction": "enforce",
            "policy-templates": [
                {
                    "objectDefinition": {
                        "apiVersion": "policy.open-cluster-management.io/v1",
                        "kind": "ConfigurationPolicy",
                        "metadata": {"name": "pol-config"},
                        "spec": {
                            "remediationAction": "enforce",
                            "object-templates": [
                                {
                                    "complianceType": "musthave",
                                    "objectDefinition": {
                                        "apiVersion": "v1",
                                        "kind": "ConfigMap",
                                        "metadata": {"name": "cm", "namespace": "ns"},
                                        "data": {"ca": '{{hub fromConfigMap "" "x" "ca" hub}}'},
                                    },
                                }
                            ],
                        },
                    }
                }
            ],
        },
    },
    {
        "apiVersion": "cluster.open-cluster-management.io/v1beta1",
        "kind": "Placement",
        "metadata": {"name": "pl", "namespace": "open-cluster-management"},
        "spec": {
            "clusterSets": ["region-one"],
            "predicates": [
                {"requiredClusterSelector": {"labelSelector": {"matchLabels": {"group": "one"}}}}
            ],
            "tolerations": [
                {"key": "cluster.open-cluster-management.io/unreachable", "operator": "Exists"}
            ],
        },
    },
]


def _resources(count: int) -> list[Resource]:
    resources = []
    for index in range(count):
        body = copy.deepcopy(TEMPLATES[index % len(TEMPLATES)])
        body["metadata"]["name"] += f"-{index}"
        resources.append(Resource(body, "charts/hub/templates/x.yaml", "hub", 1))
    return resources


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f} resources/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=1_000, help="resources for the baseline")
    args = parser.parse_args()

    resources = _resources(args.resources)
    start = time.perf_counter()
    registry = SchemaRegistry()
    validate_resources(resources[: len(TEMPLATES)], registry)
    print(f"set-up (load and compile {len(TEMPLATES)} kinds): {time.perf_counter() - start:.3f} s")

    start = time.perf_counter()
    findings = validate_resources(resources, registry)
    elapsed = time.perf_counter() - start
    assert not findings, findings[:3]
    print(f"mcg-gen, mixed kinds       {_rate(len(resources), elapsed)}  ({len(resources):,})")

    builtin = [r for r in resources if registry.lookup(r.api_version, r.kind) is not None]
    builtin = [r for r in builtin if "." not in r.api_version.partition("/")[0]]
    start = time.perf_counter()
    validate_resources(builtin, registry)
    elapsed = time.perf_counter() - start
    print(f"mcg-gen, built-in kinds    {_rate(len(builtin), elapsed)}  ({len(builtin):,})")

    sample = builtin[: args.baseline]
    version = registry.kubernetes_version
    start = time.perf_counter()
    for resource in sample:
        kubernetes_validate.validate(resource.body, version, strict=True)
    elapsed = time.perf_counter() - start
    print(f"kubernetes_validate strict {_rate(len(sample), elapsed)}  ({len(sample):,})")


if __name__ == "__main__":
    main()
