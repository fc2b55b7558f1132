"""`mcg-gen charts pull`: download the real charts a repository pins, for offline rendering."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.commands import (
    add_fact_arguments,
    add_repo_argument,
    add_timeout_argument,
    facts_from_args,
    repository_folder,
)
from generator.errors import EXIT_INVALID, EXIT_OK, McgError

if TYPE_CHECKING:
    from generator.chartcache import ChartPin
    from generator.helm import HelmWorker

EPILOG = """\
examples:
  mcg-gen charts pull                   the charts this repository pins, into the cache
  mcg-gen charts pull path/to/repo      ... of a repository in another folder
  mcg-gen charts pull --timeout 120     give up on downloads after two minutes

What is pulled: the clustergroup chart the patterns operator deploys
(main.multiSourceConfig.clusterGroupChartVersion from main.multiSourceConfig.helmRepoUrl in
values-global.yaml; defaults 0.9.* from https://charts.validatedpatterns.io/), and the chart of
every Application of every cluster group that names one (chart, chartVersion, repoURL), as the
clustergroup chart renders them. Version constraints (0.9.*, ~0.2.0, >=1.0 <2) are resolved by
Helm against the repository's index.yaml, as Argo CD resolves them.

This is the only mcg-gen command that uses the network, and only for these downloads. The
charts go to the cache ($MCG_GEN_CACHE_DIR, else $XDG_CACHE_HOME/mcg-gen, else
~/.cache/mcg-gen, under charts/); 'render' and 'validate' then use them offline, before
mcg-gen's bundled models. An exact version already cached is not downloaded again; when a
repository cannot be reached, a chart cached by an earlier pull is kept and said so. Archives
are checked before they are unpacked: regular files below the chart's folder only, bounded in
size. Air-gapped: copy the charts to a folder and pass --chart-dir DIR to render and validate.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "charts",
        help="download the real charts a repository pins (the only network command)",
        description="Work with the real Helm charts a pattern repository uses.",
    )
    actions = parser.add_subparsers(dest="charts_action", metavar="ACTION", required=True)
    pull = actions.add_parser(
        "pull",
        help="download every chart version the repository pins into the cache",
        description="Download, with embedded Helm, every chart version the repository pins "
        "into mcg-gen's cache, so that render and validate use the real charts offline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_repo_argument(pull)
    add_fact_arguments(pull)
    add_timeout_argument(pull)
    pull.set_defaults(run=run_pull)


def run_pull(args: argparse.Namespace) -> int:
    from generator import chartcache
    from generator.helm import HelmWorker
    from generator.model.values import load_values_repo
    from generator.render import application_pins, clustergroup_pin

    repo = repository_folder(args.repo)
    values = load_values_repo(repo)
    facts = facts_from_args(args)
    chartcache.charts_root().mkdir(parents=True, exist_ok=True)
    failed = 0
    seen: set[ChartPin] = set()
    with (
        tempfile.TemporaryDirectory(dir=chartcache.charts_root(), prefix=".helm-") as helm_home,
        HelmWorker(file_bytes=chartcache.MAX_DOWNLOAD_BYTES, helm_home=Path(helm_home)) as helm,
    ):
        helm.limit(time.time() + args.timeout, run_timeout=args.timeout)
        groups = sorted(values.groups, key=lambda name: (name != values.hub_name, name))
        for group in groups:
            # the clustergroup chart first: the real one, once cached, renders the others
            clustergroup = clustergroup_pin(values, group, facts)
            wanted = [clustergroup] if clustergroup else []
            for pin in [*wanted, *application_pins(values, group, facts, helm=helm)]:
                if pin not in seen:
                    seen.add(pin)
                    failed += not _pull(helm, pin, Path(helm_home))
    if not seen:
        print("nothing to pull: no cluster group names a chart of a Helm repository")
    return EXIT_INVALID if failed else EXIT_OK


def _pull(helm: HelmWorker, pin: ChartPin, scratch: Path) -> bool:
    """Fetch one chart into the cache unless it is there; say what happened. False when there
    is no chart for it afterwards."""
    from generator import chartcache

    cached = chartcache.find(pin)
    if cached is not None and cached.version == pin.version:
        print(f"cached   {pin}: {cached.version}")
        return True
    if not chartcache.is_helm_repository(pin.repo_url):
        print(f"skipped  {pin}: not an http(s) or oci:// Helm repository", file=sys.stderr)
        return cached is not None
    try:
        with tempfile.TemporaryDirectory(dir=scratch) as download:
            archive = helm.pull(
                pin.name, repo_url=pin.repo_url, version=pin.version, destination=Path(download)
            )
            stored = chartcache.store(pin, archive)
    except McgError as error:
        if cached is not None:
            print(f"kept     {pin}: {cached.version}, cached earlier ({error.message})")
            return True
        hint = f"\n  hint: {error.hint}" if error.hint else ""
        print(f"error    {pin}: {error.message}{hint}", file=sys.stderr)
        return False
    print(f"pulled   {pin}: {stored.version}")
    return True
