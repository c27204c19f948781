"""The torch schedulers a preset names, as JAX schedules: the same learning rate at every epoch as torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steprl.cli.jax_schedules import jax_schedule_factory

CASES = [
    ("LinearLR", torch.optim.lr_scheduler.LinearLR, {"start_factor": 1.0, "end_factor": 0.05, "total_iters": 7}),
    ("LinearLR", torch.optim.lr_scheduler.LinearLR, {}),
    ("StepLR", torch.optim.lr_scheduler.StepLR, {"step_size": 3, "gamma": 0.5}),
    ("ExponentialLR", torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.9}),
]


@pytest.mark.parametrize(("name", "torch_class", "kwargs"), CASES)
def test_rates_match_torch_epoch_by_epoch(name: str, torch_class: type, kwargs: dict) -> None:
    learning_rate, mini_batches = 1e-3, 4
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=learning_rate)
    scheduler = torch_class(optimizer, **kwargs)
    schedule = jax_schedule_factory(name, learning_rate, mini_batches)(**kwargs)
    for epoch in range(12):
        expected = optimizer.param_groups[0]["lr"]
        for step in range(mini_batches):  # one optimizer step per mini-batch, the rate constant within an epoch
            assert float(schedule(epoch * mini_batches + step)) == pytest.approx(expected, rel=1e-5)
        optimizer.step()
        scheduler.step()


def test_bad_scheduler_arguments() -> None:
    with pytest.raises(TypeError, match="LinearLR"):
        jax_schedule_factory("LinearLR", 1e-3, 2)(bogus=1)
    with pytest.raises(ValueError, match="total_iters"):
        jax_schedule_factory("LinearLR", 1e-3, 2)(total_iters=0)
    assert np.isfinite(float(jax_schedule_factory("StepLR", 1e-3, 2)(step_size=1)(5)))
