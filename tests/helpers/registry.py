"""Every torch agent of the command's registry, built small on a seeded Gymnasium environment that fits it."""

from __future__ import annotations

from typing import Any

import gymnasium

from steprl.cli.registry import AGENTS
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory

ENV_IDS = {"Box": "Pendulum-v1", "Discrete": "CartPole-v1"}


def env_id(name: str) -> str:
    """A Gymnasium environment id that agent ``name`` (a registry key) can train on."""
    entry = AGENTS[name]
    return "FrozenLake-v1" if entry.discrete_observations else ENV_IDS[entry.actions[-1]]


def make_env(name: str, num_envs: int = 2, seed: int = 0) -> Any:
    """The wrapped, seeded vector environment of :func:`env_id` (its first reset uses ``seed``)."""
    env = wrap_env(gymnasium.make_vec(env_id(name), num_envs=num_envs, vectorization_mode="sync"), verbose=False)
    env.reset(seed=seed)
    return env


def small_network(name: str) -> dict[str, Any]:
    """Network settings for short test runs: recurrent agents get 2-step sequences (their presets train on 16)."""
    return {"sequence_length": 2} if "sequence_length" in AGENTS[name].valid_network_keys() else {}


def build_agent(name: str, env: Any, replay_size: int = 64, **updates: Any) -> Any:
    """Agent ``name`` with the registry's default models; ``updates`` override the config keys this agent has.

    On-policy agents get a rollout memory of ``cfg["rollouts"]`` steps, replay agents one of ``replay_size``.
    Logging and periodic checkpoints are off.
    """
    entry = AGENTS[name]
    cfg = entry.default_config().copy()
    cfg.update({k: v for k, v in updates.items() if k in cfg})
    cfg["experiment"] = {**cfg["experiment"], "write_interval": 0, "checkpoint_interval": 0}
    models = entry.build_models(env.observation_space, env.action_space, env.device, small_network(name), env.num_envs)
    memory = None
    if entry.memory != "none":
        size = cfg["rollouts"] if entry.memory == "rollout" else replay_size
        memory = RandomMemory(memory_size=size, num_envs=env.num_envs)
    return entry.agent_class()(
        models=models, memory=memory, observation_space=env.observation_space, action_space=env.action_space, cfg=cfg
    )
