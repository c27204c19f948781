"""``steprl train --resume``: continuing a run from its newest checkpoint, the refusals, and the saved progress."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from steprl.cli import main
from steprl.cli.rundir import Curve, Progress, RunSpec
from steprl.core.checkpoint import CheckpointError

ERROR = "steprl train: error: "
# PPO on CartPole: 128 vector steps of 4 envs, rollouts of 32 -> checkpoints at 32, 64, 96, 128
PPO = ["--timesteps", "512", "--num-envs", "4", "--eval-every", "128", "--eval-episodes", "2", "--no-progress"]
# SAC on Pendulum, 1 env: 120 vector steps -> checkpoints every 12
SAC = ["--env", "Pendulum-v1", "--agent", "sac", "--timesteps", "120", "--eval-every", "0", "--eval-episodes", "1"]
RESUMING = re.compile(r"Resuming .* at (\d+) environment steps \((agent_\d+\.pt)\)")


def one_error_line(err: str, *fragments: str) -> str:
    """Assert that ``err`` is exactly one ``steprl train: error:`` line holding every fragment; return it."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR), err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of the run's TensorBoard event files: tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run_dir))
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def checkpoint_steps(run_dir: Path) -> list[int]:
    return sorted(int(p.stem.split("_")[1]) for p in (run_dir / "checkpoints").glob("agent_*.pt"))


