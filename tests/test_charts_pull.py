"""`mcg-gen charts pull` against a Helm repository served on 127.0.0.1 (index.yaml and chart
archives this test builds), then `render` and `validate` offline with the cached real charts;
hostile archives are refused."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import shutil
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT, REFERENCE, Result

FIXTURE = PROJECT / "tests/fixtures/reference-mcg"

# A clustergroup chart of our own: an Application per `clusterGroup.applications` entry, and a
# ConfigMap that says which version rendered it.
CLUSTERGROUP_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: clustergroup-marker
  namespace: {{ .Release.Namespace }}
data:
  version: {{ .Chart.Version | quote }}
{{- range $key, $app := .Values.clusterGroup.applications }}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ $app.name }}
  namespace: {{ $.Release.Namespace }}
spec:
  project: default
  destination:
    name: in-cluster
    namespace: {{ $app.namespace }}
  source:
    repoURL: {{ $app.repoURL }}
    chart: {{ $app.chart }}
    targetRevision: {{ $app.chartVersion | quote }}
{{- end }}
"""
DEMO_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo-marker
data:
  version: {{ .Chart.Version | quote }}
"""
VERSIONS = {"clustergroup": ["0.9.1", "0.9.7", "0.10.0"], "demo": ["1.0.0", "1.2.0", "2.0.0"]}
TEMPLATES = {"clustergroup": CLUSTERGROUP_TEMPLATE, "demo": DEMO_TEMPLATE}


def add_file(bundle: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    bundle.addfile(member, io.BytesIO(data))


def chart_archive(name: str, version: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        chart_yaml = f"apiVersion: v2\nname: {name}\nversion: {version}\n"
        add_file(bundle, f"{name}/Chart.yaml", chart_yaml.encode())
        add_file(bundle, f"{name}/templates/all.yaml", TEMPLATES[name].encode())
    return buffer.getvalue()


class HelmRepository:
    """A Helm repository over plain HTTP on 127.0.0.1, serving what the test put in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.entries: dict[str, list[dict[str, object]]] = {}
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, name: str, version: str, archive: bytes) -> None:
        file = f"{name}-{version}.tgz"
        (self.folder / file).write_bytes(archive)
        self.entries.setdefault(name, []).append(
            {
                "apiVersion": "v2",
                "name": name,
                "version": version,
                "urls": [f"{self.url}/{file}"],
                "digest": hashlib.sha256(archive).hexdigest(),
            }
        )
        index = {"apiVersion": "v1", "entries": self.entries}
        (self.folder / "index.yaml").write_text(yaml.safe_dump(index))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own: cached real charts must not reach the other tests."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MCG_GEN_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def helm_repo(tmp_path: Path) -> Iterator[HelmRepository]:
    served = tmp_path / "served"
    served.mkdir()
    repository = HelmRepository(served)
    for name, versions in VERSIONS.items():
        for version in versions:
            repository.publish(name, version, chart_archive(name, version))
    yield repository
    repository.stop()


def pattern_repo(root: Path, helm_url: str, *, chart: str = "demo", version: str = "1.*") -> Path:
    root.mkdir()
    (root / "values-global.yaml").write_text(
        "global:\n  pattern: pulled\nmain:\n  clusterGroupName: hub\n  multiSourceConfig:\n"
        f"    enabled: true\n    clusterGroupChartVersion: 0.9.*\n    helmRepoUrl: {helm_url}\n"
    )
    (root / "values-hub.yaml").write_text(
        "clusterGroup:\n  name: hub\n  namespaces: [demo]\n  applications:\n    demo:\n"
        f"      name: demo\n      namespace: demo\n      chart: {chart}\n"
        f"      chartVersion: '{version}'\n      repoURL: {helm_url}\n"
    )
    return root


def markers(render_output: str) -> dict[str, str]:
    documents = [d for d in yaml.safe_load_all(render_output) if d]
    return {
        d["metadata"]["name"]: d["data"]["version"] for d in documents if d["kind"] == "ConfigMap"
    }


