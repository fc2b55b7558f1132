"""The Helm adapter: real charts rendered by the real Helm SDK in its worker process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.bundled import charts_dir
from generator.errors import McgError
from generator.helm import HelmError, HelmWorker, lint_chart, render_chart

# Enough for any real chart, small enough that a runaway template dies in a fraction of a second.
SMALL_MEMORY = 1024**3


def make_chart(root: Path, templates: dict[str, str], values: str = "") -> Path:
    chart = root / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    for name, text in templates.items():
        (chart / "templates" / name).write_text(text)
    return chart


@pytest.fixture(scope="module")
def worker() -> Iterator[HelmWorker]:
    with HelmWorker(memory_bytes=SMALL_MEMORY) as helm:
        yield helm


CONFIG_MAPS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
data:
  greeting: {{ .Values.greeting | quote }}
---
# a second object, further down
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
"""


def test_render_returns_objects_with_their_template_and_line(
    tmp_path: Path, worker: HelmWorker
) -> None:
    chart = make_chart(tmp_path, {"maps.yaml": CONFIG_MAPS, "_helpers.tpl": "{{/* x */}}"})
    docs = worker.render(chart, {"greeting": "hi"}, release="rel", namespace="ns")
    assert [(d.template, d.line, d.body["metadata"]["name"]) for d in docs] == [
        ("templates/maps.yaml", 1, "rel"),
        ("templates/maps.yaml", 10, "second"),
    ]
    assert docs[0].body["metadata"]["namespace"] == "ns"
    assert docs[0].body["data"] == {"greeting": "hi"}


def test_a_template_error_names_the_template_file_and_line(
    tmp_path: Path, worker: HelmWorker
) -> None:
    chart = make_chart(tmp_path, {"broken.yaml": "a: 1\nb: {{ .Values.missing.deeper }}\n"})
    with pytest.raises(McgError) as caught:
        worker.render(chart, {}, release="r", namespace="n")
    error = caught.value
    assert error.location is not None
    assert error.location.file == str(chart / "templates" / "broken.yaml")
    assert error.location.line == 2
    assert "templates/broken.yaml" in error.message
    assert "deeper" in error.message


def test_fail_in_a_template_is_reported_with_its_message(
    tmp_path: Path, worker: HelmWorker
) -> None:
    chart = make_chart(tmp_path, {"guard.yaml": '{{ fail "group name too long" }}\n'})
    with pytest.raises(McgError, match="group name too long") as caught:
        worker.render(chart, {}, release="r", namespace="n")
    assert caught.value.location is not None
    assert caught.value.location.line == 1


def test_a_recursive_tpl_kills_only_the_worker_which_comes_back(
    tmp_path: Path, worker: HelmWorker
) -> None:
    runaway = make_chart(
        tmp_path,
        {"loop.yaml": "x: {{ tpl .Values.x . }}\n"},
        values='x: "{{ tpl .Values.x . }}"\n',
    )
    with pytest.raises(HelmError, match="crashed while rendering chart 'demo'") as caught:
        worker.render(runaway, {}, release="r", namespace="n")
    assert "recurses" in caught.value.hint
    healthy = make_chart(tmp_path / "again", {"maps.yaml": CONFIG_MAPS})
    assert len(worker.render(healthy, {"greeting": "hi"}, release="r", namespace="n")) == 2


def test_files_outside_the_chart_cannot_be_read(tmp_path: Path, worker: HelmWorker) -> None:
    (tmp_path / "secret.txt").write_text("top secret")
    chart = make_chart(
        tmp_path,
        {
            "peek.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: peek\ndata:\n"
                '  up: {{ .Files.Get "../secret.txt" | quote }}\n'
                f'  absolute: {{{{ .Files.Get "{tmp_path}/secret.txt" | quote }}}}\n'
                '  inside: {{ .Files.Get "files/own.txt" | quote }}\n'
            )
        },
    )
    (chart / "files").mkdir()
    (chart / "files" / "own.txt").write_text("mine")
    [doc] = worker.render(chart, {}, release="r", namespace="n")
    assert doc.body["data"] == {"up": "", "absolute": "", "inside": "mine"}


def test_a_chart_with_a_symlink_out_of_it_is_refused(tmp_path: Path, worker: HelmWorker) -> None:
    (tmp_path / "secret.txt").write_text("top secret")
    chart = make_chart(tmp_path, {"peek.yaml": 'x: {{ .Files.Get "files/link.txt" | quote }}\n'})
    (chart / "files").mkdir()
    (chart / "files" / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(McgError, match="symlink that leaves the chart") as caught:
        worker.render(chart, {}, release="r", namespace="n")
    assert caught.value.location is not None
    assert caught.value.location.file.endswith("files/link.txt")


def test_values_that_break_the_chart_schema_are_reported(
    tmp_path: Path, worker: HelmWorker
) -> None:
    chart = make_chart(tmp_path, {"maps.yaml": CONFIG_MAPS})
    (chart / "values.schema.json").write_text(
        '{"type": "object", "properties": {"greeting": {"type": "string"}}}'
    )
    with pytest.raises(McgError, match="schema") as caught:
        worker.render(chart, {"greeting": 42}, release="r", namespace="n")
    assert caught.value.location is not None
    assert caught.value.location.file.endswith("values.schema.json")


def test_a_template_that_renders_a_non_object_is_an_error(
    tmp_path: Path, worker: HelmWorker
) -> None:
    chart = make_chart(tmp_path, {"list.yaml": "- just\n- a list\n"})
    with pytest.raises(McgError, match="not a Kubernetes object"):
        worker.render(chart, {}, release="r", namespace="n")


def test_module_level_helpers_share_one_worker(tmp_path: Path) -> None:
    chart = make_chart(tmp_path, {"maps.yaml": CONFIG_MAPS})
    docs = render_chart(chart, {"greeting": "x"}, release="a", namespace="b")
    assert docs[0].body["metadata"] == {"name": "a", "namespace": "b"}
    severities = {m.severity for m in lint_chart(chart, {})}
    assert "error" not in severities


def test_lint_reports_a_broken_chart(tmp_path: Path) -> None:
    chart = make_chart(tmp_path, {"broken.yaml": "a: {{ .Values.x.y }}\n"})
    messages = lint_chart(chart, {})
    assert any(m.severity == "error" and "broken.yaml" in m.message for m in messages)


HUB_VALUES = {
    "global": {"hubClusterDomain": "apps.hub.example.com", "clusterDomain": "hub.example.com"},
    "clusterGroup": {"name": "hub", "managedClusterGroups": {"edge": {"name": "edge"}}},
}


@pytest.mark.parametrize("values", [{}, HUB_VALUES], ids=["defaults", "hub"])
@pytest.mark.parametrize("name", ["clustergroup", "acm", "secretstore"])
def test_base_charts_lint_clean(name: str, values: dict[str, Any]) -> None:
    messages = lint_chart(charts_dir() / name, values)
    assert [m for m in messages if m.severity in ("warning", "error")] == []
