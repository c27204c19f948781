"""DeepMindWrapper: spaces, flattening order, episode ends (termination vs the time limit), wrap_env detection,
Gymnasium environments made through shimmy, and a SAC smoke run on dm_control's cartpole-swingup."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
import torch

os.environ.setdefault("MUJOCO_GL", "egl")  # nothing is rendered; this keeps dm_control's import free of warnings

dm_env = pytest.importorskip("dm_env")
suite = pytest.importorskip("dm_control.suite")
from dm_env import specs  # noqa: E402

from steprl.envs.wrappers.common.deepmind_core import DeepMindEnv  # noqa: E402
from steprl.envs.wrappers.torch import DeepMindWrapper, GymnasiumWrapper, wrap_env  # noqa: E402


class ScriptedEnv(dm_env.Environment):
    """Observations ``z`` (2,), ``a`` (scalar), ``m`` (2, 2) whose values count the steps; the episode ends after
    ``length`` steps with ``final_discount`` (0: the task terminated, 1: the time limit)."""

    def __init__(self, length: int = 3, final_discount: float = 0.0) -> None:
        self.length = length
        self.final_discount = final_discount
        self.t = 0
        self.episodes = 0
        self.actions: list[np.ndarray] = []

    def observation_spec(self) -> OrderedDict[str, specs.Array]:
        return OrderedDict(
            z=specs.Array((2,), np.float64, "z"), a=specs.Array((), np.float64, "a"), m=specs.Array((2, 2), np.float64, "m")
        )

    def action_spec(self) -> specs.BoundedArray:
        return specs.BoundedArray((2,), np.float64, minimum=[-1.0, 0.0], maximum=[1.0, 2.0])

    def _observation(self) -> OrderedDict[str, np.ndarray]:
        base = 100.0 * self.episodes + self.t
        return OrderedDict(
            z=np.array([base, base + 0.5]), a=np.array(-base), m=np.arange(4.0).reshape(2, 2) + 10.0 * base
        )

    def reset(self) -> dm_env.TimeStep:
        self.episodes += 1
        self.t = 0
        return dm_env.restart(self._observation())

    def step(self, action: Any) -> dm_env.TimeStep:
        self.actions.append(np.asarray(action))
        self.t += 1
        if self.t < self.length:
            return dm_env.transition(reward=1.0, observation=self._observation())
        if self.final_discount == 0.0:
            return dm_env.termination(reward=1.0, observation=self._observation())
        return dm_env.truncation(reward=1.0, observation=self._observation(), discount=self.final_discount)


def flat(env: ScriptedEnv) -> list[float]:
    """The scripted env's current observation flattened in spec order (z, a, m row-major)."""
    o = env._observation()
    return [*o["z"], float(o["a"]), *o["m"].reshape(-1)]


def test_spaces_and_flattening_order_follow_the_spec() -> None:
    raw = ScriptedEnv()
    env = DeepMindWrapper(raw)
    assert env.num_envs == 1 and env.num_agents == 1
    assert env.observation_space.shape == (7,) and env.observation_space.dtype == np.float32
    np.testing.assert_array_equal(env.action_space.low, [-1.0, 0.0])
    np.testing.assert_array_equal(env.action_space.high, [1.0, 2.0])
    assert env.observation_keys == ("z", "a", "m")  # the spec's order, not sorted
    assert env.observation_slices == {"z": slice(0, 2), "a": slice(2, 3), "m": slice(3, 7)}
    states, _ = env.reset()
    assert states.dtype == torch.float32 and states.shape == (1, 7)
    assert states[0].tolist() == flat(raw)
    next_states, rewards, terminated, truncated, _ = env.step(torch.tensor([[0.5, 1.5]]))
    assert next_states[0].tolist() == flat(raw) and rewards.tolist() == [[1.0]]
    assert terminated.dtype == torch.bool and truncated.shape == (1, 1)
    np.testing.assert_allclose(raw.actions[-1], [0.5, 1.5])
    assert raw.actions[-1].shape == (2,)  # the action spec's shape, without the batch dimension


@pytest.mark.parametrize("final_discount, flag", [(0.0, "terminated"), (1.0, "truncated")])
def test_last_step_discount_decides_terminated_or_truncated(final_discount: float, flag: str) -> None:
    raw = ScriptedEnv(length=3, final_discount=final_discount)
    env = DeepMindWrapper(raw)
    env.reset()
    for _ in range(2):
        _, _, terminated, truncated, _ = env.step(torch.zeros(1, 2))
        assert not terminated.any() and not truncated.any()
    next_states, _, terminated, truncated, _ = env.step(torch.zeros(1, 2))
    assert next_states[0, :2].tolist() == [103.0, 103.5]  # episode 1, step 3: the true last observation
    assert terminated.item() is (flag == "terminated") and truncated.item() is (flag == "truncated")
    # the episode restarted by itself: the trainer acts from the reset observation next
    acting = env.autoreset_states(next_states, terminated, truncated)
    assert raw.episodes == 2 and acting[0, :2].tolist() == [200.0, 200.5]


