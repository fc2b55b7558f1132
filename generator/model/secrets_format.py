"""Checks of a values-secret file or template following the secrets loader's own rules.

Format 2.0: the schema (`schemas/values-secret.schema.json`) covers each secret and field; what
JSON Schema cannot say is checked here: an unquoted integer version, unique secret names, unique
field names within a secret, vaultPolicy names that exist, generated fields only with the Vault
backend, keys the loader accepts but never reads, `secrets` entries the loader omits because a
bootstrap secret has their name, and fields the loader would find without any value.

Format 1.0 (a file without `version`: the loader's default): maps of secrets under `secrets`
and `files` (and `secrets.<prefix>`, `files.<prefix>` for other Vault prefixes), checked by the
1.0 loader's rules.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from generator import rules
from generator.findings import Finding, Severity
from generator.schema_check import dotted, finding_at, schema_findings
from generator.yamlio import Document

SCHEMA_FILE = "values-secret.schema.json"

# Vault always has this policy: the loader adds it to the file's vaultPolicies.
DEFAULT_VAULT_POLICY = "validatedPatternDefaultPolicy"


_SECTIONS = ("secrets", "bootstrap_secrets")


# Top-level keys of format 2.0 that the loader accepts but never reads, and what it reads instead.
_IGNORED_KEYS = {
    "defaultNamespace": "the loader never reads it: Kubernetes Secrets go to "
    "secretStoreNamespace (kubernetes backend) or to each secret's targetNamespaces",
    "labels": "use defaultLabels (or labels on each secret): the loader reads those",
    "annotations": "use defaultAnnotations (or annotations on each secret): the loader reads those",
}

V1_SECTIONS = ("secrets", "files")


def format_version(data: Any) -> str:
    """The format version as the loader reads it: `version` as a string, "1.0" without it."""
    version = data.get("version", "1.0") if isinstance(data, dict) else "1.0"
    return str(version)


def check_secrets_format(doc: Document) -> list[Finding]:
    """Findings for a values-secret file or template, by the rules of its format version."""
    if isinstance(doc.data, dict) and format_version(doc.data) == "1.0":
        return sorted(set(_v1_findings(doc, doc.data)), key=Finding.sort_key)
    findings = schema_findings(doc, SCHEMA_FILE, "secrets")
    if isinstance(doc.data, dict):
        findings.extend(_loader_findings(doc, doc.data))
    return sorted(set(findings), key=Finding.sort_key)


def v1_section_prefix(key: str) -> tuple[str, str] | None:
    """(`secrets` or `files`, Vault prefix) of a top-level key of format 1.0, or None for a key
    the loader skips. `secrets` goes to hub, `secrets.region-one` to region-one; a key such as
    `secretsX` (a section name run on) gives an empty prefix, which the loader refuses."""
    for section in V1_SECTIONS:
        if key == section:
            return section, "hub"
        if key.startswith(section):
            _, dot, prefix = key.partition(".")
            return section, prefix if dot else ""
    return None


def _v1_findings(doc: Document, data: dict[str, Any]) -> Iterator[Finding]:
    """The 1.0 loader's rules: a `secrets` or `files` key, maps (never lists) of secrets that
    are maps of fields, file paths that are strings, and not everything empty."""
    if "secrets" not in data and "files" not in data:
        yield finding_at(
            doc,
            (),
            rules.SECRETS_MISSING_KEY.id,
            "a values-secret file without version is read as format 1.0, and then needs a "
            "'secrets' or 'files' key",
            'add version: "2.0" if the file is meant for format 2.0',
        )
        return
    entries, mistyped = 0, False
    for key, section in data.items():
        if key == "version":
            continue
        place = v1_section_prefix(str(key))
        if place is None:
            yield finding_at(
                doc,
                (key,),
                rules.SECRETS_IGNORED_KEY.id,
                f"{key}: the format 1.0 loader only reads version, secrets and files keys",
                "remove it, or move what it holds under secrets or files",
                Severity.WARNING,
            )
            continue
        kind, prefix = place
        if not prefix:
            yield finding_at(
                doc,
                (key,),
                rules.SECRETS_INVALID.id,
                f"{key}: not a {kind} key the loader accepts",
                f"write {kind} (hub) or {kind}.<vault prefix>",
            )
            continue
        if section is None:
            continue
        if not isinstance(section, dict):
            mistyped = True
            yield finding_at(
                doc,
                (key,),
                rules.SECRETS_WRONG_TYPE.id,
                f"{key}: a map of {'secrets' if kind == 'secrets' else 'file paths'} by name is "
                f"expected, not a {type(section).__name__}",
                'a list of secrets is format 2.0: add version: "2.0" at the top'
                if isinstance(section, list)
                else f"write {key}: followed by name: ... entries",
            )
            continue
        entries += len(section) if key in V1_SECTIONS else 0
        for name, entry in section.items():
            wanted = dict if kind == "secrets" else str
            if not isinstance(entry, wanted):
                yield finding_at(
                    doc,
                    (key, name),
                    rules.SECRETS_WRONG_TYPE.id,
                    f"{key}.{name}: "
                    + ("a map of field: value pairs" if kind == "secrets" else "a file path")
                    + " is expected",
                    "write one field: value per line under it"
                    if kind == "secrets"
                    else "give the path of the file whose content is stored",
                )
    if entries == 0 and not mistyped:
        yield finding_at(
            doc,
            (),
            rules.SECRETS_INVALID.id,
            "neither 'secrets' nor 'files' holds anything: the format 1.0 loader refuses the file",
            "add the secrets, or remove the file",
        )


def _loader_findings(doc: Document, data: dict[str, Any]) -> Iterator[Finding]:
    version = data.get("version")
    # The schema's enum cannot tell 2 from 2.0; the loader compares str(version) with "2.0".
    if isinstance(version, int) and not isinstance(version, bool):
        yield finding_at(
            doc,
            ("version",),
            rules.SECRETS_INVALID.id,
            f"version: {version} is not 2.0",
            'write "2.0"',
        )
    yield from _ignored_keys(doc, data)
    yield from _shadowed_by_bootstrap(doc, data)
    policies = data.get("vaultPolicies")
    known_policies = {DEFAULT_VAULT_POLICY, *(policies if isinstance(policies, dict) else {})}
    backend = data.get("backingStore", "vault")
    for section in _SECTIONS:
        secrets = data.get(section)
        if not isinstance(secrets, list):
            continue
        yield from _duplicates(doc, [(section, i) for i in range(len(secrets))], secrets, "secret")
        for index, secret in enumerate(secrets):
            if backend == "none" and section == "secrets" and isinstance(secret, dict):
                yield from _namespaces_needed(doc, (section, index), secret)
            fields = secret.get("fields") if isinstance(secret, dict) else None
            if not isinstance(fields, list):
                continue
            base = (section, index, "fields")
            yield from _duplicates(doc, [(*base, i) for i in range(len(fields))], fields, "field")
            for number, field in enumerate(fields):
                if isinstance(field, dict):
                    yield from _field_findings(doc, (*base, number), field, known_policies, backend)


def _namespaces_needed(
    doc: Document, path: tuple[str | int, ...], secret: dict[str, Any]
) -> Iterator[Finding]:
    """With the none backend a secret is only Kubernetes Secrets: the loader refuses one
    without targetNamespaces (as it does any bootstrap secret)."""
    if "targetNamespaces" not in secret:
        yield finding_at(
            doc,
            path,
            rules.SECRETS_MISSING_KEY.id,
            f"{dotted(path)}: with backingStore none, a secret needs targetNamespaces",
            "list the namespaces its Kubernetes Secrets go to",
        )
    elif secret["targetNamespaces"] == []:
        yield finding_at(
            doc,
            (*path, "targetNamespaces"),
            rules.SECRETS_INVALID.id,
            f"{dotted((*path, 'targetNamespaces'))}: must not be empty with backingStore none",
            "list the namespaces its Kubernetes Secrets go to",
        )


def _ignored_keys(doc: Document, data: dict[str, Any]) -> Iterator[Finding]:
    for key, hint in _IGNORED_KEYS.items():
        if key in data:
            yield finding_at(
                doc,
                (key,),
                rules.SECRETS_IGNORED_KEY.id,
                f"{key}: the loader accepts this top-level key but never reads it",
                hint,
                Severity.WARNING,
            )


def bootstrap_names(data: Any) -> set[str]:
    """Names of the file's bootstrap secrets."""
    bootstrap = data.get("bootstrap_secrets") if isinstance(data, dict) else None
    entries = bootstrap if isinstance(bootstrap, list) else []
    return {
        entry["name"]
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    }


