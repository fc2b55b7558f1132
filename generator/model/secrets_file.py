"""Load a values-secret file (the repository's template or a user's filled-in copy) into the model.

Secrets become the model's `Secret`/`SecretField`; what the user supplies for each field (a
value, a file, an ini key) is kept apart in `ValueSource`, so the model never holds a secret
value. The repository context (pattern name, cluster groups) comes from pattern.yaml when there
is one, else from the Validated Patterns values files (`values-global.yaml`, `values-<group>.yaml`).

The loader follows the values-secret 2.0 rules: `vaultPrefixes` defaults to `[hub]`,
`vaultMount` to `secret`, `onMissingValue` to `error`, `ini_section` to `default`; a `secrets`
entry named like a bootstrap secret is left out, as the loader omits it. A file in format 1.0
(no `version`) becomes the same model, the way the 1.0 loader stores it: each map under
`secrets[.<prefix>]` one secret of literal fields, each file under `files[.<prefix>]` one
secret with the file's `content` and its base64 form `b64content`.
"""

from __future__ import annotations

import base64
import configparser
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator import repofs, rules
from generator.errors import Location, McgError, SpecErrors
from generator.findings import Finding, Severity
from generator.model import layout, names
from generator.model.pattern import (
    HUB_PREFIX,
    ClusterGroup,
    FieldSource,
    Secret,
    SecretField,
)
from generator.model.secrets_format import bootstrap_names, format_version, v1_section_prefix
from generator.yamlio import Document, load_file

TEMPLATE_FILE = layout.SECRET_TEMPLATE_FILE
# Vault refuses requests above 32 MiB; keystores and certificates are far smaller.
MAX_SECRET_FILE_BYTES = 16 * 1024 * 1024
DEFAULT_MOUNT = names.DEFAULT_MOUNT
DEFAULT_INI_SECTION = "default"

_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._@-]+")

FieldKey = tuple[str, str]  # (secret name, field name)
DocPath = tuple[str | int, ...]


@dataclass(frozen=True)
class ValueSource:
    """What a file gives for one field: a literal value, a file's content or an ini file's key."""

    value: str | None = None
    path: str | None = None
    ini_file: str | None = None
    ini_section: str = DEFAULT_INI_SECTION
    ini_key: str | None = None
    asks_for_file: bool = False  # prompted for a file's path (`path:` with onMissingValue: prompt)


@dataclass(frozen=True)
class SecretsFile:
    """One values-secret file: its secrets in model form, its password policies, its values."""

    document: Document
    secrets: tuple[Secret, ...]
    vault_policies: Mapping[str, str]
    sources: Mapping[FieldKey, ValueSource]
    paths: Mapping[tuple[str, str | None], DocPath]  # (secret, field or None) -> document path

    def secret(self, name: str) -> Secret | None:
        return next((secret for secret in self.secrets if secret.name == name), None)

    def location(self, secret: str, field: str | None = None) -> Location:
        """Where a secret (or one of its fields) starts in the file."""
        return self.document.location(self.paths.get((secret, field), ()), key=True)


@dataclass(frozen=True)
class RepoSecrets:
    """What `mcg-gen secrets` needs from a repository."""

    repo: Path
    pattern_name: str
    groups: tuple[ClusterGroup, ...]  # the hub first
    template: SecretsFile

    @property
    def hub(self) -> ClusterGroup:
        return self.groups[0]


def load_secrets_file(
    path: Path, display: str | None = None, *, default_mount: str = DEFAULT_MOUNT
) -> SecretsFile:
    """Read a values-secret 2.0 file; structural problems are raised together as `SpecErrors`."""
    document = load_file(path, display or str(path))
    _raise_errors(structure_findings(document))
    if format_version(document.data) == "1.0":
        raise McgError(
            "the file is in format 1.0 (it has no version): 'mcg-gen secrets' loads format 2.0, "
            "as the loader's 'make load-secrets' does",
            location=document.location(()),
            hint='rewrite it in format 2.0: version: "2.0" and a list of secrets with fields',
        )
    loaded = secrets_file(document, default_mount=default_mount)
    _raise_errors(path_findings(loaded))
    return loaded


def _raise_errors(findings: list[Finding]) -> None:
    errors = [
        McgError(f.message, location=Location(f.file, f.line, f.column), hint=f.hint)
        for f in findings
        if f.severity is Severity.ERROR
    ]
    if errors:
        raise SpecErrors(errors)


def path_findings(loaded: SecretsFile) -> list[Finding]:
    """Secret names, prefixes and mounts that would not make a plain Vault path."""
    findings = []
    for secret in loaded.secrets:
        for what, value in (
            ("name", secret.name),
            ("vaultMount", secret.mount),
            *(("vaultPrefixes", prefix) for prefix in secret.prefixes),
        ):
            if not _plain_path(value):
                where = loaded.location(secret.name)
                findings.append(
                    Finding(
                        rules.VALUES_SECRET_INVALID_PATH.id,
                        Severity.ERROR,
                        where.file,
                        where.line,
                        where.column,
                        f"secret '{secret.name}': {what} {value!r} is not a plain Vault path",
                        "use letters, digits and - _ . @ in segments separated by single '/'",
                    )
                )
    return findings


