"""`mcg-gen import`: write the pattern.yaml of a hand-written repository.

The repository is read through the model's loaders (`model.values`, `model.secrets_file`); what
the spec can say becomes spec, and what it cannot is carried through the spec's pass-through
(`extraValues` of a group, and at the top level for values-global.yaml), computed as the part of
each values file that the spec alone does not give. The result is checked before it is written:
the values files `generate` makes from it hold everything the repository's files hold (after
putting list-form entries in map form and renaming deprecated keys); what they add (defaults) is
reported, and so is every migration and pass-through: nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import copy
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.commands import repository_folder
from generator.errors import EXIT_OK, McgError, UsageError

EPILOG = """\
examples:
  mcg-gen import                         write ./pattern.yaml from the repository here
  mcg-gen import path/to/repo            ... of another repository
  mcg-gen import -o /tmp/pattern.yaml    write it elsewhere (the repository is not touched)
  mcg-gen import --force                 replace an existing pattern.yaml

What is read: values-global.yaml, every values-<group>.yaml with a clusterGroup, the secret
template (values-secret.yaml.template, format 2.0 or the older 1.0) and the charts under
charts/. Older layouts are accepted and migrated: list-form applications, subscriptions and
managed groups, 'projects' and an application's 'project', 'isHubCluster', acmlabels and
the PlacementRule era's clusterSelector, values-secret 1.0. Local applications are attached
to the chart their path names; charts no application uses are listed.

