"""Learning tests of TD3 and DDPG: the Pendulum-v1 presets of ``steprl train`` (15k environment steps, one
environment) must swing the pendulum up with a fixed seed (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.command import train_with_command as _train


@pytest.mark.slow
def test_td3_pendulum_reaches_minus_200(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "td3", "--seed", "0")
    assert summary["timesteps"] <= 20_000
    assert summary["final_mean_return"] >= -200


@pytest.mark.slow
def test_ddpg_pendulum_reaches_minus_250(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "ddpg", "--seed", "0")
    assert summary["timesteps"] <= 20_000
    assert summary["final_mean_return"] >= -250
