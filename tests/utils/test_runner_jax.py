"""The JAX runner: the same configuration format builds the JAX agents (flax models, JAX memory and trainer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from steprl.core.runner import RunnerConfigError
from steprl.utils.runner.jax import Runner

CARTPOLE_PPO = Path(__file__).resolve().parents[1] / "data" / "runner" / "cartpole_ppo.yaml"


def cartpole(num_envs: int = 4) -> Any:
    from steprl.envs.wrappers.jax import wrap_env

    env = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    env.reset(seed=0)
    return wrap_env(env, verbose=False)


def jax_cfg(tmp_path: Path, agent: str = "PPO") -> dict[str, Any]:
    cfg = Runner.load_cfg_from_yaml(CARTPOLE_PPO)
    cfg["models"]["separate"] = True
    cfg["agent"]["class"] = agent
    cfg["agent"]["experiment"]["directory"] = str(tmp_path)
    cfg["trainer"]["timesteps"] = 40
    return cfg


def _parameters(model: Any) -> list[np.ndarray]:
    import jax

    return [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(model.state_dict.params)]


@pytest.mark.slow
def test_jax_ppo_from_the_configuration_trains(tmp_path: Path) -> None:
    from steprl.agents.jax.ppo import PPO
    from steprl.memories.jax import RandomMemory
    from steprl.models.jax import CategoricalMixin, DeterministicMixin
    from steprl.resources.preprocessors.jax import RunningStandardScaler
    from steprl.trainers.jax import SequentialTrainer

    runner = Runner(cartpole(), jax_cfg(tmp_path))
    agent = runner.agent
    assert isinstance(agent, PPO) and isinstance(runner.trainer, SequentialTrainer)
    assert isinstance(agent.models["policy"], CategoricalMixin)
    assert isinstance(agent.models["value"], DeterministicMixin)
    assert isinstance(agent.memory, RandomMemory) and agent.memory.memory_size == 32
    assert isinstance(agent._state_preprocessor, RunningStandardScaler)
    before = _parameters(agent.models["policy"])
    runner.run()  # 40 steps: one update of 32 rollouts
    after = _parameters(agent.models["policy"])
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert runner.trainer.episode_count("train") > 0


def test_jax_shared_models_become_separate_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = jax_cfg(tmp_path, agent="ppo")  # class names are case-insensitive
    cfg["models"]["separate"] = False
    runner = Runner(cartpole(), cfg)
    assert runner.agent.models["policy"] is not runner.agent.models["value"]
    assert "the jax backend has no shared model" in caplog.text


def test_jax_tables_name_the_jax_classes(tmp_path: Path) -> None:
    cfg = jax_cfg(tmp_path, agent="TRPO")
    with pytest.raises(RunnerConfigError, match=r"unknown agent class 'TRPO' in section 'agent' \(jax\).*A2C, CEM, DDPG"):
        Runner(cartpole(), cfg)
    cfg = jax_cfg(tmp_path)
    cfg["models"]["policy"]["class"] = "MultivariateGaussianMixin"
    with pytest.raises(RunnerConfigError, match="unknown model class 'MultivariateGaussianMixin'"):
        Runner(cartpole(), cfg)


def test_jax_ippo_and_mappo_on_simple_spread(tmp_path: Path) -> None:
    from helpers.ma_envs import simple_spread

    from steprl.envs.wrappers.jax import wrap_env
    from steprl.multi_agents.jax.ippo import IPPO
    from steprl.multi_agents.jax.mappo import MAPPO

    cfg = Runner.load_cfg_from_yaml(CARTPOLE_PPO.parent / "simple_spread_ippo.yaml")
    cfg["agent"]["experiment"]["directory"] = str(tmp_path)
    env = wrap_env(simple_spread(copies=2, cycles=10), verbose=False)
    assert isinstance(Runner(env, cfg).agent, IPPO)
    cfg["agent"]["class"] = "MAPPO"
    runner = Runner(env, cfg)
    assert isinstance(runner.agent, MAPPO)
    uid = env.possible_agents[0]
    assert runner.models[uid]["value"].observation_space == env.state_space(uid)


def test_jax_sac_with_an_explicit_replay_memory(tmp_path: Path) -> None:
    from steprl.agents.jax.sac import SAC
    from steprl.envs.wrappers.jax import wrap_env

    critic = {"class": "DeterministicMixin", "network": [{"name": "net", "input": "STATES_ACTIONS", "layers": [16]}]}
    cfg = {
        "seed": 1,
        "models": {
            "separate": True,
            "policy": {
                "class": "GaussianMixin",
                "network": [{"name": "net", "input": "STATES", "layers": [16], "activations": "relu"}],
                "output": "ACTIONS",
            },
            **{role: {**critic, "output": "ONE"} for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2")},
        },
        "memory": {"class": "RandomMemory", "memory_size": 100},
        "agent": {"class": "SAC", "batch_size": 8, "experiment": {"directory": str(tmp_path)}},
        "trainer": {"timesteps": 10, "close_environment_at_exit": False, "disable_progressbar": True},
    }
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    runner = Runner(env, cfg)
    assert isinstance(runner.agent, SAC) and runner.agent.memory.memory_size == 100
    cfg["memory"]["memory_size"] = -1
    with pytest.raises(RunnerConfigError, match="SAC has no 'rollouts' key"):
        Runner(env, cfg)
