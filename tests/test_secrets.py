"""`mcg-gen secrets check|init|load` end to end, against a real OpenBao dev server.

The repository is a hand-written Validated Patterns one (values files, no pattern.yaml); the
user's filled-in file lives in a temporary HOME. No Vault client is mocked.
"""

from __future__ import annotations

import base64
import copy
import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import vault
from generator.errors import McgError
from generator.model import names
from tests.conftest import PROJECT, Result
from tests.openbao import OpenBao

PATTERN = "shop"
PEM = (
    "-----BEGIN CERTIFICATE-----\nMIIB\u00e9\u00fc\u4e2d\u6587\nline three\n"
    "-----END CERTIFICATE-----\n"
)
BINARY = bytes(range(256)) * 3
PLANTED = ("PLANTED-user-\u00fcn\u00efc\u00f6de\u2603", "PLANTED-hub-token-41")

TEMPLATE: dict[str, Any] = {
    "version": "2.0",
    "vaultPolicies": {
        "pinPolicy": 'length=12\nrule "charset" { charset = "0123456789" min-chars = 12 }\n'
    },
    "secrets": [
        {
            "name": "db",
            "vaultPrefixes": ["global"],
            "fields": [
                {"name": "user", "value": None, "onMissingValue": "error"},
                {
                    "name": "password",
                    "onMissingValue": "generate",
                    "vaultPolicy": "validatedPatternDefaultPolicy",
                },
            ],
        },
        {
            "name": "hub-only",
            "vaultPrefixes": ["hub"],
            "fields": [
                {"name": "token", "value": None, "onMissingValue": "prompt", "prompt": "Token"}
            ],
        },
        {
            "name": "edge-cert",
            "vaultPrefixes": ["edge"],
            "fields": [
                {"name": "ca", "path": "~/ca.bin", "base64": True},
                {"name": "pem", "path": "~/cert.pem"},
            ],
        },
        {
            "name": "shared-pin",
            "vaultPrefixes": ["hub", "edge"],
            "fields": [{"name": "pin", "onMissingValue": "generate", "vaultPolicy": "pinPolicy"}],
        },
    ],
}


def write_repo(root: Path) -> Path:
    """The repository: values-global.yaml, a hub and an edge group, the secret template."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "values-global.yaml": {"global": {"pattern": PATTERN}, "main": {"clusterGroupName": "hub"}},
        "values-hub.yaml": {"clusterGroup": {"name": "hub", "isHubCluster": True}},
        "values-edge.yaml": {"clusterGroup": {"name": "edge", "isHubCluster": False}},
        "values-secret.yaml.template": TEMPLATE,
    }
    for name, data in files.items():
        (root / name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root


def filled_data() -> dict[str, Any]:
    """The template filled in the way a user does: values given, files named by path."""
    data = copy.deepcopy(TEMPLATE)
    data["secrets"][0]["fields"][0]["value"] = PLANTED[0]
    data["secrets"][1]["fields"][0]["value"] = PLANTED[1]
    return data


def write_filled(home: Path, data: dict[str, Any] | None = None, name: str = "") -> Path:
    """The filled-in file (mode 600) and the files it names, in `home`."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "ca.bin").write_bytes(BINARY)
    (home / "cert.pem").write_text(PEM, encoding="utf-8")
    path = home / (name or f"values-secret-{PATTERN}.yaml")
    text = yaml.safe_dump(filled_data() if data is None else data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


# ------------------------------------------------------------------------------------ helpers


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


def use_vault(monkeypatch: pytest.MonkeyPatch, server: OpenBao, token: str | None = None) -> None:
    monkeypatch.setenv("VAULT_ADDR", server.addr)
    monkeypatch.setenv("VAULT_TOKEN", token or server.token)
    monkeypatch.delenv("VAULT_CACERT", raising=False)


def assert_no_values_shown(result: Result) -> None:
    """No planted value (nor its base64 form) appears anywhere in the output."""
    text = result.out + result.err
    for value in (*PLANTED, PEM.splitlines()[1]):
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text
    assert "Traceback" not in text


def one_error_line(result: Result) -> str:
    """The single error line a failure prints (findings and warnings may come before it)."""
    assert result.code == 1, result
    errors = [line for line in result.err.splitlines() if line.startswith("mcg-gen: error:")]
    assert len(errors) == 1, result.err
    assert "Traceback" not in result.err
    return errors[0]


def read(server: OpenBao, mount: str, path: str) -> dict[str, Any] | None:
    from hvac.exceptions import InvalidPath

    try:
        answer = server.client().secrets.kv.v2.read_secret_version(
            path=path, mount_point=mount, raise_on_deleted_version=False
        )
    except InvalidPath:
        return None
    return dict(answer["data"]["data"])


def version(server: OpenBao, mount: str, path: str) -> int:
    metadata = server.client().secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)
    return int(metadata["data"]["current_version"])


