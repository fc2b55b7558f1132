"""A sandbox for attacking mcg-gen through its command line with a hostile repository.

`Sandbox` is a folder holding `home/` (the HOME of every run), canary files with random content
(`home/.ssh/id_rsa`, `home/.aws/credentials`, `home/.kube/config`, `outside/secret.txt` beside the
repository), the temporary folder and the validation cache of the runs, and `repo/`: a real git
repository (a generated pattern, committed). Runs are child processes bounded in address space
and time; every HTTP client that honours the proxy variables is pointed at a loopback listener.

`Sandbox.assert_safe` is what every attack must leave true: the exit status it expects, no
traceback, canaries unchanged and not even opened (Linux inotify), no connection to the listener,
`.git` byte for byte as committed, the run within its time bound.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import resource
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[1]
# The CLI's own soft limit. A Helm worker raises its soft limit to 2 GiB (the hard limit stays
# unlimited), so only the soft limit is set, as tests/test_hostile_inputs.py does.
MEMORY_LIMIT_BYTES = 1024**3
RUN_TIMEOUT_SECONDS = 90.0
DEFAULT_BOUND_SECONDS = 45.0  # far above a normal run (about 2 s), far below a hang
GIT_IDENTITY = ("-c", "user.name=Sandbox", "-c", "user.email=sandbox@example.invalid")

# inotify(7)
IN_ACCESS = 0x001
IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_OPEN = 0x020
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
WATCHED = (
    IN_OPEN
    | IN_ACCESS
    | IN_MODIFY
    | IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then `len` bytes of name


class CanaryWatch:
    """Every open, read, change, move or deletion in some folders and of the files in them,
    as reported by inotify: an open of a folder (a listing) counts as much as one of a file."""

    def __init__(self, folders: Iterable[Path]) -> None:
        name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(name or "libc.so.6", use_errno=True)
        if not hasattr(libc, "inotify_init1"):
            pytest.skip("inotify is not available (not Linux): canaries cannot be watched")
        self._libc = libc
        self._fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            pytest.skip(f"inotify_init1 failed: {os.strerror(ctypes.get_errno())}")
        self.folders = sorted(folders)
        self._folders: dict[int, Path] = {}
        for folder in self.folders:
            wd = libc.inotify_add_watch(self._fd, str(folder).encode(), WATCHED)
            if wd < 0:
                reason = os.strerror(ctypes.get_errno())
                self.close()
                pytest.skip(f"inotify_add_watch({folder}) failed: {reason}")
            self._folders[wd] = folder
        self.seen: list[str] = []

    def drain(self) -> list[str]:
        """The events since the last call, as 'path: FLAGS'."""
        events: list[str] = []
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except BlockingIOError:
                break
            except OSError as error:
                if error.errno == errno.EINTR:
                    continue
                raise
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = data[offset : offset + length].rstrip(b"\0").decode(errors="replace")
                offset += length
                folder = self._folders.get(wd, Path("?"))
                events.append(f"{folder / name if name else folder}: {_flags(mask)}")
        self.seen += events
        return events

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _flags(mask: int) -> str:
    names = {
        IN_ACCESS: "ACCESS",
        IN_MODIFY: "MODIFY",
        IN_ATTRIB: "ATTRIB",
        IN_CLOSE_WRITE: "CLOSE_WRITE",
        0x010: "CLOSE_NOWRITE",
        IN_OPEN: "OPEN",
        IN_MOVED_FROM: "MOVED_FROM",
        IN_MOVED_TO: "MOVED_TO",
        IN_CREATE: "CREATE",
        IN_DELETE: "DELETE",
        IN_DELETE_SELF: "DELETE_SELF",
        IN_MOVE_SELF: "MOVE_SELF",
        0x40000000: "ISDIR",
    }
    return "|".join(name for bit, name in names.items() if mask & bit) or hex(mask)


class Listener:
    """A loopback TCP listener that accepts and counts connections (and says nothing)."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._count = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed
            with self._lock:
                self._count += 1
            connection.close()

    @property
    def connections(self) -> int:
        with self._lock:
            return self._count

    def close(self) -> None:
        # shutdown wakes the thread blocked in accept(); close alone may not on Linux
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()
        self._thread.join(timeout=5)


