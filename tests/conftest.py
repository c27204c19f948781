"""Test-wide settings: every test starts from the same seeds, with one torch thread."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _deterministic() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(1)


@pytest.fixture
def no_host_syncs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every device-to-host synchronisation (``item``, ``tolist``, ``bool(tensor)``) raise."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("host sync in the per-step path")

    monkeypatch.setattr(torch.Tensor, "item", forbidden)
    monkeypatch.setattr(torch.Tensor, "tolist", forbidden)
    monkeypatch.setattr(torch.Tensor, "__bool__", forbidden)
