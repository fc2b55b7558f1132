"""One module per subcommand; each defines `register(subparsers)`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.model.facts import Facts

# Long enough for the largest patterns (30 groups x 30 apps validate in about 10 s cold), short
# enough that a hostile repository cannot hold a CI job or pre-commit hook for long.
DEFAULT_TIMEOUT_SECONDS = 600.0


def add_repo_argument(parser: argparse.ArgumentParser) -> None:
    """The optional repository folder every command that works on a repository takes."""
    parser.add_argument(
        "repo",
        nargs="?",
        default=".",
        type=Path,
        help="the repository (default: the current folder)",
    )


def repository_folder(repo: Path) -> Path:
    """The repository folder a command was given, refused clearly when it is not a folder."""
    if not repo.is_dir():
        from generator.errors import UsageError

        raise UsageError(f"no repository at {repo}", hint="pass the pattern repository's folder")
    return repo


def add_directory_option(parser: argparse.ArgumentParser) -> None:
    """`-C REPO`, for commands whose positional arguments are something else (as git's -C)."""
    parser.add_argument(
        "-C",
        dest="repo",
        type=Path,
        default=Path("."),
        help="the repository (default: the current folder)",
    )


def add_chart_dir_argument(parser: argparse.ArgumentParser) -> None:
    """Local copies of remote charts, for air-gapped runs (preferred to the charts-pull cache)."""
    parser.add_argument(
        "--chart-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="local copies of remote charts, as DIR/<chart>/Chart.yaml (repeatable); used "
        "before the charts 'mcg-gen charts pull' cached",
    )


def add_timeout_argument(parser: argparse.ArgumentParser) -> None:
    """One deadline for the whole run (rendering is where a hostile chart could loop)."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"stop rendering after this long; what is left is reported unchecked "
        f"(default {DEFAULT_TIMEOUT_SECONDS:g})",
    )


def add_fact_arguments(parser: argparse.ArgumentParser) -> None:
    """The cluster facts the patterns operator would inject, shared by render and validate."""
    parser.add_argument("--facts", type=Path, help="YAML file of cluster facts (global.* values)")
    parser.add_argument("--hub-domain", help="apps domain of the hub (apps.hub.example.com)")
    parser.add_argument("--platform", help="cluster platform (AWS, Azure, GCP, BareMetal, ...)")
    parser.add_argument(
        "--version", dest="cluster_version", help="OpenShift version, major.minor (4.16)"
    )
    parser.add_argument(
        "--cluster-name",
        help="name of the rendered cluster; selects values-<name>.yaml (default: the second "
        "label of its apps domain, as the operator derives it)",
    )
    parser.add_argument("--repo-url", help="Git URL of the pattern repository")
    parser.add_argument("--revision", help="branch, tag or commit of the pattern repository")


def facts_from_args(args: argparse.Namespace) -> Facts:
    """The facts file (if any) with the flags given on top."""
    import dataclasses

    from generator.model.facts import Facts, load_facts

    facts = load_facts(args.facts) if args.facts else Facts()
    overrides = {
        "hub_cluster_domain": args.hub_domain,
        "local_cluster_domain": getattr(args, "local_domain", None),
        "cluster_platform": args.platform,
        "cluster_version": args.cluster_version,
        "cluster_name": args.cluster_name,
        "repo_url": args.repo_url,
        "target_revision": args.revision,
    }
    return dataclasses.replace(facts, **{k: v for k, v in overrides.items() if v is not None})
