"""Layer 5 of `mcg-gen validate`: every rendered resource against the schema of its kind.

ACM policies carry further objects inside them: each `policy-templates[].objectDefinition` of
a Policy (a ConfigurationPolicy, an OperatorPolicy, ...) and each
`object-templates[].objectDefinition` of a ConfigurationPolicy is checked too, as its own kind.
Two things are legal there and not at the top level, so they are never reported:
- ACM templates (`{{hub ... hub}}`, `{{ ... }}`) are resolved on the cluster and may yield a number,
  a boolean or a whole map, so a string holding one stands for any type;
- an object template is matched against, or merged into, an existing object
  (`musthave`/`mustnothave`), so it may leave out fields its kind requires.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass
from typing import Any

from generator import rules
from generator.checks.kube_schemas import SchemaRegistry, split_api_version
from generator.findings import Finding, Severity
from generator.manifest import Resource

_POLICY_GROUP = "policy.open-cluster-management.io"
_PLAIN_KEY = re.compile(r"[A-Za-z_$][\w$-]*")
_MAX_SHOWN = 60  # characters of a value quoted in a message
_MISSING_REQUIRED = "required field is missing"

Path_ = tuple[str | int, ...]
# Where a field of a resource is: (line, column), 1-based, or None when unknown.
Locate = Callable[[Resource, Path_], tuple[int, int] | None]


@dataclass(frozen=True)
class _Embedding:
    """How an object is nested, which decides what is tolerated in it."""

    templated: bool = False  # ACM templates may stand for any type
    partial: bool = False  # required fields may be missing


_TOP_LEVEL = _Embedding()


def validate_resources(
    resources: Iterable[Resource], registry: SchemaRegistry, locate: Locate | None = None
) -> list[Finding]:
    """Findings for every resource that breaks its kind's schema, or whose kind has none.

    A finding is placed at the resource's `source` and `line`, or, when `locate` is given and
    knows it, at the line and column of the offending field itself.
    """
    findings: list[Finding] = []
    for resource in resources:
        context = _Context(resource, registry, locate)
        findings.extend(_check_object(context, resource.body, (), _TOP_LEVEL))
    return findings


def body_digest(body: Any) -> str:
    """What identifies an object for the schema layer: its whole content."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(errors="surrogatepass"), digest_size=16).hexdigest()


def validate_changed_resources(
    resources: Iterable[Resource], registry: SchemaRegistry, known_clean: Set[str]
) -> tuple[list[Finding], set[str]]:
    """`validate_resources` of the resources whose content is not among `known_clean` (digests
    of objects the same registry found clean before: a clean object is clean wherever it is),
    and the digests of all the resources found clean, old and new. A group that changed one
    template checks one object, not the hundreds its other charts render as before."""
    findings: list[Finding] = []
    clean: set[str] = set()
    for resource in resources:
        digest = body_digest(resource.body)
        if digest not in known_clean:
            found = validate_resources([resource], registry)
            if found:
                findings += found
                continue
        clean.add(digest)
    return findings, clean


