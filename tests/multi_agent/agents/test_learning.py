"""IPPO and MAPPO learn the cue task (fixed seed); parameter sharing acts with one policy call per step."""

from __future__ import annotations

import pytest
import torch
from helpers.ma_agents import QUIET, CueTask, CueWrapper, build_agent

from steprl.trainers.torch import ManualTrainer, SequentialTrainer
from steprl.utils import set_seed

RANDOM_RETURN = 8 / 3  # two agents, 4 steps, 1/3 chance each


def _learn(algorithm: str, share: bool, steps: int = 400) -> list[float]:
    torch.set_num_threads(1)
    set_seed(0)
    env = CueWrapper(CueTask(num_envs=8, seed=0))
    agent = build_agent(env, algorithm, share=share, rollouts=16, mini_batches=2, learning_epochs=2)
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    trainer.train()
    return trainer.run_episodes(40, mode="eval")


@pytest.mark.slow
@pytest.mark.parametrize(("algorithm", "share"), [("ippo", False), ("mappo", False), ("mappo", True)])
def test_learns_the_cue_task(algorithm: str, share: bool) -> None:
    returns = _learn(algorithm, share)
    assert len(returns) == 40
    mean = sum(returns) / len(returns)
    assert mean > 7.5, f"{algorithm} (shared={share}) evaluation return {mean:.2f} (random {RANDOM_RETURN:.2f}, best 8)"


def test_same_seed_same_run() -> None:
    assert _learn("mappo", True, steps=64) == _learn("mappo", True, steps=64)


def test_shared_policy_acts_once_per_step_and_trains_once_per_update() -> None:
    env = CueWrapper(CueTask(num_envs=2))
    agent = build_agent(env, "ippo", share=True, rollouts=4, learning_epochs=1, mini_batches=1)
    team = agent._teams[0]
    assert len(agent._teams) == 1 and team.uids == ["a", "b"]
    calls: list[int] = []
    original = team.policy.act

    def act(inputs, role=""):
        calls.append(inputs["states"].shape[0])
        return original(inputs, role)

    team.policy.act = act
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 4, **QUIET})
    before = [p.detach().clone() for p in team.policy.parameters()]
    for _ in range(4):
        actions = trainer.train()
    assert calls[:4] == [4, 4, 4, 4]  # one call per step on both agents' rows (2 agents x 2 copies)
    assert calls[4:] == [16, 16]  # update: old log-probs of the whole rollout, then one minibatch
    assert any(not torch.equal(b, p) for b, p in zip(before, team.policy.parameters()))
    assert set(actions[1]) == {"a", "b"}
    assert agent.checkpoint_modules["a"]["optimizer"] is agent.checkpoint_modules["b"]["optimizer"]


def test_eval_uses_mean_actions_and_writes_no_memory() -> None:
    env = CueWrapper(CueTask(num_envs=2))
    agent = build_agent(env, "mappo", share=True, rollouts=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 4, **QUIET})
    trainer.eval()
    assert agent.memories["a"].memory_index == 0 and not agent.memories["a"].filled
    states = {uid: torch.eye(6)[:2] for uid in ("a", "b")}
    actions, _, outputs = agent.act(states, 0, 1)
    assert set(outputs) == {"a", "b"} and outputs["a"]["mean_actions"].shape == (2, 1)
    assert actions["b"].shape == (2, 1)
