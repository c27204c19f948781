"""Test-wide settings: every test starts from the same seeds, with one torch thread."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from steprl import config

# the suite runs strict: an unknown configuration key anywhere in a test is an error, not a warning
config.strict = True


@pytest.fixture(autouse=True)
def _deterministic() -> Iterator[None]:
    """Same seeds, one thread, and the CPU as default device (tests marked ``cuda`` opt into the GPU)."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    previous = config.torch.device
    config.torch.device = "cpu"
    yield
    config.torch.device = previous


@pytest.fixture
def no_host_syncs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every device-to-host synchronisation (``item``, ``tolist``, ``bool(tensor)``) raise."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("host sync in the per-step path")

    monkeypatch.setattr(torch.Tensor, "item", forbidden)
    monkeypatch.setattr(torch.Tensor, "tolist", forbidden)
    monkeypatch.setattr(torch.Tensor, "__bool__", forbidden)
