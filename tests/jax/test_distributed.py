"""Multi-process JAX: the launcher (``python -m steprl.utils.distributed.jax``) and data-parallel training.

Two CPU processes run ``helpers/jax_distributed.py`` through the launcher: one SGD step through ``compile_update``
applies exactly the mean of the ranks' gradients and merges the ranks' scaler statistics; a short PPO run leaves
both ranks with identical parameters, optimizer and scaler states (different from a one-process run on rank 0's data
alone), and only rank 0 writes files. The launcher's own behaviour (rank variables, signal forwarding, a failing
rank, bad options) is checked with plain Python workers that do not import JAX.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
from helpers import jax_distributed as worker

from steprl.agents.jax.parallel import (
    broadcast_from_rank,
    compile_update,
    mean_over_processes,
    scaler_update_over_processes,
)
from steprl.resources.preprocessors.jax.running_standard_scaler import ScalerState, scaler_update
from steprl.utils.distributed import jax as launcher

LAUNCHER = [sys.executable, "-m", "steprl.utils.distributed.jax"]
ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment() -> dict[str, str]:
    """The test's environment for the launcher: CPU devices only, one XLA thread, no rank variables inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    return {**env, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": ONE_THREAD}


def _launch(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LAUNCHER, "--coordinator_address", f"127.0.0.1:{_free_port()}", *args],
        env=_environment(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _check_averaging(results: list[dict]) -> None:
    """One SGD step through compile_update applied the mean of the ranks' gradients; the scaler merged both batches."""
    start = jax.numpy.asarray(worker.initial_weights(0))  # rank 0's weights, broadcast to every rank
    grads = [jax.grad(worker.batch_loss)(start, *map(jax.numpy.asarray, worker.rank_batch(r))) for r in range(2)]
    expected = np.asarray(start - worker.LEARNING_RATE * (grads[0] + grads[1]) / 2)
    rank_0_alone = np.asarray(start - worker.LEARNING_RATE * grads[0])
    prior = ScalerState(np.zeros(worker.FEATURES), np.ones(worker.FEATURES), np.ones(1))
    both = np.concatenate([worker.rank_batch(r)[0] for r in range(2)])
    merged = worker.flat(scaler_update(prior, jax.numpy.asarray(both)))
    for result in results:
        got = np.asarray(result["averaging"]["weights"])
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
        assert not np.allclose(got, rank_0_alone, atol=1e-4), "rank 0's gradients alone were applied"
        np.testing.assert_allclose(result["averaging"]["scaler"], merged, rtol=1e-5, atol=1e-6)
        assert result["averaging"]["outside_raised"], "a reduction outside compile_update must raise"


def _check_ppo(results: list[dict], alone: dict) -> None:
    """The ranks started from rank 0's parameters and stayed identical; a run on rank 0's data alone differs."""
    rank0, rank1 = (r["ppo"] for r in results)
    assert (rank0["seed"], rank1["seed"]) == (7, 8)  # seeds offset by the rank
    assert rank0["before"] != rank1["before"], "ranks draw different initial parameters from their seeds"
    assert rank0["broadcast"] == rank1["broadcast"] == rank0["before"], "rank 0's parameters must be broadcast"
    for name in ("params", "optimizers", "scalers"):
        assert rank0[name] == rank1[name], f"the ranks' {name} diverged"
    assert alone["before"] == rank0["before"]  # same seed, environment and initial parameters as rank 0
    assert not np.allclose(alone["params"], rank0["params"]), "the update must average over the ranks"
    assert not np.allclose(alone["scalers"], rank0["scalers"]), "the scalers must merge the ranks' statistics"


def _check_files(out: Path, results: list[dict]) -> None:
    """Only rank 0 wrote TensorBoard events and checkpoints."""
    assert (results[0]["ppo"]["write_interval"], results[0]["ppo"]["checkpoint_interval"]) == (8, 16)
    assert (results[1]["ppo"]["write_interval"], results[1]["ppo"]["checkpoint_interval"]) == (0, 0)
    written = {path.relative_to(out / "runs").parts[0] for path in (out / "runs").rglob("*") if path.is_file()}
    assert written == {"rank0"}
    assert list((out / "runs" / "rank0").rglob("events.out.tfevents.*"))
    assert list((out / "runs" / "rank0").rglob("checkpoints/agent_32.ckpt"))


@pytest.mark.slow
def test_two_processes_average_and_stay_identical(tmp_path: Path) -> None:
    out = tmp_path / "launched"
    out.mkdir()
    done = _launch(["--nproc_per_node", "2", worker.__file__, str(out)], timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    results = [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(2)]
    _check_averaging(results)
    _check_ppo(results, worker.ppo_case(tmp_path / "alone"))
    _check_files(out, results)


# ---------------------------------------------------------------------------------------- the launcher alone
ENV_SCRIPT = """
import json, os, sys
names = ("JAX_LOCAL_RANK", "JAX_RANK", "JAX_WORLD_SIZE", "JAX_COORDINATOR_ADDR", "JAX_COORDINATOR_PORT")
out = os.path.join(sys.argv[1], "rank" + os.environ["JAX_RANK"] + ".json")
with open(out, "w") as f:
    json.dump({**{n: os.environ[n] for n in names}, "args": sys.argv[2:]}, f)
"""

FAILING_SCRIPT = """
import os, sys, time
if os.environ["JAX_RANK"] == "1":
    sys.exit(3)
time.sleep(300)  # a rank that would wait for the failed one forever
"""

SIGNAL_SCRIPT = """
import os, signal, sys, time
def stop(signum, frame):
    open(os.path.join(sys.argv[1], "stopped" + os.environ["JAX_RANK"]), "w").write(signal.Signals(signum).name)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(os.path.join(sys.argv[1], "ready" + os.environ["JAX_RANK"]), "w").close()
time.sleep(300)
"""


def test_rank_variables_of_a_node(tmp_path: Path) -> None:
    script = tmp_path / "env.py"
    script.write_text(ENV_SCRIPT)
    args = ["--nnodes", "2", "--node_rank", "1", "--nproc_per_node", "2", str(script), str(tmp_path), "--x", "1"]
    port = _free_port()
    done = subprocess.run(
        [*LAUNCHER, "--coordinator_address", f"10.1.2.3:{port}", *args],
        env=_environment(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (2, 3)]
    assert [(s["JAX_LOCAL_RANK"], s["JAX_RANK"], s["JAX_WORLD_SIZE"]) for s in seen] == [("0", "2", "4"), ("1", "3", "4")]
    assert {(s["JAX_COORDINATOR_ADDR"], s["JAX_COORDINATOR_PORT"]) for s in seen} == {("10.1.2.3", str(port))}
    assert all(s["args"] == ["--x", "1"] for s in seen)  # the script's own arguments pass through


def test_a_failing_rank_stops_the_others_with_a_clear_message(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text(FAILING_SCRIPT)
    start = time.monotonic()
    done = _launch(["--nproc_per_node", "2", str(script)], timeout=60)
    assert done.returncode == 3
    assert "rank 1 exited with code 3" in done.stderr
    assert "stopping the 1 other running process(es)" in done.stderr
    assert time.monotonic() - start < 30


def test_signals_reach_every_rank(tmp_path: Path) -> None:
    script = tmp_path / "wait.py"
    script.write_text(SIGNAL_SCRIPT)
    command = [*LAUNCHER, "--nproc_per_node", "2", str(script), str(tmp_path)]
    process = subprocess.Popen(command, env=_environment(), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not all((tmp_path / f"ready{r}").exists() for r in range(2)) and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert [(tmp_path / f"stopped{r}").read_text() for r in range(2)] == ["SIGTERM", "SIGTERM"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--nnodes", "2", "--node_rank", "2"], "--node_rank must be in [0, 2)"),
        (["--nnodes", "0"], "--nnodes must be >= 1"),
        (["--nproc_per_node", "two"], "--nproc_per_node must be an integer"),
        (["--coordinator_address", "localhost"], "--coordinator_address must be host:port"),
        (["--coordinator_address", "localhost:70000"], "--coordinator_address must be host:port"),
    ],
)
def test_bad_options_are_named(args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    script = tmp_path / "script.py"
    script.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        launcher.parse_args([*args, str(script)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_script_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        launcher.parse_args([str(tmp_path / "nope.py")])
    err = capsys.readouterr().err
    assert "nope.py" in err and "does not exist" in err


# ---------------------------------------------------------------------------------------- one process
@pytest.mark.slow  # compiles: 9 s measured on the busy 2-core machine
def test_one_process_compiles_plainly_and_reduces_nothing() -> None:
    x = jax.numpy.arange(12.0).reshape(4, 3)
    mask = jax.numpy.asarray([True, False, True, True])
    prior = ScalerState(jax.numpy.zeros(3), jax.numpy.ones(3), jax.numpy.ones(1))

    def update(x: jax.Array, mask: jax.Array) -> tuple:
        return mean_over_processes({"x": x * 2}), scaler_update_over_processes(prior, x, mask)

    doubled, scaler = compile_update(update)(x, mask)
    np.testing.assert_array_equal(doubled["x"], x * 2)
    for got, expected in zip(scaler, scaler_update(prior, x, mask)):
        np.testing.assert_array_equal(got, expected)
    assert broadcast_from_rank({"w": x})["w"] is x
