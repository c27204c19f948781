"""MAPPO's own memory on the wrappers: no stored transition spans an episode boundary, truncated steps hold the
true final observation and global state, evaluation writes no memory."""

from __future__ import annotations

import torch
from helpers.ma_envs import ParallelCountingEnv

from steprl.envs.wrappers.torch import PettingZooWrapper
from steprl.memories.torch import RandomMemory
from steprl.multi_agents.torch.mappo import MAPPO, MAPPO_DEFAULT_CONFIG
from steprl.multi_agents.torch.networks import build_multi_agent_models
from steprl.trainers.torch import ManualTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
LENGTHS = ({"a": 2, "b": 3}, {"a": 4, "b": 4}, {"a": 1, "b": 5})
ROLLOUTS = 12


def mappo_on_copies() -> tuple[ManualTrainer, MAPPO, PettingZooWrapper]:
    env = PettingZooWrapper([ParallelCountingEnv(lengths, tag=i, truncate=True) for i, lengths in enumerate(LENGTHS)])
    uids = env.possible_agents
    network = {"hidden": [16], "activation": "tanh"}
    models = build_multi_agent_models(
        uids, env.observation_spaces, env.action_spaces, env.device, network, env.state_spaces
    )
    memories = {uid: RandomMemory(memory_size=ROLLOUTS, num_envs=env.num_envs) for uid in uids}
    cfg = MAPPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=ROLLOUTS, experiment={"write_interval": 0, "checkpoint_interval": 0})
    agent = MAPPO(uids, models, memories, env.observation_spaces, env.action_spaces, env.device, cfg, env.state_spaces)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    return trainer, agent, env


def test_stored_transitions_never_span_an_episode_boundary() -> None:
    trainer, agent, _ = mappo_on_copies()
    for _ in range(ROLLOUTS - 1):  # stop before the update at the end of the rollout
        trainer.train()
    for uid in ("a", "b"):
        memory = agent.memories[uid]
        states = memory.get_tensor_by_name("states")[: ROLLOUTS - 1]
        next_states = memory.get_tensor_by_name("next_states")[: ROLLOUTS - 1]
        truncated = memory.get_tensor_by_name("truncated")[: ROLLOUTS - 1, :, 0]
        shared_next = memory.get_tensor_by_name("shared_next_states")[: ROLLOUTS - 1]
        assert torch.equal(next_states[..., 0], states[..., 0])  # the episode id never changes inside a step
        assert torch.equal(next_states[..., 3], states[..., 3])
        # where the agent's episode was cut at its horizon, the stored next observation is the final one
        horizon = torch.tensor([[LENGTHS[c][uid] for c in range(3)]], dtype=torch.float32).expand_as(truncated)
        assert torch.equal(next_states[..., 1][truncated], horizon[truncated])
        assert bool(truncated.any())
        if uid == "b":  # "b" finishes last in every copy: its last step ends the copy's episode
            # the global state after that step is the copy's final state, not its reset state
            assert torch.equal(shared_next[..., 1][truncated], next_states[..., 1][truncated])


def test_evaluation_writes_no_memory() -> None:
    trainer, agent, _ = mappo_on_copies()
    for _ in range(3):
        trainer.train()
    stored = {uid: memory.get_tensor_by_name("states").clone() for uid, memory in agent.memories.items()}
    indexes = {uid: memory.memory_index for uid, memory in agent.memories.items()}
    for _ in range(6):
        trainer.eval()
    for uid, memory in agent.memories.items():
        assert memory.memory_index == indexes[uid]
        torch.testing.assert_close(memory.get_tensor_by_name("states"), stored[uid], rtol=0, atol=0, equal_nan=True)
    assert len(trainer.episode_returns("eval")) >= 1
