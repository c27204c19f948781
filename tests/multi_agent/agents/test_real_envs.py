"""IPPO/MAPPO on the real wrappers: PettingZoo simple_spread (copies stepped as a batch) and VMAS navigation."""

from __future__ import annotations

import pytest
import torch
from helpers.ma_agents import QUIET, build_agent

from steprl.envs.wrappers.torch import wrap_env
from steprl.trainers.torch import SequentialTrainer


def test_simple_spread_episodes_and_updates() -> None:
    mpe2 = pytest.importorskip("mpe2")
    from mpe2 import simple_spread_v3

    del mpe2
    env = wrap_env(
        [simple_spread_v3.parallel_env(N=3, max_cycles=5, continuous_actions=False) for _ in range(2)], verbose=False
    )
    env.reset(seed=0)
    agent = build_agent(env, "mappo", share=True, rollouts=5, learning_epochs=1, mini_batches=1)
    policy = [p.detach().clone() for p in agent._teams[0].policy.parameters()]
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 10, **QUIET})
    trainer.train()
    assert any(not torch.equal(a, b) for a, b in zip(policy, agent._teams[0].policy.parameters()))  # 2 updates ran
    returns = trainer.episode_returns("train")
    assert len(returns) == 4  # 2 copies x 2 episodes of 5 cycles
    per_agent = sum(sum(trainer.episode_returns("train", agent=uid)) for uid in env.possible_agents)
    assert sum(returns) == pytest.approx(per_agent, rel=1e-5)
    stored = agent.memories["agent_1"].get_tensor_by_name("shared_states")
    assert stored.shape == (5, 2, 54)  # the global state (3 agents' observations side by side)
    truncated = agent.memories["agent_0"].get_tensor_by_name("truncated")
    assert truncated[-1].all() and not truncated[:-1].any()  # each 5-cycle episode ends at the rollout's last row


def test_vmas_navigation_steps_on_device_tensors() -> None:
    pytest.importorskip("vmas")
    import vmas

    env = wrap_env(
        vmas.make_env("navigation", num_envs=4, device="cpu", continuous_actions=True, n_agents=2, seed=0),
        verbose=False,
    )
    agent = build_agent(env, "mappo", share=True, rollouts=4, learning_epochs=1, mini_batches=1)
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET})
    trainer.train()
    assert agent.memories[env.possible_agents[0]].get_tensor_by_name("actions").shape[-1] == 2
    assert agent.training_steps == 8
