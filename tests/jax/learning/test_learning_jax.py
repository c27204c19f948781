"""Learning tests of the JAX agents through ``steprl train --backend jax``: the torch presets (same budgets) must
solve the tasks with a fixed seed (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.command import train_with_command as _train


@pytest.mark.slow
def test_jax_ppo_cartpole_reaches_475(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--agent", "ppo", "--backend", "jax", "--seed", "0")
    assert summary["timesteps"] <= 100_000
    assert summary["final_mean_return"] >= 475


@pytest.mark.slow
def test_jax_ppo_pendulum_reaches_minus_250(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "ppo", "--backend", "jax", "--seed", "0")
    assert summary["final_mean_return"] >= -250


@pytest.mark.slow
def test_jax_a2c_cartpole_reaches_475(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--agent", "a2c", "--backend", "jax", "--seed", "0")
    assert summary["timesteps"] <= 200_000
    assert summary["final_mean_return"] >= 475


@pytest.mark.slow
def test_jax_rpo_pendulum_reaches_minus_250(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "rpo", "--backend", "jax", "--seed", "0")
    assert summary["final_mean_return"] >= -250
