"""JAX losses and GAE: the hand-computed cases every backend runs (values and gradients), and equality with the
PyTorch functions on the same random numbers (GAE to 1e-6, with terminations and truncations)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from helpers.loss_cases import A2C_CASES, GAE_CASES, PPO_CASES

from steprl.agents.jax.a2c.losses import a2c_loss
from steprl.agents.jax.gae import compute_gae
from steprl.agents.jax.ppo.losses import ppo_loss
from steprl.agents.torch.a2c.losses import a2c_loss as torch_a2c_loss
from steprl.agents.torch.gae import compute_gae as torch_compute_gae
from steprl.agents.torch.ppo.losses import ppo_loss as torch_ppo_loss

GRAD_INPUTS = ("log_prob", "predicted_values", "entropy")


def _columns(inputs: dict[str, list]) -> dict[str, jax.Array]:
    return {k: jnp.asarray(v, dtype=jnp.float32).reshape(-1, 1) for k, v in inputs.items()}


def _evaluate(loss: Any, case: dict[str, Any]) -> tuple[jax.Array, dict, dict]:
    inputs = _columns(case["inputs"])
    grad_names = [n for n in GRAD_INPUTS if n in inputs]

    def total(differentiated: dict) -> tuple[jax.Array, dict]:
        return loss(**{**inputs, **differentiated}, **case["kwargs"])

    (value, parts), grads = jax.value_and_grad(total, has_aux=True)({n: inputs[n] for n in grad_names})
    return value, parts, grads


@pytest.mark.parametrize("case", PPO_CASES, ids=[c["id"] for c in PPO_CASES])
def test_ppo_loss_equals_the_hand_computation(case: dict[str, Any]) -> None:
    total, parts, grads = _evaluate(ppo_loss, case)
    for name in ("policy_loss", "value_loss", "entropy_loss", "kl"):
        assert float(parts[name]) == pytest.approx(case["expected"][name], rel=1e-5, abs=1e-7), name
        assert parts[name].shape == ()
    assert float(total) == pytest.approx(case["expected"]["total"], rel=1e-5)
    for name in GRAD_INPUTS:
        np.testing.assert_allclose(
            np.asarray(grads[name]).ravel(), case["grad"][name], rtol=1e-5, atol=1e-7, err_msg=name
        )


def test_ppo_kl_is_not_differentiated() -> None:
    case = PPO_CASES[0]
    inputs = _columns(case["inputs"])
    grad = jax.grad(lambda lp: ppo_loss(**{**inputs, "log_prob": lp}, **case["kwargs"])[1]["kl"])(inputs["log_prob"])
    assert not np.asarray(grad).any()


def test_entropy_is_in_the_differentiated_loss() -> None:
    """skrl 1.x's JAX PPO left the entropy term out of the loss it differentiated: here it is in, with its scale."""
    case = PPO_CASES[0]
    inputs = _columns(case["inputs"])
    kwargs = {**case["kwargs"], "entropy_loss_scale": 0.5}
    grad = jax.grad(lambda e: ppo_loss(**{**inputs, "entropy": e}, **kwargs)[0])(inputs["entropy"])
    np.testing.assert_allclose(np.asarray(grad), np.full((6, 1), -0.5 / 6), rtol=1e-6)
    _, parts = ppo_loss(**{**inputs, "entropy": None}, **kwargs)
    assert float(parts["entropy_loss"]) == 0.0


@pytest.mark.parametrize("case", A2C_CASES, ids=[c["id"] for c in A2C_CASES])
def test_a2c_loss_equals_the_hand_computation(case: dict[str, Any]) -> None:
    total, parts, grads = _evaluate(a2c_loss, case)
    for name in ("policy_loss", "value_loss", "entropy_loss"):
        assert float(parts[name]) == pytest.approx(case["expected"][name], rel=1e-6), name
    assert float(total) == pytest.approx(case["expected"]["total"], rel=1e-6)
    for name in GRAD_INPUTS:
        np.testing.assert_allclose(
            np.asarray(grads[name]).ravel(), case["grad"][name], rtol=1e-6, atol=1e-7, err_msg=name
        )


@pytest.mark.parametrize("case", GAE_CASES, ids=[c["id"] for c in GAE_CASES])
def test_gae_equals_the_hand_computation(case: dict[str, Any]) -> None:
    arrays = {k: jnp.asarray(v)[..., None] for k, v in case["inputs"].items()}
    returns, advantages = compute_gae(**arrays, **case["kwargs"])
    np.testing.assert_allclose(np.asarray(advantages)[..., 0], case["expected"]["advantages"], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(returns)[..., 0], case["expected"]["returns"], rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gae_equals_torch_on_random_rollouts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, n = 64, 5
    rewards, values, next_values = (rng.normal(size=(t, n, 1)).astype(np.float32) for _ in range(3))
    terminated = rng.random((t, n, 1)) < 0.05
    truncated = rng.random((t, n, 1)) < 0.05
    terminated[10, 0] = truncated[10, 0] = True  # both flags on one step
    assert terminated.sum() > 5 and truncated.sum() > 5
    gamma, lam = 0.97, 0.9
    jax_out = compute_gae(*map(jnp.asarray, (rewards, values, next_values, terminated, truncated)), gamma, lam)
    torch_out = torch_compute_gae(
        *map(torch.from_numpy, (rewards, values, next_values, terminated, truncated)), gamma, lam
    )
    for ours, theirs in zip(jax_out, torch_out):
        np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("clip_predicted_values", [False, True])
def test_ppo_loss_equals_torch_on_random_batches(clip_predicted_values: bool) -> None:
    rng = np.random.default_rng(3)
    names = ("log_prob", "old_log_prob", "advantages", "predicted_values", "old_values", "returns", "entropy")
    batch = {k: (0.3 * rng.normal(size=(256, 1))).astype(np.float32) for k in names}
    kwargs = {"ratio_clip": 0.2, "value_clip": 0.1, "clip_predicted_values": clip_predicted_values,
              "entropy_loss_scale": 0.01, "value_loss_scale": 0.5}  # fmt: skip
    total, parts = ppo_loss(**{k: jnp.asarray(v) for k, v in batch.items()}, **kwargs)
    torch_total, torch_parts = torch_ppo_loss(**{k: torch.from_numpy(v) for k, v in batch.items()}, **kwargs)
    assert float(total) == pytest.approx(torch_total.item(), rel=1e-5)
    for name in ("policy_loss", "value_loss", "entropy_loss", "kl"):
        assert float(parts[name]) == pytest.approx(torch_parts[name].item(), rel=1e-5, abs=1e-7), name


def test_a2c_loss_equals_torch_on_random_batches() -> None:
    rng = np.random.default_rng(4)
    names = ("log_prob", "advantages", "predicted_values", "returns", "entropy")
    batch = {k: rng.normal(size=(128, 1)).astype(np.float32) for k in names}
    total, parts = a2c_loss(**{k: jnp.asarray(v) for k, v in batch.items()}, entropy_loss_scale=0.05)
    torch_total, torch_parts = torch_a2c_loss(
        **{k: torch.from_numpy(v) for k, v in batch.items()}, entropy_loss_scale=0.05
    )
    assert float(total) == pytest.approx(torch_total.item(), rel=1e-5)
    for name in ("policy_loss", "value_loss", "entropy_loss"):
        assert float(parts[name]) == pytest.approx(torch_parts[name].item(), rel=1e-5), name
