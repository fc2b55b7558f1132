"""The validation cache never hides a change, and parallel rendering finds what serial does."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import cache
from generator.validate import groups as group_checks
from tests.conftest import Result, rewrite_keeping_size_and_time, run_subprocess


def findings_of(cli: Callable[..., Result], repo: Path, *args: str) -> list[dict[str, Any]]:
    result = cli("validate", str(repo), "--format", "json", *args)
    assert result.code in (0, 1), result.err
    findings: list[dict[str, Any]] = json.loads(result.out)["findings"]
    return findings


def errors(findings: list[dict[str, Any]]) -> set[str]:
    return {f["rule"] for f in findings if f["severity"] == "error"}


@pytest.fixture
def repo(
    example_repo: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("MCG_GEN_CACHE_DIR", str(tmp_path / "cache"))
    return example_repo("multicloud-gitops")


def age(repo: Path, seconds: float = 10) -> None:
    """Files written a moment ago are too young to trust their times (see cache.RACY_NS): the
    first run would then not record the repository's fingerprint."""
    past = os.stat(repo).st_mtime - seconds
    for path in repo.rglob("*"):
        os.utime(path, (past, past), follow_symlinks=False)
    settle()


def settle() -> None:
    """Let the change times that utime just set (no one can set those back) grow old enough."""
    time.sleep(2 * cache.RACY_NS / 1e9)


def test_second_run_is_served_from_the_cache(repo: Path, cli: Any, tmp_path: Path) -> None:
    age(repo)
    first = findings_of(cli, repo)
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert entries, "the first run stores its results"
    mtimes = {path: path.stat().st_mtime_ns for path in entries}
    assert findings_of(cli, repo) == first
    assert {path: path.stat().st_mtime_ns for path in entries} == mtimes  # nothing recomputed


def test_mcg_gens_working_folders_are_not_part_of_the_answer(repo: Path, cli: Any) -> None:
    """validate reads nothing in .mcg-gen/base (generate's merge bases, half the files of a
    generated repository): a change there leaves the last answer standing, while a change to
    the state file beside it does not."""
    age(repo)
    first = findings_of(cli, repo)
    whole = cache.Cache(repo)._path("whole")  # the entry of a whole run's answer
    stored = whole.stat().st_mtime_ns
    base = repo / ".mcg-gen/base/values-hub.yaml"
    base.write_text(base.read_text() + "# an edit of a merge base\n")
    settle()
    assert findings_of(cli, repo) == first
    assert whole.stat().st_mtime_ns == stored  # answered whole, nothing computed again
    state = repo / ".mcg-gen/state.json"
    state.write_text(state.read_text() + "\n")
    settle()
    assert findings_of(cli, repo) == first
    assert whole.stat().st_mtime_ns != stored


def test_no_cache_neither_reads_nor_writes(repo: Path, cli: Any, tmp_path: Path) -> None:
    findings_of(cli, repo, "--no-cache")
    assert not (tmp_path / "cache").exists()


def test_chart_edit_invalidates_the_groups_that_render_it(repo: Path, cli: Any) -> None:
    assert errors(findings_of(cli, repo)) == set()
    template = repo / "charts/all/hello-world/templates/service.yaml"
    template.write_text(template.read_text().replace("  ports:", "  ports: {{ .Values.nope.x }}"))
    assert "chart/render-error" in errors(findings_of(cli, repo))


def test_value_file_edit_invalidates(repo: Path, cli: Any) -> None:
    hub = repo / "values-hub.yaml"
    hub.write_text(
        hub.read_text().replace(
            "      path: charts/all/hello-world\n",
            "      path: charts/all/hello-world\n      extraValueFiles:\n        - /extra.yaml\n",
            1,
        )
    )
    (repo / "extra.yaml").write_text("replicas: 2\n")
    assert errors(findings_of(cli, repo)) == set()
    (repo / "extra.yaml").write_text("replicas: many\n")  # breaks the chart's values schema
    assert "chart/render-error" in errors(findings_of(cli, repo))


