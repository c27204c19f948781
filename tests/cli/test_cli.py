"""End-to-end tests of the ``steprl`` command (tiny budgets), in-process and in a subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from steprl.cli import main

FINAL = re.compile(r"Final evaluation: (-?\d+\.\d) ± (\d+\.\d) over (\d+) episodes")
TINY = ["--timesteps", "512", "--num-envs", "4", "--eval-every", "128", "--eval-episodes", "2", "--no-progress"]


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the run's TensorBoard event file(s): tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def check_run_dir(run_dir: Path, env: str, mean: float, episodes: int) -> dict:
    """Assert the run directory holds every artefact of a run; return its summary."""
    assert list(run_dir.glob("events.out.tfevents.*"))
    data = scalars(run_dir)
    assert len(data["Eval / Mean return"]) == 4 and "Eval / Return std" in data  # 3 periodic + the final one
    assert data["Eval / Mean return"][-1][1] == pytest.approx(mean, abs=0.05)
    assert 50 <= len(data["Loss / Value loss"]) + len(data["Reward / Instantaneous reward (mean)"]) <= 300
    assert (run_dir / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    checkpoints = run_dir / "checkpoints"  # periodic ones at rollout boundaries (rollouts 32) and at the end
    assert sorted(p.name for p in checkpoints.glob("agent_*.pt")) == [f"agent_{k}.pt" for k in (128, 32, 64, 96)]
    assert (run_dir / "run.json").is_file() and (run_dir / "progress.json").is_file()
    for name in ("final_agent.pt", "best_eval_agent.pt", "best_agent.pt"):
        state = torch.load(checkpoints / name, weights_only=True)
        assert {"policy", "value", "optimizer"} <= set(state)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env"] == env and summary["agent"] == "ppo" and summary["timesteps"] == 512
    assert summary["final_mean_return"] == pytest.approx(mean, abs=0.05) and summary["eval_episodes"] == episodes
    assert [e["env_steps"] for e in summary["evaluations"]] == [128, 256, 384, 512]
    assert summary["wall_time_s"] > 0 and summary["steps_per_s"] > 0 and summary["training_episodes"] > 0
    return summary


@pytest.mark.slow
def test_train_in_process_writes_every_artefact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    assert main(["train", "--seed", "3", "--run-dir", str(run_dir), *TINY]) == 0
    out = capsys.readouterr().out
    match = FINAL.search(out)
    assert match and match.group(3) == "2", out
    assert "steps/s" in out and "wall time" in out and out.count("[eval]") == 4
    check_run_dir(run_dir, "CartPole-v1", float(match.group(1)), 2)


@pytest.mark.slow
def test_same_seed_same_results(tmp_path: Path) -> None:
    summaries = []
    for name in ("a", "b"):
        assert main(["train", "--seed", "7", "--run-dir", str(tmp_path / name), *TINY]) == 0
        summaries.append(json.loads((tmp_path / name / "summary.json").read_text()))
    assert summaries[0]["evaluations"] == summaries[1]["evaluations"]


@pytest.mark.slow
def test_gaussian_policy_on_pendulum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "pendulum"
    args = [
        "train",
        "--env",
        "Pendulum-v1",
        "--run-dir",
        str(run_dir),
        "--timesteps",
        "512",
        "--num-envs",
        "2",
        "--eval-every",
        "0",
        "--eval-episodes",
        "1",
    ]
    assert main([*args, "--no-progress"]) == 0
    assert FINAL.search(capsys.readouterr().out)
    assert (run_dir / "checkpoints" / "final_agent.pt").is_file() and (run_dir / "learning_curve.png").is_file()


@pytest.mark.slow
def test_subprocess_python_m_and_console_script(tmp_path: Path) -> None:
    commands = [[sys.executable, "-m", "steprl"]]
    script = shutil.which("steprl")
    if script is not None:
        commands.append([script])
    for i, command in enumerate(commands):
        run_dir = tmp_path / f"run{i}"
        result = subprocess.run(
            [*command, "train", "--seed", "1", "--run-dir", str(run_dir), *TINY],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert result.returncode == 0, result.stderr
        match = FINAL.search(result.stdout)
        assert match, result.stdout
        check_run_dir(run_dir, "CartPole-v1", float(match.group(1)), 2)


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "train" in capsys.readouterr().out
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--env",
        "--agent",
        "--timesteps",
        "--num-envs",
        "--seed",
        "--eval-every",
        "--eval-episodes",
        "--render",
        "--run-dir",
        "--backend",
        "--no-progress",
        "--threads",
        "timesteps // num_envs",
    ):
        assert option in out
    assert main([]) == 2
    assert "usage: steprl" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "jax", "--agent", "trpo"], "--agent trpo is not available with --backend jax"),
        (["--backend", "tf"], "invalid choice: 'tf'"),
        (["--agent", "sacc"], "invalid choice: 'sacc'"),
        (["--timesteps", "0"], "--timesteps must be >= 1"),
        (["--eval-episodes", "0"], "--eval-episodes must be >= 1"),
        (["--eval-every", "-5"], "--eval-every must be >= 0"),
        (["--timesteps", "4", "--num-envs", "8"], "must be >= --num-envs"),
        (["--timesteps", "ten"], "invalid int value: 'ten'"),
        (["--env", "NoSuchEnv-v0"], "unknown environment 'NoSuchEnv-v0'"),
        (["--device", "gpu7"], "--device 'gpu7' is not a torch device"),
    ],
)
def test_bad_arguments_exit_non_zero(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--run-dir", str(tmp_path / "run"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    if not message.startswith("invalid"):  # argparse prints its usage first; the command's own errors are one line
        assert len(err.strip().splitlines()) == 1 and err.startswith("steprl train: error: "), err
    assert not (tmp_path / "run").exists()
