"""The floor of `mcg-gen validate`: what no validator of a pattern can avoid.

    python -m bench.floor REPOSITORY

One process renders, with embedded Helm through generator/helm.py (one Helm worker), every chart
each cluster group of the repository renders, once each (the clustergroup chart, then every chart
its Applications point at, with the values Argo CD would give it), and parses Helm's output with
PyYAML's C loader into plain data. Nothing is checked, cached or linted. Prints the number of
renders and objects as JSON; bench/run.py times it side by side with `mcg-gen validate`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from generator.helm import HelmWorker, RenderedDoc
from generator.model.facts import Facts
from generator.model.values import load_values_repo
from generator.render import render_charts


class CLoaderHelm(HelmWorker):
    """A Helm worker whose output is parsed by PyYAML's C loader, without positions or checks."""

    renders = 0

    def render(
        self, chart_dir: Path, values: Mapping[str, Any], *, release: str, namespace: str
    ) -> list[RenderedDoc]:
        self.renders += 1
        documents = []
        for template, text in self.render_manifests(
            chart_dir, values, release=release, namespace=namespace
        ):
            for body in yaml.load_all(text, Loader=yaml.CSafeLoader):
                if isinstance(body, dict):
                    documents.append(RenderedDoc(template, body, 1))
        return documents


def render_everything(repo: Path) -> dict[str, int]:
    values = load_values_repo(repo)
    objects = 0
    with CLoaderHelm() as helm:
        for group in values.groups:
            for rendered in render_charts(values, group, Facts(), apps=True, helm=helm):
                if rendered.error is not None:
                    raise rendered.error
                objects += len(rendered.resources)
        return {"renders": helm.renders, "objects": objects}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(render_everything(Path(arguments[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
