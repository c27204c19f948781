"""Tests for steprl.memories.torch (Memory, RandomMemory)."""

from __future__ import annotations

import os

import gymnasium
import numpy as np
import pytest
import torch

from steprl.memories.torch import Memory, RandomMemory, serialization


def make(memory_size: int = 4, num_envs: int = 2, **kwargs: object) -> RandomMemory:
    memory = RandomMemory(memory_size, num_envs, device="cpu", **kwargs)
    memory.create_tensor("states", 3)
    memory.create_tensor("actions", gymnasium.spaces.Discrete(5), dtype=torch.int64)
    memory.create_tensor("rewards", 1)
    return memory


def step(memory: Memory, t: int, n: int | None = None) -> None:
    """Write a step whose values encode (t, env): states = 10*t + env, actions = t, rewards = -t."""
    n = memory.num_envs if n is None else n
    env = torch.arange(n, dtype=torch.float32).view(-1, 1)
    memory.add_samples(
        states=(10 * t + env).repeat(1, 3),
        actions=torch.full((n, 1), t, dtype=torch.int64),
        rewards=torch.full((n, 1), -float(t)),
    )


def fill(memory: Memory, steps: int) -> None:
    for t in range(steps):
        step(memory, t)


# construction


def test_shapes_dtypes_and_nan_init() -> None:
    memory = make()
    assert memory.tensors["states"].shape == (4, 2, 3)
    assert memory.tensors_view["states"].shape == (8, 3)
    assert memory.tensors["actions"].shape == (4, 2, 1)  # Discrete occupies 1
    assert torch.isnan(memory.tensors["states"]).all()
    assert (memory.tensors["actions"] == 0).all()
    assert memory._tensor_states is memory.tensors["states"]
    assert memory.tensors_view["states"].data_ptr() == memory.tensors["states"].data_ptr()
    assert memory.get_tensor_names() == ["actions", "rewards", "states"]
    assert memory.all_sequence_indexes.tolist() == [0, 2, 4, 6, 1, 3, 5, 7]
    assert (memory.filled, memory.memory_index, memory.env_index, len(memory)) == (False, 0, 0, 0)
    assert memory.sampling_indexes is None


def test_keep_dimensions_and_multidiscrete() -> None:
    memory = Memory(3, 2, device="cpu")
    memory.create_tensor("images", gymnasium.spaces.Box(0, 1, (4, 5)), keep_dimensions=True)
    memory.create_tensor("md", gymnasium.spaces.MultiDiscrete([3, 4, 5]))
    assert memory.tensors["images"].shape == (3, 2, 4, 5)
    assert memory.tensors_view["images"].shape == (6, 4, 5)
    assert memory.tensors["md"].shape == (3, 2, 3)


def test_create_tensor_existing_same_and_different() -> None:
    memory = make()
    memory.tensors["states"][0].fill_(1.0)
    assert memory.create_tensor("states", 3) is False
    assert memory.create_tensor("values", 1) is True
    assert (memory.tensors["states"][0] == 1.0).all()  # existing data untouched
    with pytest.raises(ValueError, match="states"):
        memory.create_tensor("states", 4)
    with pytest.raises(ValueError, match="dtype"):
        memory.create_tensor("states", 3, dtype=torch.int32)


def test_constructor_validation() -> None:
    for fmt in ("pt", "np", "npz", "csv"):
        Memory(2, export_format=fmt, device="cpu")
    with pytest.raises(ValueError, match="export_format"):
        Memory(2, export_format="json", device="cpu")
    with pytest.raises(ValueError, match="memory_size"):
        Memory(0, device="cpu")


# add_samples


def test_add_samples_full_rows_wraparound_and_len() -> None:
    memory = make(memory_size=3, num_envs=2)
    step(memory, 0)
    assert (memory.memory_index, len(memory)) == (1, 2)
    assert memory.tensors["states"][0, :, 0].tolist() == [0.0, 1.0]
    step(memory, 1)
    step(memory, 2)
    assert memory.filled and memory.memory_index == 0 and len(memory) == 6
    step(memory, 3)  # overwrites the oldest row
    assert memory.tensors["actions"][:, 0, 0].tolist() == [3, 1, 2]
    assert memory.filled and memory.memory_index == 1 and len(memory) == 6


def test_add_samples_partial_env_rows() -> None:
    memory = make(memory_size=2, num_envs=3)
    step(memory, 5, n=2)
    assert (memory.memory_index, memory.env_index, len(memory)) == (0, 2, 2)
    memory.add_samples(
        states=torch.full((1, 3), 7.0), actions=torch.ones(1, 1, dtype=torch.int64), rewards=torch.ones(1, 1)
    )
    assert (memory.memory_index, memory.env_index, len(memory)) == (1, 0, 3)
    assert memory.tensors["states"][0, :, 0].tolist() == [50.0, 51.0, 7.0]
    step(memory, 1, n=2)
    with pytest.raises(ValueError, match="env_index"):
        step(memory, 1, n=2)


