"""Two CPU processes (gloo) train PPO as torchrun would launch them: parameters stay identical across ranks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_keep_identical_parameters(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(SCRIPT.format(tests=str(Path(__file__).resolve().parents[1]), run_dir=str(tmp_path / "runs")))
    port = _free_port()
    procs = []
    for rank in range(2):
        env = {**os.environ, "WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank),
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    results.sort(key=lambda r: r["rank"])
    assert [r["seed"] for r in results] == [7, 8]  # seeds offset by rank
    assert all(r["same"] for r in results), "gradients must be averaged and initial parameters broadcast"
    assert results[0]["write_interval"] == 4 and results[0]["checkpoint_interval"] == 8
    assert results[1]["write_interval"] == 0 and results[1]["checkpoint_interval"] == 0  # only rank 0 writes
