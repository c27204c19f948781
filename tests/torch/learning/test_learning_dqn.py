"""Learning tests of DQN and DDQN: the CartPole-v1 presets of ``steprl train`` solve the task (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.command import train_with_command as _train


@pytest.mark.slow
def test_dqn_cartpole_reaches_475_within_50k_steps(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--agent", "dqn", "--seed", "0")
    assert summary["timesteps"] <= 50_000
    assert summary["final_mean_return"] >= 475


@pytest.mark.slow
def test_ddqn_cartpole_reaches_475_within_50k_steps(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--agent", "ddqn", "--seed", "0")
    assert summary["timesteps"] <= 50_000
    assert summary["final_mean_return"] >= 475
