"""`mcg-gen diff`: what a change does to every cluster group, rendered offline from git.

Both revisions are rendered the way `render --apps` does; a committed revision is exported from
git into a temporary folder when one of its groups has to be rendered (`gitio.export_entries`: no
filter or hook of the repository runs, the tree is bounded). A group's rendering is cached by the
git blob ids of what it read (its values files, the charts and value files its applications
used), so a group whose inputs did not change is not rendered again, in this run or the next.
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.commands import (
    add_directory_option,
    add_fact_arguments,
    add_timeout_argument,
    facts_from_args,
    repository_folder,
)
from generator.errors import EXIT_INVALID, EXIT_OK, EXIT_USAGE, McgError, UsageError

if TYPE_CHECKING:
    from generator.cache import Cache
    from generator.helm import HelmWorker
    from generator.manifest import Resource
    from generator.model.facts import Facts

WORKING_TREE = "working tree"
# GitHub refuses a comment above 65,536 characters; leave room for what a CI step adds around it.
COMMENT_LIMIT = 60_000

EPILOG = """\
examples:
  mcg-gen diff                         HEAD against the working tree
  mcg-gen diff main                    main against the working tree
  mcg-gen diff main feature            two commits, branches or tags
  mcg-gen diff origin/main...HEAD      what HEAD changes since it left origin/main
  mcg-gen diff origin/main...HEAD --format markdown > comment.md   a pull-request comment
  mcg-gen diff --format json | jq '.groups[] | select(.changed)'

For every cluster group (values-<group>.yaml with a clusterGroup, in either revision) both
revisions are rendered like 'mcg-gen render --apps': the clustergroup chart, the charts under
common/ and every app chart of the repository, with the same cluster facts on both sides. Each
group then lists the resources (kind, namespace, name) added, removed and changed, with a
unified diff of each changed one, and a one-line summary. Nothing contacts a cluster or the
network; the working tree is read as it is, untracked files included.

A..B compares B with A; A...B compares B with the merge base of A and B (as git diff does).
--format markdown writes one pull-request comment: a collapsible section per changed group,
diffs cut (with a note saying so) so that the comment stays under GitHub's 65,536 characters.

exit status (as 'git diff --exit-code'): 0 nothing changed, 1 something changed, 2 an error
(a revision that does not exist, a group that fails to render in either revision).
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="show what a change does to each cluster group, rendered offline",
        description="Render two revisions of a pattern repository and show, per cluster group, "
        "the Kubernetes resources added, removed and changed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("base", nargs="?", help="revision to compare from (default: HEAD)")
    parser.add_argument("head", nargs="?", help="revision to compare to (default: working tree)")
    add_directory_option(parser)
    parser.add_argument(
        "--format", choices=("text", "markdown", "json"), default="text", help="output format"
    )
    parser.add_argument(
        "--chart-dir",
        action="append",
        type=Path,
        default=[],
        help="folder with local copies of remote charts (<dir>/<chart>/Chart.yaml); repeatable",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="render every group, reuse and store nothing"
    )
    add_fact_arguments(parser)
    add_timeout_argument(parser)
    parser.set_defaults(run=run)


@dataclass
class GroupDiff:
    """What changes for one cluster group; resources are named `Kind namespace/name`."""

    name: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, str] = field(default_factory=dict)  # resource -> unified diff
    unchanged: int = 0
    state: str = "both"  # "both", "added" (only in head), "removed" (only in base)
    errors: list[str] = field(default_factory=list)
    rendered: bool = True  # False: its inputs are the same in both revisions

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.state != "both")

    def summary(self) -> str:
        if self.errors:
            return f"{self.name}: does not render ({len(self.errors)} error(s))"
        parts = [
            f"{len(items)} {label}"
            for items, label in (
                (self.added, "added"),
                (self.removed, "removed"),
                (self.changed, "changed"),
            )
            if items
        ]
        parts.append(f"{self.unchanged} unchanged")
        prefix = {"added": "new group, ", "removed": "group removed, "}.get(self.state, "")
        if not self.has_changes:
            return f"{self.name}: no change ({self.unchanged} resources)"
        return f"{self.name}: {prefix}{', '.join(parts)}"


@dataclass
class Comparison:
    base: str
    head: str
    groups: list[GroupDiff]

    @property
    def has_changes(self) -> bool:
        return any(group.has_changes for group in self.groups)

    @property
    def has_errors(self) -> bool:
        return any(group.errors for group in self.groups)


