"""Sequence sampling of the recurrent replay agents: windows of consecutive steps of one environment that never cross
the memory's write position, every valid window reachable, and the steps after an in-sequence episode end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steprl.core.sequence_sampling import sample_sequence_rows, sequence_windows, steps_before_episode_end
from steprl.memories.torch import RandomMemory


def filled(memory_size: int, num_envs: int, steps: int) -> RandomMemory:
    """A memory whose ``t`` column holds the global step at which each row was written (``steps`` writes)."""
    memory = RandomMemory(memory_size, num_envs)
    memory.create_tensor("t", 1, torch.float32)
    for step in range(steps):
        memory.add_samples(t=torch.full((num_envs, 1), float(step)))
    return memory


@pytest.mark.parametrize(("steps", "length"), [(7, 3), (10, 3), (13, 4), (16, 4), (23, 1)])
def test_windows_are_consecutive_steps_of_one_environment(steps: int, length: int) -> None:
    torch.manual_seed(0)
    memory = filled(10, 3, steps)
    rows = sample_sequence_rows(memory, length, 4000)
    written = memory.get_tensor_by_name("t", keepdim=False)[rows].view(-1, length)
    # consecutive global steps: the window neither wraps around the arrays nor crosses the write position
    assert torch.equal(written[:, 1:] - written[:, :-1], torch.ones_like(written[:, 1:]))
    assert torch.equal(rows.view(-1, length) % 3, (rows.view(-1, length) % 3)[:, :1].expand(-1, length))
    # every valid window is drawn
    count, skip_from, skip_to = sequence_windows(memory, length)
    starts = set((rows.view(-1, length)[:, 0] // 3).tolist())
    last = min(steps, 10) - length + 1 if not memory.filled else 10 - length + 1
    expected = set(range(last)) - set(range(skip_from, skip_to))
    assert starts == expected and len(expected) == count


def test_a_memory_without_a_whole_sequence_is_an_error() -> None:
    memory = filled(10, 2, 3)
    with pytest.raises(ValueError, match="Cannot sample sequences of 4 steps: the memory holds 3 steps per environment"):
        sample_sequence_rows(memory, 4, 8)


def test_steps_after_an_episode_end_are_marked() -> None:
    done = torch.tensor([[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 1, 0]], dtype=torch.bool).view(-1, 1)
    expected = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.bool).view(-1, 1)
    assert torch.equal(steps_before_episode_end(done, 4), expected)
    assert np.array_equal(steps_before_episode_end(done.numpy(), 4), expected.numpy())  # any backend's arrays
