"""Multi-agent checkpoints: nested {uid: {name: state}} files, separate files per agent, all-or-nothing loads."""

from __future__ import annotations

import os

import pytest
import torch
from helpers.ma_agents import QUIET, CueTask, CueWrapper, build_agent

from steprl.backends.torch_checkpoint import torch_load
from steprl.core.checkpoint import CheckpointError
from steprl.trainers.torch import ManualTrainer, SequentialTrainer


def _trained(algorithm: str = "mappo", share: bool = False, steps: int = 8, **cfg):
    env = CueWrapper(CueTask(num_envs=2))
    agent = build_agent(env, algorithm, share=share, rollouts=4, **cfg)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for _ in range(steps):
        trainer.train()
    return env, agent


def _parameters(agent) -> dict[str, torch.Tensor]:
    return {
        f"{uid}/{role}/{name}": p.detach().clone()
        for uid, roles in agent.models.items()
        for role, model in roles.items()
        for name, p in model.named_parameters()
    }


@pytest.mark.parametrize("algorithm", ["ippo", "mappo"])
def test_round_trip_restores_every_agent(tmp_path, algorithm: str) -> None:
    _, agent = _trained(algorithm, state_preprocessor=None)
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    data = torch_load(path)
    assert set(data) == {"a", "b", "_steprl"}
    assert {"policy", "value", "optimizer", "memory"} <= set(data["a"])
    assert data["_steprl"]["agent"] == agent.__class__.__name__
    env, fresh = _trained(algorithm, steps=0)
    before = _parameters(fresh)
    fresh.load(path)
    after = _parameters(fresh)
    expected = _parameters(agent)
    assert after.keys() == expected.keys()
    assert all(torch.equal(after[k], expected[k]) for k in expected)
    assert any(not torch.equal(before[k], expected[k]) for k in expected)
    assert fresh.training_steps == agent.training_steps == 8
    opt = fresh._team_of["b"].optimizer.state_dict()["state"]
    assert opt and torch.equal(opt[0]["exp_avg"], agent._team_of["b"].optimizer.state_dict()["state"][0]["exp_avg"])


def test_shared_parameters_round_trip(tmp_path) -> None:
    _, agent = _trained("ippo", share=True)
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    _, fresh = _trained("ippo", share=True, steps=0)
    fresh.load(path)
    expected = _parameters(agent)
    assert all(torch.equal(v, expected[k]) for k, v in _parameters(fresh).items())
    assert fresh.models["a"]["policy"] is fresh.models["b"]["policy"]


def test_periodic_checkpoints_nest_and_separate_files(tmp_path) -> None:
    env = CueWrapper(CueTask(num_envs=2))
    experiment = {"directory": str(tmp_path), "experiment_name": "run", "write_interval": 0, "checkpoint_interval": 4}
    agent = build_agent(env, "mappo", rollouts=4, experiment=experiment)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET}).train()
    directory = tmp_path / "run" / "checkpoints"
    data = torch_load(str(directory / "agent_8.pt"))
    assert set(data["a"]) >= {"policy", "value", "optimizer"}
    experiment = {**experiment, "experiment_name": "separate", "store_separately": True}
    agent = build_agent(env, "mappo", rollouts=4, experiment=experiment)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET}).train()
    names = set(os.listdir(tmp_path / "separate" / "checkpoints"))
    assert {"a_policy_8.pt", "b_value_8.pt", "a_optimizer_8.pt", "b_memory_8.pt"} <= names


def test_bad_files_leave_the_agent_untouched(tmp_path) -> None:
    _, agent = _trained("ippo")
    before = _parameters(agent)
    single = str(tmp_path / "single.pt")
    torch.save({"policy": {}, "value": {}}, single)
    with pytest.raises(CheckpointError, match="not a multi-agent checkpoint"):
        agent.load(single)
    # a checkpoint of agents with other network sizes: 'b' fails after 'a' matched -> nothing is applied
    _, other = _trained("ippo", network={"hidden": [8], "activation": "tanh"}, steps=0)
    path = str(tmp_path / "other.pt")
    other.save(path)
    with pytest.raises(CheckpointError, match="a_policy|a_value"):
        agent.load(path)
    data = torch_load(str(tmp_path / "other.pt"))
    del data["b"]
    torch.save(data, str(tmp_path / "missing.pt"))
    with pytest.raises(CheckpointError, match="b_policy"):
        agent.load(str(tmp_path / "missing.pt"))
    after = _parameters(agent)
    assert all(torch.equal(after[k], before[k]) for k in before)
    mappo = _trained("mappo", steps=0)[1]
    with pytest.raises(CheckpointError, match="IPPO"):
        mappo.load(path)
