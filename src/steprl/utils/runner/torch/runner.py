"""The PyTorch runner: :class:`~steprl.core.runner.RunnerBase` on the torch classes."""

from __future__ import annotations

from steprl.core.runner import RunnerBase

__all__ = ["Runner"]


class Runner(RunnerBase):
    """Build models, memory, agent and trainer from a configuration (skrl's format) and run them.

    ``Runner(env, Runner.load_cfg_from_yaml("ppo.yaml")).run()``; ``runner.agent`` and ``runner.trainer`` are
    the built objects. Accepts the torch agents of :data:`steprl.core.runner.tables.AGENTS` (PPO, A2C, RPO, TRPO,
    SAC, TD3, DDPG, DQN, DDQN, CEM and, on a multi-agent environment, IPPO and MAPPO).
    """

    backend = "torch"
