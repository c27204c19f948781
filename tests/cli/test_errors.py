"""Every user mistake makes ``steprl train`` print one line on stderr and exit with status 2, without a traceback
and before anything is built or written."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest

import steprl.cli.presets as presets_module
from steprl import config
from steprl.cli import main
from steprl.cli.presets import load_preset

ERROR = "steprl train: error: "
TINY = ["--timesteps", "64", "--num-envs", "1", "--eval-every", "0", "--no-progress"]


def one_error_line(err: str, *fragments: str) -> str:
    """Assert that ``err`` is exactly one ``steprl train: error:`` line holding every fragment; return it."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(ERROR), err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def fails(capsys: pytest.CaptureFixture[str], run_dir: Path, *args: str) -> str:
    """Run ``steprl train ARGS`` in-process; assert exit status 2, one stderr line and no run directory."""
    assert main(["train", "--run-dir", str(run_dir), *args]) == 2
    captured = capsys.readouterr()
    assert not run_dir.exists()
    return one_error_line(captured.err)


def run_command(*args: str, optimize: bool = False) -> subprocess.CompletedProcess[str]:
    """``python [-O] -m steprl ARGS`` in a subprocess."""
    command = [sys.executable, *(["-O"] if optimize else []), "-m", "steprl", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


# ------------------------------------------------------------------------------------- agent vs environment
@pytest.mark.parametrize(
    ("env_id", "agent", "fragments"),
    [
        (
            "MountainCar-v0",
            "sac",
            ("--agent sac needs a Box action space, but MountainCar-v0 has Discrete(3) actions",
             "agents with a preset table for MountainCar-v0: ppo, dqn, ddqn"),
        ),
        ("MountainCar-v0", "td3", ("--agent td3 needs a Box action space with finite bounds",)),
        (
            "Pendulum-v1",
            "dqn",
            ("--agent dqn needs a Discrete action space, but Pendulum-v1 has Box(shape=(1,), bounds [-2, 2]) actions",
             "agents with a preset table for Pendulum-v1: ppo, rpo, sac, td3, ddpg"),
        ),
        ("Pendulum-v1", "cem", ("--agent cem needs a Discrete action space",)),
        ("CartPole-v1", "rpo", ("--agent rpo needs a Box action space", "ppo, a2c, trpo, cem, dqn, ddqn")),
        (
            "CartPole-v1",
            "q_learning",
            ("--agent q_learning needs Discrete observations and a Discrete action space",
             "CartPole-v1 has Box(shape=(4,), unbounded) observations and Discrete(2) actions"),
        ),
        (
            "FrozenLake-v1",
            "ppo",
            ("the preset for FrozenLake-v1", "has no [ppo] table", "agents with a preset table for FrozenLake-v1: q_learning, sarsa"),
        ),
        ("MountainCarContinuous-v0", "rpo", ("default.toml) has no [rpo] table", "ppo, sac, td3, ddpg")),
    ],
)
def test_agent_that_cannot_act_in_the_environment(
    env_id: str, agent: str, fragments: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = fails(capsys, tmp_path / "run", "--env", env_id, "--agent", agent, *TINY)
    one_error_line(line, *fragments)


@pytest.mark.slow
def test_mismatch_in_a_subprocess_and_under_python_O(tmp_path: Path) -> None:
    """What a user sees: one line and status 2, also with ``python -O`` (checks are not ``assert`` statements)."""
    for optimize in (False, True):
        result = run_command("train", "--env", "MountainCar-v0", "--agent", "sac", "--run-dir", str(tmp_path / "r"), optimize=optimize)
        assert result.returncode == 2 and result.stdout == ""
        one_error_line(result.stderr, "--agent sac needs a Box action space")
        result = run_command("train", "--timesteps", "0", "--run-dir", str(tmp_path / "r"), optimize=optimize)
        assert result.returncode == 2
        one_error_line(result.stderr, "--timesteps must be >= 1, got 0")
    assert not (tmp_path / "r").exists()


def test_the_command_has_no_assert_statements() -> None:
    """``python -O`` strips ``assert``: the command's input checks must raise exceptions."""
    package = Path(str(resources.files("steprl.cli")))
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.Assert)], path


