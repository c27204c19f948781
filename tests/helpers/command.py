"""Run the ``steprl train`` command in-process and read its summary (shared by the learning tests)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from steprl.cli import main


def train_with_command(tmp_path: Path, *args: str) -> dict:
    """``steprl train ARGS --run-dir tmp_path/run --no-progress`` on one torch thread; returns ``summary.json``."""
    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    assert main(["train", *args, "--run-dir", str(run_dir), "--no-progress"]) == 0
    return json.loads((run_dir / "summary.json").read_text())