def test_pull_resolves_constraints_like_helm_and_render_then_works_offline(
    tmp_path: Path, cache_dir: Path, helm_repo: HelmRepository, cli: Callable[..., Result]
) -> None:
    repo = pattern_repo(tmp_path / "repo", helm_repo.url)
    pulled = cli("charts", "pull", str(repo))
    assert pulled.code == 0, pulled.err
    assert f"pulled   clustergroup 0.9.* from {helm_repo.url}: 0.9.7" in pulled.out
    assert f"pulled   demo 1.* from {helm_repo.url}: 1.2.0" in pulled.out
    helm_repo.stop()  # from here on, nothing can be downloaded

    rendered = cli("render", str(repo), "-g", "hub", "--apps")
    assert rendered.code == 0, rendered.err
    assert markers(rendered.out) == {"clustergroup-marker": "0.9.7", "demo-marker": "1.2.0"}
    assert "# Chart: clustergroup 0.9.7 (cache)" in rendered.out
    assert "# Chart: demo 1.2.0 (cache)" in rendered.out
    assert "bundled" not in rendered.err

    validated = cli("validate", str(repo), "--format", "json")
    rules = {finding["rule"] for finding in json.loads(validated.out)["findings"]}
    assert "chart/not-rendered" not in rules

    again = cli("charts", "pull", str(repo))  # offline: the earlier resolution is kept
    assert again.code == 0, again.err
    assert f"kept     clustergroup 0.9.* from {helm_repo.url}: 0.9.7" in again.out
    assert f"kept     demo 1.* from {helm_repo.url}: 1.2.0" in again.out


def test_an_exact_version_in_the_cache_is_not_downloaded_again(
    tmp_path: Path, cache_dir: Path, helm_repo: HelmRepository, cli: Callable[..., Result]
) -> None:
    repo = pattern_repo(tmp_path / "repo", helm_repo.url, version="2.0.0")
    assert cli("charts", "pull", str(repo)).code == 0
    helm_repo.stop()
    again = cli("charts", "pull", str(repo))
    assert again.code == 0, again.err
    assert f"cached   demo 2.0.0 from {helm_repo.url}: 2.0.0" in again.out


def test_without_real_charts_render_says_so_in_one_line(
    tmp_path: Path, cache_dir: Path, helm_repo: HelmRepository, cli: Callable[..., Result]
) -> None:
    repo = pattern_repo(tmp_path / "repo", helm_repo.url)
    rendered = cli("render", str(repo), "-g", "hub", "--apps")
    assert rendered.code == 0, rendered.err
    bundled = [line for line in rendered.err.splitlines() if "bundled models" in line]
    assert len(bundled) == 1
    assert f"clustergroup 0.9.* from {helm_repo.url}" in bundled[0]
    assert "# Chart: clustergroup " in rendered.out and "(bundled)" in rendered.out
    assert "demo-marker" not in rendered.out  # a remote chart nobody pulled is not rendered
    validated = cli("validate", str(repo), "--format", "json")
    rules = {finding["rule"] for finding in json.loads(validated.out)["findings"]}
    assert "chart/not-rendered" in rules


def test_chart_dir_copies_come_before_the_cache(
    tmp_path: Path, cache_dir: Path, helm_repo: HelmRepository, cli: Callable[..., Result]
) -> None:
    repo = pattern_repo(tmp_path / "repo", helm_repo.url)
    assert cli("charts", "pull", str(repo)).code == 0
    copies = tmp_path / "air-gapped"
    with tarfile.open(fileobj=io.BytesIO(chart_archive("clustergroup", "0.9.1"))) as bundle:
        bundle.extractall(copies, filter="data")
    rendered = cli("render", str(repo), "-g", "hub", "--chart-dir", str(copies))
    assert rendered.code == 0, rendered.err
    assert "# Chart: clustergroup 0.9.1 (chart-dir)" in rendered.out
    assert markers(rendered.out)["clustergroup-marker"] == "0.9.1"