# --------------------------------------------------------------------------------------------- bad numbers
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timesteps", "0"], "--timesteps must be >= 1, got 0"),
        (["--timesteps", "-100"], "--timesteps must be >= 1, got -100"),
        (["--num-envs", "0"], "--num-envs must be >= 1, got 0"),
        (["--num-envs", "-2"], "--num-envs must be >= 1, got -2"),
        (["--eval-episodes", "0"], "--eval-episodes must be >= 1, got 0"),
        (["--eval-episodes", "-3"], "--eval-episodes must be >= 1, got -3"),
        (["--threads", "0"], "--threads must be >= 1, got 0"),
        (["--eval-every", "-1"], "--eval-every must be >= 0, got -1"),
        (["--seed", "-1"], "--seed must be in [0, 4294967295], got -1"),
        (["--seed", str(2**32)], "--seed must be in [0, 4294967295]"),
        (["--timesteps", "4", "--num-envs", "8"], "--timesteps (4) must be >= --num-envs (8): nothing to run"),
        (["--device", "gpu7"], "--device 'gpu7' is not a torch device"),
        (["--device", "meta"], "--device meta: the steprl command runs on cpu, cuda[:N] or mps"),
        (["--backend", "jax", "--agent", "trpo"], "--agent trpo is not available with --backend jax"),
    ],
)
def test_bad_numbers(args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_error_line(fails(capsys, tmp_path / "run", *args), message)


def test_unavailable_cuda_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    expected = "CUDA is not available" if count == 0 else f"this machine has {count} CUDA device(s)"
    one_error_line(fails(capsys, tmp_path / "run", "--device", f"cuda:{count + 3}", *TINY), expected)


# ---------------------------------------------------------------------------------------- environment ids
@pytest.mark.parametrize(
    ("env_id", "fragments"),
    [
        ("CartPol-v1", ("unknown environment 'CartPol-v1'", "did you mean CartPole-v1")),
        ("CartPole-v9", ("unknown environment 'CartPole-v9'", "CartPole-v1")),
        ("Taxi-v3", ("unknown environment 'Taxi-v3'", "did you mean Taxi-v4?")),
        ("NoSuchEnv-v0", ("unknown environment 'NoSuchEnv-v0': gymnasium has no environment with this id",)),
        ("ALE/Pong-v5", ("unknown environment namespace 'ALE'", "pip install ale-py, then --env ale_py:ALE/Pong-v5")),
        ("steprl_no_such_module:Foo-v0", ("cannot import module 'steprl_no_such_module'",)),
        ("Cart Pole", ("--env Cart Pole: Malformed environment ID",)),
    ],
)
def test_unknown_environment(
    env_id: str, fragments: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_error_line(fails(capsys, tmp_path / "run", "--env", env_id, *TINY), *fragments)


@pytest.mark.slow
def test_unversioned_id_means_the_latest_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--env", "CartPole", "--run-dir", str(tmp_path / "run"), *TINY, "--eval-episodes", "1"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["env"] == "CartPole-v1" and summary["preset"].endswith("CartPole-v1.toml")


# ----------------------------------------------------------------------------------- missing dependencies
@pytest.mark.parametrize(
    ("module", "install"),
    [("torch", '"steprl[torch]"'), ("tensorboard", '"steprl[tensorboard]"'), ("matplotlib", '"steprl[plot]"')],
)
def test_missing_package_of_the_command(
    module: str, install: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # find_spec and import see the package as not installed
    one_error_line(fails(capsys, tmp_path / "run", *TINY), f"{module} is not installed: pip install {install}")


class _NeedsAPackage(gymnasium.Env):
    """An environment family whose package is missing (as Box2D/MuJoCo environments raise it)."""

    def __init__(self) -> None:
        raise gymnasium.error.DependencyNotInstalled('Foo is not installed, run `pip install "gymnasium[foo]"`')


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Environment ids registered by a test, removed afterwards."""
    ids: list[str] = []
    yield ids
    for env_id in ids:
        gymnasium.registry.pop(env_id, None)


def test_missing_package_of_an_environment_family(
    registered: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gymnasium.register("SteprlTestNeedsFoo-v0", entry_point=_NeedsAPackage)
    gymnasium.register("SteprlTestNoModule-v0", entry_point="steprl_test_missing_family.envs:Env")
    registered += ["SteprlTestNeedsFoo-v0", "SteprlTestNoModule-v0"]
    one_error_line(
        fails(capsys, tmp_path / "run", "--env", "SteprlTestNeedsFoo-v0", *TINY),
        "environment SteprlTestNeedsFoo-v0 needs an optional package: Foo is not installed",
        'pip install "gymnasium[foo]"',
    )
    one_error_line(
        fails(capsys, tmp_path / "run", "--env", "SteprlTestNoModule-v0", *TINY),
        "environment SteprlTestNoModule-v0 needs the Python module 'steprl_test_missing_family'",
    )


def test_box2d_environment_without_box2d(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    if importlib.util.find_spec("Box2D") is not None:
        pytest.skip("Box2D is installed")
    one_error_line(
        fails(capsys, tmp_path / "run", "--env", "LunarLander-v3", *TINY),
        "environment LunarLander-v3 needs an optional package",
        'pip install "gymnasium[box2d]"',
    )


# ------------------------------------------------------------------------------------------- run directory
def test_run_dir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a_file"
    path.write_text("not a directory")
    assert main(["train", "--run-dir", str(path), *TINY]) == 2
    one_error_line(capsys.readouterr().err, f"--run-dir {path} is an existing file, not a directory")
    assert path.read_text() == "not a directory"
    assert main(["train", "--run-dir", str(path / "run"), *TINY]) == 2
    one_error_line(capsys.readouterr().err, f"--run-dir {path / 'run'} is not writable")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_run_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["train", "--run-dir", str(locked / "run"), *TINY]) == 2
        one_error_line(capsys.readouterr().err, f"--run-dir {locked / 'run'} is not writable")
    finally:
        locked.chmod(0o700)


# ------------------------------------------------------------------------------------------------ presets
@pytest.fixture
def preset_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the preset files, used by the command."""
    target = tmp_path / "presets"
    shutil.copytree(str(resources.files("steprl.cli") / "presets"), target)
    monkeypatch.setattr(presets_module, "_presets_dir", lambda: target)
    return target


def edit(preset_dir: Path, old: str, new: str, name: str = "CartPole-v1.toml") -> str:
    """Replace the first ``old`` of a preset file by ``new``; return the file's path."""
    path = preset_dir / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return str(path)


@pytest.mark.parametrize(
    ("agent", "old", "new", "fragments"),
    [
        ("ppo", "rollouts = 32", "rolouts = 32", ("[ppo].agent: unknown PPO key 'rolouts'. Did you mean 'rollouts'?",)),
        ("ppo", 'activation = "tanh"', 'activaton = "tanh"', ("[ppo].network: unknown PPO network key 'activaton'. Did you mean 'activation'?",)),
        ("ppo", "eval_every = 10_000", "eval_every = 10_000\neval_episode = 5", ("[ppo]: unknown key 'eval_episode'. Did you mean 'eval_episodes'?",)),
        ("dqn", "final_epsilon = 0.04\ntimesteps", "final_epsilon = 0.04\ntimestep", ("[dqn].agent.exploration: unknown DQN exploration key 'timestep'. Did you mean 'timesteps'?",)),
        ("ppo", "[cem]\n", "[cemm]\n", ("table [cemm]: agent 'cemm' is not supported by steprl. Did you mean 'cem'?",)),
        ("ppo", "[ppo]\n", "[ppo\n", ("is not valid TOML",)),
        ("ppo", "num_envs = 8", "num_envs = 0", ("[ppo]: 'num_envs' must be a positive integer, got 0",)),
    ],
)
def test_strict_preset_validation(
    agent: str,
    old: str,
    new: str,
    fragments: tuple[str, ...],
    preset_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = edit(preset_dir, old, new)
    one_error_line(fails(capsys, tmp_path / "run", "--agent", agent, *TINY), path, *fragments)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("kl_threshold = 0.008", "kl_treshold = 0.008", "unexpected keyword argument 'kl_treshold'"),  # TypeError
        ("mini_batches = 1\n", "mini_batches = 0\n", "mini_batches"),  # ValueError
    ],
)
def test_errors_raised_while_building_the_agent(
    old: str, new: str, message: str, preset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A preset value that passes the loader but that the agent rejects: one line, and the run directory is gone."""
    path = edit(preset_dir, old, new)
    one_error_line(fails(capsys, tmp_path / "run", *TINY), f"cannot build PPO from {path}: ", message)


def test_agents_are_built_in_strict_mode(
    preset_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown key that reaches the agent (here past a disabled loader check) is a KeyError, not a warning,
    whatever ``steprl.config.strict`` says outside the command, which is restored afterwards."""
    monkeypatch.setattr(presets_module, "_check_agent_cfg", lambda *args: None)
    path = edit(preset_dir, "rollouts = 32", "rolouts = 32")
    config.strict = False
    try:
        line = fails(capsys, tmp_path / "run", *TINY)
        assert config.strict is False
    finally:
        config.strict = True
    one_error_line(line, f"cannot build PPO from {path}: Unknown configuration key 'rolouts'", "Did you mean 'rollouts'?")


def test_strict_mode_is_restored_after_building() -> None:
    from steprl.cli.train import strict_config

    for outside in (False, True):
        config.strict = outside
        with strict_config():
            assert config.strict is True
        assert config.strict is outside
    config.strict = True


def test_make_agent_raises_for_an_unknown_key(tmp_path: Path) -> None:
    from steprl.cli.train import _make_agent
    from steprl.envs.wrappers.torch import wrap_env

    preset = load_preset("CartPole-v1", "ppo")
    preset = dataclasses.replace(preset, agent_cfg={**preset.agent_cfg, "rolouts": 8})
    env = wrap_env(gymnasium.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    config.strict = False
    try:
        with pytest.raises(KeyError, match="rolouts"):
            _make_agent(preset, env, str(tmp_path / "run"), 100)
    finally:
        config.strict = True
        env.close()


# --------------------------------------------------------------------------------------------- evaluation
class _Endless(gymnasium.Env):
    """An environment whose episodes never end (no time limit)."""

    observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gymnasium.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.zeros(2, np.float32), 1.0, False, False, {}


def test_evaluation_of_an_environment_that_never_ends(
    registered: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import steprl.cli.train as train_module

    gymnasium.register("SteprlTestEndless-v0", entry_point=_Endless, max_episode_steps=None)
    registered.append("SteprlTestEndless-v0")
    monkeypatch.setattr(train_module, "UNLIMITED_EPISODE_STEPS", 25)
    run_dir = tmp_path / "run"
    args = ["train", "--env", "SteprlTestEndless-v0", "--run-dir", str(run_dir), *TINY, "--eval-episodes", "2"]
    assert main(args) == 0
    assert "Final evaluation: no episode ended within 100 steps" in capsys.readouterr().out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["final_mean_return"] is None and summary["evaluations"][-1]["episodes"] == 0


def test_evaluation_step_cap_and_preset_episodes(
    preset_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``run_episodes`` gets a finite ``max_steps`` (twice the time limit per episode); without --eval-episodes
    the preset's ``eval_episodes`` is used."""
    from steprl.trainers.torch import ManualTrainer

    calls: list[tuple[int, Any]] = []
    original = ManualTrainer.run_episodes

    def spy(self: Any, num_episodes: int, *args: Any, **kwargs: Any) -> list[float]:
        calls.append((num_episodes, kwargs.get("max_steps")))
        return original(self, num_episodes, *args, **kwargs)

    monkeypatch.setattr(ManualTrainer, "run_episodes", spy)
    edit(preset_dir, "eval_every = 10_000", "eval_every = 10_000\neval_episodes = 3")
    run_dir = tmp_path / "run"
    assert main(["train", "--run-dir", str(run_dir), *TINY]) == 0
    assert "over 3 episodes" in capsys.readouterr().out
    assert calls == [(3, 2 * 3 * 500)]  # CartPole-v1: 500-step time limit
    assert json.loads((run_dir / "summary.json").read_text())["eval_episodes"] == 3
    calls.clear()
    assert main(["train", "--run-dir", str(tmp_path / "b"), *TINY, "--eval-episodes", "2"]) == 0
    assert calls == [(2, 2 * 2 * 500)]
