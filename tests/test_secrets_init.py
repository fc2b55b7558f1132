"""`mcg-gen secrets init` and `unseal` from zero, against an OpenBao server that is not in dev
mode (storage on disk, a configuration file): uninitialised -> initialised and unsealed ->
prepared (Kubernetes auth configured from kubeconfigs) -> loaded -> restarted, hence sealed ->
unsealed from the keys file, with everything still there. No Vault client is mocked.
"""

from __future__ import annotations

import base64
import http.server
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hvac.exceptions import Forbidden

from tests.conftest import Result
from tests.openbao import StoredOpenBao, serve_locally

Cli = Callable[..., Result]
CHANGED = ("created", "updated", "would create", "would update")

TEMPLATE = """\
version: "2.0"
secrets:
  - name: db
    vaultPrefixes: [global]
    fields:
      - name: password
        onMissingValue: generate
        vaultPolicy: validatedPatternDefaultPolicy
  - name: edge-token
    vaultPrefixes: [edge]
    fields:
      - name: token
        value: edge-token-value
"""


def _jwt(subject: str) -> str:
    """A token of the shape Kubernetes issues (header.payload.signature, base64url)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    header = part(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    return f"{header}.{part(json.dumps({'sub': subject}).encode())}.{part(b'signature')}"


@pytest.fixture(scope="module")
def ca_pem(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real self-signed CA certificate (made with openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a CA certificate")
    folder = tmp_path_factory.mktemp("ca")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.pem")),
            *("-subj", "/CN=mcg-gen test cluster CA"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return (folder / "ca.pem").read_text(encoding="ascii")


def write_repo(root: Path) -> Path:
    root.mkdir(parents=True)
    files = {
        "values-global.yaml": {"global": {"pattern": "zero"}, "main": {"clusterGroupName": "hub"}},
        "values-hub.yaml": {"clusterGroup": {"name": "hub", "isHubCluster": True}},
        "values-edge.yaml": {"clusterGroup": {"name": "edge", "isHubCluster": False}},
    }
    for name, data in files.items():
        (root / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    (root / "values-secret.yaml.template").write_text(TEMPLATE, encoding="utf-8")
    return root


def write_kubeconfig(path: Path, server: str, ca: str, token: str) -> None:
    """A kubeconfig as `oc login` writes one: a cluster, a user with a token, a context."""
    encoded = base64.b64encode(ca.encode()).decode()
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {"server": server, "certificate-authority-data": encoded},
                    }
                ],
                "users": [{"name": "u", "user": {"token": token}}],
                "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "ctx",
            }
        ),
        encoding="utf-8",
    )


@pytest.fixture
def setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stored_openbao: StoredOpenBao, ca_pem: str
) -> dict[str, Any]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("VAULT_ADDR", stored_openbao.addr)
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.delenv("VAULT_CACERT", raising=False)
    kubeconfigs = home / "kubeconfigs"
    kubeconfigs.mkdir()
    tokens = {"hub": _jwt("system:serviceaccount:vault:reviewer"), "edge": _jwt("edge:reviewer")}
    write_kubeconfig(kubeconfigs / "hub", "https://api.hub.example.com:6443", ca_pem, tokens["hub"])
    write_kubeconfig(
        kubeconfigs / "edge.yaml", "https://api.edge1.example.com:6443", ca_pem, tokens["edge"]
    )
    filled = home / "values-secret-zero.yaml"
    filled.write_text(TEMPLATE, encoding="utf-8")
    filled.chmod(0o600)
    return {
        "repo": write_repo(tmp_path / "repo"),
        "home": home,
        "kubeconfigs": kubeconfigs,
        "tokens": tokens,
        "keys": home / "vault-keys.json",
    }


def changes(result: Result) -> list[str]:
    return [line for line in result.out.splitlines() if line.strip().startswith(CHANGED)]


def test_init_from_zero_to_loaded_and_unseal_after_a_restart(
    cli: Cli, setup: dict[str, Any], stored_openbao: StoredOpenBao, ca_pem: str
) -> None:
    repo, keys, kubeconfigs = setup["repo"], setup["keys"], str(setup["kubeconfigs"])
    init = ("secrets", "init", str(repo), "--keys-file", str(keys), "--kubeconfig-dir", kubeconfigs)
    assert stored_openbao.status()["initialized"] is False

    # a dry run on an uninitialised Vault: every step listed, nothing done
    dry = cli(*init, "--dry-run")
    assert dry.code == 0, dry
    assert "would initialise Vault" in dry.out
    for step in (
        "would create KV version 2 secrets engine secret/",
        "would create password policy validatedPatternDefaultPolicy",
        "would create ACL policy global-secret",
        "would create ACL policy edge1.example.com-secret",
        "would create Kubernetes auth auth/hub/",
        "would create configuration auth/hub/config (API server https://api.hub.example.com:6443)",
        "would create Kubernetes auth auth/edge1.example.com/",
        "would create role auth/edge1.example.com/role/edge1.example.com-role",
    ):
        assert step in dry.out, dry.out
    assert not keys.exists() and stored_openbao.status()["initialized"] is False

    # the keys never go into the repository, nor over a file that exists
    inside = cli("secrets", "init", str(repo), "--keys-file", str(repo / "keys.json"))
    assert inside.code == 2 and "inside the repository" in inside.err
    taken = setup["home"] / "taken.json"
    taken.write_text("{}", encoding="utf-8")
    refused = cli("secrets", "init", str(repo), "--keys-file", str(taken))
    assert refused.code == 2 and "exists" in refused.err
    assert not (repo / "keys.json").exists() and taken.read_text(encoding="utf-8") == "{}"
    assert stored_openbao.status()["initialized"] is False
    needs = cli("secrets", "init", str(repo))
    assert needs.code == 1 and "is not initialised: pass --keys-file FILE" in needs.err

    first = cli(*init)
    assert first.code == 0, first
    assert keys.stat().st_mode & 0o777 == 0o600
    written = json.loads(keys.read_text(encoding="utf-8"))
    assert len(written["unseal_keys_b64"]) == 5 and written["unseal_threshold"] == 3
    root = written["root_token"]
    for secret in (
        root,
        *written["unseal_keys_b64"],
        *written["unseal_keys_hex"],
        *setup["tokens"].values(),
    ):
        assert secret not in first.out + first.err
    assert "Vault is prepared" in first.out and "still to do" not in first.out
    status = stored_openbao.status()
    assert status["initialized"] is True and status["sealed"] is False

    client = stored_openbao.client(root)
    for mount, host in (
        ("hub", "https://api.hub.example.com:6443"),
        ("edge1.example.com", "https://api.edge1.example.com:6443"),
    ):
        config = client.read(f"auth/{mount}/config")["data"]
        assert config["kubernetes_host"] == host
        assert config["kubernetes_ca_cert"].strip() == ca_pem.strip()
        assert config["token_reviewer_jwt_set"] is True
    role = client.read("auth/edge1.example.com/role/edge1.example.com-role")["data"]
    policies = ["default", "global-secret", "pushsecrets-secret", "edge1.example.com-secret"]
    assert role["token_policies"] == policies
    edge_policy = client.read("sys/policies/acl/edge1.example.com-secret")["data"]["policy"]
    assert 'path "secret/data/edge1.example.com/*"' in edge_policy
    assert "hub" not in edge_policy
    # what the edge clusters' External Secrets may do with it: PushSecrets under pushsecrets/
    edge_token = client.auth.token.create(policies=policies, ttl="10m")["auth"]
    as_edge = stored_openbao.client(edge_token["client_token"])
    as_edge.secrets.kv.v2.create_or_update_secret(
        path="pushsecrets/made-on-edge", secret={"k": "v"}, mount_point="secret"
    )
    with pytest.raises(Forbidden):
        as_edge.secrets.kv.v2.create_or_update_secret(
            path="edge1.example.com/edge-token", secret={"k": "v"}, mount_point="secret"
        )

    # the root token of the keys file serves when no VAULT_TOKEN is set; nothing changes
    again = cli(*init)
    assert again.code == 0, again
    assert changes(again) == []
    dry_again = cli(*init, "--dry-run")
    assert dry_again.code == 0 and changes(dry_again) == []

    loaded = cli("secrets", "load", str(repo), "--token", root)
    assert loaded.code == 0, loaded
    edge = client.secrets.kv.v2.read_secret_version(
        path="edge/edge-token", mount_point="secret", raise_on_deleted_version=True
    )
    assert edge["data"]["data"] == {"token": "edge-token-value"}

    # a restart seals it; load says how to unseal; unseal does; everything is still there
    stored_openbao.restart()
    assert stored_openbao.status()["sealed"] is True
    sealed = cli("secrets", "load", str(repo), "--token", root)
    assert sealed.code == 1 and "secrets unseal --keys-file" in sealed.err
    unsealed = cli("secrets", "unseal", "--keys-file", str(keys))
    assert unsealed.code == 0, unsealed
    assert "unsealed  Vault with 3 key share(s)" in unsealed.out
    assert root not in unsealed.out + unsealed.err
    assert stored_openbao.status()["sealed"] is False
    nothing = cli("secrets", "unseal", "--keys-file", str(keys))
    assert nothing.code == 0 and "is not sealed: nothing to do" in nothing.out
    reloaded = cli("secrets", "load", str(repo), "--token", root)
    assert reloaded.code == 0 and "0 created, 0 updated, 2 unchanged" in reloaded.out

    # init unseals a sealed Vault itself, from the same file
    stored_openbao.restart()
    resumed = cli(*init)
    assert resumed.code == 0, resumed
    assert "unsealed  Vault" in resumed.out and changes(resumed) == []


def test_unseal_with_the_keys_of_another_vault_says_so(
    cli: Cli, setup: dict[str, Any], stored_openbao: StoredOpenBao
) -> None:
    keys = setup["keys"]
    assert cli("secrets", "init", str(setup["repo"]), "--keys-file", str(keys)).code == 0
    stored_openbao.restart()
    other = setup["home"] / "other.json"
    written = json.loads(keys.read_text(encoding="utf-8"))
    fake = base64.b64encode(b"\0" * 33).decode()
    other.write_text(json.dumps({**written, "unseal_keys_b64": [fake] * 3}), encoding="utf-8")
    other.chmod(0o600)
    result = cli("secrets", "unseal", "--keys-file", str(other))
    assert result.code == 1
    assert "Traceback" not in result.err and fake not in result.err
    assert stored_openbao.status()["sealed"] is True
    broken = setup["home"] / "broken.json"
    broken.write_text("not json", encoding="utf-8")
    assert "cannot read the keys file" in cli("secrets", "unseal", "--keys-file", str(broken)).err


def test_kubernetes_auth_from_flags_and_bad_kubeconfigs(
    cli: Cli, setup: dict[str, Any], stored_openbao: StoredOpenBao, ca_pem: str, tmp_path: Path
) -> None:
    repo, keys, home = setup["repo"], setup["keys"], setup["home"]
    (home / "ca.pem").write_text(ca_pem, encoding="ascii")
    (home / "jwt").write_text(setup["tokens"]["edge"] + "\n", encoding="ascii")
    flags = [
        "--kubernetes-host",
        "edge=https://api.edge2.example.com:6443",
        "--kubernetes-ca",
        f"edge={home / 'ca.pem'}",
        "--token-reviewer-jwt",
        f"edge={home / 'jwt'}",
    ]
    result = cli("secrets", "init", str(repo), "--keys-file", str(keys), *flags)
    assert result.code == 0, result
    root = json.loads(keys.read_text(encoding="utf-8"))["root_token"]
    config = stored_openbao.client(root).read("auth/edge2.example.com/config")["data"]
    assert config["kubernetes_host"] == "https://api.edge2.example.com:6443"
    # the hub has no kubeconfig here: what remains to do is said
    assert "configure auth/hub: pass the kubeconfig of group hub" in result.out

    partial = cli("secrets", "init", str(repo), "--kubernetes-host", "edge=https://api.x.io")
    assert partial.code == 2 and "needs the API server URL, the CA" in partial.err
    unknown = cli("secrets", "init", str(repo), "--kubernetes-host", "nope=https://api.x.io")
    assert unknown.code == 2 and "cluster groups: edge, hub" in unknown.err

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "hub.kubeconfig").write_text(
        "clusters:\n- name: c\n  cluster:\n    server: https://api.hub.example.com:6443\n"
        "users:\n- name: u\n  user:\n    token: t\n",
        encoding="utf-8",
    )
    no_ca = cli("secrets", "init", str(repo), "--kubeconfig-dir", str(bad))
    assert no_ca.code == 1 and "Vault needs the cluster's CA" in no_ca.err
    assert f"{bad / 'hub.kubeconfig'}:" in no_ca.err and "Traceback" not in no_ca.err


@pytest.fixture
def failing_init() -> Iterator[str]:
    """A server that says it is an uninitialised Vault, then fails the init request."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, code: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer(200, {"initialized": False, "sealed": True, "t": 0, "n": 0})

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(500, {"errors": ["storage is on fire"]})

        def log_message(self, *args: object) -> None:
            pass

    yield from serve_locally(Handler)


def test_a_failed_init_leaves_no_keys_file(
    cli: Cli, setup: dict[str, Any], failing_init: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_ADDR", failing_init)
    result = cli("secrets", "init", str(setup["repo"]), "--keys-file", str(setup["keys"]))
    assert result.code == 1
    assert "Vault refused to initialise: storage is on fire" in result.err
    assert "Traceback" not in result.err
    assert not setup["keys"].exists()
