"""The lint screen against the real `helm lint`: for every chart, what `HelmWorker.lint` says
with the screen is exactly what Helm's lint says, and the screen answers alone only for charts
lint finds clean. Each dirty case below is one lint rule the screen must not wave through."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.helm import HelmWorker, LintMessage

CHART_YAML = "apiVersion: v2\nname: demo\ndescription: a demo\ntype: application\nversion: 0.1.0\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: value\n"
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: {{ .Values.image | quote }}
"""
SERVICE = (
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  ports:\n    - port: 80\n"
)
HELPERS = '{{- define "demo.labels" -}}\napp: {{ .Chart.Name }}\n{{- end }}\n'
SCHEMA = (
    '{"$schema": "https://json-schema.org/draft-07/schema#", "type": "object",'
    ' "properties": {"image": {"type": "string"}}}'
)

CLEAN = {
    "Chart.yaml": CHART_YAML,
    "values.yaml": "image: registry.example.com/web:1.0\n",
    "templates/_helpers.tpl": HELPERS,
    "templates/deployment.yaml": DEPLOYMENT,
    "templates/configmap.yaml": CONFIGMAP.format(name="{{ .Release.Name }}-config"),
    "templates/service.yaml": SERVICE.format(name="web"),
    "templates/NOTES.txt": "Installed {{ .Release.Name }}.\n",
}


def variant(**changes: str | None) -> dict[str, str]:
    """The clean chart with files replaced (a value) or removed (None); `__` stands for `/`."""
    files = dict(CLEAN)
    for key, text in changes.items():
        path = key.replace("__", "/")
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text
    return files


# Charts helm lint finds clean: the screen must answer them itself.
SCREENED = {
    "clean": variant(),
    "with a values schema": variant(**{"values.schema.json": SCHEMA}),
    "without values.yaml": variant(**{"values.yaml": None}),
    "empty values.yaml": variant(**{"values.yaml": ""}),
    "documents, comments and separators": variant(
        **{
            "templates__many.yaml": "# two maps\n---\n"
            + CONFIGMAP.format(name="one")
            + "--- # next\n"
            + CONFIGMAP.format(name="two.dotted")
            + "---\n"
        }
    ),
    "a template that renders nothing": variant(
        **{"templates__off.yaml": "{{- if .Values.missing }}\n" + CONFIGMAP + "{{- end }}\n"}
    ),
    "an icon": variant(
        **{"Chart.yaml": CHART_YAML + "icon: https://example.com/assets/logo.png\n"}
    ),
    "keywords, home and annotations": variant(
        **{
            "Chart.yaml": CHART_YAML
            + "appVersion: 1.2.3\nkeywords: [a, b]\nhome: https://example.com\n"
            "annotations:\n  category: demo\n"
        }
    ),
}

