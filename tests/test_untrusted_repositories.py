"""Untrusted repositories cannot reach outside themselves (issue 10).

Every test attacks through the command line, in a real git repository (generated, then
committed), with canary files outside it (watched with inotify), a loopback listener that every
proxy variable points at, and an address-space limit on the run (see tests/hostile.py). Each
asserts the exit status, no traceback, canaries untouched and unread, no connection, `.git`
unchanged and a bounded time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.hostile import HostileVault, Listener, Run, Sandbox, work_tree
from tests.test_hostile_inputs import base_spec, run_limited

APP_CHART = "charts/all/hello-world"
JOURNAL = ".mcg-gen/journal.json"
STATE = ".mcg-gen/state.json"


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def spec_text(listener: Listener, change: Callable[[dict[str, Any]], None] | None = None) -> str:
    """The base spec, its repository URL on the listener (anything that fetched the pattern
    repository would connect), changed by `change`."""
    spec = yaml.safe_load(base_spec())
    spec["git"]["repoURL"] = f"{listener.url}/pattern.git"
    if change is not None:
        change(spec)
    return yaml.safe_dump(spec, sort_keys=False)


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory, listener: Listener
) -> Callable[[str], Path]:
    """A repository generated from a spec text, made once per module and spec."""
    made: dict[str, Path] = {}

    def make(text: str) -> Path:
        if text not in made:
            folder = tmp_path_factory.mktemp("pristine")
            (folder / "spec.yaml").write_text(text)
            target = folder / "demo"
            result = run_limited(
                "new", "demo", "--spec", str(folder / "spec.yaml"), "--output", str(target),
                "--no-git",
            )  # fmt: skip
            assert result.code == 0, result.err
            (target / ".mcg-gen" / "lock").unlink(missing_ok=True)
            made[text] = target
        return made[text]

    return make


@pytest.fixture
def make_sandbox(
    tmp_path: Path, listener: Listener, generated: Callable[[str], Path]
) -> Iterator[Callable[..., Sandbox]]:
    boxes: list[Sandbox] = []

    def make(change: Callable[[dict[str, Any]], None] | None = None) -> Sandbox:
        box = Sandbox(tmp_path / f"sandbox-{len(boxes)}", listener)
        boxes.append(box)
        box.make_repo(generated(spec_text(listener, change)))
        box.arm()
        return box

    yield make
    for box in boxes:
        box.close()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """The base pattern, generated and committed, with canaries armed."""
    return make_sandbox()


def findings(result: Run) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(result.out)["findings"]
    return found


def one_error(result: Run) -> str:
    """The one error message of a refused run (and its hint)."""
    assert result.err.startswith("mcg-gen: error: "), str(result)
    assert result.err.count("mcg-gen: error:") == 1, str(result)
    assert len(result.err) < 1000, "one message, not a dump"
    return result.err


def relative_to(box: Sandbox, path: Path) -> str:
    return os.path.relpath(path, box.repo)


# ------------------------------------------------------------------ 1. journal replay


def hostile_operations(box: Sandbox) -> dict[str, list[dict[str, str]]]:
    """Journals mcg-gen never writes, each with one hostile operation among ordinary ones."""
    key = relative_to(box, box.home / ".ssh" / "id_rsa")
    state = {"op": "write", "path": STATE, "from": ".mcg-gen/staging/state"}
    return {
        # moves the user's private key into the repository (then a push publishes it)
        "steal-a-user-file": [
            {"op": "write", "path": "id_rsa.txt", "from": key},
            state,
        ],
        # copies a repository file over a path of the attacker's choice outside
        "backup-outside": [
            {
                "op": "backup",
                "path": "values-hub.yaml",
                "to": relative_to(box, box.outside / "values-hub.yaml"),
            },
            {"op": "write", "path": "values-hub.yaml", "from": ".mcg-gen/staging/0"},
            state,
        ],
        # installs a git hook: code run by the user's next commit
        "write-a-git-hook": [
            {"op": "write", "path": ".git/hooks/pre-commit", "from": ".mcg-gen/staging/0"},
            state,
        ],
        "delete-outside": [
            {"op": "delete", "path": relative_to(box, box.outside / "secret.txt")},
            state,
        ],
    }


@pytest.mark.parametrize("tracked", [True, False], ids=["committed", "untracked"])
@pytest.mark.parametrize(
    "attack", ["steal-a-user-file", "backup-outside", "write-a-git-hook", "delete-outside"]
)
def test_a_hostile_journal_is_never_replayed(sandbox: Sandbox, attack: str, tracked: bool) -> None:
    """A journal (and its staged files) that came with the repository, committed or unpacked
    from an archive: generate refuses it and carries out nothing of it."""
    state_dir = sandbox.repo / ".mcg-gen"
    (state_dir / "staging").mkdir()
    (state_dir / "staging" / "0").write_text('#!/bin/sh\ntouch "$HOME/pwned"\n')
    (state_dir / "staging" / "0").chmod(0o755)
    (state_dir / "staging" / "state").write_text(json.dumps({"version": 1, "files": {}}))
    operations = hostile_operations(sandbox)[attack]
    (state_dir / "journal.json").write_text(json.dumps({"operations": operations}))
    if tracked:
        sandbox.commit("an interrupted run")
    sandbox.arm()
    before = work_tree(sandbox.repo)

    result = sandbox.run("generate")

    sandbox.assert_safe(result, 1)
    message = one_error(result)
    assert message.startswith(f"mcg-gen: error: {JOURNAL}: the journal of an interrupted run is")
    if tracked:
        assert "is committed to git" in message
    else:
        assert "not one mcg-gen wrote" in message and "nothing of it was carried out" in message
    assert work_tree(sandbox.repo) == before, "nothing moved, created or removed"
    assert not (sandbox.repo / ".git" / "hooks" / "pre-commit").exists()
    assert not (sandbox.outside / "values-hub.yaml").exists()
    assert not (sandbox.home / "pwned").exists()


# ------------------------------------------------------------------ 2. state entries


@pytest.mark.parametrize("entry", [".git/HEAD", "../outside/secret.txt"])
def test_a_committed_state_file_cannot_delete_what_mcg_gen_never_wrote(
    sandbox: Sandbox, entry: str
) -> None:
    """A state entry whose hash matches the file on disk, for a file no longer generated, is
    what generate deletes: listing `.git/HEAD` or a file outside would delete it."""
    target = sandbox.repo / entry
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    state = json.loads((sandbox.repo / STATE).read_text())
    state["files"][entry] = digest
    (sandbox.repo / STATE).write_text(json.dumps(state, indent=2))
    sandbox.commit("state")
    sandbox.arm()
    before = work_tree(sandbox.repo)

    for args in (("generate",), ("generate", "--force"), ("generate", "--check")):
        result = sandbox.run(*args)
        sandbox.assert_safe(result, 1)
        message = one_error(result)
        assert message.startswith(
            f"mcg-gen: error: {STATE}: the state file lists {entry!r}, which mcg-gen never writes"
        ), message
    assert (sandbox.repo / ".git" / "HEAD").is_file()
    assert work_tree(sandbox.repo) == before

    validated = sandbox.run("validate", "--format", "json")
    sandbox.assert_safe(validated, 1)


# ------------------------------------------------------------------ 3. devices and FIFOs


def plant(box: Sandbox, relative: str, kind: str) -> None:
    """Put a device link, a FIFO or a link to `kind` (a path) at `relative` in the repository."""
    path = box.repo / relative
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(kind)


DEVICES = {
    "values-extra.yaml": "/dev/zero",
    "values-random.yaml": "/dev/urandom",
    "values-pipe.yaml": "fifo",
    f"{APP_CHART}/templates/pipe.yaml": "fifo",
    "charts/all/config-demo/templates/zero.yaml": "/dev/zero",
}


def test_validate_names_every_device_and_fifo_and_ends(sandbox: Sandbox) -> None:
    """Reading /dev/zero never ends (and fills memory), opening a FIFO waits for a writer:
    each is a finding at its file, and the run ends quickly within its memory limit."""
    for relative, kind in DEVICES.items():
        plant(sandbox, relative, kind)
    sandbox.commit("devices")  # git records links and skips FIFOs
    sandbox.arm()

    result = sandbox.run("validate", "--format", "json")

    sandbox.assert_safe(result, 1, seconds=30)
    found = {f["file"]: f for f in findings(result)}
    for relative in DEVICES:
        assert relative in found, (relative, sorted(found))
    assert "leaves the pattern repository" in found["values-extra.yaml"]["message"]
    assert "a named pipe" in found["values-pipe.yaml"]["message"]
    assert found[f"{APP_CHART}/templates/pipe.yaml"]["rule"] == "chart/render-error"


@pytest.mark.parametrize(
    ("relative", "kind", "code", "message"),
    [
        ("values-AWS.yaml", "/dev/zero", 1, "is a symlink that leaves the pattern repository"),
        ("values-global.yaml", "/dev/urandom", 1, "values-global.yaml"),
        # a value file of every application that is not a regular file: skipped like a missing
        # one (Argo CD's ignoreMissingValueFiles), never opened
        ("values-AWS-4.16.yaml", "fifo", 0, ""),
        (f"{APP_CHART}/templates/pipe.yaml", "fifo", 1, "contains a named pipe, socket or"),
        (f"{APP_CHART}/templates/zero.yaml", "/dev/zero", 1, "contains a symlink that leaves"),
    ],
    ids=["value-file-zero", "global-urandom", "value-file-fifo", "chart-fifo", "template-zero"],
)
def test_render_refuses_devices_and_fifos(
    sandbox: Sandbox, relative: str, kind: str, code: int, message: str
) -> None:
    plant(sandbox, relative, kind)
    sandbox.arm()

    result = sandbox.run("render", "--group", "hub", "--apps")

    sandbox.assert_safe(result, code, seconds=30)
    if code:
        assert relative in one_error(result)
        assert message in result.err
        assert result.out == ""
    else:
        assert "kind: ConfigMap" in result.out


@pytest.mark.parametrize(
    ("relative", "kind", "message"),
    [
        ("values-hub.yaml", "/dev/zero", "refusing to write through a symbolic link"),
        ("values-group-one.yaml", "fifo", "this is a folder or special file"),
        (f"{APP_CHART}/templates/configmap.yaml", "/dev/urandom", "refusing to write through"),
        (STATE, "/dev/zero", "is a symlink that leaves the pattern repository"),
    ],
    ids=["values-zero", "values-fifo", "template-urandom", "state-zero"],
)
def test_generate_refuses_a_device_or_fifo_where_it_writes(
    sandbox: Sandbox, relative: str, kind: str, message: str
) -> None:
    # the next generate has something to write, so every generated file is looked at
    (sandbox.repo / "pattern.yaml").write_text(
        (sandbox.repo / "pattern.yaml").read_text().replace("release-2.14", "release-2.15")
    )
    plant(sandbox, relative, kind)
    sandbox.arm()
    before = work_tree(sandbox.repo)

    result = sandbox.run("generate")

    sandbox.assert_safe(result, 1, seconds=30)
    assert relative in one_error(result) and message in result.err
    assert work_tree(sandbox.repo) == before


# ------------------------------------------------------------------ 4. schema references


def schema_with(keyword: str, value: str) -> str:
    schema: dict[str, Any] = {"$schema": "http://json-schema.org/draft-07/schema#"}
    if keyword == "$schema":
        schema["$schema"] = value
    else:
        schema["properties"] = {"replicas": {"$ref": value}}
    schema["type"] = "object"
    return json.dumps(schema, indent=2) + "\n"


def subchart_archive(schema: str) -> bytes:
    """A subchart `sub` packed as Helm packs it, its values schema being `schema`."""
    files = {
        "sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
        "sub/values.yaml": "replicas: 1\n",
        "sub/values.schema.json": schema,
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("reference", ["http-ref", "file-ref", "meta-schema"])
def test_schema_references_are_never_fetched_or_read(sandbox: Sandbox, reference: str) -> None:
    """Helm's schema loader fetches a `$ref` URL, reads a `file://` path and fetches an
    unknown `$schema`: in a chart's values schema and in one inside a subchart archive, each is
    a `chart/schema-reference` finding at that file, and nothing is fetched or read."""
    canary = sandbox.outside / "secret.txt"
    keyword, value = {
        "http-ref": ("$ref", f"{sandbox.listener.url}/x.json"),
        "file-ref": ("$ref", f"file://{canary}"),
        "meta-schema": ("$schema", f"{sandbox.listener.url}/meta"),
    }[reference]
    schema = schema_with(keyword, value)
    (sandbox.repo / APP_CHART / "values.schema.json").write_text(schema)
    archive = sandbox.repo / "charts/all/config-demo/charts/sub-0.1.0.tgz"
    archive.parent.mkdir()
    archive.write_bytes(subchart_archive(schema))
    sandbox.commit("schema")
    sandbox.arm()

    result = sandbox.run("validate", "--format", "json", "--no-cache")

    sandbox.assert_safe(result, 1)
    found = {f["file"]: f for f in findings(result) if f["rule"] == "chart/schema-reference"}
    assert set(found) == {
        f"{APP_CHART}/values.schema.json",
        "charts/all/config-demo/charts/sub-0.1.0.tgz!sub/values.schema.json",
    }
    for finding in found.values():
        assert finding["line"] > 0 and value in finding["message"]

    rendered = sandbox.run("render", "--group", "hub", "--apps")
    sandbox.assert_safe(rendered, 1)
    assert "its values schema refers to" in one_error(rendered)


# ------------------------------------------------------------------ 5. links out


# Repository files that a link may replace, each leading to a canary of its own.
CONTENT_LINKS = (
    "pattern.yaml",
    "values-hub.yaml",
    "values-extra.yaml",  # an override values file validate checks
    "values-secret.yaml.template",
    f"{APP_CHART}/templates/leak.yaml",
    "charts/all/config-demo/files.txt",  # what .Files.Get would read
    ".gitignore",  # git reads it for the ignore check
)


def link_out(box: Sandbox, relative: str) -> Path:
    """Replace `relative` with a link to a new canary outside; returns the canary."""
    canary = box.add_canary(relative.replace("/", "_"))
    plant(box, relative, str(canary))
    return canary


@pytest.mark.parametrize(
    "links",
    # files every chart needs on their own, else no chart would be rendered
    [CONTENT_LINKS, ("values-global.yaml",), ("values-AWS.yaml",)],
    ids=["files", "global", "value-file"],
)
def test_validate_never_opens_a_link_out_of_the_repository(
    sandbox: Sandbox, links: tuple[str, ...]
) -> None:
    """Every repository file validate reads, replaced by a link out: none is opened (inotify),
    none is hashed into the cache, and each is reported."""
    for relative in links:
        link_out(sandbox, relative)
    sandbox.commit("links")
    sandbox.arm()

    cold = sandbox.run("validate", "--format", "json")
    sandbox.assert_safe(cold, 1)
    warm = sandbox.run("validate", "--format", "json")
    sandbox.assert_safe(warm, 1)
    assert findings(warm) == findings(cold)
    sandbox.assert_cache_clean()
    named = {f["file"] for f in findings(cold)}
    for relative in set(links) - {".gitignore"}:  # git does not follow it: reported unignoring
        assert relative in named, (relative, sorted(named))


@pytest.mark.parametrize(
    "relative",
    ["values-global.yaml", "values-hub.yaml", "values-AWS.yaml", f"{APP_CHART}/templates/x.yaml"],
)
def test_render_never_opens_a_link_out_of_the_repository(sandbox: Sandbox, relative: str) -> None:
    link_out(sandbox, relative)
    sandbox.arm()

    result = sandbox.run("render", "--group", "hub", "--apps")

    sandbox.assert_safe(result, 1)
    assert relative in one_error(result)
    assert "symlink that leaves" in result.err


def test_render_of_an_unknown_group_never_opens_a_link_out(sandbox: Sandbox) -> None:
    """The hint listing the repository's groups reads every values file: not a link out."""
    link_out(sandbox, "values-extra.yaml")
    link_out(sandbox, "values-AWS.yaml")
    sandbox.arm()

    result = sandbox.run("render", "--group", "nowhere")

    sandbox.assert_safe(result, 1)
    assert "no cluster group 'nowhere'" in one_error(result)
    assert "groups in this repository: group-one, hub" in result.err


