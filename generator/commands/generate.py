"""`mcg-gen generate`: regenerate a repository from its pattern.yaml, idempotently and safely."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from generator.commands import add_repo_argument
from generator.errors import EXIT_INVALID, EXIT_OK, Location, McgError, UsageError
from generator.model.layout import SPEC_FILE

if TYPE_CHECKING:
    from generator.state import Plan

EPILOG = """\
examples:
  mcg-gen generate                   regenerate the repository in the current folder
  mcg-gen generate path/to/repo      ... in another folder
  mcg-gen generate --dry-run --diff  show what would change, write nothing
  mcg-gen generate --check           exit 1 when the repository is not up to date (for CI)
  mcg-gen generate --force           overwrite files you edited (each is backed up first)
  mcg-gen generate --hooks local     air-gapped: hooks and CI install mcg-gen from your index
  mcg-gen generate --ci github,gitlab   write both CI pipelines
  mcg-gen generate --move            move app charts whose folder pattern.yaml changed

Files you edited since mcg-gen wrote them keep your edits. When pattern.yaml changes them too,
your edits and the spec's changes are merged line by line (as git merges); where both changed
the same lines the file gets conflict markers and generate exits 1 until you resolve them.
--force takes the generated version instead (backups go to .mcg-gen/backups/). Files that no
longer follow from pattern.yaml are removed only if you never touched them. --check fails on any
difference from what the spec gives, merges and unresolved conflicts included.

When pattern.yaml moves an app's chart (a new `path:`, or the app now runs on other groups),
generate stops and names the move: --move renames the folder with everything in it, your edits
and files included, and then regenerates as usual.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="regenerate a repository from its pattern.yaml",
        description="Regenerate the values files, charts and scaffolding of a repository from "
        "its pattern.yaml. Running it twice changes nothing.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_repo_argument(parser)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", help="show what would change, write nothing"
    )
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files differ from what pattern.yaml gives (after "
        "merging your edits)",
    )
    mode.add_argument(
        "--force",
        action="store_true",
        help="overwrite files edited by hand, keeping a backup of each",
    )
    parser.add_argument(
        "--move",
        action="store_true",
        help="move the chart folders of apps whose path changed, with your edits",
    )
    parser.add_argument("--diff", action="store_true", help="print a unified diff of each change")
    parser.add_argument(
        "--hooks",
        choices=("remote", "local"),
        help="how pre-commit and CI install mcg-gen: from its hook repository at its release "
        "tag (remote), or from your package index (local, air-gapped); recorded in "
        "pattern.yaml as tooling.hooks",
    )
    parser.add_argument(
        "--ci",
        type=_ci_systems,
        metavar="SYSTEMS",
        help="the CI pipelines to write: github, gitlab or github,gitlab; recorded in "
        "pattern.yaml as tooling.ci",
    )
    parser.set_defaults(run=run)


def _ci_systems(text: str) -> list[str]:
    systems = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(systems) - {"github", "gitlab"})
    if unknown or not systems:
        raise argparse.ArgumentTypeError(f"expected github, gitlab or both, got {text!r}")
    return list(dict.fromkeys(systems))


