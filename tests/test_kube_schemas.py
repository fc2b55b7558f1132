"""The schema registry, its compiled fast path, and the findings of the resource layer."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from generator.checks.kube_schemas import (
    SchemaRegistry,
    _compile_kind,
    default_kubernetes_version,
    kubernetes_versions,
)
from generator.checks.resources import format_path, validate_resources, without_null_fields
from generator.errors import McgError, UsageError
from generator.findings import Finding, Severity
from generator.manifest import Resource

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "app", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "quay.io/example/web:1",
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "env": [{"name": "MODE", "value": "prod"}],
                        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                    }
                ]
            },
        },
    },
}

APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "config-demo", "namespace": "mcg-hub"},
    "spec": {
        "project": "hub",
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "config-demo"},
        "source": {
            "repoURL": "https://github.com/validatedpatterns/multicloud-gitops",
            "targetRevision": "main",
            "path": "charts/all/config-demo",
            "helm": {
                "valueFiles": ["/values-global.yaml", "/values-hub.yaml"],
                "parameters": [{"name": "global.pattern", "value": "multicloud-gitops"}],
            },
        },
        "syncPolicy": {"automated": {"prune": True}, "retry": {"limit": 20}},
    },
}


def _policy(objects: list[dict[str, Any]], compliance: str = "musthave") -> dict[str, Any]:
    return {
        "apiVersion": "policy.open-cluster-management.io/v1",
        "kind": "Policy",
        "metadata": {"name": "p", "namespace": "open-cluster-management"},
        "spec": {
            "disabled": False,
            "remediationAction": "enforce",
            "policy-templates": [
                {
                    "objectDefinition": {
                        "apiVersion": "policy.open-cluster-management.io/v1",
                        "kind": "ConfigurationPolicy",
                        "metadata": {"name": "p-config"},
                        "spec": {
                            "remediationAction": "enforce",
                            "object-templates": [
                                {"complianceType": compliance, "objectDefinition": body}
                                for body in objects
                            ],
                        },
                    }
                }
            ],
        },
    }


def _findings(registry: SchemaRegistry, *bodies: dict[str, Any]) -> list[Finding]:
    resources = [Resource(body, "charts/app/templates/x.yaml", "hub", 7) for body in bodies]
    return validate_resources(resources, registry)


def _messages(findings: list[Finding]) -> list[str]:
    return [finding.message for finding in findings]


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry()


# --- the registry ---------------------------------------------------------------------------


def test_bundled_kubernetes_versions_span_125_to_newest() -> None:
    versions = kubernetes_versions()
    assert versions[0] == "1.25"
    assert default_kubernetes_version() == versions[-1]
    assert "1.37" in versions


@pytest.mark.parametrize("version", ["1.30", "v1.30", "1.30.4"])
def test_kubernetes_version_spellings(version: str) -> None:
    assert SchemaRegistry(version).kubernetes_version == "1.30"


@pytest.mark.parametrize("version", ["1.24", "2.0", "latest"])
def test_unsupported_kubernetes_version_is_a_usage_error(version: str) -> None:
    with pytest.raises(UsageError, match="unsupported Kubernetes version") as raised:
        SchemaRegistry(version)
    assert "1.25" in raised.value.hint


def test_builtin_kinds_come_from_kubernetes_and_are_strict(registry: SchemaRegistry) -> None:
    schema = registry.lookup("apps/v1", "Deployment")
    assert schema is not None and schema.origin.startswith("Kubernetes ")
    assert schema.is_valid(DEPLOYMENT)
    typo = copy.deepcopy(DEPLOYMENT)
    typo["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert not schema.is_valid(typo)


def test_builtin_lookup_uses_the_full_group_not_its_first_label(registry: SchemaRegistry) -> None:
    # kubernetes-validate names files after the first label of the group (apps-v1); a CRD in
    # apps.example.com must not be taken for a built-in Deployment.
    assert registry.lookup("apps.example.com/v1", "Deployment") is None
    assert registry.lookup("rbac.authorization.k8s.io/v1", "ClusterRole") is not None
    assert registry.lookup("v1", "ConfigMap") is not None


def test_kinds_gone_from_newer_kubernetes_are_found_in_older_versions() -> None:
    assert (
        SchemaRegistry("1.25").lookup("autoscaling/v2beta2", "HorizontalPodAutoscaler") is not None
    )
    assert SchemaRegistry().lookup("autoscaling/v2beta2", "HorizontalPodAutoscaler") is None


def _write_schema(folder: Path, group: str, name: str, schema: Any) -> Path:
    path = folder / group / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


def test_extra_locations_win_over_bundled_schemas(tmp_path: Path) -> None:
    # A user whose CRD is newer than our schema imports it and points --schema-location at it.
    _write_schema(tmp_path, "argoproj.io", "application_v1alpha1.json", {"type": "object"})
    registry = SchemaRegistry(extra_locations=[tmp_path])
    schema = registry.lookup("argoproj.io/v1alpha1", "Application")
    assert schema is not None and schema.origin.startswith(str(tmp_path))
    assert schema.is_valid({"anything": "goes"})


def test_missing_schema_location_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a directory"):
        SchemaRegistry(extra_locations=[tmp_path / "nope"])


def test_broken_schema_files_are_reported_with_their_path(tmp_path: Path) -> None:
    path = tmp_path / "example.com" / "broken_v1.json"
    path.parent.mkdir()
    path.write_text('{"type": "object",', encoding="utf-8")
    _write_schema(tmp_path, "example.com", "dangling_v1.json", {"$ref": "missing.json"})
    registry = SchemaRegistry(extra_locations=[tmp_path])
    with pytest.raises(McgError, match="not valid JSON") as raised:
        registry.lookup("example.com/v1", "Broken")
    assert raised.value.location is not None and raised.value.location.file == str(path)
    with pytest.raises(McgError, match="cannot be loaded"):
        registry.lookup("example.com/v1", "Dangling")


def test_every_bundled_schema_is_valid_draft7_and_compiles(registry: SchemaRegistry) -> None:
    root = Path(registry.locations[-1])
    files = [path for path in root.glob("*/*.json")]
    assert len(files) >= 18
    for path in files:
        Draft7Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))
        group = path.parent.name
        kind, _, version = path.stem.partition("_")
        schema = registry.lookup(f"{group}/{version}", kind)
        assert schema is not None
        # Compiled, not the jsonschema fallback: the fast path is what makes the layer fast.
        assert schema.is_valid != schema.validator.is_valid, path


# --- the fast path agrees with jsonschema ---------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.5]),
    st.sampled_from(["", "a", "Service", "100%", "30s", "{{ .x }}", "https://x"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abkn", max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def _mutants(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with a few places replaced, removed, or given an extra key."""
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(body)))
        if not path:
            continue
        parent: Any = body
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "remove", "extra"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "extra" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.sampled_from(["name", "kind", "zz", "path"]))] = draw(_VALUES)
        else:
            parent[path[-1]] = draw(_VALUES)
    return body


