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
    with pytest.raises(RunnerConfigError, match=r"unknown agent class 'TRPO' in section 'agent' \(jax\).*A2C, PPO, RPO"):
        Runner(cartpole(), cfg)
    cfg = jax_cfg(tmp_path)
    cfg["models"]["policy"]["class"] = "MultivariateGaussianMixin"
    with pytest.raises(RunnerConfigError, match="unknown model class 'MultivariateGaussianMixin'"):
        Runner(cartpole(), cfg)
