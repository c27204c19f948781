"""Bad input at the multi-agent boundary: the wrong kind of agent for the environment, mismatched agent ids, bad
action dicts coming out of an agent, and wrap_env's detection of PettingZoo and VMAS."""

from __future__ import annotations

import gymnasium
import pytest
import torch
import vmas
from helpers.agents import RecordingAgent
from helpers.ma_envs import ParallelCountingEnv, RecordingMultiAgent, simple_spread

from steprl.envs.wrappers.torch import PettingZooWrapper, VmasWrapper, wrap_env
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def test_single_agent_agent_on_a_multi_agent_env_is_refused() -> None:
    env = PettingZooWrapper(ParallelCountingEnv())
    with pytest.raises(TypeError, match=r"RecordingAgent is a single-agent agent.*multi-agent.*IPPO"):
        ManualTrainer(env=env, agents=RecordingAgent(), cfg=QUIET)


def test_multi_agent_object_on_a_single_agent_env_is_refused() -> None:
    env = wrap_env(gymnasium.make("CartPole-v1"), verbose=False)
    with pytest.raises(TypeError, match="RecordingMultiAgent is a multi-agent algorithm but the environment is single"):
        SequentialTrainer(env=env, agents=RecordingMultiAgent(["a", "b"]), cfg=QUIET)


def test_agent_ids_must_match_the_environment() -> None:
    env = PettingZooWrapper(ParallelCountingEnv())
    with pytest.raises(ValueError, match=r"built for the agents \['a', 'x'\].*possible agents are \['a', 'b'\]"):
        ManualTrainer(env=env, agents=RecordingMultiAgent(["a", "x"]), cfg=QUIET)


def test_a_list_of_agents_is_refused_on_a_multi_agent_env() -> None:
    env = PettingZooWrapper([ParallelCountingEnv(), ParallelCountingEnv()])
    agents = [RecordingMultiAgent(["a", "b"]), RecordingMultiAgent(["a", "b"])]
    with pytest.raises(ValueError, match="one multi-agent object"):
        ManualTrainer(env=env, agents=agents, cfg=QUIET)


def test_bad_actions_from_the_agent_raise_clear_errors() -> None:
    env = PettingZooWrapper(ParallelCountingEnv())
    missing = RecordingMultiAgent(["a", "b"], policy=lambda uid, obs: torch.ones((1, 1), dtype=torch.int64))
    missing.act = lambda states, timestep, timesteps: ({"a": torch.ones((1, 1), dtype=torch.int64)}, {}, {})
    with pytest.raises(ValueError, match=r"Missing actions for agent\(s\) \['b'\]"):
        ManualTrainer(env=env, agents=missing, cfg=QUIET).train()
    env = PettingZooWrapper(ParallelCountingEnv())
    wide = RecordingMultiAgent(["a", "b"], policy=lambda uid, obs: torch.ones((1, 2), dtype=torch.int64))
    with pytest.raises(ValueError, match=r"Agent 'a'.*shape \(1, 2\)"):
        ManualTrainer(env=env, agents=wide, cfg=QUIET).train()


def test_wrap_env_detects_pettingzoo_copies_and_vmas() -> None:
    assert isinstance(wrap_env(simple_spread()[0], verbose=False), PettingZooWrapper)
    copies = wrap_env(simple_spread(3), verbose=False)
    assert isinstance(copies, PettingZooWrapper) and copies.num_envs == 3
    explicit = wrap_env(ParallelCountingEnv(), wrapper="pettingzoo", verbose=False)
    assert isinstance(explicit, PettingZooWrapper)
    assert isinstance(wrap_env(vmas.make_env("navigation", num_envs=2), verbose=False), VmasWrapper)
    assert isinstance(wrap_env(vmas.make_env("navigation", num_envs=2), wrapper="vmas", verbose=False), VmasWrapper)
