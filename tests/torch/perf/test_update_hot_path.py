"""The PPO update's fast paths: one permutation per epoch, rows kept aligned, no host syncs anywhere in training."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from helpers.ppo import QUIET, build

from steprl.envs.wrappers.torch import wrap_env
from steprl.trainers.torch import ManualTrainer


def _filled_agent(rollouts: int = 8, **cfg: object):
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync"), verbose=False)
    agent = build(env, rollouts=rollouts, **cfg)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    return agent, trainer


def test_minibatches_cover_every_row_once_per_epoch_with_rows_aligned() -> None:
    torch.manual_seed(0)
    agent, trainer = _filled_agent(rollouts=8, mini_batches=3)
    for _ in range(8):  # the first update: the memory is full
        trainer.train()
    memory = agent.memory
    rows = len(memory)
    memory.set_tensor_by_name("log_prob", torch.arange(rows, dtype=torch.float32).view(8, 4, 1))
    memory.set_tensor_by_name("returns", torch.arange(rows, dtype=torch.float32).view(8, 4, 1) * 10)
    states = memory.get_tensor_by_name("states", keepdim=False)
    epochs = [list(agent._minibatches()) for _ in range(2)]
    orders = []
    for epoch in epochs:
        assert [len(batch[0][0]) for batch in epoch] == [11, 11, 10]  # tensor_split sizes, like Memory.sample_all
        order = torch.cat([batch[2].flatten() for batch, _, _ in epoch]).long()
        assert sorted(order.tolist()) == list(range(rows))
        for batch, policy_inputs, value_inputs in epoch:
            index = batch[2].flatten().long()
            assert torch.equal(batch[0], states[index])
            assert torch.equal(batch[4].flatten(), index.float() * 10)
            assert policy_inputs == {} and value_inputs == {}
        orders.append(order)
    assert not torch.equal(orders[0], orders[1])  # reshuffled every epoch


@pytest.mark.parametrize("cfg", [{}, {"learning_rate_scheduler": None, "experiment": {"write_interval": 1, "checkpoint_interval": 0}}])
def test_training_with_updates_has_no_host_syncs(cfg: dict, request: pytest.FixtureRequest, tmp_path) -> None:
    if "experiment" in cfg:
        cfg = {"experiment": {**cfg["experiment"], "directory": str(tmp_path)}}
    agent, trainer = _filled_agent(rollouts=4, **cfg)
    trainer.train()
    before = [p.clone() for p in agent.policy.parameters()]
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(9):  # two updates: GAE, minibatches, loss, clipping, the optimizer step
        trainer.train()
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))