@dataclass
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str
    elapsed: float  # seconds, wall clock
    cpu: float  # seconds of CPU of the process and of every descendant it waited for

    def __str__(self) -> str:
        return f"mcg-gen {' '.join(self.args)} -> {self.code} in {self.elapsed:.1f} s\n{self.err}"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, resource.RLIM_INFINITY))


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    completed = subprocess.run(
        ["git", *GIT_IDENTITY, *args],
        cwd=repo,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout


def git_snapshot(repo: Path) -> dict[str, bytes]:
    """Every entry under `.git` with its content (a link by its target, a folder by nothing)."""
    snapshot: dict[str, bytes] = {}
    root = repo / ".git"
    for folder, folders, files in os.walk(root):
        for name in sorted(folders + files):
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                snapshot[relative] = b"link:" + os.readlink(path).encode()
            elif path.is_dir():
                snapshot[relative] = b"folder"
            else:
                snapshot[relative] = path.read_bytes()
    return snapshot


def work_tree(repo: Path) -> dict[str, bytes]:
    """Every entry of the work tree outside `.git` (and mcg-gen's lock file, which every
    generate creates), links by their target and special files by their kind: nothing is
    followed or opened that is not a regular file of the repository."""
    snapshot: dict[str, bytes] = {}
    for folder, folders, files in os.walk(repo):
        folders[:] = [name for name in folders if name != ".git"]
        for name in sorted(folders + files):
            path = Path(folder, name)
            relative = path.relative_to(repo).as_posix()
            if relative == ".mcg-gen/lock" and not path.is_symlink():
                continue
            status = path.lstat()
            if path.is_symlink():
                snapshot[relative] = b"link:" + os.readlink(path).encode()
            elif path.is_dir():
                snapshot[relative] = b"folder"
            elif not path.is_file():
                snapshot[relative] = f"special:{status.st_mode:o}".encode()
            else:
                snapshot[relative] = path.read_bytes()
    return snapshot


@dataclass
class Sandbox:
    root: Path
    listener: Listener
    home: Path = field(init=False)
    outside: Path = field(init=False)
    repo: Path = field(init=False)
    tmp: Path = field(init=False)
    cache: Path = field(init=False)
    canaries: dict[Path, bytes] = field(init=False)
    watch: CanaryWatch | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.outside = self.root / "outside"
        self.repo = self.root / "repo"
        self.tmp = self.root / "tmp"
        self.cache = self.root / "cache"
        for folder in (self.home, self.outside, self.tmp, self.cache):
            folder.mkdir(parents=True)
        token = secrets.token_hex(16)
        self.canaries = {
            self.home / ".ssh" / "id_rsa": (
                "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                f"canary-ssh-{token}\n-----END OPENSSH PRIVATE KEY-----\n"
            ).encode(),
            self.home / ".aws" / "credentials": (
                f"[default]\naws_secret_access_key = canary-aws-{token}\n"
            ).encode(),
            self.home / ".kube" / "config": f"apiVersion: v1\nkind: Config\n# {token}\n".encode(),
            self.outside / "secret.txt": f"canary: outside-{token}\n".encode(),
        }
        for path, content in self.canaries.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        self._canary_status = {path: self._status(path) for path in self.canaries}
        self._connections = self.listener.connections

    @staticmethod
    def _status(path: Path) -> tuple[int, int, int, int]:
        status = path.lstat()
        return (status.st_ino, status.st_size, status.st_mtime_ns, status.st_mode)

    # ---------------------------------------------------------------------------- set-up

    def make_repo(self, pristine: Path) -> None:
        """A copy of a generated repository, made a git repository with one commit."""
        shutil.copytree(pristine, self.repo, symlinks=True)
        git(self.repo, "init", "-q", "-b", "main", env=self.env())
        self.commit("generated by mcg-gen")

    def commit(self, message: str) -> None:
        """Commit everything (what a hostile repository's author would have done)."""
        git(self.repo, "add", "-A", "-f", env=self.env())
        git(self.repo, "commit", "-q", "--no-verify", "-m", message, env=self.env())

    def arm(self) -> None:
        """Start watching: from now on, anything touching a canary is reported."""
        folders = sorted({path.parent for path in self.canaries})
        if self.watch is None or self.watch.folders != folders:
            if self.watch is not None:
                self.watch.close()
            self.watch = CanaryWatch(folders)
        self.watch.drain()
        self.watch.seen.clear()
        self._git_before = git_snapshot(self.repo) if (self.repo / ".git").is_dir() else {}
        self._connections = self.listener.connections

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()

    def add_canary(self, name: str) -> Path:
        """One more canary in `outside/` (before `arm`), so that a touch names what led there."""
        path = self.outside / name
        content = f"canary: {name}-{secrets.token_hex(16)}\n".encode()
        path.write_bytes(content)
        self.canaries[path] = content
        self._canary_status[path] = self._status(path)
        return path

    def add_canary_folder(self, name: str) -> Path:
        """A folder in `outside/` holding a canary (before `arm`): a link to it is a trap for
        whatever would list it or create files in it."""
        folder = self.outside / name
        folder.mkdir()
        self.add_canary(f"{name}/canary.txt")
        return folder

    # ---------------------------------------------------------------------------- running

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a run: the sandbox's home, temporary folder and cache; proxies
        pointing at the listener (an HTTP request to anywhere is then a counted connection)."""
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("VAULT_", "BAO_", "GIT_")) and "proxy" not in key.lower()
        }
        return {
            **base,
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "MCG_GEN_CACHE_DIR": str(self.cache),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "KUBECONFIG": str(self.home / ".kube" / "config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "PYTHONPATH": str(PROJECT),
            "http_proxy": self.listener.url,
            "https_proxy": self.listener.url,
            "HTTP_PROXY": self.listener.url,
            "HTTPS_PROXY": self.listener.url,
            "ALL_PROXY": self.listener.url,
            **(extra or {}),
        }

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = RUN_TIMEOUT_SECONDS,
    ) -> Run:
        """`mcg-gen ARGS` in the repository, as a child process with the memory limit."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "generator", *args],
            cwd=self.repo,
            env=self.env(env),
            capture_output=True,
            text=True,
            errors="surrogateescape",
            timeout=timeout,
            preexec_fn=_limit_memory,
            check=False,
        )
        elapsed = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return Run(args, completed.returncode, completed.stdout, completed.stderr, elapsed, cpu)

    # ---------------------------------------------------------------------------- checking

    def canary_events(self) -> list[str]:
        assert self.watch is not None, "arm() the sandbox before the attack"
        self.watch.drain()
        return list(self.watch.seen)

    def assert_safe(
        self,
        result: Run,
        code: int | Iterable[int],
        *,
        seconds: float = DEFAULT_BOUND_SECONDS,
    ) -> None:
        """What every attack must leave true (see the module's docstring)."""
        codes = {code} if isinstance(code, int) else set(code)
        assert result.code in codes, str(result)
        assert "Traceback" not in result.err, str(result)
        assert "Traceback" not in result.out, result.out[-3000:]
        touched = self.canary_events()
        assert touched == [], f"{result.args}: canaries touched: {touched}"
        for path, content in self.canaries.items():
            assert path.is_file() and not path.is_symlink(), f"{path} was moved or replaced"
            assert self._status(path) == self._canary_status[path], f"{path} was changed"
            assert path.read_bytes() == content, f"{path} was written"
        assert self.watch is not None
        self.watch.drain()  # this check's own reads
        self.watch.seen.clear()
        assert self.listener.connections == self._connections, "something connected out"
        if self._git_before:
            assert git_snapshot(self.repo) == self._git_before, ".git was changed"
        assert result.elapsed < seconds, f"took {result.elapsed:.1f} s (bound {seconds} s)"

    def canary_digests(self) -> set[str]:
        """SHA-256 of each canary's content: what a cache that read one would hold."""
        return {hashlib.sha256(content).hexdigest() for content in self.canaries.values()}

    def assert_cache_clean(self) -> None:
        """The validation cache holds neither a canary's content nor its hash."""
        digests = self.canary_digests()
        for path in self.cache.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            for content in self.canaries.values():
                assert content.strip() not in data, f"{path} holds a canary's content"
            for digest in digests:
                assert digest.encode() not in data, f"{path} holds a canary's SHA-256"

    def leftovers(self) -> list[str]:
        """What runs left in their temporary folder."""
        return sorted(path.name for path in self.tmp.iterdir())


