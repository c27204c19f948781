"""Learning tests of the JAX replay actor-critics through ``steprl train --backend jax``: the torch presets (same
budgets: 15k environment steps, one environment) must swing Pendulum-v1 up with seed 0 (marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.command import train_with_command as _train


@pytest.mark.slow
@pytest.mark.parametrize(("agent", "threshold"), [("sac", -200), ("td3", -200), ("ddpg", -250)])
def test_jax_replay_agent_swings_pendulum_up(agent: str, threshold: float, tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", agent, "--backend", "jax", "--seed", "0")
    assert summary["backend"] == "jax" and summary["num_envs"] == 1
    assert summary["timesteps"] <= 20_000
    assert summary["final_mean_return"] >= threshold
