"""Whatever a values or secrets file holds, the checks return located findings, no traceback."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.checks.values import check_values_file
from generator.findings import Finding
from generator.model.secrets_format import check_secrets_format
from generator.yamlio import dump_yaml, parse_document

KEYS = st.sampled_from(
    [
        "clusterGroup",
        "name",
        "applications",
        "subscriptions",
        "namespaces",
        "path",
        "chart",
        "project",
        "argoProject",
        "projects",
        "imperative",
        "jobs",
        "managedClusterGroups",
        "syncPolicy",
        "disabled",
        "kustomize",
        "plugin",
        "secrets",
        "fields",
        "value",
        "onMissingValue",
        "generate",
        "vaultPolicy",
        "override",
        "ini_file",
        "version",
        "main",
        "global",
        "options",
        "clusterGroupName",
        "nme",
    ]
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["2.0", "generate", "x", ""])
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)


def located(findings: list[Finding], text: str) -> bool:
    lines = text.count("\n") + 1
    return all(1 <= f.line <= lines and f.column >= 1 and f.message for f in findings)


@settings(max_examples=150, deadline=None)
@given(DATA)
def test_values_checks_never_crash(data: Any) -> None:
    text = dump_yaml({"clusterGroup": data})
    doc = parse_document(text, "values-x.yaml")
    assert located(check_values_file(doc, "group"), text)
    assert located(check_values_file(doc, "global"), text)


@settings(max_examples=150, deadline=None)
@given(DATA)
def test_secret_checks_never_crash(data: Any) -> None:
    text = dump_yaml({"version": "2.0", "secrets": data})
    doc = parse_document(text, "values-secret.yaml.template")
    assert located(check_secrets_format(doc), text)
