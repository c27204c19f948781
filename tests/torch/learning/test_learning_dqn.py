"""Learning tests of DQN and DDQN: the CartPole-v1 presets of ``steprl train`` solve the task (marked slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from steprl.cli import main


def _train(tmp_path: Path, *args: str) -> dict:
    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    assert main(["train", *args, "--run-dir", str(run_dir), "--no-progress"]) == 0
    return json.loads((run_dir / "summary.json").read_text())


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
