"""SAC_RNN, TD3_RNN, DDPG_RNN: a sequence pass over a sampled batch reproduces the policy stepped one step at a time
from the stored hidden states (states pass) and from the produced ones (next-state pass), on every row the critic
loss trusts, across the memory's wrap-around, with terminated and with truncated episodes."""

from __future__ import annotations

import pytest
import torch
from helpers.ppo import QUIET
from helpers.recurrent_continuous import REPLAY_AGENTS, box_counting_vec, build_agent

from steprl.trainers.torch import ManualTrainer

LENGTH = 4  # helpers.recurrent_continuous.NETWORK's sequence_length


def _outputs(agent, inputs: dict, training: bool) -> torch.Tensor:
    """The policy's deterministic outputs (the mean action of a Gaussian policy)."""
    agent.policy.set_mode("train" if training else "eval")
    with torch.no_grad():
        actions, _, outputs = agent.policy.act(inputs, role="policy")
    return outputs.get("mean_actions", actions)


@pytest.mark.parametrize("truncate", [False, True])
@pytest.mark.parametrize("name", list(REPLAY_AGENTS))
def test_sequence_passes_reproduce_the_stepped_policy(name: str, truncate: bool) -> None:
    torch.manual_seed(0)
    env = box_counting_vec(3, truncate=truncate)
    agent = build_agent(name, env, memory_size=40, learning_starts=1000)  # no update: the stored states stay exact
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 70, **QUIET})
    for t in range(70):  # 70 steps in a 40-step memory: sequences near the write position and the arrays' end
        trainer.train(timestep=t)
    agent._batch_size = 64
    states, _, _, next_states, _ = agent._sample_batch()
    rows = agent.memory.get_sampling_indexes()
    trusted = agent._critic_weights().view(-1).bool()
    done = agent._batch_rnn["states"]["terminated"].view(-1, LENGTH)
    assert done[:, :-1].any() and not trusted.all(), "some sequences must hold an episode end"
    for kind, batch, stored in (("states", states, "rnn_policy_0"), ("next_states", next_states, "next_rnn_policy_0")):
        sequence = _outputs(agent, {"states": batch, **agent._batch_rnn[kind]}, training=True)
        # the state each row's observation is seen from: the step's own start state, or the one the step produced
        start = agent.memory.get_tensor_by_name(stored, keepdim=False)[rows].transpose(0, 1)
        stepped = _outputs(agent, {"states": batch, "rnn": [start.contiguous()]}, training=False)
        torch.testing.assert_close(sequence[trusted], stepped[trusted], rtol=0, atol=1e-5, msg=f"{kind} pass")