def run(args: argparse.Namespace) -> int:
    repo: Path = args.repo
    spec = repo / SPEC_FILE
    if not spec.is_file():
        raise UsageError(
            f"no {SPEC_FILE} in {repo}",
            hint="run it in a repository made by 'mcg-gen new', or pass the repository's path",
        )
    from generator.model.spec import load_repository_spec

    write = not (args.dry_run or args.check)
    if args.move and not write:
        raise UsageError(
            "--move moves folders: it cannot be combined with --dry-run or --check",
            hint="run 'mcg-gen generate --dry-run' to see the moves generate would stop at",
        )
    if args.hooks or args.ci:
        if not write:
            raise UsageError(
                "--hooks and --ci change pattern.yaml; they cannot be combined with --dry-run "
                "or --check",
                hint="set tooling.hooks / tooling.ci in pattern.yaml by hand to preview",
            )
        _record_tooling(repo, args.hooks, args.ci)
    pattern = load_repository_spec(repo)
    try:
        plan = generate(
            repo, pattern, write=write, force=args.force, show_diff=args.diff, move=args.move
        )
    except OSError as error:
        raise _write_failure(repo, error) from None
    if args.check and plan.drift:
        print(
            f"mcg-gen: the repository is not up to date with {SPEC_FILE}; run 'mcg-gen generate'",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if write and plan.needs_user:
        print(
            f"mcg-gen: {len(plan.needs_user)} file(s) need you: resolve the conflict markers "
            "(or take the generated version with --force) and run 'mcg-gen generate' again",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return EXIT_OK


def _record_tooling(repo: Path, hooks: str | None, ci: list[str] | None) -> None:
    """Set `tooling.hooks` / `tooling.ci` in pattern.yaml (comments kept), so every later
    `generate` and `validate` sees the same choice; nothing is written if the result is not a
    valid spec."""
    import os

    from generator import repofs
    from generator.model.spec import parse_spec
    from generator.model.spec_text import edit_spec_text

    text = repofs.read_repo_file(repo, SPEC_FILE).decode("utf-8")

    def change(document: Any) -> None:
        tooling = document.setdefault("tooling", {})
        if hooks:
            tooling["hooks"] = hooks
        if ci:
            tooling["ci"] = ci

    edited = edit_spec_text(text, change)
    if edited == text:
        return
    parse_spec(edited)
    target = repofs.confine(repo, SPEC_FILE)
    temporary = target.with_name(f".{SPEC_FILE}.mcg-gen-new")
    temporary.write_text(edited, encoding="utf-8")
    os.replace(temporary, target)
    print(f"mcg-gen: recorded the tooling choice in {SPEC_FILE}")


def _write_failure(repo: Path, error: OSError) -> McgError:
    """An OS error while writing, as the user should read it: what failed, and what state the
    repository is in (unchanged, or to be completed by the next run)."""
    from generator.state import STATE_DIR

    where = " ".join(str(name) for name in (error.filename, error.filename2) if name)
    journal = repo / STATE_DIR / "journal.json"
    if journal.exists():
        hint = (
            "the run stopped after its commit point: fix the cause and run 'mcg-gen generate' "
            "again to finish it"
        )
    else:
        hint = "nothing was changed; fix the cause and run the command again"
    return McgError(
        f"cannot write the repository: {error.strerror or error}"
        + (f" ({where})" if where else ""),
        location=Location(str(repo)),
        hint=hint,
    )


def generate(
    repo: Path,
    pattern: Any,
    *,
    write: bool = True,
    force: bool = False,
    show_diff: bool = False,
    out: TextIO | None = None,
    fail_after: int | None = None,
    move: bool = False,
) -> Plan:
    """Bring `repo` in line with `pattern` (or, without `write`, say what that would do).

    A chart folder the spec moved is renamed first with `move`; without it, writing stops
    (a dry run names the move and shows what generating without it would do)."""
    from generator import state
    from generator.emit.repo import plan_files

    out = out or sys.stdout
    desired = plan_files(pattern)
    if not write:
        for app, old, new in chart_moves(repo, pattern):
            print(f"  would move {old} to {new} (app {app}) with 'generate --move'", file=out)
        plan = state.make_plan(repo, desired, force=force)
        _report(plan, out, show_diff, dry_run=True)
        return plan
    with state.repository_lock(repo):
        if state.recover(repo):
            print("mcg-gen: completed an interrupted run first", file=out)
        moves = chart_moves(repo, pattern)
        if moves and not move:
            raise McgError(
                "; ".join(
                    f"the chart of app '{app}' moves from {old} to {new}" for app, old, new in moves
                ),
                location=Location(SPEC_FILE),
                hint="run 'mcg-gen generate --move' to move the folder with your edits and files "
                "in it, or remove the old folder to have the chart written afresh",
            )
        for app, old, new in moves:
            state.move_folder(repo, old, new)
            print(f"  moved     {old} to {new} (app {app})", file=out)
        plan = state.make_plan(repo, desired, force=force)
        backups = None if plan.is_noop() else state.apply_plan(repo, plan, fail_after=fail_after)
    _report(plan, out, show_diff, dry_run=False)
    if backups:
        print(f"mcg-gen: backups of the overwritten files are in {backups}", file=out)
    return plan


def chart_moves(repo: Path, pattern: Any) -> list[tuple[str, str, str]]:
    """(app, old folder, new folder) for each scaffolded app whose chart the spec now puts
    elsewhere than where mcg-gen last wrote it (the path in the base copies of the group values
    files), when that folder is still there, mcg-gen wrote files in it and nothing generated
    now lives there."""
    from generator import state, yamlio
    from generator.model.layout import existing, group_file

    recorded = state.read_state(repo)
    generated = {app.path for app in pattern.apps.values() if app.scaffolded}
    moves: dict[str, tuple[str, str, str]] = {}
    for group in pattern.cluster_groups:
        content = state.last_written(repo, group_file(group.name))
        if content is None:
            continue
        try:
            data = yamlio.parse_document(content.decode(), group_file(group.name)).data
        except (McgError, UnicodeDecodeError):
            continue  # no usable record of the old paths: nothing is known to move
        tree = data.get("clusterGroup") if isinstance(data, dict) else None
        applications = tree.get("applications") if isinstance(tree, dict) else None
        for key, body in (applications if isinstance(applications, dict) else {}).items():
            app = pattern.apps.get(key)
            old = body.get("path") if isinstance(body, dict) else None
            if app is None or not app.scaffolded or not isinstance(old, str):
                continue
            if old == app.path or old in generated or old in moves or not existing(repo, old):
                continue
            if any(path.startswith(f"{old}/") for path in recorded):
                moves[old] = (key, old, str(app.path))
    return sorted(moves.values())


# action: (done, dry run), for the files that get a line of their own
_VERBS = {
    "create": ("created", "would create"),
    "update": ("updated", "would update"),
    "delete": ("removed", "would remove"),
    "overwrite": ("overwritten", "would overwrite"),
    "merge": ("merged", "would merge"),
    "conflict": ("conflict", "conflict"),
}
_EXPLAINED = {
    "merge": "your edits and the spec's changes, merged",
    "conflict": "you and the spec changed the same lines: resolve the conflict markers",
    "diverged": "edited by hand and changed by the spec, with no record of what mcg-gen last "
    "wrote to merge from: left as it is (see --diff; take the generated version with --force)",
    "unresolved": "still has the conflict markers of an earlier merge: resolve them",
    "orphan": "no longer generated, but edited by hand",
}
# the summary: action, (done, dry run)
_COUNTED = (
    ("create", ("created", "to create")),
    ("update", ("updated", "to update")),
    ("merge", ("merged", "to merge")),
    ("overwrite", ("overwritten", "to overwrite")),
    ("delete", ("removed", "to remove")),
    ("conflict", ("with conflicts", "would conflict")),
    ("diverged", ("kept (cannot merge)", "kept (cannot merge)")),
    ("unresolved", ("with unresolved conflicts", "with unresolved conflicts")),
    ("keep", ("with your edits", "with your edits")),
    ("orphan", ("kept (no longer generated)", "kept (no longer generated)")),
    ("unchanged", ("unchanged", "unchanged")),
)


def _report(plan: Plan, out: TextIO, show_diff: bool, *, dry_run: bool) -> None:
    from generator.state import Action

    for change in plan.changes:
        if change.action in (Action.UNCHANGED, Action.KEEP):
            continue
        verb = _VERBS.get(change.action.value, ("kept", "kept"))[1 if dry_run else 0]
        why = _EXPLAINED.get(change.action.value)
        print(f"  {verb:<9} {change.path}" + (f": {why}" if why else ""), file=out)
        if show_diff and change.action is not Action.ORPHAN:
            print(change.diff(), end="", file=out)
    counts = {action.value: len(plan.by_action(action)) for action in Action}
    parts = [
        f"{counts[action]} {names[1 if dry_run else 0]}"
        for action, names in _COUNTED
        if counts[action]
    ]
    prefix = "dry run: " if dry_run else ""
    print(f"mcg-gen: {prefix}{', '.join(parts) or 'nothing to do'}", file=out)
