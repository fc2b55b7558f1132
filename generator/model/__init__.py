"""The pattern model and its loaders."""

SPEC_FILE = "pattern.yaml"
