"""`mcg-gen diff` through the CLI on real git repositories of several shapes and ages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from tests import gitrepos
from tests.conftest import run_subprocess
from tests.gitrepos import RENDERABLE, commit_all, git

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  note: {note}
"""


def diff(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_subprocess("diff", "-C", str(repo), "--format", "json", *args, cwd=None)
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def groups(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["name"]: group for group in report["groups"]}


def app_chart(repo: Path) -> Path:
    """The first app chart of the repository (not a vendored one under common/)."""
    return sorted(path.parent for path in (repo / "charts").glob("**/Chart.yaml"))[0]


@pytest.mark.parametrize("shape", RENDERABLE)
def test_a_template_added_to_one_chart_shows_in_the_groups_that_run_it(
    shape: str, tmp_path: Path
) -> None:
    repo = gitrepos.make(shape, tmp_path / shape)
    code, clean = diff(repo)
    assert code == 0
    assert clean["changed"] is False
    assert all(group["summary"].endswith(" resources)") for group in clean["groups"])
    # nothing changed: each group is rendered once (the base) and the working tree not at all
    assert all(group["rendered"] is False for group in clean["groups"])

    chart = app_chart(repo)
    (chart / "templates" / "added-by-test.yaml").write_text(
        CONFIGMAP.format(name="added-by-test", note="hello")
    )
    code, changed = diff(repo)
    assert code == 1
    assert changed["changed"] is True and changed["head"] == "working tree"
    touched = [group for group in changed["groups"] if group["changed"]]
    assert touched, changed
    for group in touched:
        assert group["removed"] == [] and group["changedResources"] == []
        assert len(group["added"]) == 1
        assert group["added"][0].startswith("ConfigMap added-by-test")
        assert group["summary"] == (f"{group['name']}: 1 added, {group['unchanged']} unchanged")
    for group in changed["groups"]:
        if not group["changed"]:
            assert group["rendered"] is False  # its inputs are the same in both revisions


def test_ranges_compare_commits_and_merge_bases(tmp_path: Path) -> None:
    repo = gitrepos.make("generated", tmp_path / "repo")
    chart = app_chart(repo)
    git(repo, "switch", "-q", "-c", "feature")
    (chart / "templates" / "feature.yaml").write_text(CONFIGMAP.format(name="feature", note="f"))
    feature = commit_all(repo, "feature adds a ConfigMap")
    git(repo, "switch", "-q", "main")
    (chart / "templates" / "mainline.yaml").write_text(CONFIGMAP.format(name="mainline", note="m"))
    commit_all(repo, "main adds another")

    def added(report: dict[str, Any]) -> set[str]:
        return {name.split()[1] for group in report["groups"] for name in group["added"]}

    def removed(report: dict[str, Any]) -> set[str]:
        return {name.split()[1] for group in report["groups"] for name in group["removed"]}

    code, since_fork = diff(repo, "main...feature")
    assert code == 1
    assert added(since_fork) == {"feature"} and removed(since_fork) == set()
    assert since_fork["head"] == feature[:12]
    _, direct = diff(repo, "main", "feature")
    assert added(direct) == {"feature"} and removed(direct) == {"mainline"}
    _, dotted = diff(repo, "main..feature")
    assert dotted["groups"] == direct["groups"]
    code, same = diff(repo, "feature", "feature")
    assert code == 0 and same["changed"] is False


def test_a_group_added_and_removed_between_commits(tmp_path: Path) -> None:
    repo = gitrepos.make("handwritten", tmp_path / "repo")
    text = (repo / "values-group-one.yaml").read_text()
    (repo / "values-group-two.yaml").write_text(text.replace("group-one", "group-two"))
    commit_all(repo, "a second managed group")
    code, report = diff(repo, "HEAD~1", "HEAD")
    assert code == 1
    two = groups(report)["group-two"]
    assert two["state"] == "added" and two["changed"]
    assert two["added"] and two["summary"].startswith("group-two: new group, ")
    assert groups(report)["hub"]["changed"] is False
    _, back = diff(repo, "HEAD", "HEAD~1")
    assert groups(back)["group-two"]["state"] == "removed"
    assert sorted(groups(back)["group-two"]["removed"]) == sorted(two["added"])


def test_markdown_is_one_comment_that_renders(tmp_path: Path) -> None:
    repo = gitrepos.make("generated", tmp_path / "repo")
    chart = app_chart(repo)
    values = chart / "values.yaml"
    # a diff far above GitHub's comment limit, with backtick runs that would close a ``` fence
    # and HTML in the text
    values.write_text(values.read_text() + "# edited\n")
    big = "\n".join(f"  line{i}: '```` <b>{'x' * 60}'" for i in range(3000))
    (chart / "templates" / "big.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n" + big + "\n"
    )
    commit_all(repo, "big")
    (chart / "templates" / "big.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
        + big.replace("x", "y")
        + "\n"
    )
    result = run_subprocess("diff", "-C", str(repo), "--format", "markdown", cwd=None)
    assert result.code == 1, result.err
    comment = result.out
    assert len(comment) <= 65_536
    assert "cut to keep this comment under GitHub's 65,536 characters" in comment
    tokens = MarkdownIt("commonmark").parse(comment)
    html_blocks = "".join(token.content for token in tokens if token.type == "html_block")
    assert html_blocks.count("<details>") == html_blocks.count("</details>") >= 1
    assert "<b>" not in html_blocks  # user text in summaries is escaped
    fences = [token for token in tokens if token.type == "fence"]
    assert fences and all(token.info == "diff" for token in fences)
    # every fence holds diff lines only: no fence was closed early by the content's backticks
    for token in fences:
        assert all(line[:1] in "+- @" for line in token.content.splitlines()), token.content[:200]
    assert any("line0: '```` <b>" in token.content for token in fences)


def test_revisions_are_read_without_running_the_repositorys_filters(tmp_path: Path) -> None:
    repo = gitrepos.make("generated", tmp_path / "repo")
    canary = tmp_path / "filter-ran"
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    git(repo, "config", "filter.evil.smudge", f"touch {canary}; cat")
    git(repo, "config", "filter.evil.clean", "cat")
    git(repo, "config", "diff.evil.textconv", f"touch {canary}; cat")
    commit_all(repo, "attributes")
    chart = app_chart(repo)
    (chart / "templates" / "added.yaml").write_text(CONFIGMAP.format(name="added", note="x"))
    commit_all(repo, "a ConfigMap")
    canary.unlink(missing_ok=True)  # `git add` itself ran the clean filter
    code, report = diff(repo, "HEAD~1", "HEAD")
    assert code == 1 and any(group["added"] for group in report["groups"])
    assert not canary.exists()


def test_errors_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    repo = gitrepos.make("generated", tmp_path / "repo")
    missing = run_subprocess("diff", "-C", str(repo), "no-such-branch", cwd=None)
    assert missing.code == 2
    assert "no commit 'no-such-branch'" in missing.err and "Traceback" not in missing.err
    option = run_subprocess("diff", "-C", str(repo), "--", "--output=x", cwd=None)
    assert option.code == 2 and "is not a revision" in option.err

    plain = tmp_path / "plain"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    outside = run_subprocess("diff", "-C", str(plain), cwd=None)
    assert outside.code == 2 and "not a git repository" in outside.err

    # a template that fails to render in the working tree: reported in its group, exit 2
    chart = app_chart(repo)
    (chart / "templates" / "broken.yaml").write_text('{{ fail "broken on purpose" }}\n')
    broken = run_subprocess("diff", "-C", str(repo), "--format", "json", cwd=None)
    assert broken.code == 2, broken.err
    report = json.loads(broken.out)
    assert any("broken on purpose" in error for g in report["groups"] for error in g["errors"])


def test_help_has_examples() -> None:
    result = run_subprocess("diff", "--help", cwd=None)
    assert result.code == 0
    assert "origin/main...HEAD" in result.out and "exit status" in result.out


def test_links_and_executables_digest_alike_in_a_commit_and_the_working_tree(
    tmp_path: Path,
) -> None:
    """Contents are identified by git's blob ids on both sides: an unchanged repository is not
    rendered twice, whatever its files are."""
    repo = gitrepos.make("generated", tmp_path / "repo")
    chart = app_chart(repo)
    (chart / "values-link.yaml").symlink_to("values.yaml")
    script = chart / "hook.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    commit_all(repo, "a link and an executable")
    code, report = diff(repo)
    assert code == 0
    assert all(group["rendered"] is False for group in report["groups"])
    script.chmod(0o644)  # a mode change is a change of the chart's content
    _, again = diff(repo)
    assert any(group["rendered"] for group in again["groups"])


def test_secret_values_never_reach_the_output(tmp_path: Path) -> None:
    repo = gitrepos.make("generated", tmp_path / "repo")
    template = app_chart(repo) / "templates" / "secret.yaml"
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {}\n"
    template.write_text(secret.format("hunter2-old"))
    commit_all(repo, "a Secret")
    template.write_text(secret.format("hunter2-new"))
    for output in ("text", "markdown", "json"):
        result = run_subprocess("diff", "-C", str(repo), "--format", output, cwd=None)
        assert result.code == 1, result.err
        assert "hunter2" not in result.out
        assert "password: '<masked sha256:" in result.out  # the key is shown as changed
