"""Kubeconfig files as Vault's Kubernetes auth reads them: the context's API server, CA and
token; every malformed file a clear McgError at its line, never a traceback."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from generator.errors import McgError
from generator.model.kubeconfig import cluster_access, find_kubeconfig

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
CA_DATA = base64.b64encode(PEM.encode()).decode()


def write(folder: Path, text: str, name: str = "hub") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_current_context_is_used_with_a_ca_file_and_a_token_file(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text(PEM, encoding="ascii")
    (tmp_path / "token").write_text("reviewer-token\n", encoding="ascii")
    path = write(
        tmp_path,
        "clusters:\n"
        "- {name: other, cluster: {server: 'https://api.other.example.com:6443'}}\n"
        "- {name: east, cluster: {server: 'https://api.east1.example.com:6443',"
        " certificate-authority: ca.crt}}\n"
        "users:\n- {name: me, user: {tokenFile: token}}\n"
        "contexts:\n- {name: a, context: {cluster: other, user: me}}\n"
        "- {name: b, context: {cluster: east, user: me}}\n"
        "current-context: b\n",
        "east.kubeconfig",
    )
    access = cluster_access(path)
    assert access.host == "https://api.east1.example.com:6443"
    assert access.ca_pem == PEM and access.reviewer_jwt == "reviewer-token"
    assert access.cluster_domain == "east1.example.com"
    assert find_kubeconfig(tmp_path, "east") == path
    assert find_kubeconfig(tmp_path, "west") is None


def test_one_cluster_and_user_without_contexts_are_used(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"clusters:\n- {{name: c, cluster: {{server: 'https://10.0.0.1:6443', "
        f"certificate-authority-data: {CA_DATA}}}}}\nusers:\n- {{name: u, user: {{token: t}}}}\n",
    )
    access = cluster_access(path)
    assert access.reviewer_jwt == "t" and access.cluster_domain is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]\n", "has no context"),
        ("current-context: x\ncontexts: []\n", "names no context 'x'"),
        (
            "contexts:\n- {name: a, context: {cluster: [x], user: u}}\n",
            "names no cluster '['x']'",
        ),
        (
            "contexts:\n- {name: a, context: {}}\n- {name: b, context: {}}\n",
            "has several contexts",
        ),
        (
            "clusters:\n- {name: c, cluster: {server: 'http://plain:80'}}\n"
            "users:\n- {name: u, user: {token: t}}\n",
            "has no https server URL",
        ),
        (
            "clusters:\n- {name: c, cluster: {server: 'https://api.x.io'}}\n"
            "users:\n- {name: u, user: {token: t}}\n",
            "has no certificate-authority-data nor certificate-authority",
        ),
        (
            "clusters:\n- {name: c, cluster: {server: 'https://api.x.io',"
            " certificate-authority-data: '%%%'}}\nusers:\n- {name: u, user: {token: t}}\n",
            "is not base64 of a PEM",
        ),
        (
            f"clusters:\n- {{name: c, cluster: {{server: 'https://api.x.io',"
            f" certificate-authority-data: {base64.b64encode(b'junk').decode()}}}}}\n"
            "users:\n- {name: u, user: {token: t}}\n",
            "holds no PEM certificate",
        ),
        (
            f"clusters:\n- {{name: c, cluster: {{server: 'https://api.x.io',"
            f" certificate-authority-data: {CA_DATA}}}}}\n"
            "users:\n- {name: u, user: {exec: {command: oc}}}\n",
            "has no token nor tokenFile",
        ),
        (
            "clusters:\n- {name: c, cluster: {server: 'https://api.x.io',"
            " certificate-authority: /nonexistent/ca.crt}}\n"
            "users:\n- {name: u, user: {token: t}}\n",
            "cannot read the CA file",
        ),
        ("clusters: 7\nusers: {a: b}\ncontexts: x\n", "has no context"),
    ],
)
def test_malformed_kubeconfigs_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(McgError) as raised:
        cluster_access(path)
    assert message in raised.value.message
    assert "token: t" not in str(raised.value)
