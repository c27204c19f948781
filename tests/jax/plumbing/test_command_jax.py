"""``steprl train --backend jax``: the same presets, run directory and checkpoints as torch, with JAX agents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.command import train_with_command

from steprl.cli import main
from steprl.cli.presets import load_preset, resolve_agent_cfg
from steprl.cli.registry import AGENTS, ALL_AGENTS, JAX_AGENTS, JAX_ALL_AGENTS, MULTI_AGENTS, agents_for


def test_registry_names_the_jax_agents_and_builders() -> None:
    assert agents_for("jax") is JAX_ALL_AGENTS and agents_for("torch") is ALL_AGENTS
    assert JAX_ALL_AGENTS == {**JAX_AGENTS, **{name: JAX_ALL_AGENTS[name] for name in MULTI_AGENTS}}
    for name in MULTI_AGENTS:
        assert JAX_ALL_AGENTS[name].agent == f"steprl.multi_agents.jax.{name}:{name.upper()}"
        assert JAX_ALL_AGENTS[name].multi_agent and JAX_ALL_AGENTS[name].models.startswith("steprl.multi_agents.jax.")
    assert list(JAX_AGENTS) == ["ppo", "a2c", "rpo", "cem", "dqn", "ddqn", "sac", "td3", "ddpg"]
    for name, entry in JAX_AGENTS.items():
        assert entry.agent.startswith("steprl.agents.jax.") and entry.models.startswith("steprl.models.jax.networks.")
        assert entry.memory == AGENTS[name].memory and entry.actions == AGENTS[name].actions


def test_preset_classes_resolve_to_the_jax_ones() -> None:
    import gymnasium

    from steprl.resources.schedulers.jax import KLAdaptiveLR

    preset = load_preset("CartPole-v1", "ppo")
    cfg = resolve_agent_cfg(preset, gymnasium.spaces.Box(-1, 1, (4,)), backend="jax")
    assert cfg["learning_rate_scheduler"] is KLAdaptiveLR


def test_torch_schedulers_of_presets_become_jax_schedules_with_the_same_rates() -> None:
    import gymnasium

    preset = load_preset("Pendulum-v1", "rpo")  # LinearLR over 1950 epochs, 16 mini-batches per epoch
    cfg = resolve_agent_cfg(preset, gymnasium.spaces.Box(-1, 1, (3,)), backend="jax")
    schedule = cfg["learning_rate_scheduler"](**cfg["learning_rate_scheduler_kwargs"])
    rate, batches = preset.agent_cfg["learning_rate"], preset.agent_cfg["mini_batches"]
    assert float(schedule(0)) == pytest.approx(rate) and float(schedule(batches - 1)) == pytest.approx(rate)
    assert float(schedule(1950 * batches)) == pytest.approx(rate * 0.05)
    assert float(schedule(975 * batches)) == pytest.approx(rate * (1 + 0.05) / 2)


def test_agents_missing_on_jax_are_one_line_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(
        ["train", "--backend", "jax", "--agent", "trpo", "--env", "Pendulum-v1", "--run-dir", str(tmp_path / "r")]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "steprl train: error: --agent trpo is not available with --backend jax: "
        "choose one of ppo, a2c, rpo, cem, dqn, ddqn, sac, td3, ddpg, ippo, mappo"
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_jax_ppo_run_writes_the_run_directory_and_resumes(tmp_path: Path) -> None:
    summary = train_with_command(tmp_path, "--backend", "jax", "--env", "CartPole-v1", "--timesteps", "1024")
    assert summary["backend"] == "jax" and summary["timesteps"] == 1024
    run_dir = tmp_path / "run"
    assert json.loads((run_dir / "run.json").read_text())["backend"] == "jax"
    assert (run_dir / "checkpoints" / "final_agent.ckpt").is_file() and (run_dir / "learning_curve.png").is_file()
    assert main(["train", "--resume", str(run_dir), "--timesteps", "2048", "--no-progress"]) == 0
    resumed = json.loads((run_dir / "summary.json").read_text())
    assert resumed["resumed_from"] == [1024] and resumed["timesteps"] == 2048
