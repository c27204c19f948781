"""Multi-agent algorithms for PyTorch: the :class:`MultiAgent` base, ``ippo.IPPO`` and ``mappo.MAPPO``."""

from steprl.multi_agents.torch.base import MultiAgent

__all__ = ["MultiAgent"]