def run(args: argparse.Namespace) -> int:
    repo = repository_folder(args.repo)
    try:
        comparison = compare(
            repo,
            args.base,
            args.head,
            facts_from_args(args),
            chart_dirs=tuple(args.chart_dir),
            timeout=args.timeout,
            use_cache=not args.no_cache,
        )
    except McgError as error:
        error.exit_code = EXIT_USAGE  # 1 means "changes" here, as for git diff --exit-code
        raise
    formats = {"text": format_text, "markdown": format_markdown, "json": format_json}
    sys.stdout.write(formats[args.format](comparison))
    if comparison.has_errors:
        return EXIT_USAGE
    return EXIT_INVALID if comparison.has_changes else EXIT_OK


def revisions(repo: Path, base: str | None, head: str | None) -> tuple[str, str | None]:
    """(base commit, head commit or None for the working tree) from the command line's words."""
    from generator import gitio

    if base is not None and head is None:
        for separator in ("...", ".."):
            if separator in base:
                first, _, second = base.partition(separator)
                first, second = first or "HEAD", second or "HEAD"
                base_commit = _commit(repo, first)
                head_commit = _commit(repo, second)
                if separator == "...":
                    try:
                        base_commit = gitio.merge_base(repo, base_commit, head_commit)
                    except gitio.GitUnavailable:
                        raise McgError(
                            f"{first} and {second} have no common ancestor",
                            hint=f"compare them directly: mcg-gen diff {first} {second}",
                        ) from None
                return base_commit, head_commit
    return _commit(repo, base or "HEAD"), (_commit(repo, head) if head else None)


def _commit(repo: Path, revision: str) -> str:
    from generator import gitio

    if revision.startswith("-"):
        raise UsageError(f"{revision!r} is not a revision", hint="name a commit, branch or tag")
    try:
        return gitio.resolve_commit(repo, revision)
    except gitio.GitUnavailable:
        if not (repo / ".git").exists() and not _in_work_tree(repo):
            raise McgError(
                f"{repo} is not a git repository",
                hint="mcg-gen diff compares git revisions: run it inside a clone",
            ) from None
        raise McgError(
            f"no commit {revision!r} in {repo}",
            hint="name an existing commit, branch or tag (git log --oneline shows them)",
        ) from None


