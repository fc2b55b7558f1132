"""Where the JSON Schema of a Kubernetes kind comes from, compiled once and cached.

Lookup follows kubeconform: `(apiVersion, kind)` → `{group}/{kind}_{version}.json` (lowercase) in
each schema location, first match wins; built-in Kubernetes kinds come from the schemas that the
`kubernetes-validate` package bundles per Kubernetes version (its strict variant, which rejects
unknown fields). That package is used only as a schema source: its own `validate()` rebuilds the
validator on every call, which is far too slow for thousands of resources.

`jsonschema` walks a schema keyword by keyword for every instance, ~100-400 µs for a typical
resource. Almost every rendered resource is valid, so each schema is also compiled into plain
Python closures that give the same yes/no verdict in a few microseconds; `jsonschema` runs only on
resources that fail, to explain why. A schema using a keyword the compiler does not know is
checked by `jsonschema` alone, so the fast path can never accept what `jsonschema` rejects.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from generator import bundled
from generator.errors import Location, McgError, UsageError

Check = Callable[[Any], bool]

_DRAFT7 = "http://json-schema.org/draft-07/schema#"
# Dialects in which `$ref` makes every keyword beside it ignored (2019-09 and later apply them).
_REF_OVERRIDES_SIBLINGS = {
    f"http://json-schema.org/draft-0{n}/schema{end}" for n in (3, 4, 6, 7) for end in ("", "#")
}


@dataclass(frozen=True)
class KindSchema:
    """A compiled schema: `is_valid` is the fast verdict, `validator` explains failures."""

    is_valid: Check
    validator: Any  # a jsonschema Validator; typed loosely because jsonschema has no stubs
    origin: str  # the schema file, or "Kubernetes 1.37" for built-in kinds


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` → (`apps`, `v1`); the core group `v1` → (``, `v1`)."""
    group, _, version = api_version.rpartition("/")
    return group, version


# --- Kubernetes built-in kinds -------------------------------------------------------------


def _kubernetes_schema_root() -> Path:
    """The schemas kubernetes-validate bundles. Found, not imported: importing the package
    imports jsonschema, a tenth of a second a run that checks no schema need not pay."""
    import importlib.util

    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        raise McgError("the kubernetes-validate package is not installed", hint="reinstall mcg-gen")
    return Path(spec.origin).resolve().parent / "kubernetes-json-schema"


@cache
def kubernetes_versions() -> tuple[str, ...]:
    """The Kubernetes minor versions (`1.25` … ) whose schemas the installed package bundles."""
    found = set()
    for entry in _kubernetes_schema_root().iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", entry.name)
        if match:
            found.add((int(match[1]), int(match[2])))
    return tuple(f"{major}.{minor}" for major, minor in sorted(found))


def default_kubernetes_version() -> str:
    return kubernetes_versions()[-1]


def _minor_version(version: str) -> str:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", version.strip())
    supported = kubernetes_versions()
    if not match or f"{match[1]}.{match[2]}" not in supported:
        raise UsageError(
            f"unsupported Kubernetes version {version!r}",
            hint=f"choose one of {', '.join(supported)} (major.minor, e.g. {supported[-1]})",
        )
    return f"{match[1]}.{match[2]}"


@dataclass(frozen=True)
class _KubernetesSchemas:
    registry: Any  # referencing.Registry holding `_definitions.json`
    base_uri: str
    definitions: dict[tuple[str, str, str], str]  # (group, version, kind) → definition name


@cache
def _kubernetes_schemas(minor: str) -> _KubernetesSchemas:
    from referencing import Registry, Resource

    folder = _kubernetes_schema_root() / f"v{minor}.0-local-strict"
    contents = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))
    base_uri = contents["$id"]
    registry = Registry().with_resource(base_uri, Resource.from_contents(contents)).crawl()
    definitions = {}
    for name, definition in contents["$defs"].items():
        kinds = definition.get("x-kubernetes-group-version-kind", [])
        # DeleteOptions and WatchEvent claim every group; they are never resources of a chart.
        if len(kinds) == 1:
            gvk = kinds[0]
            definitions[(gvk["group"], gvk["version"], gvk["kind"])] = name
    return _KubernetesSchemas(registry, base_uri, definitions)


# --- our schema files and extra locations --------------------------------------------------


