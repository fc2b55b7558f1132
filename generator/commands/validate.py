"""`mcg-gen validate`: the pre-commit hook and CI gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.commands import (
    add_chart_dir_argument,
    add_fact_arguments,
    add_repo_argument,
    add_timeout_argument,
    facts_from_args,
    repository_folder,
)
from generator.errors import UsageError

EPILOG = """\
examples:
  mcg-gen validate                          the repository in the current folder
  mcg-gen validate path/to/repo --strict    warnings fail too
  mcg-gen validate --format sarif > mcg-gen.sarif
  mcg-gen validate --ignore chart/not-rendered --select links
  mcg-gen validate --chart-dir ~/charts     render remote charts from local copies
  mcg-gen validate --write-baseline .mcg-gen-baseline.json   accept today's findings
  mcg-gen validate --baseline .mcg-gen-baseline.json         fail on new findings only
  mcg-gen validate --schema-location ~/crds-catalog --kubernetes-version 1.31
  mcg-gen validate --since origin/main      only the groups a branch changed (chart-testing style)

plain manifests (kubeconform's options; no repository needed):
  helm template ./chart | mcg-gen validate --manifests -     rendered YAML from stdin
  mcg-gen validate --manifests out/ --summary --output tap  a folder, recursively
  mcg-gen validate --manifests k8s/ --skip-kind Secret --reject-kind ClusterRoleBinding
  mcg-gen validate --manifests k8s/ --ignore-missing-schemas -n 4
  mcg-gen validate --manifests k8s/ \
      --schema-location '/schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'

Layers: YAML, the spec (pattern.yaml), values files and the secret template, charts (helm lint and
a real Helm render of every cluster group and local app), every rendered resource against
Kubernetes and CRD schemas (offline, strict), and the links between files. 'mcg-gen rules' lists
every rule. Exit status: 0 clean, 1 findings (errors; warnings too with --strict), 2 usage error.
"""


def _rules(text: str) -> list[str]:
    return [rule.strip() for rule in text.split(",") if rule.strip()]


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of workers, got {text!r}")
    return int(text)


def register(subparsers: Any) -> None:
    from generator.report import FORMATS

    parser = subparsers.add_parser(
        "validate",
        help="check a pattern repository: spec, values, charts, resources, links",
        description="Validate a Multicloud GitOps repository, generated or hand-written, "
        "offline. Every finding names its rule, file, line and a fix.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_repo_argument(parser)
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format")
    parser.add_argument(
        "--output",
        dest="format",
        choices=FORMATS,
        help="the same as --format (kubeconform's name for it)",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="end the tap and pretty formats with the summary (the others always have it)",
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail the run too")
    parser.add_argument(
        "--show-info",
        action="store_true",
        help="list info findings in the text format too (other formats always have them)",
    )
    parser.add_argument(
        "--select",
        type=_rules,
        default=[],
        metavar="RULES",
        help="only these rules or layers (comma-separated, e.g. links,schema/invalid)",
    )
    parser.add_argument(
        "--ignore",
        type=_rules,
        default=[],
        metavar="RULES",
        help="skip these rules or layers (comma-separated)",
    )
    parser.add_argument(
        "--kubernetes-version",
        metavar="X.Y",
        help="Kubernetes version of the built-in schemas (1.25-1.37; default newest)",
    )
    parser.add_argument(
        "--schema-location",
        action="append",
        default=[],
        metavar="DIR|TEMPLATE",
        help="more schemas: a folder in {group}/{kind}_{version}.json layout (or kubeconform's "
        "v<version>-standalone-strict/<kind>-<group>-<version>.json), or a kubeconform "
        "templated path such as DIR/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json; "
        "'default' means the bundled schemas",
    )
    add_chart_dir_argument(parser)
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="hide the known findings FILE lists (by fingerprint); new ones are still reported",
    )
    parser.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="write the fingerprints of every finding (after --select/--ignore) to FILE and exit 0",
    )
    manifests = parser.add_argument_group(
        "plain manifests", "check rendered YAML instead of a repository, as kubeconform does"
    )
    manifests.add_argument(
        "--manifests",
        action="append",
        default=[],
        metavar="PATH|-",
        help="a manifest file, a folder of them (searched recursively for .yaml, .yml, .json) "
        "or - for stdin; repeatable",
    )
    manifests.add_argument(
        "--skip-kind",
        type=_rules,
        action="extend",
        default=[],
        metavar="KINDS",
        help="do not check these kinds (Kind or apiVersion/Kind, comma-separated)",
    )
    manifests.add_argument(
        "--reject-kind",
        type=_rules,
        action="extend",
        default=[],
        metavar="KINDS",
        help="report resources of these kinds as errors (schema/rejected-kind)",
    )
    manifests.add_argument(
        "--ignore-missing-schemas",
        action="store_true",
        help="skip resources of kinds no schema describes instead of reporting them",
    )
    manifests.add_argument(
        "-n",
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="check the files in N worker processes (default 1; worth it for thousands of "
        "files, each process loads the schemas once)",
    )
    parser.add_argument(
        "--since",
        metavar="REF",
        help="render and check only the cluster groups whose inputs changed since the merge "
        "base of REF and HEAD (git; the file layers still check every file)",
    )
    parser.add_argument("--no-lint", action="store_true", help="skip helm lint")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="ignore and do not update the result cache (~/.cache/mcg-gen)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    add_fact_arguments(parser)
    add_timeout_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from generator import report
    from generator.report import baseline, select_findings
    from generator.validate.options import Options
    from generator.validate.pipeline import validate_repository

    given = [location for location in args.schema_location if location != "default"]
    if given:  # the schema layer's module, not needed when nothing changed
        from generator.checks.kube_schemas import check_schema_location

        for location in given:
            check_schema_location(location)
    schema_locations = tuple(Path(location) for location in given)
    if args.manifests:
        return _run_manifests(args, schema_locations)
    only_manifests = [
        flag
        for flag, given in (
            ("--skip-kind", args.skip_kind),
            ("--reject-kind", args.reject_kind),
            ("--ignore-missing-schemas", args.ignore_missing_schemas),
            ("--workers", args.workers != 1),
        )
        if given
    ]
    if only_manifests:
        raise UsageError(
            f"{', '.join(only_manifests)} only apply to plain manifests",
            hint="add --manifests PATH (or - for stdin)",
        )
    repo = repository_folder(args.repo)
    for folder in args.chart_dir:
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder")
    options = Options(
        facts=facts_from_args(args),
        kubernetes_version=args.kubernetes_version,
        schema_locations=schema_locations,
        chart_dirs=tuple(args.chart_dir),
        lint=not args.no_lint,
        timeout=args.timeout,
        groups=_changed_groups(repo, args.since, args.quiet) if args.since else None,
    )
    progress = _progress(args.quiet)
    outcome = validate_repository(repo, options, progress, use_cache=not args.no_cache)
    if not args.quiet and sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    findings = select_findings(outcome.findings, args.select, args.ignore)
    if args.write_baseline is not None:
        baseline.write_baseline(args.write_baseline, findings)
        print(
            f"mcg-gen: wrote {report.plural(len(findings), 'finding')} to {args.write_baseline}",
            file=sys.stderr,
        )
        return 0
    printed = dict(zip(findings, baseline.fingerprints(findings), strict=True))
    hidden = 0
    if args.baseline is not None:
        findings, hidden = baseline.new_findings(findings, baseline.read_baseline(args.baseline))
    result = report.Report(
        findings=tuple(findings),
        repo=repo,
        files_checked=len(outcome.files),
        resources_checked=outcome.resources,
        strict=args.strict,
        show_info=args.show_info,
        baselined=hidden,
        fingerprints=printed,
        summary=args.summary,
    )
    return _print(result, args.format)


def _changed_groups(repo: Path, since: str, quiet: bool) -> frozenset[str]:
    from generator.model.values import load_values_repo
    from generator.validate.changed import changed_files, changed_groups

    values = load_values_repo(repo)
    groups = changed_groups(values, changed_files(repo, since))
    if not quiet:
        names = ", ".join(sorted(groups)) or "none"
        print(
            f"mcg-gen: {len(groups)} of {len(values.groups)} cluster groups changed since "
            f"{since}: {names}",
            file=sys.stderr,
        )
    return groups


def _print(result: Any, fmt: str) -> int:
    from generator import report

    color = fmt == "text" and report.wants_color(sys.stdout)
    sys.stdout.write(report.render(result, fmt, color=color))
    return report.exit_code(result)


def _run_manifests(args: argparse.Namespace, schema_locations: tuple[Path, ...]) -> int:
    from generator import report
    from generator.report import select_findings
    from generator.validate.manifests import ManifestOptions, validate_manifests

    options = ManifestOptions(
        kubernetes_version=args.kubernetes_version,
        schema_locations=schema_locations,
        skip_kinds=frozenset(args.skip_kind),
        reject_kinds=frozenset(args.reject_kind),
        ignore_missing_schemas=args.ignore_missing_schemas,
        workers=args.workers,
    )
    outcome = validate_manifests(args.manifests, options)
    findings = select_findings(outcome.findings, args.select, args.ignore)
    result = report.Report(
        findings=tuple(findings),
        repo=Path.cwd(),
        files_checked=len(outcome.files),
        resources_checked=outcome.resources - outcome.skipped,
        strict=args.strict,
        show_info=args.show_info,
        summary=args.summary,
    )
    return _print(result, args.format)


def _progress(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return lambda _message: None

    def show(message: str) -> None:
        print(f"\r\033[Kmcg-gen: {message}", end="", file=sys.stderr, flush=True)

    return show
