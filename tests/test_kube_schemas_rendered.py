"""What the shipped charts really render passes our schemas: no false positive on real output."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.checks.kube_schemas import SchemaRegistry
from generator.checks.resources import validate_resources
from generator.model.facts import Facts
from generator.render import render_group

FIXTURE = Path(__file__).parent / "fixtures" / "reference-mcg"


@pytest.mark.parametrize("group", ["hub", "group-one"])
def test_rendered_reference_pattern_has_no_schema_findings(group: str) -> None:
    resources = render_group(FIXTURE, group, Facts(), apps=True)
    kinds = {resource.kind for resource in resources}
    assert {"Application", "ClusterSecretStore", "ExternalSecret"} <= kinds
    findings = validate_resources(resources, SchemaRegistry())
    assert [f"{f.file}:{f.line}: {f.message}" for f in findings] == []


def test_a_broken_rendered_resource_is_found_at_its_template() -> None:
    resources = render_group(FIXTURE, "hub", Facts(), apps=True)
    policies = [r for r in resources if r.kind == "Policy"]
    [policy] = [r for r in policies if r.name.endswith("clustergroup-policy")]
    policy.body["spec"]["policy-templates"][0]["objectDefinition"]["spec"]["severty"] = "low"
    [finding] = validate_resources(resources, SchemaRegistry())
    assert finding.file == policy.source and finding.line == policy.line
    assert finding.message.endswith("objectDefinition.spec.severty: unknown field")
    assert finding.hint == "did you mean severity?"
