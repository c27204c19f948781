"""Trainers: thin bindings of :mod:`steprl.core.loop`."""
