"""`mcg-gen render` end to end through the real command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.cli import main
from generator.commands.render import file_name
from generator.yamlio import parse_documents

FIXTURE = Path(__file__).parent / "fixtures" / "reference-mcg"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["render", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_stream_is_yaml_with_source_and_chart_comments_per_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, str(FIXTURE), "--group", "hub")
    assert code == 0
    value_files, bundled = err.splitlines()
    assert value_files == (
        "info: hub: value files values-global.yaml, values-hub.yaml, overrides/values-AWS.yaml"
    )
    # no real chart is cached and the fixture vendors none: one line says which models stood in
    assert bundled.startswith("info: hub: rendered with mcg-gen's bundled models instead of")
    assert "clustergroup 0.9.* from https://charts.validatedpatterns.io/" in bundled
    assert "common/acm (as acm " in bundled
    chunks = out.split("---\n")[1:]
    assert chunks and all(chunk.startswith("# Source: ") for chunk in chunks)
    assert all(chunk.splitlines()[1].startswith("# Chart: ") for chunk in chunks)
    assert re.search(r"^# Chart: acm \S+ \(bundled\)$", out, re.MULTILINE)
    documents = parse_documents(out, "stdout")
    assert len(documents) == len(chunks)
    kinds = {d.data["kind"] for d in documents}
    assert {"Application", "Policy", "ClusterSecretStore"} <= kinds
    assert "# Source: <mcg-gen>/charts/acm/templates/clustergroup-policies.yaml" in out


def test_output_is_identical_run_after_run(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, str(FIXTURE), "--group", "group-one", "--apps")
    second = run(capsys, str(FIXTURE), "--group", "group-one", "--apps")
    assert first == second
    assert "charts/all/config-demo/templates/configmap.yaml" in first[1]


def test_facts_flags_reach_the_rendered_resources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, str(FIXTURE), "-g", "group-one", "--hub-domain", "apps.lab.example.org",
        "--platform", "Azure", "--version", "4.17",
    )  # fmt: skip
    assert code == 0
    assert "server: https://vault-vault.apps.lab.example.org" in out
    assert "/values-Azure-4.17.yaml" in out


def test_output_dir_gets_one_file_per_resource(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, str(FIXTURE), "--group", "hub", "--apps", "-o", str(out_dir))
    assert (code, out) == (0, "")
    assert err.startswith("info: hub: value files ")
    files = sorted(p.name for p in out_dir.iterdir())
    assert "policy-open-cluster-management-group-one-clustergroup-policy.yaml" in files
    assert "clustersecretstore-cluster-vault-backend.yaml" in files
    assert "application-multicloud-gitops-hub-config-demo.yaml" in files
    _, stream, _ = run(capsys, str(FIXTURE), "--group", "hub", "--apps")
    assert len(files) == stream.count("# Source: ")
    text = (out_dir / "clustersecretstore-cluster-vault-backend.yaml").read_text()
    assert text.startswith("# Source: <mcg-gen>/charts/secretstore/templates/")
    again = tmp_path / "again"
    run(capsys, str(FIXTURE), "--group", "hub", "--apps", "-o", str(again))
    for name in files:
        assert (again / name).read_bytes() == (out_dir / name).read_bytes()


def test_file_names_are_safe_and_lowercase() -> None:
    assert file_name("ConfigMap", "", "a/b:c") == "configmap-cluster-a_b_c.yaml"


def test_an_unknown_group_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(FIXTURE), "--group", "nope")
    assert (code, out) == (1, "")
    assert "no cluster group 'nope'" in err
    assert "groups in this repository: group-one, hub" in err
    assert "Traceback" not in err


def test_an_invalid_group_name_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(FIXTURE), "--group", "Bad_Name")
    assert code == 1
    assert "not a cluster group name" in err


def test_missing_group_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["render", str(FIXTURE)])
    assert caught.value.code == 2
    assert "--group" in capsys.readouterr().err


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    assert "examples:" in capsys.readouterr().out


def test_output_dir_never_writes_through_a_symlink(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (out_dir / "clustersecretstore-cluster-vault-backend.yaml").symlink_to(victim)
    code, _, err = run(capsys, str(FIXTURE), "--group", "hub", "-o", str(out_dir))
    assert code == 0, err
    assert victim.read_text() == "keep me\n"
    written = out_dir / "clustersecretstore-cluster-vault-backend.yaml"
    assert not written.is_symlink()
    assert "ClusterSecretStore" in written.read_text()


@pytest.mark.parametrize(
    "command",
    [
        ["render", "--group", "hub"],
        ["validate"],
        ["charts", "pull"],
        ["graph"],
        ["import"],
    ],
    ids=lambda argv: argv[0] if argv[0] != "charts" else "charts-pull",
)
def test_a_missing_repository_folder_is_one_usage_error(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert main([*command, str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"mcg-gen: error: no repository at {missing}",
        "  hint: pass the pattern repository's folder",
    ]