def test_add_samples_one_dimensional() -> None:
    memory = Memory(2, 2, device="cpu")
    memory.create_tensor("states", 3)
    memory.add_samples(states=torch.tensor([1.0, 2.0, 3.0]))
    memory.add_samples(states=torch.tensor([4.0, 5.0, 6.0]))
    assert memory.tensors["states"][0].tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert (memory.memory_index, memory.env_index) == (1, 0)


def test_add_samples_multi_row_single_env_alignment_d12() -> None:
    memory = Memory(5, 1, device="cpu")
    memory.create_tensor("states", 1)
    memory.create_tensor("rewards", 1)
    values = torch.arange(3, dtype=torch.float32).view(-1, 1)
    memory.add_samples(states=values, rewards=-values)
    assert (memory.memory_index, memory.filled) == (3, False)
    memory.add_samples(states=values + 3, rewards=-(values + 3))  # 3, 4 | wrap: 5 -> row 0
    assert (memory.memory_index, memory.filled, len(memory)) == (1, True, 5)
    states = memory.tensors["states"][:, 0, 0]
    rewards = memory.tensors["rewards"][:, 0, 0]
    assert states.tolist() == [5.0, 1.0, 2.0, 3.0, 4.0]
    assert torch.equal(rewards, -states)  # every tensor written to the same rows


def test_add_samples_multi_row_longer_than_memory() -> None:
    memory = Memory(3, 1, device="cpu")
    memory.create_tensor("states", 1)
    memory.add_samples(states=torch.arange(7, dtype=torch.float32).view(-1, 1))
    assert memory.filled and memory.memory_index == 7 % 3
    # the last 3 samples (4, 5, 6) survive at rows (4 % 3, 5 % 3, 6 % 3)
    assert memory.tensors["states"][:, 0, 0].tolist() == [6.0, 4.0, 5.0]


def test_add_samples_errors() -> None:
    memory = make()
    with pytest.raises(ValueError):
        memory.add_samples()
    with pytest.raises(KeyError, match="Did you mean 'rewards'"):
        memory.add_samples(states=torch.zeros(2, 3), reward=torch.zeros(2, 1))
    assert len(memory) == 0 and torch.isnan(memory.tensors["states"]).all()  # nothing written
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        memory.add_samples(states=torch.zeros(3, 3))  # more rows than num_envs=2
    with pytest.raises(ValueError):
        memory.add_samples(states=torch.tensor(1.0))


def test_add_samples_does_not_track_gradients() -> None:
    memory = Memory(2, 1, device="cpu")
    memory.create_tensor("states", 2)
    memory.add_samples(states=torch.ones(1, 2, requires_grad=True))
    assert memory.tensors["states"].grad_fn is None and not memory.tensors["states"].requires_grad


def test_export_on_fill(tmp_path: os.PathLike) -> None:
    memory = make(memory_size=2, export=True, export_format="np", export_directory=str(tmp_path))
    fill(memory, 2)
    files = os.listdir(os.path.join(tmp_path, "memories"))
    assert len(files) == 1 and files[0].endswith(".npz")


# sampling


def test_sample_with_replacement_valid_rows_only() -> None:
    torch.manual_seed(0)
    memory = make(memory_size=10, num_envs=2)
    fill(memory, 3)  # 6 valid rows out of 20
    batches = memory.sample(["states", "actions"], batch_size=64, mini_batches=4)
    assert len(batches) == 4 and all(len(b) == 2 for b in batches)
    assert [b[0].shape[0] for b in batches] == [16, 16, 16, 16]
    states = torch.cat([b[0] for b in batches])
    assert not torch.isnan(states).any()
    assert memory.get_sampling_indexes().max() < 6


def test_sample_without_replacement_unique() -> None:
    memory = make(memory_size=5, num_envs=2, replacement=False)
    fill(memory, 4)
    (batch,) = memory.sample(["states"], batch_size=100)  # truncated to the 8 valid rows
    assert sorted(batch[0][:, 0].tolist()) == sorted(10.0 * t + e for t in range(4) for e in range(2))
    (batch,) = memory.sample(["states"], batch_size=5)
    assert len(set(batch[0][:, 0].tolist())) == 5


def test_sample_sequences_follow_one_env() -> None:
    memory = make(memory_size=6, num_envs=2)
    fill(memory, 6)
    (batch,) = memory.sample(["states"], batch_size=5, sequence_length=3)
    seqs = batch[0][:, 0].view(5, 3)
    assert torch.equal(seqs[:, 1:] - seqs[:, :-1], torch.full((5, 2), 10.0))  # consecutive steps, same env


