"""SAC learning test: the Pendulum-v1 preset of ``steprl train --agent sac`` must swing up (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.command import train_with_command as _train


@pytest.mark.slow
def test_sac_pendulum_reaches_minus_200_within_20k_steps(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "sac", "--seed", "0")
    assert summary["timesteps"] <= 20_000
    assert summary["num_envs"] == 1
    assert summary["final_mean_return"] >= -200
