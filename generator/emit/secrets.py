"""values-secret.yaml.template: the values-secret `version: "2.0"` file users copy and fill in.

It never holds a secret value: generated fields name their Vault password policy, the others
say where the value comes from.
"""

from __future__ import annotations

from typing import Any

from generator.model.pattern import Pattern, Secret, SecretField

HEADER = """\
# The secrets of pattern {name}, in the Validated Patterns values-secret format 2.0.
# Copy it OUTSIDE the repository and fill it in, then load it into Vault:
#   cp values-secret.yaml.template ~/values-secret-{name}.yaml
#   mcg-gen secrets check && mcg-gen secrets init && mcg-gen secrets load
# Never commit a file with real values: .gitignore keeps values-secret*.yaml out.
"""


def template_header(pattern: Pattern) -> str:
    """The comment block on top of the template; descriptions live here because the published
    values-secret schema rejects a `description` key."""
    lines = [HEADER.format(name=pattern.name).rstrip("\n")]
    described = [
        s for s in pattern.secrets.values() if s.description or any(f.description for f in s.fields)
    ]
    if described:
        lines.append("#")
    for secret in described:
        lines.append(f"# {secret.name}: {_one_line(secret.description or '')}".rstrip())
        for field in secret.fields:
            if field.description:
                lines.append(f"#   {field.name}: {_one_line(field.description)}")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def secret_template(pattern: Pattern) -> dict[str, Any]:
    document: dict[str, Any] = {"version": "2.0"}
    if pattern.vault_policies:
        document["vaultPolicies"] = dict(pattern.vault_policies)
    document["secrets"] = [_secret(secret) for secret in pattern.secrets.values()]
    return document


def _secret(secret: Secret) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": secret.name}
    entry["vaultPrefixes"] = list(secret.prefixes)
    entry["fields"] = [_field(field) for field in secret.fields]
    return entry


def _field(field: SecretField) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": field.name}
    if field.source == "generate":
        entry["onMissingValue"] = "generate"
        entry["vaultPolicy"] = field.vault_policy
        if field.override:
            entry["override"] = True
    elif field.source == "prompt":
        entry["value"] = None
        entry["onMissingValue"] = "prompt"
        entry["prompt"] = field.prompt or f"Value of {field.name}"
    elif field.source == "file":
        entry["path"] = field.path or f"~/{field.name}"
        entry["onMissingValue"] = "error"
        if field.base64:
            entry["base64"] = True
    else:
        entry["value"] = None
        entry["onMissingValue"] = "error"
    return entry
