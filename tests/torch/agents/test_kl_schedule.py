"""The KL-adaptive learning rate receives the update's KL in every rollout agent (a ``None`` KL freezes it)."""

from __future__ import annotations

import pytest
import torch
from helpers.registry import build_agent, make_env

from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.trainers.torch import ManualTrainer


@pytest.mark.parametrize("name", ["ppo", "a2c", "rpo"])
def test_kl_adaptive_learning_rate_moves_after_an_update(name: str) -> None:
    torch.manual_seed(0)
    env = make_env(name)
    # a threshold every update's KL stays far under: the scheduler must raise the learning rate after each epoch
    agent = build_agent(name, env, rollouts=4, learning_epochs=2, mini_batches=1, learning_rate=1e-3,
                        learning_rate_scheduler=KLAdaptiveLR, learning_rate_scheduler_kwargs={"kl_threshold": 1.0})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 8, "headless": True, "disable_progressbar": True})
    for t in range(8):
        trainer.train(timestep=t)
    assert agent.optimizer.param_groups[0]["lr"] > 1e-3, "the scheduler never saw the KL"
