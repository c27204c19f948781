"""Multi-agent algorithms for JAX: the :class:`MultiAgent` base, ``ippo.IPPO`` and ``mappo.MAPPO``."""

from steprl.multi_agents.jax.base import MultiAgent

__all__ = ["MultiAgent"]
