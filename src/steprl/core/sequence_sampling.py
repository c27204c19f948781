"""Sampling whole sequences from a replay memory, for every backend (the recurrent replay agents use it).

A sequence is ``length`` consecutive steps of one environment. Its window never crosses the memory's write position
(where the newest step is followed by the oldest one still stored) and never wraps around the end of the arrays, so
its steps really follow each other in time. It may contain episode ends: the models restart their hidden states after
each (``inputs["terminated"]``), and :func:`steps_before_episode_end` marks the steps a learner can trust after one.

Everything is array arithmetic on the memory's own index arrays (drawn with its RNG): no host synchronisation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steprl.core.memory import MemoryCore

__all__ = ["sample_sequence_rows", "sequence_windows", "steps_before_episode_end"]


def sequence_windows(memory: MemoryCore, length: int) -> tuple[int, int, int]:
    """``(count, skip_from, skip_to)``: the number of valid start steps and the excluded start range ``[skip_from,
    skip_to)`` (the windows that would cross the write position); valid start steps are ``[0, count + skip_to -
    skip_from)`` minus that range."""
    if length < 1:
        raise ValueError(f"sequence length must be >= 1, got {length}")
    if not memory.filled:
        return max(0, memory.memory_index - length + 1), 0, 0
    last = memory.memory_size - length + 1  # start steps whose window does not wrap around the arrays' end
    seam = memory.memory_index  # the oldest stored step: a window holding it after an earlier step crosses the seam
    skip_from, skip_to = min(max(seam - length + 1, 0), last), min(max(seam, 0), last)
    return max(0, last - (skip_to - skip_from)), skip_from, skip_to


def sample_sequence_rows(memory: MemoryCore, length: int, count: int) -> Any:
    """Flat memory rows of ``count`` random sequences of ``length`` steps, sequence after sequence (``count *
    length`` rows as the memory's index array); ``ValueError`` when the memory holds no whole sequence yet."""
    windows, skip_from, skip_to = sequence_windows(memory, length)
    if windows <= 0:
        raise ValueError(
            f"Cannot sample sequences of {length} steps: the memory holds {len(memory) // memory.num_envs} steps per "
            f"environment (start learning later, e.g. a larger learning_starts, or use a shorter sequence_length)"
        )
    n = memory.num_envs
    draws = memory._randint(windows * n, count)
    steps = draws // n
    envs = draws - steps * n
    steps = steps + (steps >= skip_from) * (skip_to - skip_from)  # jump over the excluded start steps
    offsets = memory._index(np.arange(length) * n)
    starts = steps * n + envs
    return (starts.reshape(-1, 1) + offsets).reshape(-1)


def steps_before_episode_end(done: Any, length: int) -> Any:
    """Bool ``(rows, 1)``: whether no episode ended earlier in a step's sequence (``done``: ``(rows, 1)``, the episode
    ends of whole sequences of ``length`` rows). A step after an episode end holds a new episode whose first
    observation a next-state pass over the sequence cannot see, so its bootstrapped target is not exact."""
    ends = done.reshape(-1, length) * 1
    return ((ends.cumsum(axis=1) - ends) == 0).reshape(-1, 1)