def _read_schema_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise McgError(
            f"cannot read schema: {error.strerror}", location=Location(str(path))
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", 0)
        raise McgError(
            f"schema is not valid JSON: {error}",
            location=Location(str(path), line),
            hint="regenerate it with 'mcg-gen schemas import CRD.yaml'",
        ) from None


@cache
def _retrieve_file(uri: str) -> Any:
    """Lets one schema file `$ref` another by relative path (e.g. `../_definitions.json`)."""
    from urllib.parse import unquote, urlparse

    from referencing import Resource
    from referencing.exceptions import NoSuchResource
    from referencing.jsonschema import DRAFT7

    parsed = urlparse(uri)
    path = Path(unquote(parsed.path))
    if parsed.scheme != "file" or not path.is_file():
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
    return Resource.from_contents(_read_schema_file(path), default_specification=DRAFT7)


# --- kubeconform's schema locations --------------------------------------------------------

# What kubeconform appends to a location that does not name a .json file (the layout of
# kubernetes-json-schema); a plain folder is also searched in the CRDs-catalog layout
# `{group}/{kind}_{version}.json` that `mcg-gen schemas import` writes.
KUBECONFORM_LAYOUT = (
    "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/"
    "{{ .ResourceKind }}{{ .KindSuffix }}.json"
)
_TEMPLATE_FIELD = re.compile(r"\{\{-?\s*\.(\w+)\s*-?\}\}")
_TEMPLATE_FIELDS = frozenset(
    {
        "Group", "ResourceKind", "ResourceAPIVersion", "KindSuffix",
        "NormalizedKubernetesVersion", "StrictSuffix",
    }
)  # fmt: skip
# What may appear in a path built from a resource: an apiVersion or kind from a hostile manifest
# must not walk out of the schema location (`../`).
_SAFE_GROUP = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_SAFE_NAME = re.compile(r"[A-Za-z0-9]+")


def is_template(location: str | Path) -> bool:
    """Whether a schema location is one of kubeconform's templated paths."""
    return "{{" in str(location)


def check_schema_location(location: str | Path) -> None:
    """A usage error for a location that is neither a folder nor a usable template."""
    text = str(location)
    if text.startswith(("http://", "https://")):
        raise UsageError(
            f"schema location {text!r} is a URL; mcg-gen works offline",
            hint="download the schemas and pass the local folder or templated path",
        )
    if not is_template(text):
        if not Path(text).is_dir():
            raise UsageError(
                f"schema location {text!r} is not a directory",
                hint="pass a folder laid out as {group}/{kind}_{version}.json, or a templated "
                "path such as DIR/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json",
            )
        return
    leftover = _TEMPLATE_FIELD.sub("", text)
    unknown = sorted(set(_TEMPLATE_FIELD.findall(text)) - _TEMPLATE_FIELDS)
    if unknown or "{{" in leftover or "}}" in leftover:
        raise UsageError(
            f"schema location {text!r} is not a template mcg-gen can expand"
            + (f" (unknown field {', '.join(unknown)})" if unknown else ""),
            hint="use the fields "
            + ", ".join(f"{{{{.{name}}}}}" for name in sorted(_TEMPLATE_FIELDS)),
        )


def template_fields(api_version: str, kind: str, kubernetes_version: str) -> dict[str, str] | None:
    """The values kubeconform fills its location templates with, or None for an apiVersion or
    kind that cannot be part of a path. As kubeconform: `Group` is what precedes the last `/`
    (the whole apiVersion for the core group), `KindSuffix` is `-<first label of the
    group>-<version>`, the version gets a `v`, and mcg-gen is always strict."""
    parts = api_version.split("/")
    version = parts[-1]
    if not _SAFE_NAME.fullmatch(kind) or not _SAFE_NAME.fullmatch(version):
        return None
    if len(parts) > 2 or not _SAFE_GROUP.fullmatch(parts[0].lower()):
        return None
    suffix = "-" + parts[0].split(".")[0].lower()
    if len(parts) > 1:
        suffix += "-" + version.lower()
    return {
        "Group": parts[0],
        "ResourceKind": kind.lower(),
        "ResourceAPIVersion": version,
        "KindSuffix": suffix,
        "NormalizedKubernetesVersion": f"v{kubernetes_version}",
        "StrictSuffix": "-strict",
    }


def expand_template(template: str, fields: dict[str, str]) -> Path:
    return Path(_TEMPLATE_FIELD.sub(lambda match: fields[match[1]], template))


# --- the registry --------------------------------------------------------------------------


class SchemaRegistry:
    """Schemas by (apiVersion, kind): extra locations first, then ours, then built-in kinds.

    Extra locations win over the bundled schemas so that a user whose CRD is newer than ours
    can import it (`mcg-gen schemas import`) and point `--schema-location` at it.
    """

    def __init__(
        self,
        kubernetes_version: str | None = None,
        extra_locations: Sequence[Path] = (),
    ) -> None:
        from referencing import Registry

        self.kubernetes_version = (
            _minor_version(kubernetes_version)
            if kubernetes_version
            else default_kubernetes_version()
        )
        for location in extra_locations:
            check_schema_location(location)
        # kubeconform's NormalizedKubernetesVersion is a full version: 1.31 is v1.31.0
        self.full_kubernetes_version = f"{self.kubernetes_version}.0"
        self.templates = tuple(
            str(location) for location in extra_locations if is_template(location)
        )
        folders = tuple(Path(location) for location in extra_locations if not is_template(location))
        # a plain folder is searched in both layouts; kubeconform's as its templated path
        self.templates += tuple(str(folder / KUBECONFORM_LAYOUT) for folder in folders)
        self.locations = (*folders, bundled.schemas_dir())
        self._files = Registry(retrieve=_retrieve_file)  # type: ignore[call-arg]
        self._compiled: dict[tuple[str, str], KindSchema | None] = {}

    def lookup(self, api_version: str, kind: str) -> KindSchema | None:
        """The compiled schema of a kind, or None when no location has one."""
        key = (api_version, kind)
        if key not in self._compiled:
            self._compiled[key] = self._find(api_version, kind)
        return self._compiled[key]

    def known_versions(self, group: str, kind: str) -> list[str]:
        """The versions of a kind that have a schema, to suggest when the one asked for has none."""
        versions = set()
        for location in self.locations:
            for path in (location / group).glob(f"{kind.lower()}_*.json"):
                versions.add(path.stem.partition("_")[2])
        builtin = _kubernetes_schemas(self.kubernetes_version).definitions
        versions.update(v for (g, v, k) in builtin if g == group and k == kind)
        return sorted(versions)

    def _find(self, api_version: str, kind: str) -> KindSchema | None:
        group, version = split_api_version(api_version)
        if not version or not kind:
            return None
        fields = template_fields(api_version, kind, self.full_kubernetes_version)
        if fields is None:
            return None
        for template in self.templates:
            path = expand_template(template, fields)
            if path.is_file():
                return self._compile_file(path)
        name = f"{kind.lower()}_{version.lower()}.json"
        for location in self.locations:
            path = location / group.lower() / name
            if group and path.is_file():
                return self._compile_file(path)
        builtin = _kubernetes_schemas(self.kubernetes_version)
        definition = builtin.definitions.get((group, version, kind))
        if definition is None:
            return None
        uri = f"{builtin.base_uri}#/$defs/{definition}"
        return _compile_kind(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": uri},
            builtin.registry,
            f"Kubernetes {self.kubernetes_version}",
        )

    def _compile_file(self, path: Path) -> KindSchema:
        from referencing import Resource
        from referencing.jsonschema import DRAFT7

        contents = _read_schema_file(path)
        if not isinstance(contents, dict):
            raise McgError("schema is not a JSON object", location=Location(str(path)))
        uri = path.resolve().as_uri()
        self._files = self._files.with_resource(
            uri, Resource.from_contents(contents, default_specification=DRAFT7)
        )
        dialect = contents.get("$schema", _DRAFT7)
        return _compile_kind({"$schema": dialect, "$ref": uri}, self._files, str(path))


def _compile_kind(root: dict[str, Any], registry: Any, origin: str) -> KindSchema:
    from jsonschema.validators import validator_for
    from referencing.exceptions import Unresolvable

    validator_class = validator_for(root)
    validator = validator_class(root, registry=registry)
    try:
        ref_overrides = root["$schema"] in _REF_OVERRIDES_SIBLINGS
        is_valid = _Compiler(registry, ref_overrides=ref_overrides).compile(root, "")
    except _NotCompilable:
        is_valid = validator.is_valid
    except Unresolvable as error:
        raise McgError(
            f"schema refers to {error.ref!r}, which cannot be loaded",
            location=Location(origin),
            hint="a $ref must name a file next to the schema or a #/definitions/... entry in it",
        ) from None
    return KindSchema(is_valid, validator, origin)


# --- the fast path: a JSON Schema subset compiled to closures -----------------------------

# Keywords that do not constrain an instance (jsonschema checks `format` only when asked to).
_ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default",
        "examples", "example", "format", "readOnly", "writeOnly", "deprecated", "nullable",
        "discriminator",
    }
)  # fmt: skip
_CHECKED = frozenset(
    {
        "$ref", "type", "enum", "const", "properties", "additionalProperties",
        "patternProperties", "required", "minProperties", "maxProperties", "items", "minItems",
        "maxItems", "pattern", "minLength", "maxLength", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "allOf", "anyOf", "oneOf", "not",
    }
)  # fmt: skip


