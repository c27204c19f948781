"""Utilities: seeding and space helpers."""

from steprl.utils.seed import set_seed

__all__ = ["set_seed"]
