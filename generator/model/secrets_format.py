"""Checks of a values-secret.yaml.template (format 2.0) following the secrets loader's own rules.

The schema (`schemas/values-secret.schema.json`) covers each secret and field; what JSON Schema
cannot say is checked here: an unquoted integer version, unique secret names, unique field names
within a secret, vaultPolicy names that exist, generated fields only with the Vault backend, and
fields the loader would find without any value.
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


def check_secrets_format(doc: Document) -> list[Finding]:
    """Findings for a values-secret file or template in format 2.0."""
    findings = schema_findings(doc, SCHEMA_FILE, "secrets")
    if isinstance(doc.data, dict):
        findings.extend(_loader_findings(doc, doc.data))
    return sorted(set(findings), key=Finding.sort_key)


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
    policies = data.get("vaultPolicies")
    known_policies = {DEFAULT_VAULT_POLICY, *(policies if isinstance(policies, dict) else {})}
    backend = data.get("backingStore", "vault")
    for section in _SECTIONS:
        secrets = data.get(section)
        if not isinstance(secrets, list):
            continue
        yield from _duplicates(doc, [(section, i) for i in range(len(secrets))], secrets, "secret")
        for index, secret in enumerate(secrets):
            fields = secret.get("fields") if isinstance(secret, dict) else None
            if not isinstance(fields, list):
                continue
            base = (section, index, "fields")
            yield from _duplicates(doc, [(*base, i) for i in range(len(fields))], fields, "field")
            for number, field in enumerate(fields):
                if isinstance(field, dict):
                    yield from _field_findings(doc, (*base, number), field, known_policies, backend)


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
