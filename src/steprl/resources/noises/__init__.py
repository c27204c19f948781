"""Exploration noises for deterministic policies (``steprl.resources.noises.torch``)."""
