"""mcg-gen: Multicloud GitOps repositories from a concise pattern spec."""

# The one version string: pyproject.toml reads it (`[tool.setuptools.dynamic]`), `--version`
# prints it, and generated repositories pin the hooks and CI to its release tag.
__version__ = "0.1.0"

# Where mcg-gen's source lives: the pre-commit hook repository of generated repositories.
SOURCE_REPOSITORY = "https://github.com/mcg-gen/mcg-gen"


def release_tag(version: str = __version__) -> str:
    """The git tag `version` is released under (.github/workflows/release.yaml publishes it)."""
    return f"v{version}"
