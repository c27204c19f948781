"""Test-wide settings: every test starts from the same seeds, with one torch thread."""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Iterator
from pathlib import Path

# One thread per process, subprocesses included (example scripts, command runs, distributed ranks inherit this):
# pytest-xdist's workers already share the cores, and a multi-threaded OpenMP/Eigen pool on an oversubscribed machine
# spin-waits (an example script took 7x the CPU time with two torch threads beside the other worker).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import gymnasium
import numpy as np
import pytest
import torch

from steprl import config, logger

# the suite runs strict: an unknown configuration key anywhere in a test is an error, not a warning
config.strict = True

DEFAULT_ENV_SEED = 20261202  # first seed of the sequence unseeded Gymnasium environments and spaces take in a test


_np_random = gymnasium.utils.seeding.np_random


@pytest.fixture(autouse=True)
def _no_os_entropy(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OS entropy: what Gymnasium seeds without a seed (environments reset without one, and the spaces every
    vector environment creates) takes the next seed of a fixed per-test sequence. The global generators are left
    alone, so creating an environment never shifts a test's random numbers."""
    seeds = itertools.count(DEFAULT_ENV_SEED)

    def np_random(seed: int | None = None) -> tuple[np.random.Generator, int]:
        return _np_random(next(seeds) if seed is None else seed)

    monkeypatch.setattr(gymnasium.utils.seeding, "np_random", np_random)


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own temporary directory: what a test writes to a relative path (an agent's default
    ``runs/`` experiment directory, a command's run directory) stays out of the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _deterministic() -> Iterator[None]:
    """Same seeds, one thread, and the CPU as default device (tests marked ``cuda`` opt into the GPU); the global
    settings a test may change (strict mode, default dtype, the logger) are restored, so no test depends on order."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    previous = config.torch.device, config._strict, torch.get_default_dtype()
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    config.torch.device = "cpu"
    yield
    config.torch.device, config._strict = previous[:2]
    torch.set_default_dtype(previous[2])
    torch.set_num_threads(1)
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture
def no_host_syncs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every device-to-host synchronisation (``item``, ``tolist``, ``bool(tensor)``) raise."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("host sync in the per-step path")

    monkeypatch.setattr(torch.Tensor, "item", forbidden)
    monkeypatch.setattr(torch.Tensor, "tolist", forbidden)
    monkeypatch.setattr(torch.Tensor, "__bool__", forbidden)
