"""Multi-agent algorithms (one package per backend)."""
