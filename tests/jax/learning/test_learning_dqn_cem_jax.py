"""Learning tests of the JAX DQN, DDQN and CEM through ``steprl train --backend jax``: the CartPole-v1 presets (the
torch agents' budgets) must solve the task with seed 0 (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.command import train_with_command as _train


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["dqn", "ddqn"])
def test_jax_dqn_and_ddqn_cartpole_reach_475_within_50k_steps(agent: str, tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--agent", agent, "--backend", "jax", "--seed", "0")
    assert summary["timesteps"] <= 50_000
    assert summary["final_mean_return"] >= 475


@pytest.mark.slow
def test_jax_cem_cartpole_reaches_475(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--agent", "cem", "--backend", "jax", "--seed", "0")
    assert summary["final_mean_return"] >= 475