class _NotCompilable(Exception):
    """The schema uses a keyword (or a form of one) the fast path does not implement."""


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _same(left: Any, right: Any) -> bool:
    """JSON equality as jsonschema sees it: booleans are not numbers, 1 equals 1.0."""
    if type(left) is bool or type(right) is bool:
        return left is right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


def _type_check(types: str | list[str]) -> Check:
    names = {types} if isinstance(types, str) else set(types)
    unknown = names - {"object", "array", "string", "boolean", "null", "number", "integer"}
    if unknown:
        raise _NotCompilable(f"type {sorted(unknown)}")
    exact: set[type] = set()
    for name, python in (
        ("object", dict),
        ("array", list),
        ("string", str),
        ("boolean", bool),
        ("null", type(None)),
    ):
        if name in names:
            exact.add(python)
    if "number" in names:
        exact.update((int, float))
    elif "integer" in names:
        exact.add(int)
        frozen = frozenset(exact)
        return lambda value: type(value) in frozen or (type(value) is float and value.is_integer())
    frozen = frozenset(exact)
    return lambda value: type(value) in frozen


_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("minimum", operator.ge),
    ("maximum", operator.le),
    ("exclusiveMinimum", operator.gt),
    ("exclusiveMaximum", operator.lt),
)


def _bound_check(holds: Callable[[Any, Any], bool], bound: float) -> Check:
    return lambda value: not _is_number(value) or holds(value, bound)


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    frozen = tuple(checks)

    def check(value: Any) -> bool:
        return all(one(value) for one in frozen)

    return check


