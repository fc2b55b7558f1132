"""Our JSON Schemas, compiled once, and their errors as short findings with positions and fixes.

The one translation of JSON Schema errors for every file mcg-gen checks: pattern.yaml, values
files, the secret template. The schemas in `schemas/` are plain JSON Schema 2020-12, so editors
can use them too. Two standard keywords get a meaning here that validators usually leave out:
`deprecated: true` on a property reports its use as a warning (the property's description names
the replacement), and a `not` under `dependentSchemas` (or with its own description) reports keys
that cannot be used together. Each error becomes one Finding pointing at the offending key.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from generator import bundled
from generator.findings import Finding, Severity
from generator.yamlio import Document

if TYPE_CHECKING:  # jsonschema is imported where a schema is checked: a run served from the
    # cache checks none, and jsonschema's import is a tenth of a second
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry

SCHEMA_FILES = (
    "pattern.schema.json",
    "values-global.schema.json",
    "values-clustergroup.schema.json",
    "values-secret.schema.json",
)
_SHOWN_CHARS = 40
# A schema finding's rule is `<layer>/<kind>` (values/unknown-key, secrets/missing-key): the
# layer's rules of these kinds are declared in `generator.rules`.
KINDS = ("unknown-key", "wrong-type", "missing-key", "deprecated-key", "exclusive-keys", "invalid")

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty (null)",
}


def _deprecated(
    validator: Validator, value: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    from jsonschema import ValidationError

    if value is True:
        yield ValidationError("deprecated")


@cache
def _checker() -> Any:
    """Draft 2020-12 with our `deprecated` keyword."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"deprecated": _deprecated})


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    folder = bundled.schemas_dir()
    return {name: json.loads((folder / name).read_text(encoding="utf-8")) for name in SCHEMA_FILES}


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource

    return Registry().with_resources(
        (contents["$id"], Resource.from_contents(contents)) for contents in _schemas().values()
    )


@cache
def schema_validator(schema_file: str) -> Validator:
    """The compiled validator of one of our schemas (built once per process)."""
    validator: Validator = _checker()(_schemas()[schema_file], registry=_registry())
    return validator


def schema_findings(doc: Document, schema_file: str, prefix: str) -> list[Finding]:
    """Every schema violation of `doc` as a Finding whose rule id starts with `prefix`/."""
    errors = list(schema_validator(schema_file).iter_errors(doc.data))
    # A value of the wrong type also fails its enum or pattern; the type is what to report.
    mistyped = {tuple(error.absolute_path) for error in errors if error.validator == "type"}
    findings: set[Finding] = set()
    for error in errors:
        if error.validator == "type" or tuple(error.absolute_path) not in mistyped:
            findings.update(_findings_of(error, doc, prefix))
    return sorted(findings, key=Finding.sort_key)