SAMPLES = {
    ("apps/v1", "Deployment"): DEPLOYMENT,
    ("argoproj.io/v1alpha1", "Application"): APPLICATION,
    ("policy.open-cluster-management.io/v1", "PlacementBinding"): {
        "apiVersion": "policy.open-cluster-management.io/v1",
        "kind": "PlacementBinding",
        "metadata": {"name": "b"},
        "placementRef": {
            "name": "p",
            "kind": "Placement",
            "apiGroup": "cluster.open-cluster-management.io",
        },
        "subjects": [
            {"name": "p", "kind": "Policy", "apiGroup": "policy.open-cluster-management.io"}
        ],
    },
    ("route.openshift.io/v1", "Route"): {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "r"},
        "spec": {"to": {"kind": "Service", "name": "web"}, "port": {"targetPort": 8080}},
    },
}


@pytest.mark.parametrize("key", list(SAMPLES), ids=[kind for _, kind in SAMPLES])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fast_path_agrees_with_jsonschema(
    registry: SchemaRegistry, key: tuple[str, str], data: st.DataObject
) -> None:
    schema = registry.lookup(*key)
    assert schema is not None
    body = data.draw(_mutants(SAMPLES[key]))
    valid = schema.validator.is_valid(body)
    assert schema.is_valid(body) == valid
    # Every way of breaking a resource is explained by at least one finding, never a crash.
    findings = _findings(registry, body)
    if isinstance(body, dict) and (body.get("apiVersion"), body.get("kind")) == key:
        pruned_valid = schema.validator.is_valid(without_null_fields(body))
        assert bool(findings) == (not valid and not pruned_valid)
        assert all(f.rule == "schema/invalid" and ": " in f.message for f in findings)