def test_global_values_edit_invalidates_every_group(repo: Path, cli: Any) -> None:
    assert errors(findings_of(cli, repo)) == set()
    global_values = repo / "values-global.yaml"
    global_values.write_text(global_values.read_text() + "  extraParameters: oops\n")
    assert errors(findings_of(cli, repo))


def test_spec_edit_is_seen(repo: Path, cli: Any) -> None:
    assert findings_of(cli, repo, "--select", "spec") == []
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("apps: [config-demo, hello-world]", "apps: [nope]", 1))
    assert [f["rule"] for f in findings_of(cli, repo, "--select", "spec")] == ["spec/invalid"]


def test_corrupt_cache_entries_are_ignored(repo: Path, cli: Any, tmp_path: Path) -> None:
    first = findings_of(cli, repo)
    for entry in (tmp_path / "cache").rglob("*.json"):
        entry.write_text("{not json")
    assert findings_of(cli, repo) == first


def test_parallel_and_serial_rendering_agree(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "spec.yaml"
    groups = "".join(f"  - name: edge-{i}\n    apps: [web, api]\n" for i in range(4))
    spec.write_text(
        "name: wide\ngit:\n  repoURL: https://git.example.com/wide.git\n"
        "hub:\n  apps: [web]\ngroups:\n"
        + groups
        + "apps:\n  web:\n    secrets: [token]\n  api: {}\n"
        "secrets:\n  token:\n    fields:\n      value: generate\n"
    )
    repo = tmp_path / "wide"
    assert cli("new", "wide", "--spec", str(spec), "--output", str(repo), "--no-git").code == 0
    template = repo / "charts/all/api/templates/service.yaml"
    template.write_text(template.read_text().replace("  ports:", "  ports: {{ .Values.nope.x }}"))
    parallel = findings_of(cli, repo, "--no-cache")
    monkeypatch.setattr(group_checks, "PARALLEL_FROM", 1000)
    monkeypatch.setattr(group_checks, "FORK_FROM_APPLICATIONS", 10**6)
    serial = findings_of(cli, repo, "--no-cache")
    assert parallel == serial
    assert "chart/render-error" in errors(serial)


def test_cache_location_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MCG_GEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == tmp_path / "xdg" / "mcg-gen"
    monkeypatch.setenv("MCG_GEN_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache.repository_cache(tmp_path).parent == tmp_path / "explicit"


def backdate(repo: Path, seconds: int) -> None:
    """Make every file look old enough for the cache to trust its time."""
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            stamp = path.stat().st_mtime - seconds
            os.utime(path, (stamp, stamp))
    settle()


def test_unchanged_repository_is_answered_whole_and_any_edit_is_seen(repo: Path, cli: Any) -> None:
    backdate(repo, 60)
    first = findings_of(cli, repo)
    assert findings_of(cli, repo) == first  # served by the whole-repository entry
    values = repo / "values-group-one.yaml"
    values.write_text(values.read_text().replace("name: hello-world", "nme: hello-world", 1))
    backdate(repo, 30)  # old again, but not the time the cache saw
    assert "values/unknown-key" in errors(findings_of(cli, repo))


def test_lint_results_kept_per_chart_follow_the_chart(repo: Path, cli: Any) -> None:
    chart = repo / "charts/all/hello-world/Chart.yaml"
    chart.write_text(chart.read_text().replace("apiVersion: v2", "apiVersion: v1"))
    linted = [f for f in findings_of(cli, repo) if f["rule"] == "chart/lint"]
    assert linted
    hub = repo / "values-hub.yaml"
    hub.write_text(hub.read_text() + "# every group using the chart renders again\n")
    assert [f for f in findings_of(cli, repo) if f["rule"] == "chart/lint"] == linted
    chart.write_text(chart.read_text().replace("apiVersion: v1", "apiVersion: v2"))
    assert not [f for f in findings_of(cli, repo) if f["rule"] == "chart/lint"]


def test_secrets_scan_kept_per_file_sees_each_file_change(repo: Path, cli: Any) -> None:
    def plaintext(findings: list[dict[str, Any]]) -> list[tuple[str, int]]:
        return [(f["file"], f["line"]) for f in findings if f["rule"] == "secrets/plaintext-value"]

    helpers = repo / "charts/all/hello-world/templates/_helpers.tpl"
    token = '{{/* token: "ghp_' + "a1B2" * 9 + '" */}}\n'
    helpers.write_text(helpers.read_text() + token)
    found = plaintext(findings_of(cli, repo))
    assert [file for file, _ in found] == ["charts/all/hello-world/templates/_helpers.tpl"]
    service = repo / "charts/all/hello-world/templates/service.yaml"
    service.write_text(token + service.read_text())
    assert plaintext(findings_of(cli, repo)) == sorted(
        [*found, ("charts/all/hello-world/templates/service.yaml", 1)]
    )
    helpers.write_text(helpers.read_text().replace(token, ""))
    assert plaintext(findings_of(cli, repo)) == [
        ("charts/all/hello-world/templates/service.yaml", 1)
    ]


def rewrite_keeping_times(path: Path, old: str, new: str) -> None:
    """`rewrite_keeping_size_and_time`, then old enough for the cache to go by the fingerprint."""
    rewrite_keeping_size_and_time(path, old, new)
    settle()  # not so recent that the cache distrusts it anyway: the fingerprint must tell


@pytest.mark.parametrize("other_edit", [False, True], ids=["alone", "with-another-edit"])
def test_spec_drift_is_found_when_size_and_time_are_kept(
    repo: Path, cli: Any, other_edit: bool
) -> None:
    """Alone, the edit may only be seen through the whole-repository fingerprint; with another
    file changed too, that entry misses and the per-file hashes must see it."""
    age(repo)
    assert findings_of(cli, repo, "--select", "spec") == []
    assert findings_of(cli, repo, "--select", "spec") == []  # served from the cache
    rewrite_keeping_times(repo / "pattern.yaml", "release-2.16", "release-2.15")
    if other_edit:
        readme = repo / "README.md"
        readme.write_text(readme.read_text() + "\nAn unrelated note.\n")
    found = findings_of(cli, repo, "--select", "spec")
    assert [f["rule"] for f in found] == ["spec/out-of-date"]


def test_values_edit_is_found_when_size_and_time_are_kept(repo: Path, cli: Any) -> None:
    age(repo)
    assert "values/unknown-key" not in errors(findings_of(cli, repo))
    rewrite_keeping_times(repo / "values-group-one.yaml", "name: hello", "nmae: hello")
    assert "values/unknown-key" in errors(findings_of(cli, repo))


def test_keys_read_by_templates_kept_per_file_follow_each_template(repo: Path, cli: Any) -> None:
    """A key no schema names is not unknown while a template of the repository reads it."""

    def unknown(findings: list[dict[str, Any]]) -> list[str]:
        return [f["file"] for f in findings if f["rule"] == "values/unknown-key"]

    hub = repo / "values-hub.yaml"
    hub.write_text(hub.read_text().replace("  name: hub\n", "  name: hub\n  nmae: x\n", 1))
    assert unknown(findings_of(cli, repo)) == ["values-hub.yaml"]
    service = repo / "charts/all/hello-world/templates/service.yaml"
    original = service.read_text()
    service.write_text("{{- /* .Values.clusterGroup.nmae */ -}}\n" + original)
    assert unknown(findings_of(cli, repo)) == []
    service.write_text(original)
    assert unknown(findings_of(cli, repo)) == ["values-hub.yaml"]


def test_keys_read_by_templates_answered_whole_see_a_template_kept_in_size_and_time(
    repo: Path, cli: Any
) -> None:
    """While no file of a template folder changed, the keys its templates read are one answer;
    a template rewritten with its size and modification time kept must change it (its change
    time tells). The hub file changes too, so that the run is not answered whole."""

    def unknown(findings: list[dict[str, Any]]) -> list[str]:
        return [f["file"] for f in findings if f["rule"] == "values/unknown-key"]

    hub = repo / "values-hub.yaml"
    hub.write_text(hub.read_text().replace("  name: hub\n", "  name: hub\n  nmae: x\n", 1))
    service = repo / "charts/all/hello-world/templates/service.yaml"
    service.write_text("{{- /* .Values.clusterGroup.nmaX */ -}}\n" + service.read_text())
    age(repo)
    assert unknown(findings_of(cli, repo)) == ["values-hub.yaml"]
    rewrite_keeping_size_and_time(service, "nmaX", "nmae")
    settle()  # old enough for its times to be trusted
    hub.write_text(hub.read_text() + "\n")
    assert unknown(findings_of(cli, repo)) == []


def test_generated_folder_moved_out_and_linked_back_is_drift(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    """The files keep their inodes and times through the move: only the link on their path
    says that they are no longer the repository's."""
    age(repo)
    assert findings_of(cli, repo, "--select", "spec") == []
    chart = repo / "charts/all/hello-world"
    chart.rename(tmp_path / "hello-world")
    chart.symlink_to(tmp_path / "hello-world", target_is_directory=True)
    settle()
    [drift] = findings_of(cli, repo, "--select", "spec")
    assert drift["rule"] == "spec/out-of-date"
    assert "charts/all/hello-world/" in drift["message"]


WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  colour: red\n"


def test_objects_found_clean_are_judged_again_when_their_schema_changes(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    """Objects the schemas found clean are not checked again while nothing that chooses the
    schemas changed; a schema file edited in place (same folder given) must judge them anew,
    and so must an edit elsewhere in the group, which renders the group again."""
    (repo / "charts/all/hello-world/templates/widget.yaml").write_text(WIDGET)
    schema = tmp_path / "schemas/example.com/widget_v1.json"
    schema.parent.mkdir(parents=True)
    schema.write_text('{"type": "object"}')
    location = ("--schema-location", str(tmp_path / "schemas"))
    assert "schema/invalid" not in errors(findings_of(cli, repo, *location))
    schema.write_text(
        '{"type": "object", "properties": {"spec": {"type": "object", "properties": '
        '{"colour": {"enum": ["blue"]}}}}}'
    )
    hub = repo / "values-hub.yaml"
    hub.write_text(hub.read_text() + "\n# an edit that renders the hub again\n")
    assert "schema/invalid" in errors(findings_of(cli, repo, *location))


def test_keys_read_folder_by_folder_are_the_keys_all_templates_read(tmp_path: Path) -> None:
    """The cache reads the templates' keys folder by folder (template_units); together those
    are exactly what one walk of charts/ and common/ finds."""
    from generator.checks.values import keys_read_by_templates, template_units

    files = {
        "charts/all/app/templates/a.yaml": "{{ .Values.one }}",
        "charts/templates/b.yaml": "{{ .Values.two }}",  # a chart at the top of charts/
        "charts/hub/x/y/templates/c.tpl": "{{ .Values.clusterGroup.three }}",
        "charts/all/app/values.yaml": "{{ .Values.not_a_template }}",
        "common/Makefile": "",
        "common/scripts/pattern-util.sh": "",
        "common/clustergroup/templates/d.yaml": "{{ .Values.four }}",
        "common/examples/templates/e.yaml": "{{ .Values.five }}",  # vendored, never read
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "charts/linked").symlink_to(tmp_path / "charts/all")  # not entered
    whole = keys_read_by_templates(tmp_path)
    assert whole == {"one", "two", "clusterGroup", "clusterGroup.three", "four"}
    units = template_units(tmp_path)
    assert tmp_path / "charts/linked" not in units
    assert set().union(*(keys_read_by_templates(tmp_path, units=[unit]) for unit in units)) == whole


def fingerprints(repo: Path, kept: Path, fresh: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The repository's fingerprint as a run with the last run's folder listings (kept in
    `kept`) sees it, checked against a run that lists every folder again (an empty `fresh`)."""
    monkeypatch.setenv("MCG_GEN_CACHE_DIR", str(kept))
    store = cache.Cache(repo)
    seen = store.repository_fingerprint(repo)
    store.save()
    monkeypatch.setenv("MCG_GEN_CACHE_DIR", str(fresh))
    assert seen is not None
    assert seen == cache.Cache(repo).repository_fingerprint(repo)
    assert not fresh.exists()  # nothing was kept for the check
    return seen


def test_kept_folder_listings_never_hide_an_entry(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unchanged folder is not listed again (its listing is kept); whatever changes, the
    fingerprint is the one a walk listing every folder computes, and it changes with the files."""
    kept, fresh = tmp_path / "kept", tmp_path / "fresh"
    outside = tmp_path / "outside"
    outside.write_text("a file for now\n")
    templates = repo / "charts/all/hello-world/templates"
    (templates / "link").symlink_to(outside)
    age(repo)
    before = fingerprints(repo, kept, fresh, monkeypatch)
    assert list(kept.rglob(cache.LISTINGS)), "the listings are kept"
    assert fingerprints(repo, kept, fresh, monkeypatch) == before  # from the kept listings

    def changed(edit: Callable[[], object]) -> bool:
        nonlocal before
        edit()
        settle()
        seen = fingerprints(repo, kept, fresh, monkeypatch)
        moved, before = seen != before, seen
        return moved

    assert changed(lambda: (templates / "new.yaml").write_text("kind: ConfigMap\n"))
    assert changed(lambda: (templates / "new.yaml").rename(templates / "renamed.yaml"))
    assert changed(lambda: (templates / "renamed.yaml").unlink())
    service = templates / "service.yaml"
    text = service.read_text()

    def file_to_folder() -> None:
        service.unlink()
        service.mkdir()
        (service / "inside.yaml").write_text(text)

    assert changed(file_to_folder)
    # the link's folder is unchanged, only what it leads to: a folder now, which is not listed

    def file_to_folder_outside() -> None:
        outside.unlink()
        outside.mkdir()

    assert changed(file_to_folder_outside)
    chart = repo / "charts/all/config-demo"
    assert changed(lambda: chart.rename(tmp_path / "config-demo"))
    # neither is a link to a folder nor a new empty folder listed: compared with a full walk
    changed(lambda: chart.symlink_to(tmp_path / "config-demo", target_is_directory=True))
    changed(lambda: (repo / "empty").mkdir())


def test_a_file_added_to_an_unchanged_folder_is_seen(repo: Path, cli: Any) -> None:
    age(repo)
    assert not [f for f in findings_of(cli, repo) if f["rule"] == "secrets/plaintext-value"]
    findings_of(cli, repo)  # served from the cache, its folder listings kept
    token = '{{/* token: "ghp_' + "a1B2" * 9 + '" */}}\n'
    (repo / "charts/all/hello-world/templates/token.yaml").write_text(token)
    settle()
    assert [
        f["file"] for f in findings_of(cli, repo) if f["rule"] == "secrets/plaintext-value"
    ] == ["charts/all/hello-world/templates/token.yaml"]


# What only the layers that check a repository, and storing what they found, import: an unchanged
# repository is answered from the cache without them (the pre-commit case costs a Python start-up
# and a walk).
LAYER_MODULES = (
    "yaml",
    "ruamel",
    "jinja2",
    "jsonschema",
    "referencing",
    "hvac",
    "kubernetes_validate",
    "helm_python",
    "tempfile",
    "generator.helm",
    "generator.yamlio",
    "generator.model.values",
    "generator.validate.groups",
    "generator.checks.kube_schemas",
)


def imported(stderr: str) -> set[str]:
    """The modules `python -X importtime` reported (PYTHONPROFILEIMPORTTIME)."""
    return {
        line.rpartition("|")[2].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:")
    }


def test_an_unchanged_repository_is_answered_without_the_layers(repo: Path, tmp_path: Path) -> None:
    age(repo)
    env = {"MCG_GEN_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPROFILEIMPORTTIME": "1"}
    args = ("validate", str(repo), "--format", "json", "--quiet")
    first = run_subprocess(*args, cwd=tmp_path, env=env)
    assert first.code in (0, 1), first.err
    # they ran (Helm in worker processes, hvac and ruamel not at all), as the report says
    assert {"yaml", "jsonschema", "generator.validate.groups"} <= imported(first.err)
    second = run_subprocess(*args, cwd=tmp_path, env=env)
    assert second.out == first.out
    loaded = imported(second.err)
    assert loaded, second.err
    assert not {m for m in loaded if m in LAYER_MODULES or m.split(".")[0] in LAYER_MODULES}


def test_half_the_files_looked_at_by_a_second_process_give_the_same_fingerprint(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a large repository a forked child looks at half the files: the fingerprint is the
    one this process computes alone, also when the child gives no answer, and a file too recent
    to trust in the child's half leaves no fingerprint either."""
    monkeypatch.setenv("MCG_GEN_CACHE_DIR", str(tmp_path / "cache"))
    age(repo)

    def fingerprint(parallel_from: int) -> str | None:
        monkeypatch.setattr(cache, "PARALLEL_FILES", parallel_from)
        return cache.Cache(repo).repository_fingerprint(repo)

    monkeypatch.setattr(cache, "_cores", lambda: 2)
    alone = fingerprint(10**9)
    assert alone is not None
    assert fingerprint(1) == alone
    parent = os.getpid()
    half_digest = cache._half_digest
    answered = tmp_path / "the child ran"

    def failing_in_the_child(files: list[tuple[str, str, str]], newest: int) -> str | None:
        if os.getpid() != parent:
            answered.touch()
            raise RuntimeError("the child gives no answer")
        return half_digest(files, newest)

    monkeypatch.setattr(cache, "_half_digest", failing_in_the_child)
    assert fingerprint(1) == alone
    # a fork copies other threads in the middle of what they do: then there is no child
    assert answered.exists() == (hasattr(os, "fork") and threading.active_count() == 1)
    monkeypatch.setattr(cache, "_half_digest", half_digest)
    last = repo  # the walk's last folder: the last subfolder of the last subfolder...
    while folders := sorted(p for p in last.iterdir() if p.is_dir() and p.name != ".git"):
        last = folders[-1]
    (last / "zz-last.yaml").write_text("kind: ConfigMap\n")  # too recent, in the child's half
    assert fingerprint(1) is None
    settle()
    assert fingerprint(1) == fingerprint(10**9) != alone


def test_tool_digest_is_its_content_hash_kept_by_file_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mcg-gen's own files are read again only when their names, sizes, times or inodes
    change: the digest kept for those is the content hash, and it is the one used."""
    monkeypatch.setenv("MCG_GEN_CACHE_DIR", str(tmp_path))
    table = tmp_path / cache.TOOL_DIGESTS
    store = cache.Cache(tmp_path)

    def fresh() -> str:
        cache.tool_digest.cache_clear()
        cache.kept_tool_digest.cache_clear()
        return store.tool_digest()

    try:
        content = cache.tool_digest()
        assert fresh() == content
        [(stamp, kept)] = json.loads(table.read_text()).items()
        assert kept == content
        table.write_text(json.dumps({stamp: "kept"}))
        assert fresh() == "kept"  # not read again
        table.write_text(json.dumps({"another installation": "theirs"}))
        assert fresh() == content
        assert json.loads(table.read_text()) == {"another installation": "theirs", stamp: content}
        table.unlink()
        assert cache.Cache(tmp_path, enabled=False).tool_digest() == content
        assert not table.exists()  # with the cache off, nothing kept
    finally:
        cache.tool_digest.cache_clear()
        cache.kept_tool_digest.cache_clear()


def render_entries(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The render cache's entries (cache.RenderMemo): what each chart rendered for a group."""
    found = []
    for path in folder.rglob("*.json"):
        entry = json.loads(path.read_text())
        if isinstance(entry.get("data"), dict) and "documents" in entry["data"]:
            found.append((path, entry))
    return found


def test_charts_rendered_before_are_answered_from_the_cache_by_their_values(
    repo: Path, cli: Any, tmp_path: Path
) -> None:
    """A group renders again when a file it reads changed; a chart whose files and values did
    not change is then answered from the cache (an object slipped into its entry is what the
    run checks), and one whose values changed is rendered again."""
    assert errors(findings_of(cli, repo)) == set()
    service = None
    for path, entry in render_entries(tmp_path / "cache"):
        for document in entry["data"]["documents"]:
            body = document[1]
            if body.get("kind") == "Service" and body["metadata"]["name"] == "hello-world":
                body["spec"]["ports"] = "not a list"
                service = path
                path.write_text(json.dumps(entry))
    assert service is not None, "hello-world's Service is kept"
    hub = repo / "values-hub.yaml"
    hub.write_text(hub.read_text() + "# a comment: the same values\n")
    assert "schema/invalid" in errors(findings_of(cli, repo))
    hub.write_text(
        hub.read_text().replace(
            "      path: charts/all/hello-world\n",
            "      path: charts/all/hello-world\n      overrides:\n        - name: x\n"
            "          value: y\n",
        )
    )
    assert "schema/invalid" not in errors(findings_of(cli, repo))


def test_a_chart_answered_from_the_cache_is_checked_as_for_a_render(repo: Path, cli: Any) -> None:
    """What Helm would load and the render walks do not hash (a .git folder, a named pipe) is
    still refused when the chart's objects come from the cache."""
    findings_of(cli, repo)
    chart = repo / "charts/all/hello-world"
    (chart / ".git").mkdir()
    (chart / ".git/config").write_text("[core]\n")
    hub = repo / "values-hub.yaml"
    hub.write_text(hub.read_text() + "# a comment: the same values\n")
    refused = [f for f in findings_of(cli, repo) if "contains a .git folder" in f["message"]]
    assert refused, "the chart is refused as a render would refuse it"


SECRET_TEMPLATE = """\
apiVersion: v1
kind: Secret
metadata:
  name: kept-nowhere
stringData:
  note: {{ .Values.note | default "not-in-the-cache-9f3c" | quote }}
"""


def test_a_chart_that_renders_a_secret_is_not_kept(repo: Path, cli: Any, tmp_path: Path) -> None:
    (repo / "charts/all/hello-world/templates/secret.yaml").write_text(SECRET_TEMPLATE)
    findings_of(cli, repo)
    kept = render_entries(tmp_path / "cache")
    assert kept, "the other charts are kept"
    assert not [path for path, entry in kept if "not-in-the-cache-9f3c" in json.dumps(entry)]
    stored = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert not [path for path in stored if b"not-in-the-cache" in path.read_bytes()]


def test_only_objects_json_gives_back_unchanged_are_kept() -> None:
    from datetime import date

    from generator.helm import RenderedDoc

    def kept(body: dict[str, Any]) -> Any:
        return cache._as_json([RenderedDoc("templates/x.yaml", body, 1, (("a.b", 3),))])

    config = {"kind": "ConfigMap", "data": {"a": "1"}}
    assert kept(config) == [["templates/x.yaml", config, 1, [["a.b", 3]]]]
    assert kept({"kind": "ConfigMap", "data": {"when": date(2020, 1, 1)}}) is None
    assert kept({"kind": "ConfigMap", "data": {1: "one"}}) is None
    assert kept({"kind": "Secret", "data": {}}) is None
    assert kept({"kind": "List", "items": [config, {"kind": "Secret"}]}) is None


def test_generated_file_removed_after_a_clean_run_is_drift_until_put_back(
    repo: Path, cli: Any
) -> None:
    """The spec's drift check is kept with the lstat of every file it looked at: a generated
    file removed after a clean run is drift (generate would write it again), and putting it
    back clears it."""
    age(repo)
    assert findings_of(cli, repo, "--select", "spec") == []
    service = repo / "charts/all/hello-world/templates/service.yaml"
    text = service.read_text()
    service.unlink()
    settle()
    [drift] = findings_of(cli, repo, "--select", "spec")
    assert drift["rule"] == "spec/out-of-date"
    assert "charts/all/hello-world/templates/service.yaml" in drift["message"]
    service.write_text(text)
    settle()
    assert findings_of(cli, repo, "--select", "spec") == []