PATHS = ("global/db", "hub/hub-only", "edge/edge-cert", "hub/shared-pin", "edge/shared-pin")

Cli = Callable[..., Result]


def init_and_load(cli: Cli, repo: Path, mount: str = "secret", *clusters: str) -> Result:
    init = ("secrets", "init", str(repo), "--mount", mount)
    assert cli(*init, *(f"--cluster={c}" for c in clusters)).code == 0
    result = cli("secrets", "load", str(repo), "--mount", mount)
    assert result.code == 0, result
    return result


# -------------------------------------------------------------------------------------- check


def test_check_accepts_a_complete_file(cli: Cli, repo: Path, home: Path) -> None:
    write_filled(home)
    result = cli("secrets", "check", str(repo))
    assert result.code == 0, result
    assert "6 field(s) checked" in result.out and "0 error(s), 0 warning(s)" in result.out
    assert_no_values_shown(result)


def test_check_reports_each_problem_where_it_is_without_showing_values(
    cli: Cli, repo: Path, home: Path
) -> None:
    data = filled_data()
    del data["secrets"][1]  # hub-only
    data["secrets"][0]["fields"].pop()  # db.password
    data["secrets"][0]["fields"].append({"name": "extra", "value": PLANTED[1]})
    cert = data["secrets"][1]["fields"]
    cert[0]["path"] = "~/missing.bin"
    cert[1]["path"] = "~/ca.bin"  # binary content, but no base64: true
    data["secrets"].append({"name": "typo", "fields": [{"name": "x", "value": PLANTED[0]}]})
    data["secrets"][2]["fields"][0]["value"] = None
    data["secrets"][2]["fields"][0]["onMissingValue"] = "error"
    del data["secrets"][2]["fields"][0]["vaultPolicy"]
    path = write_filled(home, data)
    result = cli("secrets", "check", str(repo))
    assert result.code == 1
    for rule, where in (
        ("values-secret/missing-secret", f"{path}:1:1"),
        ("values-secret/missing-field", "secret 'db' lacks the template's field 'password'"),
        ("values-secret/unknown-field", "field 'extra' of secret 'db'"),
        ("values-secret/unknown-secret", "secret 'typo'"),
        ("values-secret/unreadable", "edge-cert.ca: cannot read"),
        ("values-secret/unreadable", "edge-cert.pem: "),
        ("values-secret/no-value", "shared-pin.pin has no value"),
    ):
        line = next(
            line for line in result.out.splitlines() if f"[{rule}]" in line and where in line
        )
        assert line.startswith(str(path))
    assert "add 'base64: true'" in result.out
    assert "secret 'hub-only' of the template is missing" in result.out
    assert_no_values_shown(result)


def test_check_refuses_a_file_for_another_backing_store(cli: Cli, repo: Path, home: Path) -> None:
    data = filled_data()
    data["secrets"] = [s for s in data["secrets"] if s["name"] in ("hub-only", "edge-cert")]
    data["backingStore"] = "kubernetes"
    path = write_filled(home, data)
    result = cli("secrets", "check", str(repo))
    assert result.code == 1
    assert f"{path}:1:1: error: the file is for the 'kubernetes' backing store" in result.out


