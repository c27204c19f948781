"""``steprl tune``: a tiny study end to end (preset, tables, resume, ``steprl train --preset-file``), its user
errors, and the search spaces."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import pytest

from steprl.cli import main
from steprl.cli.presets import load_preset, parse_preset
from steprl.cli.registry import AGENTS
from steprl.cli.rundir import RunLock
from steprl.cli.tune_report import preset_toml
from steprl.cli.tune_space import apply_params, family_of, space_for

TINY = ["--env", "CartPole-v1", "--agent", "ppo", "--seeds", "0", "--timesteps", "128"]


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "trials.csv", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.mark.slow
def test_tiny_study_writes_a_preset_train_accepts_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("optuna")
    import torch

    torch.set_num_threads(1)
    study = tmp_path / "study"
    assert main(["tune", *TINY, "--trials", "3", "--run-dir", str(study)]) == 0
    out = capsys.readouterr().out
    assert out.count("[trial ") == 3 and "0 finished trial(s)" in out
    rows = _rows(study)
    assert [row["trial"] for row in rows] == ["0", "1", "2"]
    assert {"learning_rate", "rollouts", "width", "seed_0", "objective"} <= set(rows[0])
    assert (study / "trials.md").read_text().startswith("| trial | state |")
    completed = [row for row in rows if row["state"] == "complete"]
    assert completed and all(row["objective"] == row["seed_0"] for row in completed)  # one seed: its return
    best = study / "best_preset.toml"
    table = tomllib.loads(best.read_text())["ppo"]
    assert table["timesteps"] == 128 and table["eval_every"] == 32  # a quarter of the budget: the pruner's points
    best_row = max(completed, key=lambda row: float(row["objective"]))
    assert table["agent"]["rollouts"] == int(best_row["rollouts"]) and table["network"]["hidden"][0] == int(best_row["width"])
    assert (study / "param_importances.png").is_file() or "param_importances.png skipped" in out

    import optuna

    stored = optuna.load_study(study_name="CartPole-v1_ppo", storage=f"sqlite:///{study / 'study.db'}")
    stored.ask()  # a trial a killed command left running
    assert main(["tune", *TINY, "--trials", "4", "--run-dir", str(study)]) == 0  # continues the study
    out = capsys.readouterr().out
    assert "3 finished trial(s)" in out and "1 to run" in out and out.count("[trial ") == 1
    assert "1 interrupted trial(s)" in out
    assert [(row["trial"], row["state"]) for row in _rows(study)][3:] == [("3", "fail"), ("4", _rows(study)[4]["state"])]
    assert main(["tune", *TINY, "--trials", "2", "--run-dir", str(study)]) == 0  # nothing left to run
    assert "give --trials 5 or more" in capsys.readouterr().out

    run = tmp_path / "train"
    args = ["train", "--env", "CartPole-v1", "--agent", "ppo", "--preset-file", str(best), "--run-dir", str(run)]
    assert main([*args, "--no-progress", "--eval-episodes", "1"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["timesteps"] == 128 and summary["preset"] == str(best)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trials", "0"], "--trials must be >= 1, got 0"),
        (["--trials", "2", "--seeds", "0,x"], "--seeds must be distinct integers"),
        (["--trials", "2", "--seeds", "1,1"], "--seeds must be distinct integers"),
        (["--trials", "2", "--n-jobs", "0"], "--n-jobs must be >= 1"),
        (["--trials", "2", "--agent", "ppp"], "unknown agent 'ppp' for --backend torch; did you mean 'ppo'?"),
        (["--trials", "2", "--env", "CartPol-v1"], "unknown environment 'CartPol-v1'"),
        (["--trials", "2", "--agent", "sac"], "sac"),
    ],
)
def test_user_errors_are_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {"--env": "CartPole-v1", "--agent": "ppo"}
    for option, value in zip(args[::2], args[1::2]):
        base[option] = value
    argv = ["tune", *[item for pair in base.items() for item in pair], "--run-dir", str(tmp_path / "d")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("steprl tune: error: ") and message in err and "\n" not in err
    assert not (tmp_path / "d").exists()


def test_busy_or_foreign_run_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("optuna")
    argv = ["tune", "--env", "CartPole-v1", "--agent", "ppo", "--trials", "1"]
    busy = tmp_path / "busy"
    busy.mkdir()
    with RunLock() as lock:
        lock.acquire(str(busy), "--run-dir", "steprl tune")
        assert main([*argv, "--run-dir", str(busy)]) == 2
    assert "is in use by another steprl tune" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert main([*argv, "--run-dir", str(foreign)]) == 2
    assert "is not empty and holds no steprl tune study" in capsys.readouterr().err


def test_train_preset_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.toml"
    assert main(["train", "--preset-file", str(missing), "--run-dir", str(tmp_path / "a")]) == 2
    assert "--preset-file" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("[ppo]\ntimesteps = 100\nnum_envs = 2\neval_every = 10\n[ppo.agent]\nrolouts = 4\n")
    assert main(["train", "--preset-file", str(broken), "--run-dir", str(tmp_path / "b")]) == 2
    assert "Did you mean 'rollouts'?" in capsys.readouterr().err
    assert main(["train", "--preset-file", str(broken), "--resume", str(tmp_path / "b")]) == 2
    assert "--preset-file cannot be combined with --resume" in capsys.readouterr().err


class _Fixed:
    """A trial that answers every suggestion with the given values (the low end of ranges otherwise)."""

    def __init__(self, **values: object) -> None:
        self.values = values

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        return float(self.values.get(name, low))  # type: ignore[arg-type]

    def suggest_categorical(self, name: str, choices: list[object]) -> object:
        value = self.values.get(name, choices[0])
        assert value in choices
        return value


def _space(agent: str, env: str) -> tuple[str, list, dict, dict]:
    entry = AGENTS[agent]
    table = load_preset(env, agent).table
    family = family_of(agent, entry.memory)
    defaults = entry.default_config()
    return family, space_for(family, defaults, entry.valid_network_keys(), table), defaults, table


def test_spaces_follow_the_agent_keys() -> None:
    names = {agent: {p.name for p in _space(agent, env)[1]} for agent, env in
             (("ppo", "CartPole-v1"), ("trpo", "CartPole-v1"), ("td3", "Pendulum-v1"), ("sac", "Pendulum-v1"),
              ("dqn", "CartPole-v1"), ("cem", "CartPole-v1"))}  # fmt: skip
    assert {"learning_rate", "clip", "entropy", "width"} <= names["ppo"] and "value_learning_rate" not in names["ppo"]
    assert {"value_learning_rate", "max_kl_divergence"} <= names["trpo"] and "learning_rate" not in names["trpo"]
    assert "noise_std" in names["td3"] and "temperature" not in names["td3"]
    assert "temperature" in names["sac"] and "noise_std" not in names["sac"]
    assert {"target_update_interval", "epsilon_decay", "final_epsilon"} <= names["dqn"]
    assert names["cem"] == {"rollouts", "percentile", "learning_rate"}


def test_apply_params_keeps_the_schedule_shape_and_minibatches_valid() -> None:
    family, space, defaults, table = _space("rpo", "Pendulum-v1")  # LinearLR over 195 updates x 10 epochs
    values = {p.name: p.suggest(_Fixed(rollouts=64, learning_epochs=5, mini_batches=32, width=32)) for p in space}
    result = apply_params(family, table, values, space, defaults, timesteps=100_000)
    kwargs = result["agent"]["learning_rate_scheduler_kwargs"]
    assert kwargs["total_iters"] == round(1950 * (100_000 // 8 // 64 * 5) / (200_000 // 8 // 128 * 10))
    assert result["agent"]["mini_batches"] == 32 and result["network"]["hidden"] == [32, 32]  # 512 samples: 16 each
    assert result["timesteps"] == 100_000 and result["eval_every"] == 20_000 and table["timesteps"] == 200_000
    small = apply_params(family, table, {**values, "rollouts": 16}, space, defaults)
    assert small["agent"]["mini_batches"] == 16  # 128 samples: at least 8 per minibatch
    family, space, defaults, table = _space("td3", "Pendulum-v1")
    result = apply_params(family, table, {"learning_starts": 500, "noise_std": 0.3}, space, defaults)
    assert result["agent"]["random_timesteps"] == 500 and result["agent"]["exploration"]["noise"]["std"] == 0.3


@pytest.mark.parametrize(("agent", "env"), [("td3", "Pendulum-v1"), ("dqn", "CartPole-v1"), ("ppo", "CartPole-v1")])
def test_preset_toml_round_trips(agent: str, env: str) -> None:
    table = load_preset(env, agent).table
    text = preset_toml(agent, table, ["a comment"])
    assert text.startswith("# a comment\n") and tomllib.loads(text)[agent] == table
    assert parse_preset(tomllib.loads(text), env, agent).table == table
