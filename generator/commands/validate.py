"""`mcg-gen validate`: the pre-commit hook and CI gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from generator.commands import (
    add_fact_arguments,
    add_repo_argument,
    add_timeout_argument,
    facts_from_args,
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

Layers: YAML, the spec (pattern.yaml), values files and the secret template, charts (helm lint and
a real Helm render of every cluster group and local app), every rendered resource against
Kubernetes and CRD schemas (offline, strict), and the links between files. 'mcg-gen rules' lists
every rule. Exit status: 0 clean, 1 findings (errors; warnings too with --strict), 2 usage error.
"""


def _rules(text: str) -> list[str]:
    return [rule.strip() for rule in text.split(",") if rule.strip()]


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
        type=Path,
        default=[],
        metavar="DIR",
        help="more schemas in {group}/{kind}_{version}.json layout",
    )
    parser.add_argument(
        "--chart-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="local copies of remote charts, as DIR/<chart>/Chart.yaml",
    )
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

    repo: Path = args.repo
    if not repo.is_dir():
        raise UsageError(f"{repo} is not a folder")
    for folder in [*args.schema_location, *args.chart_dir]:
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder")
    options = Options(
        facts=facts_from_args(args),
        kubernetes_version=args.kubernetes_version,
        schema_locations=tuple(args.schema_location),
        chart_dirs=tuple(args.chart_dir),
        lint=not args.no_lint,
        timeout=args.timeout,
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
    )
    color = args.format == "text" and report.wants_color(sys.stdout)
    sys.stdout.write(report.render(result, args.format, color=color))
    return report.exit_code(result)


def _progress(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return lambda _message: None

    def show(message: str) -> None:
        print(f"\r\033[Kmcg-gen: {message}", end="", file=sys.stderr, flush=True)

    return show
