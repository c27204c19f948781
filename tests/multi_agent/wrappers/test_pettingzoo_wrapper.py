"""PettingZooWrapper: spaces, shapes, agents that vanish, several copies as a batch, bad actions, AEC refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.ma_envs import ParallelCountingEnv, simple_spread, simple_spread_aec

from steprl.envs.wrappers.torch import MultiAgentEnvWrapper, PettingZooWrapper, wrap_env


def spread(n: int = 1, cycles: int = 25) -> PettingZooWrapper:
    envs = simple_spread(n, cycles)
    return wrap_env(envs if n > 1 else envs[0], verbose=False)


def test_simple_spread_spaces_shapes_and_state() -> None:
    env = spread(n=2)
    assert isinstance(env, PettingZooWrapper) and isinstance(env, MultiAgentEnvWrapper)
    assert env.num_envs == 2 and env.possible_agents == ["agent_0", "agent_1", "agent_2"]
    assert env.max_num_agents == 3
    assert env.observation_space("agent_0").shape == (18,) and env.action_space("agent_0").n == 5
    assert env.state_space("agent_1").shape == (54,)
    assert env.shared_observation_spaces == env.state_spaces == env.shared_state_spaces
    obs, infos = env.reset(seed=3)
    assert set(obs) == set(env.possible_agents) and obs["agent_0"].shape == (2, 18)
    assert obs["agent_0"].dtype == torch.float32
    assert env.state().shape == (2, 54)
    actions = {uid: torch.randint(0, 5, (2, 1)) for uid in env.agents}
    next_obs, rewards, terminated, truncated, infos = env.step(actions)
    assert rewards["agent_2"].shape == (2, 1) and rewards["agent_2"].dtype == torch.float32
    assert terminated["agent_0"].dtype == torch.bool and truncated["agent_0"].shape == (2, 1)
    assert isinstance(infos["agent_0"], list) and len(infos["agent_0"]) == 2


def test_seeded_resets_repeat_and_copies_differ() -> None:
    a, b = spread(n=2), spread(n=2)
    obs_a, _ = a.reset(seed=7)
    obs_b, _ = b.reset(seed=7)
    assert torch.equal(obs_a["agent_0"], obs_b["agent_0"])
    assert not torch.equal(obs_a["agent_0"][0], obs_a["agent_0"][1])  # copy i is seeded with seed + i


def test_simple_spread_truncates_after_max_cycles_and_empties_agents() -> None:
    env = spread(cycles=4)
    env.reset(seed=0)
    for _ in range(4):
        _, _, terminated, truncated, _ = env.step({uid: torch.zeros((1, 1), dtype=torch.int64) for uid in env.agents})
    assert all(bool(truncated[uid]) for uid in env.possible_agents)
    assert not any(bool(terminated[uid]) for uid in env.possible_agents)
    assert env.agents == []
    with pytest.raises(RuntimeError, match=r"copies \[0\] ended in the last step"):
        env.step({})
    obs, _ = env.reset()
    assert env.agents == env.possible_agents and obs["agent_0"].shape == (1, 18)


def test_agents_that_finish_early_vanish_from_the_dicts() -> None:
    raw = ParallelCountingEnv({"a": 2, "b": 4})
    env = PettingZooWrapper(raw)
    env.reset()
    for _ in range(2):
        obs, rewards, terminated, _, _ = env.step({"a": torch.tensor([[0]]), "b": torch.tensor([[2]])})
    assert bool(terminated["a"]) and not bool(terminated["b"])
    assert env.agents == ["b"] and env.num_agents == 1
    obs, rewards, terminated, _, _ = env.step({"b": torch.tensor([[1]])})  # no action needed for "a"
    assert set(obs) == set(rewards) == set(terminated) == {"b"}
    assert raw.received[-1].keys() == {"b"}
    np.testing.assert_array_equal(obs["b"].numpy(), [[0, 3, 1, 0]])
    assert rewards["b"].item() == 12.0


def test_copies_pad_agents_that_already_finished() -> None:
    copies = [ParallelCountingEnv({"a": 1, "b": 3}, tag=0), ParallelCountingEnv({"a": 3, "b": 3}, tag=1)]
    env = PettingZooWrapper(copies)
    env.reset()
    env.step({"a": torch.tensor([[0], [0]]), "b": torch.tensor([[0], [0]])})
    obs, rewards, terminated, truncated, _ = env.step({"a": torch.tensor([[2], [2]]), "b": torch.tensor([[0], [0]])})
    # copy 0: "a" finished at step 1: final observation, reward 0, still terminated; copy 1 steps normally
    np.testing.assert_array_equal(obs["a"].numpy(), [[0, 1, 0, 0], [0, 2, 0, 1]])
    np.testing.assert_array_equal(rewards["a"].numpy(), [[0.0], [3.0]])
    np.testing.assert_array_equal(terminated["a"].numpy(), [[True], [False]])
    assert copies[0].received[-1].keys() == {"b"}  # the finished agent gets no action in its copy


def test_reset_tolerates_observations_only() -> None:
    env = PettingZooWrapper(ParallelCountingEnv(obs_only_reset=True))
    obs, infos = env.reset()
    assert infos == {"a": {}, "b": {}}
    assert obs["a"].shape == (1, 4)


def test_state_falls_back_to_the_observations_side_by_side() -> None:
    raw = ParallelCountingEnv()
    del raw.state_space
    env = PettingZooWrapper(raw)
    obs, _ = env.reset()
    assert env.state_space("a").shape == (8,)
    assert torch.equal(env.state(), torch.cat([obs["a"], obs["b"]], dim=1))


def test_bad_actions_name_the_agent() -> None:
    env = PettingZooWrapper([ParallelCountingEnv(), ParallelCountingEnv()])
    env.reset()
    good = torch.zeros((2, 1), dtype=torch.int64)
    with pytest.raises(ValueError, match=r"Missing actions for agent\(s\) \['b'\]"):
        env.step({"a": good})
    with pytest.raises(ValueError, match=r"unknown agent\(s\) \['c'\]"):
        env.step({"a": good, "b": good, "c": good})
    with pytest.raises(ValueError, match=r"Agent 'b'.*shape \(3, 1\)"):
        env.step({"a": good, "b": torch.zeros((3, 1), dtype=torch.int64)})
    with pytest.raises(TypeError, match=r"Agent 'a'.*dtype float32"):
        env.step({"a": good.float(), "b": good})
    with pytest.raises(TypeError, match="dict agent id -> tensor"):
        env.step(good)


def test_aec_environments_are_refused_with_a_pointer_to_the_parallel_api() -> None:
    with pytest.raises(TypeError, match=r"AEC \(turn-based\).*parallel_env"):
        wrap_env(simple_spread_aec(), verbose=False)
    with pytest.raises(TypeError, match="AEC"):
        PettingZooWrapper(simple_spread_aec())


def test_copies_must_be_distinct_and_alike() -> None:
    env = ParallelCountingEnv()
    with pytest.raises(ValueError, match="distinct"):
        PettingZooWrapper([env, env])
    with pytest.raises(ValueError, match="same agents"):
        PettingZooWrapper([ParallelCountingEnv({"a": 1}), ParallelCountingEnv({"x": 1})])


def test_step_before_reset_and_after_an_unreset_episode_end() -> None:
    env = PettingZooWrapper([ParallelCountingEnv({"a": 1, "b": 1}), ParallelCountingEnv({"a": 3, "b": 3})])
    actions = {uid: torch.zeros((2, 1), dtype=torch.int64) for uid in ("a", "b")}
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(actions)
    env.reset()
    env.step(actions)
    with pytest.raises(RuntimeError, match=r"copies \[0\].*autoreset_states"):
        env.step(actions)


def test_close_closes_every_copy_once() -> None:
    copies = [ParallelCountingEnv(), ParallelCountingEnv()]
    env = PettingZooWrapper(copies)
    env.close()
    env.close()
    assert all(c.closed for c in copies)
