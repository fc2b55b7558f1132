"""`mcg-gen validate --manifests`: plain Kubernetes manifests (already rendered YAML) from files,
folders or stdin, checked with the bundled schemas the way kubeconform checks them.

The same stream as a repository run, minus rendering: documents → `manifest.Resource` →
`SchemaRegistry` → `checks.resources.validate_resources` → findings for any reporter. Like
kubeconform: folders are searched recursively for `.yaml`, `.yml` and `.json` files, a `List`
is checked item by item, kinds can be skipped or rejected, a kind without a schema can be
skipped instead of reported, and files are spread over worker processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from generator import repofs, rules
from generator.errors import McgError, UsageError
from generator.findings import Finding, Severity
from generator.manifest import Resource
from generator.validate.options import Outcome

STDIN = "-"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class ManifestOptions:
    kubernetes_version: str | None = None
    schema_locations: tuple[Path, ...] = ()
    # kinds (`Deployment`) or apiVersion/kind (`apps/v1/Deployment`), as kubeconform's -skip
    skip_kinds: frozenset[str] = frozenset()
    reject_kinds: frozenset[str] = frozenset()
    ignore_missing_schemas: bool = False
    workers: int = 1


@dataclass
class ManifestOutcome(Outcome):
    skipped: int = 0  # resources not checked: skipped kinds, or no schema when told to ignore
    file_names: list[str] = field(default_factory=list)


def manifest_files(paths: Sequence[str]) -> list[Path]:
    """Every manifest file the arguments name: files as given, folders searched recursively
    (`.git` not entered, links to folders not followed), in a stable order."""
    found: list[Path] = []
    for argument in paths:
        path = Path(argument)
        if path.is_dir():
            found.extend(
                entry
                for _, entry, _ in repofs.walk(path)
                if entry.suffix.lower() in MANIFEST_SUFFIXES and entry.is_file()
            )
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(
                f"{argument} is neither a file nor a folder",
                hint="pass manifest files, folders of them, or '-' for stdin",
            )
    return found


def validate_manifests(
    paths: Sequence[str], options: ManifestOptions, stdin: TextIO | None = None
) -> ManifestOutcome:
    """Check every resource in the manifests `paths` name (`-` reads `stdin`)."""
    files = manifest_files([path for path in paths if path != STDIN])
    outcome = ManifestOutcome()
    if STDIN in paths:
        text = (stdin or _stdin()).read()
        outcome_of_text(text, STDIN_NAME, options, outcome)
    workers = max(1, min(options.workers, len(files)))
    if workers == 1:
        for path in files:
            outcome_of_file(str(path), options, outcome)
    else:
        chunks = [files[start::workers] for start in range(workers)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for part in pool.map(_checked_chunk, chunks, [options] * workers):
                _merge(outcome, part)
    return outcome


def _stdin() -> TextIO:
    import sys

    return sys.stdin


def _checked_chunk(paths: list[Path], options: ManifestOptions) -> ManifestOutcome:
    part = ManifestOutcome()
    for path in paths:
        outcome_of_file(str(path), options, part)
    return part


def _merge(outcome: ManifestOutcome, part: ManifestOutcome) -> None:
    outcome.findings.extend(part.findings)
    outcome.files.update(part.files)
    outcome.file_names.extend(part.file_names)
    outcome.resources += part.resources
    outcome.skipped += part.skipped


def outcome_of_file(path: str, options: ManifestOptions, outcome: ManifestOutcome) -> None:
    from generator import yamlio

    try:
        text = yamlio.read_text(Path(path), path)
    except yamlio.YamlError as error:
        outcome.files.add(path)
        outcome.file_names.append(path)
        outcome.findings.append(_yaml_finding(error, path))
        return
    outcome_of_text(text, path, options, outcome)


def outcome_of_text(
    text: str, name: str, options: ManifestOptions, outcome: ManifestOutcome
) -> None:
    """Check the resources of one YAML stream, adding to `outcome`."""
    from generator import yamlio
    from generator.checks.resources import validate_resources

    outcome.files.add(name)
    outcome.file_names.append(name)
    try:
        documents = yamlio.parse_documents(text, name)
    except yamlio.YamlError as error:
        outcome.findings.append(_yaml_finding(error, name))
        return
    located: dict[int, tuple[yamlio.Document, tuple[str | int, ...]]] = {}
    resources: list[Resource] = []
    for document in documents:
        for prefix, body in _objects(document.data):
            start = document.location(prefix)
            line = start.line
            if not isinstance(body, dict):
                outcome.findings.append(
                    Finding(
                        rules.SCHEMA_INVALID.id,
                        Severity.ERROR,
                        name,
                        line,
                        0,
                        "the document is not a Kubernetes object (a mapping)",
                    )
                )
                continue
            outcome.resources += 1
            resource = Resource(body, name, "", line)
            if _matches(resource, options.skip_kinds):
                outcome.skipped += 1
                continue
            if _matches(resource, options.reject_kinds):
                outcome.findings.append(
                    Finding(
                        rules.SCHEMA_REJECTED_KIND.id,
                        Severity.ERROR,
                        name,
                        line,
                        start.column,
                        f"{resource.api_version} {resource.kind} {resource.name!r} is of a "
                        "rejected kind",
                        "this kind may not be applied (--reject-kind)",
                    )
                )
                continue
            located[id(body)] = (document, prefix)
            resources.append(resource)
    registry = _registry(options.kubernetes_version, options.schema_locations)
    if options.ignore_missing_schemas:
        known = [r for r in resources if registry.lookup(r.api_version, r.kind) is not None]
        outcome.skipped += len(resources) - len(known)
        resources = known

    def locate(resource: Resource, path: tuple[str | int, ...]) -> tuple[int, int]:
        document, prefix = located[id(resource.body)]
        where = document.location(prefix + path)
        return where.line, where.column

    outcome.findings.extend(validate_resources(resources, registry, locate))


def _objects(data: Any) -> Iterable[tuple[tuple[str | int, ...], Any]]:
    """The objects of a document: itself, or each item of a `kind: List` (kubeconform's rule)."""
    if data is None:
        return
    if (
        isinstance(data, dict)
        and data.get("kind") == "List"
        and isinstance(data.get("items"), list)
    ):
        for index, item in enumerate(data["items"]):
            yield ("items", index), item
        return
    yield (), data


def _matches(resource: Resource, kinds: frozenset[str]) -> bool:
    return resource.kind in kinds or f"{resource.api_version}/{resource.kind}" in kinds


def _yaml_finding(error: McgError, name: str) -> Finding:
    where = error.location
    return Finding(
        rules.YAML_INVALID.id,
        Severity.ERROR,
        name,
        where.line if where else 0,
        where.column if where else 0,
        error.message,
        error.hint or "",
    )


@cache
def _registry(version: str | None, locations: tuple[Path, ...]) -> Any:
    from generator.checks.kube_schemas import SchemaRegistry

    return SchemaRegistry(version, locations)
