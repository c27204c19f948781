"""Learning tests of TD3 and DDPG: the Pendulum-v1 presets of ``steprl train`` (15k environment steps, one
environment) must swing the pendulum up with a fixed seed (marked slow)."""

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
def test_td3_pendulum_reaches_minus_200(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "td3", "--seed", "0")
    assert summary["timesteps"] <= 20_000
    assert summary["final_mean_return"] >= -200


@pytest.mark.slow
def test_ddpg_pendulum_reaches_minus_250(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "ddpg", "--seed", "0")
    assert summary["timesteps"] <= 20_000
    assert summary["final_mean_return"] >= -250
