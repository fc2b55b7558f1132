"""Your filled-in values-secret file, checked against the repository's template before anything
reaches Vault: where it lives (outside the repository, untracked, private), its format, that it
has every secret and field of the template and nothing else, and that every value it names can
be read. Values are read but never shown: findings name files, secrets and fields only.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import gitio, rules
from generator.errors import McgError
from generator.findings import Finding, Severity
from generator.model import names

if TYPE_CHECKING:
    from generator.model.secrets_file import FieldKey, RepoSecrets, SecretsFile


@dataclass
class Examined:
    """A filled-in values-secret file, checked: its findings and the values it resolves to."""

    path: Path
    findings: list[Finding] = field(default_factory=list)
    secrets: SecretsFile | None = None
    values: dict[FieldKey, str | None] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity is Severity.ERROR)


def examine(repo: RepoSecrets, path: Path, *, default_mount: str = names.DEFAULT_MOUNT) -> Examined:
    """Check the filled-in file at `path` against the repository's template."""
    from generator.model.secrets_file import path_findings, secrets_file, structure_findings
    from generator.model.secrets_format import format_version

    examined = Examined(path, findings=_placement_findings(repo.repo, path))
    document = _parse_quietly(path)
    structure = [f for f in structure_findings(document) if f.rule != rules.SECRETS_NO_VALUE.id]
    examined.findings.extend(structure)
    if any(f.severity is Severity.ERROR for f in structure):
        return examined
    if format_version(document.data) == "1.0":
        examined.findings.append(_format_one(document))
        return examined
    filled = secrets_file(document, default_mount=default_mount)
    unsafe = path_findings(filled)
    examined.findings.extend(unsafe)
    if unsafe:
        return examined
    examined.secrets = filled
    examined.findings.extend(_backend_findings(filled))
    examined.findings.extend(_against_template(repo.template, filled))
    examined.findings.extend(_resolve(filled, path.parent, examined.values))
    examined.findings.sort(key=Finding.sort_key)
    return examined


def _parse_quietly(path: Path) -> Any:
    """The file's YAML document; a syntax error names only its position, as the parser's own
    message may quote part of a value (an unquoted `!x` value is read as a tag, for instance)."""
    from generator.yamlio import YamlError, load_file

    try:
        return load_file(path, str(path))
    except YamlError as error:
        if error.location is None or not error.location.line:
            raise  # size, encoding: nothing from the content
        raise McgError(
            "invalid YAML here (the parser's message is not shown: it may quote a value)",
            location=error.location,
            hint="quote values that start with ! & * % @ or ` or that contain ': ' or ' #'",
        ) from None


def _format_one(document: Any) -> Finding:
    where = document.location(())
    return Finding(
        rules.SECRETS_INVALID.id,
        Severity.ERROR,
        where.file,
        where.line,
        where.column,
        "the file is in format 1.0 (it has no version): 'mcg-gen secrets', like the loader's "
        "'make load-secrets', loads format 2.0 only",
        'rewrite it in format 2.0 (version: "2.0", a list of secrets with fields), like '
        "the repository's values-secret.yaml.template",
    )


def _placement_findings(repo: Path, path: Path) -> list[Finding]:
    """Where the file lives: outside the repository, untracked, readable by its owner only."""
    findings = []
    where = str(path)
    if path.resolve().is_relative_to(repo.resolve()):
        findings.append(
            Finding(
                rules.VALUES_SECRET_FILE_IN_REPO.id,
                Severity.ERROR,
                where,
                0,
                0,
                "the values-secret file is inside the repository",
                "move it out (e.g. to ~/), where it cannot be committed by accident",
            )
        )
    if _tracked_by_git(path):
        findings.append(
            Finding(
                rules.VALUES_SECRET_FILE_TRACKED.id,
                Severity.WARNING,
                where,
                0,
                0,
                "the values-secret file is tracked by git: its values are in the git history",
                "git rm --cached it, rotate the secrets, and keep the file out of any repository",
            )
        )
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        findings.append(
            Finding(
                rules.VALUES_SECRET_FILE_MODE.id,
                Severity.WARNING,
                where,
                0,
                0,
                f"the values-secret file can be read by others (mode {mode & 0o777:o})",
                f"chmod 600 {path}",
            )
        )
    return findings


def _tracked_by_git(path: Path) -> bool:
    return gitio.is_tracked(path.parent, path.name)


def _at(
    filled: SecretsFile,
    rule: str,
    severity: Severity,
    message: str,
    hint: str,
    secret: str | None = None,
    field_name: str | None = None,
) -> Finding:
    where = filled.location(secret, field_name) if secret else filled.document.location(())
    return Finding(rule, severity, where.file, where.line, where.column, message, hint)


