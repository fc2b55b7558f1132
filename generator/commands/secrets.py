"""`mcg-gen secrets check|init|load`: check a filled-in values-secret file, prepare Vault, load it.

No secret value is ever printed: messages name files, secrets, fields and Vault paths only.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.commands import add_repo_argument
from generator.errors import EXIT_INVALID, EXIT_OK, EXIT_USAGE, McgError, UsageError
from generator.model import names

if TYPE_CHECKING:
    from generator.model.secrets_file import FieldKey, RepoSecrets, SecretsFile

HUB_AUTH_MOUNT = "hub"  # the Kubernetes auth mount the hub's ClusterSecretStore logs in through

EPILOG = """\
examples:
  cp values-secret.yaml.template ~/values-secret-my-pattern.yaml   then fill it in
  mcg-gen secrets check                  check your filled-in file against the template
  mcg-gen secrets init                   prepare Vault: KV mount, policies, Kubernetes auth
  mcg-gen secrets load                   write every secret into Vault

Vault is found through VAULT_ADDR and VAULT_TOKEN (or --vault-addr and --token).
"""

CHECK_EPILOG = """\
examples:
  mcg-gen secrets check                          ~/values-secret-<pattern>.yaml against ./
  mcg-gen secrets check path/to/repo --values-secret ~/secrets/prod.yaml

Checks that every secret and field of the repository's values-secret.yaml.template is given or
generated, that files named by 'path' and 'ini_file' can be read, and that the file is kept
outside the repository, untracked by git and readable by you only. Values are never printed.
"""

INIT_EPILOG = """\
examples:
  VAULT_ADDR=https://vault-vault.apps.hub.example.com VAULT_TOKEN=... mcg-gen secrets init
  mcg-gen secrets init --cluster factory-east=east1.example.com

