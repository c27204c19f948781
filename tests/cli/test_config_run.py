"""``steprl train --config FILE --env ID``: a runner configuration trains in-process; a mistake in the YAML is one
line on stderr and exit status 2, without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from steprl.cli import main

CARTPOLE_PPO = Path(__file__).resolve().parents[1] / "data" / "runner" / "cartpole_ppo.yaml"


def _config(tmp_path: Path, edit: dict | None = None, text: str | None = None) -> Path:
    path = tmp_path / "config.yaml"
    if text is not None:
        path.write_text(text)
        return path
    cfg = yaml.safe_load(CARTPOLE_PPO.read_text())
    for dotted, value in (edit or {}).items():
        *parents, key = dotted.split(".")
        table = cfg
        for parent in parents:
            table = table[parent]
        table[key] = value
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_config_run_trains_and_evaluates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = tmp_path / "run"
    path = _config(tmp_path, {"agent.experiment.write_interval": 10})
    args = ["train", "--config", str(path), "--env", "CartPole-v1", "--num-envs", "2"]
    args += ["--timesteps", "80", "--eval-episodes", "2", "--run-dir", str(run_dir), "--no-progress", "--seed", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "evaluation return: " in out and "over 2 episodes" in out
    assert f"experiment directory: {run_dir}" in out
    assert list(run_dir.glob("events.out.tfevents.*"))  # the agent's TensorBoard events, in --run-dir


@pytest.mark.parametrize(
    ("edit", "text", "extra", "message"),
    [
        ({"agent.learning_rat": 0.1}, None, [], "unknown key 'learning_rat' in section 'agent' (PPO). Did you mean 'learning_rate'?"),
        ({"agent.class": "PP0"}, None, [], "unknown agent class 'PP0' in section 'agent' (torch). Did you mean 'PPO'?"),
        ({"trainr": {}}, None, [], "unknown key 'trainr' in the configuration (top-level sections). Did you mean 'trainer'?"),
        ({"models.policy.network": [{"name": "net", "input": "STATES", "layers": [0]}]}, None, [], "cannot build it"),
        (None, "agent: [1, 2\n", [], "is not valid YAML"),
        (None, "just text\n", [], "must hold a mapping of sections"),
        (None, "models:\n  policy: {class: CategoricalMixin}\nagent:\ntrainer:\n", [], "section 'agent' has no 'class'"),
        ({}, None, ["--agent", "ppo"], "--agent is for preset runs"),
        ({}, None, ["--backend", "jax", "--env", "vmas:navigation"], "VMAS is torch-native"),
        ({}, None, ["--backend", "jax", "--device", "cpu"], "--device with --config is for --backend torch"),
        ({}, None, ["--env", "CartPol-v1"], "CartPol"),
        ({"agent.class": "IPPO"}, None, [], "IPPO is a multi-agent agent, but the environment is a single-agent one"),
    ],
)
def test_config_mistakes_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: dict | None, text: str | None, extra: list[str], message: str
) -> None:
    path = _config(tmp_path, edit, text)
    args = ["train", "--config", str(path), "--run-dir", str(tmp_path / "run"), "--no-progress", *extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("steprl train: error: "), err
    assert message in lines[0]
    assert "Traceback" not in err


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--config", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("steprl train: error: --config: cannot read runner configuration") and "nope.yaml" in err
