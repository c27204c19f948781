"""steprl.utils.spaces.jax: the torch module's conversions on JAX arrays (and NumPy arrays with ``_jax=False``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium import spaces

from steprl.utils.spaces import jax as jspaces
from steprl.utils.spaces import torch as tspaces

BOX = spaces.Box(low=-1.0, high=1.0, shape=(2, 3), dtype=np.float64)
DICT = spaces.Dict(
    {"z": spaces.Box(-1, 1, (2,), np.float32), "a": spaces.Discrete(4), "m": spaces.MultiDiscrete([3, 4])}
)
TUPLE = spaces.Tuple((spaces.Box(-1, 1, (3,), np.float32), spaces.Discrete(7)))


@pytest.mark.parametrize("use_jax", [True, False])
def test_box_round_trip(use_jax: bool) -> None:
    BOX.seed(0)
    batch = np.stack([BOX.sample() for _ in range(4)])
    array = jspaces.tensorize_space(BOX, batch, _jax=use_jax)
    assert isinstance(array, jax.Array if use_jax else np.ndarray)
    assert array.dtype == np.float32 and array.shape == (4, 2, 3)
    flat = jspaces.flatten_tensorized_space(array, _jax=use_jax)
    assert flat.shape == (4, 6)
    back = jspaces.untensorize_space(BOX, jspaces.unflatten_tensorized_space(BOX, flat, _jax=use_jax), _jax=use_jax)
    assert back.dtype == np.float64 and np.allclose(back, batch, atol=1e-6)


@pytest.mark.parametrize("use_jax", [True, False])
def test_dict_and_tuple_flatten_like_torch(use_jax: bool) -> None:
    DICT.seed(1)
    TUPLE.seed(2)
    for space in (DICT, TUPLE):
        value = space.sample()
        ours = jspaces.flatten_tensorized_space(jspaces.tensorize_space(space, value, _jax=use_jax), _jax=use_jax)
        theirs = tspaces.flatten_tensorized_space(tspaces.tensorize_space(space, value))
        assert np.allclose(np.asarray(ours), theirs.numpy())
        structure = jspaces.unflatten_tensorized_space(space, ours, _jax=use_jax)
        restored = jspaces.untensorize_space(space, structure, _jax=use_jax)
        if isinstance(space, spaces.Dict):
            assert restored["a"] == value["a"] and list(restored["m"]) == list(value["m"])
        else:
            assert restored[1] == value[1] and np.allclose(restored[0], value[0])


def test_discrete_values_and_squeezing() -> None:
    space = spaces.Discrete(5)
    array = jspaces.tensorize_space(space, [1, 4])
    assert array.dtype == jnp.int32 and array.shape == (2, 1)
    assert jspaces.untensorize_space(space, array).tolist() == [[1], [4]]
    assert jspaces.untensorize_space(space, jnp.array([[3]])) == 3


def test_sample_space_backends_and_seeding() -> None:
    np.random.seed(5)
    first = jspaces.sample_space(DICT, batch_size=3)
    np.random.seed(5)
    again = jspaces.sample_space(DICT, batch_size=3, backend="jax")
    assert isinstance(first["z"], np.ndarray) and isinstance(again["z"], jax.Array)
    assert first["z"].shape == (3, 2) and first["a"].shape == (3, 1) and first["m"].shape == (3, 2)
    assert np.array_equal(np.asarray(again["m"]), first["m"])  # seeded from NumPy's global generator
    with pytest.raises(ValueError, match="'numpy' or 'jax'"):
        jspaces.sample_space(BOX, backend="torch")


def test_unsupported_inputs() -> None:
    with pytest.raises(ValueError, match="Unsupported space"):
        jspaces.tensorize_space(spaces.Text(5), "abc")
    with pytest.raises(ValueError, match="Unsupported value type"):
        jspaces.untensorize_space(BOX, "x")
    with pytest.raises(ValueError, match="Unsupported tensorized value"):
        jspaces.flatten_tensorized_space("x")
    assert jspaces.convert_gym_space is tspaces.convert_gym_space
    assert jspaces.compute_space_size(DICT, occupied_size=True) == 5
