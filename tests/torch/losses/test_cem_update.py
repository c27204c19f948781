"""CEM: the loss and the elite selection against hand-computed cases, and the update is exactly one cross-entropy
step on the elite episodes' steps (without the optimizer step, or with the wrong steps, the policy differs)."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import pytest
import torch
from helpers.loss_cases import CEM_LOSS_CASE, SELECT_ELITE_CASE
from helpers.models import CategoricalPolicy
from helpers.ppo import NO_LOGS

from steprl.agents.torch.cem import CEM
from steprl.agents.torch.cem.losses import cem_loss, select_elite
from steprl.memories.torch import RandomMemory

OBS = gym.spaces.Box(-1e6, 1e6, (3,))
ACT = gym.spaces.Discrete(2)


def test_cem_loss() -> None:
    log_prob = torch.tensor(CEM_LOSS_CASE["log_prob"], requires_grad=True)
    loss = cem_loss(log_prob)
    loss.backward()
    assert loss.item() == pytest.approx(CEM_LOSS_CASE["expected"])
    assert log_prob.grad.tolist() == pytest.approx([-1.0 / 3] * 3)


def test_select_elite_hand_case() -> None:
    case = SELECT_ELITE_CASE
    raw = case["inputs"]
    selection = select_elite(
        torch.tensor(raw["env_ids"]),
        torch.tensor(raw["rewards"]),
        torch.tensor(raw["dones"]),
        torch.tensor(raw["cuts"]),
        **case["kwargs"],
    )
    expected = case["expected"]
    assert selection.threshold.item() == pytest.approx(expected["threshold"])
    for name in ("episode_ids", "returns", "complete", "elite", "elite_steps", "tail_steps"):
        assert getattr(selection, name).tolist() == expected[name], name


def test_select_elite_without_complete_episodes() -> None:
    selection = select_elite(
        torch.zeros(2, dtype=torch.long),
        torch.ones(2),
        torch.zeros(2, dtype=torch.bool),
        torch.zeros(2, dtype=torch.bool),
        0.9,
        0.5,
    )
    assert torch.isnan(selection.threshold) and selection.elite.tolist() == [False]
    assert selection.tail_steps.tolist() == [True, True]


def test_select_elite_of_an_empty_stream() -> None:
    empty = torch.zeros(0)
    none = torch.zeros(0, dtype=torch.bool)
    selection = select_elite(torch.zeros(0, dtype=torch.long), empty, none, none, 0.9, 0.5)
    assert selection.returns.shape == (0,) and selection.elite.shape == (0,) and selection.elite_steps.shape == (0,)


def _rollout(agent: CEM) -> None:
    """Two 4-step episodes: env 0 takes action 1 with reward 1 (return 4, elite at percentile 0.5), env 1 takes
    action 0 with reward 0 (return 0)."""
    for t in range(4):
        states = torch.tensor([[t, 0, 1.0], [t, 1, -1.0]])
        done = torch.full((2, 1), t == 3)
        agent.record_transition(
            states=states,
            actions=torch.tensor([[1], [0]]),
            rewards=torch.tensor([[1.0], [0.0]]),
            next_states=states + 1,
            terminated=done,
            truncated=torch.zeros(2, 1, dtype=torch.bool),
            infos={},
            timestep=t,
            timesteps=100,
        )
        agent.post_interaction(timestep=t, timesteps=100)


def test_update_is_one_cross_entropy_step_on_the_elite_steps() -> None:
    torch.manual_seed(0)
    policy = CategoricalPolicy(OBS, ACT)
    agent = CEM(
        models={"policy": policy},
        memory=RandomMemory(memory_size=4, num_envs=2),
        cfg={"rollouts": 4, "percentile": 0.5, "learning_rate": 0.05, "experiment": dict(NO_LOGS)},
        observation_space=OBS,
        action_space=ACT,
    )
    agent.init({"timesteps": 100})
    agent.set_running_mode("train")
    reference = copy.deepcopy(policy)
    elite_states = torch.tensor([[t, 0, 1.0] for t in range(4)])

    def elite_log_prob(model: Any) -> torch.Tensor:
        return model.act({"states": elite_states, "taken_actions": torch.ones(4, 1, dtype=torch.long)}, role="policy")[
            1
        ]

    before = elite_log_prob(reference).detach()
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.05)
    loss = -elite_log_prob(reference).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    _rollout(agent)
    for ours, expected in zip(policy.parameters(), reference.parameters()):
        torch.testing.assert_close(ours, expected, rtol=1e-6, atol=1e-7)
    with torch.no_grad():
        assert (elite_log_prob(policy) > before).all()  # toward the elite action