def _backend_findings(filled: SecretsFile) -> list[Finding]:
    backend = filled.document.data.get("backingStore", "vault")
    if backend == "vault":
        return []
    where = filled.document.location(("backingStore",), key=True)
    return [
        Finding(
            rules.VALUES_SECRET_NOT_VAULT.id,
            Severity.ERROR,
            where.file,
            where.line,
            where.column,
            f"the file is for the '{backend}' backing store; 'mcg-gen secrets' loads into Vault",
            "remove backingStore (Vault is the default) or load it with the pattern's own tooling",
        )
    ]


def _against_template(template: SecretsFile, filled: SecretsFile) -> list[Finding]:
    findings = []
    for wanted in template.secrets:
        given = filled.secret(wanted.name)
        if given is None:
            findings.append(
                _at(
                    filled,
                    rules.VALUES_SECRET_MISSING_SECRET.id,
                    Severity.ERROR,
                    f"secret '{wanted.name}' of the template is missing",
                    "copy it from values-secret.yaml.template and fill it in",
                )
            )
            continue
        names = {f.name for f in given.fields}
        findings.extend(
            _at(
                filled,
                rules.VALUES_SECRET_MISSING_FIELD.id,
                Severity.ERROR,
                f"secret '{wanted.name}' lacks the template's field '{spec.name}'",
                "copy the field from values-secret.yaml.template and fill it in",
                wanted.name,
            )
            for spec in wanted.fields
            if spec.name not in names
        )
        if set(given.prefixes) != set(wanted.prefixes):
            findings.append(
                _at(
                    filled,
                    rules.VALUES_SECRET_PREFIXES_DIFFER.id,
                    Severity.WARNING,
                    f"secret '{wanted.name}' goes to {', '.join(given.prefixes)}, the template "
                    f"says {', '.join(wanted.prefixes)}",
                    "the cluster groups that read it expect the template's vaultPrefixes",
                    wanted.name,
                )
            )
    for given in filled.secrets:
        known = template.secret(given.name)
        if known is None:
            findings.append(
                _at(
                    filled,
                    rules.VALUES_SECRET_UNKNOWN_SECRET.id,
                    Severity.ERROR,
                    f"secret '{given.name}' is not in the repository's template",
                    "remove it, or add it to the pattern first (a typo in its name?)",
                    given.name,
                )
            )
            continue
        known_fields = {f.name for f in known.fields}
        findings.extend(
            _at(
                filled,
                rules.VALUES_SECRET_UNKNOWN_FIELD.id,
                Severity.ERROR,
                f"field '{spec.name}' of secret '{given.name}' is not in the template",
                "remove it, or add it to the pattern first (a typo in its name?)",
                given.name,
                spec.name,
            )
            for spec in given.fields
            if spec.name not in known_fields
        )
    return findings


def _resolve(filled: SecretsFile, base: Path, values: dict[FieldKey, str | None]) -> list[Finding]:
    """Read every value the file gives (into `values`); findings for what cannot be read."""
    from generator.model.secrets_file import field_value

    findings = []
    for secret in filled.secrets:
        for spec in secret.fields:
            key = (secret.name, spec.name)
            where = f"{secret.name}.{spec.name}"
            try:
                values[key] = field_value(filled.sources[key], spec, base)
            except McgError as error:
                findings.append(
                    _at(
                        filled,
                        rules.VALUES_SECRET_UNREADABLE.id,
                        Severity.ERROR,
                        f"{where}: {error.message}",
                        error.hint,
                        *key,
                    )
                )
                continue
            if values[key] is not None or spec.source == "generate":
                continue
            if spec.source == "prompt":
                for_file = filled.sources[key].asks_for_file
                findings.append(
                    _at(
                        filled,
                        rules.VALUES_SECRET_WILL_PROMPT.id,
                        Severity.WARNING,
                        f"{where} has no "
                        + (
                            "path: 'secrets load' will ask for the file's path and read it"
                            if for_file
                            else "value: 'secrets load' will ask for it"
                        ),
                        f"fill in '{'path' if for_file else 'value'}' to load without questions",
                        *key,
                    )
                )
            else:
                findings.append(
                    _at(
                        filled,
                        rules.VALUES_SECRET_NO_VALUE.id,
                        Severity.ERROR,
                        f"{where} has no value, path or ini_file",
                        "fill it in, or make it 'onMissingValue: generate' with a vaultPolicy",
                        *key,
                    )
                )
    return findings
