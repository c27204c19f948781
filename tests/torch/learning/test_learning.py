"""Learning tests: the presets of ``steprl train`` must solve their tasks with a fixed seed (marked slow)."""

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
def test_ppo_cartpole_reaches_475_within_100k_steps(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "CartPole-v1", "--seed", "0")
    assert summary["timesteps"] <= 100_000
    assert summary["final_mean_return"] >= 475


@pytest.mark.slow
def test_ppo_pendulum_reaches_minus_250(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--seed", "2")
    assert summary["final_mean_return"] >= -250
