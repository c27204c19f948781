"""Learning tests of A2C, RPO and TRPO: their presets must solve the tasks with a fixed seed (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.command import train_with_command as _train


@pytest.mark.slow
def test_a2c_cartpole_reaches_475(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--agent", "a2c", "--seed", "0")
    assert summary["timesteps"] <= 200_000
    assert summary["final_mean_return"] >= 475


@pytest.mark.slow
def test_rpo_pendulum_reaches_minus_250(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "rpo", "--seed", "0")
    assert summary["final_mean_return"] >= -250


@pytest.mark.slow
def test_trpo_cartpole_reaches_475(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--agent", "trpo", "--seed", "0")
    assert summary["final_mean_return"] >= 475
