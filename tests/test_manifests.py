"""`mcg-gen validate --manifests`: plain manifests from files, folders and stdin, with
kubeconform's options, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result, run_subprocess

DEPLOYMENT = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: good
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "two"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""
LIST = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Secret
    metadata: {name: s}
  - apiVersion: example.com/v1
    kind: Widget
    metadata: {name: w}
    spec: {size: 3}
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata: {name: crb}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: x}
"""
WIDGET_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind"],
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"size": {"type": "string"}},
        },
    },
}

Cli = Callable[..., Result]


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    folder = tmp_path / "manifests"
    (folder / "nested/deeper").mkdir(parents=True)
    (folder / "web.yaml").write_text(DEPLOYMENT)
    (folder / "nested/deeper/list.yml").write_text(LIST)
    (folder / "nested/README.md").write_text("not a manifest: kind: Nothing\n")
    return folder


def findings(result: Result) -> list[tuple[str, str, int]]:
    document = json.loads(result.out)
    return sorted((f["rule"], Path(f["file"]).name, f["line"]) for f in document["findings"])


def test_a_folder_is_searched_recursively_and_lists_are_checked_item_by_item(
    manifests: Path, cli: Cli
) -> None:
    result = cli("validate", "--manifests", str(manifests), "--format", "json")
    assert result.code == 1
    assert findings(result) == [
        ("schema/invalid", "web.yaml", 13),
        ("schema/unknown-kind", "list.yml", 7),
    ]
    summary = json.loads(result.out)["summary"]
    assert (summary["files"], summary["resources"]) == (2, 5)


def test_stdin_is_read_with_a_dash(tmp_path: Path) -> None:
    found = run_subprocess(
        "validate", "--manifests", "-", "--format", "json", cwd=tmp_path, input_text=DEPLOYMENT
    )
    assert found.code == 1, found.err
    [finding] = json.loads(found.out)["findings"]
    assert (finding["file"], finding["line"], finding["column"]) == ("<stdin>", 13, 13)
    assert finding["rule"] == "schema/invalid"
    clean = run_subprocess(
        "validate", "--manifests", "-", cwd=tmp_path, input_text=DEPLOYMENT.split("---")[0]
    )
    assert clean.code == 0, clean.out + clean.err
    assert "no problems in 1 file (1 resource)" in clean.out


def test_skip_reject_and_ignore_missing_schemas(manifests: Path, cli: Cli) -> None:
    folder = str(manifests / "nested")
    result = cli(
        "validate",
        "--manifests",
        folder,
        "--skip-kind",
        "v1/Secret",
        "--reject-kind",
        "Deployment,ClusterRoleBinding",
        "--ignore-missing-schemas",
        "--format",
        "json",
    )
    assert result.code == 1
    assert findings(result) == [("schema/rejected-kind", "list.yml", 11)]
    assert json.loads(result.out)["summary"]["resources"] == 1  # the Widget and Secret skipped
    skipped = cli("validate", "--manifests", folder, "--skip-kind", "Widget,ClusterRoleBinding")
    assert skipped.code == 0, skipped.out


