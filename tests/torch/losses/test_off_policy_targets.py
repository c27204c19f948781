"""DDPG, TD3, DQN/DDQN and SAC: targets (termination stops the bootstrap, truncation does not reach them), target
policy smoothing, double-Q selection and the critic, policy and temperature losses, with their gradients."""

from __future__ import annotations

import pytest
import torch
from helpers.loss_cases import (
    BOOTSTRAPPED_TARGET_CASE,
    CLIPPED_DOUBLE_Q_CASE,
    CRITIC_LOSS_CASE,
    DETERMINISTIC_POLICY_LOSS_CASE,
    DQN_LOSS_CASE,
    DQN_TARGET_CASE,
    SAC_CRITIC_LOSS_CASE,
    SAC_ENTROPY_LOSS_CASE,
    SAC_POLICY_LOSS_CASE,
    SAC_TARGET_CASE,
    SMOOTHING_CASE,
)

from steprl.agents.torch.ddpg.losses import bootstrapped_target, critic_loss, deterministic_policy_loss
from steprl.agents.torch.dqn.losses import dqn_loss, dqn_targets
from steprl.agents.torch.sac.losses import sac_critic_loss, sac_critic_target, sac_entropy_loss, sac_policy_loss
from steprl.agents.torch.td3.losses import clipped_double_q_target, smoothed_target_actions


def col(values: list, dtype: torch.dtype = torch.float64, grad: bool = False) -> torch.Tensor:
    """A ``(B, 1)`` column (bool lists stay bool)."""
    tensor = torch.tensor(values, dtype=torch.bool if isinstance(values[0], bool) else dtype).view(-1, 1)
    return tensor.requires_grad_(True) if grad else tensor


