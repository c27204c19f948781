"""Postprocessing iterators read the files a real short run writes: exported memories (pt, npz, csv) and the
agent's TensorBoard events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from steprl.envs.wrappers.torch import wrap_env
from steprl.utils.postprocessing import MemoryFileIterator, TensorboardFileIterator
from steprl.utils.runner.torch import Runner

CARTPOLE_PPO = Path(__file__).resolve().parents[1] / "data" / "runner" / "cartpole_ppo.yaml"
ROLLOUTS, NUM_ENVS, STEPS = 8, 2, 24  # three rollouts, so three exported memories


def short_run(tmp_path: Path, export_format: str = "pt", write_interval: int = 4) -> Runner:
    cfg = Runner.load_cfg_from_yaml(CARTPOLE_PPO)
    cfg["memory"].update(export=True, export_format=export_format, export_directory=str(tmp_path / "export"))
    cfg["agent"]["rollouts"] = ROLLOUTS
    cfg["agent"]["experiment"].update(directory=str(tmp_path), experiment_name="run", write_interval=write_interval)
    cfg["trainer"]["timesteps"] = STEPS
    env = gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync")
    env.reset(seed=0)
    runner = Runner(wrap_env(env, verbose=False), cfg)
    runner.run()
    if runner.agent.writer is not None:
        runner.agent.writer.close()
    return runner


def _states(data: dict[str, Any]) -> np.ndarray:
    value = data["states"]
    return value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


@pytest.mark.parametrize("export_format", ["pt", "npz", "csv"])
def test_memory_file_iterator_reads_exported_memories(tmp_path: Path, export_format: str) -> None:
    runner = short_run(tmp_path, export_format, write_interval=0)
    iterator = MemoryFileIterator(str(tmp_path / "export" / "memories" / f"*.{export_format}"))
    assert iter(iterator) is iterator and len(iterator) == STEPS // ROLLOUTS
    files = list(iterator)
    assert len(files) == STEPS // ROLLOUTS
    assert [name for name, _ in files] == sorted(name for name, _ in files)
    name, data = files[-1]
    assert name.endswith(f".{export_format}")
    assert {"states", "actions", "rewards", "terminated", "truncated", "log_prob", "values"} <= set(data)
    states = _states(data)
    if export_format == "csv":  # rows: memory_size * num_envs, columns: the flattened tensor
        assert states.shape == (ROLLOUTS * NUM_ENVS, 4)
        assert isinstance(data["states"], list) and isinstance(data["states"][0][0], float)
    else:
        assert states.shape == (ROLLOUTS, NUM_ENVS, 4)
        assert isinstance(data["states"], torch.Tensor if export_format == "pt" else np.ndarray)
    memory = runner.agent.memory.get_tensor_by_name("states").reshape(-1, 4).cpu().numpy()
    np.testing.assert_allclose(states.reshape(-1, 4), memory, rtol=1e-6)  # the last export is the memory now
    with pytest.raises(StopIteration):
        next(iterator)


def test_memory_file_iterator_rejects_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a memory")
    with pytest.raises(ValueError, match=r"Unsupported memory file .*notes.txt.*\.pt, \.npz, \.csv"):
        next(MemoryFileIterator(str(tmp_path / "*.txt")))
    assert list(MemoryFileIterator(str(tmp_path / "*.pt"))) == []


def test_tensorboard_file_iterator_reads_the_agents_scalars(tmp_path: Path) -> None:
    short_run(tmp_path)
    tags = ["Loss / Policy loss", "Reward / Instantaneous reward (mean)"]
    files = list(TensorboardFileIterator(str(tmp_path / "run" / "events.out.tfevents.*"), tags))
    assert len(files) == 1
    directory, data = files[0]
    assert directory == "run"
    assert set(data) == set(tags)
    steps = [step for step, _ in data["Reward / Instantaneous reward (mean)"]]
    assert steps == sorted(steps) and steps[0] == 4 and len(steps) == STEPS // 4
    rewards = [value for _, value in data["Reward / Instantaneous reward (mean)"]]
    assert rewards == [1.0] * len(rewards)  # CartPole's reward, tracked before rewards_shaper_scale (0.1) shapes it
    one_tag = list(TensorboardFileIterator(str(tmp_path / "run" / "events.out.tfevents.*"), "Loss / Policy loss"))
    assert set(one_tag[0][1]) == {"Loss / Policy loss"}
    assert one_tag[0][1]["Loss / Policy loss"] == data["Loss / Policy loss"]
