"""CustomResourceDefinition → standalone JSON Schema per served version, in kubeconform's layout.

The conversion follows kubeconform's openapi2jsonschema, so the files work with any tool that
reads that layout, with three changes that each remove a false positive:
- a branch of oneOf/anyOf/allOf/not without a `type` only adds constraints to the object it sits
  in; closing it with `additionalProperties: false` would reject that object's other fields
  (every valid PlacementBinding fails that way: `placementRef.name` sits outside the branches);
- a required field that has a default is not required: the API server fills defaults in before
  it validates;
- an `x-kubernetes-embedded-resource` object stays open: it is a whole Kubernetes object, whose
  apiVersion, kind and metadata the CRD does not list.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import yamlio
from generator.errors import Location, McgError, SpecErrors

DRAFT7 = "http://json-schema.org/draft-07/schema#"
_COMBINATORS = ("oneOf", "anyOf", "allOf")


@dataclass(frozen=True)
class ConvertedSchema:
    """One served version of one CRD: where it goes below the output folder, and the schema."""

    relative_path: Path  # {group}/{kind}_{version}.json, lowercase
    schema: dict[str, Any]
    source: Location


def strict_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """A CRD's openAPIV3Schema as a strict draft-07 JSON Schema (the input is not changed)."""
    converted = _convert(openapi, root=True, branch=False)
    return {"$schema": DRAFT7, **converted}


def _convert(node: Any, *, root: bool, branch: bool) -> Any:
    if isinstance(node, list):
        return [_convert(item, root=False, branch=False) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in _COMBINATORS:
            result[key] = [_convert(item, root=False, branch=True) for item in value]
        elif key == "not":
            result[key] = _convert(value, root=False, branch=True)
        elif key in ("properties", "patternProperties", "definitions"):
            result[key] = {
                name: _convert(sub, root=False, branch=False) for name, sub in value.items()
            }
        elif key in ("items", "additionalProperties"):
            result[key] = _convert(value, root=False, branch=False)
        else:
            result[key] = value
    if result.pop("x-kubernetes-int-or-string", False):
        result.pop("format", None)
        if _is_int_or_string_pair(result.get("anyOf")):
            del result["anyOf"]
        result["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if result.pop("nullable", False) and isinstance(result.get("type"), str):
        result["type"] = [result["type"], "null"]
    _drop_defaulted_required(result)
    open_object = (
        root
        or (branch and "type" not in result)
        or "additionalProperties" in result
        or result.get("x-kubernetes-preserve-unknown-fields")
        or result.get("x-kubernetes-embedded-resource")
    )
    if "properties" in result and not open_object:
        result["additionalProperties"] = False
    return result


def _is_int_or_string_pair(branches: Any) -> bool:
    if not isinstance(branches, list):
        return False
    return sorted(str(branch.get("type")) for branch in branches if isinstance(branch, dict)) == [
        "integer",
        "string",
    ]


def _drop_defaulted_required(schema: dict[str, Any]) -> None:
    properties = schema.get("properties")
    required = schema.get("required")
    if not isinstance(properties, dict) or not isinstance(required, list):
        return
    kept = [name for name in required if "default" not in (properties.get(name) or {})]
    if kept:
        schema["required"] = kept
    else:
        del schema["required"]


def convert_crds(path: Path, display: str | None = None) -> list[ConvertedSchema]:
    """Every served version of every CRD in a YAML file; an error for anything that is not one."""
    name = display or str(path)
    documents = yamlio.parse_documents(yamlio.read_text(path, name), name)
    converted: list[ConvertedSchema] = []
    errors: list[McgError] = []
    for document in documents:
        if document.data is None:
            continue
        try:
            converted.extend(_convert_document(document))
        except McgError as error:
            errors.append(error)
    if errors:
        raise errors[0] if len(errors) == 1 else SpecErrors(errors)
    if not converted:
        raise McgError(
            "no CustomResourceDefinition found",
            location=Location(name),
            hint="pass the CRD manifest, e.g. from 'oc get crd NAME -o yaml'",
        )
    return converted


def _convert_document(document: yamlio.Document) -> list[ConvertedSchema]:
    data = document.data
    if not isinstance(data, dict) or data.get("kind") != "CustomResourceDefinition":
        kind = data.get("kind") if isinstance(data, dict) else None
        raise McgError(
            f"not a CustomResourceDefinition (kind: {kind or 'missing'})",
            location=document.location(("kind",)),
            hint="mcg-gen schemas import reads CRDs only; remove other objects from the file",
        )
    spec = _mapping(data.get("spec"))
    group, kind = spec.get("group"), _mapping(spec.get("names")).get("kind")
    if not isinstance(group, str) or not group or not isinstance(kind, str) or not kind:
        raise McgError(
            "CustomResourceDefinition has no spec.group or spec.names.kind",
            location=document.location(("spec",)),
        )
    shared = _mapping(spec.get("validation")).get("openAPIV3Schema")  # apiextensions v1beta1
    results = []
    for index, version in enumerate(spec.get("versions") or []):
        if not isinstance(version, dict) or not version.get("served", True):
            continue
        openapi = _mapping(version.get("schema")).get("openAPIV3Schema") or shared
        where = document.location(("spec", "versions", index))
        if not isinstance(openapi, dict):
            raise McgError(
                f"version {version.get('name')!r} of {kind} has no openAPIV3Schema",
                location=where,
                hint="a CRD without a schema accepts anything; there is nothing to import",
            )
        relative = Path(group.lower()) / f"{kind.lower()}_{str(version.get('name')).lower()}.json"
        results.append(ConvertedSchema(relative, strict_schema(openapi), where))
    if not results:
        raise McgError(f"{kind} serves no version", location=document.location(("spec",)))
    return results


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def write_schemas(
    schemas: list[ConvertedSchema], output_dir: Path, *, force: bool = False
) -> list[Path]:
    """Write each schema atomically; nothing is written if one would overwrite without `force`."""
    targets = [output_dir / schema.relative_path for schema in schemas]
    existing = [target for target in targets if target.exists()]
    if existing and not force:
        raise McgError(
            f"{len(existing)} schema file(s) exist already, e.g. {existing[0]}",
            location=schemas[targets.index(existing[0])].source,
            hint="pass --force to replace them",
        )
    for schema, target in zip(schemas, targets, strict=True):
        _write_atomically(target, json.dumps(schema.schema, indent=2, sort_keys=True) + "\n")
    return targets


def _write_atomically(target: Path, text: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, target)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        raise McgError(
            f"cannot write schema: {error.strerror}", location=Location(str(target))
        ) from None
