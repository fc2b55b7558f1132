"""Validating or rendering an untrusted repository is safe: its charts cannot read files outside
the repository, reach the network, use a kubeconfig, run Helm plugins, download dependencies, or
hang or kill `mcg-gen`; a chart that crashes Helm becomes a finding."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Result, rewrite_keeping_size_and_time, tree
from tests.test_hostile_inputs import generate_base, run_limited

SECRET_TEXT = "outside-secret-4f1c9a"
APP_CHART = "charts/all/hello-world"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = generate_base(tmp_path_factory.mktemp("pristine"))
    return target


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the repository holding something a chart must never see."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET_TEXT)
    return folder


@pytest.fixture
def repo(pristine: Path, tmp_path: Path, outside: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(pristine, copy, symlinks=True)
    return copy


def add_template(repo: Path, name: str, body: str, chart: str = APP_CHART) -> None:
    (repo / chart / "templates" / name).write_text(body)


def config_map(name: str, data: dict[str, str]) -> str:
    lines = "".join(f"  {key}: {value}\n" for key, value in data.items())
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
        f"  namespace: hello-world\ndata:\n{lines}"
    )


def validate(repo: Path, env: dict[str, str] | None = None) -> tuple[Result, list[dict[str, Any]]]:
    result = run_limited("validate", str(repo), "--format", "json", env=env)
    assert result.code in (0, 1), result.err
    assert "Traceback" not in result.err
    return result, json.loads(result.out)["findings"]


def rendered_config_map(repo: Path, name: str, env: dict[str, str] | None = None) -> Any:
    result = run_limited("render", str(repo), "--group", "hub", "--apps", env=env)
    assert result.code == 0, result.err
    [found] = [
        document
        for document in yaml.safe_load_all(result.out)
        if document["kind"] == "ConfigMap" and document["metadata"]["name"] == name
    ]
    return found["data"]


def test_templates_cannot_read_files_outside_the_chart(repo: Path, outside: Path) -> None:
    add_template(
        repo,
        "peek.yaml",
        config_map(
            "peek",
            {
                "climb": '{{ .Files.Get "../../../../outside/secret.txt" | quote }}',
                "absolute": f'{{{{ .Files.Get "{outside}/secret.txt" | quote }}}}',
                "glob": '{{ len (.Files.Glob "../**") | quote }}',
                "own": '{{ .Files.Get "own.txt" | quote }}',
            },
        ),
    )
    (repo / APP_CHART / "own.txt").write_text("mine")
    data = rendered_config_map(repo, "peek")
    assert data["climb"] == data["absolute"] == ""
    assert data["glob"] == "0"
    assert data["own"] == "mine"  # a chart's own files are readable: the probe works
    result, _ = validate(repo)
    assert SECRET_TEXT not in result.out


def test_templates_cannot_resolve_host_names(repo: Path) -> None:
    """`localhost` resolves without a network; Helm answers "" only when DNS is switched off."""
    add_template(repo, "dns.yaml", config_map("dns", {"host": '{{ getHostByName "localhost" }}'}))
    assert rendered_config_map(repo, "dns") == {"host": None}


@contextlib.contextmanager
def tripwire_fifo(path: Path) -> Iterator[list[str]]:
    """A named pipe at `path`; what is yielded receives "opened" if anything opened it to read
    while the block ran (opening a pipe to read waits for a writer, which this is)."""
    os.mkfifo(path)
    done = threading.Event()
    events: list[str] = []

    def writer() -> None:
        with open(path, "w") as handle:  # returns once a reader has opened the pipe
            if not done.is_set():
                events.append("opened")
                handle.write("apiVersion: v1\nkind: Config\n")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield events
    finally:
        done.set()
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer go
        thread.join(timeout=10)


def test_no_kubeconfig_is_ever_read_and_lookup_finds_nothing(repo: Path, tmp_path: Path) -> None:
    add_template(
        repo,
        "lookup.yaml",
        config_map("lookup", {"found": '{{ lookup "v1" "Namespace" "" "" | toJson | quote }}'}),
    )
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    env = {"KUBECONFIG": str(tmp_path / "kubeconfig"), "HOME": str(home)}
    with (
        tripwire_fifo(tmp_path / "kubeconfig") as explicit,
        tripwire_fifo(home / ".kube" / "config") as default,
    ):
        assert rendered_config_map(repo, "lookup", env) == {"found": "{}"}
        validate(repo, env)
    assert explicit == default == []


def served_requests() -> tuple[http.server.HTTPServer, list[str]]:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, requests


def test_remote_dependencies_are_a_finding_never_a_download(repo: Path, tmp_path: Path) -> None:
    server, requests = served_requests()
    marker = tmp_path / "plugin-ran"
    plugins = tmp_path / "plugins" / "evil"
    plugins.mkdir(parents=True)
    (plugins / "plugin.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "evil",
                "version": "0.1.0",
                "command": f"touch {marker}",
                "downloaders": [{"command": f"touch {marker}", "protocols": ["evil"]}],
                "hooks": {"install": f"touch {marker}"},
            }
        )
    )
    chart = repo / APP_CHART / "Chart.yaml"
    metadata = yaml.safe_load(chart.read_text())
    metadata["dependencies"] = [
        {
            "name": "redis",
            "version": "1.0.0",
            "repository": f"http://127.0.0.1:{server.server_port}/c",
        },
        {"name": "other", "version": "1.0.0", "repository": "evil://charts"},
    ]
    chart.write_text(yaml.safe_dump(metadata))
    env = {"HELM_PLUGINS": str(tmp_path / "plugins")}
    try:
        result, findings = validate(repo, env)
        rendered = run_limited("render", str(repo), "--group", "hub", "--apps", env=env)
    finally:
        server.shutdown()
    # Argo CD downloads declared dependencies, so on a cluster this renders: not an error,
    # a chart mcg-gen could not render offline
    assert result.code == 0
    [finding] = [f for f in findings if f["file"] == f"{APP_CHART}/Chart.yaml"]
    assert (finding["rule"], finding["severity"]) == ("chart/not-rendered", "info")
    assert "redis (http://127.0.0.1" in finding["message"]
    assert "other (evil://charts)" in finding["message"]
    assert "mcg-gen does not" in finding["message"]
    assert "helm dependency build" in finding["hint"]
    assert rendered.code == 1
    assert "depends on charts it does not contain" in rendered.err
    assert requests == []
    assert not marker.exists()


def test_a_vendored_dependency_is_rendered(repo: Path) -> None:
    chart = repo / APP_CHART
    subchart = chart / "charts" / "sub"
    (subchart / "templates").mkdir(parents=True)
    (subchart / "Chart.yaml").write_text("apiVersion: v2\nname: sub\nversion: 1.0.0\n")
    (subchart / "templates" / "cm.yaml").write_text(config_map("from-sub", {"a": "b"}))
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
    metadata["dependencies"] = [{"name": "sub", "version": "1.0.0", "repository": "file://x"}]
    (chart / "Chart.yaml").write_text(yaml.safe_dump(metadata))
    assert rendered_config_map(repo, "from-sub") == {"a": "b"}


def test_a_chart_that_crashes_helm_is_a_finding_and_the_rest_is_validated(repo: Path) -> None:
    # on the hub only: each crash costs the worker seconds and gigabytes before Go gives up
    add_template(
        repo,
        "loop.yaml",
        '{{ if eq .Values.global.localClusterDomain "apps.hub.example.com" }}'
        "x: {{ tpl .Values.loop . }}{{ end }}\n",
    )
    values = repo / APP_CHART / "values.yaml"
    values.write_text(values.read_text() + 'loop: "{{ tpl .Values.loop . }}"\n')
    result, findings = validate(repo)
    assert result.code == 1
    [crash] = [f for f in findings if f["severity"] == "error"]
    assert crash["rule"] == "chart/render-crash"
    assert crash["file"] == APP_CHART
    assert "crashed while rendering chart 'hello-world'" in crash["message"]
    assert "recurses without end" in crash["hint"]
    assert json.loads(result.out)["summary"]["resources"] > 50  # every other chart was checked
    rendered = run_limited("render", str(repo), "--group", "hub", "--apps")
    assert rendered.code == 1
    assert rendered.err.startswith(f"mcg-gen: error: {repo / APP_CHART}: Helm crashed")
    assert "Traceback" not in rendered.err


def test_a_symlinked_chart_folder_is_refused(repo: Path, outside: Path) -> None:
    add_template(repo, "peek.yaml", config_map("peek", {"s": '{{ .Files.Get "../secret.txt" }}'}))
    shutil.move(repo / APP_CHART, outside / "chart")
    (repo / APP_CHART).symlink_to(outside / "chart")
    before = tree(outside)
    generated, generated_findings = validate(repo)
    # the generated files behind the link do not count as generate's: the spec is out of date
    assert "spec/out-of-date" in {f["rule"] for f in generated_findings}
    (repo / "pattern.yaml").unlink()  # hand-written
    result, findings = validate(repo)
    refusal = f"path '{APP_CHART}' is a symlink that leaves the pattern repository"
    for found in (generated_findings, findings):
        # one cause, one finding per application pointing there, not also a render error
        errors = [
            f
            for f in found
            if f["severity"] == "error"
            and APP_CHART in f["message"]
            and f["file"] != "pattern.yaml"
        ]
        assert {f["file"] for f in errors} == {"values-hub.yaml", "values-group-one.yaml"}
        assert {f["rule"] for f in errors} == {"links/app-path-missing"}
        assert all(refusal in f["message"] for f in errors)
    rendered = run_limited("render", str(repo), "--group", "hub", "--apps")
    assert rendered.code == 1
    assert f"path '{APP_CHART}' is a symlink that leaves the pattern repository" in rendered.err
    assert SECRET_TEXT not in result.out + rendered.out + rendered.err + generated.out
    assert tree(outside) == before


def test_a_symlink_inside_a_chart_pointing_out_is_refused(repo: Path, outside: Path) -> None:
    (repo / APP_CHART / "templates" / "stolen.yaml").symlink_to(outside / "secret.txt")
    result, findings = validate(repo)
    [error] = [f for f in findings if f["rule"] == "chart/render-error"]
    # validation names it by its absolute path (it resolves the link before relativising)
    assert error["file"].endswith(f"{APP_CHART}/templates/stolen.yaml")
    assert "symlink that leaves the chart" in error["message"]
    assert SECRET_TEXT not in result.out


@pytest.mark.parametrize("with_spec", [True, False], ids=["generated", "hand-written"])
def test_a_symlinked_values_file_is_refused(repo: Path, outside: Path, with_spec: bool) -> None:
    (outside / "values.yaml").write_text(f"clusterGroup:\n  name: hub\n  x: {SECRET_TEXT}\n")
    (repo / "values-hub.yaml").unlink()
    (repo / "values-hub.yaml").symlink_to(outside / "values.yaml")
    if not with_spec:
        (repo / "pattern.yaml").unlink()
    result = run_limited("validate", str(repo), "--format", "json")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert SECRET_TEXT not in result.out + result.err
    findings = json.loads(result.out)["findings"]
    assert {"path 'values-hub.yaml' is a symlink that leaves the pattern repository"} <= {
        f["message"] for f in findings
    }
    rendered = run_limited("render", str(repo), "--group", "hub")
    assert rendered.code == 1
    assert "'values-hub.yaml' is a symlink that leaves the pattern repository" in rendered.err
    assert SECRET_TEXT not in rendered.out + rendered.err


ESCAPING = [
    pytest.param("path", "../../outside", "path '../../outside' leaves", id="app-path-dotdot"),
    pytest.param("path", "charts/../../../x", "'charts/../../../x' leaves", id="app-path-hidden"),
    pytest.param("path", "/etc", "points at 'etc', which is not a chart", id="app-path-absolute"),
    pytest.param(
        "extraValueFiles", "/../../../etc/passwd", "'../../../etc/passwd' leaves", id="values-root"
    ),
    pytest.param(
        "extraValueFiles",
        "$patternref/../../etc/hosts",
        "'../../etc/hosts' leaves",
        id="values-ref",
    ),
    pytest.param(
        "extraValueFiles",
        "../../../../../etc/hosts",
        "'charts/all/hello-world/../../../../../etc/hosts' leaves",
        id="values-chart-relative",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), ESCAPING)
def test_application_paths_that_leave_the_repository(
    repo: Path, key: str, value: str, message: str
) -> None:
    """Hand-written values files (no pattern.yaml to regenerate them from)."""
    (repo / "pattern.yaml").unlink()
    values_file = repo / "values-hub.yaml"
    values = yaml.safe_load(values_file.read_text())
    application = values["clusterGroup"]["applications"]["hello-world"]
    application[key] = [value] if key == "extraValueFiles" else value
    values_file.write_text(yaml.safe_dump(values))
    rendered = run_limited("render", str(repo), "--group", "hub", "--apps")
    assert rendered.code == 1
    assert message in rendered.err
    assert "Traceback" not in rendered.err
    result, findings = validate(repo)
    assert result.code == 1
    refused = [f for f in findings if f["rule"].startswith("links/") and value in f["message"]]
    assert [f["file"] for f in refused] == ["values-hub.yaml"]
    if key == "path":  # one cause, one finding: the chart is not also a render error
        assert "chart/render-error" not in {f["rule"] for f in findings}
    else:  # rendering refuses to read the value file
        assert "chart/render-error" in {f["rule"] for f in findings}


def test_a_template_that_never_ends_is_stopped(repo: Path) -> None:
    """Ten billion empty loop turns: no memory grows, only time; the worker's clock stops it
    (validate uses the default limit, a minute; here two seconds) and the next render works."""
    from generator.helm import HelmCrashError, HelmWorker

    add_template(
        repo, "spin.yaml", "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n"
    )
    with HelmWorker(timeout=2) as worker:
        with pytest.raises(HelmCrashError, match="did not finish with chart 'hello-world'"):
            worker.render(repo / APP_CHART, {}, release="r", namespace="n")
        (repo / APP_CHART / "templates" / "spin.yaml").unlink()
        assert worker.render(repo / APP_CHART, {}, release="r", namespace="n")


def test_a_chart_that_hung_is_tried_again_after_any_edit(repo: Path) -> None:
    """The worker remembers a chart that hung by its files' fingerprint; an edit that keeps the
    file's size, inode and modification time (touch -r, cp -p, rsync) still makes it new."""
    from generator.helm import HelmCrashError, HelmWorker

    spin = "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n"
    add_template(repo, "spin.yaml", spin)
    template = repo / APP_CHART / "templates" / "spin.yaml"
    with HelmWorker(timeout=2) as worker:
        with pytest.raises(HelmCrashError, match="did not finish with chart 'hello-world'"):
            worker.render(repo / APP_CHART, {}, release="r", namespace="n")
        rewrite_keeping_size_and_time(template, spin, "{{/* " + "-" * (len(spin) - 11) + " */}}\n")
        assert worker.render(repo / APP_CHART, {}, release="r", namespace="n")


