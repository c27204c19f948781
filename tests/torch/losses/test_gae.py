"""GAE: the hand-computed cases, and inside the rollout agents, advantages that stop at a truncation."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers.envs import ConstantEnv
from helpers.loss_cases import GAE_CASES
from helpers.models import CategoricalPolicy, Value
from helpers.ppo import NO_LOGS, QUIET

from steprl.agents.torch.a2c import A2C, A2C_DEFAULT_CONFIG
from steprl.agents.torch.gae import compute_gae
from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.agents.torch.trpo import TRPO, TRPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer


@pytest.mark.parametrize("case", GAE_CASES, ids=[c["id"] for c in GAE_CASES])
@pytest.mark.parametrize("trailing_one", [False, True], ids=["TN", "TN1"])
def test_hand_computed_cases(case: dict[str, Any], trailing_one: bool) -> None:
    shape = (len(case["inputs"]["rewards"]), len(case["inputs"]["rewards"][0])) + ((1,) if trailing_one else ())
    inputs = {k: torch.tensor(v).view(shape) for k, v in case["inputs"].items()}
    returns, advantages = compute_gae(**inputs, **case["kwargs"])
    assert returns.shape == advantages.shape == shape
    np.testing.assert_allclose(advantages.view(shape[:2]).numpy(), case["expected"]["advantages"], rtol=1e-6)
    np.testing.assert_allclose(returns.view(shape[:2]).numpy(), case["expected"]["returns"], rtol=1e-6)


def test_default_discount_and_lambda() -> None:
    """γ = 0.99, λ = 0.95 when not given: A_0 = δ_0 + γλ·δ_1 with δ = r (zero values)."""
    zeros = torch.zeros(2, 1)
    flags = torch.zeros(2, 1, dtype=torch.bool)
    _, advantages = compute_gae(torch.ones(2, 1), zeros, zeros, flags, flags)
    assert advantages.view(-1).tolist() == pytest.approx([1.0 + 0.99 * 0.95, 1.0])


# --------------------------------------------------------------------------------------------- inside an agent
GAMMA, LAMBDA, VALUE = 0.5, 0.5, 1.0
# ConstantEnv: reward 1 every step, truncated every 3 steps; the value model outputs VALUE everywhere, so every
# step (truncation bootstraps from V = 1) has δ = 1 + 0.5·1 - 1 = 0.5 and, within each 3-step episode,
# A = [0.5 + .25·0.625, 0.5 + .25·0.5, 0.5]. Chaining across the truncation would give A_2 = 0.5 + .25·A_3;
# treating it as a termination would give A_2 = 1 - 1 = 0.
RAW_ADVANTAGES = [0.65625, 0.625, 0.5] * 2


def _constant_env() -> ConstantEnv:
    """Truncated every 3 steps; its spaces are seeded (the vector env copies their generators)."""
    env = ConstantEnv(limit=3)
    env.action_space.seed(0)
    env.observation_space.seed(0)
    return env


def _constant_value(observation_space: Any) -> Value:
    value = Value(observation_space)
    with torch.no_grad():
        value.net[-1].weight.zero_()
        value.net[-1].bias.fill_(VALUE)
    return value


AGENTS = {"PPO": (PPO, PPO_DEFAULT_CONFIG), "A2C": (A2C, A2C_DEFAULT_CONFIG), "TRPO": (TRPO, TRPO_DEFAULT_CONFIG)}


@pytest.mark.parametrize("name", list(AGENTS))
def test_agent_advantages_stop_at_truncations(name: str) -> None:
    cls, defaults = AGENTS[name]
    env = wrap_env(gym.vector.SyncVectorEnv([_constant_env]), verbose=False)
    cfg = defaults.copy()
    cfg.update(rollouts=6, mini_batches=1, discount_factor=GAMMA, experiment=dict(NO_LOGS), **{"lambda": LAMBDA})
    models = {
        "policy": CategoricalPolicy(env.observation_space, env.action_space),
        "value": _constant_value(env.observation_space),
    }
    agent = cls(
        models=models,
        memory=RandomMemory(memory_size=6, num_envs=1),
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 6, **QUIET})
    for t in range(6):
        trainer.train(timestep=t)
    assert agent.memory.get_tensor_by_name("truncated").view(-1).tolist() == [False, False, True] * 2
    raw = np.array(RAW_ADVANTAGES)
    expected = (raw - raw.mean()) / (raw.std(ddof=1) + 1e-8)  # the agents normalise the advantages
    np.testing.assert_allclose(agent.memory.get_tensor_by_name("advantages").view(-1).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(agent.memory.get_tensor_by_name("returns").view(-1).numpy(), raw + VALUE, rtol=1e-6)
