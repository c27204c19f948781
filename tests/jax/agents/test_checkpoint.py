"""JAX checkpoints: msgpack payload + JSON header, atomic, no pickle. A resumed agent holds exactly the saved state
(parameters, both optimizers, preprocessors, PRNG key and counters, the partial rollout) and continues identically;
damaged, foreign, torch and pickle files give a CheckpointError and leave the agent untouched."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.jax_agents import QUIET, build_agent, counting_env, pendulum_env

from steprl import config
from steprl.agents.jax.a2c import A2C, A2C_DEFAULT_CONFIG
from steprl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.backends.jax_checkpoint import MAGIC
from steprl.core.agent import META_KEY
from steprl.core.checkpoint import CheckpointError
from steprl.resources.preprocessors.jax import RunningStandardScaler
from steprl.trainers.jax import ManualTrainer

CFG = {
    "learning_epochs": 2,
    "mini_batches": 2,
    "state_preprocessor": RunningStandardScaler,
    "state_preprocessor_kwargs": {"size": 3},
    "value_preprocessor": RunningStandardScaler,
    "value_preprocessor_kwargs": {"size": 1},
}


def _trained(seed: int, steps: int = 20, **cfg: Any) -> Any:
    config.jax.key = seed
    env = counting_env(2)
    agent = build_agent(PPO, PPO_DEFAULT_CONFIG, env, **{**CFG, **cfg})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for timestep in range(steps):
        trainer.train(timestep=timestep)
    return agent


def _state(agent: Any) -> dict:
    return agent._checkpoint_dict(agent.timestep)


def test_resume_restores_everything_and_continues_identically(tmp_path: Path) -> None:
    saved = _trained(seed=1)  # two updates and a partial rollout
    path = tmp_path / "agent.ckpt"
    saved.save(str(path))
    assert path.read_bytes().startswith(MAGIC)
    names = set(_state(saved)) - {META_KEY}
    assert names == {"policy", "value", "policy_optimizer", "value_optimizer", "state_preprocessor",
                     "value_preprocessor", "memory"}  # fmt: skip

    resumed = _trained(seed=2, steps=4)
    resumed.load(str(path), resume=True)
    saved.interrupt_episodes()  # a resumed rollout cannot continue its episodes: its last step counts as truncated
    assert_state_equal(_state(saved), _state(resumed))
    states = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    for mode in ("train", "eval"):
        saved.set_running_mode(mode)
        resumed.set_running_mode(mode)
        np.testing.assert_array_equal(saved.act(states, 0, 1)[0], resumed.act(states, 0, 1)[0])
    saved._update(0, 1)
    resumed._update(0, 1)
    assert_state_equal(_state(saved), _state(resumed))


def test_plain_load_keeps_the_agents_own_random_state(tmp_path: Path) -> None:
    saved = _trained(seed=1)
    saved.save(str(tmp_path / "agent.ckpt"))
    other = _trained(seed=2, steps=4)
    key = np.asarray(other._key)
    other.load(str(tmp_path / "agent.ckpt"))
    np.testing.assert_array_equal(np.asarray(other._key), key)
    assert_state_equal(_state(saved)["policy"], _state(other)["policy"])


def test_periodic_and_best_checkpoints_are_written(tmp_path: Path) -> None:
    agent = _trained(seed=3, steps=16, experiment={"directory": str(tmp_path), "experiment_name": "run",
                                                   "checkpoint_interval": 8, "write_interval": 8})  # fmt: skip
    directory = tmp_path / "run" / "checkpoints"
    files = sorted(p.name for p in directory.iterdir())
    assert "agent_8.ckpt" in files and "agent_16.ckpt" in files and "best_agent.ckpt" in files
    assert all((directory / name).read_bytes().startswith(MAGIC) for name in files)
    agent.load(str(directory / "agent_16.ckpt"))


def _damaged(tmp_path: Path, good: Path) -> dict[str, tuple[Path, str]]:
    raw = good.read_bytes()
    cases = {
        "empty": (b"", "empty"),
        "truncated": (raw[:-10], "truncated"),
        "corrupt": (raw[:-5] + bytes([raw[-5] ^ 0xFF]) + raw[-4:], "checksum"),
        "header": (raw[:8] + raw[8:16] + b"{not json" + raw[25:], "corrupt header"),
        "foreign": (b"hello world, not a checkpoint", "not a steprl JAX checkpoint"),
        "pickle": (pickle.dumps({"policy": 1}), "refuses to unpickle"),
    }
    out = {}
    for name, (data, message) in cases.items():
        path = tmp_path / f"{name}.pt"
        path.write_bytes(data)
        out[name] = (path, message)
    torch_path = tmp_path / "torch.pt"
    torch.save({"policy": {"w": torch.zeros(2)}}, torch_path)
    out["torch"] = (torch_path, "PyTorch checkpoint")
    return out


def test_damaged_foreign_and_torch_files_are_refused_and_change_nothing(tmp_path: Path) -> None:
    agent = _trained(seed=4, steps=10)
    good = tmp_path / "good.ckpt"
    agent.save(str(good))
    before = _state(agent)
    for name, (path, message) in _damaged(tmp_path, good).items():
        with pytest.raises(CheckpointError, match=message):
            agent.load(str(path), resume=True)
        assert_state_equal(before, _state(agent), name)
    with pytest.raises(FileNotFoundError):
        agent.load(str(tmp_path / "missing.pt"))


def test_checkpoints_of_other_agents_or_shapes_are_refused(tmp_path: Path) -> None:
    agent = _trained(seed=5, steps=10)
    before = _state(agent)
    config.jax.key = 6
    a2c = build_agent(A2C, A2C_DEFAULT_CONFIG, counting_env(2), mini_batches=2)
    a2c.save(str(tmp_path / "a2c.ckpt"))
    with pytest.raises(CheckpointError, match="holds a A2C agent"):
        agent.load(str(tmp_path / "a2c.ckpt"))
    gaussian = build_agent(PPO, PPO_DEFAULT_CONFIG, pendulum_env(2), **CFG)  # same sizes, a log_std more
    gaussian.save(str(tmp_path / "gaussian.pt"))
    with pytest.raises(CheckpointError, match="does not match"):
        agent.load(str(tmp_path / "gaussian.pt"))
    assert_state_equal(before, _state(agent))
    assert jax.tree_util.tree_structure(before) == jax.tree_util.tree_structure(_state(agent))
