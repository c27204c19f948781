"""The JAX PettingZoo wrapper at episode boundaries (per-agent flags, true final observations, per-copy resets),
its arrays per ``config.jax.backend``, wrap_env detection and VMAS on JAX."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from helpers.ma_envs import ParallelCountingEnv, simple_spread

from steprl import config
from steprl.envs.wrappers.jax import MultiAgentEnvWrapper, wrap_env
from steprl.envs.wrappers.jax.pettingzoo_envs import PettingZooWrapper


@pytest.fixture
def jax_arrays():
    previous = config.jax.backend
    config.jax.backend = "jax"
    yield
    config.jax.backend = previous


def test_wrap_env_detects_pettingzoo_and_copies() -> None:
    env = wrap_env(simple_spread(copies=2, cycles=3), verbose=False)
    assert isinstance(env, PettingZooWrapper) and isinstance(env, MultiAgentEnvWrapper)
    assert env.num_envs == 2 and env.possible_agents == ["agent_0", "agent_1", "agent_2"]
    observations, _ = env.reset(seed=0)
    assert isinstance(observations["agent_0"], np.ndarray) and observations["agent_0"].shape == (2, 18)
    assert env.state().shape == (2, 54)
    assert wrap_env(env) is env


def test_vmas_is_refused_with_the_torch_backend_named() -> None:
    vmas = pytest.importorskip("vmas")
    raw = vmas.make_env("navigation", num_envs=2, device="cpu", n_agents=2, seed=0)
    with pytest.raises(NotImplementedError, match=r"torch-native.*steprl\.envs\.wrappers\.torch\.wrap_env"):
        wrap_env(raw, verbose=False)


def test_per_agent_flags_and_true_final_observations() -> None:
    """Agent "a" terminates after 2 steps, "b" after 3: the flags are per agent, the finished agent vanishes, and the
    step that ends the episode returns the final observation; only then does the trainer's reset happen."""
    env = PettingZooWrapper(ParallelCountingEnv({"a": 2, "b": 3}))
    env.reset(seed=0)
    step = {uid: np.ones((1, 1), np.int64) for uid in ("a", "b")}
    obs, rewards, terminated, truncated, _ = env.step(step)
    assert not terminated["a"].any() and not terminated["b"].any()
    obs, rewards, terminated, truncated, _ = env.step(step)
    assert terminated["a"].all() and not terminated["b"].any() and not truncated["a"].any()
    assert env.agents == ["b"]
    obs, rewards, terminated, truncated, _ = env.step({"b": np.ones((1, 1), np.int64)})
    assert set(obs) == {"b"} and terminated["b"].all()
    np.testing.assert_array_equal(obs["b"], [[0, 3, 1, 0]])  # episode 0, t = 3: the true final observation
    np.testing.assert_array_equal(env.state(), [[0, 3, 0]])  # and the true final global state
    after = env.autoreset_states(obs, terminated, truncated)
    np.testing.assert_array_equal(after["a"], [[1, 0, 0, 0]])  # now reset: episode 1, t = 0


def test_only_finished_copies_reset_and_truncation_is_kept_apart() -> None:
    copies = [ParallelCountingEnv({"a": 2, "b": 2}, tag=0, truncate=True), ParallelCountingEnv({"a": 4, "b": 4}, tag=1)]
    env = PettingZooWrapper(copies)
    obs, _ = env.reset(seed=0)
    step = {uid: np.zeros((2, 1), np.int64) for uid in ("a", "b")}
    env.step(step)
    obs, rewards, terminated, truncated, _ = env.step(step)
    assert truncated["a"][:, 0].tolist() == [True, False] and not terminated["a"].any()
    np.testing.assert_array_equal(obs["a"][:, 1], [2, 2])  # copy 0's final observation, not its reset one
    following = env.autoreset_states(obs, terminated, truncated)
    np.testing.assert_array_equal(following["a"][:, :2], [[1, 0], [0, 2]])  # copy 0 reset (episode 1), copy 1 runs on
    assert copies[0].episode == 1 and copies[1].episode == 0


def test_jax_backend_returns_device_arrays_and_takes_jax_actions(jax_arrays) -> None:
    env = PettingZooWrapper(ParallelCountingEnv({"a": 3, "b": 3}))
    obs, _ = env.reset(seed=0)
    assert isinstance(obs["a"], jax.Array)
    obs, rewards, terminated, truncated, _ = env.step({uid: jax.numpy.ones((1, 1), jax.numpy.int32) for uid in "ab"})
    assert all(isinstance(x["b"], jax.Array) for x in (obs, rewards, terminated, truncated))
    assert isinstance(env.state(), jax.Array) and float(rewards["b"][0, 0]) == 12.0  # action 1 + 1 + 10 × index 1


def test_bad_actions_name_the_agent() -> None:
    env = PettingZooWrapper(ParallelCountingEnv({"a": 3, "b": 3}))
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"Missing actions for agent\(s\) \['b'\]"):
        env.step({"a": np.ones((1, 1), np.int64)})
    with pytest.raises(TypeError, match="Agent 'a'"):
        env.step({"a": np.ones((1, 1), np.float32), "b": np.ones((1, 1), np.int64)})
