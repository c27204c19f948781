"""The JAX runner: :class:`~steprl.core.runner.RunnerBase` on the JAX classes."""

from __future__ import annotations

from steprl.core.runner import RunnerBase

__all__ = ["Runner"]


class Runner(RunnerBase):
    """Build models, memory, agent and trainer from a configuration (skrl's format) and run them on JAX.

    Accepts the JAX agents of :data:`steprl.core.runner.tables.AGENTS` (``"jax"``). ``models.separate: false``
    builds one model per role (there is no shared JAX model), with a warning.
    """

    backend = "jax"
