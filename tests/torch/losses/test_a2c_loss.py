"""A2C: every term of the loss and its gradient against a hand-computed case."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from helpers.loss_cases import A2C_CASES

from steprl.agents.torch.a2c.losses import a2c_loss

GRAD_INPUTS = ("log_prob", "predicted_values", "entropy")


@pytest.mark.parametrize("case", A2C_CASES, ids=[c["id"] for c in A2C_CASES])
def test_values_and_gradients_equal_the_hand_computation(case: dict[str, Any]) -> None:
    inputs = {k: torch.tensor(v, dtype=torch.float64).view(-1, 1) for k, v in case["inputs"].items()}
    for name in GRAD_INPUTS:
        inputs[name].requires_grad_(True)
    total, parts = a2c_loss(**inputs, **case["kwargs"])
    total.backward()
    for name in ("policy_loss", "value_loss", "entropy_loss"):
        assert parts[name].item() == pytest.approx(case["expected"][name], rel=1e-12), name
    assert total.item() == pytest.approx(case["expected"]["total"], rel=1e-12)
    for name in GRAD_INPUTS:
        torch.testing.assert_close(inputs[name].grad.view(-1).tolist(), case["grad"][name], rtol=1e-12, atol=0.0)
    assert inputs["advantages"].grad is None and inputs["returns"].grad is None


def test_no_entropy_bonus_without_a_scale_or_an_entropy() -> None:
    case = A2C_CASES[0]
    inputs = {k: torch.tensor(v, dtype=torch.float64).view(-1, 1) for k, v in case["inputs"].items()}
    total, parts = a2c_loss(**inputs, entropy_loss_scale=0.0)
    assert parts["entropy_loss"].item() == 0.0
    assert total.item() == pytest.approx(case["expected"]["policy_loss"] + case["expected"]["value_loss"])
    inputs["entropy"] = None
    _, parts = a2c_loss(**inputs, entropy_loss_scale=0.1)
    assert parts["entropy_loss"].item() == 0.0
