"""One run per directory (an exclusive lock, released however the run ends) and surviving ``kill -9``."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from steprl.cli import main
from steprl.cli.rundir import RunLock

ERROR = "steprl train: error: "
TINY = ["--timesteps", "64", "--num-envs", "1", "--eval-every", "0", "--eval-episodes", "1", "--no-progress"]
LONG = ["--timesteps", "100000000", "--num-envs", "4", "--eval-every", "0", "--no-progress"]


def one_error_line(err: str, *fragments: str) -> str:
    """Assert that ``err`` is exactly one ``steprl train: error:`` line holding every fragment; return it."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR), err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def start(*args: str) -> subprocess.Popen[str]:
    """``python -m steprl ARGS`` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "steprl", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], timeout: float = 120.0) -> None:
    """Poll ``condition`` until it holds (the process must still be running)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the run ended early ({process.returncode}): {process.communicate()[1]}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def locked_by(run_dir: Path, pid: int) -> Callable[[], bool]:
    path = run_dir / ".lock"
    return lambda: path.is_file() and path.read_text().strip() == str(pid)


def checkpoint_steps(run_dir: Path) -> list[int]:
    return sorted(int(p.stem.split("_")[1]) for p in (run_dir / "checkpoints").glob("agent_*.pt"))


def is_free(run_dir: Path) -> bool:
    """Whether nobody holds the run directory's lock."""
    fd = os.open(run_dir / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Background runs, killed at the end of the test whatever happens."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_a_second_run_on_a_running_directory_fails_at_once(
    tmp_path: Path, processes: list[subprocess.Popen[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    first = start("train", "--run-dir", str(run_dir), *LONG)
    processes.append(first)
    wait_for(locked_by(run_dir, first.pid), first)
    for args in (["--run-dir", str(run_dir), *TINY], ["--resume", str(run_dir)]):
        tick = time.monotonic()
        assert main(["train", *args]) == 2
        assert time.monotonic() - tick < 5
        one_error_line(
            capsys.readouterr().err, f"run directory {run_dir} is in use by another steprl train (PID {first.pid})"
        )
    assert first.poll() is None  # the first run goes on
    first.kill()
    first.wait()
    # the stale lock file of the killed run does not block: the next error is about the run itself
    assert (run_dir / ".lock").read_text().strip() == str(first.pid) and is_free(run_dir)
    assert main(["train", "--resume", str(run_dir)]) == 2
    assert "in use" not in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_releases_the_lock(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    run_dir = tmp_path / "run"
    run = start("train", "--run-dir", str(run_dir), *LONG)
    processes.append(run)
    wait_for(lambda: (run_dir / "run.json").is_file(), run)  # training has started
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and "steprl train: interrupted" in err and "Traceback" not in err
    assert (run_dir / ".lock").read_text() == "" and is_free(run_dir)


def test_the_lock_is_released_after_an_error_and_held_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert main(["train", "--run-dir", str(run_dir), "--device", "cuda:99", *TINY]) == 2  # fails after locking
    capsys.readouterr()
    assert is_free(run_dir) and (run_dir / ".lock").read_text() == ""
    with RunLock() as lock:  # a holder in this very process: flock locks are per open file
        lock.acquire(str(run_dir), "--run-dir")
        assert main(["train", "--run-dir", str(run_dir), *TINY]) == 2
        one_error_line(capsys.readouterr().err, f"(PID {os.getpid()})")
    assert is_free(run_dir)


@pytest.mark.slow
def test_kill_9_leaves_loadable_checkpoints_and_resume_finishes(
    tmp_path: Path,
    processes: list[subprocess.Popen[str]],
    load_checkpoint: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SIGKILL a PPO run after its first checkpoints: every checkpoint left loads, and --resume continues from the
    newest one and finishes the budget."""
    run_dir = tmp_path / "run"
    # 512 vector steps of 16 envs, rollouts of 32: a checkpoint every 64 vector steps (1024 env steps)
    args = ["--timesteps", "8192", "--num-envs", "16", "--eval-every", "0", "--eval-episodes", "1", "--no-progress"]
    run = start("train", "--run-dir", str(run_dir), *args)
    processes.append(run)
    wait_for(lambda: len(checkpoint_steps(run_dir)) >= 2 if (run_dir / "checkpoints").is_dir() else False, run)
    run.send_signal(signal.SIGKILL)
    run.wait()
    left = checkpoint_steps(run_dir)
    assert left and all(step % 64 == 0 for step in left) and left[-1] < 512, left
    for step in left:
        for resume in (False, True):
            agent = load_checkpoint(run_dir, run_dir / "checkpoints" / f"agent_{step}.pt", resume=resume)
            assert agent.timestep == step == agent.training_steps
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"Resuming .* at (\d+) environment steps \(agent_(\d+)\.pt\)", out)
    assert match and int(match.group(2)) == left[-1] and int(match.group(1)) == 16 * left[-1], out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["timesteps"] == 8192 and summary["resumed_from"] == [16 * left[-1]]
    assert checkpoint_steps(run_dir) == list(range(64, 513, 64)) and is_free(run_dir)