@pytest.mark.parametrize(
    "relative",
    [
        "pattern.yaml",
        "values-hub.yaml",
        ".mcg-gen/state.json",
        ".mcg-gen/lock",
        ".mcg-gen/lock-dangling",
        ".mcg-gen/staging",
        ".mcg-gen",
    ],
)
def test_generate_never_opens_or_writes_through_a_link_out(sandbox: Sandbox, relative: str) -> None:
    """mcg-gen's own working files and folders, and the files it generates, replaced by links
    out (a dangling one to a file outside that following it would create)."""
    # the next generate has something to write, so that every write path is exercised
    (sandbox.repo / "pattern.yaml").write_text(
        (sandbox.repo / "pattern.yaml").read_text().replace("release-2.14", "release-2.15")
    )
    if relative == ".mcg-gen/lock-dangling":
        relative = ".mcg-gen/lock"
        plant(sandbox, relative, str(sandbox.outside / "created-through-the-lock"))
    elif relative in (".mcg-gen", ".mcg-gen/staging"):
        target = sandbox.add_canary_folder(relative.replace("/", "_"))
        if relative == ".mcg-gen":
            for entry in (sandbox.repo / ".mcg-gen").iterdir():
                entry.rename(target / entry.name)
            (sandbox.repo / ".mcg-gen").rmdir()
        plant(sandbox, relative, str(target))
    else:
        link_out(sandbox, relative)
    sandbox.arm()
    before = work_tree(sandbox.repo)

    for args in (("generate",), ("generate", "--force")):
        result = sandbox.run(*args)
        sandbox.assert_safe(result, 1)
        assert relative in one_error(result), result.err
    assert work_tree(sandbox.repo) == before
    assert not (sandbox.outside / "created-through-the-lock").exists()


