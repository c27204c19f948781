"""SAC learning test: the Pendulum-v1 preset of ``steprl train --agent sac`` must swing up (marked slow)."""

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
def test_sac_pendulum_reaches_minus_200_within_20k_steps(tmp_path: Path) -> None:
    summary = _train(tmp_path, "--env", "Pendulum-v1", "--agent", "sac", "--seed", "0")
    assert summary["timesteps"] <= 20_000
    assert summary["num_envs"] == 1
    assert summary["final_mean_return"] >= -200