What the spec cannot say goes to 'extraValues' (per group, and at the top for
values-global.yaml), merged over the generated values files. The report lists each migration,
each pass-through and each default generate adds; then 'mcg-gen generate' writes values files
equivalent to the ones you had.
"""

MAP_SECTIONS = ("applications", "subscriptions", "managedClusterGroups")
SET_SECTIONS = ("namespaces", "argoProjects")
HELM_SCALARS = (str, int, float, bool)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="write the pattern.yaml of a hand-written repository",
        description="Read a hand-written Validated Patterns repository and write the "
        "pattern.yaml from which 'mcg-gen generate' reproduces its values files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "repo",
        nargs="?",
        default=Path("."),
        type=Path,
        help="the repository (default: the current folder)",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="where to write the spec (default: REPO/pattern.yaml)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing spec file")
    parser.set_defaults(run=run)


@dataclass
class Report:
    """What the import did beyond copying: each line names the file and key it is about."""

    migrated: list[str] = field(default_factory=list)
    passed_through: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    not_imported: list[str] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        for title, items in (
            ("migrated from an older layout", self.migrated),
            ("carried through extraValues (the spec cannot say it)", self.passed_through),
            ("added by generate (defaults the repository did not set)", self.defaults),
            ("charts", self.charts),
            ("not imported", self.not_imported),
        ):
            if items:
                yield f"{title}:"
                yield from (f"  {item}" for item in items)


def run(args: argparse.Namespace) -> int:
    from generator import repofs
    from generator.errors import printable
    from generator.model.layout import SPEC_FILE
    from generator.yamlio import dump_yaml

    repo = repository_folder(args.repo)
    target = args.output or repo / SPEC_FILE
    if target.exists() and not args.force:
        raise UsageError(
            f"{target} exists already",
            hint="pass --force to replace it, or -o to write the spec elsewhere",
        )
    spec, report = import_repository(repo)
    header = (
        f"# Imported by 'mcg-gen import' from a hand-written repository ({repo.resolve().name}).\n"
        "# Edit this file, then run 'mcg-gen generate'. extraValues carry what the spec cannot\n"
        "# say; move them into the spec's own keys where it can.\n"
    )
    text = header + dump_yaml(spec)
    if args.output is None:
        target = repofs.confine(repo, SPEC_FILE)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    print(f"mcg-gen: wrote {target}")
    for line in report.lines():
        print(printable(line))
    return EXIT_OK


def import_repository(repo: Path) -> tuple[dict[str, Any], Report]:
    """The spec of a hand-written repository and the report of what it took to write it."""
    from generator.model.values import require_values_repo

    values = require_values_repo(repo)
    importer = _Importer(repo, values.global_values, _group_trees(values), Report())
    return importer.spec(), importer.report


def _group_trees(values: Any) -> dict[str, dict[str, Any]]:
    return {
        name: copy.deepcopy(document.data)
        for name, document in values.groups.items()
        if isinstance(document.data, dict)
    }


class _Importer:
    def __init__(
        self,
        repo: Path,
        global_values: Mapping[str, Any],
        groups: dict[str, dict[str, Any]],
        report: Report,
    ) -> None:
        from generator.model import layout

        self.repo = repo
        self.report = report
        self.layout = layout
        self.global_values = copy.deepcopy(dict(global_values))
        self.hub = self._hub_name(groups)
        # the hub first: its settings of a shared app or operator become the spec's
        names = sorted(groups, key=lambda name: (name != self.hub, name))
        self.originals = {name: self._canonical(name, groups[name]) for name in names}
        self.apps: dict[str, dict[str, Any]] = {}
        self.generated = self._generated_files()
        self.operators: dict[str, dict[str, Any]] = {}

    # -- reading the repository ------------------------------------------------------------

    def _generated_files(self) -> set[str]:
        """The files an earlier `mcg-gen generate` wrote (a repository whose spec was lost):
        its charts stay mcg-gen's to scaffold."""
        from generator import state

        try:
            return set(state.read_state(self.repo))
        except McgError as error:
            self.report.not_imported.append(f"mcg-gen's record of generated files: {error}")
            return set()

    def _hub_name(self, groups: Mapping[str, dict[str, Any]]) -> str:
        main = self.global_values.get("main")
        named = main.get("clusterGroupName") if isinstance(main, dict) else None
        if isinstance(named, str) and named:
            return named
        flagged = [
            name
            for name, data in groups.items()
            if isinstance(data.get("clusterGroup"), dict)
            and data["clusterGroup"].get("isHubCluster") in (True, "true")
        ]
        hub = flagged[0] if flagged else self.layout.DEFAULT_HUB
        self.report.migrated.append(
            f"{self.layout.GLOBAL_FILE}: no main.clusterGroupName; the hub is {hub!r}"
            + (" (isHubCluster)" if flagged else " (the default)")
        )
        return hub

    def _canonical(self, group: str, data: dict[str, Any]) -> dict[str, Any]:
        """The group's values with list-form entries in map form and deprecated keys renamed
        (each change reported): what the generated file is compared with."""
        file = self.layout.group_file(group)
        tree = data.get("clusterGroup")
        if not isinstance(tree, dict):
            return data
        if "isHubCluster" in tree:
            tree.pop("isHubCluster")
            self.report.migrated.append(
                f"{file}: clusterGroup.isHubCluster dropped (the hub is main.clusterGroupName)"
            )
        if "projects" in tree:
            projects = tree.pop("projects")
            if "argoProjects" not in tree:
                tree["argoProjects"] = projects
            self.report.migrated.append(f"{file}: clusterGroup.projects -> argoProjects")
        for section in MAP_SECTIONS:
            value = tree.get(section)
            if isinstance(value, list):
                tree[section] = _keyed(value)
                self.report.migrated.append(f"{file}: clusterGroup.{section} list -> map form")
            elif isinstance(value, dict) and section != "subscriptions":
                # the chart names applications and managed groups by `name`, not by key
                tree[section] = {
                    str(body.get("name", key)) if isinstance(body, dict) else str(key): body
                    for key, body in value.items()
                }
        for key, app in (tree.get("applications") or {}).items():
            if isinstance(app, dict) and "project" in app:
                project = app.pop("project")
                app.setdefault("argoProject", project)
                self.report.migrated.append(f"{file}: applications.{key}.project -> argoProject")
        for key, managed in (tree.get("managedClusterGroups") or {}).items():
            selector = managed.get("clusterSelector") if isinstance(managed, dict) else None
            if isinstance(selector, dict) and "matchLabels" in selector:
                # kept as it is (the ACM chart still reads it); its labels become the spec's
                self.report.migrated.append(
                    f"{file}: managedClusterGroups.{key}.clusterSelector (PlacementRule era): "
                    "its matchLabels -> labels"
                )
        return data

    # -- building the spec ------------------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        from generator.model.names import is_dns_label

        glob = self.global_values.get("global") or {}
        main = self.global_values.get("main") or {}
        folder_name = self.repo.resolve().name.lower()
        name = glob.get("pattern") if isinstance(glob, dict) else None
        if not (isinstance(name, str) and is_dns_label(name)):
            name = folder_name if is_dns_label(folder_name) else "imported-pattern"
            self.report.not_imported.append(
                f"{self.layout.GLOBAL_FILE}: no usable global.pattern; the pattern is {name!r}"
            )
        git = main.get("git") if isinstance(main, dict) else None
        repo_url = git.get("repoURL") if isinstance(git, dict) else None
        spec: dict[str, Any] = {"name": name}
        if not isinstance(repo_url, str) or not repo_url:
            repo_url = f"https://github.com/example/{name}.git"
            self.report.not_imported.append(
                f"{self.layout.GLOBAL_FILE}: no main.git.repoURL; set git.repoURL (now {repo_url})"
            )
        spec["git"] = {"repoURL": repo_url}
        if isinstance(git, dict) and isinstance(git.get("revision"), str):
            spec["git"]["revision"] = git["revision"]
        options = self._options(glob, main)
        if options:
            spec["options"] = options
        hub_spec: dict[str, Any] = {"name": self.hub}
        groups: list[dict[str, Any]] = []
        hub_tree = self.originals.get(self.hub, {}).get("clusterGroup") or {}
        managed = hub_tree.get("managedClusterGroups") or {}
        for group, data in self.originals.items():
            entry = hub_spec if group == self.hub else {"name": group}
            self._group(group, data.get("clusterGroup") or {}, entry)
            if group != self.hub:
                self._managed(managed.get(group), entry)
                groups.append(entry)
        for group in managed:
            if group not in self.originals and group != self.hub:
                groups.append({"name": group})
                self.report.defaults.append(
                    f"{self.layout.group_file(group)}: written (the hub manages {group!r}, "
                    "which has no values file)"
                )
        spec["hub"] = hub_spec
        if groups:
            spec["groups"] = groups
        if self.apps:
            spec["apps"] = self.apps
        if self.operators:
            spec["operators"] = self.operators
        self._secrets(spec)
        self._attach_charts(spec.get("secrets", {}))
        _drop_implied_platform(spec)
        return self._pass_through(spec)

    def _options(self, glob: Any, main: Any) -> dict[str, Any]:
        given = glob.get("options") if isinstance(glob, dict) else None
        options: dict[str, Any] = {}
        if isinstance(given, dict):
            for key in ("syncPolicy", "installPlanApproval"):
                if given.get(key) in ("Automatic", "Manual"):
                    options[key] = given[key]
            if isinstance(given.get("useCSV"), bool):
                options["useCSV"] = given["useCSV"]
            retry = given.get("applicationRetryLimit")
            if isinstance(retry, int) and not isinstance(retry, bool):
                options["applicationRetryLimit"] = retry
        source = main.get("multiSourceConfig") if isinstance(main, dict) else None
        version = source.get("clusterGroupChartVersion") if isinstance(source, dict) else None
        if isinstance(version, str) and version:
            options["clusterGroupChartVersion"] = version
        return options

    def _group(self, group: str, tree: dict[str, Any], entry: dict[str, Any]) -> None:
        from generator.model.names import is_dns_label

        names = [name for name in _names(tree.get("namespaces")) if is_dns_label(name)]
        if names:
            entry["namespaces"] = names
        apps = [
            key for key, body in (tree.get("applications") or {}).items() if self._app(key, body)
        ]
        if apps:
            entry["apps"] = apps
        operators = [
            key
            for key, body in (tree.get("subscriptions") or {}).items()
            if self._operator(key, body)
        ]
        if operators:
            entry["operators"] = operators
        imperative = tree.get("imperative")
        jobs = imperative.get("jobs") if isinstance(imperative, dict) else None
        if isinstance(jobs, list):
            spec_jobs = [_job(job) for job in jobs]
            if all(spec_jobs):
                entry["jobs"] = spec_jobs

    def _app(self, key: str, body: Any) -> bool:
        """Put the application in the spec's apps (the first group's version of a shared one)
        when the spec can say what it is; the rest of it is passed through."""
        from generator.model import platform
        from generator.model.names import is_dns_label

        if not isinstance(body, dict) or not is_dns_label(key) or body.get("disabled"):
            return False
        spec: dict[str, Any] = {}
        if isinstance(body.get("namespace"), str) and is_dns_label(body["namespace"]):
            spec["namespace"] = body["namespace"]
        if isinstance(body.get("argoProject"), str) and is_dns_label(body["argoProject"]):
            spec["project"] = body["argoProject"]
        path = body.get("path")
        if body.get("chart"):
            if not isinstance(body.get("chartVersion"), str):
                return False
            spec["chart"] = str(body["chart"])
            spec["version"] = body["chartVersion"]
            if isinstance(body.get("repoURL"), str):
                spec["repoURL"] = body["repoURL"]
        elif isinstance(path, str):
            normal = path.strip("/")
            if key in platform.DEFAULT_APPS and normal.split("/")[0] == platform.VENDOR_DIR:
                pass  # a vendored copy of a platform chart: the spec's default, the upstream one
            elif normal.split("/")[0] == platform.VENDOR_DIR or body.get("repoURL"):
                return False  # another vendored chart, or another repository's: passed through
            elif not _is_file(self.layout.existing(self.repo, f"{normal}/Chart.yaml")):
                return False  # kustomize, a plugin, or a chart that is not there
            else:
                spec["path"] = normal
                if f"{normal}/Chart.yaml" not in self.generated:
                    spec["scaffold"] = False  # the repository's own chart: generate leaves it
        else:
            return False
        overrides = body.get("overrides")
        if isinstance(overrides, list) and overrides and all(_plain_override(o) for o in overrides):
            spec["overrides"] = {o["name"]: o["value"] for o in overrides}
        files = body.get("extraValueFiles")
        if isinstance(files, list) and files and all(_plain_file(f) for f in files):
            spec["valueFiles"] = [f.lstrip("/") for f in files]
        policy = _sync_policy(body.get("syncPolicy"), self._retry_limit())
        if policy:
            spec["syncPolicy"] = policy
        differences = body.get("ignoreDifferences")
        if isinstance(differences, list) and differences:
            converted = [_ignore_difference(d) for d in differences]
            if all(converted):
                spec["ignoreDifferences"] = converted
        self.apps.setdefault(key, spec)
        return True

    def _retry_limit(self) -> int:
        from generator.model.pattern import Options

        glob = self.global_values.get("global")
        given = glob.get("options") if isinstance(glob, dict) else None
        limit = given.get("applicationRetryLimit") if isinstance(given, dict) else None
        return limit if isinstance(limit, int) else Options().application_retry_limit

    def _operator(self, key: str, body: Any) -> bool:
        from generator.model.names import is_dns_label

        if not isinstance(body, dict) or not is_dns_label(key):
            return False
        name = body.get("name", key)
        if not (isinstance(name, str) and is_dns_label(name)):
            return False
        spec: dict[str, Any] = {"name": name}
        for source, target in (
            ("namespace", "namespace"),
            ("source", "source"),
            ("sourceNamespace", "sourceNamespace"),
        ):
            if isinstance(body.get(source), str) and is_dns_label(body[source]):
                spec[target] = body[source]
        if isinstance(body.get("channel"), str):
            spec["channel"] = body["channel"]
        if body.get("installPlanApproval") in ("Automatic", "Manual"):
            spec["approval"] = body["installPlanApproval"]
        if isinstance(body.get("csv"), str):
            spec["csv"] = body["csv"]
        self.operators.setdefault(key, spec)
        return True

    def _managed(self, body: Any, entry: dict[str, Any]) -> None:
        if not isinstance(body, dict):
            return
        from generator.model.values import acm_labels

        labels = acm_labels(body)
        if labels and labels != {"clusterGroup": entry["name"]}:
            entry["labels"] = labels
        overrides = body.get("helmOverrides")
        if isinstance(overrides, list) and overrides and all(_plain_override(o) for o in overrides):
            entry["helmOverrides"] = {o["name"]: o["value"] for o in overrides}

    def _secrets(self, spec: dict[str, Any]) -> None:
        template = self.layout.existing(self.repo, self.layout.SECRET_TEMPLATE_FILE)
        if template is None or not _is_file(template):
            return
        from generator.yamlio import load_file

        document = load_file(template, self.layout.SECRET_TEMPLATE_FILE)
        data = document.data if isinstance(document.data, dict) else {}
        secrets, policies = (
            _secrets_v2(document, self.report)
            if str(data.get("version")) == "2.0"
            else _secrets_v1(data, self.report)
        )
        known = {"global", "hub", *(g["name"] for g in [spec["hub"], *spec.get("groups", [])])}
        for name, secret in secrets.items():
            unknown = [p for p in secret["prefixes"] if p not in known]
            if unknown:
                secret["prefixes"] = [p for p in secret["prefixes"] if p in known] or ["hub"]
                self.report.not_imported.append(
                    f"{self.layout.SECRET_TEMPLATE_FILE}: {name}: vault prefixes "
                    f"{', '.join(unknown)} name no cluster group"
                )
        if secrets:
            spec["secrets"] = secrets
        if policies:
            spec["vaultPolicies"] = policies

    def _attach_charts(self, secrets: Mapping[str, Any]) -> None:
        """Report which app uses each chart under charts/; an app whose chart names the Vault
        path of a secret (`<prefix>/<secret>`) reads that secret."""
        from generator import repofs

        folder = self.layout.existing(self.repo, "charts")
        if folder is None:
            return
        charts = [
            path
            for name, path, status in repofs.walk(folder)
            if name.split("/")[-1] == "Chart.yaml" and stat.S_ISREG(status.st_mode)
        ]
        for chart in charts:
            relative = chart.parent.relative_to(self.repo.resolve()).as_posix()
            users = [key for key, app in self.apps.items() if app.get("path") == relative]
            if not users:
                self.report.charts.append(f"{relative}: no application uses it")
                continue
            text = _chart_text(chart.parent)
            read = [
                name
                for name, secret in secrets.items()
                if any(f"/{prefix}/{name}" in text for prefix in secret["prefixes"])
            ]
            for user in users:
                if read:
                    self.apps[user]["secrets"] = read
            reads = f" (reads {', '.join(read)})" if read else ""
            self.report.charts.append(f"{relative}: app {', '.join(users)}{reads}")

    # -- what the spec cannot say -----------------------------------------------------------

    def _pass_through(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Add `extraValues` so that the generated files hold everything the originals hold,
        then check that they do."""
        from generator.yamlio import dump_yaml

        generated_global, generated_groups = _generate(spec)
        extra = _residual(self.global_values, generated_global)
        if extra:
            spec["extraValues"] = extra
            self.report.passed_through += [
                f"{self.layout.GLOBAL_FILE}: {path}" for path in _leaf_paths(extra)
            ]
        entries = {spec["hub"]["name"]: spec["hub"]}
        entries.update({group["name"]: group for group in spec.get("groups", [])})
        for group, original in self.originals.items():
            generated = generated_groups[group]
            extra = _residual(original, generated)
            tree = extra.get("clusterGroup")
            if isinstance(tree, dict):
                _set_like(tree, original["clusterGroup"], generated["clusterGroup"])
                _unwanted_entries(tree, original["clusterGroup"], generated["clusterGroup"])
            if extra:
                entries[group]["extraValues"] = extra
                self.report.passed_through += [
                    f"{self.layout.group_file(group)}: {path}" for path in _leaf_paths(extra)
                ]
        final_global, final_groups = _generate(spec)
        problems = [
            f"{self.layout.GLOBAL_FILE}: {path}"
            for path in _missing(self.global_values, final_global)
        ]
        for group, original in self.originals.items():
            problems += [
                f"{self.layout.group_file(group)}: {path}"
                for path in _missing(original, final_groups[group])
            ]
            self.report.defaults += [
                f"{self.layout.group_file(group)}: {path}"
                for path in _added(original, final_groups[group])
            ]
        self.report.defaults += [
            f"{self.layout.GLOBAL_FILE}: {path}"
            for path in _added(self.global_values, final_global)
        ]
        if problems:  # a value the pass-through could not carry: say so rather than lose it
            raise McgError(
                "the imported spec would not reproduce: " + "; ".join(problems[:10]),
                hint="please report this; the spec so far:\n" + dump_yaml(spec),
            )
        return spec


def _is_file(path: Path | None) -> bool:
    return path is not None and path.is_file()


def _chart_text(chart: Path) -> str:
    """The text of a chart's values and templates (bounded reads; links are not followed)."""
    from generator import repofs

    parts: list[str] = []
    for relative, path, status in repofs.walk(chart):
        regular = stat.S_ISREG(status.st_mode)
        if regular and relative.endswith((".yaml", ".yml", ".tpl")) and status.st_size < 1_000_000:
            try:
                parts.append(repofs.read_bytes(path).decode(errors="replace"))
            except McgError:
                continue  # a link or a device: not the chart's own text
    return "\n".join(parts)


def _drop_implied_platform(spec: dict[str, Any]) -> None:
    """Leave out the platform apps and operators the spec adds by itself (ACM with managed
    groups, Vault with secrets) wherever leaving them out generates the same files."""
    from generator.model import platform

    entries = [spec["hub"], *spec.get("groups", [])]
    for section, defaults in (
        ("apps", platform.DEFAULT_APPS),
        ("operators", platform.DEFAULT_OPERATORS),
    ):
        for key in defaults:
            listing = [entry for entry in entries if key in entry.get(section, [])]
            if not listing:
                continue
            before = _generate(spec)
            trial = copy.deepcopy(spec)
            for entry in [trial["hub"], *trial.get("groups", [])]:
                if key in entry.get(section, []):
                    entry[section] = [item for item in entry[section] if item != key]
                    if not entry[section]:
                        del entry[section]
            if _generate(trial) != before:
                continue
            defined = trial.get(section, {})
            if key in defined:
                spare = copy.deepcopy(trial)
                del spare[section][key]
                if not spare[section]:
                    del spare[section]
                if _generate(spare) == before:
                    trial = spare
            spec.clear()
            spec.update(trial)


def _generate(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The values files `generate` writes from `spec`: values-global and each group's."""
    from generator.emit.values import global_values, group_values
    from generator.model.spec import parse_spec
    from generator.yamlio import dump_yaml

    pattern = parse_spec(dump_yaml(spec), "pattern.yaml (imported)")
    groups = {group.name: group_values(pattern, group) for group in pattern.cluster_groups}
    return global_values(pattern), groups


def _keyed(entries: list[Any]) -> dict[str, Any]:
    """List-form entries in map form, keyed by name."""
    keyed: dict[str, Any] = {}
    for index, body in enumerate(entries):
        if isinstance(body, dict):
            keyed[str(body.get("name", index))] = body
        elif isinstance(body, str):
            keyed[body] = {"name": body}
    return keyed


def _by_name(value: Any) -> dict[str, Any]:
    """A namespaces or argoProjects value in any of its forms (names, single-key maps, a map)
    as name -> settings (None when it has none)."""
    if isinstance(value, dict):
        return {str(key): body or None for key, body in value.items()}
    found: dict[str, Any] = {}
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str | int):
            found[str(item)] = None
        elif isinstance(item, dict):
            found.update({str(key): body or None for key, body in item.items()})
    return found


def _names(value: Any) -> list[str]:
    return list(_by_name(value))


def _set_like(extra: dict[str, Any], original: dict[str, Any], generated: dict[str, Any]) -> None:
    """namespaces and argoProjects are sets of names: order does not matter, and what the
    generated list adds stays. Only names the generated list lacks, or settings of a namespace,
    make a pass-through, which carries the original value (in its own form) with the generated
    names added."""
    for section in SET_SECTIONS:
        if section not in extra:
            continue
        have = _by_name(generated.get(section))
        wanted = _by_name(original.get(section))
        if all(name in have and have[name] == body for name, body in wanted.items()):
            del extra[section]
            continue
        value = original.get(section)
        added = [name for name in have if name not in wanted]
        if isinstance(value, dict):
            extra[section] = {**value, **{name: {} for name in added}}
        else:
            extra[section] = [*(value or []), *added]


def _unwanted_entries(
    extra: dict[str, Any], original: dict[str, Any], generated: dict[str, Any]
) -> None:
    """An application, subscription or managed group the generated file adds but the original
    does not have would deploy something new: the pass-through removes it (null deletes)."""
    for section in MAP_SECTIONS:
        have = original.get(section)
        made = generated.get(section)
        if not isinstance(made, dict):
            continue
        for key in made:
            if not isinstance(have, dict) or key not in have:
                extra.setdefault(section, {})[key] = None


def _residual(original: Any, generated: Any) -> dict[str, Any]:
    """What must be merged over `generated` (maps merge, other values replace) to give every
    value of `original`."""
    extra: dict[str, Any] = {}
    for key, value in original.items():
        if value is None:
            continue  # null: Helm deletes the key, as if it were not there
        made = generated.get(key) if isinstance(generated, dict) else None
        if isinstance(value, dict) and isinstance(made, dict):
            inner = _residual(value, made)
            if inner:
                extra[key] = inner
        elif value != made:
            extra[key] = copy.deepcopy(value)
    return extra


def _missing(original: Any, generated: Any, path: str = "") -> Iterator[str]:
    """Dotted paths of values of `original` that `generated` does not hold (set-like lists are
    compared by their names)."""
    for key, value in original.items():
        where = f"{path}.{key}" if path else str(key)
        if value is None:
            continue
        made = generated.get(key) if isinstance(generated, dict) else None
        if isinstance(value, dict) and isinstance(made, dict):
            yield from _missing(value, made, where)
        elif key in SET_SECTIONS and path.endswith("clusterGroup"):
            have = _by_name(made)
            if any(have.get(name, "absent") != body for name, body in _by_name(value).items()):
                yield where
        elif value != made:
            yield where


def _added(original: Any, generated: Any, path: str = "", depth: int = 0) -> Iterator[str]:
    """Dotted paths (three levels deep at most) that `generated` has and `original` lacks."""
    for key, value in generated.items():
        where = f"{path}.{key}" if path else str(key)
        have = original.get(key) if isinstance(original, dict) else None
        if have is None:
            yield where
        elif isinstance(value, dict) and isinstance(have, dict) and depth < 3:
            yield from _added(have, value, where, depth + 1)


def _leaf_paths(tree: dict[str, Any], path: str = "", depth: int = 0) -> Iterator[str]:
    for key, value in tree.items():
        where = f"{path}.{key}" if path else str(key)
        if isinstance(value, dict) and value and depth < 3:
            yield from _leaf_paths(value, where, depth + 1)
        else:
            yield where + (" (removed)" if value is None else "")


def _sync_policy(value: Any, retry_limit: int) -> str | None:
    """The spec's name of an application's syncPolicy, when it is one the spec writes."""
    retry = {"retry": {"limit": retry_limit}}
    if value == retry:
        return "Manual"
    if value == {"automated": {"prune": True, "selfHeal": True}, **retry}:
        return "Automatic"
    return None


def _plain_override(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and set(item) == {"name", "value"}
        and isinstance(item["name"], str)
        and isinstance(item["value"], HELM_SCALARS)
    )


def _plain_file(item: Any) -> bool:
    from generator import repofs

    return (
        isinstance(item, str)
        and "{{" not in item
        and repofs.lexical_problem(item.lstrip("/")) is None
    )


def _job(body: Any) -> dict[str, Any] | None:
    from generator.model.names import is_dns_label

    allowed = {"name", "playbook", "verbosity", "timeout", "image", "tags", "extravars"}
    if not (isinstance(body, dict) and set(body) <= allowed):
        return None
    if not (is_dns_label(str(body.get("name"))) and isinstance(body.get("playbook"), str)):
        return None
    return dict(body)


def _ignore_difference(body: Any) -> dict[str, Any] | None:
    allowed = {
        "group",
        "kind",
        "name",
        "namespace",
        "jsonPointers",
        "jqPathExpressions",
        "managedFieldsManagers",
    }
    if isinstance(body, dict) and set(body) <= allowed and isinstance(body.get("kind"), str):
        return dict(body)
    return None


def _secrets_v2(document: Any, report: Report) -> tuple[dict[str, Any], dict[str, str]]:
    from generator.model import layout
    from generator.model.names import is_dns_label
    from generator.model.secrets_file import secrets_file

    loaded = secrets_file(document)
    secrets: dict[str, Any] = {}
    for secret in loaded.secrets:
        if not is_dns_label(secret.name):
            report.not_imported.append(
                f"{layout.SECRET_TEMPLATE_FILE}: secret {secret.name!r} (not a DNS label)"
            )
            continue
        fields: dict[str, Any] = {}
        for spec_field in secret.fields:
            body: dict[str, Any] = {"source": spec_field.source}
            if spec_field.policy and spec_field.source == "generate":
                body["policy"] = spec_field.policy
            if spec_field.override and spec_field.source == "generate":
                body["override"] = True
            if spec_field.prompt and spec_field.source == "prompt":
                body["prompt"] = spec_field.prompt
            if spec_field.path and spec_field.source == "file":
                body["path"] = spec_field.path
                if spec_field.base64:
                    body["base64"] = True
            if spec_field.path and spec_field.source == "prompt":
                report.not_imported.append(
                    f"{layout.SECRET_TEMPLATE_FILE}: {secret.name}.{spec_field.name}: the "
                    f"path {spec_field.path!r} of a prompted field (the spec prompts only)"
                )
            if spec_field.description:
                body["description"] = spec_field.description
            fields[spec_field.name] = body if len(body) > 1 else spec_field.source
            value = loaded.sources.get((secret.name, spec_field.name))
            if value is not None and (value.value is not None or value.ini_file):
                report.not_imported.append(
                    f"{layout.SECRET_TEMPLATE_FILE}: {secret.name}.{spec_field.name}: its value "
                    "(the spec names fields; the value goes in your own values-secret file)"
                )
        entry: dict[str, Any] = {"prefixes": list(secret.prefixes), "fields": fields}
        if secret.description:
            entry["description"] = secret.description
        secrets[secret.name] = entry
    return secrets, dict(loaded.vault_policies)


def _secrets_v1(data: dict[str, Any], report: Report) -> tuple[dict[str, Any], dict[str, str]]:
    """values-secret 1.0: `secrets: {name: {field: value}}` and `files: {name: path}`, all under
    the hub's prefix."""
    from generator.model import layout
    from generator.model.names import is_dns_label

    secrets: dict[str, Any] = {}
    plain = data.get("secrets")
    for name, fields in plain.items() if isinstance(plain, dict) else []:
        if is_dns_label(str(name)) and isinstance(fields, dict) and fields:
            secrets[str(name)] = {
                "prefixes": ["hub"],
                "fields": {str(field): "required" for field in fields},
            }
            report.not_imported += [
                f"{layout.SECRET_TEMPLATE_FILE}: {name}.{field}: its value (the spec names "
                "fields; the value goes in your own values-secret file)"
                for field, value in fields.items()
                if value not in (None, "")
            ]
    files = data.get("files")
    for name, path in files.items() if isinstance(files, dict) else []:
        if is_dns_label(str(name)) and isinstance(path, str):
            secrets[str(name)] = {
                "prefixes": ["hub"],
                "fields": {"content": {"source": "file", "path": path}},
            }
    if secrets:
        report.migrated.append(
            f"{layout.SECRET_TEMPLATE_FILE}: values-secret 1.0 -> 2.0 (secrets under the hub's "
            "prefix, each file as a secret with one 'content' field)"
        )
    return secrets, {}
