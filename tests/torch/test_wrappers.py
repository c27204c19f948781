"""Tests of the environment wrappers: wrap_env, the Wrapper bases and GymnasiumWrapper's step contract.

The episode-boundary contract tests run on every backend (torch, JAX with NumPy arrays, JAX with jax.Array).
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv
from helpers.backends import BACKENDS, Backend

from steprl.envs.wrappers.torch import GymnasiumWrapper, MultiAgentEnvWrapper, Wrapper, wrap_env


class CounterEnv(gymnasium.Env):
    """Observation ``[env_id, episode, t, last_action]``; episodes last ``3 + env_id`` steps; reward = action."""

    observation_space = spaces.Box(-1e6, 1e6, (4,), np.float32)
    action_space = spaces.Box(-1e6, 1e6, (1,), np.float32)

    def __init__(self, env_id: int = 0, terminate: bool = True) -> None:
        self.env_id = env_id
        self.length = 3 + env_id
        self.terminate = terminate
        self.episode = -1
        self.t = 0
        self.marker = "counter"

    def _obs(self, action: float = 0.0) -> np.ndarray:
        return np.array([self.env_id, self.episode, self.t, action], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return self._obs(), {"seed": -1 if seed is None else seed}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        assert action.shape == (1,) and action.dtype == np.float32
        self.t += 1
        done = self.terminate and self.t >= self.length
        return self._obs(float(action[0])), float(action[0]), done, False, {}


class RecordingEnv(gymnasium.Env):
    """Echoes the last action it received as observation (to check action conversion)."""

    observation_space = spaces.Box(-100, 100, (2,), np.float32)

    def __init__(self, action_space: spaces.Space, rewards: tuple[float, ...] = (), nan_obs_at: int = -1) -> None:
        self.action_space = action_space
        self.rewards = rewards
        self.nan_obs_at = nan_obs_at
        self.actions: list[Any] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.actions.append(action)
        k = len(self.actions)
        obs = np.full(2, np.nan if k == self.nan_obs_at else k, np.float32)
        reward = self.rewards[k - 1] if k <= len(self.rewards) else 0.0
        return obs, reward, False, False, {}


class DictObsEnv(gymnasium.Env):
    observation_space = spaces.Dict({"pos": spaces.Box(-5, 5, (2,), np.float32), "cell": spaces.Discrete(9)})
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        return {"pos": np.array([1.5, -2.0], np.float32), "cell": 7}, {}

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        return {"pos": np.array([0.5, 0.25], np.float32), "cell": 3}, 1.0, False, False, {}


def counter_fns(n: int) -> list[Any]:
    return [functools.partial(CounterEnv, i) for i in range(n)]


def make_vector(kind: str, n: int = 3) -> Any:
    if kind == "async-next":
        return AsyncVectorEnv(counter_fns(n), autoreset_mode=AutoresetMode.NEXT_STEP)
    mode = {"sync-next": AutoresetMode.NEXT_STEP, "sync-same": AutoresetMode.SAME_STEP}.get(
        kind, AutoresetMode.DISABLED
    )
    return SyncVectorEnv(counter_fns(n), autoreset_mode=mode)


# ---------------------------------------------------------------- the step contract for every autoreset mode


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["sync-next", "sync-same", "sync-disabled", "async-next"])
def test_vector_step_contract(kind: str, backend: str) -> None:
    be, n = Backend(backend), 3
    env = be.wrap_env(make_vector(kind, n))
    try:
        states, _ = env.reset()
        assert be.is_native(states)
        states = be.numpy(states)
        assert states.shape == (n, 4) and states.dtype == np.float32
        assert states[:, 2].tolist() == [0] * n and states[:, 1].tolist() == [0] * n
        episodes_seen = [0] * n
        for k in range(1, 26):
            actions = np.arange(1, n + 1, dtype=np.float32).reshape(n, 1) + 10 * k
            step = env.step(be.array(actions))
            assert all(be.is_native(a) for a in step[:4])
            next_states, rewards, terminated, truncated = (be.numpy(a) for a in step[:4])
            assert rewards.shape == (n, 1) and rewards.dtype == np.float32
            assert terminated.shape == (n, 1) and terminated.dtype == np.bool_ and not truncated.any()
            # every action applied: reward and observation echo it (a reset-step would give reward 0)
            assert np.array_equal(rewards, actions) and np.array_equal(next_states[:, 3:], actions)
            # the true next observation: same episode, one step further (never a reset observation)
            assert np.array_equal(next_states[:, 1], states[:, 1]) and np.array_equal(
                next_states[:, 2], states[:, 2] + 1
            )
            lengths = np.array([3.0 + i for i in range(n)])
            assert terminated[:, 0].tolist() == (next_states[:, 2] == lengths).tolist()
            native_acting = env.autoreset_states(*step[0:1], *step[2:4])
            acting = be.numpy(native_acting)
            assert acting.shape == (n, 4)
            for i in range(n):
                if terminated[i, 0]:
                    episodes_seen[i] += 1
                    assert acting[i].tolist() == [i, episodes_seen[i], 0, 0]  # reset only the finished sub-env
                else:
                    assert np.array_equal(acting[i], next_states[i])  # the others keep running
            assert env.reset()[0] is native_acting  # reset() without force returns the cache
            states = acting
        assert episodes_seen == [25 // (3 + i) for i in range(n)]
        forced = be.numpy(env.reset(force=True)[0])
        assert forced[:, 2].tolist() == [0] * n
        assert forced[:, 1].tolist() == [e + 1 for e in episodes_seen]
    finally:
        env.close()


def test_async_without_shared_memory_next_step_is_rejected() -> None:
    venv = AsyncVectorEnv(counter_fns(2), shared_memory=False)
    try:
        with pytest.raises(ValueError, match="reset_mask"):
            GymnasiumWrapper(venv)
    finally:
        venv.close()


def test_vector_env_without_partial_reset_is_rejected() -> None:
    with pytest.raises(ValueError, match="vectorization_mode='sync'"):
        wrap_env(gymnasium.make_vec("CartPole-v1", num_envs=2, vectorization_mode="vector_entry_point"), verbose=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_truncation_flags_from_time_limit(backend: str) -> None:
    be = Backend(backend)
    env = be.wrap_env(gymnasium.wrappers.TimeLimit(CounterEnv(0, terminate=False), max_episode_steps=4))
    env.reset()
    flags = []
    for _ in range(4):
        next_states, _, terminated, truncated, _ = env.step(be.array([[1.0]]))
        flags.append((bool(terminated[0, 0]), bool(truncated[0, 0])))
    assert flags == [(False, False)] * 3 + [(False, True)]
    assert be.numpy(next_states)[0, 2] == 4  # final observation
    assert be.numpy(env.autoreset_states(next_states, terminated, truncated))[0, 2] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_vector_truncation_flags(backend: str) -> None:
    be = Backend(backend)
    fns = [lambda: gymnasium.wrappers.TimeLimit(CounterEnv(5, terminate=False), max_episode_steps=2)] * 2
    env = be.wrap_env(SyncVectorEnv(fns))
    env.reset()
    env.step(be.array(np.ones((2, 1))))
    next_states, _, terminated, truncated, _ = env.step(be.array(np.ones((2, 1))))
    assert be.numpy(truncated).all() and not be.numpy(terminated).any()
    assert be.numpy(next_states)[:, 2].tolist() == [2, 2]
    assert be.numpy(env.autoreset_states(next_states, terminated, truncated))[:, 2].tolist() == [0, 0]


# ---------------------------------------------------------------- single env semantics


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_env_semantics(backend: str) -> None:
    be = Backend(backend)
    env = be.wrap_env(CounterEnv(0))
    assert env.num_envs == 1 and env.num_agents == 1 and env.state_space is None
    states, infos = env.reset(seed=3)
    assert be.numpy(states).tolist() == [[0, 0, 0, 0]] and infos == {"seed": 3}
    for t in range(1, 4):
        next_states, rewards, terminated, truncated, _ = env.step(be.array([[float(t)]]))
        assert be.numpy(next_states).tolist() == [[0, 0, t, t]] and be.numpy(rewards).tolist() == [[t]]
    assert be.numpy(terminated).tolist() == [[True]] and be.numpy(truncated).tolist() == [[False]]
    acting = env.autoreset_states(next_states, terminated, truncated)
    assert be.numpy(acting).tolist() == [[0, 1, 0, 0]]
    assert env.reset()[0] is acting  # no second reset
    env.step(be.array([[1.0]]))
    assert be.numpy(env.reset()[0]).tolist() == [[0, 1, 1, 1]]  # cache while the episode runs
    assert be.numpy(env.reset(force=True)[0]).tolist() == [[0, 2, 0, 0]]
    with pytest.raises(AttributeError, match="no_such_attribute"):
        _ = env.no_such_attribute
    assert env.marker == "counter"  # forwarded to the (unwrapped) env


def test_step_before_reset_raises() -> None:
    env = wrap_env(CounterEnv(0), verbose=False)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.ones(1, 1))


def test_close_is_idempotent() -> None:
    env = wrap_env(gymnasium.make("CartPole-v1"), verbose=False)
    env.reset()
    env.close()
    env.close()


# ---------------------------------------------------------------- dtypes and shapes


def test_box_observations_and_discrete_actions_cartpole() -> None:
    env = wrap_env(gymnasium.make("CartPole-v1"), verbose=False)
    states, _ = env.reset(seed=0)
    assert states.shape == (1, 4) and states.dtype == torch.float32 and states.device == env.device
    next_states, rewards, terminated, truncated, _ = env.step(torch.tensor([[1]]))
    assert next_states.shape == (1, 4) and rewards.tolist() == [[1.0]]
    assert terminated.dtype == torch.bool and truncated.shape == (1, 1)
    env.close()


def test_discrete_observations_frozenlake() -> None:
    env = wrap_env(gymnasium.make("FrozenLake-v1", is_slippery=False), verbose=False)
    states, _ = env.reset(seed=0)
    assert states.dtype == torch.int32 and states.shape == (1, 1) and states.tolist() == [[0]]
    next_states, *_ = env.step(torch.tensor([[2]], dtype=torch.int64))  # move right
    assert next_states.dtype == torch.int32 and next_states.tolist() == [[1]]
    venv = wrap_env(SyncVectorEnv([lambda: gymnasium.make("FrozenLake-v1", is_slippery=False)] * 3), verbose=False)
    states, _ = venv.reset(seed=0)
    assert states.dtype == torch.int32 and states.shape == (3, 1)
    next_states, *_ = venv.step(torch.tensor([[2], [1], [2]]))
    assert next_states.tolist() == [[1], [4], [1]]


def test_box_actions_pendulum_vector_and_bfloat16() -> None:
    env = wrap_env(gymnasium.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    states, _ = env.reset(seed=1)
    assert states.shape == (2, 3) and env.observation_space.shape == (3,) and env.action_space.shape == (1,)
    next_states, rewards, *_ = env.step(torch.zeros(2, 1, dtype=torch.bfloat16))
    assert next_states.shape == (2, 3) and rewards.shape == (2, 1)
    with pytest.raises(ValueError, match=r"expected \(2, 1\)"):
        env.step(torch.zeros(3, 1))
    env.close()


@pytest.mark.parametrize(
    ("space", "actions", "expected"),
    [
        (spaces.Discrete(4), torch.tensor([[3]]), np.int64(3)),
        (spaces.MultiDiscrete([3, 4]), torch.tensor([[2, 1]]), np.array([2, 1])),
        (spaces.Box(-1, 1, (2,), np.float64), torch.tensor([[0.5, -0.5]]), np.array([0.5, -0.5])),
    ],
)
def test_action_conversion_single_env(space: spaces.Space, actions: torch.Tensor, expected: Any) -> None:
    base = RecordingEnv(space)
    env = wrap_env(base, verbose=False)
    env.reset()
    env.step(actions)
    received = base.actions[-1]
    assert np.asarray(received).dtype == space.dtype and np.shape(received) == np.shape(expected)
    np.testing.assert_array_equal(received, expected)
    with pytest.raises(ValueError, match="Invalid actions shape"):
        env.step(torch.zeros(2, 5))


def test_multidiscrete_actions_vector() -> None:
    space = spaces.MultiDiscrete([3, 4])
    recorders: list[RecordingEnv] = []

    def make() -> RecordingEnv:
        recorders.append(RecordingEnv(space))
        return recorders[-1]

    env = wrap_env(SyncVectorEnv([make, make]), verbose=False)
    env.reset()
    env.step(torch.tensor([[2, 3], [0, 1]]))
    assert [r.actions[-1].tolist() for r in recorders] == [[2, 3], [0, 1]]


def test_dict_observations_are_flattened_with_sorted_keys() -> None:
    env = wrap_env(DictObsEnv(), verbose=False)
    states, _ = env.reset()
    assert states.dtype == torch.float32 and states.tolist() == [[7.0, 1.5, -2.0]]  # "cell" before "pos"
    next_states, *_ = env.step(torch.tensor([[1]]))
    assert next_states.tolist() == [[3.0, 0.5, 0.25]]


def test_unsupported_space_is_rejected() -> None:
    env = RecordingEnv(spaces.Discrete(2))
    env.observation_space = spaces.Text(4)
    with pytest.raises(TypeError, match="Unsupported observation space"):
        wrap_env(env, verbose=False)


# ---------------------------------------------------------------- finiteness guard


def test_nan_reward_names_the_step() -> None:
    env = wrap_env(RecordingEnv(spaces.Discrete(2), rewards=(1.0, float("nan"))), verbose=False)
    env.reset()
    env.step(torch.tensor([[0]]))
    with pytest.raises(ValueError, match=r"non-finite reward .* at step 2 in sub-environment\(s\) \[0\]"):
        env.step(torch.tensor([[0]]))


def test_nan_observation_and_switch_off() -> None:
    env = wrap_env(RecordingEnv(spaces.Discrete(2), nan_obs_at=1), verbose=False)
    env.reset()
    with pytest.raises(ValueError, match="non-finite observation .* at step 1"):
        env.step(torch.tensor([[0]]))
    unchecked = GymnasiumWrapper(RecordingEnv(spaces.Discrete(2), nan_obs_at=1), check_finite=False)
    unchecked.reset()
    assert torch.isnan(unchecked.step(torch.tensor([[0]]))[0]).all()


# ---------------------------------------------------------------- wrap_env


def test_wrap_env_returns_wrapped_as_is() -> None:
    env = wrap_env(gymnasium.make("CartPole-v1"), verbose=False)
    assert wrap_env(env) is env
    assert isinstance(wrap_env(gymnasium.make("CartPole-v1"), wrapper="gymnasium", verbose=False), GymnasiumWrapper)


@pytest.mark.parametrize("obj", ["CartPole-v1", {"env": 1}, 3])
def test_wrap_env_rejects_non_envs(obj: Any) -> None:
    with pytest.raises(TypeError, match=f"got a {type(obj).__name__}.*expected a Gymnasium environment"):
        wrap_env(obj, verbose=False)


def test_wrap_env_string_hint_and_explicit_tag() -> None:
    with pytest.raises(TypeError, match=r"gymnasium\.make\('CartPole-v1'\)"):
        wrap_env("CartPole-v1", verbose=False)
    with pytest.raises(TypeError, match="Expected a Gymnasium environment"):
        wrap_env({"env": 1}, wrapper="gymnasium", verbose=False)


def test_wrap_env_unknown_tag_lists_valid_tags() -> None:
    with pytest.raises(ValueError, match="Unknown wrapper type 'mujoco'.*gymnasium.*pettingzoo"):
        wrap_env(gymnasium.make("CartPole-v1"), wrapper="mujoco", verbose=False)


def test_wrap_env_recognises_unavailable_wrappers() -> None:
    fake_robosuite = type("MujocoEnv", (), {"__module__": "robosuite.environments.base"})
    with pytest.raises(NotImplementedError, match="'robosuite'"):
        wrap_env(type("MyEnv", (fake_robosuite,), {})(), verbose=False)
    # Isaac Lab envs are gymnasium envs too: the more specific tag wins (MRO walk, not direct bases only)
    fake_isaaclab = type("DirectRLEnv", (gymnasium.Env,), {"__module__": "isaaclab.envs.direct_rl_env"})
    deep = type("Task", (type("Intermediate", (fake_isaaclab,), {}),), {})
    with pytest.raises(NotImplementedError, match="'isaaclab'"):
        wrap_env(deep(), verbose=False)
    with pytest.raises(NotImplementedError, match="'brax'"):
        wrap_env(gymnasium.make("CartPole-v1"), wrapper="brax", verbose=False)


def test_wrap_env_logs(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from steprl import logger

    logger.propagate = True
    try:
        with caplog.at_level(logging.INFO, logger="steprl"):
            wrap_env(gymnasium.make("CartPole-v1"))
    finally:
        logger.propagate = False
    assert "CartPoleEnv" in caplog.text and "Gymnasium" in caplog.text


# ---------------------------------------------------------------- base classes


class _MarkerWrapper(Wrapper):
    def __init__(self, env: Any, marker: torch.Tensor) -> None:
        super().__init__(env)
        self.marker = marker

    def reset(self, *, force: bool = False) -> tuple[torch.Tensor, Any]:
        return self.marker, {}


def test_base_wrapper_defaults() -> None:
    marker = torch.full((1, 4), 9.0)
    wrapper = _MarkerWrapper(CounterEnv(0), marker)
    next_states = torch.zeros(1, 4)
    no, yes = torch.tensor([[False]]), torch.tensor([[True]])
    assert wrapper.autoreset_states(next_states, no, no) is next_states
    assert wrapper.autoreset_states(next_states, no, yes) is marker
    assert wrapper.observation_space is CounterEnv.observation_space
    for method in (wrapper.step, wrapper.render):
        with pytest.raises(NotImplementedError):
            method(next_states)
    with pytest.raises(NotImplementedError):
        wrapper.state()
    vector = _MarkerWrapper(SyncVectorEnv(counter_fns(2)), marker)
    assert vector.num_envs == 2 and vector.autoreset_states(next_states, yes, yes) is next_states


class _FakeParallelEnv:
    possible_agents = ["a", "b"]
    agents = ["a"]
    state_space = spaces.Box(-1, 1, (5,), np.float32)

    def observation_space(self, uid: str) -> spaces.Space:
        return spaces.Box(-1, 1, (2 if uid == "a" else 3,), np.float32)

    def action_space(self, uid: str) -> spaces.Space:
        return spaces.Discrete(2 if uid == "a" else 3)


def test_multi_agent_base_properties() -> None:
    wrapper = MultiAgentEnvWrapper(_FakeParallelEnv())
    assert wrapper.num_agents == 1 and wrapper.max_num_agents == 2 and wrapper.num_envs == 1
    assert wrapper.observation_space("b").shape == (3,) and wrapper.action_space("b").n == 3
    assert set(wrapper.observation_spaces) == {"a", "b"}
    assert wrapper.state_space("a") is _FakeParallelEnv.state_space
    assert wrapper.state_spaces == {"a": _FakeParallelEnv.state_space, "b": _FakeParallelEnv.state_space}
    assert wrapper.shared_observation_space("b") is wrapper.shared_state_spaces["a"]
    with pytest.raises(NotImplementedError):
        wrapper.reset()