KEYWORD_SCHEMAS = [
    {"type": "integer"},
    {"type": ["number", "null"]},
    {"enum": ["a", 1, None, True, [1], {"k": 1}]},
    {"const": 1},
    {"const": {"k": [True]}},
    {"minLength": 1, "maxLength": 2, "pattern": "^a"},
    {"minimum": 0, "exclusiveMaximum": 2},
    {"exclusiveMinimum": 0, "maximum": 2},
    {"minItems": 1, "maxItems": 2, "items": {"type": "string"}},
    {"minProperties": 1, "maxProperties": 2},
    {"properties": {"a": {"type": "string"}}, "patternProperties": {"^b": {"type": "integer"}}},
    {"patternProperties": {"^b": {"type": "integer"}}, "additionalProperties": False},
    {"properties": {"a": {}}, "additionalProperties": {"type": "boolean"}, "required": ["a"]},
    {"anyOf": [{"type": "string"}, {"minimum": 1}]},
    {"oneOf": [{"type": "integer"}, {"minimum": 1}]},
    {"allOf": [{"type": "number"}, {"maximum": 1}]},
    {"not": {"type": "array"}},
    {"$ref": "#/definitions/x", "definitions": {"x": {"type": "string"}}},
    {
        "properties": {
            "nested": {
                "$id": "urn:nested",
                "definitions": {"x": {"type": "integer"}},
                "properties": {"n": {"$ref": "#/definitions/x"}},
            }
        },
        "definitions": {"x": {"type": "string"}},
    },
    {"uniqueItems": True},  # not compiled: jsonschema decides
]
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 3)
    | st.sampled_from([0.5, 1.0, 2.0])
    | st.sampled_from(["", "a", "ab", "abc", "b"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "bc", "k"]), inner, max_size=3)
    ),
    max_leaves=5,
)


@pytest.mark.parametrize("schema", KEYWORD_SCHEMAS, ids=lambda s: ",".join(s))
@settings(max_examples=120, deadline=None)
@given(instance=_JSON)
def test_each_compiled_keyword_matches_jsonschema(schema: dict[str, Any], instance: Any) -> None:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    uri = "urn:test"
    registry = Registry().with_resource(uri, Resource.from_contents(schema, DRAFT7))
    root = {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": uri}
    compiled = _compile_kind(root, registry, "test")
    assert compiled.is_valid(instance) == Draft7Validator(schema).is_valid(instance)


def test_draft_2020_applies_keywords_beside_ref() -> None:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schema = {"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "minLength": 2}
    registry = Registry().with_resource("urn:t", Resource.from_contents(schema, DRAFT202012))
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "urn:t"}
    compiled = _compile_kind(root, registry, "test")
    for instance in ("a", "ab", 3):
        assert compiled.is_valid(instance) == Draft202012Validator(schema).is_valid(instance)


# --- findings -------------------------------------------------------------------------------


def test_valid_resources_have_no_findings(registry: SchemaRegistry) -> None:
    assert _findings(registry, DEPLOYMENT, APPLICATION) == []


def test_unknown_field_names_its_path_and_suggests_the_right_one(registry: SchemaRegistry) -> None:
    body = copy.deepcopy(APPLICATION)
    helm = body["spec"]["source"]["helm"]
    helm["valueFile"] = helm.pop("valueFiles")
    [finding] = _findings(registry, body)
    assert finding.rule == "schema/invalid"
    assert finding.severity is Severity.ERROR
    assert finding.message == "spec.source.helm.valueFile: unknown field"
    assert finding.hint == "did you mean valueFiles?"
    assert (finding.file, finding.line) == ("charts/app/templates/x.yaml", 7)


def test_unknown_field_without_a_close_name_lists_the_known_ones(registry: SchemaRegistry) -> None:
    body = copy.deepcopy(APPLICATION)
    body["spec"]["syncPolicy"]["automated"]["zzz"] = True
    [finding] = _findings(registry, body)
    assert finding.message == "spec.syncPolicy.automated.zzz: unknown field"
    assert finding.hint == "known fields here: allowEmpty, enabled, prune, selfHeal"


def test_type_required_and_enum_errors(registry: SchemaRegistry) -> None:
    body = copy.deepcopy(APPLICATION)
    body["spec"]["syncPolicy"]["retry"]["limit"] = "20"
    del body["spec"]["project"]
    route = {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "r"},
        "spec": {
            "to": {"name": "web"},
            "tls": {"termination": "Edge"},
            "port": {"targetPort": 1.5},
        },
    }
    findings = _findings(registry, body, route)
    assert sorted(_messages(findings)) == [
        "spec.port.targetPort: expected a string or an integer, got a number (1.5)",
        "spec.project: required field is missing",
        "spec.syncPolicy.retry.limit: expected an integer, got a string ('20')",
        "spec.tls.termination: 'Edge' is not one of edge, reencrypt, passthrough",
    ]
    assert [f.hint for f in findings if "termination" in f.message] == ["did you mean edge?"]


