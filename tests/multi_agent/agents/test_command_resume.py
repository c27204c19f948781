"""``steprl train`` on a multi-agent environment: model-only best/final files, and ``--resume`` of a killed run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from steprl.cli import main

# IPPO on simple_spread, 4 copies, rollouts of 100 vector steps: checkpoints at vector steps 100 and 200
RUN = [
    "--env", "mpe2:simple_spread_v3", "--agent", "ippo", "--timesteps", "800", "--num-envs", "4",
    "--eval-every", "400", "--eval-episodes", "2", "--seed", "1", "--no-progress",
]  # fmt: skip
UIDS = ("agent_0", "agent_1", "agent_2")


def _checkpoint_steps(run_dir: Path) -> list[int]:
    return sorted(int(p.stem.split("_")[1]) for p in (run_dir / "checkpoints").glob("agent_*.pt"))


@pytest.mark.slow
def test_model_files_hold_no_memories_and_a_killed_run_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    assert main(["train", "--run-dir", str(run_dir), *RUN]) == 0
    assert _checkpoint_steps(run_dir) == [100, 200]
    periodic = torch.load(run_dir / "checkpoints" / "agent_100.pt", weights_only=True)
    assert all("memory" in periodic[uid] for uid in UIDS)  # to resume
    for name in ("final_agent.pt", "best_agent.pt"):
        models = torch.load(run_dir / "checkpoints" / name, weights_only=True)
        for uid in UIDS:
            assert "policy" in models[uid] and "memory" not in models[uid], f"{name} holds {uid}'s memory"
    finished = json.loads((run_dir / "summary.json").read_text())

    # killed right after the checkpoint at vector step 100: resume and finish the budget
    (run_dir / "checkpoints" / "agent_200.pt").unlink()
    (run_dir / "summary.json").unlink()
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Resuming .* at 400 environment steps \(agent_100\.pt\)", out), out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["timesteps"] == 800 and summary["resumed_from"] == [400]
    assert [e["env_steps"] for e in summary["evaluations"]] == [400, 800]
    assert summary["evaluations"][0] == finished["evaluations"][0]  # kept, not repeated
    assert _checkpoint_steps(run_dir) == [100, 200]
    resumed = torch.load(run_dir / "checkpoints" / "agent_200.pt", weights_only=True)
    assert all("memory" in resumed[uid] for uid in UIDS)
    assert -200 < summary["final_mean_return"] < 0