def dotted(path: tuple[str | int, ...] | list[str | int]) -> str:
    """`clusterGroup.applications[0].name`: a path as users read it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def finding_at(
    doc: Document,
    path: tuple[str | int, ...],
    rule: str,
    message: str,
    hint: str = "",
    severity: Severity = Severity.ERROR,
) -> Finding:
    """A Finding located on the key of `path` (or its closest known parent)."""
    where = doc.location(path, key=True)
    return Finding(
        rule, severity, where.file, where.line, where.column, message, hint, anchor=dotted(path)
    )


def _findings_of(error: ValidationError, doc: Document, prefix: str) -> list[Finding]:
    path = tuple(error.absolute_path)
    keyword = error.validator
    instance = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}

    def at(where: tuple[str | int, ...], kind: str, message: str, hint: str = "") -> Finding:
        severity = Severity.WARNING if kind == "deprecated-key" else Severity.ERROR
        if kind == "invalid":
            offending = where[-1] if where != path else instance
            message, hint = _readable(offending, message, hint)
        return finding_at(doc, where, f"{prefix}/{kind}", message, hint, severity)

    if "propertyNames" in error.absolute_schema_path and isinstance(instance, str):
        key_path = (*path, instance)
        return [at(key_path, "invalid", f"{dotted(key_path)}: invalid name", _description(schema))]
    if (
        keyword in ("oneOf", "anyOf")
        and error.context
        and not _only_required(error.validator_value)
    ):
        from jsonschema.exceptions import best_match

        deeper = best_match(error.context)
        if deeper is not None and (
            len(deeper.absolute_path) > len(path) or deeper.validator == "enum"
        ):
            return _findings_of(deeper, doc, prefix)

    if keyword == "deprecated":
        return [
            at(
                path,
                "deprecated-key",
                f"{dotted(path)}: deprecated key",
                schema.get("description", ""),
            )
        ]
    if keyword == "additionalProperties" and error.validator_value is False:
        return [
            at(
                (*path, key),
                "unknown-key",
                f"{dotted((*path, key))}: unknown key",
                _did_you_mean(key, schema),
            )
            for key in _extra_keys(instance, schema)
        ]
    if keyword == "type":
        return [
            at(
                path,
                "wrong-type",
                _type_message(path, error.validator_value, instance),
                _type_hint(error.validator_value, instance, schema),
            )
        ]
    if keyword == "required":
        return [
            at(
                path,
                "missing-key",
                f"{dotted(path)}: missing key '{key}'",
                _required_hint(key, schema),
            )
            for key in error.validator_value
            if isinstance(instance, dict) and key not in instance
        ]
    if keyword == "dependentRequired":
        return [
            at((*path, trigger), "missing-key", f"{dotted((*path, trigger))}: needs '{needed}' too")
            for trigger, needs in error.validator_value.items()
            if isinstance(instance, dict) and trigger in instance
            for needed in needs
            if needed not in instance
        ]
    if keyword == "anyOf" and _only_required(error.validator_value):
        keys = [key for branch in error.validator_value for key in branch["required"]]
        choices = " or ".join(f"'{key}'" for key in keys)
        return [
            at(
                path,
                "missing-key",
                f"{dotted(path)}: needs {choices}",
                _required_hint(keys[0], schema),
            )
        ]
    if keyword == "not":
        return [_exclusive_finding(error, doc, path, at)]
    return [at(path, "invalid", _invalid_message(path, error), schema.get("description", ""))]


def _description(schema: Mapping[str, Any]) -> str:
    return str(schema.get("description", ""))


def _readable(text: Any, message: str, hint: str) -> tuple[str, str]:
    """A long text shortened, and an invisible or look-alike character named: a name with a
    Cyrillic 'o' reads as valid unless the message says why not."""
    if not isinstance(text, str):
        return message, hint
    if len(text) > _SHOWN_CHARS:
        short = f"{text[:_SHOWN_CHARS]}... ({len(text):,} characters)"
        message = message.replace(repr(text), repr(short)).replace(text, short)
    odd = next((ch for ch in text if not (ch.isascii() and ch.isprintable())), None)
    if odd is not None:
        name = unicodedata.name(odd, "a control character")
        note = (
            f"it contains U+{ord(odd):04X} ({name}) at character {text.index(odd) + 1}, "
            "which is not a plain ASCII character"
        )
        hint = f"{note}. {hint}" if hint else note
    return message, hint


def closest(word: str, choices: Iterator[str] | list[str]) -> str | None:
    """The choice most like `word`, for a "did you mean"."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _extra_keys(instance: Any, schema: Mapping[str, Any]) -> list[Any]:
    if not isinstance(instance, dict):
        return []
    known = schema.get("properties", {})
    return [key for key in instance if key not in known]


