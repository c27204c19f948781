"""Learning tests of the recurrent agents (marked slow): each remembers a cue it saw two steps before it is rewarded.

In the continuous cue task (``helpers.recurrent_continuous.ContinuousCueEnv``) only the last action of a 3-step
episode is rewarded, with ``1 - |action - cue|``, and the cue is visible only in the first observation: a policy
without memory earns at most 0 on average, one that remembers earns 1. Seed 0, one torch thread.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from helpers.recurrent_continuous import cue_score

FAST = {"actor_learning_rate": 3e-3, "critic_learning_rate": 3e-3, "memory_size": 200, "batch_size": 16,
        "learning_starts": 20}
CASES: dict[str, tuple[int, dict[str, Any]]] = {
    "SAC_RNN": (200, FAST),
    "TD3_RNN": (200, FAST),
    "DDPG_RNN": (200, FAST),
    "RPO_RNN": (240, {"memory_size": 12, "learning_rate": 3e-3, "learning_epochs": 4, "discount_factor": 1.0, "alpha": 0.1}),
    "TRPO_RNN": (240, {"memory_size": 12, "value_learning_rate": 3e-3, "discount_factor": 1.0, "max_kl_divergence": 0.05}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_recurrent_agent_remembers_the_cue(name: str) -> None:
    steps, cfg = CASES[name]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        score = cue_score(name, recurrent_core=True, steps=steps, **cfg)
    finally:
        torch.set_num_threads(threads)
    assert score >= 0.8, f"{name} scored {score:.3f} on the cue task (memoryless policies score <= 0, memory 1)"