Creates (or leaves as they are) the KV version 2 mount, the password policies
(validatedPatternDefaultPolicy and the template's vaultPolicies), one read-only ACL policy per
cluster group ('<group>-secret': the prefixes the group may read) and the Kubernetes auth roles
the ClusterSecretStore logs in with ('<group>-role'; the hub through the 'hub' auth mount, each
managed cluster through a mount named after its cluster domain, given with --cluster).
Running it again changes nothing.
"""

LOAD_EPILOG = """\
examples:
  mcg-gen secrets load
  mcg-gen secrets load --values-secret ~/secrets/prod.yaml --ca-cert ~/hub-ca.pem

Everything is checked before the first write (files, values, Vault, token, mount, permissions,
password policies), so a failure loads nothing. Unchanged secrets are not rewritten; generated
values stay as they are unless their field says 'override: true'. An interrupted load is
completed by running it again.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "secrets",
        help="check a values-secret file, prepare Vault and load the secrets into it",
        description="Feed the pattern's secrets to Vault: check your filled-in copy of "
        "values-secret.yaml.template, prepare Vault once, then load.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=partial(_usage, parser))
    actions = parser.add_subparsers(dest="secrets_action", metavar="ACTION")

    check = actions.add_parser(
        "check",
        help="check a filled-in values-secret file against the repository's template",
        description="Check your values-secret file against the repository's template, without "
        "contacting Vault. Exit 1 when anything would make 'secrets load' fail.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_repo_options(check)
    check.set_defaults(run=run_check)

    init = actions.add_parser(
        "init",
        help="prepare Vault: KV mount, password and ACL policies, Kubernetes auth roles",
        description="Prepare a Vault for the pattern. Idempotent.",
        epilog=INIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_repo_options(init, values_secret=False)
    _add_vault_options(init)
    init.add_argument(
        "--cluster",
        action="append",
        default=[],
        metavar="GROUP=DOMAIN",
        help="a managed cluster of GROUP whose cluster domain is DOMAIN: creates its Kubernetes "
        "auth mount and role (repeatable)",
    )
    init.set_defaults(run=run_init)

    load = actions.add_parser(
        "load",
        help="write every secret of the values-secret file into Vault",
        description="Load the secrets of your values-secret file into Vault (KV version 2), "
        "under <mount>/<prefix>/<name> for each of their vaultPrefixes.",
        epilog=LOAD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_repo_options(load)
    _add_vault_options(load)
    load.set_defaults(run=run_load)


def _usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _add_repo_options(parser: argparse.ArgumentParser, *, values_secret: bool = True) -> None:
    add_repo_argument(parser)
    if values_secret:
        parser.add_argument(
            "--values-secret",
            type=Path,
            metavar="FILE",
            help="your filled-in values-secret file (default: ~/values-secret-<pattern>.yaml)",
        )


def _add_vault_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vault-addr", metavar="URL", help="Vault's address (default: $VAULT_ADDR)"
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="Vault token (default: $VAULT_TOKEN; prefer the variable: arguments are visible "
        "to other users of the machine)",
    )
    parser.add_argument(
        "--mount",
        default=names.DEFAULT_MOUNT,
        help="KV version 2 mount of secrets without a vaultMount (default: secret)",
    )
    parser.add_argument(
        "--ca-cert",
        metavar="FILE",
        help="CA bundle to verify Vault's TLS certificate (default: $VAULT_CACERT)",
    )
    parser.add_argument(
        "--skip-verify",
        action="store_true",
        help="do not verify Vault's TLS certificate (test servers only)",
    )
    parser.add_argument(
        "--vault-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="longest wait for one answer from Vault, all of it (default: 30)",
    )


# ---------------------------------------------------------------------------------- checking


def values_secret_path(given: Path | None, pattern: str) -> Path:
    """The user's values-secret file: `given`, else `~/values-secret-<pattern>.yaml`."""
    path = (given or Path(f"~/values-secret-{pattern}.yaml")).expanduser()
    if not path.is_file():
        raise UsageError(
            f"no values-secret file at {path}",
            hint=f"copy values-secret.yaml.template to ~/values-secret-{pattern}.yaml, fill it "
            "in, or pass --values-secret FILE",
        )
    return path


def run_check(args: argparse.Namespace) -> int:
    from generator.checks.values_secret import examine
    from generator.model.secrets_file import load_repo
    from generator.report.text import plain

    repo = load_repo(args.repo)
    examined = examine(repo, values_secret_path(args.values_secret, repo.pattern_name))
    sys.stdout.write(plain(examined.findings))
    warnings = len(examined.findings) - examined.errors
    checked = (
        f"{sum(len(s.fields) for s in examined.secrets.secrets)} field(s) checked against the "
        f"template of '{repo.pattern_name}'"
        if examined.secrets
        else "not compared with the template until its structure is fixed"
    )
    print(f"mcg-gen: {examined.path}: {checked}: {examined.errors} error(s), {warnings} warning(s)")
    return EXIT_INVALID if examined.errors else EXIT_OK


# ------------------------------------------------------------------------------------- vault


def _connect(args: argparse.Namespace) -> Any:
    from generator.vault import connect

    if args.skip_verify:
        print("mcg-gen: warning: not verifying Vault's TLS certificate", file=sys.stderr)
    return connect(
        args.vault_addr or os.environ.get("VAULT_ADDR"),
        args.token or os.environ.get("VAULT_TOKEN"),
        ca_cert=args.ca_cert or os.environ.get("VAULT_CACERT"),
        verify=not args.skip_verify,
        timeout=args.vault_timeout,
    )


def _ask(secrets: SecretsFile, given: dict[FieldKey, str | None]) -> dict[FieldKey, str | None]:
    """The resolved values, with what the file leaves to a prompt asked for (without echo)."""
    import getpass

    values = dict(given)
    for secret in secrets.secrets:
        for spec in secret.fields:
            key = (secret.name, spec.name)
            if spec.source != "prompt" or values.get(key) is not None:
                continue
            if not sys.stdin.isatty():
                raise McgError(
                    f"{secret.name}.{spec.name} needs a value and there is no terminal to ask "
                    "it on: fill in its 'value' in the values-secret file (nothing was loaded)"
                )
            answer = getpass.getpass(f"{secret.name}.{spec.name}: {spec.prompt or 'value'}: ")
            if not answer:
                raise McgError(f"no value given for {secret.name}.{spec.name}; nothing was loaded")
            values[key] = answer
    return values


def run_load(args: argparse.Namespace) -> int:
    from generator.checks.values_secret import examine
    from generator.model.secrets_file import load_repo
    from generator.report.text import plain
    from generator.vault import Change, apply_load, plan_load

    repo = load_repo(args.repo, default_mount=args.mount)
    path = values_secret_path(args.values_secret, repo.pattern_name)
    examined = examine(repo, path, default_mount=args.mount)
    sys.stderr.write(plain(examined.findings))
    if examined.errors or examined.secrets is None:
        raise McgError(
            f"{path}: {examined.errors} problem(s) above; nothing was loaded",
            hint="fix them ('mcg-gen secrets check' shows them again) and run again",
        )
    client = _connect(args)
    values = _ask(examined.secrets, examined.values)
    writes = plan_load(client, examined.secrets.secrets, values)
    pending = sum(1 for write in writes if write.change is not Change.UNCHANGED)
    try:
        for write in apply_load(client, writes):
            pending -= write.change is not Change.UNCHANGED
            changed = f" ({', '.join(write.fields_changed)})" if write.fields_changed else ""
            print(f"  {write.change.value:<9} {write.api_path}{changed}")
    except KeyboardInterrupt:
        print(
            f"mcg-gen: interrupted with {pending} secret(s) not yet written; each secret is "
            "either old or new: run 'mcg-gen secrets load' again to finish",
            file=sys.stderr,
        )
        raise
    counts = {change: sum(1 for w in writes if w.change is change) for change in Change}
    print(
        f"mcg-gen: {len(writes)} secret path(s) in {client.url}: "
        + ", ".join(f"{counts[change]} {change.value}" for change in Change)
    )
    return EXIT_OK


# -------------------------------------------------------------------------------------- init


def _clusters(specs: list[str], repo: RepoSecrets) -> list[tuple[str, str]]:
    managed = {group.name for group in repo.groups if not group.is_hub}
    clusters = []
    for spec in specs:
        group, _, domain = spec.partition("=")
        if group not in managed or not domain:
            raise UsageError(
                f"--cluster {spec!r}: expected GROUP=DOMAIN with a managed cluster group",
                hint="managed groups: " + (", ".join(sorted(managed)) or "none"),
            )
        clusters.append((group, domain))
    return clusters


def _service_account(repo: Path) -> tuple[str, str]:
    """The External Secrets service account the secretstore chart logs in to Vault with."""
    from generator import bundled
    from generator.model import layout
    from generator.model.platform import VENDOR_DIR
    from generator.yamlio import load_file

    relative = f"{VENDOR_DIR}/secretstore/values.yaml"
    # the repository's copy is untrusted: confined (a link out is refused, never read) and
    # checked like any input
    values = layout.inside(repo, relative)
    display: str | None = relative
    if values is None or not values.is_file():
        values, display = bundled.charts_dir() / "secretstore" / "values.yaml", None
    document = load_file(values, display)
    data = document.data
    store = data.get("secretStore") if isinstance(data, dict) else None
    account = store.get("serviceAccount") if isinstance(store, dict) else None
    if not isinstance(account, dict) or not all(
        isinstance(account.get(key), str) and account.get(key) for key in ("name", "namespace")
    ):
        raise McgError(
            "secretStore.serviceAccount must have a name and a namespace",
            location=document.location(()),
            hint="restore the file with 'mcg-gen generate --force'",
        )
    return str(account["name"]), str(account["namespace"])


def run_init(args: argparse.Namespace) -> int:
    from generator import vault
    from generator.model.pattern import DEFAULT_VAULT_POLICY
    from generator.model.secrets_file import load_repo

    repo = load_repo(args.repo, default_mount=args.mount)
    clusters = _clusters(args.cluster, repo)
    account, namespace = _service_account(repo.repo)
    client = _connect(args)

    def report(change: vault.Change, what: str) -> None:
        print(f"  {change.value:<9} {what}")

    mounts = list(dict.fromkeys([args.mount, *(s.mount for s in repo.template.secrets)]))
    for mount in mounts:
        report(vault.ensure_kv2_mount(client, mount), f"KV version 2 secrets engine {mount}/")
    policies = {DEFAULT_VAULT_POLICY: vault.DEFAULT_PASSWORD_POLICY, **repo.template.vault_policies}
    for name, policy in policies.items():
        report(vault.ensure_password_policy(client, name, policy), f"password policy {name}")
    for group in repo.groups:
        text = "".join(vault.read_only_policy(m, group.readable_prefixes) for m in mounts)
        report(
            vault.ensure_acl_policy(client, f"{group.name}-secret", text),
            f"ACL policy {group.name}-secret (reads {', '.join(group.readable_prefixes)})",
        )
    auth = [(repo.hub.name, HUB_AUTH_MOUNT), *clusters]
    for group_name, mount in auth:
        report(vault.ensure_auth_mount(client, mount), f"Kubernetes auth auth/{mount}/")
        role = vault.Role(
            mount=mount,
            name=f"{group_name}-role",
            service_accounts=(account,),
            namespaces=(namespace,),
            policies=(f"{group_name}-secret",),
        )
        report(vault.ensure_kubernetes_role(client, role), f"role {role.path}")
    _print_todo(client, repo, auth)
    return EXIT_OK


def _print_todo(client: Any, repo: RepoSecrets, auth: list[tuple[str, str]]) -> None:
    from generator.vault import kubernetes_auth_configured

    todo = []
    for _group, mount in auth:
        if not kubernetes_auth_configured(client, mount):
            settings = (
                "kubernetes_host=https://kubernetes.default.svc:443 (Vault runs in the hub)"
                if mount == HUB_AUTH_MOUNT
                else "kubernetes_host=<that cluster's API URL> kubernetes_ca_cert=@ca.crt "
                "token_reviewer_jwt=<a token-reviewer service account token>"
            )
            todo.append(f"configure auth/{mount}: vault write auth/{mount}/config {settings}")
    covered = {group for group, _mount in auth}
    todo.extend(
        f"group {group.name}: for each of its clusters run 'mcg-gen secrets init "
        f"--cluster {group.name}=<cluster domain>' (its ClusterSecretStore logs in through "
        "a Kubernetes auth mount named after the cluster domain)"
        for group in repo.groups
        if group.name not in covered
    )
    if todo:
        print("mcg-gen: Vault is prepared; still to do (needs the clusters):")
        for line in todo:
            print(f"  - {line}")
    else:
        print("mcg-gen: Vault is prepared")