def format_path(path: Path_) -> str:
    """`("spec", "sources", 0, "helm")` → `spec.sources[0].helm`; odd keys are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(root)"


@dataclass(frozen=True)
class _Context:
    resource: Resource
    registry: SchemaRegistry
    locate: Locate | None

    def finding(
        self, rule: str, severity: Severity, path: Path_, message: str, hint: str = ""
    ) -> Finding:
        line, column = self.resource.line, 0
        if self.locate is not None:
            line, column = self.locate(self.resource, path) or (line, column)
        return Finding(rule, severity, self.resource.source, line, column, message, hint)


def _check_object(
    context: _Context, body: Any, at: Path_, embedding: _Embedding
) -> Iterator[Finding]:
    where = format_path(at) + ": " if at else ""
    if not isinstance(body, dict):
        yield context.finding(
            rules.SCHEMA_INVALID.id, Severity.ERROR, at, f"{where}expected an object"
        )
        return
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        yield context.finding(
            rules.SCHEMA_INVALID.id,
            Severity.ERROR,
            at,
            f"{where}object has no apiVersion and kind",
            "every Kubernetes object needs both, e.g. apiVersion: v1 and kind: ConfigMap",
        )
        return
    schema = context.registry.lookup(api_version, kind)
    if schema is None:
        message, hint = _unknown_kind(api_version, kind, context.registry)
        yield context.finding(
            rules.SCHEMA_UNKNOWN_KIND.id, Severity.WARNING, at, f"{where}{message}", hint
        )
        return
    if not schema.is_valid(body) and not schema.is_valid(pruned := without_null_fields(body)):
        explained = [
            explanation
            for error in schema.validator.iter_errors(pruned)
            for explanation in _explain(error, embedding)
        ]
        for path, message, hint in _one_per_misspelling(explained):
            full = at + path
            yield context.finding(
                rules.SCHEMA_INVALID.id,
                Severity.ERROR,
                full,
                f"{format_path(full)}: {message}",
                hint,
            )
    for path, nested, nested_embedding in _embedded_objects(body, api_version, kind, embedding):
        yield from _check_object(context, nested, at + path, nested_embedding)


def _one_per_misspelling(
    explained: list[tuple[Path_, str, str]],
) -> list[tuple[Path_, str, str]]:
    """A misspelt required field is one finding: the unknown field, whose hint names the
    required one, not also "required field is missing" for the field it meant."""
    meant = {
        (*path[:-1], hint.removeprefix("did you mean ").removesuffix("?"))
        for path, message, hint in explained
        if message == "unknown field" and hint.startswith("did you mean ")
    }
    return [
        (path, message, hint)
        for path, message, hint in explained
        if not (message == _MISSING_REQUIRED and path in meant)
    ]


def without_null_fields(value: Any) -> Any:
    """The object as the API server validates it: a field set to null is dropped first.

    Helm renders `key:` with nothing after it as null; the API server prunes such fields (and
    Go decodes them as unset), so they are not errors. Nulls inside lists are kept.
    """
    if isinstance(value, dict):
        return {k: without_null_fields(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_null_fields(item) for item in value]
    return value


def _unknown_kind(api_version: str, kind: str, registry: SchemaRegistry) -> tuple[str, str]:
    group, version = split_api_version(api_version)
    versions = [v for v in registry.known_versions(group, kind) if v != version]
    message = f"no schema for {kind} {api_version}; it is not checked"
    if versions:
        return message, f"{kind} has a schema for {', '.join(versions)}; is {version} still served?"
    return message, (
        "import its CustomResourceDefinition with 'mcg-gen schemas import CRD.yaml "
        "--output-dir DIR' and pass --schema-location DIR"
    )


def _embedded_objects(
    body: dict[str, Any], api_version: str, kind: str, embedding: _Embedding
) -> Iterator[tuple[Path_, Any, _Embedding]]:
    """The objects an ACM policy carries, with how each is nested."""
    group, _ = split_api_version(api_version)
    spec = body.get("spec")
    if group != _POLICY_GROUP or not isinstance(spec, dict):
        return
    if kind == "Policy":
        field, nested = "policy-templates", _Embedding(templated=True, partial=embedding.partial)
    elif kind == "ConfigurationPolicy":
        field, nested = "object-templates", _Embedding(templated=True, partial=True)
    else:
        return
    templates = spec.get(field)
    if not isinstance(templates, list):
        return
    for index, template in enumerate(templates):
        if isinstance(template, dict) and "objectDefinition" in template:
            path: Path_ = ("spec", field, index, "objectDefinition")
            yield path, template["objectDefinition"], nested


# --- turning jsonschema errors into messages -----------------------------------------------


def _explain(error: Any, embedding: _Embedding) -> Iterator[tuple[Path_, str, str]]:
    """(path, message, hint) for one jsonschema error; nothing when the embedding tolerates it."""
    path: Path_ = tuple(error.absolute_path)
    keyword, instance, schema = error.validator, error.instance, error.schema
    if embedding.templated and _holds_template(instance):
        return
    if keyword == "additionalProperties" and isinstance(instance, dict):
        yield from _unknown_fields(path, instance, schema)
    elif keyword == "required":
        if embedding.partial:
            return
        for name in schema.get("required", ()):
            if isinstance(instance, dict) and name not in instance:
                yield (*path, name), _MISSING_REQUIRED, ""
    elif keyword == "type":
        yield path, f"expected {_types(error.validator_value)}, got {_describe(instance)}", ""
    elif keyword == "enum":
        allowed = [str(value) for value in error.validator_value]
        close = difflib.get_close_matches(str(instance), allowed, n=1)
        hint = f"did you mean {close[0]}?" if close else ""
        yield path, f"{_show(instance)} is not one of {', '.join(allowed)}", hint
    elif keyword in ("oneOf", "anyOf") and error.context:
        yield from _explain_choice(error, path, embedding)
    else:
        yield path, _shorten(error.message), ""


def _explain_choice(
    error: Any, path: Path_, embedding: _Embedding
) -> Iterator[tuple[Path_, str, str]]:
    """A value matching no branch: name the types when every branch failed on type alone."""
    branch_errors = list(error.context)
    if all(sub.validator == "type" and not sub.relative_path for sub in branch_errors):
        expected = " or ".join(dict.fromkeys(_types(sub.validator_value) for sub in branch_errors))
        yield path, f"expected {expected}, got {_describe(error.instance)}", ""
        return
    from jsonschema.exceptions import best_match

    best = best_match(branch_errors)
    if best is None:  # pragma: no cover - context is never empty here
        yield path, _shorten(error.message), ""
        return
    yield from _explain(best, embedding)


def _unknown_fields(
    path: Path_, instance: dict[Any, Any], schema: dict[str, Any]
) -> Iterator[tuple[Path_, str, str]]:
    known = list(schema.get("properties") or {})
    patterns = [re.compile(pattern) for pattern in schema.get("patternProperties") or {}]
    for name in instance:
        if name in known or any(p.search(str(name)) for p in patterns):
            continue
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {close[0]}?"
        elif known:
            hint = f"known fields here: {', '.join(sorted(known))}"
        else:
            hint = "this object takes no fields"
        yield (*path, name), "unknown field", hint


def _holds_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _types(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else [t for t in expected if t != "null"]
    articles = {"object": "a map", "array": "a list", "integer": "an integer"}
    names = [articles.get(name, f"a {name}") for name in names]
    return " or ".join(names)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    kinds = {dict: "a map", list: "a list", str: "a string", bool: "a boolean"}
    described = kinds.get(type(value)) or ("an integer" if isinstance(value, int) else "a number")
    if isinstance(value, dict | list):
        return described
    return f"{described} ({_show(value)})"


def _show(value: Any) -> str:
    return _shorten(repr(value) if isinstance(value, str) else str(value).lower())


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
