"""``steprl.core`` is backend-neutral: it imports neither torch nor jax and runs a whole loop on NumPy arrays."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import steprl.core

CORE = Path(steprl.core.__file__).parent

SCRIPT = r"""
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "jax", "jaxlib", "flax"):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, Block())

import numpy as np
from steprl.core.agent import Agent
from steprl.core.trainer import ManualTrainer, SequentialTrainer

class Env:
    num_envs = 2
    def __init__(self):
        self.t = np.zeros(2, dtype=np.int64)
    def reset(self):
        self.t[:] = 0
        return np.zeros((2, 1), dtype=np.float32), {}
    def step(self, actions):
        assert actions.shape == (2, 1)
        self.t += 1
        done = (self.t >= 3).reshape(2, 1)
        self.t[done.reshape(-1)] = 0
        return self.t.reshape(2, 1).astype(np.float32), np.ones((2, 1), np.float32), done, np.zeros((2, 1), bool), {}
    def render(self):
        pass
    def close(self):
        pass

class CountingAgent(Agent):
    def __init__(self):
        super().__init__(models={}, cfg={"random_timesteps": 2, "learning_starts": 3,
                                         "experiment": {"write_interval": 0, "checkpoint_interval": 0}})
        self.explored, self.learned = [], []
    def act(self, states, timestep, timesteps):
        self.explored.append(self._exploring())
        return np.zeros((states.shape[0], 1), np.float32), None, {}
    def _train_step(self, timestep, timesteps):
        self.learned.append(self._learning_started())

agent = CountingAgent()
trainer = ManualTrainer(env=Env(), agents=agent, cfg={"timesteps": 6, "headless": True, "disable_progressbar": True,
                                                      "close_environment_at_exit": False})
for t in range(100, 106):  # the caller's numbering never shifts the agent's own counting
    trainer.train(timestep=t)
trainer.eval()
assert agent.explored == [True, True, False, False, False, False, False], agent.explored
assert agent.learned == [False, False, False, True, True, True], agent.learned
assert agent.training_steps == 6
assert trainer.episode_returns("train") == [3.0] * 4, trainer.episode_returns("train")
assert not any(name.split(".")[0] in ("torch", "jax") for name in sys.modules)
SequentialTrainer(env=Env(), agents=CountingAgent(), cfg={"timesteps": 4, "headless": True, "disable_progressbar": True}).train()
print("OK")
"""


def test_core_sources_import_no_torch_or_jax() -> None:
    pattern = re.compile(r"^\s*(import|from)\s+(torch|jax|flax)\b", re.MULTILINE)
    offenders = [p.name for p in CORE.glob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_core_runs_a_numpy_loop_with_torch_unavailable() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("OK")