def test_check_structural_errors_do_not_show_values(cli: Cli, repo: Path, home: Path) -> None:
    data = filled_data()
    data["secrets"][0]["fields"][0]["path"] = "~/cert.pem"  # value and path together
    data["secrets"][1]["fields"][0]["onMissingValue"] = "generate"  # generate with a value
    data["secrets"][1]["fields"][0]["vaultPolicy"] = "nope"
    write_filled(home, data)
    result = cli("secrets", "check", str(repo))
    assert result.code == 1
    assert "value, path and ini_file are alternatives" in result.out
    assert "a generated field takes no value" in result.out
    assert "no vault policy named 'nope'" in result.out
    assert_no_values_shown(result)


@pytest.mark.parametrize(
    "broken",
    [f"value: !{PLANTED[1]}", f"value: {PLANTED[1]}: x", f"value: *{PLANTED[1]}"],
)
def test_yaml_errors_in_the_file_do_not_show_values(
    cli: Cli, repo: Path, home: Path, broken: str
) -> None:
    path = write_filled(home)
    text = path.read_text(encoding="utf-8").replace(f"value: {PLANTED[1]}", broken)
    assert broken in text
    path.write_text(text, encoding="utf-8")
    result = cli("secrets", "check", str(repo))
    assert result.code == 1
    assert f"{path}:" in result.err and "invalid YAML here" in result.err
    assert_no_values_shown(result)


def test_check_warns_about_where_the_file_is_kept(cli: Cli, repo: Path, home: Path) -> None:
    inside = write_filled(repo, name="values-secret.yaml")
    result = cli("secrets", "check", str(repo), "--values-secret", str(inside))
    assert result.code == 1
    assert "[values-secret/file-in-repo]" in result.out

    write_filled(home)  # the files its paths name
    folder = home / "dotfiles"
    tracked = write_filled(folder, name="secrets.yaml")
    tracked.chmod(0o644)
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), "add", "secrets.yaml"], check=True)
    result = cli("secrets", "check", str(repo), "--values-secret", str(tracked))
    assert result.code == 0, result
    assert "[values-secret/file-tracked]" in result.out
    assert (
        "(mode 644) [values-secret/file-mode]" in result.out
        and f"chmod 600 {tracked}" in result.out
    )


def test_check_without_a_file_says_how_to_make_one(cli: Cli, repo: Path, home: Path) -> None:
    result = cli("secrets", "check", str(repo))
    assert result.code == 2
    assert f"no values-secret file at {home}/values-secret-shop.yaml" in result.err
    assert "copy values-secret.yaml.template" in result.err


def test_help_shows_the_actions_and_examples(cli: Cli) -> None:
    result = cli("secrets", "--help")
    assert result.code == 0
    assert all(action in result.out for action in ("check", "init", "load"))
    for action in ("check", "init", "load"):
        assert "examples:" in cli("secrets", action, "--help").out
    assert cli("secrets").code == 2


# --------------------------------------------------------------------------------- init, load


