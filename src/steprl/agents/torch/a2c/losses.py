"""A2C's loss as a pure function of batch tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def a2c_loss(
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    predicted_values: torch.Tensor,
    returns: torch.Tensor,
    entropy: torch.Tensor | None,
    entropy_loss_scale: float = 0.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Policy gradient + value MSE − entropy bonus; returns ``(total_loss, parts)``::

        policy_loss  = -mean(advantages · log_prob)
        value_loss   = mean((returns - predicted_values)²)
        entropy_loss = -entropy_loss_scale · mean(entropy)      (0 when the scale is 0 or entropy is None)

    ``parts`` holds ``policy_loss``, ``value_loss`` and ``entropy_loss``, 0-d tensors still on the device.
    """
    policy_loss = -(advantages * log_prob).mean()
    value_loss = F.mse_loss(returns, predicted_values)
    if entropy is not None and entropy_loss_scale:
        entropy_loss = -entropy_loss_scale * entropy.mean()
    else:
        entropy_loss = torch.zeros((), device=log_prob.device)
    total = policy_loss + entropy_loss + value_loss
    return total, {"policy_loss": policy_loss, "value_loss": value_loss, "entropy_loss": entropy_loss}
