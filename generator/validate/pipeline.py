"""`mcg-gen validate`'s pipeline: load → check every layer → findings.

Layers, in order: YAML (every file read), the spec, values files and the secret template against
our schemas, links across the values files, charts (lint, render every group with real Helm),
every rendered resource against Kubernetes and CRD schemas, links between rendered resources and
the secret template, and secrets hygiene. A layer that cannot run for a file (it does not parse)
leaves a finding and the other layers go on.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import cache, rules
from generator.errors import McgError, UsageError
from generator.findings import Finding, Severity, error_findings, relative_to
from generator.model import layout
from generator.model.layout import GLOBAL_FILE, SECRET_TEMPLATE_FILE, SPEC_FILE
from generator.validate.options import Options, Outcome, Progress

# The layers are imported where they run: a repository that has not changed is answered from the
# cache without them (the pre-commit case), at the cost of a Python start-up and a walk.
if TYPE_CHECKING:
    from generator.checks import links
    from generator.model.values import ValuesRepo
    from generator.yamlio import Document


def _quiet(_: str) -> None:
    pass


def validate_repository(
    repo: Path, options: Options, progress: Progress = _quiet, *, use_cache: bool = True
) -> Outcome:
    if not (repo / GLOBAL_FILE).is_file() and not (repo / SPEC_FILE).is_file():
        raise UsageError(
            f"{repo} is not a pattern repository: it has neither {GLOBAL_FILE} nor {SPEC_FILE}",
            hint="run it in (or point it at) a Validated Patterns repository",
        )
    from generator import bundled

    roots = (*options.chart_dirs, *options.schema_locations, bundled.charts_dir())
    store = cache.Cache(repo, enabled=use_cache, roots=roots)
    # Nothing changed since the last run (every file's size, time and inode): its answer stands.
    fingerprint = store.repository_fingerprint(repo, layout.WORKING_FOLDERS)
    options_key = _options_key(options)
    whole_key = cache.key_of("whole", fingerprint, options_key, store.tool_digest())

    def run() -> dict[str, Any]:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="mcg-gen-run-") as run_folder:
            limited = options
            if options.timeout:
                limited = dataclasses.replace(
                    options, deadline=time.time() + options.timeout, hung_registry=Path(run_folder)
                )
            outcome = _validate(repo, limited, options_key, progress, store)
        return {
            "findings": cache.findings_to_json(outcome.findings),
            "files": sorted(outcome.files),
            "resources": outcome.resources,
        }

    def complete(data: dict[str, Any]) -> bool:
        """A run cut short by its deadline is not an answer to keep, nor one whose files
        changed too recently to be fingerprinted."""
        timed_out = any(item["rule"] == rules.CHART_TIMEOUT.id for item in data["findings"])
        return fingerprint is not None and not timed_out

    data = store.remember("whole", whole_key, run, keep=complete) if fingerprint else run()
    store.save()
    return Outcome(
        cache.findings_from_json(data["findings"]), set(data["files"]), int(data["resources"])
    )


def _validate(
    repo: Path, options: Options, options_key: list[Any], progress: Progress, store: cache.Cache
) -> Outcome:
    from generator.checks import links
    from generator.model.values import load_values_repo
    from generator.validate.groups import check_groups, forget_registries

    forget_registries()
    outcome = Outcome()
    progress("values files")
    values = load_values_repo(repo)
    for error in values.errors:
        outcome.findings += error_findings(error, rules.YAML_INVALID.id, repo)
    catalogue = _secret_template(repo, outcome, store)
    spec = Outcome()
    hygiene_findings = Outcome()

    def meanwhile() -> None:
        """The layers that need no Helm, while the groups render in worker processes."""
        outcome.findings += links.check_values_links(values, _injected_globals(values, options))
        _values_files(repo, values, outcome, store)
        progress("spec")
        _spec(repo, spec, store)
        progress("secrets hygiene")
        hygiene_findings.files = outcome.files | spec.files
        _hygiene(repo, hygiene_findings, store)

    check_groups(repo, values, catalogue, options, options_key, outcome, progress, store, meanwhile)
    outcome.findings = spec.findings + outcome.findings + hygiene_findings.findings
    outcome.files |= spec.files
    # the same chart rendered for several groups repeats its findings: report each once
    findings = dict.fromkeys(_source_position(f, repo) for f in outcome.findings)
    outcome.findings = _secret_reads_at_their_source(repo, _one_per_cause(list(findings)))
    return outcome


def _secret_reads_at_their_source(repo: Path, findings: list[Finding]) -> list[Finding]:
    """ExternalSecret findings at the chart's values.yaml line naming the Vault path, not at the
    template that renders it; in a generated repository the secret template is pattern.yaml's,
    so the hint says to change pattern.yaml."""
    from generator.checks import links
    from generator.yamlio import load_file

    documents: dict[str, Document | None] = {}

    def chart_values(chart: str) -> Document | None:
        if chart not in documents:
            name = f"{chart}/values.yaml"
            path = layout.existing(repo, name)
            try:
                documents[chart] = load_file(path, name) if path and path.is_file() else None
            except McgError:
                documents[chart] = None
        return documents[chart]

    generated = (repo / SPEC_FILE).is_file()
    moved = []
    for finding in findings:
        if finding.rule in links.SECRET_READ_RULES and "/templates/" in finding.file:
            document = chart_values(finding.file.split("/templates/")[0])
            if document is not None:
                finding = links.secret_read_source(finding, document)
        if (
            generated
            and finding.rule in links.SECRET_READ_RULES
            and SECRET_TEMPLATE_FILE in finding.hint
        ):
            hint = finding.hint.replace(SECRET_TEMPLATE_FILE, f"the secrets of {SPEC_FILE}")
            finding = dataclasses.replace(finding, hint=f"{hint}, then run 'mcg-gen generate'")
        moved.append(finding)
    return moved


# Helm's complaint when a chart's values.schema.json refuses keys: "at '/main': additional
# properties 'a', 'b' not allowed"
_SCHEMA_EXTRA_KEYS = re.compile(r"at '(/[^']*)': additional propert(?:y|ies) ((?:'[^']*'(?:, )?)+)")


def _one_per_cause(findings: list[Finding]) -> list[Finding]:
    """A group that could not be rendered because of a line that a values or links finding
    already names (clusterGroup.name, an application's path), or because the chart's own schema
    refuses keys already reported as unknown, is that finding, not a second one."""
    from generator.schema_check import dotted

    named = {
        (f.file, f.line)
        for f in findings
        if f.line and rules.layer_of(f.rule) in ("values", "links", "names")
    }
    unknown = {f.anchor for f in findings if f.rule == rules.VALUES_UNKNOWN_KEY.id}

    def repeats(finding: Finding) -> bool:
        if finding.rule != rules.CHART_RENDER_ERROR.id:
            return False
        if (finding.file, finding.line) in named:
            return True
        refused = [
            dotted([*_pointer_parts(pointer), key])
            for pointer, keys in _SCHEMA_EXTRA_KEYS.findall(finding.message)
            for key in re.findall(r"'([^']*)'", keys)
        ]
        return bool(refused) and all(path in unknown for path in refused)

    return [finding for finding in findings if not repeats(finding)]


def _pointer_parts(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        text = part.replace("~1", "/").replace("~0", "~")
        parts.append(int(text) if text.isdigit() else text)
    return parts


def _options_key(options: Options) -> list[Any]:
    return [
        dataclasses.asdict(options.facts),
        options.kubernetes_version,
        [cache.tree_digest(folder) for folder in options.schema_locations],
        [cache.tree_digest(folder) for folder in options.chart_dirs],
        options.lint,
        sorted(options.groups) if options.groups is not None else None,
    ]


def _injected_globals(values: ValuesRepo, options: Options) -> dict[str, dict[str, str]]:
    """Per group, the `global.*` facts the operator would inject (for templated value files)."""
    from generator.model.facts import injected_globals

    declared = values.global_values.get("global")
    merged = {**values.global_values, "global": declared if isinstance(declared, dict) else {}}
    return {group: injected_globals(merged, group, options.facts) for group in values.groups}


def _source_position(finding: Finding, repo: Path) -> Finding:
    """Repository-relative file names; no line for a rendered object in a chart template, whose
    line is one of Helm's output, not of the template the user edits."""
    file = relative_to(finding.file, repo)
    if "/templates/" in file and rules.is_rendered(finding.rule):
        return dataclasses.replace(finding, file=file, line=0, column=0)
    return dataclasses.replace(finding, file=file)


def _spec(repo: Path, outcome: Outcome, store: cache.Cache) -> None:
    """pattern.yaml's own problems, and whether the generated files still follow from it."""
    spec = repo / SPEC_FILE
    if not spec.is_file():
        return
    outcome.files.add(SPEC_FILE)
    key = cache.key_of("spec", store.digest(str(spec)), store.tool_digest())
    cached = store.remember("spec", key, lambda: _check_spec(repo))
    outcome.findings += cache.findings_from_json(cached["findings"])
    if cached["desired"] is None:
        return
    stale = _spec_drift(repo, key, cached["desired"], store)
    if stale:
        shown = ", ".join(stale[:3])
        more = f" and {len(stale) - 3} more" if len(stale) > 3 else ""
        outcome.findings.append(
            Finding(
                rules.SPEC_OUT_OF_DATE.id,
                Severity.ERROR,
                SPEC_FILE,
                0,
                0,
                f"generated files do not match {SPEC_FILE}: {shown}{more}",
                "run 'mcg-gen generate'",
            )
        )


def _spec_drift(
    repo: Path, spec_key: str, desired: dict[str, str], store: cache.Cache
) -> list[str]:
    """`state.out_of_date`: the generated files that no longer follow from the spec. Kept with
    the lstat of every file it looked at (the generated files, those the state file records, the
    state file and their folders): while none of them changed, the last run's answer stands
    (the check reads every generated file's digest, most of a run that changed one template)."""
    from generator import state

    key = cache.key_of("spec-drift", spec_key, store.digest(str(repo / state.STATE_FILE)))
    known = store.get("spec-drift", key)
    # (a fingerprint is kept only when there is one: None, too recent, never matches)
    if (
        known is not None
        and store.paths_fingerprint(repo, known["watched"]) == known["fingerprint"]
    ):
        return [str(path) for path in known["stale"]]
    record = state.read_record(repo)
    watched = sorted({*desired, *record.files, state.STATE_FILE})
    fingerprint = store.paths_fingerprint(repo, watched)  # before reading: a change meanwhile
    stale = state.out_of_date(repo, desired, store.file_digest, record)  # is seen next time
    if fingerprint is not None:
        store.put(
            "spec-drift", key, {"watched": watched, "fingerprint": fingerprint, "stale": stale}, ()
        )
    return stale


def _check_spec(repo: Path) -> dict[str, Any]:
    """Findings of the spec, and the hashes of the files it generates (None when it is invalid)."""
    from generator import state
    from generator.emit.repo import plan_files
    from generator.model.spec import load_repository_spec
    from generator.yamlio import YamlError

    try:
        pattern = load_repository_spec(repo)
    except YamlError as error:
        return {
            "findings": cache.findings_to_json(error_findings(error, rules.YAML_INVALID.id, repo)),
            "desired": None,
        }
    except McgError as error:
        return {
            "findings": cache.findings_to_json(error_findings(error, rules.SPEC_INVALID.id, repo)),
            "desired": None,
        }
    desired = {path: state.digest(content) for path, content in plan_files(pattern).items()}
    return {"findings": [], "desired": desired}


def _other_values_files(repo: Path, values: ValuesRepo) -> Iterable[Path]:
    """Value files that are neither global nor a group's: platform or version overrides."""
    known = {GLOBAL_FILE, *(document.file for document in values.groups.values())}
    for path in sorted(repo.glob(layout.group_file("*"))):
        if path.name not in known and not path.name.startswith("values-secret"):
            yield path


def _values_files(repo: Path, values: ValuesRepo, outcome: Outcome, store: cache.Cache) -> None:
    from generator.checks.values import (
        ValuesKind,
        check_values_file,
        no_op_overrides,
        without_keys_read,
    )
    from generator.yamlio import load_file

    read_by_templates = _keys_read_by_templates(repo, store)
    listed = sorted(
        {
            key
            for group in values.groups
            for key, value in values.cluster_group(group).items()
            if isinstance(value, list)
        }
    )

    def check(
        name: str, kind: ValuesKind, document: Document | None, listed: Sequence[str]
    ) -> None:
        outcome.files.add(name)
        key = cache.key_of(
            "values", kind, store.digest(str(repo / name)), listed, store.tool_digest()
        )

        def compute() -> list[Finding]:
            loaded = document
            if loaded is None:
                try:
                    loaded = load_file(layout.inside(repo, name) or repo / name, name)
                except McgError as error:
                    return error_findings(error, rules.YAML_INVALID.id, repo)
            if not isinstance(loaded.data, dict):
                return []
            findings = check_values_file(loaded, kind)
            return findings + no_op_overrides(loaded, listed) if kind == "override" else findings

        found = store.remember_findings(f"values:{name}", key, compute)
        outcome.findings += without_keys_read(found, read_by_templates) if found else found

    if values.global_doc is not None:
        check(GLOBAL_FILE, "global", values.global_doc, ())
    for document in values.groups.values():
        check(document.file, "group", document, ())
    reported = {error.location.file for error in values.errors if error.location}
    loaded = {document.file: document for document in values.others.values()}
    for path in _other_values_files(repo, values):
        if path.name not in reported:
            check(path.name, "override", loaded.get(path.name), listed)


def _keys_read_by_templates(repo: Path, store: cache.Cache) -> set[str]:
    """`keys_read_by_templates`, kept apart per folder below charts/ and common/ (a chart, or
    a group's charts): while no file of a folder changed (names, sizes, times, inodes: one
    lstat each), its keys are the last run's; in a folder that changed, each template's keys
    are kept apart by its content digest, so an edit reads the templates that changed."""
    from generator.checks.values import keys_read_by_templates, keys_read_in, template_units
    from generator.model import layout

    unread = sorted(str(folder) for folder in layout.unread_vendored_folders(repo))
    key = cache.key_of("template-keys", unread, store.tool_digest())
    known: dict[str, Any] = (store.get("template-keys", key) or {}).get("units", {})
    kept: dict[str, list[Any]] = {}
    read: set[str] = set()
    for unit in template_units(repo):
        name = str(unit)
        fingerprint = store.folder_fingerprint(unit)
        entry = known.get(name)
        if fingerprint is not None and entry is not None and entry[0] == fingerprint:
            kept[name] = entry
            read.update(str(read_key) for read_key in entry[1])
            continue
        files: dict[str, Any] = entry[2] if entry is not None else {}
        kept_files: dict[str, list[Any]] = {}

        def keys_in(
            path: Path,
            status: os.stat_result,
            files: dict[str, Any] = files,
            kept_files: dict[str, list[Any]] = kept_files,
        ) -> list[str]:
            digest = store.file_digest(path, status)
            known_file = files.get(str(path))
            if known_file is not None and known_file[0] == digest:
                keys = [str(read_key) for read_key in known_file[1]]
            else:
                keys = sorted(keys_read_in(path))
            kept_files[str(path)] = [digest, keys]
            return keys

        found = keys_read_by_templates(repo, keys_in, [unit], store.tree)
        read |= found
        kept[name] = [fingerprint, sorted(found), kept_files]
    if kept != known:
        store.put("template-keys", key, {"units": kept}, ())
    return read


def _secret_template(
    repo: Path, outcome: Outcome, store: cache.Cache
) -> links.SecretCatalogue | None:
    from generator.checks import links

    try:
        path = layout.inside(repo, SECRET_TEMPLATE_FILE)
    except McgError as error:
        outcome.findings += error_findings(error, rules.YAML_INVALID.id, repo)
        return None
    if path is None or not path.is_file():
        return None
    from generator.model.secrets_file import secrets_file
    from generator.model.secrets_format import check_secrets_format
    from generator.yamlio import load_file

    outcome.files.add(SECRET_TEMPLATE_FILE)
    broken = links.SecretCatalogue(SECRET_TEMPLATE_FILE, {}, readable=False)
    try:
        document = load_file(path, SECRET_TEMPLATE_FILE)
    except McgError as error:
        outcome.findings += error_findings(error, rules.YAML_INVALID.id, repo)
        return broken
    # The template is meant to be filled in: fields without a value are its point. Checked
    # once per content: the format's schema is a large part of a run that changed one file.
    key = cache.key_of("secret-template", store.digest(str(path)), store.tool_digest())
    findings = store.remember_findings(
        "secret-template",
        key,
        lambda: [f for f in check_secrets_format(document) if f.rule != rules.SECRETS_NO_VALUE.id],
    )
    outcome.findings += findings
    if any(f.severity is Severity.ERROR for f in findings):
        return broken
    loaded = secrets_file(document)
    return links.SecretCatalogue(SECRET_TEMPLATE_FILE, {s.name: s for s in loaded.secrets})


def _hygiene(repo: Path, outcome: Outcome, store: cache.Cache) -> None:
    import stat

    from generator.checks import hygiene

    outcome.findings += hygiene.committed_secret_files(repo, store.tree)
    outcome.findings += hygiene.ignore_coverage(repo)
    scanned: dict[str, tuple[bool, str]] = {}  # path: (a link?, content digest)
    for name in sorted(outcome.files):
        path = repo / name
        if path.is_file():
            scanned[str(path)] = (path.is_symlink(), store.file_digest(path))
    for _, path_name, status in store.tree.walk(repo / "charts"):
        if path_name.endswith(hygiene.SCANNED_SUFFIXES):
            scanned[path_name] = (
                stat.S_ISLNK(status.st_mode),
                store.file_digest(path_name, status),
            )
    outcome.findings += _scan_hygiene(repo, scanned, store)


def _scan_hygiene(
    repo: Path, scanned: dict[str, tuple[bool, str]], store: cache.Cache
) -> list[Finding]:
    """hygiene.scan_file of each of `scanned` (path: whether it is a link, its content digest);
    each file's findings are cached apart, so that a change reads only the files that changed."""
    from generator import repofs
    from generator.checks import hygiene

    key = cache.key_of("hygiene-files", store.tool_digest())
    known: dict[str, Any] = (store.get("hygiene-files", key) or {}).get("files", {})
    findings: list[Finding] = []
    kept: dict[str, Any] = {}
    resolver = repofs.Resolver()
    for path, (is_link, digest) in scanned.items():
        identity = [is_link, digest]
        entry = known.get(path)
        if entry is not None and entry[:2] == identity:
            found = cache.findings_from_json(entry[2])
        else:
            found = hygiene.scan_file(repo, Path(path), resolver)
        kept[path] = [*identity, cache.findings_to_json(found)]
        findings += found
    if kept != known:
        store.put("hygiene-files", key, {"files": kept}, ())
    return findings