def _in_work_tree(repo: Path) -> bool:
    from generator import gitio

    try:
        return gitio.run(repo, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true"
    except gitio.GitUnavailable:
        return False


def compare(
    repo: Path,
    base: str | None,
    head: str | None,
    facts: Facts,
    *,
    chart_dirs: Sequence[Path] = (),
    timeout: float | None = None,
    use_cache: bool = True,
) -> Comparison:
    """Render both revisions of every group and compare what each group gets."""
    from generator import cache
    from generator.helm import HelmWorker

    base_commit, head_commit = revisions(repo, base, head)
    with tempfile.TemporaryDirectory(prefix="mcg-gen-diff-") as scratch:
        store = cache.Cache(repo, enabled=use_cache, roots=chart_dirs)
        before = _Revision(repo, base_commit, Path(scratch) / "base")
        after = _Revision(repo, head_commit, Path(scratch) / "head")
        hub = after.values.hub_name
        names = sorted(
            set(before.values.groups) | set(after.values.groups), key=lambda g: (g != hub, g)
        )
        renderer = _Renderer(store, facts, chart_dirs)
        groups: list[GroupDiff] = []
        with HelmWorker() as helm:
            if timeout:
                helm.limit(time.time() + timeout, run_timeout=timeout)
            for name in names:
                groups.append(renderer.compare_group(before, after, name, helm))
    return Comparison(base_commit[:12], head_commit[:12] if head_commit else WORKING_TREE, groups)


class _Revision:
    """The files of one side: a commit, or the working tree.

    Contents are identified by git's blob ids on both sides (read from the commit's tree, or
    computed for the working tree with `hash-object --no-filters`), so the same content has the
    same digest in a commit and in the working tree. A commit's files are exported only when
    one of its groups has to be rendered; its values files, always (they say what to render)."""

    def __init__(self, repo: Path, commit: str | None, folder: Path) -> None:
        from generator import gitio
        from generator.model import layout
        from generator.model.values import load_values_repo

        self.repo = repo
        self.commit = commit
        self.exported = commit is None
        self.root = repo.resolve() if commit is None else folder
        try:
            if commit is None:
                self.ids = self._working_tree_ids()
            else:
                folder.mkdir()
                self.entries = gitio.list_revision(repo, commit)
                self.ids = {entry.path: f"{entry.mode} {entry.object_id}" for entry in self.entries}
                values = [e for e in self.entries if layout.is_values_name(e.path)]
                gitio.export_entries(repo, values, folder)
        except (gitio.GitUnavailable, gitio.UnsafeRevision, ValueError) as error:
            raise McgError(f"cannot read {self.name}: {error}") from None
        self.paths = sorted(self.ids)
        self.values = load_values_repo(self.root)

    @property
    def name(self) -> str:
        return f"revision {self.commit[:12]}" if self.commit else WORKING_TREE

    def _working_tree_ids(self) -> dict[str, str]:
        import os
        import stat

        from generator import gitio, repofs

        ids: dict[str, str] = {}
        files: dict[str, str] = {}  # relative path -> mode
        for relative, path, status in repofs.walk(self.root):
            if stat.S_ISLNK(status.st_mode):
                ids[relative] = f"{gitio.LINK_MODE} {gitio.link_blob_id(os.readlink(path))}"
            else:
                files[relative] = "100755" if status.st_mode & stat.S_IXUSR else "100644"
            if len(ids) + len(files) > gitio.EXPORT_MAX_FILES:
                raise gitio.UnsafeRevision(f"more than {gitio.EXPORT_MAX_FILES:,} files")
        for relative, blob in gitio.blob_ids(self.root, sorted(files)).items():
            ids[relative] = f"{files[relative]} {blob}"
        return ids

    def digest(self, relative: str) -> str:
        """A file's mode and blob id, or one hash of every file below a folder; "missing"."""
        import bisect
        import hashlib

        if relative in self.ids:
            return self.ids[relative]
        prefix = relative.rstrip("/") + "/"
        start = bisect.bisect_left(self.paths, prefix)
        digest = hashlib.sha256()
        found = False
        for path in self.paths[start:]:
            if not path.startswith(prefix):
                break
            found = True
            digest.update(f"{path[len(prefix) :]}\0{self.ids[path]}\0".encode(errors="replace"))
        return digest.hexdigest() if found else "missing"

    def ensure_files(self) -> None:
        """Export the rest of the commit's files, the first time a group needs rendering."""
        from generator import gitio
        from generator.model import layout

        if self.exported:
            return
        self.exported = True
        rest = [e for e in self.entries if not layout.is_values_name(e.path)]
        try:
            gitio.export_entries(self.repo, rest, self.root)
        except (gitio.GitUnavailable, gitio.UnsafeRevision) as error:
            raise McgError(f"cannot read {self.name}: {error}") from None


@dataclass
class _Rendered:
    resources: dict[str, str]  # resource name -> YAML
    inputs: dict[str, str]  # repository-relative file or folder -> content digest
    errors: list[str]


class _Renderer:
    """Renders a group of one revision, or finds its earlier rendering in the cache."""

    def __init__(self, store: Cache, facts: Facts, chart_dirs: Sequence[Path]) -> None:
        self.store = store
        self.facts = facts
        self.chart_dirs = tuple(chart_dirs)

    def compare_group(
        self, before: _Revision, after: _Revision, name: str, helm: HelmWorker
    ) -> GroupDiff:
        if name not in before.values.groups:
            new = self.render(after, name, helm)
            return GroupDiff(name, added=sorted(new.resources), state="added", errors=new.errors)
        old = self.render(before, name, helm)
        if name not in after.values.groups:
            return GroupDiff(
                name, removed=sorted(old.resources), state="removed", errors=old.errors
            )
        if (
            not old.errors
            and self._key(before, name) == self._key(after, name)
            and all(after.digest(path) == digest for path, digest in old.inputs.items())
        ):
            return GroupDiff(name, unchanged=len(old.resources), rendered=False)
        new = self.render(after, name, helm)
        diff = GroupDiff(name, errors=list(dict.fromkeys(old.errors + new.errors)))
        for resource in sorted(old.resources.keys() | new.resources.keys()):
            if resource not in new.resources:
                diff.removed.append(resource)
            elif resource not in old.resources:
                diff.added.append(resource)
            elif old.resources[resource] != new.resources[resource]:
                diff.changed[resource] = "".join(
                    difflib.unified_diff(
                        old.resources[resource].splitlines(keepends=True),
                        new.resources[resource].splitlines(keepends=True),
                        f"a/{name}/{resource}",
                        f"b/{name}/{resource}",
                    )
                )
            else:
                diff.unchanged += 1
        return diff

    def _key(self, side: _Revision, group: str) -> str:
        """What decides which files a group reads: its values files, the base charts the
        repository vendors (common/), every folder its applications name, and which real
        charts `charts pull` cached."""
        from generator import cache, chartcache
        from generator.model import layout, platform

        inputs = [layout.GLOBAL_FILE, layout.group_file(group), platform.VENDOR_DIR]
        for entry in side.values.entries(group, "applications"):
            path = entry.body.get("path")
            if isinstance(path, str) and path.strip("/"):
                inputs.append(path.strip("/"))
        digests = {path: side.digest(path) for path in inputs}
        # remote charts come from --chart-dir folders and the charts-pull cache: their content
        # is part of the answer
        charts = {str(folder): self.store.digest(str(folder)) for folder in self.chart_dirs}
        return cache.key_of(
            "diff-render",
            group,
            digests,
            charts,
            self.facts,
            self.store.tool_digest(),
            chartcache.fingerprint(),
        )

    def render(self, side: _Revision, group: str, helm: HelmWorker) -> _Rendered:
        key = self._key(side, group)
        entry = self.store.get(f"diff-render:{key}", key)
        if entry is not None and all(
            side.digest(path) == digest for path, digest in entry["inputs"].items()
        ):
            return _Rendered(dict(entry["resources"]), dict(entry["inputs"]), [])
        side.ensure_files()
        rendered = self._render(side, group, helm)
        if not rendered.errors:
            self.store.put(f"diff-render:{key}", key, asdict(rendered), ())
        return rendered

    def _render(self, side: _Revision, group: str, helm: HelmWorker) -> _Rendered:
        from generator.render import render_charts
        from generator.yamlio import dump_yaml

        root = side.root.resolve()
        resources: dict[str, str] = {}
        inputs: set[str] = set()
        errors: list[str] = []
        try:
            charts = list(
                render_charts(
                    side.values, group, self.facts, apps=True, helm=helm, chart_dirs=self.chart_dirs
                )
            )
        except McgError as error:
            return _Rendered({}, {}, [str(error)])
        for chart in charts:
            for path in (chart.chart_dir, *chart.value_files):
                if path is not None and path.resolve().is_relative_to(root):
                    inputs.add(path.resolve().relative_to(root).as_posix())
            if chart.error is not None:
                errors.append(f"{chart.chart}: {chart.error}")
            for resource in sorted(chart.resources, key=lambda r: (*r.sort_key(), r.line)):
                name = _resource_name(resource, chart.application)
                unique, count = name, 1
                while unique in resources:
                    count += 1
                    unique = f"{name} #{count}"
                resources[unique] = dump_yaml(_masked(resource.body))
        digests = {path: side.digest(path) for path in sorted(inputs)}
        return _Rendered(resources, digests, errors)


def _masked(body: dict[str, Any]) -> dict[str, Any]:
    """A Secret with each value replaced by a short hash of it: a diff (and a pull-request
    comment) shows which keys changed, never what they hold."""
    import hashlib

    if body.get("kind") != "Secret" or str(body.get("apiVersion")) != "v1":
        return body
    masked = dict(body)
    for section in ("data", "stringData"):
        values = body.get(section)
        if isinstance(values, dict):
            masked[section] = {
                key: "<masked sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:12] + ">"
                for key, value in values.items()
            }
    return masked


def _resource_name(resource: Resource, application: str | None) -> str:
    """`Kind namespace/name`; an object without a namespace of its own lands in its
    application's destination namespace, so the application names it."""
    if resource.namespace:
        return f"{resource.kind} {resource.namespace}/{resource.name}"
    if application:
        return f"{resource.kind} {resource.name} (application {application})"
    return f"{resource.kind} {resource.name}"


# -- output formats -----------------------------------------------------------------------


def _title(comparison: Comparison) -> str:
    changed = [group for group in comparison.groups if group.has_changes or group.errors]
    return (
        f"mcg-gen diff {comparison.base} → {comparison.head}: {len(changed)} of "
        f"{len(comparison.groups)} cluster group(s) changed"
    )


def format_text(comparison: Comparison) -> str:
    from generator.errors import printable

    lines = [_title(comparison)]
    for group in comparison.groups:
        lines.append(group.summary())
        lines += [f"  error: {error}" for error in group.errors]
        lines += [f"  + {resource}" for resource in group.added]
        lines += [f"  - {resource}" for resource in group.removed]
        for resource, diff in group.changed.items():
            lines.append(f"  ~ {resource}")
            lines += ["    " + line for line in diff.splitlines()]
    return printable("\n".join(lines), keep_newlines=True) + "\n"


def format_json(comparison: Comparison) -> str:
    document = {
        "base": comparison.base,
        "head": comparison.head,
        "changed": comparison.has_changes,
        "groups": [
            {
                "name": group.name,
                "state": group.state,
                "changed": group.has_changes,
                "summary": group.summary(),
                "added": group.added,
                "removed": group.removed,
                "changedResources": [
                    {"resource": resource, "diff": diff} for resource, diff in group.changed.items()
                ],
                "unchanged": group.unchanged,
                "rendered": group.rendered,
                "errors": group.errors,
            }
            for group in comparison.groups
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _fence(text: str) -> str:
    """A fenced `diff` block whose fence no run of backticks in `text` can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}diff\n{text.rstrip(chr(10))}\n{fence}\n"


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def format_markdown(comparison: Comparison, limit: int = COMMENT_LIMIT) -> str:
    """A pull-request comment: a `<details>` section per changed group, at most `limit`
    characters, every user string escaped (HTML in names, fences in diffs)."""
    shown = [group for group in comparison.groups if group.has_changes or group.errors]
    quiet = [group.name for group in comparison.groups if group not in shown]
    header = f"### {html.escape(_title(comparison))}\n\n"
    footer = f"Unchanged: {', '.join(_code(n) for n in quiet)}\n" if quiet else ""
    openings = [
        f"<details><summary>{html.escape(group.summary())}</summary>\n\n" for group in shown
    ]
    closing = "\n</details>\n\n"
    cut_note = (
        "\n_The rest is cut to keep this comment under GitHub's 65,536 characters: run "
        "`mcg-gen diff` locally for all of it._\n"
    )
    skeleton = len(header) + len(footer) + len(cut_note)
    skeleton += sum(len(opening) + len(closing) for opening in openings)
    dropped = 0
    while shown and skeleton > limit:  # more groups than fit even as one line each
        shown.pop()
        skeleton -= len(openings.pop()) + len(closing)
        dropped += 1
    budget = limit - skeleton
    parts = [header]
    cut = dropped > 0
    for group, opening in zip(shown, openings, strict=True):
        body: list[str] = []
        for piece in _markdown_pieces(group):
            if len(piece) <= budget:
                body.append(piece)
                budget -= len(piece)
                continue
            cut = True
            partial = _cut_diff(piece, budget)
            if partial:
                body.append(partial)
                budget -= len(partial)
            budget = min(budget, 0)
        parts += [opening, *body, closing]
    if dropped:
        parts.append(f"\n_... and {dropped} more changed group(s) not listed._\n")
    if cut:
        parts.append(cut_note)
    parts.append(footer)
    return "".join(parts)


def _markdown_pieces(group: GroupDiff) -> Iterator[str]:
    for error in group.errors:
        yield f"- error: {_code(error)}\n"
    for resource in group.added:
        yield f"- added {_code(resource)}\n"
    for resource in group.removed:
        yield f"- removed {_code(resource)}\n"
    for resource, diff in group.changed.items():
        yield f"\nchanged {_code(resource)}\n\n{_fence(diff)}"


def _cut_diff(piece: str, budget: int) -> str:
    """As many whole lines of a changed resource's diff block as fit in `budget`, fenced."""
    if not piece.startswith("\nchanged ") or budget < 200:
        return ""
    heading, _, block = piece.partition("\n\n")
    fence = block.split("diff\n", 1)[0]
    lines = block.split("\n")[1:-2]
    kept: list[str] = []
    used = len(heading) + 2 + 2 * len(fence) + 120
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    left = len(lines) - len(kept)
    return (
        f"{heading}\n\n{fence}diff\n"
        + "".join(f"{line}\n" for line in kept)
        + (f"{fence}\n\n_({left} more line(s) of this diff not shown)_\n")
    )
