"""Checkpoints: atomic writes, safe loads, a resumable round trip, clear errors for bad files."""

from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest
import torch
from helpers.checkpoint import assert_state_equal
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
    expected = (torch.rand(3), np.random.rand(3), random.random())
    fresh = build(env, rollouts=8, learning_rate_scheduler=KLAdaptiveLR)
    fresh.load(str(path))
    after_plain_load = (torch.rand(3), np.random.rand(3), random.random())
    assert not torch.equal(after_plain_load[0], expected[0]), "a plain load must not touch the process's RNG"
    fresh.load(str(path), resume=True)
    for name in ("policy", "value", "optimizer", "scheduler"):
        assert_state_equal(agent.checkpoint_modules[name].state_dict(), fresh.checkpoint_modules[name].state_dict(), name)
    assert torch.equal(torch.rand(3), expected[0]), "resuming restores torch's RNG"
    assert np.array_equal(np.random.rand(3), expected[1]), "resuming restores NumPy's RNG"
    assert random.random() == expected[2], "resuming restores Python's RNG"
    assert fresh.timestep == agent.timestep == 16 and fresh.training_steps == agent.training_steps == 16
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
    assert trainer.initial_timestep == 8 and fresh.memory.memory_index == 4 and fresh.timestep == 12


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
    with pytest.raises(CheckpointError, match="does not match this PPO agent: 'policy': missing"):
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


def _params(agent) -> list[torch.Tensor]:
    return [p.detach().clone() for p in [*agent.policy.parameters(), *agent.value.parameters()]]


def test_save_stores_the_current_timestep_and_mid_rollout_state(tmp_path):
    agent, env = _trained_agent(tmp_path, steps=13)  # 13 = one rollout of 8 and 5 steps of the next
    path = tmp_path / "agent.pt"
    agent.save(str(path))
    meta = torch.load(path, weights_only=True)["_steprl"]
    assert meta["timestep"] == 13 and meta["training_steps"] == 13 and meta["rollout"] == 13 and meta["agent"] == "PPO"
    fresh = build(env, rollouts=8, learning_rate_scheduler=KLAdaptiveLR)
    fresh.load(str(path))
    assert fresh.timestep == 13 and fresh.memory.memory_index == 5
    states = fresh.memory.get_tensor_by_name("states")
    assert torch.equal(states[:5], agent.memory.get_tensor_by_name("states")[:5])
    truncated = fresh.memory.get_tensor_by_name("truncated")
    assert truncated[4].all(), "the stored episodes cannot continue after a load: their last step counts as truncated"
    trainer = ManualTrainer(env=env, agents=fresh, cfg={"timesteps": 32, **QUIET})
    before = _params(fresh)
    for t in range(13, 15):
        trainer.train(timestep=t)
    assert all(torch.equal(a, b) for a, b in zip(before, _params(fresh)))
    trainer.train(timestep=15)  # the rollout started before the checkpoint ends here: the update runs
    assert not all(torch.equal(a, b) for a, b in zip(before, _params(fresh)))


def test_load_checks_the_agent_class(tmp_path):
    from steprl.agents.torch.a2c import A2C, A2C_DEFAULT_CONFIG
    from steprl.memories.torch import RandomMemory

    agent, env = _trained_agent(tmp_path)
    path = tmp_path / "agent.pt"
    agent.save(str(path))
    cfg = A2C_DEFAULT_CONFIG.copy()
    cfg.update({"rollouts": 8, "experiment": {"write_interval": 0, "checkpoint_interval": 0}})
    other = A2C(models={"policy": agent.policy, "value": agent.value}, memory=RandomMemory(8, env.num_envs),
                observation_space=env.observation_space, action_space=env.action_space, cfg=cfg)
    with pytest.raises(CheckpointError, match="holds a PPO agent; it cannot be loaded into a A2C"):
        other.load(str(path))


def test_load_requires_every_module_and_changes_nothing_on_failure(tmp_path):
    agent, env = _trained_agent(tmp_path)
    path = tmp_path / "agent.pt"
    agent.save(str(path))
    data = torch.load(path, weights_only=True)
    fresh = build(env, rollouts=8, learning_rate_scheduler=KLAdaptiveLR)
    before = _params(fresh)
    policy_only = tmp_path / "policy_only.pt"
    torch.save({"policy": data["policy"], "_steprl": data["_steprl"]}, policy_only)
    with pytest.raises(CheckpointError, match=r"lacks \['optimizer', 'scheduler', 'value'\]"):
        fresh.load(str(policy_only))
    broken = tmp_path / "broken.pt"
    torch.save({**data, "memory": {"shape": [999, 1]}}, broken)  # the memory fails after the models loaded
    with pytest.raises(CheckpointError, match="module 'memory'"):
        fresh.load(str(broken))
    assert all(torch.equal(a, b) for a, b in zip(before, _params(fresh))), "a failed load must leave the agent untouched"
    assert fresh.timestep == 0 and fresh.training_steps == 0


def test_policy_only_agent_loads_a_full_checkpoint(tmp_path):
    from helpers.models import CategoricalPolicy

    from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG

    agent, env = _trained_agent(tmp_path)
    path = tmp_path / "agent.pt"
    agent.save(str(path))
    policy = CategoricalPolicy(env.observation_space, env.action_space, env.device)
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}
    player = PPO(models={"policy": policy}, memory=None, observation_space=env.observation_space,
                 action_space=env.action_space, cfg=cfg)
    player.load(str(path))
    assert all(torch.equal(a, b) for a, b in zip(agent.policy.parameters(), player.policy.parameters()))


def test_newer_format_is_refused(tmp_path):
    agent, env = _trained_agent(tmp_path)
    path = tmp_path / "agent.pt"
    agent.save(str(path))
    data = torch.load(path, weights_only=True)
    data["_steprl"]["format"] = 99
    torch.save(data, path)
    with pytest.raises(CheckpointError, match="format 99"):
        agent.load(str(path))


def test_checkpoint_files_follow_the_umask_and_leave_no_temporary_files(tmp_path):
    agent, _ = _trained_agent(tmp_path)
    stale = tmp_path / ".tmp-crashedagent.pt"
    stale.write_bytes(b"partial")
    mask = os.umask(0o022)
    os.umask(mask)
    agent.save(str(tmp_path / "agent.pt"))
    assert (os.stat(tmp_path / "agent.pt").st_mode & 0o777) == 0o666 & ~mask
    assert not stale.exists()
    assert not [n for n in os.listdir(tmp_path / "run" / "checkpoints") if n.startswith(".tmp-")]
