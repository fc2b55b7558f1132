"""`mcg-gen schemas import`: CRD → strict JSON Schema files, written safely."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from generator.checks.kube_schemas import SchemaRegistry
from generator.checks.resources import validate_resources
from generator.commands import schemas
from generator.crd_import import convert_crds, strict_schema, write_schemas
from generator.errors import McgError, SpecErrors
from generator.manifest import Resource

BINDING_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: bindings.example.com}
spec:
  group: example.com
  names: {kind: Binding, plural: bindings}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          required: [placementRef]
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            placementRef:
              type: object
              required: [apiGroup, kind, name]
              properties:
                apiGroup: {type: string, enum: [cluster.example.com, apps.example.com]}
                kind: {type: string, enum: [Placement, PlacementRule]}
                name: {type: string, minLength: 1}
              oneOf:
                - properties:
                    apiGroup: {enum: [cluster.example.com]}
                    kind: {enum: [Placement]}
                - properties:
                    apiGroup: {enum: [apps.example.com]}
                    kind: {enum: [PlacementRule]}
    - name: v1alpha1
      served: false
      storage: false
      schema:
        openAPIV3Schema: {type: object}
"""

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: Example.com
  names: {kind: Widget, plural: widgets}
  versions:
    - name: v1beta1
      served: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size, mode]
              properties:
                size:
                  x-kubernetes-int-or-string: true
                  anyOf: [{type: integer}, {type: string}]
                  pattern: ^[0-9]+%?$
                mode: {type: string, default: fast}
                note: {type: string, nullable: true}
                values:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
                  properties:
                    known: {type: object, properties: {a: {type: string}}}
                template:
                  type: object
                  x-kubernetes-embedded-resource: true
                  properties:
                    spec: {type: object}
                labels:
                  type: object
                  additionalProperties: {type: string}
                choice:
                  type: object
                  anyOf:
                    - type: object
                      properties: {a: {type: string}}
                    - required: [b]
                  properties:
                    a: {type: string}
                    b: {type: string}
            status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _schema(tmp_path: Path, text: str, index: int = 0) -> dict[str, Any]:
    return convert_crds(_write(tmp_path, "crd.yaml", text))[index].schema


