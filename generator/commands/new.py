"""`mcg-gen new`: a new pattern repository from a bundled example or any spec file."""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from generator import bundled
from generator.errors import McgError, UsageError
from generator.model.layout import SPEC_FILE

EPILOG = """\
examples:
  mcg-gen new my-pattern                              from the multicloud-gitops example
  mcg-gen new my-pattern --from industrial-edge       from another bundled example
  mcg-gen new my-pattern --spec ~/specs/factory.yaml  from your own spec
  mcg-gen new my-pattern --output /src/my-pattern --repo-url https://git.example.com/me/my-pattern.git

The repository is written to a temporary folder and moved into place only when complete.
Then: cd my-pattern, edit pattern.yaml, run 'mcg-gen generate'.
"""


def examples() -> list[str]:
    return sorted(path.stem for path in bundled.patterns_dir().glob("*.yaml"))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "new",
        help="create a pattern repository from an example or a spec",
        description="Create a new Multicloud GitOps repository: pattern.yaml plus everything "
        "'mcg-gen generate' makes from it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", help="pattern name (a DNS-1123 label, e.g. my-pattern)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--from",
        dest="example",
        metavar="EXAMPLE",
        help="a bundled example (default: multicloud-gitops)",
    )
    source.add_argument("--spec", type=Path, metavar="FILE", help="a pattern spec file")
    parser.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="where to create the repository (default: ./NAME)",
    )
    parser.add_argument(
        "--repo-url", metavar="URL", help="git URL of the new repository (default: the spec's)"
    )
    parser.add_argument("--no-git", action="store_true", help="do not run 'git init'")
    parser.set_defaults(run=run)


def _spec_source(args: argparse.Namespace) -> tuple[Path, str]:
    if args.spec is not None:
        if not args.spec.is_file():
            what = "is not a regular file" if args.spec.exists() else "does not exist"
            raise UsageError(f"spec file {args.spec} {what}")
        return args.spec, str(args.spec)
    example = args.example or "multicloud-gitops"
    path = bundled.patterns_dir() / f"{example}.yaml"
    if example not in examples():
        raise UsageError(
            f"unknown example '{example}'", hint="bundled examples: " + ", ".join(examples())
        )
    return path, f"{example}.yaml (bundled example)"


def customised_spec(text: str, name: str, repo_url: str | None) -> str:
    """The spec with its name (and repository URL) replaced, comments kept, schema line on top."""
    from generator.model.spec_text import edit_spec_text

    def change(document: Any) -> None:
        document["name"] = name
        if repo_url:
            document["git"]["repoURL"] = repo_url

    body = "".join(
        line
        for line in edit_spec_text(text, change).splitlines(keepends=True)
        if not line.startswith("# yaml-language-server:")
    )
    from generator.emit.repo import SCHEMA_COMMENT

    return SCHEMA_COMMENT + body


def run(args: argparse.Namespace) -> int:
    from generator.model.names import is_dns_label
    from generator.model.spec import build_pattern, parse_spec
    from generator.yamlio import load_file

    if not is_dns_label(args.name):
        raise UsageError(
            f"'{args.name}' is not a valid pattern name",
            hint="use lowercase letters, digits and '-', at most 63 characters (e.g. my-pattern)",
        )
    source, display = _spec_source(args)
    build_pattern(load_file(source, display))  # report problems against the user's own file
    text = customised_spec(source.read_text(encoding="utf-8"), args.name, args.repo_url)
    pattern = parse_spec(text, SPEC_FILE)

    target: Path = args.output or Path(args.name)
    if target.is_symlink():
        raise UsageError(
            f"{target} is a symbolic link",
            hint=f"give the folder it points at as --output ({target.resolve()})",
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(
            f"{target} already exists and is not empty",
            hint="choose another --output, or run 'mcg-gen generate' inside it",
        )
    try:
        _write_repository(target, text, pattern)
    except OSError as error:
        raise McgError(
            f"cannot create {target}: {error.strerror or error}",
            hint="the repository was not created; check permissions and free space",
        ) from None
    if not args.no_git:
        _git_init(target)
    files = sum(1 for path in target.rglob("*") if path.is_file() and ".git" not in path.parts)
    print(f"mcg-gen: created {target} ({files} files) for pattern '{args.name}' from {display}")
    print(f"next:\n  cd {target}\n  $EDITOR pattern.yaml\n  mcg-gen generate")
    return 0


def _write_repository(target: Path, text: str, pattern: Any) -> None:
    """Everything in a staging folder next to `target`, moved into place only when complete."""
    from generator.commands.generate import generate

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.mcg-gen-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir()
        (staging / SPEC_FILE).write_text(text, encoding="utf-8")
        generate(staging, pattern, out=io.StringIO())
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _git_init(target: Path) -> None:
    if shutil.which("git") is None:
        print("mcg-gen: git not found; run 'git init' yourself", file=sys.stderr)
        return
    result = subprocess.run(
        ["git", "init", "-q", str(target)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise McgError(f"git init failed: {result.stderr.strip()}")