def hostile_archive(kind: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        chart_name = b"other" if kind == "other-chart" else b"evil"
        add_file(
            bundle, "evil/Chart.yaml", b"apiVersion: v2\nname: %s\nversion: 1.0.0\n" % chart_name
        )
        if kind == "traversal":
            add_file(bundle, "evil/../../escaped.txt", b"outside")
        elif kind == "absolute":
            add_file(bundle, "/tmp/mcg-gen-absolute-escape.txt", b"outside")
        elif kind == "symlink":
            link = tarfile.TarInfo("evil/templates/link.yaml")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            bundle.addfile(link)
        elif kind == "hardlink":
            link = tarfile.TarInfo("evil/templates/hard.yaml")
            link.type = tarfile.LNKTYPE
            link.linkname = "evil/Chart.yaml"
            bundle.addfile(link)
        elif kind == "huge":  # compresses to little, unpacks beyond Helm's own chart limit
            member = tarfile.TarInfo("evil/templates/huge.yaml")
            member.size = 101 * 1024 * 1024
            bundle.addfile(member, _Zeros(member.size))
    return buffer.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        count = self.left if size < 0 else min(size, self.left)
        self.left -= count
        return b"\0" * count


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("traversal", "holds 'evil/../../escaped.txt', outside the chart's folder"),
        ("absolute", "outside the chart's folder"),
        ("symlink", "holds 'evil/templates/link.yaml', which is a link or device"),
        ("hardlink", "holds 'evil/templates/hard.yaml', which is a link or device"),
        ("huge", "unpacks to more than 104,857,600 bytes"),
        ("other-chart", "holds chart 'other' version '1.0.0'"),
    ],
)
def test_hostile_archives_are_refused(
    tmp_path: Path,
    cache_dir: Path,
    helm_repo: HelmRepository,
    cli: Callable[..., Result],
    kind: str,
    reason: str,
) -> None:
    helm_repo.publish("evil", "1.0.0", hostile_archive(kind))
    repo = pattern_repo(tmp_path / "repo", helm_repo.url, chart="evil", version="1.0.0")
    pulled = cli("charts", "pull", str(repo))
    assert pulled.code == 1
    assert f"error    evil 1.0.0 from {helm_repo.url}: " in pulled.err
    assert reason in pulled.err
    assert "Traceback" not in pulled.err
    assert not list(cache_dir.rglob("escaped.txt"))
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/tmp/mcg-gen-absolute-escape.txt").exists()
    assert not list(cache_dir.glob("charts/*/evil"))  # nothing of it is kept
    assert cli("render", str(repo), "-g", "hub").code == 0


def test_a_repository_that_cannot_be_reached_is_an_error_not_a_traceback(
    tmp_path: Path, cache_dir: Path, helm_repo: HelmRepository, cli: Callable[..., Result]
) -> None:
    url = helm_repo.url
    helm_repo.stop()
    repo = pattern_repo(tmp_path / "repo", url)
    pulled = cli("charts", "pull", str(repo), "--timeout", "60")
    assert pulled.code == 1
    assert f"error    clustergroup 0.9.* from {url}: the download failed" in pulled.err
    assert "Traceback" not in pulled.err


def test_only_helm_repositories_are_fetched(
    tmp_path: Path, cache_dir: Path, cli: Callable[..., Result]
) -> None:
    repo = pattern_repo(tmp_path / "repo", "file:///etc")
    pulled = cli("charts", "pull", str(repo))
    assert pulled.code == 1
    assert "skipped  clustergroup 0.9.* from file:///etc: not an http(s) or oci://" in pulled.err


UPSTREAM_CLUSTERGROUP = REFERENCE / "charts" / "clustergroup"


def packaged(folder: Path, name: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        bundle.add(folder, arcname=name)
    return buffer.getvalue()


@pytest.mark.skipif(
    not UPSTREAM_CLUSTERGROUP.is_dir(), reason="needs ../shared/reference/charts/clustergroup"
)
def test_the_real_upstream_clustergroup_chart_renders_from_the_cache_with_the_chain(
    tmp_path: Path, cache_dir: Path, helm_repo: HelmRepository, cli: Callable[..., Result]
) -> None:
    version = yaml.safe_load((UPSTREAM_CLUSTERGROUP / "Chart.yaml").read_text())["version"]
    helm_repo.publish("clustergroup", version, packaged(UPSTREAM_CLUSTERGROUP, "clustergroup"))
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    with (repo / "values-global.yaml").open("a") as values_global:
        values_global.write(f"    clusterGroupChartVersion: {version}\n")
        values_global.write(f"    helmRepoUrl: {helm_repo.url}\n")
    (repo / "values-4.18-hub.yaml").write_text(
        "clusterGroup:\n  subscriptions:\n    acm:\n      channel: release-2.12\n"
    )
    pulled = cli("charts", "pull", str(repo))
    assert f"pulled   clustergroup {version} from {helm_repo.url}: {version}" in pulled.out
    helm_repo.stop()
    rendered = cli("render", str(repo), "-g", "hub", "--version", "4.18")
    assert rendered.code == 0, rendered.err
    assert f"# Chart: clustergroup {version} (cache)" in rendered.out
    documents = [d for d in yaml.safe_load_all(rendered.out) if d]
    (subscription,) = [
        d
        for d in documents
        if d["kind"] == "Subscription" and d["metadata"]["name"] == "advanced-cluster-management"
    ]
    assert subscription["spec"]["channel"] == "release-2.12"
    (hub_app,) = [
        d for d in documents if d["kind"] == "Application" and d["metadata"]["name"] == "acm"
    ]
    sources = hub_app["spec"].get("sources") or [hub_app["spec"]["source"]]
    value_files = [
        file for source in sources for file in (source.get("helm") or {}).get("valueFiles", [])
    ]
    assert any(file.endswith("/values-4.18-hub.yaml") for file in value_files)
