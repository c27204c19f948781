"""Learning tests: the presets of ``steprl train`` must solve their tasks with a fixed seed (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.command import train_with_command as _train


@pytest.mark.slow
def test_ppo_cartpole_reaches_475_within_100k_steps(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--seed", "0")
    assert summary["timesteps"] <= 100_000
    assert summary["final_mean_return"] >= 475


@pytest.mark.slow
def test_ppo_pendulum_reaches_minus_250(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--seed", "0")
    assert summary["final_mean_return"] >= -250