# ------------------------------------------------------------------ 6. deadline and size


LOOP = "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n"


def with_apps(*names: str) -> Callable[[dict[str, Any]], None]:
    """A spec change: local apps `names` on the hub and on group-one."""

    def change(spec: dict[str, Any]) -> None:
        for name in names:
            spec["apps"][name] = {}
            spec["hub"]["apps"].append(name)
            spec["groups"][0]["apps"].append(name)

    return change


def test_looping_charts_cost_a_quarter_of_the_timeout_once(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    """Two charts that loop forever, used by two groups: each costs one per-chart limit (a
    quarter of --timeout, 5 s) once; the second group does not wait for them again. Four waits
    would take 20 s, the whole deadline: the last chart would be reported as still rendering
    when the run's time limit passed. The wall-clock bound is the deadline plus start-up on a
    busy machine."""
    box = make_sandbox(with_apps("loop-a", "loop-b"))
    for name in ("loop-a", "loop-b"):
        (box.repo / f"charts/all/{name}/templates/loop.yaml").write_text(LOOP)
    box.commit("loops")
    box.arm()

    result = box.run("validate", "--format", "json", "--timeout", "20")

    box.assert_safe(result, 1, seconds=30)
    assert "time limit passed" not in result.out, "a group waited for a chart that hung before"
    stopped = {
        f["file"]: f
        for f in findings(result)
        if f["rule"] in ("chart/render-crash", "chart/timeout")
    }
    assert set(stopped) == {"charts/all/loop-a", "charts/all/loop-b"}, findings(result)
    assert all("within 5 seconds" in f["message"] for f in stopped.values())
    assert json.loads(result.out)["summary"]["resources"] > 0, "the other charts were checked"


def test_a_chart_rendering_100000_objects_is_refused_quickly(sandbox: Sandbox) -> None:
    (sandbox.repo / APP_CHART / "templates" / "flood.yaml").write_text(
        "{{- range until 100000 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        "  name: flood-{{ . }}\n  namespace: hello-world\n{{- end }}\n"
    )
    sandbox.commit("flood")
    sandbox.arm()

    result = sandbox.run("validate", "--format", "json")

    sandbox.assert_safe(result, 1, seconds=20)
    [refused] = {
        f["message"]
        for f in findings(result)
        if f["file"] == APP_CHART and "taken in" in f["message"]
    }
    assert "more than the 20,000 mcg-gen takes from one chart" in refused

    rendered = sandbox.run("render", "--group", "hub", "--apps")
    sandbox.assert_safe(rendered, 1, seconds=20)
    assert "more than the 20,000" in one_error(rendered)


# ------------------------------------------------------------------ 7. a hostile Vault


TOKEN = "hvs.canary-token-" + hashlib.sha256(b"sandbox").hexdigest()[:24]


@pytest.fixture
def hostile_vault(request: pytest.FixtureRequest) -> Iterator[HostileVault]:
    server = HostileVault(request.param)
    yield server
    server.close()


def vault_run(box: Sandbox, server: HostileVault, command: str, *options: str) -> Run:
    """`secrets COMMAND` against the hostile server (reached directly, not through the proxy
    every other connection would go to), the token in VAULT_TOKEN."""
    if command == "load":
        filled = box.home / "values-secret-demo.yaml"
        if not filled.exists():
            filled.write_bytes((box.repo / "values-secret.yaml.template").read_bytes())
            filled.chmod(0o600)
    return box.run(
        "secrets", command, "--vault-addr", server.url, *options,
        env={"VAULT_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
    )  # fmt: skip


@pytest.mark.parametrize("hostile_vault", ["not-json", "json-list"], indirect=True)
@pytest.mark.parametrize("command", ["load", "init"])
def test_a_vault_answering_something_that_is_not_json(
    sandbox: Sandbox, hostile_vault: HostileVault, command: str
) -> None:
    """hvac hands a 200 answer that is not JSON back as the raw response: a clear error, not an
    AttributeError's traceback."""
    result = vault_run(sandbox, hostile_vault, command)

    sandbox.assert_safe(result, 1)
    what = "JSON" if hostile_vault.mode == "not-json" else "a JSON object"
    assert f"answered with something that is not {what} while trying to" in one_error(result)
    assert ("GET", "/v1/auth/token/lookup-self") in hostile_vault.requests
    assert len(hostile_vault.requests) == 3, "it stops at the first answer that is not JSON"


@pytest.mark.parametrize("hostile_vault", ["trickle"], indirect=True)
def test_a_vault_trickling_its_answer_is_cut_off_at_the_timeout(
    sandbox: Sandbox, hostile_vault: HostileVault
) -> None:
    """A byte a second never trips a socket timeout (each read gets its byte): the deadline is
    for the whole answer."""
    result = vault_run(sandbox, hostile_vault, "init", "--vault-timeout", "3")

    sandbox.assert_safe(result, 1, seconds=10)
    assert "did not answer in time" in one_error(result)
    assert hostile_vault.requests == [("GET", "/v1/sys/seal-status")]


@pytest.mark.parametrize("hostile_vault", ["error-json", "error-text"], indirect=True)
@pytest.mark.parametrize("command", ["load", "init"])
def test_a_vault_error_is_shown_escaped_short_and_without_the_token(
    sandbox: Sandbox, hostile_vault: HostileVault, command: str
) -> None:
    """An error text with terminal escapes (a title change, a screen clear), 100 KB long,
    echoing the token the client sent."""
    result = vault_run(sandbox, hostile_vault, command)

    sandbox.assert_safe(result, 1)
    message = one_error(result)
    assert len(hostile_vault.requests) == 3, "the error answers the first real request"
    assert "\x1b" not in result.err + result.out
    assert len(result.err) < 2000
    assert TOKEN not in result.err + result.out
    assert "Vault refused to" in message
    if hostile_vault.mode == "error-json":
        assert "Vault says:" in message and "<token>" in message, "shown as data"


@pytest.mark.parametrize("command", ["check", "init"])
def test_secrets_commands_never_open_a_linked_pattern_yaml(sandbox: Sandbox, command: str) -> None:
    """The secrets commands read pattern.yaml for the pattern's name and groups."""
    link_out(sandbox, "pattern.yaml")
    sandbox.arm()

    result = sandbox.run(
        "secrets", command, *(["--vault-addr", sandbox.listener.url] if command == "init" else []),
        env={"VAULT_TOKEN": TOKEN},
    )  # fmt: skip

    sandbox.assert_safe(result, 1)
    assert "'pattern.yaml' is a symlink that leaves the pattern repository" in one_error(result)


# ------------------------------------------------------------------ 8. names that clobber


def rename_group(name: str) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        spec["groups"][0]["name"] = name

    return change


def rename_hub(spec: dict[str, Any]) -> None:
    spec["hub"]["name"] = "global"


def app_path(path: str) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        spec["apps"]["hello-world"] = {"path": path}

    return change


CLOBBERING = {
    # values-global.yaml is the pattern's own file
    "group-global": (rename_group("global"), "'global' and names starting with 'secret' are"),
    "hub-global": (rename_hub, "'global' and names starting with 'secret' are reserved"),
    # git ignores values-secret*.yaml: the group's values would never be committed
    "group-secret": (rename_group("secret"), "'global' and names starting with 'secret' are"),
    "group-secret-store": (rename_group("secret-store"), "names starting with 'secret' are"),
    # a chart scaffolded into .git/hooks is code git runs
    "app-in-git": (app_path("charts/.git/hooks"), "is not a folder inside the repository"),
    "app-in-state": (app_path("charts/.mcg-gen/staging"), "is not a folder inside the"),
}


@pytest.mark.parametrize("case", sorted(CLOBBERING))
def test_names_that_would_clobber_are_refused_and_nothing_is_written(
    sandbox: Sandbox, case: str
) -> None:
    change, message = CLOBBERING[case]
    spec = sandbox.root / "spec.yaml"
    spec.write_text(spec_text(sandbox.listener, change))
    output = sandbox.root / "new-repository"

    created = sandbox.run("new", "demo", "--spec", str(spec), "--output", str(output))
    sandbox.assert_safe(created, 1)
    assert message in one_error(created)
    assert not output.exists()

    (sandbox.repo / "pattern.yaml").write_bytes(spec.read_bytes())
    before = work_tree(sandbox.repo)
    generated = sandbox.run("generate")
    sandbox.assert_safe(generated, 1)
    assert one_error(generated).startswith("mcg-gen: error: pattern.yaml:")
    assert message in generated.err
    assert work_tree(sandbox.repo) == before


# ------------------------------------------------------- 9. Helm's messages, files, processes


ESCAPES = '{{ fail "\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mchart says no\\x1b[0m" }}\n'
RECURSION = '{{- define "again" }}{{ include "again" . }}{{ end }}{{ include "again" . }}\n'


def assert_no_helm_leftovers(box: Sandbox) -> None:
    left = [name for name in box.leftovers() if name.startswith(("mcg-helm-", "mcg-gen-"))]
    assert left == [], f"left in TMPDIR: {left}"


def test_a_charts_fail_text_is_shown_with_its_escapes_escaped(sandbox: Sandbox) -> None:
    """`fail` prints whatever the chart's author wrote: terminal escapes (a window title, a
    screen clear) are shown as text in every output, never sent to the terminal."""
    (sandbox.repo / APP_CHART / "templates" / "fail.yaml").write_text(ESCAPES)
    sandbox.commit("fail")
    sandbox.arm()

    rendered = sandbox.run("render", "--group", "hub", "--apps")
    sandbox.assert_safe(rendered, 1)
    assert "\x1b" not in rendered.err
    assert "\\x1b]0;owned\\x07\\x1b[2J\\x1b[31mchart says no" in one_error(rendered)

    for output in ("text", "github", "junit"):
        validated = sandbox.run("validate", "--format", output)
        sandbox.assert_safe(validated, 1)
        assert "\x1b" not in validated.out + validated.err, output
        assert "chart says no" in validated.out, output
    assert_no_helm_leftovers(sandbox)


def test_a_recursive_include_is_one_short_message(sandbox: Sandbox) -> None:
    (sandbox.repo / APP_CHART / "templates" / "again.yaml").write_text(RECURSION)
    sandbox.commit("recursion")
    sandbox.arm()

    rendered = sandbox.run("render", "--group", "hub", "--apps")
    sandbox.assert_safe(rendered, 1)
    assert len(one_error(rendered)) < 2000
    assert "again" in rendered.err

    validated = sandbox.run("validate", "--format", "json")
    sandbox.assert_safe(validated, 1)
    [finding] = [f for f in findings(validated) if f["file"].startswith(APP_CHART)]
    assert len(finding["message"]) < 2000
    assert_no_helm_leftovers(sandbox)


def burn(rounds: int) -> str:
    """A template that spends about `rounds` / 2,000 seconds of CPU in Go, then renders one
    small object."""
    return (
        f"{{{{- range until {rounds} }}}}{{{{ range until 4000 }}}}{{{{ end }}}}{{{{ end }}}}\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: heavy\n  namespace: heavy\n"
    )


def worker_cpu_seconds(chart: Path) -> float:
    """The CPU a Helm worker spends starting and rendering `chart` once (read from /proc
    before the worker ends: once it is waited for, its time goes to its parent)."""
    from generator.helm import HelmWorker

    with HelmWorker() as worker:
        worker.render(chart, {}, release="heavy", namespace="heavy")
        process = worker._process  # the worker of this test's own making
        assert process is not None
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_groups(count: int) -> Callable[[dict[str, Any]], None]:
    """A spec change: the app `heavy` on the hub and on `count` managed groups."""

    def change(spec: dict[str, Any]) -> None:
        with_apps("heavy")(spec)
        for index in range(2, count + 1):
            spec["groups"].append({"name": f"group-{index}", "apps": ["heavy"]})

    return change


@pytest.mark.parametrize(
    ("command", "groups", "rounds"),
    [
        (("render", "--group", "hub", "--apps"), 1, 3000),
        # 4 groups: rendered in parallel pool processes (validate.groups.PARALLEL_FROM)
        (("validate", "--no-cache", "--no-lint"), 4, 1500),
    ],
    ids=["render", "validate"],
)
def test_helm_workers_are_waited_for(
    make_sandbox: Callable[..., Sandbox], command: tuple[str, ...], groups: int, rounds: int
) -> None:
    """A Helm worker that is not waited for (or outlives its parent) is reaped by init, and its
    CPU never reaches the parent's children: a CPU-heavy chart's render must show in the CPU of
    the run's waited-for process tree. The chart burns enough that the run's own CPU without
    its workers' stays below the bound (about 0.6 s for render, 1.5 s for validate)."""
    box = make_sandbox(with_groups(groups))
    chart = box.repo / "charts/all/heavy"
    for template in (chart / "templates").iterdir():
        template.write_text("")  # an edit, not a deletion: the repository stays up to date
    (chart / "templates" / "burn.yaml").write_text(burn(rounds))
    box.commit("heavy")
    once = worker_cpu_seconds(chart)
    box.arm()

    result = box.run(*command)

    box.assert_safe(result, 0, seconds=60)
    assert result.cpu >= 0.7 * groups * once, (result.cpu, groups, once)
    assert_no_helm_leftovers(box)
