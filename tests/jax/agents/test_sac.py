"""JAX SAC: skrl's config keys, the losses equal the torch losses on the hand-computed cases, the squashed Gaussian's
log-probability equals torch's, and a checkpoint holds the complete state (a resumed run is bit-identical)."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from helpers.jax_offpolicy import assert_resume_is_bit_identical, build_replay_agent, fill_memory, pendulum
from helpers.loss_cases import SAC_CRITIC_LOSS_CASE, SAC_ENTROPY_LOSS_CASE, SAC_POLICY_LOSS_CASE, SAC_TARGET_CASE

from steprl.agents.jax.sac import SAC_DEFAULT_CONFIG
from steprl.agents.jax.sac.losses import sac_critic_loss, sac_critic_target, sac_entropy_loss, sac_policy_loss
from steprl.agents.torch.sac import SAC_DEFAULT_CONFIG as TORCH_SAC_DEFAULT_CONFIG
from steprl.agents.torch.sac import losses as torch_losses
from steprl.core.agent import META_KEY
from steprl.models.jax.networks.sac import squashed_gaussian_sample
from steprl.models.torch.networks.sac import squashed_gaussian_sample as torch_squashed_gaussian_sample


def _col(values: list) -> jax.Array:
    return jnp.asarray(values, dtype=jnp.float32).reshape(-1, 1)


def _tcol(values: list) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).reshape(-1, 1)


def test_default_config_is_torch_config_without_mixed_precision() -> None:
    expected = {k: v for k, v in TORCH_SAC_DEFAULT_CONFIG.items() if k != "mixed_precision"}
    assert list(SAC_DEFAULT_CONFIG) == list(expected)
    assert SAC_DEFAULT_CONFIG == expected


def test_critic_target_stops_at_termination_only_as_torch() -> None:
    case = SAC_TARGET_CASE
    inputs = case["inputs"]
    args = [_col(inputs[k]) for k in ("rewards", "terminated", "next_q1", "next_q2", "next_log_prob")]
    target = sac_critic_target(*args, **case["kwargs"])
    np.testing.assert_allclose(np.asarray(target).reshape(-1), case["expected"], rtol=1e-6)
    torch_args = [_tcol(inputs[k]) for k in ("rewards", "terminated", "next_q1", "next_q2", "next_log_prob")]
    torch_target = torch_losses.sac_critic_target(*torch_args, **case["kwargs"])
    np.testing.assert_allclose(np.asarray(target), torch_target.numpy(), rtol=1e-6)


def test_critic_loss_and_gradients() -> None:
    case = SAC_CRITIC_LOSS_CASE
    loss, (g1, g2) = jax.value_and_grad(sac_critic_loss, argnums=(0, 1))(_col(case["q1"]), _col(case["q2"]), _col(case["target"]))
    assert float(loss) == case["expected"]
    np.testing.assert_allclose(np.asarray(g1).reshape(-1), case["grad_q1"])
    np.testing.assert_allclose(np.asarray(g2).reshape(-1), case["grad_q2"])
    torch_loss = torch_losses.sac_critic_loss(_tcol(case["q1"]), _tcol(case["q2"]), _tcol(case["target"]))
    assert float(loss) == float(torch_loss)


def test_policy_loss_and_gradients() -> None:
    case = SAC_POLICY_LOSS_CASE
    grad = jax.value_and_grad(sac_policy_loss, argnums=(0, 1, 2))
    loss, (g_log_prob, g1, g2) = grad(_col(case["log_prob"]), _col(case["q1"]), _col(case["q2"]), case["alpha"])
    assert float(loss) == case["expected"]
    np.testing.assert_allclose(np.asarray(g_log_prob).reshape(-1), case["grad_log_prob"])
    np.testing.assert_allclose(np.asarray(g1).reshape(-1), case["grad_q1"])
    np.testing.assert_allclose(np.asarray(g2).reshape(-1), case["grad_q2"])
    torch_loss = torch_losses.sac_policy_loss(_tcol(case["log_prob"]), _tcol(case["q1"]), _tcol(case["q2"]), case["alpha"])
    assert float(loss) == float(torch_loss)


def test_temperature_loss_moves_log_alpha_only() -> None:
    case = SAC_ENTROPY_LOSS_CASE
    loss, (g_alpha, g_log_prob) = jax.value_and_grad(sac_entropy_loss, argnums=(0, 1))(
        jnp.float32(case["log_alpha"]), _col(case["log_prob"]), case["target_entropy"]
    )
    np.testing.assert_allclose(float(loss), case["expected"], rtol=1e-6)
    np.testing.assert_allclose(float(g_alpha), case["grad_log_alpha"], rtol=1e-6)
    assert not np.asarray(g_log_prob).any()
    torch_loss = torch_losses.sac_entropy_loss(
        torch.tensor(case["log_alpha"]), _tcol(case["log_prob"]), case["target_entropy"]
    )
    np.testing.assert_allclose(float(loss), float(torch_loss), rtol=1e-6)


def test_squashed_gaussian_log_prob_equals_torch() -> None:
    rng = np.random.default_rng(0)
    mean, log_std, noise = (rng.normal(size=(5, 2)).astype(np.float32) for _ in range(3))
    scale, bias = np.array([2.0, 0.5], np.float32), np.array([0.0, 1.0], np.float32)
    actions, log_prob = squashed_gaussian_sample(jnp.asarray(mean), jnp.asarray(log_std), scale, bias, jnp.asarray(noise))
    t = torch.as_tensor
    torch_actions, torch_log_prob = torch_squashed_gaussian_sample(
        t(mean), t(log_std), t(scale), t(bias), t(scale).log().sum(), t(noise)
    )
    np.testing.assert_allclose(np.asarray(actions), torch_actions.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(log_prob), torch_log_prob.numpy(), rtol=1e-5, atol=1e-5)


def test_checkpoint_holds_the_complete_state_and_a_resumed_run_is_bit_identical(tmp_path: Path) -> None:
    state = assert_resume_is_bit_identical("sac", str(tmp_path / "agent.ckpt"))
    assert set(state) - {META_KEY} == {
        "policy", "critic_1", "critic_2", "target_critic_1", "target_critic_2", "policy_optimizer",
        "critic_1_optimizer", "critic_2_optimizer", "entropy_optimizer", "log_entropy_coefficient", "memory",
    }  # fmt: skip
    assert float(np.exp(state["log_entropy_coefficient"]["log_alpha"])) != pytest.approx(0.2)  # learned, stored


def test_fixed_temperature_is_not_learned_nor_stored() -> None:
    env = pendulum(num_envs=2)
    agent = build_replay_agent("sac", env, learn_entropy=False, initial_entropy_value=0.5)
    agent.init({"timesteps": 10})
    fill_memory(agent, rows=10)
    agent._update(0, 10)
    assert "log_entropy_coefficient" not in agent.checkpoint_modules and agent.entropy_optimizer is None
    np.testing.assert_allclose(float(agent.entropy_coefficient), 0.5, rtol=1e-6)
