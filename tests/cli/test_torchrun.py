"""``torchrun --nproc_per_node 2 -m steprl train``: one data-parallel run whose budget counts both ranks' steps,
written, evaluated and printed by rank 0 alone; agents that cannot average gradients refuse in one line; a rank
that loses its peer stops with a message instead of hanging; a run resumes only with its own number of processes."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.distributed import run_ranks

from steprl.cli import main
from steprl.cli.checks import CLIError
from steprl.cli.rundir import RunSpec
from steprl.cli.train import _check_data_parallel

TIMESTEPS, NUM_ENVS, RANKS = 2048, 8, 2  # PPO's CartPole preset: rollouts of 32 vector steps, so 4 updates per rank
REFERENCE_SPEC = {
    "env": "CartPole-v1", "env_id": "CartPole-v1", "agent": "ppo", "seed": 0, "backend": "torch", "timesteps": 1000,
    "num_envs": 1, "eval_every": 0, "eval_episodes": 1, "preset_source": "test", "preset_default": False,
    "preset_table": {},
}  # fmt: skip


def _torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``torchrun --standalone --nproc_per_node 2 -m steprl train ARGS`` (standalone: a free rendezvous port)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(RANKS),
               "-m", "steprl", "train", *args]  # fmt: skip
    env = {**os.environ, "STEPRL_STRICT": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_two_ranks_train_one_run_written_by_rank_0(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = _torchrun(
        "--timesteps", str(TIMESTEPS), "--num-envs", str(NUM_ENVS), "--eval-every", "1024", "--eval-episodes", "2",
        "--seed", "3", "--no-progress", "--run-dir", str(run_dir), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Final evaluation") == 1, done.stdout  # rank 0 alone evaluates and prints
    assert len([line for line in done.stdout.splitlines() if line.startswith("[eval]")]) == 2, done.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["timesteps"], summary["ranks"], summary["num_envs"]) == (TIMESTEPS, RANKS, NUM_ENVS)
    assert [e["env_steps"] for e in summary["evaluations"]] == [1024, 2048]  # environment steps of both ranks
    assert json.loads((run_dir / "run.json").read_text())["ranks"] == RANKS
    vector_steps = TIMESTEPS // (NUM_ENVS * RANKS)
    checkpoints = {p.name for p in (run_dir / "checkpoints").iterdir()}
    assert f"agent_{vector_steps}.pt" in checkpoints and f"agent_{vector_steps + 32}.pt" not in checkpoints
    assert {"final_agent.pt", "best_eval_agent.pt"} <= checkpoints
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1, "one TensorBoard writer: rank 0's"
    assert (run_dir / "learning_curve.png").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"], "nothing written outside the run directory"


@pytest.mark.parametrize(("agent", "backend"), [("q_learning", "torch"), ("sarsa", "torch"), ("cem", "torch"), ("ppo", "jax")])
def test_what_cannot_train_data_parallel_is_refused_in_one_line(agent: str, backend: str) -> None:
    spec = dataclasses.replace(RunSpec(**REFERENCE_SPEC), agent=agent, backend=backend, ranks=2)
    with pytest.raises(CLIError, match="torchrun") as error:
        _check_data_parallel(spec)
    assert "\n" not in str(error.value)
    _check_data_parallel(dataclasses.replace(spec, ranks=1))  # one process: everything trains
    _check_data_parallel(dataclasses.replace(spec, agent="sac", backend="torch"))  # averages its gradients


LOST_PEER = r"""
import json, os
from steprl import config
from steprl.cli import train


def setup_losing_rank_1(args, lock):
    config.torch.init_distributed()
    if config.torch.rank == 1:
        os._exit(3)  # dies without a word, as a killed process would
    import torch
    torch.distributed.all_reduce(torch.zeros(1))  # rank 0 waits for its lost peer


train._setup = setup_losing_rank_1
print(json.dumps({"code": train.run_train(type("Args", (), {"command": "train"})())}))
"""


@pytest.mark.slow
def test_a_rank_that_loses_its_peer_stops_with_a_message() -> None:
    (code0, out0, err0), (code1, _, _) = run_ranks(LOST_PEER, timeout=120)
    assert code1 == 3
    assert code0 == 0 and json.loads(out0.splitlines()[-1]) == {"code": 1}, err0[-3000:]
    message = [line for line in err0.splitlines() if line.startswith("steprl train: error:")]
    assert message and "rank 0 lost the other ranks" in message[0], err0[-3000:]


@pytest.mark.slow
def test_resume_needs_the_number_of_processes_the_run_was_trained_by(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    assert main(["train", "--timesteps", "64", "--eval-episodes", "1", "--run-dir", str(run_dir), "--no-progress"]) == 0
    spec = json.loads((run_dir / "run.json").read_text())
    assert spec["ranks"] == 1
    del spec["ranks"]  # a run.json written before ranks were recorded reads as one process
    assert RunSpec.read(str(run_dir)).ranks == 1
    (run_dir / "run.json").write_text(json.dumps({**spec, "ranks": 2}))
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir), "--timesteps", "128", "--no-progress"]) == 2
    error = capsys.readouterr().err.strip()
    assert "the run was trained by 2 process(es), this command runs as 1" in error and error.count("\n") == 0, error