def _plain_path(value: str) -> bool:
    segments = value.split("/")
    return all(
        segment not in ("", ".", "..") and _PATH_SEGMENT.fullmatch(segment) for segment in segments
    )


def structure_findings(document: Document) -> list[Finding]:
    """The template checks' findings for `document`, with any literal value in it masked."""
    from generator.model.secrets_format import check_secrets_format

    hidden = _literal_values(document.data)
    return [
        replace(finding, message=redact(finding.message, hidden), hint=redact(finding.hint, hidden))
        for finding in check_secrets_format(document)
    ]


def redact(text: str, hidden: tuple[str, ...]) -> str:
    """`text` with every hidden value of four or more characters replaced by `<redacted>`."""
    for value in sorted(hidden, key=len, reverse=True):
        if len(value) >= 4:
            text = text.replace(value, "<redacted>")
    return text


def _literal_values(data: Any) -> tuple[str, ...]:
    found: list[str] = []
    if isinstance(data, dict) and format_version(data) == "1.0":
        for key, section in data.items():
            place = v1_section_prefix(str(key))
            if place and place[0] == "secrets" and isinstance(section, dict):
                for fields in section.values():
                    if isinstance(fields, dict):
                        found.extend(str(value) for value in fields.values() if value is not None)
        return tuple(found)
    sections = (
        [data.get(key) for key in ("secrets", "bootstrap_secrets")]
        if isinstance(data, dict)
        else []
    )
    for section in sections:
        for secret in section if isinstance(section, list) else []:
            fields = secret.get("fields") if isinstance(secret, dict) else None
            for field in fields if isinstance(fields, list) else []:
                value = field.get("value") if isinstance(field, dict) else None
                if value is not None:
                    found.append(str(value))
    return tuple(found)


def secrets_file(document: Document, *, default_mount: str = DEFAULT_MOUNT) -> SecretsFile:
    """The model of an already checked values-secret document."""
    data = document.data if isinstance(document.data, dict) else {}
    if format_version(data) == "1.0":
        return _v1_secrets_file(document, data, default_mount)
    secrets: list[Secret] = []
    sources: dict[FieldKey, ValueSource] = {}
    paths: dict[tuple[str, str | None], DocPath] = {}
    omitted = bootstrap_names(data)  # the loader omits them from Vault (and warns)
    for index, entry in enumerate(data.get("secrets") or []):
        name = entry["name"]
        if name in omitted:
            continue
        paths[(name, None)] = ("secrets", index)
        fields = []
        for number, spec in enumerate(entry["fields"]):
            paths[(name, spec["name"])] = ("secrets", index, "fields", number)
            fields.append(_field(spec))
            sources[(name, spec["name"])] = ValueSource(
                value=spec.get("value"),
                path=spec.get("path"),
                ini_file=spec.get("ini_file"),
                ini_section=spec.get("ini_section", DEFAULT_INI_SECTION),
                ini_key=spec.get("ini_key"),
                asks_for_file=spec.get("onMissingValue") == "prompt" and "path" in spec,
            )
        secrets.append(
            Secret(
                name=name,
                fields=tuple(fields),
                prefixes=tuple(entry.get("vaultPrefixes") or (HUB_PREFIX,)),
                description=entry.get("description"),
                mount=entry.get("vaultMount", default_mount),
            )
        )
    return SecretsFile(
        document=document,
        secrets=tuple(secrets),
        vault_policies=dict(data.get("vaultPolicies") or {}),
        sources=sources,
        paths=paths,
    )


def _v1_secrets_file(document: Document, data: dict[str, Any], default_mount: str) -> SecretsFile:
    """The secrets of a format 1.0 file, by name: where the 1.0 loader stores them and which
    fields they get (values are not taken: 'mcg-gen secrets' loads format 2.0 only)."""
    fields: dict[str, dict[str, SecretField]] = {}
    prefixes: dict[str, list[str]] = {}
    paths: dict[tuple[str, str | None], DocPath] = {}
    for key, section in data.items():
        place = v1_section_prefix(str(key))
        if place is None or not place[1] or not isinstance(section, dict):
            continue
        kind, prefix = place
        for name, entry in section.items():
            name = str(name)
            paths.setdefault((name, None), (key, name))
            prefixes.setdefault(name, [])
            if prefix not in prefixes[name]:
                prefixes[name].append(prefix)
            known = fields.setdefault(name, {})
            for field_name in _v1_field_names(kind, entry):
                known.setdefault(field_name, SecretField(name=field_name, source="required"))
    return SecretsFile(
        document=document,
        secrets=tuple(
            Secret(name, tuple(fields[name].values()), tuple(prefixes[name]), mount=default_mount)
            for name in fields
        ),
        vault_policies={},
        sources={},
        paths=paths,
    )


