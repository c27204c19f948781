"""Complete-state comparison for checkpoint tests: one recursive equality for nested states, the whole state of an
agent (every checkpoint module, every numeric counter) and draws from every random-number generator."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch


def assert_state_equal(expected: Any, actual: Any, where: str = "state") -> None:
    """Assert that two nested structures (mappings, sequences, tensors, arrays, numbers) are equal, by value.

    Tensors must match in dtype, shape and every element (NaN equals NaN); mappings must have the same keys.
    The message names the first path that differs (e.g. ``state.optimizer.state.3.exp_avg_sq``).
    """
    if isinstance(expected, torch.Tensor) or isinstance(actual, torch.Tensor):
        assert isinstance(expected, torch.Tensor) and isinstance(actual, torch.Tensor), f"{where}: tensor vs non-tensor"
        assert expected.dtype == actual.dtype, f"{where}: dtype {expected.dtype} != {actual.dtype}"
        assert expected.shape == actual.shape, f"{where}: shape {tuple(expected.shape)} != {tuple(actual.shape)}"
        assert torch.equal(expected.cpu(), actual.cpu()) or bool(
            torch.equal(expected.isnan(), actual.isnan()) and torch.equal(expected.nan_to_num(), actual.nan_to_num())
        ), f"{where}: tensors differ (max |diff| {(expected.double() - actual.double()).abs().max().item():.3g})"
    elif isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        assert isinstance(expected, np.ndarray) and isinstance(actual, np.ndarray), f"{where}: array vs non-array"
        assert expected.dtype == actual.dtype and expected.shape == actual.shape, f"{where}: dtype/shape differ"
        assert np.array_equal(expected, actual, equal_nan=expected.dtype.kind == "f"), f"{where}: arrays differ"
    elif isinstance(expected, Mapping):
        assert isinstance(actual, Mapping), f"{where}: mapping vs {type(actual).__name__}"
        assert set(expected) == set(actual), f"{where}: keys {sorted(map(str, expected))} != {sorted(map(str, actual))}"
        for key in expected:
            assert_state_equal(expected[key], actual[key], f"{where}.{key}")
    elif isinstance(expected, Sequence) and not isinstance(expected, str):
        assert isinstance(actual, Sequence) and not isinstance(actual, str), (
            f"{where}: sequence vs {type(actual).__name__}"
        )
        assert len(expected) == len(actual), f"{where}: length {len(expected)} != {len(actual)}"
        for i, (a, b) in enumerate(zip(expected, actual)):
            assert_state_equal(a, b, f"{where}.{i}")
    elif isinstance(expected, float) and isinstance(actual, float) and np.isnan(expected):
        assert np.isnan(actual), f"{where}: nan != {actual!r}"
    else:
        assert type(expected) is type(actual) or (
            isinstance(expected, int | float) and isinstance(actual, int | float) and not isinstance(actual, bool)
        ), f"{where}: {type(expected).__name__} != {type(actual).__name__}"
        assert expected == actual, f"{where}: {expected!r} != {actual!r}"


def tensor_leaves(state: Any) -> list[torch.Tensor]:
    """Every tensor of a nested structure, depth first."""
    if isinstance(state, torch.Tensor):
        return [state]
    if isinstance(state, Mapping):
        return [t for value in state.values() for t in tensor_leaves(value)]
    if isinstance(state, Sequence) and not isinstance(state, str):
        return [t for value in state for t in tensor_leaves(value)]
    return []


def agent_state(agent: Any) -> dict[str, Any]:
    """Everything a resumed agent must have back: each checkpoint module's ``state_dict()`` (models, optimizers with
    every per-parameter tensor, schedulers, preprocessors' running statistics, memory) and each numeric attribute of
    the agent (timestep, training_steps, rollout position, update counters, ...), deep-copied."""
    modules = {
        name: _copy(module.state_dict() if hasattr(module, "state_dict") else module)
        for name, module in agent.checkpoint_modules.items()
        if module is not None
    }
    counters = {
        name: _copy(value)
        for name, value in vars(agent).items()
        if isinstance(value, int | float | torch.Tensor)
        and not isinstance(value, bool)
        and name != "checkpoint_timestep"
    }
    return {"modules": modules, "counters": counters}


def rng_draws() -> dict[str, Any]:
    """The next draws of torch's, NumPy's and Python's generators (equal draws: equal generator states)."""
    return {
        "torch": torch.rand(4),
        "numpy": np.random.rand(4),
        "numpy_gauss": np.random.standard_normal(3),
        "python": [random.random() for _ in range(4)],
        "python_gauss": [random.gauss(0.0, 1.0) for _ in range(3)],
    }


def scramble_rngs(seed: int) -> None:
    """Move every generator elsewhere (as a new process would start)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _copy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value