class HostileVault:
    """A local HTTP server that answers like Vault until it does not.

    It answers the seal status and the token lookup as Vault does (so the client goes on), then
    every other request according to `mode`:
    - "not-json": 200 with an HTML page; "json-list": 200 with JSON that is not an object;
    - "error-json": 500 with Vault's `{"errors": [...]}`: the client's own token echoed back,
      terminal escapes and 100 KB of text;
    - "error-text": 500 with the same as plain text;
    - "trickle": every request, the seal status included, is answered one byte a second.
    `requests` lists (method, path) of what it was asked."""

    HOSTILE_TEXT = "\x1b]0;owned\x07\x1b[2J\x1b[31mVault says:\x1b[0m " + "A" * 100_000

    def __init__(self, mode: str) -> None:
        import http.server

        self.mode = mode
        self.requests: list[tuple[str, str]] = []
        self._stop = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                owner.requests.append((self.command, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if owner.mode == "trickle":
                    owner._trickle(self)
                    return
                path = self.path.split("?")[0]
                if path == "/v1/sys/seal-status":
                    self._send(200, "application/json", owner.seal_status())
                elif path == "/v1/auth/token/lookup-self":
                    self._send(200, "application/json", owner.token_info())
                elif owner.mode == "not-json":
                    self._send(200, "text/html", "<html><body>Welcome to nginx!</body></html>")
                elif owner.mode == "json-list":
                    self._send(200, "application/json", '["not", "an", "object"]')
                else:
                    echoed = f"token={self.headers.get('X-Vault-Token')} {owner.HOSTILE_TEXT}"
                    if owner.mode == "error-json":
                        body = json.dumps({"errors": [echoed, echoed[::-1]]})
                        self._send(500, "application/json", body)
                    else:
                        self._send(500, "text/plain", echoed)

            def _send(self, status: int, kind: str, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_LIST = _answer

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hangs up on a trickle is the point, not a problem

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # a short poll: shutdown() waits for the loop to look
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @staticmethod
    def seal_status() -> str:
        return json.dumps(
            {"type": "shamir", "initialized": True, "sealed": False, "t": 1, "n": 1,
             "progress": 0, "version": "1.15.0", "cluster_name": "vault"}
        )  # fmt: skip

    @staticmethod
    def token_info() -> str:
        return json.dumps({"data": {"policies": ["root"], "ttl": 0, "display_name": "root"}})

    def _trickle(self, handler: Any) -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Slow: y\r\n" * 1000
        for byte in answer:
            if self._stop.wait(1.0):
                return
            try:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
            except OSError:
                return  # the client gave up

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