def test_sample_by_index_array_split() -> None:
    memory = make()
    fill(memory, 4)
    batches = memory.sample_by_index(["actions"], np.arange(7), mini_batches=3)
    assert [b[0].shape[0] for b in batches] == [3, 2, 2]
    assert torch.cat([b[0] for b in batches])[:, 0].tolist() == [0, 0, 1, 1, 2, 2, 3]


def test_sample_all_default_contiguous_and_sequence() -> None:
    memory = make(memory_size=4, num_envs=2)
    fill(memory, 4)
    (batch,) = memory.sample_all(["states"])
    assert batch[0].data_ptr() == memory.tensors_view["states"].data_ptr() and batch[0].shape == (8, 3)
    chunks = memory.sample_all(["actions"], mini_batches=2)
    assert [c[0][:, 0].tolist() for c in chunks] == [[0, 0, 1, 1], [2, 2, 3, 3]]
    (seq,) = memory.sample_all(["states"], sequence_length=2)
    assert seq[0][:, 0].tolist() == [0.0, 10.0, 20.0, 30.0, 1.0, 11.0, 21.0, 31.0]


def test_sample_all_shuffle_is_fresh_permutation() -> None:
    torch.manual_seed(1)
    memory = make(memory_size=8, num_envs=2)
    fill(memory, 8)
    orders = []
    for _ in range(2):
        batches = memory.sample_all(["states", "actions"], mini_batches=4, shuffle=True)
        assert [b[0].shape[0] for b in batches] == [4, 4, 4, 4]
        states = torch.cat([b[0] for b in batches])[:, 0]
        actions = torch.cat([b[1] for b in batches])[:, 0]
        assert sorted(states.tolist()) == sorted(10.0 * t + e for t in range(8) for e in range(2))
        assert torch.equal(torch.div(states, 10, rounding_mode="floor").long(), actions)  # rows aligned
        orders.append(states.tolist())
    assert orders[0] != orders[1]
    assert orders[0] != sorted(orders[0])


def test_sample_all_shuffle_sequences_keeps_blocks() -> None:
    memory = make(memory_size=4, num_envs=2)
    fill(memory, 4)
    (batch,) = memory.sample_all(["states"], sequence_length=2, shuffle=True)
    blocks = batch[0][:, 0].view(-1, 2)
    assert torch.equal(blocks[:, 1] - blocks[:, 0], torch.full((4,), 10.0))
    assert sorted(blocks[:, 0].tolist()) == [0.0, 1.0, 20.0, 21.0]


def test_sample_all_not_full_returns_valid_rows_d28() -> None:
    memory = make(memory_size=10, num_envs=2)
    fill(memory, 3)
    (batch,) = memory.sample_all(["states"])
    assert batch[0].shape[0] == 6 and not torch.isnan(batch[0]).any()
    chunks = memory.sample_all(["states"], mini_batches=4, shuffle=True)
    assert sum(c[0].shape[0] for c in chunks) == 6
    (seq,) = memory.sample_all(["states"], sequence_length=3)
    assert seq[0][:, 0].tolist() == [0.0, 10.0, 20.0, 1.0, 11.0, 21.0]


def test_sampling_unknown_name_raises() -> None:
    memory = make()
    fill(memory, 1)
    with pytest.raises(KeyError, match="Did you mean 'states'"):
        memory.sample_all(["state"])
    with pytest.raises(KeyError):
        memory.get_tensor_by_name("nope")


def test_base_sample_not_implemented_and_misc() -> None:
    memory = Memory(2, 2, device="cpu")
    memory.create_tensor("states", 2)
    with pytest.raises(NotImplementedError):
        memory.sample(["states"], 1)
    memory.set_tensor_by_name("states", torch.ones(2, 2, 2))
    assert (memory.get_tensor_by_name("states", keepdim=False) == 1).all()
    memory.memory_index, memory.filled = 1, True
    memory.reset()
    assert (memory.filled, memory.memory_index, memory.env_index) == (False, 0, 0)
    assert (memory.tensors["states"] == 1).all()
    memory.share_memory()
    assert memory.tensors["states"].is_shared()
    memory.tensors_view["states"].fill_(2.0)
    assert (memory.tensors["states"] == 2).all()


# persistence