# Charts lint reports, or that the screen cannot judge: the real lint must answer them.
LINTED = {
    "deprecated API": variant(
        **{
            "templates__cron.yaml": "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n"
            "  name: nightly\n"
        }
    ),
    "Endpoints, deprecated in v1.33": variant(
        **{"templates__endpoints.yaml": "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: e\n"}
    ),
    "name not DNS-1123": variant(**{"templates__configmap.yaml": CONFIGMAP.format(name="Web_1")}),
    "dotted Service name": variant(**{"templates__service.yaml": SERVICE.format(name="a.b")}),
    "object without a name": variant(**{"templates__bare.yaml": "apiVersion: v1\nkind: List\n"}),
    "a document that is no object": variant(**{"templates__note.yaml": "just text\n"}),
    "indented document": variant(
        **{
            "templates__configmap.yaml": "\n  "
            + CONFIGMAP.format(name="x").replace("\n", "\n  ").rstrip()
            + "\n"
        }
    ),
    "Deployment without a selector": variant(
        **{"templates__deployment.yaml": DEPLOYMENT.replace("matchLabels", "labels")}
    ),
    "List with resource-policy": variant(
        **{
            "templates__list.yaml": "apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems:\n"
            "  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: c\n"
            "      annotations:\n        helm.sh/resource-policy: keep\n"
        }
    ),
    "broken YAML": variant(**{"templates__configmap.yaml": "data: [\n"}),
    "a null key": variant(
        **{"templates__configmap.yaml": CONFIGMAP.format(name="c") + "  ~: null-key\n"}
    ),
    "infinite float": variant(
        **{"templates__configmap.yaml": CONFIGMAP.format(name="c") + "spec:\n  x: .inf\n"}
    ),
    "bad document separator": variant(
        **{"templates__configmap.yaml": CONFIGMAP.format(name="a") + "--- more\nkind: x\n"}
    ),
    "metadata a list": variant(
        **{"templates__configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: []\n"}
    ),
    "a release field lint renders differently": variant(
        **{"templates__configmap.yaml": CONFIGMAP.format(name="{{ .Release.Namespace }}-c")}
    ),
    "a template extension lint refuses": variant(**{"templates__extra.json": "{}\n"}),
    "values that break the schema": variant(
        **{"values.schema.json": SCHEMA, "values.yaml": "image: 3\n"}
    ),
    "required value missing": variant(
        **{
            "templates__configmap.yaml": CONFIGMAP.format(
                name='{{ required "name!" .Values.name }}'
            )
        }
    ),
    "no version": variant(**{"Chart.yaml": CHART_YAML.replace("version: 0.1.0\n", "")}),
    "version not SemVer 2": variant(**{"Chart.yaml": CHART_YAML.replace("0.1.0", "1.0")}),
    "an icon that is no URL": variant(**{"Chart.yaml": CHART_YAML + "icon: not a url\n"}),
    "a maintainer without a name": variant(
        **{"Chart.yaml": CHART_YAML + "maintainers:\n  - email: a@example.com\n"}
    ),
    "an unknown Chart.yaml field": variant(**{"Chart.yaml": CHART_YAML + "colour: blue\n"}),
    "values.yaml a list": variant(**{"values.yaml": "- a\n"}),
    "a CRD that is not one": variant(
        **{"crds__thing.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"}
    ),
    "no templates folder": {"Chart.yaml": CHART_YAML},
}


def write_chart(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def worker() -> Iterator[HelmWorker]:
    with HelmWorker() as helm:
        yield helm


def lint_both(worker: HelmWorker, chart: Path) -> tuple[list[LintMessage], list[LintMessage], bool]:
    """(lint with the screen, Helm's lint, whether the screen answered alone)."""
    before = worker.screened_lints
    screened = worker.lint(chart, {})
    answered = worker.screened_lints > before
    return screened, worker.lint(chart, {}, screen=False), answered


@pytest.mark.parametrize("case", sorted(SCREENED))
def test_screen_answers_clean_charts_as_lint_does(
    case: str, worker: HelmWorker, tmp_path: Path
) -> None:
    screened, real, answered = lint_both(worker, write_chart(tmp_path / "demo", SCREENED[case]))
    assert screened == real
    assert answered, "the screen should have proved this chart clean"
    assert {message.severity for message in real} <= {"info"}


@pytest.mark.parametrize("case", sorted(LINTED))
def test_screen_leaves_what_lint_reports_to_lint(
    case: str, worker: HelmWorker, tmp_path: Path
) -> None:
    screened, real, answered = lint_both(worker, write_chart(tmp_path / "demo", LINTED[case]))
    assert not answered
    assert screened == real
    # each case is a mistake lint reports, so a screen that waved it through would differ
    assert any(message.severity in ("warning", "error") for message in real), real


FRAGMENTS = [
    CONFIGMAP.format(name="a"),
    CONFIGMAP.format(name="B"),
    CONFIGMAP.format(name="x.y"),
    SERVICE.format(name="svc"),
    SERVICE.format(name="1svc"),
    DEPLOYMENT,
    DEPLOYMENT.replace("matchLabels", "labels"),
    "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: c\n",
    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n",
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
    "# only a comment\n",
    "",
    "kind: ConfigMap\nmetadata:\n  name: k\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\ndata:\n  k: 1\n  k: 2\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n  k: !custom v\n",
    "  indented: true\n",
    "{{ if .Values.image }}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\n{{ end }}",
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    templates=st.lists(
        st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=3), min_size=1, max_size=4
    )
)
def test_screen_agrees_with_lint_on_composed_charts(
    templates: list[list[str]], worker: HelmWorker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = {"Chart.yaml": CHART_YAML, "values.yaml": "image: web\n"}
    for index, documents in enumerate(templates):
        files[f"templates/t{index}.yaml"] = "---\n".join(documents)
    chart = write_chart(tmp_path_factory.mktemp("composed") / "demo", files)
    screened, real, answered = lint_both(worker, chart)
    assert screened == real
    if answered:
        assert {message.severity for message in real} <= {"info"}