def test_kind_without_schema_is_a_warning_not_a_silent_pass(registry: SchemaRegistry) -> None:
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    retired = {"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret"}
    findings = _findings(registry, unknown, retired)
    assert [(f.rule, f.severity) for f in findings] == [
        ("schema/unknown-kind", Severity.WARNING)
    ] * 2
    assert findings[0].message == "no schema for Widget example.com/v1; it is not checked"
    assert "mcg-gen schemas import" in findings[0].hint
    assert findings[1].hint == "ExternalSecret has a schema for v1; is v1beta1 still served?"


def test_object_without_kind_is_invalid(registry: SchemaRegistry) -> None:
    [finding] = _findings(registry, {"metadata": {"name": "x"}})
    assert finding.rule == "schema/invalid"
    assert "no apiVersion and kind" in finding.message


def test_policy_objects_are_checked_as_their_own_kinds(registry: SchemaRegistry) -> None:
    deployment = copy.deepcopy(DEPLOYMENT)
    deployment["spec"]["replica"] = 2
    [finding] = _findings(registry, _policy([deployment]))
    prefix = "spec.policy-templates[0].objectDefinition.spec.object-templates[0].objectDefinition"
    assert finding.message == f"{prefix}.spec.replica: unknown field"
    assert finding.hint == "did you mean replicas?"


def test_policy_embedded_configuration_policy_is_checked(registry: SchemaRegistry) -> None:
    policy = _policy([])
    config = policy["spec"]["policy-templates"][0]["objectDefinition"]
    config["spec"]["remediationAction"] = "fix"
    [finding] = _findings(registry, policy)
    assert finding.message.startswith(
        "spec.policy-templates[0].objectDefinition.spec.remediationAction: 'fix' is not one of"
    )


def test_acm_templates_and_partial_objects_are_not_false_positives(
    registry: SchemaRegistry,
) -> None:
    templated = copy.deepcopy(DEPLOYMENT)
    templated["spec"]["replicas"] = '{{hub fromConfigMap "" "sizes" "web" | toInt hub}}'
    templated["spec"]["template"]["spec"]["containers"][0]["ports"] = "{{ .ports }}"
    partial = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"labels": {"a": "b"}}}
    musthave_route = {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "r", "namespace": "app"},
        "spec": {"tls": {"insecureEdgeTerminationPolicy": "Redirect"}},
    }
    assert _findings(registry, _policy([templated, partial, musthave_route])) == []


def test_templates_outside_policies_are_still_errors(registry: SchemaRegistry) -> None:
    body = copy.deepcopy(DEPLOYMENT)
    body["spec"]["replicas"] = "{{ .Values.replicas }}"
    [finding] = _findings(registry, body)
    assert finding.message.startswith("spec.replicas: expected an integer, got a string")


def test_unknown_kinds_inside_policies_are_reported(registry: SchemaRegistry) -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    [finding] = _findings(registry, _policy([widget]))
    assert finding.rule == "schema/unknown-kind"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), "(root)"),
        (("spec", "sources", 0, "helm"), "spec.sources[0].helm"),
        (
            ("metadata", "labels", "app.kubernetes.io/name"),
            "metadata.labels['app.kubernetes.io/name']",
        ),
        (("spec", "policy-templates", 1), "spec.policy-templates[1]"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


def test_findings_point_at_the_offending_field_when_positions_are_known(
    registry: SchemaRegistry,
) -> None:
    from generator.yamlio import parse_documents

    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
data: {k: v}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: b
spec:
  project: default
  destination: {server: https://kubernetes.default.svc}
  source:
    repoURL: https://github.com/example/apps
    helm:
      valueFile: [values.yaml]
"""
    documents = parse_documents(text, "rendered.yaml")
    by_name = {doc.data["metadata"]["name"]: doc for doc in documents}

    def locate(resource: Resource, path: tuple[str | int, ...]) -> tuple[int, int] | None:
        location = by_name[resource.name].location(path, key=True)
        return location.line, location.column

    resources = [Resource(doc.data, "rendered.yaml", "hub", 1) for doc in documents]
    [finding] = validate_resources(resources, registry, locate)
    assert (finding.line, finding.column) == (16, 7)
    [without] = validate_resources(resources, registry)
    assert (without.line, without.column) == (1, 0)


def test_null_fields_are_pruned_as_the_api_server_does(registry: SchemaRegistry) -> None:
    body = copy.deepcopy(APPLICATION)
    body["metadata"]["labels"] = None
    body["spec"]["syncPolicy"] = None
    body["spec"]["source"]["helm"]["parameters"][0]["value"] = None
    assert _findings(registry, body) == []
    body["spec"]["source"]["helm"]["valueFiles"] = ["/values-global.yaml", None]
    [finding] = _findings(registry, body)
    assert finding.message == "spec.source.helm.valueFiles[1]: expected a string, got null"