def _v1_field_names(kind: str, entry: Any) -> list[str]:
    """The fields the 1.0 loader writes: a file's `content` and `b64content`; a secret's own
    fields, and `s3Secret` (derived from `s3.accessKey` and `s3.secretKey`) when both are set."""
    if kind == "files":
        return ["content", "b64content"]
    names = [str(key) for key in entry] if isinstance(entry, dict) else []
    if "s3.accessKey" in names and "s3.secretKey" in names and "s3Secret" not in names:
        names.append("s3Secret")
    return names


def _field(spec: dict[str, Any]) -> SecretField:
    mode = spec.get("onMissingValue", "error")
    source: FieldSource
    if mode == "generate":
        source = "generate"
    elif mode == "prompt":
        source = "prompt"
    elif spec.get("path"):
        source = "file"
    else:
        source = "required"
    return SecretField(
        name=spec["name"],
        source=source,
        description=spec.get("description"),
        policy=spec.get("vaultPolicy"),
        override=bool(spec.get("override", False)),
        prompt=spec.get("prompt"),
        path=spec.get("path"),
        base64=bool(spec.get("base64", False)),
    )


def load_repo(repo: Path, *, default_mount: str = DEFAULT_MOUNT) -> RepoSecrets:
    """The pattern name, cluster groups and secret template of a repository."""
    from generator.model.layout import SPEC_FILE
    from generator.model.spec import load_repository_spec

    template_path = layout.inside(repo, TEMPLATE_FILE)
    if template_path is None or not template_path.is_file():
        hint = (
            f"run 'mcg-gen generate' to write it from {SPEC_FILE}"
            if (repo / SPEC_FILE).is_file()
            else f"pass the repository's path; it needs a {TEMPLATE_FILE}"
        )
        raise McgError(f"no {TEMPLATE_FILE} in {repo}", hint=hint)
    template = load_secrets_file(template_path, TEMPLATE_FILE, default_mount=default_mount)
    if (repo / SPEC_FILE).is_file():
        pattern = load_repository_spec(repo)
        return RepoSecrets(repo, pattern.name, pattern.cluster_groups, template)
    name, groups = _values_context(repo)
    return RepoSecrets(repo, name, groups, template)


def _values_context(repo: Path) -> tuple[str, tuple[ClusterGroup, ...]]:
    """Pattern name and cluster groups of a repository made of values files only."""
    from generator.model.layout import GLOBAL_FILE, SPEC_FILE
    from generator.model.values import load_values_repo

    values = load_values_repo(repo)
    if values.errors:
        raise SpecErrors(values.errors)
    if values.global_doc is None:
        raise McgError(
            f"{repo} has neither {SPEC_FILE} nor {GLOBAL_FILE}",
            hint="pass the path of a Validated Patterns repository",
        )
    groups = values.model_groups()
    if not groups or not groups[0].is_hub:
        raise McgError(
            f"no values file for the hub cluster group '{values.hub_name}'",
            location=values.global_doc.location(("main", "clusterGroupName")),
            hint=f"add values-{values.hub_name}.yaml, or set main.clusterGroupName",
        )
    return values.pattern_name, groups


def field_value(source: ValueSource, field: SecretField, base: Path) -> str | None:
    """The value to store for `field`: its literal value, file content or ini key, base64-encoded
    when the field says so; None when nothing is given (generated or to be prompted for).

    Paths may start with `~`; relative paths are relative to `base`, the values-secret file's
    folder. Errors name the file, never the value.
    """
    if source.value:
        raw = source.value.encode("utf-8")
    elif source.path:
        raw = _read_bytes(_expand(source.path, base))
    elif source.ini_file:
        raw = _ini_value(_expand(source.ini_file, base), source.ini_section, source.ini_key or "")
    else:
        return None
    if field.base64:
        return base64.b64encode(raw).decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise McgError(
            f"{source.path or source.ini_file} is binary (not UTF-8 text)",
            hint="add 'base64: true' to the field to store it base64-encoded",
        ) from None


def _expand(path: str, base: Path) -> Path:
    return base / Path(path).expanduser()


def _read_bytes(path: Path) -> bytes:
    """A file a secret field names (the user's own file: not confined, but bounded and regular)."""
    try:
        return repofs.read_bytes(path, limit=MAX_SECRET_FILE_BYTES)
    except McgError as error:
        raise McgError(
            f"cannot read {path}: {error.message.removeprefix('cannot read file: ')}"
            if error.message.startswith("cannot read")
            else f"{path} {error.message}",
            hint="fix 'path' in your values-secret file, or create the file",
        ) from None


def _ini_value(path: Path, section: str, key: str) -> bytes:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(_read_bytes(path).decode("utf-8"), str(path))
    except (configparser.Error, UnicodeDecodeError):
        raise McgError(f"{path} is not a valid ini file", hint="check 'ini_file'") from None
    if not parser.has_section(section) and section != parser.default_section:
        raise McgError(f"{path} has no section [{section}]", hint="check 'ini_section'")
    if not parser.has_option(section, key):
        raise McgError(f"{path} has no key '{key}' in [{section}]", hint="check 'ini_key'")
    return parser.get(section, key).encode("utf-8")
