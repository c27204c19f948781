"""The multi-agent boundary contract through the trainers: no recorded transition spans an episode boundary,
truncation gives the true final observation and state, only the finished sub-environment resets, episode
statistics per sub-environment (summed over agents and per agent), evaluation uses mean actions and learns nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.ma_envs import ParallelCountingEnv, RecordingMultiAgent

from steprl.envs.wrappers.torch import PettingZooWrapper
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
LENGTHS = ({"a": 2, "b": 3}, {"a": 4, "b": 4}, {"a": 1, "b": 5})  # per copy: the episode ends with its last agent


def batched(truncate: bool = True) -> PettingZooWrapper:
    return PettingZooWrapper(
        [ParallelCountingEnv(lengths, tag=i, truncate=truncate) for i, lengths in enumerate(LENGTHS)]
    )


def run(steps: int, truncate: bool = True) -> tuple[ManualTrainer, RecordingMultiAgent, PettingZooWrapper]:
    env = batched(truncate)
    agent = RecordingMultiAgent(env.possible_agents)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for _ in range(steps):
        trainer.train()
    return trainer, agent, env


@pytest.mark.parametrize("truncate", [True, False])
def test_no_recorded_transition_spans_an_episode_boundary(truncate: bool) -> None:
    _, agent, _ = run(12, truncate)
    for step in agent.transitions:
        for uid, states in step["states"].items():
            nxt = step["next_states"][uid]
            assert torch.equal(nxt[:, 0], states[:, 0]), "episode id changed inside a transition"
            assert torch.equal(nxt[:, 3], states[:, 3])  # same copy
            done_before = states[:, 1] >= torch.tensor([LENGTHS[int(c)][uid] for c in states[:, 3]])
            # an agent still playing advances one step; one that already finished keeps its final observation
            expected = torch.where(done_before, states[:, 1], states[:, 1] + 1)
            assert torch.equal(nxt[:, 1], expected)


def test_truncation_gives_the_true_final_observation_and_state_and_resets_only_that_copy() -> None:
    _, agent, _ = run(6)
    third = agent.transitions[2]  # copy 0's episode (length 3) ends here; copies 1 and 2 go on
    assert third["truncated"]["b"][:, 0].tolist() == [True, False, False]
    assert third["next_states"]["b"][0].tolist() == [0, 3, 1, 0]  # the final observation, not a reset one
    assert third["infos"]["shared_next_states"][0].tolist() == [0, 3, 0]  # the final state
    fourth = agent.transitions[3]
    assert fourth["states"]["b"][:, :2].tolist() == [[1, 0], [0, 3], [0, 3]]  # only copy 0 restarted
    assert fourth["infos"]["shared_states"][:, :2].tolist() == [[1, 0], [0, 3], [0, 3]]
    assert fourth["states"]["a"][0, :2].tolist() == [1, 0]  # the agent that finished first is back too


def test_episode_statistics_per_sub_environment_summed_and_per_agent() -> None:
    trainer, _, _ = run(8)
    # reward per step: a -> 2 (action 1 + 1), b -> 12; copy 0 ends after 3 steps, copy 1 after 4, copy 2 after 5
    assert trainer.episode_env_ids() == [0, 1, 2, 0, 1]
    assert trainer.episode_lengths() == [3, 4, 5, 3, 4]
    np.testing.assert_allclose(trainer.episode_returns(), [2 * 2 + 3 * 12, 4 * 14, 1 * 2 + 5 * 12, 40, 56])
    np.testing.assert_allclose(trainer.episode_returns(agent="a"), [4, 8, 2, 4, 8])
    np.testing.assert_allclose(trainer.episode_returns(agent="b"), [36, 48, 60, 36, 48])
    with pytest.raises(ValueError, match=r"agent must be one of the environment's agents \['a', 'b'\]"):
        trainer.episode_returns(agent="c")


def test_single_copy_resets_when_its_last_agent_leaves() -> None:
    env = PettingZooWrapper(ParallelCountingEnv({"a": 1, "b": 2}))
    agent = RecordingMultiAgent(env.possible_agents)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 4, **QUIET})
    next_states, rewards, *_ = trainer.train()
    assert set(rewards) == {"a", "b"}
    next_states, rewards, terminated, truncated, infos = trainer.train()  # only "b" acts; returns dicts of "b"
    assert set(next_states) == set(rewards) == {"b"} and bool(terminated["b"])
    assert set(agent.transitions[1]["actions"]) == {"b"}
    trainer.train()
    assert agent.transitions[2]["states"]["a"][0, :2].tolist() == [1, 0]
    assert trainer.episode_returns() == [2 + 12 + 12]
    assert trainer.episode_returns(agent="a") == [2.0]


def test_evaluation_uses_mean_actions_learns_nothing_and_keeps_its_own_episodes() -> None:
    env = batched()
    agent = RecordingMultiAgent(env.possible_agents)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 10, **QUIET})
    for _ in range(2):
        trainer.train()
    posts = agent.posts
    for _ in range(3):
        trainer.eval()
    assert agent.posts == posts  # no learning step in evaluation
    evaluation = agent.transitions[2:]
    assert all(not t["training"] for t in evaluation)
    assert all(int(t["actions"][uid].abs().sum()) == 0 for t in evaluation for uid in t["actions"])
    assert evaluation[0]["states"]["a"][:, :2].tolist() == [[1, 0], [1, 0], [1, 0]]  # fresh episodes for eval
    assert trainer.episode_returns("eval") == [2 * 1 + 3 * 11]  # rewards with action 0: a -> 1, b -> 11
    assert trainer.episode_returns("train") == []


def test_sequential_trainer_and_run_episodes_drive_copies() -> None:
    env = batched()
    agent = RecordingMultiAgent(env.possible_agents)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 5, **QUIET}).train()
    assert len(agent.transitions) == 5
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 5, **QUIET})
    returns = trainer.run_episodes(6, max_steps=50)
    assert sorted(returns) == sorted([35.0, 35.0, 4 * 12.0, 4 * 12.0, 1 + 5 * 11.0, 1 + 5 * 11.0])


@pytest.mark.usefixtures("no_host_syncs")
def test_the_multi_agent_step_does_not_synchronise_tensors() -> None:
    trainer, agent, _ = run(9)  # episodes end and copies reset along the way
    assert len(agent.transitions) == 9
