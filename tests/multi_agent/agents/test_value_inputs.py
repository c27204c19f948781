"""What each algorithm's value model sees: MAPPO the global state, IPPO the agent's own observation."""

from __future__ import annotations

from typing import Any

import torch
from helpers.ma_agents import QUIET, CueTask, CueWrapper, build_agent

from steprl.trainers.torch import ManualTrainer


def _record_value_inputs(agent: Any) -> list[torch.Tensor]:
    """Wrap every value model's ``act`` to keep the ``states`` it receives."""
    seen: list[torch.Tensor] = []
    for team in agent._teams:
        value = team.value
        original = value.act

        def act(inputs: dict[str, Any], role: str = "", _original: Any = original) -> Any:
            seen.append(inputs["states"].detach().clone())
            return _original(inputs, role)

        value.act = act
    return seen


def _train(algorithm: str, share: bool = False) -> tuple[Any, list[torch.Tensor]]:
    """One 4-step rollout (one episode) on 2 copies, then one update of one minibatch."""
    env = CueWrapper(CueTask(num_envs=2))
    agent = build_agent(env, algorithm, share=share, rollouts=4, mini_batches=1, learning_epochs=1)
    seen = _record_value_inputs(agent)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 4, **QUIET})
    for _ in range(4):
        trainer.train()
    return agent, seen


ROWS = 4 * 2  # rollout steps x copies
TIME = torch.arange(4.0).repeat_interleave(2) / 4  # the state's time entry of each stored row


def test_mappo_value_receives_the_global_state() -> None:
    agent, seen = _train("mappo")
    observations = agent.memories["a"].get_tensor_by_name("states").reshape(ROWS, 6)
    first = seen[0]  # the update-time pass: the states of the rollout, then the states after each step
    assert first.shape == (2 * ROWS, 7)
    assert torch.equal(first[:ROWS, :6], observations)  # both cues ...
    assert torch.equal(first[:ROWS, 6], TIME)  # ... and the time, which no agent observes
    assert torch.equal(first[ROWS:, 6], TIME + 0.25)
    assert all(x.shape[-1] == 7 for x in seen)  # never an agent's observation (size 6)


def test_ippo_value_receives_the_agents_own_observation() -> None:
    agent, seen = _train("ippo")
    passes = [x for x in seen if x.shape[0] == 2 * ROWS]
    assert len(passes) == 2 and len(seen) == 4  # per agent: one update-time pass, one minibatch
    for uid, values_input in zip(("a", "b"), passes):
        own = agent.memories[uid].get_tensor_by_name("states").reshape(ROWS, 6)
        assert torch.equal(values_input[:ROWS], own)
        assert torch.equal(values_input[ROWS:], agent.memories[uid].get_tensor_by_name("next_states").reshape(ROWS, 6))
    assert not torch.equal(passes[0][:ROWS], passes[1][:ROWS])


def test_shared_value_gets_the_agent_id_after_the_global_state() -> None:
    agent, seen = _train("mappo", share=True)
    first = seen[0]
    rows = 2 * ROWS  # both agents' rollouts, side by side per time step
    assert first.shape == (2 * rows, 7 + 2)
    block = first[:rows].view(4, 2, 2, 9)  # (time, agent, copy, inputs)
    assert torch.equal(block[:, 0, :, 7:], torch.tensor([1.0, 0.0]).expand(4, 2, 2))
    assert torch.equal(block[:, 1, :, 7:], torch.tensor([0.0, 1.0]).expand(4, 2, 2))
    assert torch.equal(block[:, 0, :, 6].reshape(-1), TIME)
    assert torch.equal(block[:, 0, :, :7], block[:, 1, :, :7])  # one global state for both agents