def test_a_named_pipe_in_a_chart_is_a_finding(repo: Path) -> None:
    os.mkfifo(repo / APP_CHART / "templates" / "pipe.yaml")
    result, findings = validate(repo)
    assert result.code == 1
    [error] = [f for f in findings if f["rule"] == "chart/render-error"]
    assert error["file"] == f"{APP_CHART}/templates/pipe.yaml"
    assert "contains a named pipe, socket or device" in error["message"]


def test_a_decompression_bomb_among_the_subcharts_is_a_finding(repo: Path, tmp_path: Path) -> None:
    """A 120 MB template packed into a small .tgz: Helm stops unpacking at its size limit."""
    import io
    import tarfile

    buffer = io.BytesIO()
    meta = b"apiVersion: v2\nname: sub\nversion: 1.0.0\n"
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        entry = tarfile.TarInfo("sub/Chart.yaml")
        entry.size = len(meta)
        archive.addfile(entry, io.BytesIO(meta))
        entry = tarfile.TarInfo("sub/templates/zero.yaml")
        entry.size = 120 * 1024**2
        archive.addfile(entry, _Zeros(entry.size))  # type: ignore[arg-type]
    chart = repo / APP_CHART
    (chart / "charts").mkdir()
    (chart / "charts" / "sub-1.0.0.tgz").write_bytes(buffer.getvalue())
    assert len(buffer.getvalue()) < 1024**2
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
    metadata["dependencies"] = [{"name": "sub", "version": "1.0.0", "repository": "file://x"}]
    (chart / "Chart.yaml").write_text(yaml.safe_dump(metadata))
    result, findings = validate(repo)
    assert result.code == 1
    [error] = [f for f in findings if f["rule"] == "chart/render-error"]
    assert "decompressed chart is larger than the maximum size" in error["message"]


class _Zeros:
    """A file-like object of `size` zero bytes, made on demand."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, count: int = -1) -> bytes:
        count = self.left if count < 0 else min(count, self.left)
        self.left -= count
        return bytes(count)
