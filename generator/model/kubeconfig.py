"""What Vault's Kubernetes auth needs from a cluster, read from a kubeconfig file as YAML (no
Kubernetes client): the API server URL, the CA that signed its certificate, and a token that may
review service account tokens (the kubeconfig user's `token` or `tokenFile`).

The context used is `current-context`, else the only context, else the only cluster and user.
A kubeconfig is the user's own file: read bounded, and its token is never shown in a message.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator import repofs
from generator.errors import McgError
from generator.yamlio import Document, load_file

MAX_CREDENTIAL_BYTES = 1024 * 1024  # a CA bundle or a token file; both are a few kilobytes
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"
# File names tried for a group in --kubeconfig-dir, in this order.
KUBECONFIG_NAMES = ("{group}", "{group}.yaml", "{group}.yml", "{group}.kubeconfig")


@dataclass(frozen=True)
class ClusterAccess:
    """A cluster's API server, its CA (PEM) and a token reviewer JWT (a credential: never print
    it)."""

    host: str
    ca_pem: str
    reviewer_jwt: str

    @property
    def cluster_domain(self) -> str | None:
        """The cluster domain an OpenShift API host names (`api.<domain>`), else None."""
        hostname = urlsplit(self.host).hostname or ""
        return hostname.removeprefix("api.") if hostname.startswith("api.") else None


def find_kubeconfig(folder: Path, group: str) -> Path | None:
    """The kubeconfig of `group` in `folder`, if there is one."""
    for pattern in KUBECONFIG_NAMES:
        candidate = folder / pattern.format(group=group)
        if candidate.is_file():
            return candidate
    return None


def cluster_access(path: Path) -> ClusterAccess:
    """The API server, CA and token of the kubeconfig's context."""
    document = load_file(path, str(path))
    cluster_path, user_path = _context(document)
    cluster = _mapping(document, cluster_path)
    user = _mapping(document, user_path)
    server = cluster.get("server")
    if not isinstance(server, str) or urlsplit(server).scheme != "https":
        raise _error(document, (*cluster_path, "server"), "has no https server URL", "set server")
    return ClusterAccess(
        host=server,
        ca_pem=_ca(document, cluster_path, cluster, path.parent),
        reviewer_jwt=_token(document, user_path, user, path.parent),
    )


def check_pem(text: str, what: str) -> str:
    """`text` when it holds a PEM certificate, else an error naming `what`."""
    if PEM_CERTIFICATE not in text:
        raise McgError(f"{what} holds no PEM certificate", hint="give the cluster's CA bundle")
    return text


def read_credential(path: Path, what: str) -> str:
    """A CA bundle or token file of the user's (bounded, regular), as text."""
    try:
        raw = repofs.read_bytes(path.expanduser(), limit=MAX_CREDENTIAL_BYTES)
        return raw.decode("utf-8")
    except (McgError, UnicodeDecodeError):
        raise McgError(f"cannot read {what} {path}", hint="check the file and its path") from None


def _context(document: Document) -> tuple[tuple[str | int, ...], tuple[str | int, ...]]:
    """Document paths of the chosen context's cluster and user entries."""
    data = document.data if isinstance(document.data, dict) else {}
    contexts = _named(data.get("contexts"))
    wanted = data.get("current-context")
    if isinstance(wanted, str) and wanted:
        if wanted not in contexts:
            raise _error(document, ("current-context",), f"names no context '{wanted}'", "")
        chosen: int | None = contexts[wanted]
    elif len(contexts) == 1:
        chosen = next(iter(contexts.values()))
    elif not contexts:
        chosen = None
    else:
        raise _error(document, ("contexts",), "has several contexts", "set current-context")
    clusters, users = _named(data.get("clusters")), _named(data.get("users"))
    if chosen is None:
        if len(clusters) == 1 and len(users) == 1:
            return ("clusters", *clusters.values(), "cluster"), ("users", *users.values(), "user")
        raise _error(document, (), "has no context", "add a context and current-context")
    context = data["contexts"][chosen].get("context") or {}
    named = []
    for kind, found in (("cluster", clusters), ("user", users)):
        name = context.get(kind) if isinstance(context, dict) else None
        if not isinstance(name, str) or name not in found:
            raise _error(
                document, ("contexts", chosen, "context", kind), f"names no {kind} '{name}'", ""
            )
        named.append((f"{kind}s", found[name], kind))
    return named[0], named[1]


def _named(entries: Any) -> dict[str, int]:
    """Index of each named entry of a kubeconfig list (clusters, users, contexts)."""
    if not isinstance(entries, list):
        return {}
    return {
        entry["name"]: index
        for index, entry in enumerate(entries)
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    }


def _mapping(document: Document, path: tuple[str | int, ...]) -> dict[str, Any]:
    value: Any = document.data
    for part in path:
        if isinstance(value, dict) and isinstance(part, str):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            value = None
    if not isinstance(value, dict):
        raise _error(document, path, "is not a mapping", "")
    return value


def _ca(document: Document, at: tuple[str | int, ...], cluster: dict[str, Any], base: Path) -> str:
    data, file = cluster.get("certificate-authority-data"), cluster.get("certificate-authority")
    if isinstance(data, str):
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _error(
                document, (*at, "certificate-authority-data"), "is not base64 of a PEM", ""
            ) from None
    elif isinstance(file, str):
        text = read_credential(base / Path(file).expanduser(), "the CA file")
    else:
        raise _error(
            document,
            at,
            "has no certificate-authority-data nor certificate-authority",
            "Vault needs the cluster's CA to check its API server: add it",
        )
    return check_pem(text, f"{document.file}: the cluster's CA")


def _token(document: Document, at: tuple[str | int, ...], user: dict[str, Any], base: Path) -> str:
    token, file = user.get("token"), user.get("tokenFile")
    if isinstance(token, str) and token.strip():
        return token.strip()
    if isinstance(file, str):
        text = read_credential(base / Path(file).expanduser(), "the token file").strip()
        if text:
            return text
    raise _error(
        document,
        at,
        "has no token nor tokenFile",
        "use a service account token allowed to review tokens (system:auth-delegator)",
    )


def _error(document: Document, path: tuple[str | int, ...], what: str, hint: str) -> McgError:
    return McgError(
        f"the kubeconfig's {'.'.join(map(str, path)) or 'document'} {what}",
        location=document.location(path, key=True),
        hint=hint or "fix the kubeconfig",
    )
