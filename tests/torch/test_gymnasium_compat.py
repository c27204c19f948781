"""skrl 1.x scripts call ``gymnasium.vector.make`` (removed in Gymnasium 1.0): importing the wrappers provides it."""

from __future__ import annotations

import gymnasium as gym

import steprl.envs.wrappers.torch  # noqa: F401 - the import installs gymnasium.vector.make when missing
from steprl.envs.wrappers.common import gymnasium_compat
from steprl.envs.wrappers.torch import wrap_env


def test_vector_make_builds_the_same_vector_environment() -> None:
    env = gym.vector.make("Pendulum-v1", num_envs=3, asynchronous=False, wrappers=gym.wrappers.ClipAction)
    try:
        assert isinstance(env, gym.vector.SyncVectorEnv) and env.num_envs == 3
        assert all(isinstance(e, gym.wrappers.ClipAction) for e in env.envs)
        assert wrap_env(env, verbose=False).num_envs == 3
    finally:
        env.close()


def test_vector_make_defaults_to_asynchronous_like_gymnasium_0_29() -> None:
    env = gym.vector.make("CartPole-v1", num_envs=2)
    try:
        assert isinstance(env, gym.vector.AsyncVectorEnv)
    finally:
        env.close()


def test_an_existing_vector_make_is_left_alone(monkeypatch) -> None:
    own = object()
    monkeypatch.setattr(gym.vector, "make", own, raising=False)
    gymnasium_compat.install_vector_make()
    assert gym.vector.make is own


def test_skrl_deprecated_envs_torch_path() -> None:
    from steprl.envs import torch as envs_torch

    assert envs_torch.wrap_env is wrap_env
