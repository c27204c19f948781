"""JAX IPPO and MAPPO learn the cue task (fixed seed, the PyTorch learning tests' budget)."""

from __future__ import annotations

import pytest
from helpers.jax_ma import NumpyCueTask, NumpyCueWrapper, build_jax_agent
from helpers.ma_agents import QUIET

from steprl.resources.preprocessors.jax import RunningStandardScaler
from steprl.trainers.jax import SequentialTrainer
from steprl.utils import set_seed

RANDOM_RETURN = 8 / 3  # two agents, 4 steps, 1/3 chance each


def _learn(algorithm: str, share: bool, steps: int = 400, episodes: int = 40) -> list[float]:
    """Train on 8 copies for ``steps`` vector steps; greedy evaluation returns."""
    set_seed(0)
    env = NumpyCueWrapper(NumpyCueTask(num_envs=8, seed=0))
    extra = {}
    if algorithm == "mappo":  # the global state normalised by the shared state preprocessor
        extra = {"shared_state_preprocessor": RunningStandardScaler, "shared_state_preprocessor_kwargs": {"size": 7}}
    agent = build_jax_agent(env, algorithm, share=share, rollouts=16, mini_batches=2, learning_epochs=2, **extra)
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    trainer.train()
    return trainer.run_episodes(episodes, mode="eval")


@pytest.mark.slow
@pytest.mark.parametrize(("algorithm", "share"), [("ippo", False), ("mappo", True)])
def test_learns_the_cue_task(algorithm: str, share: bool) -> None:
    returns = _learn(algorithm, share)
    assert len(returns) == 40
    mean = sum(returns) / len(returns)
    assert mean > 7.5, f"{algorithm} (shared={share}) evaluation return {mean:.2f} (random {RANDOM_RETURN:.2f}, best 8)"
