"""Small JAX replay agents (SAC, TD3, DDPG) on Pendulum-v1 for the JAX replay-agent tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import jax
import numpy as np

from helpers.backends import jax_backend
from helpers.jax_agents import NO_LOGS, QUIET
from steprl.agents.jax.ddpg import DDPG, DDPG_DEFAULT_CONFIG
from steprl.agents.jax.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.agents.jax.td3 import TD3, TD3_DEFAULT_CONFIG
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.models.jax.networks.deterministic import build_ddpg_models, build_td3_models
from steprl.models.jax.networks.sac import build_sac_models
from steprl.resources.noises.jax import GaussianNoise
from steprl.trainers.jax import ManualTrainer
from steprl.utils import set_seed

__all__ = ["ALGOS", "build_replay_agent", "fill_memory", "host_params", "pendulum", "trainer"]

ALGOS = {
    "sac": (SAC, SAC_DEFAULT_CONFIG, build_sac_models),
    "td3": (TD3, TD3_DEFAULT_CONFIG, build_td3_models),
    "ddpg": (DDPG, DDPG_DEFAULT_CONFIG, build_ddpg_models),
}


def pendulum(num_envs: int = 2, backend: str = "numpy", seed: int = 0) -> Any:
    """A wrapped sync vector Pendulum-v1, reset with ``seed``."""
    with jax_backend(backend):
        env = gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync")
        env.reset(seed=seed)
        return wrap_env(env, verbose=False)


def build_replay_agent(
    algo: str, env: Any, backend: str = "numpy", seed: int = 0, memory_size: int = 64, **cfg: Any
) -> Any:
    """A seeded ``algo`` agent with 8x8 networks, batch 8 and Gaussian noises (exploration, TD3 smoothing)."""
    cls, defaults, build = ALGOS[algo]
    set_seed(seed)
    config = defaults.copy()
    config.update(batch_size=8, experiment=dict(NO_LOGS))
    if algo != "sac":
        config["exploration"].update(noise=GaussianNoise(0.0, 0.1), final_scale=1.0)
    if algo == "td3":
        config["smooth_regularization_noise"] = GaussianNoise(0.0, 0.2)
    config.update(cfg)
    with jax_backend(backend):
        models = build(env.observation_space, env.action_space, None, {"hidden": [8, 8]})
        memory = RandomMemory(memory_size=memory_size, num_envs=env.num_envs)
        return cls(models, memory, env.observation_space, env.action_space, None, config)


def trainer(env: Any, agent: Any, timesteps: int = 1000) -> ManualTrainer:
    """A quiet ``ManualTrainer`` (it calls ``agent.init``)."""
    return ManualTrainer(env=env, agents=agent, cfg={**QUIET, "timesteps": timesteps})


def fill_memory(agent: Any, rows: int, seed: int = 0) -> None:
    """Write ``rows`` random Pendulum transitions (every fifth terminated) to ``agent``'s memory."""
    rng = np.random.default_rng(seed)
    n = agent.memory.num_envs
    for i in range(rows):
        agent.memory.add_samples(
            states=rng.normal(size=(n, 3)).astype(np.float32),
            actions=rng.uniform(-2, 2, size=(n, 1)).astype(np.float32),
            rewards=rng.normal(size=(n, 1)).astype(np.float32),
            next_states=rng.normal(size=(n, 3)).astype(np.float32),
            terminated=np.full((n, 1), i % 5 == 4, dtype=np.int8),
            truncated=np.zeros((n, 1), dtype=np.int8),
        )


def host_params(agent: Any) -> dict[str, Any]:
    """Every learned parameter and optimizer state of ``agent`` as NumPy (for comparisons)."""
    state = agent._train_state()
    return jax.tree_util.tree_map(np.asarray, {"params": state.params, "opt": state.opt})


def _checkpoint_state(agent: Any) -> dict[str, Any]:
    """The complete checkpoint contents of ``agent`` (modules, counters, PRNG keys, noise state) as NumPy."""
    return jax.tree_util.tree_map(lambda x: np.asarray(x) if isinstance(x, jax.Array) else x,
                                  agent._checkpoint_dict(agent.timestep))  # fmt: skip


def assert_resume_is_bit_identical(
    algo: str, path: str, steps: int = 12, noise: Callable[[], Any] | None = None, **cfg: Any
) -> Any:
    """Train ``algo`` ``steps`` steps, save, resume a differently seeded agent from the file; both must then hold
    the same complete state and continue identically (act with exploration, record, update) for 6 steps.
    ``noise`` makes each agent's own exploration noise. Returns the saved agent's checkpoint dict."""
    from helpers.checkpoint import assert_state_equal

    cfg = {"random_timesteps": 3, "learning_starts": 5, "checkpoint_memory": True, **cfg}
    if noise is not None:
        cfg["exploration"] = {"noise": noise()}
    env = pendulum(num_envs=2)
    saved = build_replay_agent(algo, env, **cfg)
    run = trainer(env, saved, 100)
    for t in range(steps):
        run.train(timestep=t)
    saved.save(path)
    state = _checkpoint_state(saved)

    resumed_env = pendulum(num_envs=2, seed=1)
    if noise is not None:
        cfg["exploration"] = {"noise": noise()}
    resumed = build_replay_agent(algo, resumed_env, seed=1, **cfg)
    trainer(resumed_env, resumed, 100)
    resumed.load(path, resume=True)
    assert_state_equal(state, _checkpoint_state(resumed))

    rng = np.random.default_rng(0)
    for t in range(steps, steps + 6):
        states, next_states = (rng.normal(size=(2, 3)).astype(np.float32) for _ in range(2))
        rewards = rng.normal(size=(2, 1)).astype(np.float32)
        done = np.array([[t % 3 == 0], [False]], dtype=np.int8)
        for agent in (saved, resumed):
            actions = agent.act(states, t, 100)[0]
            agent.record_transition(states, actions, rewards, next_states, done, np.zeros_like(done), {}, t, 100)
            agent.post_interaction(t, 100)
        np.testing.assert_array_equal(np.asarray(saved.act(states, t, 100)[0]), np.asarray(resumed.act(states, t, 100)[0]))
    assert_state_equal(_checkpoint_state(saved), _checkpoint_state(resumed))
    return state
