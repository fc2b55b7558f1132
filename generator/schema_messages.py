"""Short, human messages for JSON Schema validation errors, with fix hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError, best_match


@dataclass(frozen=True)
class SchemaProblem:
    """One problem; `path` points at the offending key when `at_key` is set, else at the value."""

    path: tuple[str | int, ...]
    message: str
    hint: str
    at_key: bool
    kind: str  # unknown-key, wrong-type, missing-key, invalid


def dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def closest(word: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _description(schema: dict[str, Any]) -> str:
    return str(schema.get("description", ""))


def _known_keys(schema: dict[str, Any]) -> list[str]:
    return sorted(schema.get("properties", {}))


def describe(error: ValidationError) -> list[SchemaProblem]:
    """Turn one jsonschema error (the best match of its context) into user-facing problems."""
    if error.context and error.validator in ("oneOf", "anyOf"):
        deepest = best_match(error.context)
        if deepest is not None and len(deepest.absolute_path) > len(error.absolute_path):
            return describe(deepest)
    path = tuple(error.absolute_path)
    where = dotted(path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator in ("additionalProperties", "unevaluatedProperties"):
        known = _known_keys(schema)
        problems = []
        extras = (
            sorted(set(error.instance) - set(known)) if isinstance(error.instance, dict) else []
        )
        for key in extras:
            suggestion = closest(str(key), known)
            hint = f"did you mean '{suggestion}'?" if suggestion else ""
            if not hint and known:
                hint = "allowed keys: " + ", ".join(known)
            problems.append(
                SchemaProblem(
                    (*path, key), f"{dotted((*path, key))}: unknown key", hint, True, "unknown-key"
                )
            )
        return problems
    if validator == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        return [
            SchemaProblem(path, f"{where}: missing required key '{name}'", "", False, "missing-key")
            for name in missing
        ]
    if validator == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        expected_text = expected_text.replace("object", "mapping").replace("array", "list")
        return [
            SchemaProblem(
                path,
                f"{where}: expected a {expected_text}, got a {_type_name(error.instance)}",
                "",
                False,
                "wrong-type",
            )
        ]
    if validator == "enum":
        allowed = ", ".join(str(value) for value in error.validator_value)
        suggestion = closest(str(error.instance), [str(v) for v in error.validator_value])
        hint = f"did you mean '{suggestion}'?" if suggestion else f"use one of: {allowed}"
        return [
            SchemaProblem(
                path, f"{where}: {error.instance!r} is not one of {allowed}", hint, False, "invalid"
            )
        ]
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        key_path = (*path, error.instance)
        return [
            SchemaProblem(
                key_path, f"{dotted(key_path)}: invalid name", _description(schema), True, "invalid"
            )
        ]
    if validator == "pattern":
        return [
            SchemaProblem(
                path,
                f"{where}: {error.instance!r} is not allowed here",
                _description(schema),
                False,
                "invalid",
            )
        ]
    if validator in (
        "maxLength",
        "minLength",
        "maxItems",
        "minItems",
        "maxProperties",
        "minProperties",
        "minimum",
        "maximum",
    ):
        return [SchemaProblem(path, f"{where}: {error.message}", "", False, "invalid")]
    if validator == "not":
        value = error.validator_value
        keys = value.get("required", []) if isinstance(value, dict) else []
        named = " and ".join(f"'{key}'" for key in keys) or "these keys"
        return [
            SchemaProblem(
                path,
                f"{where}: {named} cannot be used together",
                "keep only one",
                False,
                "exclusive-keys",
            )
        ]
    return [SchemaProblem(path, f"{where}: {error.message}", "", False, "invalid")]