def test_init_prepares_vault_once_and_says_what_remains(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, fresh_openbao: OpenBao
) -> None:
    use_vault(monkeypatch, fresh_openbao)
    first = cli("secrets", "init", str(repo), "--cluster", "edge=edge1.example.com")
    assert first.code == 0, first
    for line in (
        "unchanged KV version 2 secrets engine secret/",  # the dev server has one
        "created   password policy validatedPatternDefaultPolicy",
        "created   password policy pinPolicy",
        "created   ACL policy global-secret",
        "created   ACL policy pushsecrets-secret",
        "created   ACL policy hub-secret",
        "created   ACL policy edge1.example.com-secret",
        "created   Kubernetes auth auth/hub/",
        "created   role auth/hub/role/hub-role",
        "created   Kubernetes auth auth/edge1.example.com/",
        "created   role auth/edge1.example.com/role/edge1.example.com-role",
        "configure auth/hub: pass the kubeconfig of group hub in --kubeconfig-dir",
    ):
        assert line in first.out, first.out
    # as rhvp.cluster_utils vault_utils writes it (vault_spokes_init.yaml)
    role = fresh_openbao.client().read("auth/edge1.example.com/role/edge1.example.com-role")
    assert role["data"]["bound_service_account_names"] == ["ocp-external-secrets"]
    assert role["data"]["bound_service_account_namespaces"] == ["external-secrets"]
    assert role["data"]["token_policies"] == [
        "default",
        "global-secret",
        "pushsecrets-secret",
        "edge1.example.com-secret",
    ]
    assert role["data"]["token_ttl"] == 900

    again = cli("secrets", "init", str(repo), "--cluster", "edge=edge1.example.com")
    assert again.code == 0
    assert "created" not in again.out and "updated" not in again.out

    bad = cli("secrets", "init", str(repo), "--cluster", "nowhere=x.example.com")
    assert bad.code == 2 and "managed groups: edge" in bad.err


def test_load_stores_exact_values_each_group_reads_only_its_own(
    cli: Cli, repo: Path, home: Path, monkeypatch: pytest.MonkeyPatch, fresh_openbao: OpenBao
) -> None:
    write_filled(home)
    use_vault(monkeypatch, fresh_openbao)
    result = init_and_load(cli, repo, "secret", "edge=edge1.example.com")
    assert "5 created, 0 updated, 0 unchanged" in result.out
    assert_no_values_shown(result)

    # the loader's policies: the hub reads global/ and hub/, a spoke global/ and its own
    # <cluster domain>/ only (a group prefix such as edge/ is read by no cluster)
    hub = fresh_openbao.client(fresh_openbao.token_with_policies("global-secret", "hub-secret"))
    edge = fresh_openbao.client(
        fresh_openbao.token_with_policies("global-secret", "edge1.example.com-secret")
    )
    readable = {hub: {"global/db", "hub/hub-only", "hub/shared-pin"}, edge: {"global/db"}}
    # the roles the upstream store logs in with (names.py) carry exactly what their cluster reads
    root = fresh_openbao.client()
    for role_path, paths in (
        (f"auth/{names.HUB_AUTH_MOUNT}/role/{names.HUB_VAULT_ROLE}", readable[hub]),
        (
            "auth/edge1.example.com/role/" + names.spoke_vault_role("edge1.example.com"),
            {"global/db"},
        ),
    ):
        role = root.read(role_path)["data"]
        assert role["bound_service_account_names"] == [names.ESO_SERVICE_ACCOUNT]
        assert role["bound_service_account_namespaces"] == [names.ESO_NAMESPACE]
        as_role = fresh_openbao.client(fresh_openbao.token_with_policies(*role["token_policies"]))
        granted = vault.capabilities(as_role, [f"secret/data/{p}" for p in PATHS])
        assert {p for p in PATHS if "read" in granted[f"secret/data/{p}"]} == paths
    from hvac.exceptions import Forbidden

    for client, allowed in readable.items():
        for path in PATHS:
            if path in allowed:
                client.secrets.kv.v2.read_secret_version(
                    path=path, mount_point="secret", raise_on_deleted_version=True
                )
            else:
                with pytest.raises(Forbidden):
                    client.secrets.kv.v2.read_secret_version(
                        path=path, mount_point="secret", raise_on_deleted_version=True
                    )

    db = read(fresh_openbao, "secret", "global/db")
    cert = read(fresh_openbao, "secret", "edge/edge-cert")
    assert db is not None and cert is not None
    assert db["user"] == PLANTED[0]
    assert len(db["password"]) == 20
    assert cert["pem"] == PEM
    assert base64.b64decode(cert["ca"]) == BINARY
    assert read(fresh_openbao, "secret", "hub/hub-only") == {"token": PLANTED[1]}
    pins = [read(fresh_openbao, "secret", f"{p}/shared-pin") for p in ("hub", "edge")]
    assert pins[0] == pins[1] and pins[0] is not None
    assert len(pins[0]["pin"]) == 12 and pins[0]["pin"].isdigit()


