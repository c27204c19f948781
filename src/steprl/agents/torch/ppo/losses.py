"""PPO's loss as a pure function of batch tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def ppo_loss(
    log_prob: torch.Tensor,
    old_log_prob: torch.Tensor,
    advantages: torch.Tensor,
    predicted_values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    entropy: torch.Tensor | None,
    ratio_clip: float = 0.2,
    value_clip: float = 0.2,
    clip_predicted_values: bool = False,
    entropy_loss_scale: float = 0.0,
    value_loss_scale: float = 1.0,
    with_kl: bool = True,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Clipped surrogate + scaled value MSE − entropy bonus; returns ``(total_loss, parts)``.

    ``parts`` holds ``policy_loss``, ``value_loss``, ``entropy_loss`` and (``with_kl``) ``kl``, the approximate KL
    of the old policy to the new one, ``E[(r - 1) - log r]``; all 0-d tensors still on the device.
    """
    log_ratio = log_prob - old_log_prob
    ratio = torch.exp(log_ratio)
    surrogate = advantages * ratio
    surrogate_clipped = advantages * torch.clamp(ratio, 1.0 - ratio_clip, 1.0 + ratio_clip)
    policy_loss = -torch.min(surrogate, surrogate_clipped).mean()

    if clip_predicted_values:
        predicted_values = old_values + torch.clamp(predicted_values - old_values, -value_clip, value_clip)
    value_loss = F.mse_loss(returns, predicted_values)
    if value_loss_scale != 1.0:
        value_loss = value_loss_scale * value_loss
    total = policy_loss + value_loss

    if entropy is not None and entropy_loss_scale:
        entropy_loss = -entropy_loss_scale * entropy.mean()
        total = total + entropy_loss
    else:
        entropy_loss = torch.zeros((), device=log_prob.device)

    parts = {"policy_loss": policy_loss, "value_loss": value_loss, "entropy_loss": entropy_loss}
    if with_kl:
        with torch.no_grad():
            parts["kl"] = ((ratio - 1.0) - log_ratio).mean()
    return total, parts