def _did_you_mean(key: Any, schema: Mapping[str, Any]) -> str:
    known = list(schema.get("properties", {}))
    by_lower = {name.lower(): name for name in known}
    close = difflib.get_close_matches(str(key).lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{by_lower[close[0]]}'?"
    return "known keys: " + ", ".join(sorted(known)) if known else ""


def _type_label(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _as_list(expected: Any) -> list[str]:
    return [expected] if isinstance(expected, str) else list(expected)


def _type_message(path: tuple[str | int, ...], expected: Any, instance: Any) -> str:
    wanted = " or ".join(_TYPE_NAMES.get(name, name) for name in _as_list(expected))
    got = _TYPE_NAMES[_type_label(instance)]
    return f"{dotted(path)}: expected {wanted}, got {got}"


def _type_hint(expected: Any, instance: Any, schema: Mapping[str, Any]) -> str:
    wanted = _as_list(expected)
    got = _type_label(instance)
    if "enum" in schema:
        return "use one of: " + ", ".join(str(item) for item in schema["enum"])
    if "array" in wanted and got == "object":
        return "write it as a list ('- ' entries): the chart ranges it in order"
    if "string" in wanted and got in ("integer", "number", "boolean"):
        return "quote the value so YAML reads it as a string"
    if "object" in wanted and got == "string":
        return "indent the entries below this key to make it a mapping"
    return ""


def _required_hint(key: str, schema: Mapping[str, Any]) -> str:
    described = schema.get("properties", {}).get(key, {})
    if isinstance(described, Mapping) and described.get("description"):
        return f"{key}: {described['description']}"
    return str(schema.get("description", ""))


def _only_required(branches: Any) -> bool:
    return isinstance(branches, list) and all(
        isinstance(branch, dict) and set(branch) == {"required"} for branch in branches
    )


def _required_keys(schema: Any) -> list[str]:
    """Every key a `not` subschema names in `required`, in order."""
    if isinstance(schema, dict):
        keys = [key for key in schema.get("required", []) if isinstance(key, str)]
        for name in ("anyOf", "oneOf", "allOf"):
            for branch in schema.get(name, []):
                keys.extend(_required_keys(branch))
        return keys
    return []


def _exclusive_finding(
    error: ValidationError, doc: Document, path: tuple[str | int, ...], at: Callable[..., Finding]
) -> Finding:
    instance = error.instance
    forbidden = error.validator_value if isinstance(error.validator_value, Mapping) else {}
    schema_path = list(error.relative_schema_path)
    trigger = ""
    if "dependentSchemas" in schema_path:
        trigger = str(schema_path[schema_path.index("dependentSchemas") + 1])
    present = [
        key for key in _required_keys(forbidden) if isinstance(instance, dict) and key in instance
    ]
    description = str(forbidden.get("description", ""))
    if not present:
        return at(
            path, "exclusive-keys", f"{dotted(path)}: {description or 'value not allowed here'}"
        )
    if not trigger and not description and len(present) > 1:
        # `not: {required: [a, b]}`: name both, point at the one written last
        written = [key for key in instance if key in present]
        return at(
            (*path, written[-1]),
            "exclusive-keys",
            f"{dotted(path)}: "
            + " and ".join(f"'{key}'" for key in present)
            + " cannot be used together",
            "keep only one",
        )
    other = present[0]
    if description:
        message = f"{dotted(path)}: {description} (found '{other}')"
    elif trigger:
        message = f"{dotted(path)}: '{trigger}' and '{other}' cannot be used together"
    else:
        message = f"{dotted(path)}: '{other}' is not allowed here"
    hint = f"remove '{other}' or '{trigger}'" if trigger else f"remove '{other}'"
    return at((*path, other), "exclusive-keys", message, hint)


def _invalid_message(path: tuple[str | int, ...], error: ValidationError) -> str:
    keyword = error.validator
    value = error.instance
    shown = repr(value) if not isinstance(value, (dict, list)) else _TYPE_NAMES[_type_label(value)]
    if keyword == "enum":
        allowed = ", ".join(str(item) for item in error.validator_value)
        return f"{dotted(path)}: {shown} is not one of: {allowed}"
    if keyword == "const":
        return f"{dotted(path)}: must be {error.validator_value!r}, not {shown}"
    if keyword in ("minItems", "minLength"):
        return f"{dotted(path)}: must not be empty"
    if keyword == "maxLength":
        return f"{dotted(path)}: {shown} is longer than {error.validator_value} characters"
    if keyword == "maxItems":
        return f"{dotted(path)}: must have at most {error.validator_value} entries"
    if keyword == "maxProperties":
        return f"{dotted(path)}: must have at most {error.validator_value} key(s)"
    if keyword == "minProperties":
        return f"{dotted(path)}: must have at least {error.validator_value} key(s)"
    if keyword == "pattern":
        return f"{dotted(path)}: invalid value {shown}"
    return f"{dotted(path)}: {error.message[:120]}"