@pytest.mark.parametrize("fmt", ["pt", "npz", "np", "csv"])
def test_save_load_round_trip_restores_sampling_storage(tmp_path: os.PathLike, fmt: str) -> None:
    source = make(memory_size=4, num_envs=2)
    source.create_tensor("dones", 1, dtype=torch.bool)
    fill(source, 3)
    source.tensors["dones"][1, 1] = True
    path = source.save(str(tmp_path), format=fmt)
    assert path.endswith(".npz" if fmt in ("np", "npz") else f".{fmt}")
    if fmt == "csv":
        with open(path) as file:
            assert file.readline().strip() == "actions.0,dones.0,rewards.0,states.0,states.1,states.2"

    target = make(memory_size=4, num_envs=2)
    target.create_tensor("dones", 1, dtype=torch.bool)
    storage = target.tensors["states"]
    target.load(path)
    assert len(target) == 6 and not target.filled
    assert target.tensors["states"] is storage and target._tensor_states is storage
    for name in source.get_tensor_names():
        assert torch.equal(target.tensors_view[name][:6], source.tensors_view[name][:6])
    (batch,) = target.sample_all(["states", "dones"])
    assert torch.equal(batch[0], source.tensors_view["states"][:6])
    assert batch[1][3, 0].item() is True


def test_load_into_empty_memory_creates_tensors(tmp_path: os.PathLike) -> None:
    source = make(memory_size=2, num_envs=2)
    fill(source, 2)
    path = source.save(str(tmp_path), format="pt")
    target = RandomMemory(2, 2, device="cpu")
    target.load(path)
    assert target.filled and len(target) == 4
    assert target.get_tensor_names() == source.get_tensor_names()
    assert torch.equal(target.sample_all(["actions"])[0][0], source.tensors_view["actions"])


def test_load_errors(tmp_path: os.PathLike) -> None:
    memory = make()
    with pytest.raises(ValueError, match="extension"):
        memory.load(str(tmp_path / "memory.json"))
    with pytest.raises(ValueError, match="format"):
        memory.save(str(tmp_path), format="json")
    path = make(memory_size=3).save(str(tmp_path), format="pt")
    with pytest.raises(ValueError, match="shape"):
        memory.load(path)


def test_atomic_write_leaves_no_partial_file(tmp_path: os.PathLike, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = make()
    fill(memory, 2)

    def broken(file: object, tensors: object) -> None:
        file.write(b"partial")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "write_pt", broken)
    with pytest.raises(OSError, match="disk full"):
        memory.save(str(tmp_path), format="pt")
    assert os.listdir(os.path.join(tmp_path, "memories")) == []


def test_state_dict_round_trip_restores_contents_and_position() -> None:
    memory = RandomMemory(memory_size=4, num_envs=2)
    memory.create_tensor("states", 3)
    memory.create_tensor("actions", 1, dtype=torch.int64)
    for step in range(5):  # wraps around once
        memory.add_samples(states=torch.full((2, 3), float(step)), actions=torch.full((2, 1), step))
    state = memory.state_dict()

    fresh = RandomMemory(memory_size=4, num_envs=2)  # tensors are created from the state
    fresh.load_state_dict(state)
    assert fresh.filled and (fresh.memory_index, fresh.env_index) == (memory.memory_index, memory.env_index)
    assert torch.equal(fresh.get_tensor_by_name("states"), memory.get_tensor_by_name("states"))
    assert fresh.get_tensor_by_name("actions").dtype == torch.int64
    assert fresh.create_tensor("states", 3) is False  # an agent's init() finds the tensor already there
    fresh.add_samples(states=torch.full((2, 3), 9.0), actions=torch.zeros(2, 1, dtype=torch.int64))
    assert torch.equal(fresh.get_tensor_by_name("states")[1], torch.full((2, 3), 9.0))


def test_state_dict_survives_safe_checkpoint_load(tmp_path: os.PathLike) -> None:
    from steprl.backends.torch_checkpoint import torch_load, torch_save

    memory = RandomMemory(memory_size=3, num_envs=1)
    memory.create_tensor("states", gymnasium.spaces.Box(-1, 1, (2, 2)), keep_dimensions=True)
    memory.add_samples(states=torch.ones(1, 2, 2))
    path = os.path.join(tmp_path, "memory.pt")
    torch_save(memory.state_dict(), path)  # weights_only loading must accept it
    fresh = RandomMemory(memory_size=3, num_envs=1)
    fresh.load_state_dict(torch_load(path))
    assert fresh.tensors_keep_dimensions["states"] and len(fresh) == 1


def test_load_state_dict_rejects_other_sizes() -> None:
    memory = RandomMemory(memory_size=4, num_envs=2)
    memory.create_tensor("states", 3)
    with pytest.raises(ValueError, match="memory_size, num_envs"):
        RandomMemory(memory_size=5, num_envs=2).load_state_dict(memory.state_dict())
    other = RandomMemory(memory_size=4, num_envs=2)
    other.create_tensor("states", 2)
    with pytest.raises(ValueError, match="'states'"):
        other.load_state_dict(memory.state_dict())
