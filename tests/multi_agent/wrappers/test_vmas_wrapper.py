"""VmasWrapper: spaces, tensors on the VMAS device, per-sub-environment resets with true final observations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import vmas
from helpers.ma_envs import RecordingMultiAgent

from steprl.envs.wrappers.torch import VmasWrapper, wrap_env
from steprl.trainers.torch import ManualTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def navigation(num_envs: int = 4, max_steps: int | None = 6, **kwargs: object) -> VmasWrapper:
    env = vmas.make_env("navigation", num_envs=num_envs, device="cpu", max_steps=max_steps, seed=0, **kwargs)
    return wrap_env(env, verbose=False)


def zeros(env: VmasWrapper) -> dict[str, torch.Tensor]:
    return {uid: torch.zeros(env.num_envs, 2) for uid in env.agents}


def test_spaces_and_shapes() -> None:
    env = navigation()
    assert isinstance(env, VmasWrapper)
    assert env.possible_agents == env.agents == ["agent_0", "agent_1", "agent_2", "agent_3"]
    assert env.num_agents == env.max_num_agents == 4 and env.num_envs == 4
    assert env.observation_space("agent_0").shape == (18,)
    assert env.action_space("agent_0").shape == (2,)
    assert env.state_space("agent_3").shape == (72,)
    obs, infos = env.reset(seed=1)
    assert obs["agent_0"].shape == (4, 18) and obs["agent_0"].device == env.device
    assert env.state().shape == (4, 72)
    next_obs, rewards, terminated, truncated, infos = env.step(zeros(env))
    assert rewards["agent_1"].shape == (4, 1) and rewards["agent_1"].dtype == torch.float32
    assert terminated["agent_0"].dtype == torch.bool and truncated["agent_0"].shape == (4, 1)
    assert set(infos) == set(env.possible_agents)


def test_only_the_finished_sub_environment_resets_and_step_returns_its_final_observation() -> None:
    env = navigation(max_steps=6)
    env.reset(seed=0)
    env.step(zeros(env))
    env._env.steps[2] = 5  # sub-environment 2 reaches its horizon on the next step, the others do not
    next_obs, _, terminated, truncated, _ = env.step({uid: torch.full((4, 2), 0.5) for uid in env.agents})
    assert truncated["agent_0"][:, 0].tolist() == [False, False, True, False]
    final_state = env.state()
    assert torch.equal(final_state, torch.cat([next_obs[uid] for uid in env.possible_agents], dim=1))
    acting = env.autoreset_states(next_obs, terminated, truncated)
    assert env._env.steps.tolist() == [2, 2, 0, 2]
    for uid in env.possible_agents:
        assert torch.equal(acting[uid][[0, 1, 3]], next_obs[uid][[0, 1, 3]])
        assert not torch.equal(acting[uid][2], next_obs[uid][2])
    assert torch.equal(env.state()[[0, 1, 3]], final_state[[0, 1, 3]])
    assert env.autoreset_states(acting, terminated, truncated) is acting  # nothing left to reset


def test_trainer_episodes_end_per_sub_environment() -> None:
    env = navigation(num_envs=3, max_steps=4)
    agent = RecordingMultiAgent(env.possible_agents, policy=lambda uid, obs: torch.zeros(obs.shape[0], 2))
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET})
    for _ in range(8):
        trainer.train()
    assert trainer.episode_lengths() == [4] * 6 and trainer.episode_env_ids() == [0, 1, 2] * 2
    summed = np.array(trainer.episode_returns())
    shares = sum(np.array(trainer.episode_returns(agent=uid)) for uid in env.possible_agents)
    np.testing.assert_allclose(summed, shares, rtol=1e-5)
    fifth = agent.transitions[4]
    assert torch.equal(fifth["infos"]["shared_states"], torch.cat([fifth["states"][u] for u in env.possible_agents], 1))
    assert torch.equal(
        agent.transitions[3]["infos"]["shared_next_states"][:, :18], agent.transitions[3]["next_states"]["agent_0"]
    )


def test_terminated_and_truncated_stay_apart() -> None:
    env = navigation(num_envs=2, max_steps=2, terminated_truncated=True)
    env.reset(seed=0)
    env.step(zeros(env))
    _, _, terminated, truncated, _ = env.step(zeros(env))
    assert truncated["agent_0"].all() and not terminated["agent_0"].any()


def test_continuous_actions_are_clipped_and_bad_actions_refused() -> None:
    env = navigation(num_envs=2)
    env.reset(seed=0)
    env.step({uid: torch.full((2, 2), 5.0) for uid in env.agents})  # VMAS alone would assert on the range
    with pytest.raises(ValueError, match=r"Missing actions for agent\(s\) \['agent_3'\]"):
        env.step({uid: torch.zeros(2, 2) for uid in env.agents[:3]})
    with pytest.raises(ValueError, match=r"Agent 'agent_1'.*shape \(2, 3\).*expected \(2, 2\)"):
        env.step({**zeros(env), "agent_1": torch.zeros(2, 3)})
    discrete = navigation(num_envs=2, continuous_actions=False)
    discrete.reset(seed=0)
    actions = {uid: torch.ones((2,), dtype=torch.int64) for uid in discrete.agents}
    discrete.step(actions)  # (N,) accepted for Discrete
    with pytest.raises(TypeError, match="Agent 'agent_0'.*dtype torch.float32.*integer dtype"):
        discrete.step({**actions, "agent_0": torch.ones((2, 1))})


def test_refuses_what_is_not_a_vmas_env() -> None:
    with pytest.raises(TypeError, match="Expected a VMAS environment"):
        VmasWrapper(object())
    with pytest.raises(RuntimeError, match="before reset"):
        VmasWrapper(vmas.make_env("navigation", num_envs=1)).state()


def test_dict_spaces_and_quiet_render() -> None:
    env = navigation(num_envs=3, max_steps=2, dict_spaces=True)
    obs, _ = env.reset(seed=0)
    assert set(obs) == set(env.possible_agents) and obs["agent_2"].shape == (3, 18)
    assert env.render() is None  # no window unless a render mode was chosen
    for _ in range(2):
        next_obs, _, terminated, truncated, _ = env.step(zeros(env))
    assert truncated["agent_0"].all()
    acting = env.autoreset_states(next_obs, terminated, truncated)
    assert env._env.steps.tolist() == [0, 0, 0] and set(acting) == set(env.possible_agents)
