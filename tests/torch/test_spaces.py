"""Tests of steprl.utils.spaces.torch (tensorize / flatten / unflatten / untensorize / sample)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from helpers.spaces_envs import assert_same_structure

import steprl.utils.spaces.common as common
from steprl.utils.spaces.torch import (
    compute_space_size,
    convert_gym_space,
    flatten_tensorized_space,
    sample_space,
    tensorize_space,
    unflatten_tensorized_space,
    untensorize_space,
)

BOX = spaces.Box(low=-1.0, high=1.0, shape=(2, 3), dtype=np.float64)
DISCRETE = spaces.Discrete(5)
MULTI_DISCRETE = spaces.MultiDiscrete([3, 4])
DICT = spaces.Dict({"z": spaces.Box(-1, 1, (2,), np.float32), "a": spaces.Discrete(4), "m": MULTI_DISCRETE})
TUPLE = spaces.Tuple((spaces.Box(-1, 1, (3,), np.float32), spaces.Discrete(7)))


def test_compute_space_size_is_the_common_one() -> None:
    assert compute_space_size is common.compute_space_size
    assert compute_space_size(DICT) == 2 + 4 + 7
    assert compute_space_size(DICT, occupied_size=True) == 2 + 1 + 2


def test_box_round_trip() -> None:
    batch = np.stack([BOX.sample() for _ in range(4)])
    tensor = tensorize_space(BOX, batch)
    assert tensor.dtype == torch.float32 and tensor.shape == (4, 2, 3)
    flat = flatten_tensorized_space(tensor)
    assert flat.shape == (4, 6)
    unflat = unflatten_tensorized_space(BOX, flat)
    assert unflat.shape == (4, 2, 3)
    back = untensorize_space(BOX, unflat)
    assert back.dtype == np.float64 and back.shape == (4, 2, 3)
    np.testing.assert_allclose(back, batch, rtol=1e-6)
    single = untensorize_space(BOX, tensorize_space(BOX, batch[0]))
    assert single.shape == (2, 3)  # batch of 1 squeezed


def test_discrete_round_trip() -> None:
    tensor = tensorize_space(DISCRETE, 3)
    assert tensor.dtype == torch.int32 and tensor.shape == (1, 1)
    assert untensorize_space(DISCRETE, tensor) == 3
    batch = tensorize_space(DISCRETE, np.array([1, 2, 4]))
    assert batch.shape == (3, 1)
    back = untensorize_space(DISCRETE, batch)
    assert back.shape == (3, 1) and back.dtype == DISCRETE.dtype
    assert back.ravel().tolist() == [1, 2, 4]
    assert unflatten_tensorized_space(DISCRETE, flatten_tensorized_space(batch)).shape == (3, 1)


def test_multidiscrete_round_trip() -> None:
    batch = np.array([[0, 3], [2, 1]])
    tensor = tensorize_space(MULTI_DISCRETE, batch)
    assert tensor.dtype == torch.int32 and tensor.shape == (2, 2)
    back = untensorize_space(
        MULTI_DISCRETE, unflatten_tensorized_space(MULTI_DISCRETE, flatten_tensorized_space(tensor))
    )
    np.testing.assert_array_equal(back, batch)
    assert untensorize_space(MULTI_DISCRETE, tensor[:1]).shape == (2,)


def test_dict_flattening_sorts_keys_and_round_trips() -> None:
    value = {"z": np.array([[0.5, -0.5]], np.float32), "a": np.array([3]), "m": np.array([[2, 1]])}
    tensorized = tensorize_space(DICT, value)
    flat = flatten_tensorized_space(tensorized)
    assert flat.dtype == torch.float32 and flat.shape == (1, 5)
    assert flat.tolist() == [[3.0, 2.0, 1.0, 0.5, -0.5]]  # keys a, m, z
    unflat = unflatten_tensorized_space(DICT, flat)
    assert list(unflat) == ["a", "m", "z"]
    back = untensorize_space(DICT, unflat)
    assert back["a"] == 3
    assert_same_structure({"z": [0.5, -0.5], "a": 3, "m": [2, 1]}, back)


def test_tuple_round_trip() -> None:
    samples = [TUPLE.sample() for _ in range(3)]
    batch = (np.stack([s[0] for s in samples]), np.array([s[1] for s in samples]))
    flat = flatten_tensorized_space(tensorize_space(TUPLE, batch))
    assert flat.shape == (3, 4)
    unflat = unflatten_tensorized_space(TUPLE, flat)
    assert isinstance(unflat, list) and unflat[0].shape == (3, 3) and unflat[1].shape == (3, 1)
    back = untensorize_space(TUPLE, unflat)
    assert_same_structure((batch[0], batch[1].reshape(-1, 1)), back)


def test_sample_space_default_backend_is_numpy() -> None:
    sample = sample_space(DICT, batch_size=5)
    assert isinstance(sample["z"], np.ndarray) and sample["z"].shape == (5, 2)
    assert sample["a"].shape == (5, 1) and sample["m"].shape == (5, 2)
    assert sample_space(BOX, 2).shape == (2, 2, 3)
    tensors = sample_space(TUPLE, 3, backend="torch")
    assert isinstance(tensors, tuple) and isinstance(tensors[0], torch.Tensor) and tensors[1].shape == (3, 1)
    with pytest.raises(ValueError, match="backend"):
        sample_space(BOX, 1, backend="jax")


def test_convert_gym_space() -> None:
    batched = spaces.Box(low=np.zeros((4, 3), np.float32), high=np.ones((4, 3), np.float32), dtype=np.float32)
    converted = convert_gym_space(batched, squeeze_batch_dimension=True)
    assert converted.shape == (3,)
    assert convert_gym_space(DICT) == DICT
    assert convert_gym_space(TUPLE) == TUPLE


def test_unsupported_inputs() -> None:
    text = spaces.Text(5)
    with pytest.raises(ValueError, match="Unsupported space"):
        tensorize_space(text, "abc")
    with pytest.raises(ValueError, match="Unsupported space"):
        sample_space(text)
    with pytest.raises(ValueError, match="Unsupported"):
        flatten_tensorized_space("abc")
    with pytest.raises(ValueError, match="Unsupported value"):
        untensorize_space(BOX, np.zeros((1, 2, 3)))
