"""How the Gymnasium core recognises vector envs, their autoreset mode and whether they can reset only their
finished sub-environments: the decisions behind every episode boundary, on stand-in objects (no processes)."""

from __future__ import annotations

from types import SimpleNamespace

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from steprl.envs.wrappers.common.gymnasium_core import (
    DISABLED,
    NEXT_STEP,
    SAME_STEP,
    GymnasiumCore,
    autoreset_mode,
    is_vector_env,
    supports_partial_reset,
)


def _async(shared_memory: bool) -> AsyncVectorEnv:
    """An AsyncVectorEnv stand-in: the class without its worker processes."""
    env = object.__new__(AsyncVectorEnv)
    env.shared_memory = shared_memory
    return env


def test_is_vector_env_looks_through_wrappers() -> None:
    vector = object.__new__(SyncVectorEnv)
    assert is_vector_env(vector) is True
    assert is_vector_env(SimpleNamespace(unwrapped=vector)) is True  # a wrapper that is not a VectorEnv itself
    assert is_vector_env(SimpleNamespace(unwrapped=SimpleNamespace())) is False
    assert is_vector_env(object()) is False


@pytest.mark.parametrize(
    ("metadata", "attribute", "expected"),
    [
        ({"autoreset_mode": AutoresetMode.SAME_STEP}, None, SAME_STEP),  # from the metadata alone
        ({"render_modes": []}, AutoresetMode.DISABLED, DISABLED),  # from the env's attribute
        ({}, "Same-Step", SAME_STEP),  # spelled as a string
        (None, None, NEXT_STEP),  # nothing said: Gymnasium's default
    ],
)
def test_autoreset_mode(metadata: dict | None, attribute: object, expected: str) -> None:
    unwrapped = SimpleNamespace() if attribute is None else SimpleNamespace(autoreset_mode=attribute)
    assert autoreset_mode(SimpleNamespace(metadata=metadata, unwrapped=unwrapped)) == expected


def test_unknown_autoreset_mode_is_an_error() -> None:
    env = SimpleNamespace(metadata={"autoreset_mode": "sometimes"}, unwrapped=SimpleNamespace())
    with pytest.raises(ValueError, match="Unknown autoreset mode 'sometimes'"):
        autoreset_mode(env)


def test_supports_partial_reset() -> None:
    assert supports_partial_reset(object.__new__(SyncVectorEnv), NEXT_STEP) is True
    assert supports_partial_reset(_async(shared_memory=True), NEXT_STEP) is True
    assert supports_partial_reset(_async(shared_memory=False), NEXT_STEP) is False
    assert supports_partial_reset(_async(shared_memory=False), DISABLED) is True
    other = SimpleNamespace(unwrapped=object.__new__(gymnasium.vector.VectorEnv))
    assert supports_partial_reset(other, NEXT_STEP) is False


class _EndsWithNaN(gymnasium.Env):
    """One-step episodes whose final observation is NaN (reset observations are finite)."""

    def __init__(self) -> None:
        self.observation_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.action_space = gymnasium.spaces.Discrete(2)
        self.observation_space.seed(0)
        self.action_space.seed(0)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        return np.zeros(1, np.float32), {}

    def step(self, action: object) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.full(1, np.nan, np.float32), 0.0, True, False, {}


@pytest.mark.parametrize("check", [True, False])
def test_same_step_final_observations_are_checked_for_nan(check: bool) -> None:
    env = SyncVectorEnv([_EndsWithNaN], autoreset_mode=AutoresetMode.SAME_STEP)
    core = GymnasiumCore(env, check_finite=check)
    core.reset(seed=0)
    actions = core.actions(np.zeros((1, 1), np.int64))
    if check:
        with pytest.raises(ValueError, match="non-finite observation"):
            core.step(actions)
    else:  # switched off: the NaN final observation is returned as it is
        assert np.isnan(core.step(actions).next_observations).all()