def test_one_file_per_served_version_in_kubeconform_layout(tmp_path: Path) -> None:
    path = _write(tmp_path, "crds.yaml", BINDING_CRD + "---\n" + WIDGET_CRD)
    converted = convert_crds(path)
    assert [str(item.relative_path) for item in converted] == [
        "example.com/binding_v1.json",
        "example.com/widget_v1beta1.json",
    ]
    for item in converted:
        Draft7Validator.check_schema(item.schema)
        assert item.schema["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_untyped_branches_stay_open_so_valid_bindings_pass(tmp_path: Path) -> None:
    schema = _schema(tmp_path, BINDING_CRD)
    placement_ref = schema["properties"]["placementRef"]
    assert placement_ref["additionalProperties"] is False
    assert all("additionalProperties" not in branch for branch in placement_ref["oneOf"])
    validator = Draft7Validator(schema)
    ref = {"apiGroup": "cluster.example.com", "kind": "Placement", "name": "p"}
    assert validator.is_valid({"placementRef": ref})
    assert not validator.is_valid({"placementRef": {**ref, "kind": "PlacementRule"}})
    assert not validator.is_valid({"placementRef": {**ref, "nam": "p"}})


def test_conversion_rules(tmp_path: Path) -> None:
    schema = _schema(tmp_path, WIDGET_CRD)
    assert "additionalProperties" not in schema, "the root stays open, as in kubeconform"
    spec = schema["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["required"] == ["size"], "a defaulted field is filled in by the API server"
    size = spec["properties"]["size"]
    assert size["oneOf"] == [{"type": "string"}, {"type": "integer"}]
    assert "anyOf" not in size and "x-kubernetes-int-or-string" not in size
    assert spec["properties"]["note"]["type"] == ["string", "null"]
    values = spec["properties"]["values"]
    assert "additionalProperties" not in values
    assert values["properties"]["known"]["additionalProperties"] is False
    assert "additionalProperties" not in spec["properties"]["template"]
    assert spec["properties"]["labels"]["additionalProperties"] == {"type": "string"}
    choice = spec["properties"]["choice"]
    assert choice["anyOf"][0]["additionalProperties"] is False, "a typed branch is closed"
    assert "additionalProperties" not in choice["anyOf"][1]

    validator = Draft7Validator(schema)
    good = {
        "spec": {
            "size": "50%",
            "note": None,
            "values": {"free": [1], "known": {"a": "x"}},
            "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
            "choice": {"b": "y"},
        }
    }
    assert validator.is_valid(good)
    for bad in ({"size": 1.5}, {"size": "x"}, {"size": 1, "colour": "red"}, {"mode": "slow"}):
        assert not validator.is_valid({"spec": bad}), bad


def test_strict_schema_leaves_its_input_alone() -> None:
    openapi = {"type": "object", "properties": {"spec": {"type": "object", "properties": {}}}}
    before = json.dumps(openapi, sort_keys=True)
    strict_schema(openapi)
    assert json.dumps(openapi, sort_keys=True) == before


def test_apiextensions_v1beta1_shared_validation(tmp_path: Path) -> None:
    text = """\
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: olds.example.com}
spec:
  group: example.com
  names: {kind: Old}
  versions: [{name: v1, served: true}, {name: v2, served: true}]
  validation:
    openAPIV3Schema:
      type: object
      properties: {spec: {type: object, properties: {a: {type: string}}}}
"""
    converted = convert_crds(_write(tmp_path, "old.yaml", text))
    assert [str(item.relative_path) for item in converted] == [
        "example.com/old_v1.json",
        "example.com/old_v2.json",
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            "not a CustomResourceDefinition",
            2,
        ),
        ("- just\n- a list\n", "not a CustomResourceDefinition (kind: missing)", 1),
        ("kind: CustomResourceDefinition\nspec: {names: {kind: X}}\n", "no spec.group", 2),
        (
            BINDING_CRD.replace(
                "      schema:\n        openAPIV3Schema:", "      x:\n        y:", 1
            ),
            "has no openAPIV3Schema",
            9,
        ),
        ("", "no CustomResourceDefinition found", 0),
    ],
)
def test_input_that_is_not_a_usable_crd(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(McgError, match=message.replace("(", r"\(").replace(")", r"\)")) as raised:
        convert_crds(_write(tmp_path, "in.yaml", text))
    assert raised.value.location is not None
    assert raised.value.location.line == line


def test_every_bad_document_is_reported(tmp_path: Path) -> None:
    text = "kind: A\n---\n" + BINDING_CRD + "---\nkind: B\n"
    with pytest.raises(SpecErrors) as raised:
        convert_crds(_write(tmp_path, "in.yaml", text))
    last = text.splitlines().index("kind: B") + 1
    assert [error.location.line for error in raised.value.errors if error.location] == [1, last]


def test_write_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    converted = convert_crds(_write(tmp_path, "crds.yaml", BINDING_CRD + "---\n" + WIDGET_CRD))
    out = tmp_path / "out"
    existing = out / "example.com" / "widget_v1beta1.json"
    existing.parent.mkdir(parents=True)
    existing.write_text("{}", encoding="utf-8")
    with pytest.raises(McgError, match="exist already") as raised:
        write_schemas(converted, out)
    assert "--force" in raised.value.hint
    assert not (out / "example.com" / "binding_v1.json").exists(), "all or nothing"
    assert existing.read_text(encoding="utf-8") == "{}"
    written = write_schemas(converted, out, force=True)
    assert json.loads(existing.read_text(encoding="utf-8")) == converted[1].schema
    assert sorted(p.name for p in (out / "example.com").iterdir()) == sorted(
        p.name for p in written
    )


def _run(argv: list[str]) -> int:
    """The command alone, as the CLI runs it (others' commands are not needed to test ours)."""
    parser = argparse.ArgumentParser(prog="mcg-gen")
    schemas.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except McgError as error:
        print(error, file=sys.stderr)
        return error.exit_code


def test_cli_import_then_validate_with_the_imported_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crd = _write(tmp_path, "binding.yaml", BINDING_CRD)
    out = tmp_path / "schemas"
    assert _run(["schemas", "import", str(crd), "--output-dir", str(out)]) == 0
    assert f"wrote {out / 'example.com' / 'binding_v1.json'}" in capsys.readouterr().out
    assert _run(["schemas", "import", str(crd), "--output-dir", str(out)]) == 1
    assert "exist already" in capsys.readouterr().err
    assert _run(["schemas", "import", str(crd), "-o", str(out), "--force"]) == 0

    registry = SchemaRegistry(extra_locations=[out])
    binding = {
        "apiVersion": "example.com/v1",
        "kind": "Binding",
        "metadata": {"name": "b"},
        "placementRef": {"apiGroup": "apps.example.com", "kind": "PlacementRule", "nme": "x"},
    }
    findings = validate_resources([Resource(binding, "b.yaml", "hub")], registry)
    # the imported schema knows `name` is required: the misspelling is one finding naming it
    assert [(f.message, f.hint) for f in findings] == [
        ("placementRef.nme: unknown field", "did you mean name?")
    ]


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["schemas"]) == 2
    assert "import" in capsys.readouterr().err
    assert _run(["schemas", "import", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read file" in capsys.readouterr().err
