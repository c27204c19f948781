"""The replay sampler's boundaries: which rows can be drawn, sequence expansion and mini-batch splits at their
smallest sizes (the cases where an off-by-one in the sampler changes what the agents learn from)."""

from __future__ import annotations

import pytest
import torch

from steprl.memories.torch import RandomMemory


def memory_with(rows_per_env: list[int], memory_size: int = 8) -> RandomMemory:
    """A memory of ``len(rows_per_env)`` envs whose ``index`` tensor holds each row's flat index ``t * N + env``,
    written for ``max(rows_per_env)`` steps (fewer envs on the last step when the counts differ)."""
    num_envs = len(rows_per_env)
    memory = RandomMemory(memory_size, num_envs, device="cpu")
    memory.create_tensor("index", 1)
    for t in range(max(rows_per_env)):
        envs = sum(count > t for count in rows_per_env)
        memory.add_samples(index=(t * num_envs + torch.arange(envs, dtype=torch.float32)).view(-1, 1))
    return memory


def test_sampling_an_empty_memory_or_too_long_a_sequence_raises() -> None:
    memory = memory_with([1, 1])
    with pytest.raises(ValueError, match="Cannot sample: the memory holds 2 rows"):
        memory.sample(["index"], batch_size=4, sequence_length=2)  # 2 rows - (2 - 1)·2 envs = 0 start rows
    empty = RandomMemory(4, 2, device="cpu")
    empty.create_tensor("index", 1)
    with pytest.raises(ValueError, match="Cannot sample"):
        empty.sample(["index"], batch_size=1)


def test_a_single_valid_row_is_sampled() -> None:
    memory = memory_with([1])
    (batch,) = memory.sample(["index"], batch_size=5)
    assert batch[0].view(-1).tolist() == [0.0] * 5


def test_every_valid_row_can_be_drawn_and_no_other() -> None:
    torch.manual_seed(0)
    memory = memory_with([2, 2])  # rows 0..3 of 16
    (batch,) = memory.sample(["index"], batch_size=400)
    assert sorted(set(batch[0].view(-1).tolist())) == [0.0, 1.0, 2.0, 3.0]
    without = RandomMemory(8, 2, device="cpu", replacement=False)
    without.create_tensor("index", 1)
    without.add_samples(index=torch.tensor([[0.0], [1.0]]))
    (batch,) = without.sample(["index"], batch_size=10)
    assert sorted(batch[0].view(-1).tolist()) == [0.0, 1.0]


def test_two_step_sequences_follow_one_env() -> None:
    torch.manual_seed(0)
    memory = memory_with([3, 3])
    (batch,) = memory.sample(["index"], batch_size=6, sequence_length=2)
    pairs = batch[0].view(6, 2)
    assert torch.equal(pairs[:, 1] - pairs[:, 0], torch.full((6,), 2.0))  # the same env one step later
    assert pairs[:, 0].max() <= 3.0  # starts leave room for the second step
    assert torch.equal(memory.get_sampling_indexes().view(6, 2).float(), pairs)


def test_sample_by_index_splits_into_two_mini_batches() -> None:
    memory = memory_with([3, 3])
    batches = memory.sample_by_index(["index"], torch.tensor([5, 0, 3]), mini_batches=2)
    assert [b[0].view(-1).tolist() for b in batches] == [[5.0, 0.0], [3.0]]
    (single,) = memory.sample_by_index(["index"], torch.tensor([4, 1]))
    assert single[0].view(-1).tolist() == [4.0, 1.0]


def test_sample_all_of_a_single_row_and_of_an_empty_memory() -> None:
    memory = memory_with([1])
    (batch,) = memory.sample_all(["index"])
    assert batch[0].view(-1).tolist() == [0.0]
    (shuffled,) = memory.sample_all(["index"], shuffle=True)
    assert shuffled[0].view(-1).tolist() == [0.0]
    empty = RandomMemory(4, 1, device="cpu")
    empty.create_tensor("index", 1)
    with pytest.raises(ValueError, match="empty memory"):
        empty.sample_all(["index"])