def test_reload_changes_nothing_and_keeps_generated_values(
    cli: Cli, repo: Path, home: Path, monkeypatch: pytest.MonkeyPatch, openbao: OpenBao
) -> None:
    write_filled(home)
    use_vault(monkeypatch, openbao)
    mount = openbao.new_kv_mount()
    init_and_load(cli, repo, mount)
    before = {path: (read(openbao, mount, path), version(openbao, mount, path)) for path in PATHS}

    again = cli("secrets", "load", str(repo), "--mount", mount)
    assert again.code == 0
    assert "0 created, 0 updated, 5 unchanged" in again.out
    assert {
        path: (read(openbao, mount, path), version(openbao, mount, path)) for path in PATHS
    } == (before)

    (home / "cert.pem").write_text(PEM + "renewed\n", encoding="utf-8")
    changed = cli("secrets", "load", str(repo), "--mount", mount)
    assert f"updated   {mount}/data/edge/edge-cert (pem)" in changed.out
    assert "0 created, 1 updated, 4 unchanged" in changed.out
    assert read(openbao, mount, "global/db") == before["global/db"][0]


def test_override_generates_a_new_value_on_every_load(
    cli: Cli, repo: Path, home: Path, monkeypatch: pytest.MonkeyPatch, openbao: OpenBao
) -> None:
    data = filled_data()
    data["secrets"][3]["fields"][0]["override"] = True
    write_filled(home, data)
    use_vault(monkeypatch, openbao)
    mount = openbao.new_kv_mount()
    init_and_load(cli, repo, mount)
    first = read(openbao, mount, "hub/shared-pin")
    result = cli("secrets", "load", str(repo), "--mount", mount)
    assert f"updated   {mount}/data/hub/shared-pin (pin)" in result.out
    assert f"updated   {mount}/data/edge/shared-pin (pin)" in result.out
    second = read(openbao, mount, "hub/shared-pin")
    assert second != first and second == read(openbao, mount, "edge/shared-pin")


# ----------------------------------------------------------------------------------- failures


def test_load_refuses_a_file_with_problems_and_writes_nothing(
    cli: Cli, repo: Path, home: Path, monkeypatch: pytest.MonkeyPatch, openbao: OpenBao
) -> None:
    data = filled_data()
    data["secrets"][2]["fields"][1]["path"] = "~/gone.pem"
    write_filled(home, data)
    use_vault(monkeypatch, openbao)
    mount = openbao.new_kv_mount()
    result = cli("secrets", "load", str(repo), "--mount", mount)
    assert "1 problem(s) above; nothing was loaded" in one_error_line(result)
    assert "[values-secret/unreadable]" in result.err
    assert all(read(openbao, mount, path) is None for path in PATHS)