def close(actual: torch.Tensor, expected: list | float) -> None:
    expected_tensor = torch.tensor(expected, dtype=torch.float64)
    torch.testing.assert_close(actual.detach().reshape(-1), expected_tensor.reshape(-1), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------------ DDPG / TD3
def test_bootstrapped_target_masks_only_termination() -> None:
    case = BOOTSTRAPPED_TARGET_CASE
    inputs = {k: col(v) for k, v in case["inputs"].items()}
    close(bootstrapped_target(**inputs, **case["kwargs"]), case["expected"])


def test_critic_loss_one_and_two_critics_with_gradients() -> None:
    case = CRITIC_LOSS_CASE
    q1, q2 = (col(q, grad=True) for q in case["q_values"])
    target = col(case["target"])
    close(critic_loss([q1], target), case["expected_one"])
    loss = critic_loss([q1, q2], target)
    loss.backward()
    close(loss, case["expected_two"])
    close(q1.grad, case["grad_two"][0])
    close(q2.grad, case["grad_two"][1])
    with pytest.raises(ValueError, match="at least one critic"):
        critic_loss([], target)


def test_deterministic_policy_loss_and_gradient() -> None:
    q = col(DETERMINISTIC_POLICY_LOSS_CASE["q_values"], grad=True)
    loss = deterministic_policy_loss(q)
    loss.backward()
    close(loss, DETERMINISTIC_POLICY_LOSS_CASE["expected"])
    close(q.grad, [-1.0 / 3] * 3)


def test_target_policy_smoothing_clips_the_noise_then_the_actions_per_dimension() -> None:
    case = SMOOTHING_CASE
    actions, noise = (torch.tensor(v, dtype=torch.float64) for v in case["inputs"].values())
    low, high = torch.tensor(case["low"], dtype=torch.float64), torch.tensor(case["high"], dtype=torch.float64)
    close(smoothed_target_actions(actions, noise, case["noise_clip"], low, high), case["expected_bounded"])
    close(smoothed_target_actions(actions, noise, case["noise_clip"]), case["expected_unbounded"])
    close(smoothed_target_actions(actions, noise, case["noise_clip"], low=low), case["expected_unbounded"])


def test_clipped_double_q_target_takes_the_minimum_of_every_critic() -> None:
    case = CLIPPED_DOUBLE_Q_CASE
    inputs = {k: col(v) for k, v in case["inputs"].items()}
    critics = [col(q) for q in case["next_q_values"]]
    close(clipped_double_q_target(**inputs, next_q_values=critics[:2], **case["kwargs"]), case["expected_two"])
    close(clipped_double_q_target(**inputs, next_q_values=critics, **case["kwargs"]), case["expected_three"])
    close(clipped_double_q_target(**inputs, next_q_values=critics[::-1], **case["kwargs"]), case["expected_three"])


# ------------------------------------------------------------------------------------------------ DQN / DDQN
def test_dqn_and_double_dqn_targets() -> None:
    case = DQN_TARGET_CASE
    rewards, terminated = col(case["inputs"]["rewards"]), col(case["inputs"]["terminated"])
    next_target = torch.tensor(case["inputs"]["next_target_q"], dtype=torch.float64)
    close(dqn_targets(rewards, terminated, next_target, **case["kwargs"]), case["expected_dqn"])
    online = torch.tensor(case["next_online_q"], dtype=torch.float64)
    double = dqn_targets(rewards, terminated, next_target, next_online_q=online, **case["kwargs"])
    assert double.shape == (3, 1)
    close(double, case["expected_double"])


def test_dqn_loss_reaches_only_the_taken_actions() -> None:
    case = DQN_LOSS_CASE
    q = torch.tensor(case["q_values"], dtype=torch.float64, requires_grad=True)
    targets = col(case["targets"], grad=True)
    loss = dqn_loss(q, torch.tensor(case["actions"]).view(-1, 1), targets)
    loss.backward()
    close(loss, case["expected"])
    close(q.grad, case["grad"])
    assert targets.grad is None  # no gradient flows into the targets


# ------------------------------------------------------------------------------------------------ SAC
def test_sac_target_is_soft_and_masked_by_termination_only() -> None:
    case = SAC_TARGET_CASE
    inputs = {k: col(v, grad=k.startswith("next")) for k, v in case["inputs"].items()}
    target = sac_critic_target(**inputs, **case["kwargs"])
    close(target, case["expected"])
    assert not target.requires_grad
    alpha = torch.tensor(case["kwargs"]["alpha"], dtype=torch.float64)  # a tensor temperature too
    close(sac_critic_target(**inputs, alpha=alpha, discount_factor=case["kwargs"]["discount_factor"]), case["expected"])


def test_sac_critic_loss_and_gradients() -> None:
    case = SAC_CRITIC_LOSS_CASE
    q1, q2, target = col(case["q1"], grad=True), col(case["q2"], grad=True), col(case["target"], grad=True)
    loss = sac_critic_loss(q1, q2, target)
    loss.backward()
    close(loss, case["expected"])
    close(q1.grad, case["grad_q1"])
    close(q2.grad, case["grad_q2"])
    assert target.grad is None


def test_sac_policy_loss_and_gradients() -> None:
    case = SAC_POLICY_LOSS_CASE
    log_prob, q1, q2 = col(case["log_prob"], grad=True), col(case["q1"], grad=True), col(case["q2"], grad=True)
    loss = sac_policy_loss(log_prob, q1, q2, case["alpha"])
    loss.backward()
    close(loss, case["expected"])
    close(log_prob.grad, case["grad_log_prob"])
    close(q1.grad, case["grad_q1"])
    close(q2.grad, case["grad_q2"])


def test_sac_entropy_loss_gradient_goes_to_log_alpha_only() -> None:
    case = SAC_ENTROPY_LOSS_CASE
    log_alpha = torch.tensor(case["log_alpha"], dtype=torch.float64, requires_grad=True)
    log_prob = col(case["log_prob"], grad=True)
    loss = sac_entropy_loss(log_alpha, log_prob, case["target_entropy"])
    loss.backward()
    close(loss, case["expected"])
    close(log_alpha.grad, case["grad_log_alpha"])
    assert log_prob.grad is None
