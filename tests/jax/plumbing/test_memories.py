"""steprl.memories.jax on both storage backends (NumPy arrays and jax.Array): the same contract as torch."""

from __future__ import annotations

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.backends import jax_backend

from steprl.memories.jax import Memory, RandomMemory

STORAGE = ("numpy", "jax")


def make(storage: str, memory_size: int = 4, num_envs: int = 2, **kwargs: object) -> RandomMemory:
    with jax_backend(storage):
        memory = RandomMemory(memory_size, num_envs, **kwargs)
    memory.create_tensor("states", 3)
    memory.create_tensor("actions", gymnasium.spaces.Discrete(5), dtype=np.int32)
    memory.create_tensor("terminated", 1, dtype=jnp.bool_)
    return memory


def write(memory: Memory, t: int, n: int | None = None) -> None:
    """states = 10*t + env, actions = t, terminated = t is odd."""
    n = memory.num_envs if n is None else n
    env = np.arange(n, dtype=np.float32).reshape(-1, 1)
    memory.add_samples(
        states=jnp.asarray(np.repeat(10 * t + env, 3, axis=1)),
        actions=np.full((n, 1), t, dtype=np.int32),
        terminated=np.full((n, 1), t % 2 == 1),
    )


@pytest.mark.parametrize("storage", STORAGE)
def test_arrays_of_the_configured_backend_nan_filled(storage: str) -> None:
    memory = make(storage)
    states = memory.get_tensor_by_name("states")
    assert isinstance(states, jax.Array if storage == "jax" else np.ndarray)
    assert states.shape == (4, 2, 3) and np.isnan(np.asarray(states)).all()
    assert np.asarray(memory.get_tensor_by_name("actions")).dtype == np.int32
    assert memory.get_tensor_by_name("states", keepdim=False).shape == (8, 3)
    assert memory.create_tensor("states", 3) is False
    with pytest.raises(ValueError, match="item shape"):
        memory.create_tensor("states", 4)
    with pytest.raises(KeyError, match="Did you mean 'states'"):
        memory.add_samples(state=np.zeros((2, 3)))


@pytest.mark.parametrize("storage", STORAGE)
def test_time_major_writes_wrap_and_sample_all(storage: str) -> None:
    memory = make(storage)
    for t in range(5):
        write(memory, t)
    assert memory.filled and memory.memory_index == 1 and len(memory) == 8
    states = np.asarray(memory.get_tensor_by_name("states"))
    assert states[:, :, 0].tolist() == [[40, 41], [10, 11], [20, 21], [30, 31]]
    (batch,) = memory.sample_all(["states", "terminated"])
    assert np.asarray(batch[0])[:, 0].tolist() == [40, 41, 10, 11, 20, 21, 30, 31]
    assert np.asarray(batch[1]).reshape(-1).tolist() == [False, False, True, True, False, False, True, True]
    chunks = memory.sample_all(["actions"], mini_batches=4)
    assert [np.asarray(c[0]).reshape(-1).tolist() for c in chunks] == [[4, 4], [1, 1], [2, 2], [3, 3]]


@pytest.mark.parametrize("storage", STORAGE)
def test_partial_env_rows_and_time_rows(storage: str) -> None:
    memory = make(storage, num_envs=3)
    write(memory, 1, n=2)
    assert (memory.memory_index, memory.env_index) == (0, 2)
    write(memory, 2, n=1)
    assert (memory.memory_index, memory.env_index) == (1, 0)
    assert np.asarray(memory.get_tensor_by_name("states"))[0, :, 0].tolist() == [10, 11, 20]
    single = make(storage, memory_size=3, num_envs=1)
    values = np.arange(5, dtype=np.float32).reshape(5, 1).repeat(3, axis=1)
    single.add_samples(states=values)
    assert np.asarray(single.get_tensor_by_name("states"))[:, 0, 0].tolist() == [3, 4, 2]
    assert single.filled and single.memory_index == 2


@pytest.mark.parametrize("storage", STORAGE)
def test_random_sampling_with_and_without_replacement(storage: str) -> None:
    np.random.seed(1)
    memory = make(storage)
    for t in range(3):
        write(memory, t)
    batches = memory.sample(["states", "actions"], batch_size=6, mini_batches=2)
    assert len(batches) == 2 and np.asarray(batches[0][0]).shape == (3, 3)
    rows = np.asarray(memory.get_sampling_indexes())
    assert rows.max() < len(memory) == 6
    # each sampled row pairs a state with the action written in the same step
    for states, actions in batches:
        assert (np.asarray(states)[:, 0] // 10 == np.asarray(actions)[:, 0]).all()
    unique = make(storage, replacement=False)
    for t in range(4):
        write(unique, t)
    unique.sample(["states"], batch_size=8)
    assert sorted(np.asarray(unique.get_sampling_indexes()).tolist()) == list(range(8))
    shuffled = unique.sample_all(["states"], mini_batches=2, shuffle=True)
    assert sorted(np.concatenate([np.asarray(b[0])[:, 0] for b in shuffled]).tolist()) == [0, 1, 10, 11, 20, 21, 30, 31]


@pytest.mark.parametrize("storage", STORAGE)
def test_state_dict_and_npz_round_trip(storage: str, tmp_path: object) -> None:
    memory = make(storage)
    for t in range(3):
        write(memory, t)
    restored = make(storage)
    restored.load_state_dict(memory.state_dict())
    assert (restored.memory_index, restored.env_index, restored.filled) == (3, 0, False)
    assert np.array_equal(np.asarray(restored.tensors["actions"]), np.asarray(memory.tensors["actions"]))
    path = memory.save(str(tmp_path))
    assert path.endswith(".npz")
    loaded = make(storage)
    loaded.load(path)
    assert len(loaded) == 6
    assert np.array_equal(np.asarray(loaded.tensors["states"]), np.asarray(memory.tensors["states"]), equal_nan=True)
    with pytest.raises(ValueError, match="num_envs"):
        make(storage, num_envs=3).load_state_dict(memory.state_dict())


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="memory_size"):
        Memory(0)
    with pytest.raises(ValueError, match="export_format"):
        Memory(4, export_format="xls")
    with pytest.raises(NotImplementedError):
        Memory(4).sample(["states"], 2)