def test_load_asks_for_prompted_values_only_on_a_terminal(
    cli: Cli, repo: Path, home: Path, monkeypatch: pytest.MonkeyPatch, openbao: OpenBao
) -> None:
    data = filled_data()
    data["secrets"][1]["fields"][0]["value"] = None
    write_filled(home, data)
    use_vault(monkeypatch, openbao)
    mount = openbao.new_kv_mount()
    assert "will ask for it" in cli("secrets", "check", str(repo)).out
    result = cli("secrets", "load", str(repo), "--mount", mount)
    assert "hub-only.token needs a value and there is no terminal" in one_error_line(result)
    assert all(read(openbao, mount, path) is None for path in PATHS)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("unreachable", "cannot reach Vault at http://127.0.0.1:"),
        ("wrong-token", "rejected the token (invalid or expired): pass a valid one"),
        ("no-mount", "no KV version 2 secrets engine at 'no-such-mount/'"),
        ("read-only-token", "permission denied: the token may not create"),
        ("no-address", "no Vault address: set VAULT_ADDR"),
    ],
)
def test_load_failures_are_one_line_and_write_nothing(
    cli: Cli,
    repo: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    openbao: OpenBao,
    setting: str,
    message: str,
) -> None:
    write_filled(home)
    use_vault(monkeypatch, openbao)
    mount = openbao.new_kv_mount()
    init = ("secrets", "init", str(repo), "--mount", mount, "--cluster", "edge=edge1.example.com")
    assert cli(*init).code == 0
    args = ["secrets", "load", str(repo), "--mount", mount]
    if setting == "unreachable":
        from tests.openbao import _free_port

        monkeypatch.setenv("VAULT_ADDR", f"http://127.0.0.1:{_free_port()}")
    elif setting == "wrong-token":
        monkeypatch.setenv("VAULT_TOKEN", "not-a-token")
    elif setting == "no-mount":
        args[-1] = "no-such-mount"
    elif setting == "read-only-token":
        # may write the global secret but not the others: still nothing may be written
        policy = f'path "{mount}/data/*" {{ capabilities = ["read"] }}\n'
        policy += (
            f'path "{mount}/data/global/*" {{ capabilities = ["read", "create", "update"] }}\n'
        )
        policy += 'path "sys/policies/password/*" { capabilities = ["read"] }\n'
        policy += f'path "sys/internal/ui/mounts/{mount}" {{ capabilities = ["read"] }}\n'
        openbao.client().sys.create_or_update_acl_policy(f"{mount}-partial", policy)
        monkeypatch.setenv("VAULT_TOKEN", openbao.token_with_policies(f"{mount}-partial"))
    elif setting == "no-address":
        monkeypatch.delenv("VAULT_ADDR")
    result = cli(*args)
    assert message in one_error_line(result)
    assert all(read(openbao, mount, path) is None for path in PATHS)
    assert_no_values_shown(result)


def test_init_with_a_token_that_may_not_configure_vault(
    cli: Cli, repo: Path, monkeypatch: pytest.MonkeyPatch, openbao: OpenBao
) -> None:
    use_vault(monkeypatch, openbao, openbao.token_with_policies("default"))
    line = one_error_line(cli("secrets", "init", str(repo)))
    assert "permission denied by Vault to list the secrets engines" in line


def test_load_into_a_sealed_vault_says_to_unseal(
    cli: Cli, repo: Path, home: Path, monkeypatch: pytest.MonkeyPatch, fresh_openbao: OpenBao
) -> None:
    write_filled(home)
    use_vault(monkeypatch, fresh_openbao)
    fresh_openbao.bao("operator", "seal")
    result = cli("secrets", "load", str(repo))
    assert "is sealed: run 'mcg-gen secrets unseal --keys-file FILE'" in one_error_line(result)


def test_load_without_password_policies_says_to_run_init(
    cli: Cli, repo: Path, home: Path, monkeypatch: pytest.MonkeyPatch, fresh_openbao: OpenBao
) -> None:
    write_filled(home)
    use_vault(monkeypatch, fresh_openbao)
    result = cli("secrets", "load", str(repo))
    line = one_error_line(result)
    assert "Vault has no password policy" in line and "run 'mcg-gen secrets init'" in line
    assert all(read(fresh_openbao, "secret", path) is None for path in PATHS)


# ------------------------------------------------------------------------------------- ctrl-c

MANY = 100  # more lines of output than the pipe below holds


