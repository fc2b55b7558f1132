"""What the wheel ships: every Python package of generator/, and the schemas, charts and examples
that mcg-gen needs at run time (it never reads outside its own installation)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from generator import bundled
from tests.conftest import PROJECT


def setuptools_config() -> Any:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_python_package_is_listed() -> None:
    listed = {
        name for name in setuptools_config()["packages"] if not name.startswith("generator.assets")
    }
    found = {
        ".".join(init.parent.relative_to(PROJECT).parts)
        for init in (PROJECT / "generator").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert listed == found


def test_shipped_folders_are_mapped_into_the_package() -> None:
    mapped = setuptools_config()["package-dir"]
    assert mapped == {
        "generator.assets.schemas": "schemas",
        "generator.assets.charts": "charts",
        "generator.assets.patterns": "patterns",
    }
    for folder in ("schemas", "charts", "patterns"):
        assert (PROJECT / folder).is_dir()
    assert bundled.schemas_dir() == PROJECT / "schemas"


def test_templates_are_package_data() -> None:
    data = setuptools_config()["package-data"]
    assert "templates/**/*" in data["generator"]
    assert (Path(bundled.__file__).parent / "templates/appchart/values.schema.json").is_file()


def test_the_spec_shown_in_the_readme_is_valid() -> None:
    import re

    from generator.model.spec import parse_spec

    readme = (PROJECT / "README.md").read_text()
    [example] = [
        block
        for block in re.findall(r"```yaml\n(.*?)```", readme, re.S)
        if "name: multicloud-gitops" in block
    ]
    pattern = parse_spec(example)
    assert [group.name for group in pattern.cluster_groups] == ["hub", "group-one"]
    assert pattern.apps["config-demo"].secrets == ("config-demo",)


def test_the_readme_has_two_set_up_commands_and_ci_runs_the_second() -> None:
    import re

    readme = (PROJECT / "README.md").read_text()
    section = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = [
        line
        for block in re.findall(r"```sh\n(.*?)```", section, re.S)
        for line in block.splitlines()
        if line and not line.startswith("#")
    ]
    install, test = commands
    # The example repository is created outside the checkout, by the mcg-gen just installed.
    assert install.startswith("python3 -m venv .venv && .venv/bin/pip install . && ")
    assert install.endswith(" --output ~/my-pattern")
    test_command = test.split(" && ")[-1]
    ci = (PROJECT / ".ci/run").read_text().splitlines()
    assert test_command in ci
