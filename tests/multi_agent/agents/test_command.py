"""``steprl train`` on multi-agent environments: the presets build and learn, a run end to end, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.command import train_with_command

from steprl.cli import main
from steprl.cli.multi_agent import make_multi_agent_env
from steprl.cli.presets import available_agents, available_envs, load_preset
from steprl.cli.registry import MULTI_AGENTS
from steprl.trainers.torch import ManualTrainer

MULTI_AGENT_TABLES = [(env, agent) for env in available_envs() if ":" in env for agent in available_agents(env)]


def _parameters(agent) -> list[torch.Tensor]:
    return [p.detach().clone() for roles in agent.models.values() for m in roles.values() for p in m.parameters()]


def test_the_multi_agent_presets_exist() -> None:
    assert ("mpe2:simple_spread_v3", "ippo") in MULTI_AGENT_TABLES
    assert ("mpe2:simple_spread_v3", "mappo") in MULTI_AGENT_TABLES
    assert ("vmas:navigation", "mappo") in MULTI_AGENT_TABLES


@pytest.mark.parametrize(("env_id", "agent"), MULTI_AGENT_TABLES, ids=[f"{e}-{a}" for e, a in MULTI_AGENT_TABLES])
def test_every_multi_agent_preset_builds_and_updates(env_id: str, agent: str, tmp_path: Path) -> None:
    from steprl.cli.train import _make_agent

    preset = load_preset(env_id, agent)
    assert set(preset.agent_cfg) <= set(MULTI_AGENTS[agent].default_config())
    env = make_multi_agent_env(env_id, 2, preset.env_kwargs)
    env.reset(seed=0)
    built = _make_agent(preset, env, str(tmp_path / "run"), 1000)
    assert isinstance(built, MULTI_AGENTS[agent].agent_class())
    if preset.network.get("share_parameters"):
        assert len({id(roles["policy"]) for roles in built.models.values()}) == 1 and built.cfg["append_agent_id"]
    trainer = ManualTrainer(
        env=env, agents=built, cfg={"timesteps": 1000, "headless": True, "disable_progressbar": True}
    )
    start = _parameters(built)
    rollouts = int(built.cfg["rollouts"])
    for t in range(rollouts):
        trainer.train(timestep=t)
    trained = _parameters(built)
    assert not all(torch.equal(a, b) for a, b in zip(start, trained)), f"{agent} on {env_id} never updated"
    trainer.eval(timestep=0)
    assert all(torch.equal(a, b) for a, b in zip(trained, _parameters(built))), "evaluation must not learn"
    env.close()


@pytest.mark.slow
def test_a_simple_spread_run_end_to_end(tmp_path: Path) -> None:
    summary = train_with_command(
        tmp_path, "--env", "mpe2:simple_spread_v3", "--agent", "ippo", "--timesteps", "800", "--num-envs", "4",
        "--eval-every", "400", "--eval-episodes", "4",
    )  # fmt: skip
    assert summary["agent"] == "ippo" and summary["env"] == "mpe2:simple_spread_v3"
    assert [e["env_steps"] for e in summary["evaluations"]] == [400, 800]
    assert -200 < summary["final_mean_return"] < 0
    assert any((tmp_path / "run" / "checkpoints").iterdir())


@pytest.mark.parametrize(
    ("env_id", "agent", "fragment"),
    [
        ("mpe2:simple_spread_v3", "ppo", "--agent ppo trains on a single-agent (Gymnasium) environment"),
        ("CartPole-v1", "mappo", "--agent mappo trains on a multi-agent (PettingZoo/VMAS) environment"),
        ("mpe2:no_such_env_v1", "mappo", "cannot import mpe2.no_such_env_v1"),
    ],
)
def test_one_line_errors(
    env_id: str, agent: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--env", env_id, "--agent", agent, "--run-dir", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1