class _Compiler:
    def __init__(self, registry: Any, *, ref_overrides: bool) -> None:
        self.registry = registry
        self.ref_overrides = ref_overrides
        # Keyed by id() of the target schema, which is kept alive here so the id stays unique.
        self.refs: dict[int, tuple[Any, Check]] = {}

    def compile(self, schema: Any, base_uri: str) -> Check:
        return self._schema(schema, self.registry.resolver(base_uri))

    def _schema(self, schema: Any, resolver: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise _NotCompilable("schema is not an object")
        unknown = set(schema) - _ANNOTATIONS - _CHECKED
        if any(not key.startswith("x-") for key in unknown):
            raise _NotCompilable(f"keywords {sorted(unknown)}")
        if "$id" in schema:  # a nested $id moves the base URI of the references below it
            resolver = resolver.in_subresource(self._resource(schema))
        if "$ref" in schema:
            ref_check = self._ref(schema["$ref"], resolver)
            if self.ref_overrides:
                return ref_check
            return _all_of([ref_check, self._keywords(schema, resolver)])
        return self._keywords(schema, resolver)

    def _resource(self, schema: dict[str, Any]) -> Any:
        from referencing import Resource
        from referencing.jsonschema import DRAFT7, DRAFT202012

        default = DRAFT7 if self.ref_overrides else DRAFT202012
        return Resource.from_contents(schema, default_specification=default)

    def _ref(self, ref: str, resolver: Any) -> Check:
        resolved = resolver.lookup(ref)
        key = id(resolved.contents)
        if key not in self.refs:
            # A placeholder first, so that recursive schemas compile to a loop, not forever.
            target: list[Check] = []
            self.refs[key] = (resolved.contents, lambda value: target[0](value))
            target.append(self._schema(resolved.contents, resolved.resolver))
            self.refs[key] = (resolved.contents, target[0])
        return self.refs[key][1]

    def _keywords(self, schema: dict[str, Any], resolver: Any) -> Check:
        checks = []
        if "type" in schema:
            checks.append(_type_check(schema["type"]))
        if "enum" in schema:
            checks.append(self._enum(schema["enum"]))
        if "const" in schema:
            constant = schema["const"]
            checks.append(lambda value: _same(value, constant))
        object_check = self._object(schema, resolver)
        if object_check is not None:
            checks.append(object_check)
        array_check = self._array(schema, resolver)
        if array_check is not None:
            checks.append(array_check)
        checks.extend(self._scalar(schema))
        checks.extend(self._combinators(schema, resolver))
        return _all_of(checks)

    @staticmethod
    def _enum(allowed: list[Any]) -> Check:
        strings = frozenset(item for item in allowed if type(item) is str)
        others = [item for item in allowed if type(item) is not str]

        def check(value: Any) -> bool:
            if type(value) is str:
                return value in strings
            return any(_same(value, item) for item in others)

        return check

    def _object(self, schema: dict[str, Any], resolver: Any) -> Check | None:
        keys = {"properties", "additionalProperties", "patternProperties", "required"}
        keys |= {"minProperties", "maxProperties"}
        if not keys & schema.keys():
            return None
        properties = {
            name: self._schema(sub, resolver)
            for name, sub in (schema.get("properties") or {}).items()
        }
        patterns = [
            (re.compile(pattern).search, self._schema(sub, resolver))
            for pattern, sub in (schema.get("patternProperties") or {}).items()
        ]
        extra = schema.get("additionalProperties", True)
        additional = None if extra is True else self._schema(extra, resolver)
        required = tuple(schema.get("required") or ())
        fewest = schema.get("minProperties", 0)
        most = schema.get("maxProperties")

        def check(value: Any) -> bool:
            if type(value) is not dict:
                return True
            for name in required:
                if name not in value:
                    return False
            if len(value) < fewest or (most is not None and len(value) > most):
                return False
            for name, item in value.items():
                known = properties.get(name)
                if known is not None:
                    if not known(item):
                        return False
                    if not patterns:
                        continue
                matched = known is not None
                for search, sub in patterns:
                    if type(name) is str and search(name):
                        matched = True
                        if not sub(item):
                            return False
                if not matched and additional is not None and not additional(item):
                    return False
            return True

        return check

    def _array(self, schema: dict[str, Any], resolver: Any) -> Check | None:
        if not {"items", "minItems", "maxItems"} & schema.keys():
            return None
        items = schema.get("items", True)
        if isinstance(items, list):
            raise _NotCompilable("tuple items")
        each = self._schema(items, resolver)
        fewest = schema.get("minItems", 0)
        most = schema.get("maxItems")

        def check(value: Any) -> bool:
            if type(value) is not list:
                return True
            if len(value) < fewest or (most is not None and len(value) > most):
                return False
            return each is _always or all(map(each, value))

        return check

    @staticmethod
    def _scalar(schema: dict[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if "pattern" in schema:
            search = re.compile(schema["pattern"]).search
            checks.append(lambda value: type(value) is not str or search(value) is not None)
        if "minLength" in schema or "maxLength" in schema:
            shortest = schema.get("minLength", 0)
            longest = schema.get("maxLength", float("inf"))
            checks.append(lambda value: type(value) is not str or shortest <= len(value) <= longest)
        for keyword, holds in _BOUNDS:
            bound = schema.get(keyword)
            if bound is None:
                continue
            if not _is_number(bound):
                raise _NotCompilable("draft 4 style exclusive bounds")
            checks.append(_bound_check(holds, bound))
        return checks

    def _combinators(self, schema: dict[str, Any], resolver: Any) -> list[Check]:
        checks: list[Check] = []
        if "allOf" in schema:
            checks.append(_all_of([self._schema(sub, resolver) for sub in schema["allOf"]]))
        if "anyOf" in schema:
            branches = tuple(self._schema(sub, resolver) for sub in schema["anyOf"])
            checks.append(lambda value: any(branch(value) for branch in branches))
        if "oneOf" in schema:
            choices = tuple(self._schema(sub, resolver) for sub in schema["oneOf"])
            checks.append(lambda value: sum(1 for choice in choices if choice(value)) == 1)
        if "not" in schema:
            negated = self._schema(schema["not"], resolver)
            checks.append(lambda value: not negated(value))
        return checks
