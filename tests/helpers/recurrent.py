"""Recurrent-agent test helpers: the cue-memory task, its training run and a checkpoint round-trip check."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from helpers.checkpoint import assert_state_equal
from helpers.envs import counting_vec
from helpers.models import CategoricalPolicy, Value
from helpers.ppo import NO_LOGS, QUIET
from helpers.rnn_models import GRUPolicy, GRUShared, GRUValue
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed


class CueEnv(gym.Env):
    """The first observation shows a cue (+1/-1), later ones are 0; only the action at step 3 is rewarded:
    +1 if it matches the cue (action 1 for +1, action 0 for -1), else -1. A memoryless policy earns 0 on average.
    """

    def __init__(self, seed: int = 0) -> None:
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.rng = np.random.default_rng(seed)
        self.t = 0
        self.cue = 1.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        self.cue = 1.0 if self.rng.random() < 0.5 else -1.0
        return np.array([self.cue], dtype=np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        done = self.t >= 3
        reward = (1.0 if (int(action) == 1) == (self.cue > 0) else -1.0) if done else 0.0
        return np.zeros(1, dtype=np.float32), reward, done, False, {}


def build_recurrent(agent_class: type, defaults: dict, env: Any, rollouts: int = 8, sequence_length: int = 4,
                    value: str = "gru", policy: str = "gru", **cfg_updates: Any) -> Any:
    """A recurrent agent (``PPO_RNN``/``A2C_RNN``) on ``env``: GRU policy and value (``value="mlp"``: a feed-forward
    value; ``policy="shared"``: one GRU model for both roles), a rollout memory, logging off."""
    n = env.num_envs
    cfg = defaults.copy()
    cfg.update(rollouts=rollouts, experiment=dict(NO_LOGS))
    cfg.update(cfg_updates)
    if policy == "shared":
        models = {"policy": GRUShared(env.observation_space, env.action_space, n, sequence_length=sequence_length)}
        models["value"] = models["policy"]
    else:
        models = {
            "policy": GRUPolicy(env.observation_space, env.action_space, n, hidden=16, sequence_length=sequence_length),
            "value": GRUValue(env.observation_space, None, n, hidden=16, sequence_length=sequence_length)
            if value == "gru"
            else Value(env.observation_space),
        }
    return agent_class(models=models, memory=RandomMemory(rollouts, n), cfg=cfg,
                       observation_space=env.observation_space, action_space=env.action_space)


def cue_run(agent_class: type, cfg: dict, recurrent: bool, steps: int = 360, num_envs: int = 16, seed: int = 0) -> float:
    """Train ``agent_class`` (GRU models if ``recurrent``, else feed-forward ones) on the cue-memory task with ``cfg``
    (rollouts 12) and return the mean deterministic evaluation return (1: remembers the cue, 0: chance)."""
    set_seed(seed)
    env = wrap_env(gym.vector.SyncVectorEnv([lambda i=i: CueEnv(seed + 100 * i) for i in range(num_envs)]), verbose=False)
    if recurrent:
        models = {"policy": GRUPolicy(env.observation_space, env.action_space, num_envs, hidden=16, sequence_length=4),
                  "value": GRUValue(env.observation_space, None, num_envs, hidden=16, sequence_length=4)}
    else:
        models = {"policy": CategoricalPolicy(env.observation_space, env.action_space), "value": Value(env.observation_space)}
    agent = agent_class(models=models, memory=RandomMemory(12, num_envs), cfg={**cfg, "experiment": dict(NO_LOGS)},
                        observation_space=env.observation_space, action_space=env.action_space)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for t in range(steps):
        trainer.train(timestep=t)
    returns = []
    for _ in range(3 * 20):  # 20 evaluation episodes per env (deterministic actions)
        _, rewards, terminated, truncated, _ = trainer.eval()
        returns.append(rewards[terminated | truncated])
    return torch.cat(returns).mean().item()


def assert_checkpoint_round_trip(build_agent, tmp_path) -> None:  # noqa: ANN001
    """A recurrent agent saved after a rollout loads into a fresh one: same weights, same optimizer, same outputs."""
    torch.manual_seed(3)
    env = wrap_env(counting_vec(3), verbose=False)
    agent = build_agent(env, rollouts=8)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET})
    for _ in range(8):
        trainer.train()
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    torch.manual_seed(4)
    other = build_agent(env, rollouts=8)
    assert not all(torch.equal(a, b) for a, b in zip(agent.policy.parameters(), other.policy.parameters()))
    other.load(path)
    for name in ("policy", "value", "optimizer"):
        assert_state_equal(agent.checkpoint_modules[name].state_dict(), other.checkpoint_modules[name].state_dict(), name)
    states = torch.randn(3, 3)
    hidden = [torch.randn(1, 3, 16)]
    with torch.no_grad():
        logits_a = agent.policy.act({"states": states, "rnn": hidden}, role="policy")[2]["net_output"]
        logits_b = other.policy.act({"states": states, "rnn": hidden}, role="policy")[2]["net_output"]
    torch.testing.assert_close(logits_a, logits_b, rtol=0, atol=0)
