"""The pattern model and its loaders."""
