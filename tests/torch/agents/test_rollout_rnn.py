"""RPO_RNN and TRPO_RNN: the recurrent rollout machinery under RPO's perturbed policy and TRPO's natural-gradient
step on whole sequences; checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.ppo import QUIET
from helpers.recurrent_continuous import box_counting_vec, build_agent

from steprl.agents.torch.recurrent import RecurrentRolloutMixin
from steprl.agents.torch.rpo import RPO, RPO_DEFAULT_CONFIG, RPO_RNN
from steprl.agents.torch.trpo import TRPO, TRPO_DEFAULT_CONFIG, TRPO_RNN
from steprl.trainers.torch import ManualTrainer


def collected(name: str, steps: int = 16, cell: str = "gru", **cfg):
    """An agent whose first rollout (``steps`` steps of 3 environments, episode ends inside sequences) is stored."""
    torch.manual_seed(0)
    env = box_counting_vec(3, truncate=True)
    agent = build_agent(name, env, memory_size=steps, network={"cell": cell}, **cfg)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    agent.post_interaction = lambda timestep, timesteps: None  # keep the rollout, no update
    for t in range(steps):
        trainer.train(timestep=t)
    return agent, trainer


def test_exports():
    from steprl.agents.torch.rpo.rpo_rnn import RPO_DEFAULT_CONFIG as RPO_CFG
    from steprl.agents.torch.rpo.rpo_rnn import RPO_RNN as R
    from steprl.agents.torch.trpo.trpo_rnn import TRPO_DEFAULT_CONFIG as TRPO_CFG
    from steprl.agents.torch.trpo.trpo_rnn import TRPO_RNN as T

    assert R is RPO_RNN and issubclass(RPO_RNN, RPO) and issubclass(RPO_RNN, RecurrentRolloutMixin)
    assert T is TRPO_RNN and issubclass(TRPO_RNN, TRPO) and issubclass(TRPO_RNN, RecurrentRolloutMixin)
    assert RPO_CFG is RPO_DEFAULT_CONFIG and TRPO_CFG is TRPO_DEFAULT_CONFIG


def test_rpo_rnn_keeps_the_acting_log_probs_and_passes_alpha_everywhere_in_training():
    agent, trainer = collected("RPO_RNN", alpha=0.5)
    stored = agent.memory.get_tensor_by_name("log_prob").clone()
    assert torch.isfinite(stored).all()
    agent.set_mode("train")
    _, _, log_prob = agent._evaluate_rollout()
    assert torch.equal(log_prob, stored)  # a fresh perturbation would not reproduce them
    agent._prepare_rollout()
    seen = []
    original = agent.policy.act
    agent.policy.act = lambda inputs, role="": seen.append(inputs.get("alpha")) or original(inputs, role=role)
    for _, policy_inputs, value_inputs in agent._minibatches():
        assert policy_inputs["alpha"] == 0.5 and set(policy_inputs) == {"rnn", "terminated", "alpha"}
        assert "alpha" not in value_inputs
    agent.set_mode("eval")  # acting runs the models' single-step branch
    agent.set_running_mode("eval")
    agent.act(torch.zeros(3, 3), 0, 16)
    agent.set_running_mode("train")
    agent.act(torch.zeros(3, 3), 0, 16)
    assert seen == [None, 0.5]  # evaluation acts with the unperturbed mean


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_trpo_rnn_policy_step_sees_whole_sequences_that_replay_the_rollout(cell):
    agent, _ = collected("TRPO_RNN", steps=16, cell=cell)
    agent.set_mode("train")
    agent._prepare_rollout()
    inputs, old_log_prob, advantages = agent._policy_batch()
    assert set(inputs) == {"states", "taken_actions", "rnn", "terminated"}
    assert inputs["states"].shape == (48, 3) and inputs["rnn"][0].shape == (1, 48, 16)
    assert len(inputs["rnn"]) == (2 if cell == "lstm" else 1)
    assert inputs["terminated"][:-1].any(), "episode ends inside the sequences"
    with torch.no_grad():
        _, log_prob, _ = agent.policy.act(inputs, role="policy")  # training mode: 12 sequences of 4 steps
    torch.testing.assert_close(log_prob, old_log_prob, rtol=0, atol=1e-5)
    before = [p.clone() for p in agent.policy.parameters()]
    agent._update(0, 16)
    assert any(not torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))


@pytest.mark.parametrize("name", ["RPO_RNN", "TRPO_RNN"])
def test_training_and_checkpoint_round_trip(name, tmp_path: Path):
    torch.manual_seed(1)
    env = box_counting_vec(3)
    agent = build_agent(name, env, memory_size=8)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 16, **QUIET})
    before = [p.clone() for p in agent.value.parameters()]
    for t in range(16):
        trainer.train(timestep=t)
    assert all(not torch.equal(a, b) for a, b in zip(before, agent.value.parameters()))
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    torch.manual_seed(2)
    other = build_agent(name, env, memory_size=8)
    other.load(path)
    for key in ("policy", "value"):
        assert_state_equal(agent.checkpoint_modules[key].state_dict(), other.checkpoint_modules[key].state_dict(), key)
    for _ in range(3):  # evaluation on the training environments (3) runs from its own hidden states
        trainer.eval()
