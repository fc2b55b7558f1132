"""The Helm chart scaffolded for each local app: a small web app, plus an ExternalSecret per
secret the app consumes, reading the Vault path that `mcg-gen secrets load` writes."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from generator.model.pattern import App, Pattern
from generator.yamlio import dump_yaml

_TEMPLATE_PACKAGE = "generator"
_TEMPLATE_ROOT = ("templates", "appchart")


@cache
def _static_files() -> dict[str, bytes]:
    root = resources.files(_TEMPLATE_PACKAGE).joinpath(*_TEMPLATE_ROOT)
    files: dict[str, bytes] = {}

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            name = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, f"{name}/")
            else:
                files[name] = child.read_bytes()

    walk(root, "")
    return files


def chart_metadata(app: App, pattern: Pattern) -> dict[str, Any]:
    return {
        "apiVersion": "v2",
        "name": app.name,
        "description": f"{app.name}, an application of the {pattern.name} pattern",
        "type": "application",
        "version": "0.1.0",
        "appVersion": "1.0.0",
    }


def external_secrets(app: App, pattern: Pattern) -> list[dict[str, Any]]:
    """One entry per consumed secret: the Kubernetes Secret name, its Vault key and fields."""
    entries = []
    for name in app.secrets:
        secret = pattern.secrets[name]
        prefix = pattern.secret_prefix_for(app, secret) or secret.prefixes[0]
        entries.append(
            {
                "name": secret.name,
                "vaultKey": secret.vault_path(prefix),
                "fields": [field.name for field in secret.fields],
            }
        )
    return entries


def app_chart_files(app: App, pattern: Pattern) -> dict[str, bytes]:
    """Every file of the app's chart, relative to the chart folder."""
    files = dict(_static_files())
    files["Chart.yaml"] = dump_yaml(chart_metadata(app, pattern)).encode()
    generated = dump_yaml({"externalSecrets": external_secrets(app, pattern)})
    files["values.yaml"] = files["values.yaml"] + generated.encode()
    return files
