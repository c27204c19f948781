"""Boundary checks of GymnasiumWrapper: observations (shape, dtype) and actions (shape, integer dtype)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from helpers.spaces_envs import NESTED_SPACE, ActionRecorder, BatchedVectorEnv, MalformedEnv, nested_observation

from steprl.envs.wrappers.torch import GymnasiumWrapper, wrap_env

BOX5 = spaces.Box(-1.0, 1.0, (5,), np.float32)
BOX5_TEXT = re.escape("observation space Box(-1.0, 1.0, (5,), float32)")
GOOD, BAD = np.zeros(5, np.float32), np.zeros(3, np.float32)


def _vector(*envs: Any, mode: AutoresetMode = AutoresetMode.NEXT_STEP) -> GymnasiumWrapper:
    return wrap_env(SyncVectorEnv([lambda env=env: env for env in envs], autoreset_mode=mode), verbose=False)


def _step(env: GymnasiumWrapper, actions: Any = None) -> Any:
    return env.step(torch.zeros(env.num_envs, 1, dtype=torch.int64) if actions is None else actions)


# ---------------------------------------------------------------- observations: shape


def test_wrong_size_reset_observation_single_env() -> None:
    env = wrap_env(MalformedEnv(BOX5, GOOD, BAD, bad_at=0), verbose=False)
    message = (
        rf"Invalid reset observation at step 0: shape \(3,\) does not match the {BOX5_TEXT}: expected shape \(5,\)$"
    )
    with pytest.raises(ValueError, match=message):
        env.reset()


def test_wrong_size_observation_single_env_step() -> None:
    env = wrap_env(MalformedEnv(BOX5, GOOD, BAD, bad_at=1), verbose=False)
    env.reset()
    with pytest.raises(
        ValueError, match=rf"Invalid observation at step 1: shape \(3,\) does not match the {BOX5_TEXT}"
    ):
        _step(env)


def test_wrong_size_reset_after_an_episode_single_env() -> None:
    env = wrap_env(MalformedEnv(BOX5, GOOD, BAD, bad_at=3), verbose=False)  # reset, 2 steps, then the bad reset
    env.reset()
    _step(env)
    with pytest.raises(ValueError, match=rf"Invalid reset observation at step 2: shape \(3,\) .* {BOX5_TEXT}"):
        _step(env)


def test_wrong_rank_observation_single_env() -> None:
    env = wrap_env(MalformedEnv(BOX5, GOOD, GOOD.reshape(1, 5), bad_at=1), verbose=False)
    env.reset()
    with pytest.raises(ValueError, match=r"shape \(1, 5\) does not match .* expected shape \(5,\)"):
        _step(env)


def test_sync_vector_env_names_the_sub_environment() -> None:
    env = _vector(MalformedEnv(BOX5, GOOD), MalformedEnv(BOX5, GOOD, BAD, bad_at=1))
    env.reset()
    message = rf"Invalid observation of sub-environment 1 at step 1: shape \(3,\) does not match the {BOX5_TEXT}: "
    with pytest.raises(ValueError, match=message + r"expected shape \(5,\)$"):
        _step(env)


def test_sync_vector_env_reset() -> None:
    env = _vector(MalformedEnv(BOX5, GOOD, BAD, bad_at=0), MalformedEnv(BOX5, GOOD))
    with pytest.raises(ValueError, match=r"Invalid reset observation of sub-environment 0 at step 0: shape \(3,\)"):
        env.reset()


def test_sync_vector_env_partial_reset() -> None:
    env = _vector(MalformedEnv(BOX5, GOOD), MalformedEnv(BOX5, GOOD, BAD, bad_at=3))
    env.reset()
    _step(env)
    with pytest.raises(ValueError, match=r"Invalid reset observation of sub-environment 1 at step 2: shape \(3,\)"):
        _step(env)  # both episodes end: the masked reset of sub-env 1 returns the bad observation


def test_same_step_final_observation() -> None:
    env = _vector(MalformedEnv(BOX5, GOOD), MalformedEnv(BOX5, GOOD, BAD, bad_at=2), mode=AutoresetMode.SAME_STEP)
    env.reset()
    _step(env)
    with pytest.raises(ValueError, match=r"Invalid final observation of sub-environment 1 at step 2: shape \(3,\)"):
        _step(env)


def test_hand_written_vector_env_batch_shape() -> None:
    wrong_rows = BatchedVectorEnv(BOX5, 2, np.zeros((2, 3), np.float32), np.zeros((2, 5), np.float32))
    message = rf"Invalid reset observation at step 0: shape \(2, 3\) does not match the {BOX5_TEXT}: "
    with pytest.raises(ValueError, match=message + r"expected shape \(2, 5\) \(2 sub-environments\)$"):
        wrap_env(wrong_rows, verbose=False).reset()
    unbatched = wrap_env(BatchedVectorEnv(BOX5, 2, np.zeros((2, 5), np.float32), np.zeros(10, np.float32)))
    unbatched.reset()
    with pytest.raises(ValueError, match=r"Invalid observation at step 1: shape \(10,\) .* expected shape \(2, 5\)"):
        _step(unbatched)


def test_nested_leaf_is_named_by_its_path() -> None:
    bad = nested_observation(1)
    bad["inv"][2]["z"] = np.zeros(4, np.float32)  # flat instead of (2, 2): same size, wrong shape
    env = wrap_env(MalformedEnv(NESTED_SPACE, nested_observation(0), bad, bad_at=1), verbose=False)
    env.reset()
    space = re.escape("observation space Box(-1.0, 1.0, (2, 2), float32) of observation['inv'][2]['z']")
    with pytest.raises(ValueError, match=rf"Invalid observation at step 1: shape \(4,\) does not match the {space}"):
        _step(env)


# ---------------------------------------------------------------- observations: dtype


def test_float_observation_of_a_discrete_space() -> None:
    env = wrap_env(MalformedEnv(spaces.Discrete(5), 2, 2.5, bad_at=1), verbose=False)
    env.reset()
    message = r"Invalid observation at step 1: dtype float64 does not match the observation space Discrete\(5\): "
    with pytest.raises(TypeError, match=message + "expected a bool or integer dtype$"):
        _step(env)


def test_complex_observation_of_a_box_space() -> None:
    env = wrap_env(MalformedEnv(BOX5, GOOD, GOOD.astype(np.complex64), bad_at=1), verbose=False)
    env.reset()
    with pytest.raises(TypeError, match=r"dtype complex64 .* expected a bool, integer or float dtype$"):
        _step(env)


def test_lossless_observation_dtypes_are_accepted() -> None:
    box = wrap_env(MalformedEnv(BOX5, np.arange(5, dtype=np.int16), np.ones(5, np.float64), bad_at=1))
    assert box.reset()[0].tolist() == [[0.0, 1.0, 2.0, 3.0, 4.0]] and box.reset()[0].dtype == torch.float32
    assert _step(box)[0].tolist() == [[1.0] * 5]
    binary = wrap_env(MalformedEnv(spaces.MultiBinary(2), np.array([True, False])), verbose=False)
    assert binary.reset()[0].tolist() == [[1, 0]] and binary.reset()[0].dtype == torch.int32


def test_nan_reward_check_is_kept() -> None:
    class NanReward(MalformedEnv):
        def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
            obs, _, terminated, truncated, infos = super().step(action)
            return obs, float("nan"), terminated, truncated, infos

    env = wrap_env(NanReward(BOX5, GOOD), verbose=False)
    env.reset()
    with pytest.raises(ValueError, match=r"non-finite reward .* at step 1"):
        _step(env)


# ---------------------------------------------------------------- actions: dtype


@pytest.mark.parametrize(
    ("space", "actions"),
    [
        (spaces.Discrete(2), torch.tensor([[0.7], [1.9]])),
        (spaces.Discrete(2), torch.tensor([-0.5, 1.0])),
        (spaces.Discrete(2), torch.tensor([[1.0], [0.0]])),  # exact integers are rejected too
        (spaces.Discrete(2), torch.tensor([[1.0], [0.0]], dtype=torch.bfloat16)),
        (spaces.MultiDiscrete([3, 4]), torch.tensor([[2.0, 3.0], [0.0, 1.5]], dtype=torch.float64)),
        (spaces.MultiBinary(2), torch.tensor([[1.0, 0.0], [0.0, 1.0]])),
    ],
)
def test_float_actions_of_integer_spaces_are_rejected(space: spaces.Space, actions: torch.Tensor) -> None:
    recorders = [ActionRecorder(space), ActionRecorder(space)]
    env = _vector(*recorders)
    env.reset()
    message = rf"Invalid actions dtype {re.escape(str(actions.dtype))} for the action space {re.escape(str(space))}: "
    with pytest.raises(TypeError, match=message + "expected a bool or integer dtype"):
        env.step(actions)
    assert all(not r.actions for r in recorders)  # nothing reached the environments


def test_float_numpy_actions_are_rejected_by_the_core() -> None:
    env = wrap_env(ActionRecorder(spaces.Discrete(2)), verbose=False)
    env.reset()
    with pytest.raises(TypeError, match=r"Invalid actions dtype float32 for the action space Discrete\(2\)"):
        env.step(np.array([[1.0]], np.float32))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_integer_and_bool_actions_are_accepted(dtype: torch.dtype) -> None:
    recorders = [ActionRecorder(spaces.Discrete(2)), ActionRecorder(spaces.Discrete(2))]
    env = _vector(*recorders)
    env.reset()
    env.step(torch.tensor([[1], [0]]).to(dtype))
    assert [int(r.actions[-1]) for r in recorders] == [1, 0]


# ---------------------------------------------------------------- actions: shape

N = 3
ACCEPTED = [
    (spaces.Discrete(4), (N, 1)),
    (spaces.Discrete(4), (N,)),
    (spaces.MultiDiscrete([3, 4]), (N, 2)),
    (spaces.MultiDiscrete([[2, 3], [4, 5]]), (N, 4)),
    (spaces.MultiDiscrete([[2, 3], [4, 5]]), (N, 2, 2)),
    (spaces.MultiBinary(3), (N, 3)),
    (spaces.Box(-9, 9, (1,), np.float32), (N, 1)),
    (spaces.Box(-9, 9, (2,), np.float32), (N, 2)),
    (spaces.Box(-9, 9, (2, 3), np.float32), (N, 6)),
    (spaces.Box(-9, 9, (2, 3), np.float32), (N, 2, 3)),
    (spaces.Box(-9, 9, (), np.float32), (N, 1)),
    (spaces.Box(-9, 9, (), np.float32), (N,)),
]
REJECTED = [
    (spaces.Discrete(4), (N, 2), r"\(3,\) or \(3, 1\)"),
    (spaces.Discrete(4), (1, N), r"\(3,\) or \(3, 1\)"),
    (spaces.MultiDiscrete([3, 4]), (N * 2,), r"\(3, 2\)$"),
    (spaces.MultiBinary(3), (N, 1), r"\(3, 3\)$"),
    (spaces.Box(-9, 9, (1,), np.float32), (N,), r"\(3, 1\)$"),  # rejected: the memory stores (N, 1)
    (spaces.Box(-9, 9, (2,), np.float32), (N * 2,), r"\(3, 2\)$"),
    (spaces.Box(-9, 9, (2,), np.float32), (2, N), r"\(3, 2\)$"),
    (spaces.Box(-9, 9, (2, 3), np.float32), (N, 3, 2), r"\(3, 6\) or \(3, 2, 3\)$"),
]


def _actions(space: spaces.Space, shape: tuple[int, ...]) -> torch.Tensor:
    dtype = torch.float32 if isinstance(space, spaces.Box) else torch.int64
    values = torch.arange(int(np.prod(shape))) % 2
    return values.reshape(shape).to(dtype)


@pytest.mark.parametrize(("space", "shape"), ACCEPTED)
def test_accepted_action_shapes(space: spaces.Space, shape: tuple[int, ...]) -> None:
    recorders = [ActionRecorder(space) for _ in range(N)]
    env = _vector(*recorders)
    env.reset()
    actions = _actions(space, shape)
    env.step(actions)
    per_env = actions.reshape(N, -1).numpy()
    for recorder, expected in zip(recorders, per_env):
        received = np.asarray(recorder.actions[-1])
        assert received.dtype == space.dtype and received.shape == (() if space.shape is None else space.shape)
        np.testing.assert_array_equal(received.reshape(-1), expected)


@pytest.mark.parametrize(("space", "shape", "expected"), REJECTED)
def test_rejected_action_shapes(space: spaces.Space, shape: tuple[int, ...], expected: str) -> None:
    recorders = [ActionRecorder(space) for _ in range(N)]
    env = _vector(*recorders)
    env.reset()
    message = rf"Invalid actions shape {re.escape(str(shape))} for the action space {re.escape(str(space))}: "
    with pytest.raises(ValueError, match=message + "expected " + expected):
        env.step(_actions(space, shape))
    assert all(not r.actions for r in recorders)


def test_single_env_action_shapes() -> None:
    recorder = ActionRecorder(spaces.Discrete(4))
    env = wrap_env(recorder, verbose=False)
    env.reset()
    env.step(torch.tensor([[3]]))
    env.step(torch.tensor([2]))
    assert recorder.actions == [3, 2]
    with pytest.raises(ValueError, match=r"Invalid actions shape \(\) .* expected \(1,\) or \(1, 1\)$"):
        env.step(torch.tensor(1))


# ---------------------------------------------------------------- cost


def test_checked_step_makes_no_host_sync(no_host_syncs: None) -> None:
    env = _vector(ActionRecorder(spaces.Discrete(2)), ActionRecorder(spaces.Discrete(2)))
    env.reset()
    for _ in range(5):
        env.step(torch.ones(2, 1, dtype=torch.int64))