def test_ctrl_c_during_a_load_leaves_a_state_a_rerun_completes(
    tmp_path: Path, openbao: OpenBao
) -> None:
    """A real SIGINT to a real `mcg-gen secrets load`. The load cannot finish before the signal:
    its output goes to a one-page pipe nobody reads until the signal has been sent."""
    home = tmp_path / "home"
    repo = write_repo(tmp_path / "repo")
    many = {
        "version": "2.0",
        "secrets": [
            {
                "name": f"s{i:03}",
                "vaultPrefixes": ["hub", "edge"] if i % 2 else ["global"],
                "fields": [
                    {"name": "given", "value": f"value-{i}"},
                    {"name": "made", "onMissingValue": "generate", "vaultPolicy": "pinPolicy"},
                ],
            }
            for i in range(MANY)
        ],
    }
    template = {**many, "vaultPolicies": TEMPLATE["vaultPolicies"]}
    (repo / "values-secret.yaml.template").write_text(yaml.safe_dump(template), encoding="utf-8")
    write_filled(home, template)
    mount = openbao.new_kv_mount()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "PYTHONPATH": str(PROJECT),
        "PYTHONUNBUFFERED": "1",
        "VAULT_ADDR": openbao.addr,
        "VAULT_TOKEN": openbao.token,
    }
    command = [sys.executable, "-m", "generator", "secrets"]
    init = subprocess.run([*command, "init", str(repo), "--mount", mount], env=env, check=False)
    assert init.returncode == 0

    reader, writer = os.pipe()
    fcntl.fcntl(writer, fcntl.F_SETPIPE_SZ, 4096)
    load = [*command, "load", str(repo), "--mount", mount]
    process = subprocess.Popen(
        load, env=env, stdout=writer, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    os.close(writer)
    client = openbao.client()
    deadline = time.monotonic() + 60  # a safety net, not a measurement
    while not _written_paths(client, mount) and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    with os.fdopen(reader, "rb") as out:
        out.read()
    assert process.wait(timeout=60) == 130
    assert process.stderr is not None
    err = process.stderr.read().decode()
    assert "secret(s) not yet written" in err and "run 'mcg-gen secrets load' again" in err
    assert 0 < len(_written_paths(client, mount)) < MANY * 3 // 2 + 1

    rerun = subprocess.run(load, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    paths = MANY // 2 + (MANY // 2) * 2
    assert len(_written_paths(client, mount)) == paths
    for i in range(1, MANY, 2):
        hub, edge = (read(openbao, mount, f"{p}/s{i:03}") for p in ("hub", "edge"))
        assert hub == edge and hub is not None and hub["given"] == f"value-{i}"
    final = subprocess.run(load, env=env, capture_output=True, text=True, check=False)
    assert f"0 created, 0 updated, {paths} unchanged" in final.stdout


def _written_paths(client: Any, mount: str) -> list[str]:
    from hvac.exceptions import InvalidPath

    found = []
    for prefix in ("global", "hub", "edge"):
        try:
            keys = client.secrets.kv.v2.list_secrets(path=prefix, mount_point=mount)["data"]["keys"]
        except InvalidPath:
            keys = []
        found += [f"{prefix}/{key}" for key in keys]
    return found


def test_a_generated_repository_from_template_to_vault(
    cli: Cli,
    example_repo: Callable[[str], Path],
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_openbao: OpenBao,
) -> None:
    """The walk-through of the README: copy the template, fill it in, check, init, load."""
    repo = example_repo("industrial-edge")
    filled = yaml.safe_load((repo / "values-secret.yaml.template").read_text(encoding="utf-8"))
    s3, git = filled["secrets"]
    s3["fields"][0]["value"] = PLANTED[0]
    git["fields"][0]["value"] = PLANTED[1]
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text(PEM, encoding="utf-8")
    write_filled(home, filled, name="values-secret-industrial-edge.yaml")

    checked = cli("secrets", "check", str(repo))
    assert checked.code == 0, checked
    use_vault(monkeypatch, fresh_openbao)
    loaded = init_and_load(cli, repo)
    assert "2 created, 0 updated, 0 unchanged" in loaded.out
    assert_no_values_shown(checked)
    assert_no_values_shown(loaded)

    hub = fresh_openbao.client(fresh_openbao.token_with_policies("hub-secret"))
    stored = vault.read_secret(hub, "secret", "hub", "git-token")
    assert stored == {"token": PLANTED[1], "ssh-key": PEM}
    factory = fresh_openbao.client(fresh_openbao.token_with_policies("global-secret"))
    with pytest.raises(McgError, match="permission denied"):
        vault.read_secret(factory, "secret", "hub", "s3-credentials")