@pytest.fixture(scope="module")
def finished_ppo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished PPO run (copied by the tests that change it)."""
    run_dir = tmp_path_factory.mktemp("ppo") / "run"
    assert main(["train", "--seed", "3", "--run-dir", str(run_dir), *PPO]) == 0
    assert checkpoint_steps(run_dir) == [32, 64, 96, 128]
    return run_dir


@pytest.fixture
def interrupted_ppo(finished_ppo: Path, tmp_path: Path) -> Path:
    """The PPO run as if it had been killed right after its checkpoint at vector step 64 (its progress file,
    written before each checkpoint, is newer: the resumed run must cut it back)."""
    run_dir = tmp_path / "run"
    shutil.copytree(finished_ppo, run_dir)
    for step in (96, 128):
        (run_dir / "checkpoints" / f"agent_{step}.pt").unlink()
    (run_dir / "summary.json").unlink()
    return run_dir


def test_a_run_writes_its_configuration_and_progress(finished_ppo: Path) -> None:
    spec = RunSpec.read(str(finished_ppo))
    assert (spec.env_id, spec.agent, spec.seed, spec.timesteps, spec.num_envs) == ("CartPole-v1", "ppo", 3, 512, 4)
    assert (spec.eval_every, spec.eval_episodes) == (128, 2) and spec.preset_table["agent"]["rollouts"] == 32
    progress = Progress.from_dict(json.loads((finished_ppo / "progress.json").read_text()))
    assert progress.finished and progress.timestep == 128 and len(progress.evaluations) == 4
    summary = json.loads((finished_ppo / "summary.json").read_text())
    assert progress.curve.episodes == summary["training_episodes"] > 0
    steps, _ = progress.curve.points()
    assert steps == sorted(steps) and steps[-1] <= 512
    assert (finished_ppo / ".lock").read_text() == ""  # released at exit
    # the periodic checkpoints hold the rollout memory (to resume); final/best ones only what acting needs
    assert "memory" in torch.load(finished_ppo / "checkpoints" / "agent_64.pt", weights_only=True)
    for name in ("final_agent.pt", "best_agent.pt", "best_eval_agent.pt"):
        assert "memory" not in torch.load(finished_ppo / "checkpoints" / name, weights_only=True)


def test_resume_continues_from_the_newest_checkpoint(
    load_checkpoint: Callable[..., Any],
    interrupted_ppo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from steprl.trainers.torch import ManualTrainer

    steps: list[int] = []
    original = ManualTrainer.train

    def spy(self: Any, timestep: int | None = None, timesteps: int | None = None) -> Any:
        steps.append(timestep)
        return original(self, timestep, timesteps)

    monkeypatch.setattr(ManualTrainer, "train", spy)
    assert main(["train", "--resume", str(interrupted_ppo), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert RESUMING.search(out).groups() == ("256", "agent_64.pt"), out
    assert steps == list(range(64, 128))  # the loop starts at the checkpoint's timestep and ends at the budget
    assert out.count("[eval]") == 2  # 384 and 512: the evaluations up to the checkpoint are kept, not repeated
    summary = json.loads((interrupted_ppo / "summary.json").read_text())
    assert summary["timesteps"] == 512 and summary["resumed_from"] == [256]
    assert [e["env_steps"] for e in summary["evaluations"]] == [128, 256, 384, 512]
    assert checkpoint_steps(interrupted_ppo) == [32, 64, 96, 128]
    agent = load_checkpoint(interrupted_ppo, interrupted_ppo / "checkpoints" / "agent_128.pt")
    assert agent.timestep == 128 and agent.training_steps == 128
    progress = Progress.from_dict(json.loads((interrupted_ppo / "progress.json").read_text()))
    curve_steps, _ = progress.curve.points()
    assert curve_steps == sorted(curve_steps) and curve_steps[-1] <= 512 and progress.finished
    assert summary["training_episodes"] == progress.curve.episodes
    # TensorBoard: one event file per session, the events a killed run wrote after its checkpoint are purged
    assert len(list(interrupted_ppo.glob("events.out.tfevents.*"))) == 2
    assert [step for step, _ in scalars(interrupted_ppo)["Eval / Mean return"]] == [32, 64, 96, 128]


def test_resuming_twice_from_one_checkpoint_gives_the_same_run(interrupted_ppo: Path, tmp_path: Path) -> None:
    """The checkpoint restores the RNG state and the environments are reseeded: a resume is reproducible."""
    copy = tmp_path / "copy"
    shutil.copytree(interrupted_ppo, copy)
    for run_dir in (interrupted_ppo, copy):
        assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    evaluations = [json.loads((d / "summary.json").read_text())["evaluations"] for d in (interrupted_ppo, copy)]
    assert evaluations[0] == evaluations[1]


def test_a_larger_timesteps_extends_a_finished_run(
    finished_ppo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(finished_ppo, run_dir)
    assert main(["train", "--resume", str(run_dir)]) == 2
    one_error_line(
        capsys.readouterr().err,
        f"--resume {run_dir}: the run already finished (512 environment steps, agent_128.pt)",
        "give --timesteps 516 or more to train it further",
    )
    assert main(["train", "--resume", str(run_dir), "--timesteps", "768", "--seed", "3", "--agent", "ppo",
                 "--no-progress"]) == 0  # fmt: skip
    assert RESUMING.search(capsys.readouterr().out).groups() == ("512", "agent_128.pt")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["timesteps"] == 768
    assert [e["env_steps"] for e in summary["evaluations"]] == [128, 256, 384, 512, 640, 768]
    assert RunSpec.read(str(run_dir)).timesteps == 768 and checkpoint_steps(run_dir)[-1] == 192


def test_replay_agent_resumes_with_its_replay_memory(
    load_checkpoint: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "sac"
    assert main(["train", "--run-dir", str(run_dir), *SAC, "--no-progress"]) == 0
    assert checkpoint_steps(run_dir) == list(range(12, 121, 12))
    for step in range(72, 121, 12):  # killed after the checkpoint at 60
        (run_dir / "checkpoints" / f"agent_{step}.pt").unlink()
    capsys.readouterr()
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    assert RESUMING.search(capsys.readouterr().out).groups() == ("60", "agent_60.pt")
    at_60 = torch.load(run_dir / "checkpoints" / "agent_60.pt", weights_only=True)
    at_120 = torch.load(run_dir / "checkpoints" / "agent_120.pt", weights_only=True)
    assert at_60["memory"]["position"][0] == 60 and at_120["memory"]["position"][0] == 120
    for name, tensor in at_60["memory"]["tensors"].items():  # the buffer was continued, not restarted
        assert torch.equal(at_120["memory"]["tensors"][name][:60], tensor[:60]), name
    assert at_60["_steprl"]["training_steps"] == 60 and at_120["_steprl"]["training_steps"] == 120
    agent = load_checkpoint(run_dir, run_dir / "checkpoints" / "agent_120.pt", resume=True)
    assert agent.timestep == 120 and agent.training_steps == 120 and agent.memory.memory_index == 120
    assert json.loads((run_dir / "summary.json").read_text())["timesteps"] == 120


# ---------------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--agent", "sac"], "the run was started with --agent ppo, not --agent sac"),
        (
            ["--seed", "4", "--num-envs", "2"],
            "the run was started with --seed 3, --num-envs 4, not --seed 4, --num-envs 2",
        ),
        (["--env", "Pendulum-v1"], "the run was started with --env CartPole-v1, not --env Pendulum-v1"),
        (["--eval-every", "0"], "not --eval-every 0"),
        (["--timesteps", "256"], "--timesteps 256 is smaller than the run's budget (512)"),
        (["--run-dir", "elsewhere"], "--resume RUN_DIR continues the run in RUN_DIR: do not give another --run-dir"),
    ],
)
def test_options_that_differ_from_the_run(
    options: list[str], fragment: str, interrupted_ppo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in interrupted_ppo.rglob("*"))
    assert main(["train", "--resume", str(interrupted_ppo), *options]) == 2
    one_error_line(capsys.readouterr().err, fragment)
    assert sorted(p.name for p in interrupted_ppo.rglob("*")) == before


def test_same_options_as_the_run_are_accepted(interrupted_ppo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = ["--env", "CartPole", "--agent", "ppo", "--seed", "3", "--num-envs", "4", "--timesteps", "512"]
    assert main(["train", "--resume", str(interrupted_ppo), *options, "--no-progress"]) == 0


def test_run_dir_without_a_configuration_or_a_checkpoint(
    interrupted_ppo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--resume", str(tmp_path / "missing")]) == 2
    one_error_line(capsys.readouterr().err, f"--resume {tmp_path / 'missing'}: no such directory")
    assert not (tmp_path / "missing").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--resume", str(empty)]) == 2
    one_error_line(capsys.readouterr().err, f"--resume {empty} has no run configuration (run.json)")
    assert list(empty.iterdir()) == []  # nothing is created in a directory where no run ever started
    for path in (interrupted_ppo / "checkpoints").glob("agent_*.pt"):
        path.unlink()
    assert main(["train", "--resume", str(interrupted_ppo)]) == 2
    one_error_line(capsys.readouterr().err, f"--resume {interrupted_ppo} has no checkpoint to continue from")
    (interrupted_ppo / "run.json").write_text("{not json")
    assert main(["train", "--resume", str(interrupted_ppo)]) == 2
    one_error_line(capsys.readouterr().err, f"--resume {interrupted_ppo}: run.json cannot be read")


def test_a_new_run_in_a_run_directory_is_refused(interrupted_ppo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--run-dir", str(interrupted_ppo), *PPO]) == 2
    one_error_line(
        capsys.readouterr().err,
        f"--run-dir {interrupted_ppo} already holds a run (run.json): continue it with --resume",
    )
    assert (interrupted_ppo / "run.json").is_file()


def test_a_corrupt_checkpoint_is_one_line(
    load_checkpoint: Callable[..., Any], interrupted_ppo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newest = interrupted_ppo / "checkpoints" / "agent_64.pt"
    newest.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_checkpoint(interrupted_ppo, newest)
    assert main(["train", "--resume", str(interrupted_ppo), "--no-progress"]) == 2
    one_error_line(capsys.readouterr().err, f"--resume {interrupted_ppo}: cannot load {newest}: ")
    assert (interrupted_ppo / "run.json").is_file() and newest.is_file()


# --------------------------------------------------------------------------------------- saved progress
def test_curve_memory_is_bounded() -> None:
    curve = Curve(max_points=8)
    curve.add(list(range(1, 101)), [float(i) for i in range(1, 101)])
    steps, returns = curve.points()
    assert curve.episodes == 100 and len(curve.steps) <= 8 and curve.stride == 16
    assert steps == sorted(steps) and steps[-1] == 100
    assert sum(r * c for r, c in zip(curve.returns, curve.counts)) + curve._sum == pytest.approx(sum(range(1, 101)))
    again = Curve.from_dict(json.loads(json.dumps(curve.to_dict())), max_points=8)
    assert again.points() == (steps, returns) and again.episodes == 100
    again.trim(64)
    assert again.points()[0][-1] <= 64 and again.episodes < 100


def test_progress_is_cut_back_to_the_checkpoint() -> None:
    progress = Progress(timestep=100)
    progress.evaluations = [{"env_steps": s, "mean": 1.0, "std": 0.0, "episodes": 1} for s in (80, 160, 240, 320, 400)]
    progress.train_means = [{"timestep": s, "mean": float(s)} for s in (20, 40, 60, 80, 100)]
    progress.curve.add([4 * s for s in range(1, 101)], [1.0] * 100)
    progress.finished = True
    progress.trim(60, num_envs=4)
    assert [e["env_steps"] for e in progress.evaluations] == [80, 160, 240]
    assert [e["timestep"] for e in progress.train_means] == [20, 40, 60]
    assert progress.curve.episodes == 60 and not progress.finished and progress.timestep == 60


def test_training_episodes_reach_the_curve_beyond_the_trainer_history() -> None:
    """The curve is built from ``episode_end_steps`` and harvested often enough: episodes the trainer's bounded
    history dropped were already moved to the curve, each at (start + end step) × num_envs."""
    from collections import deque

    from steprl.cli.train import _TrainingEpisodes

    class Trainer:
        def __init__(self) -> None:
            self.returns: deque[float] = deque(maxlen=3)
            self.ends: deque[int] = deque(maxlen=3)
            self.count = 0

        def end(self, step: int, value: float) -> None:
            self.returns.append(value)
            self.ends.append(step)
            self.count += 1

        def episode_count(self, mode: str) -> int:
            return self.count

        def episode_returns(self, mode: str) -> list[float]:
            return list(self.returns)

        def episode_end_steps(self, mode: str) -> list[int]:
            return list(self.ends)

    trainer, curve = Trainer(), Curve()
    episodes = _TrainingEpisodes(trainer, curve, start=10, num_envs=2)
    for step in range(1, 8):
        trainer.end(step, float(step))
        if step % 2 == 0:
            episodes.harvest()
    episodes.harvest()
    assert curve.points() == ([22, 24, 26, 28, 30, 32, 34], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert episodes.interval_mean() == pytest.approx(4.0) and episodes.interval_mean() is None
