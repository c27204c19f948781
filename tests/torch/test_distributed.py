"""Two CPU processes (gloo), launched as torchrun would: one SGD step averages the ranks' gradients exactly, and PPO
keeps the parameters identical across ranks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.distributed import LEARNING_RATE, batch_loss, value_model

SCRIPT = r"""
import json, sys
sys.path.insert(0, {tests!r})
import gymnasium as gym, torch
torch.set_num_threads(1)
from helpers.models import CategoricalPolicy, Value
from steprl import config
from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed

seed = set_seed(7)
env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
env.reset(seed=seed)
cfg = PPO_DEFAULT_CONFIG.copy()
cfg.update(rollouts=8, learning_epochs=2, mini_batches=2, experiment={{"directory": {run_dir!r}, "write_interval": 4, "checkpoint_interval": 8}})
models = {{"policy": CategoricalPolicy(env.observation_space, env.action_space), "value": Value(env.observation_space)}}
agent = PPO(models=models, memory=RandomMemory(8, 2), cfg=cfg, observation_space=env.observation_space, action_space=env.action_space)
trainer = ManualTrainer(env=env, agents=agent, cfg={{"timesteps": 32, "headless": True, "disable_progressbar": True}})
for t in range(32):
    trainer.train(timestep=t)
params = torch.cat([p.detach().flatten() for p in agent.policy.parameters()])
gathered = [torch.zeros_like(params) for _ in range(config.torch.world_size)]
torch.distributed.all_gather(gathered, params)
print(json.dumps({{"rank": config.torch.rank, "seed": seed, "same": all(torch.equal(g, gathered[0]) for g in gathered),
                  "write_interval": agent.write_interval, "checkpoint_interval": agent.checkpoint_interval}}))
torch.distributed.barrier()
torch.distributed.destroy_process_group()
"""


AVERAGING_SCRIPT = r"""
import json, sys
sys.path.insert(0, {tests!r})
import torch
torch.set_num_threads(1)
from helpers.agents import RecordingAgent
from helpers.distributed import LEARNING_RATE, batch_loss, value_model
from steprl import config

agent = RecordingAgent()  # starts the process group, as every agent does under torchrun
rank = config.torch.rank
model = value_model(seed=100 + rank)  # ranks start from different weights
model.broadcast_parameters()
params = list(model.parameters())
optimizer = torch.optim.SGD(params, lr=LEARNING_RATE)
agent._optimizer_step(optimizer, batch_loss(model, rank), [model], params)  # backward, all-reduce, step
print(json.dumps({{"rank": rank, "params": [p.detach().flatten().tolist() for p in params]}}))
torch.distributed.barrier()
torch.distributed.destroy_process_group()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(script: str, tmp_path: Path, world_size: int = 2) -> list[dict]:
    """Run ``script`` as ``world_size`` ranks (the torchrun environment variables) and return each rank's last JSON line."""
    path = tmp_path / "worker.py"
    path.write_text(script.format(tests=str(Path(__file__).resolve().parents[1]), run_dir=str(tmp_path / "runs")))
    port = _free_port()
    procs = []
    for rank in range(world_size):
        env = {
            **os.environ,
            "WORLD_SIZE": str(world_size),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return sorted(results, key=lambda r: r["rank"])


@pytest.mark.slow
def test_one_step_applies_the_mean_of_the_ranks_gradients(tmp_path: Path) -> None:
    results = _launch(AVERAGING_SCRIPT, tmp_path)
    model = value_model(seed=100)  # rank 0's initial weights, which the broadcast gives every rank
    start = [p.detach().clone() for p in model.parameters()]
    per_rank = [torch.autograd.grad(batch_loss(model, rank), list(model.parameters())) for rank in range(2)]
    local_only = [p - LEARNING_RATE * g for p, g in zip(start, per_rank[0])]
    expected = [p - LEARNING_RATE * (g0 + g1) / 2 for p, g0, g1 in zip(start, *per_rank)]
    for result in results:
        got = [torch.tensor(values).view_as(p) for values, p in zip(result["params"], start)]
        assert not all(torch.equal(a, b) for a, b in zip(got, start)), "the step must move the parameters"
        assert not all(torch.allclose(a, b) for a, b in zip(got, local_only)), "rank 0's gradients alone were applied"
        for a, b in zip(got, expected):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_two_ranks_keep_identical_parameters(tmp_path: Path) -> None:
    results = _launch(SCRIPT, tmp_path)
    assert [r["seed"] for r in results] == [7, 8]  # seeds offset by rank
    assert all(r["same"] for r in results), "gradients must be averaged and initial parameters broadcast"
    assert results[0]["write_interval"] == 4 and results[0]["checkpoint_interval"] == 8
    assert results[1]["write_interval"] == 0 and results[1]["checkpoint_interval"] == 0  # only rank 0 writes
