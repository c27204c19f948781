"""Environment wrappers and loaders."""
