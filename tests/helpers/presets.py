"""Preset tables of the ``steprl`` command on a small budget: every agent updates within a few dozen steps."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from steprl.cli.presets import Preset
from steprl.cli.registry import AGENTS

# the most each budget key may be (the preset's own value when it is smaller)
BUDGET = {"rollouts": 8, "learning_epochs": 2, "learning_starts": 8, "random_timesteps": 4, "batch_size": 16}
CEM_ROLLOUTS = 40  # CEM ranks complete episodes only: its rollout must outlast a random CartPole episode


def small_budget(preset: Preset, **overrides: Any) -> Preset:
    """``preset`` with rollouts, learning epochs, learning start, random steps, batch, replay size and recurrent
    sequence length capped."""
    cfg = dict(preset.agent_cfg)
    defaults = AGENTS[preset.agent].default_config()
    for key, cap in BUDGET.items():
        if key in defaults:
            cap = CEM_ROLLOUTS if (preset.agent, key) == ("cem", "rollouts") else cap
            cfg[key] = min(int(cfg.get(key, defaults[key])), cap)
    cfg.update(overrides)
    network = dict(preset.network)
    if "sequence_length" in network:  # a recurrent rollout must hold whole sequences
        network["sequence_length"] = min(int(network["sequence_length"]), BUDGET["rollouts"])
    return dataclasses.replace(preset, agent_cfg=cfg, network=network, memory_size=min(preset.memory_size, 1000))


def learning_steps(preset: Preset) -> int:
    """Training steps after which an agent of :func:`small_budget` has updated (twice: TD3 delays its policy)."""
    cfg = preset.agent_cfg
    return max(2 * int(cfg.get("rollouts", 1)), int(cfg.get("learning_starts", 0)) + 4)


def parameters(agent: Any) -> list[torch.Tensor]:
    """Copies of every model parameter and buffer of ``agent`` (Q-tables included)."""
    return [t.detach().clone() for m in agent.models.values() if m is not None for t in m.state_dict().values()]