def _shadowed_by_bootstrap(doc: Document, data: dict[str, Any]) -> Iterator[Finding]:
    shadowing = bootstrap_names(data)
    secrets = data.get("secrets")
    for index, entry in enumerate(secrets if isinstance(secrets, list) else []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name in shadowing:
            yield finding_at(
                doc,
                ("secrets", index, "name"),
                rules.SECRETS_BOOTSTRAP_SHADOWED.id,
                f"secrets[{index}]: '{name}' is also a bootstrap secret, so the loader omits this "
                "entry: nothing of it reaches Vault",
                "rename it, or remove it from secrets (the bootstrap secret is created as "
                "Kubernetes Secrets only)",
                Severity.WARNING,
            )


def _duplicates(
    doc: Document, paths: list[tuple[str | int, ...]], entries: list[Any], what: str
) -> Iterator[Finding]:
    first_seen: dict[str, tuple[str | int, ...]] = {}
    for path, entry in zip(paths, entries, strict=True):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            continue
        if name in first_seen:
            first = doc.location((*first_seen[name], "name"), key=True)
            yield finding_at(
                doc,
                (*path, "name"),
                (
                    rules.SECRETS_DUPLICATE_NAME
                    if what == "secret"
                    else rules.SECRETS_DUPLICATE_FIELD
                ).id,
                f"{dotted(path)}: duplicate {what} name '{name}' (first at line {first.line})",
                f"rename or merge the two {what}s: the loader refuses duplicate names",
            )
        else:
            first_seen[name] = path


def _field_findings(
    doc: Document,
    path: tuple[str | int, ...],
    field: dict[str, Any],
    known_policies: set[str],
    backend: Any,
) -> Iterator[Finding]:
    mode = field.get("onMissingValue", "error")
    policy = field.get("vaultPolicy")
    if isinstance(policy, str) and policy not in known_policies:
        close = difflib.get_close_matches(policy, sorted(known_policies), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "define it under vaultPolicies"
        yield finding_at(
            doc,
            (*path, "vaultPolicy"),
            rules.SECRETS_UNKNOWN_POLICY.id,
            f"{dotted((*path, 'vaultPolicy'))}: no vault policy named '{policy}'",
            hint,
        )
    if mode == "generate" and backend in ("kubernetes", "none"):
        yield finding_at(
            doc,
            (*path, "onMissingValue"),
            rules.SECRETS_GENERATE_NEEDS_VAULT.id,
            f"{dotted(path)}: onMissingValue: generate needs the vault backend, not {backend}",
            "give the value, a path or an ini_file instead",
        )
    if mode == "error" and not any(field.get(key) for key in ("value", "path", "ini_file")):
        yield finding_at(
            doc,
            path,
            rules.SECRETS_NO_VALUE.id,
            f"{dotted(path)}: field '{field.get('name', '?')}' has no value, path or ini_file",
            "fill it in your copy of the template, or use onMissingValue: prompt or generate",
            Severity.WARNING,
        )