@pytest.mark.parametrize(
    "layout",
    [
        "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json",
        "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/"
        "{{ .ResourceKind }}{{ .KindSuffix }}.json",
    ],
)
def test_templated_schema_locations(layout: str, manifests: Path, tmp_path: Path, cli: Cli) -> None:
    schemas = tmp_path / "schemas"
    expanded = (
        "example.com/widget_v1.json"
        if layout.startswith("{{.Group}}")
        else "v1.31.0-standalone-strict/widget-example-v1.json"
    )
    (schemas / expanded).parent.mkdir(parents=True)
    (schemas / expanded).write_text(json.dumps(WIDGET_SCHEMA))
    result = cli(
        "validate",
        "--manifests",
        str(manifests / "nested"),
        "--kubernetes-version",
        "1.31",
        "--schema-location",
        f"{schemas}/{layout}",
        "--schema-location",
        "default",
        "--format",
        "json",
    )
    [widget] = [f for f in json.loads(result.out)["findings"] if "size" in f["message"]]
    assert widget["rule"] == "schema/invalid"
    assert widget["line"] == 10
    if layout.startswith("{{ .Normalized"):
        # kubeconform appends this layout to a plain folder: the same schema is found
        plain = cli(
            "validate", "--manifests", str(manifests / "nested"), "--kubernetes-version",
            "1.31", "--schema-location", str(schemas), "--format", "json",
        )  # fmt: skip
        assert ("schema/invalid", "list.yml", 10) in findings(plain)


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("/s/{{.Group}}/{{.Kind}}.json", "unknown field Kind"),
        ("/s/{{ .Group | lower }}.json", "not a template"),
        ("https://example.com/{{.Group}}.json", "is a URL"),
        ("/no/such/folder", "not a directory"),
    ],
)
def test_unusable_schema_locations_are_usage_errors(
    location: str, message: str, manifests: Path, cli: Cli
) -> None:
    result = cli("validate", "--manifests", str(manifests), "--schema-location", location)
    assert result.code == 2
    assert message in result.err


def test_a_hostile_api_version_never_reaches_outside_the_schema_location(
    tmp_path: Path, cli: Cli
) -> None:
    outside = tmp_path / "outside/widget_v1.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"not": {}}))  # would reject everything if it were used
    schemas = tmp_path / "schemas/inner"
    schemas.mkdir(parents=True)
    manifest = tmp_path / "m.yaml"
    manifest.write_text("apiVersion: ../../outside/v1\nkind: Widget\nmetadata: {name: w}\n")
    result = cli(
        "validate", "--manifests", str(manifest), "--format", "json", "--schema-location",
        f"{schemas}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
    )  # fmt: skip
    assert findings(result) == [("schema/unknown-kind", "m.yaml", 1)]


def test_tap_and_pretty_output_with_summary(manifests: Path, cli: Cli) -> None:
    tap = cli("validate", "--manifests", str(manifests), "--output", "tap", "--summary")
    lines = tap.out.splitlines()
    assert lines[0] == "TAP version 13"
    assert lines[1].startswith("ok 1 - ") and "schema/unknown-kind" in lines[1]
    assert lines[2].startswith("not ok 2 - ") and "schema/invalid" in lines[2]
    assert lines[3] == "1..2"
    assert lines[4] == "# 1 error, 1 warning in 2 files (5 resources)"
    pretty = cli("validate", "--manifests", str(manifests), "--output", "pretty")
    assert pretty.out.startswith("⚠ ")
    assert "\n✖ " in pretty.out
    assert "Summary" not in pretty.out
    assert cli(
        "validate", "--manifests", str(manifests), "--output", "pretty", "--summary"
    ).out.endswith("Summary: 1 error, 1 warning in 2 files (5 resources)\n")
    clean = manifests / "web.yaml"
    clean.write_text(DEPLOYMENT.split("---")[0])
    assert cli("validate", "--manifests", str(clean), "--output", "tap").out == (
        "TAP version 13\nok 1 - no problems in 1 file (1 resource)\n1..1\n"
    )


def test_workers_find_the_same(manifests: Path, cli: Cli) -> None:
    for index in range(6):
        (manifests / f"copy-{index}.yaml").write_text(DEPLOYMENT)
    one = cli("validate", "--manifests", str(manifests), "--format", "json")
    three = cli("validate", "--manifests", str(manifests), "--format", "json", "-n", "3")
    assert one.code == three.code == 1
    assert findings(one) == findings(three)
    assert len(findings(one)) == 8


def test_manifest_options_need_manifests(tmp_path: Path, cli: Cli) -> None:
    result = cli("validate", str(tmp_path), "--skip-kind", "Secret")
    assert result.code == 2
    assert "--skip-kind only apply to plain manifests" in result.err
