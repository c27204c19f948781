"""Every torch agent's checkpoint restores its complete state: models, every optimizer tensor (``exp_avg``,
``exp_avg_sq``, ``step``), schedulers, preprocessors' running statistics, counters and the torch/NumPy/Python RNG."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from helpers.checkpoint import agent_state, assert_state_equal, rng_draws, scramble_rngs, tensor_leaves
from helpers.envs import counting_vec
from helpers.ppo import QUIET
from helpers.recurrent import build_recurrent
from helpers.registry import build_agent, make_env

from steprl.agents.torch.a2c import A2C_DEFAULT_CONFIG, A2C_RNN
from steprl.agents.torch.ppo import PPO_DEFAULT_CONFIG, PPO_RNN
from steprl.cli.registry import AGENTS
from steprl.envs.wrappers.torch import wrap_env
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.trainers.torch import ManualTrainer

STEPS = 21  # 2 full rollouts of 8 and 5 steps into the third: the save happens mid-rollout
RECURRENT = {"ppo_rnn": (PPO_RNN, PPO_DEFAULT_CONFIG), "a2c_rnn": (A2C_RNN, A2C_DEFAULT_CONFIG)}


def _updates(observation_space: Any) -> dict[str, Any]:
    """Small budgets, and every optional piece of state switched on (schedulers, preprocessors, learned temperature)."""
    return {
        "rollouts": 8,
        "learning_epochs": 2,
        "mini_batches": 2,
        "batch_size": 8,
        "random_timesteps": 2,
        "learning_starts": 4,
        "learn_entropy": True,
        "learning_rate_scheduler": torch.optim.lr_scheduler.StepLR,
        "learning_rate_scheduler_kwargs": {"step_size": 1, "gamma": 0.9},
        "state_preprocessor": RunningStandardScaler,
        "state_preprocessor_kwargs": {"size": observation_space},
        "value_preprocessor": RunningStandardScaler,
        "value_preprocessor_kwargs": {"size": 1},
    }


def _build(name: str, seed: int) -> tuple[Any, Any]:
    """A fresh agent ``name`` (initial weights from ``seed``) and its seeded environment."""
    torch.manual_seed(seed)
    if name in RECURRENT:
        env = wrap_env(counting_vec(2), verbose=False)
        env.reset(seed=seed)
        cls, defaults = RECURRENT[name]
        updates = {k: v for k, v in _updates(env.observation_space).items() if k in defaults and k != "rollouts"}
        return build_recurrent(cls, defaults, env, rollouts=8, **updates), env
    env = make_env(name, seed=seed)
    agent = build_agent(name, env, **_updates(env.observation_space))
    if AGENTS[name].memory == "none":  # FrozenLake rarely rewards: start the tables away from their constant init
        agent.policy.table().uniform_()
    return agent, env


def _assert_nontrivial(name: str, state: dict[str, Any]) -> None:
    """The compared state holds what the test claims to compare: updated optimizers, stepped schedulers, statistics."""
    modules = state["modules"]
    optimizers = [m for m in modules.values() if isinstance(m, dict) and "param_groups" in m]
    for optimizer in optimizers:
        assert optimizer["state"], f"{name}: an optimizer never stepped"
        for per_parameter in optimizer["state"].values():
            assert {"exp_avg", "exp_avg_sq", "step"} <= set(per_parameter) and per_parameter["step"] > 0
    schedulers = [m for n, m in modules.items() if n.endswith("scheduler")]
    assert len(schedulers) == (len(optimizers) if name.removesuffix("_rnn") not in ("trpo", "sac") else len(schedulers))
    assert all(s["last_epoch"] > 0 for s in schedulers), f"{name}: a scheduler never stepped"
    if optimizers:
        assert modules["state_preprocessor"]["current_count"] > 0


@pytest.mark.parametrize("name", [*AGENTS, *RECURRENT])
def test_round_trip_restores_the_complete_state(name: str, tmp_path: Any) -> None:
    agent, env = _build(name, seed=0)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for t in range(STEPS):
        trainer.train(timestep=t)
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    expected_draws = rng_draws()  # what the generators give next, from the saved state
    expected = agent_state(agent)
    _assert_nontrivial(name, expected)
    memory = expected["modules"].get("memory")
    if memory is not None and "truncated" in memory.get("tensors", {}):
        # by design the stored partial episodes end at the checkpoint: their last step is marked truncated on load
        memory["tensors"]["truncated"][agent.memory.memory_index - 1] = True
    if name == "cem":
        # CEM's checkpoint holds its policy, optimizer, scheduler and preprocessor, not the rollout in progress
        # (neither the memory nor the carried episodes): a loaded CEM starts a new rollout
        expected["counters"]["_rollout"] = 0

    scramble_rngs(99)
    fresh, fresh_env = _build(name, seed=1)
    ManualTrainer(env=fresh_env, agents=fresh, cfg={"timesteps": 100, **QUIET})  # creates the memory's tensors
    before = agent_state(fresh)
    with pytest.raises(AssertionError):  # the comparison below is not vacuous: a fresh agent differs
        assert_state_equal(expected["modules"], before["modules"])
    fresh.load(path, resume=True)
    assert_state_equal(expected_draws, rng_draws(), "rng")
    assert_state_equal(expected, agent_state(fresh), name)
    assert any(t.numel() for t in tensor_leaves(expected["modules"]))