def test_action_repeat_sums_rewards_and_stops_at_the_episode_end() -> None:
    raw = ScriptedEnv(length=5, final_discount=1.0)
    env = DeepMindWrapper(raw, action_repeat=2)
    env.reset()
    rewards = [env.step(torch.zeros(1, 2))[1].item() for _ in range(2)]
    _, reward, _, truncated, _ = env.step(torch.zeros(1, 2))
    assert rewards == [2.0, 2.0] and reward.item() == 1.0 and truncated.item()
    assert len(raw.actions) == 5


def test_bad_input_gets_clear_errors() -> None:
    env = DeepMindWrapper(ScriptedEnv())
    env.reset()
    with pytest.raises(ValueError, match=r"actions shape \(1, 3\).*expected"):
        env.step(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="action_repeat must be an integer >= 1"):
        DeepMindWrapper(ScriptedEnv(), action_repeat=0)
    with pytest.raises(TypeError, match="Expected a dm_env.Environment"):
        DeepMindEnv(object())
    with pytest.raises(ValueError, match="render_mode"):
        DeepMindWrapper(ScriptedEnv(), render_mode="human")

    class Unbounded(ScriptedEnv):
        def action_spec(self) -> specs.Array:
            return specs.Array((2,), np.float64)

    with pytest.raises(TypeError, match="BoundedArray"):
        DeepMindWrapper(Unbounded())


def test_wrap_env_detects_dm_control_and_the_time_limit_truncates() -> None:
    raw = suite.load("cartpole", "swingup", task_kwargs={"random": 0})
    env = wrap_env(raw, verbose=False, action_repeat=8)
    assert isinstance(env, DeepMindWrapper) and env.physics is raw.physics
    assert env.observation_keys == ("position", "velocity") and env.observation_space.shape == (5,)
    assert env.action_space.shape == (1,) and env.render() is None  # no render_mode: nothing is drawn
    assert isinstance(wrap_env(suite.load("cartpole", "balance"), wrapper="dm", verbose=False), DeepMindWrapper)
    env.reset()
    ends = []
    for step in range(1, 126):
        _, reward, terminated, truncated, _ = env.step(torch.zeros(1, 1))
        assert 0.0 <= reward.item() <= 8.0 and not terminated.any()
        if truncated.any():
            ends.append(step)
    assert ends == [125]  # 1000 control steps at action repeat 8: the time limit, a truncation


def test_shimmy_gymnasium_env_goes_through_the_gymnasium_wrapper() -> None:
    gymnasium = pytest.importorskip("gymnasium")
    pytest.importorskip("shimmy")
    raw = gymnasium.make("dm_control/cartpole-swingup-v0")
    env = wrap_env(raw, verbose=False)
    assert isinstance(env, GymnasiumWrapper) and not isinstance(env, DeepMindWrapper)
    states, _ = env.reset(seed=0)
    assert states.shape == (1, 5) and states.dtype == torch.float32  # Dict(position (3,), velocity (2,)) flattened
    for _ in range(5):
        next_states, rewards, terminated, truncated, _ = env.step(torch.full((1, 1), 0.3))
    assert next_states.shape == (1, 5) and rewards.shape == (1, 1)
    assert not terminated.any() and not truncated.any()
    env.close()


def test_jax_binding_returns_numpy_arrays() -> None:
    pytest.importorskip("jax")
    from steprl.envs.wrappers.jax import DeepMindWrapper as JaxDeepMindWrapper
    from steprl.envs.wrappers.jax import wrap_env as jax_wrap_env

    env = jax_wrap_env(ScriptedEnv(), verbose=False)
    assert isinstance(env, JaxDeepMindWrapper)
    states, _ = env.reset()
    next_states, rewards, terminated, truncated, _ = env.step(np.zeros((1, 2), dtype=np.float32))
    assert isinstance(states, np.ndarray) and states.shape == (1, 7)
    assert rewards.dtype == np.float32 and terminated.dtype == bool


def test_sac_smoke_on_cartpole_swingup() -> None:
    from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
    from steprl.memories.torch import RandomMemory
    from steprl.models.torch.networks.sac import build_sac_models
    from steprl.trainers.torch import SequentialTrainer

    env = wrap_env(suite.load("cartpole", "swingup", task_kwargs={"random": 0}), verbose=False, action_repeat=8)
    models = build_sac_models(env.observation_space, env.action_space, env.device, {"hidden": [32, 32]})
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(batch_size=32, random_timesteps=50, learning_starts=50)
    cfg["experiment"].update(write_interval=0, checkpoint_interval=0)
    memory = RandomMemory(memory_size=150, num_envs=1, device=env.device)
    agent = SAC(models, memory, env.observation_space, env.action_space, env.device, cfg)
    before = [p.detach().clone() for p in agent.policy.parameters()]
    trainer = SequentialTrainer(
        env=env, agents=agent, cfg={"timesteps": 150, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
    )
    trainer.train()
    assert trainer.episode_lengths("train") == [125]  # 1000 control steps at action repeat 8
    assert all(np.isfinite(trainer.episode_returns("train")))
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))
    assert all(torch.isfinite(p).all() for p in agent.policy.parameters())
