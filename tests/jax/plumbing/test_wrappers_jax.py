"""What only the JAX wrapper does: JAX actions in, NumPy or jax.Array out per config.jax.backend, on its device."""

from __future__ import annotations

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.backends import jax_backend

from steprl import config
from steprl.envs.wrappers.jax import wrap_env


def test_jax_actions_and_the_output_type_per_backend() -> None:
    for backend, kind in (("numpy", np.ndarray), ("jax", jax.Array)):
        with jax_backend(backend):
            env = wrap_env(gymnasium.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
        states, _ = env.reset(seed=0)
        assert isinstance(states, kind) and states.dtype == np.float32
        out = env.step(jnp.array([[1], [0]], dtype=jnp.int32))
        assert all(isinstance(a, kind) for a in out[:4])
        assert out[2].dtype == np.bool_ and out[1].shape == (2, 1)
        if backend == "jax":
            assert out[0].devices() == {config.jax.device} and env.device == config.jax.device
        with pytest.raises(TypeError, match="bool or integer dtype"):
            env.step(jnp.array([[1.0], [0.0]]))
        with pytest.raises(ValueError, match="Invalid actions shape"):
            env.step(jnp.array([1, 0, 1]))
        env.close()


def test_low_precision_box_actions() -> None:
    env = wrap_env(gymnasium.make("Pendulum-v1"), verbose=False)
    env.reset(seed=0)
    next_states, rewards, *_ = env.step(jnp.zeros((1, 1), dtype=jnp.bfloat16))
    assert next_states.shape == (1, 3) and np.isfinite(rewards).all()
    env.close()
