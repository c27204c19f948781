"""Checkpoints: atomic writes, safe loads, a resumable round trip, clear errors for bad files."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from helpers.envs import counting_vec
from helpers.ppo import QUIET, build

from steprl.backends.torch_checkpoint import torch_load
from steprl.core.checkpoint import CheckpointError, atomic_write
from steprl.envs.wrappers.torch import wrap_env
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.trainers.torch import ManualTrainer


def _trained_agent(tmp_path, steps=16):
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=8, learning_rate_scheduler=KLAdaptiveLR,
                  experiment={"directory": str(tmp_path), "experiment_name": "run", "write_interval": 0, "checkpoint_interval": 8})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for t in range(steps):
        trainer.train(timestep=t)
    return agent, env


def test_periodic_checkpoints_are_written(tmp_path):
    _trained_agent(tmp_path)
    files = sorted(os.listdir(tmp_path / "run" / "checkpoints"))
    assert files == ["agent_16.pt", "agent_8.pt"]


def test_round_trip_restores_everything(tmp_path):
    agent, env = _trained_agent(tmp_path)
    path = tmp_path / "agent.pt"
    agent.save(str(path))
    expected_rng = torch.rand(3)
    fresh = build(env, rollouts=8, learning_rate_scheduler=KLAdaptiveLR)
    fresh.load(str(path))
    for a, b in zip(agent.policy.parameters(), fresh.policy.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(agent.value.parameters(), fresh.value.parameters()):
        assert torch.equal(a, b)
    state_a, state_b = agent.optimizer.state_dict(), fresh.optimizer.state_dict()
    assert state_a["param_groups"][0]["lr"] == state_b["param_groups"][0]["lr"]
    for key in state_a["state"]:
        assert torch.equal(state_a["state"][key]["exp_avg"], state_b["state"][key]["exp_avg"])
    assert fresh.scheduler.state_dict() == agent.scheduler.state_dict()
    assert torch.equal(torch.rand(3), expected_rng), "RNG state must be restored"
    data = torch.load(path, weights_only=True)
    assert set(data) >= {"policy", "value", "optimizer", "scheduler", "_steprl"}


def test_checkpoint_timestep_resumes_sequential_trainer(tmp_path):
    agent, env = _trained_agent(tmp_path)
    from steprl.trainers.torch import SequentialTrainer

    fresh = build(env, rollouts=8, learning_rate_scheduler=KLAdaptiveLR)
    fresh.load(str(tmp_path / "run" / "checkpoints" / "agent_8.pt"))
    assert fresh.checkpoint_timestep == 8
    trainer = SequentialTrainer(env=env, agents=fresh, cfg={"timesteps": 12, **QUIET})
    trainer.train()
    assert trainer.initial_timestep == 8 and len(fresh.memory) == 4 * 2


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "pickle", "foreign", "list"])
def test_bad_files_give_clear_errors(tmp_path, kind):
    agent, env = _trained_agent(tmp_path)
    good = tmp_path / "good.pt"
    agent.save(str(good))
    bad = tmp_path / "bad.pt"
    if kind == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "garbage":
        bad.write_bytes(os.urandom(2048))
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "pickle":
        class Evil:
            def __reduce__(self):
                return (os.system, ("echo pwned",))

        with open(bad, "wb") as f:
            torch.save({"policy": Evil()}, f, pickle_module=pickle)
    elif kind == "foreign":
        torch.save({"weights": torch.zeros(3)}, bad)
    else:
        torch.save([1, 2, 3], bad)
    with pytest.raises(CheckpointError, match=str(bad.name)):
        agent.load(str(bad))


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="Checkpoint not found"):
        torch_load("/nonexistent/agent.pt")


def test_mismatched_module_is_reported(tmp_path):
    agent, env = _trained_agent(tmp_path)
    path = tmp_path / "agent.pt"
    agent.save(str(path))
    data = torch.load(path, weights_only=True)
    data["policy"] = {"net.0.weight": torch.zeros(1, 1)}
    torch.save(data, path)
    with pytest.raises(CheckpointError, match="module 'policy' does not match"):
        agent.load(str(path))


def test_atomic_write_leaves_previous_file_on_failure(tmp_path):
    path = tmp_path / "file.bin"
    atomic_write(path, lambda f: f.write(b"old"))

    def failing(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, failing)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["file.bin"]
