"""A2C_RNN: PPO_RNN's recurrent machinery under A2C's update — exact rollout replay, the whole-rollout KL, the
cue-memory task, checkpoints, trainers."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch
from helpers.envs import counting_vec
from helpers.recurrent import assert_checkpoint_round_trip, build_recurrent, cue_run
from helpers.rnn_models import GRUPolicy, GRUValue

from steprl.agents.torch.a2c import A2C, A2C_DEFAULT_CONFIG, A2C_RNN
from steprl.agents.torch.ppo import PPO_RNN
from steprl.agents.torch.recurrent import RecurrentRolloutMixin
from steprl.envs.wrappers.torch import wrap_env
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


def build(env, rollouts=8, sequence_length=4, value="gru", policy="gru", **cfg_updates):
    return build_recurrent(A2C_RNN, A2C_DEFAULT_CONFIG, env, rollouts, sequence_length, value, policy, **cfg_updates)


def test_exports_share_the_recurrent_machinery():
    from steprl.agents.torch.a2c.a2c_rnn import A2C_DEFAULT_CONFIG as RNN_DEFAULT_CONFIG
    from steprl.agents.torch.a2c.a2c_rnn import A2C_RNN as RNN

    assert RNN is A2C_RNN and issubclass(A2C_RNN, A2C) and issubclass(A2C_RNN, RecurrentRolloutMixin)
    assert issubclass(PPO_RNN, RecurrentRolloutMixin)
    assert RNN_DEFAULT_CONFIG is A2C_DEFAULT_CONFIG
    for name in ("act", "_transition_recorded", "_evaluate_rollout", "_minibatches", "init", "interrupt_episodes"):
        assert getattr(A2C_RNN, name) is getattr(PPO_RNN, name) is getattr(RecurrentRolloutMixin, name)
    env = wrap_env(counting_vec(3), verbose=False)
    with pytest.raises(KeyError, match="learning_epochs"):  # A2C's config, not PPO's
        build(env, learning_epochs=2)


@pytest.mark.parametrize("models", ["gru", "feedforward_value", "shared"])
def test_update_replays_the_rollout_exactly(models):
    """The old log-probs and values of the batched update-time evaluation equal what the models give on A2C's
    whole-sequence minibatches (sequences cross episode ends), and the whole-rollout KL before any step is zero.
    """
    torch.manual_seed(1)
    env = wrap_env(counting_vec(3, truncate=True), verbose=False)
    kwargs = {"shared": {"policy": "shared"}, "feedforward_value": {"value": "mlp"}}.get(models, {})
    agent = build(env, rollouts=12, sequence_length=4, mini_batches=2, **kwargs)  # 9 sequences: 5 + 4
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 12, **QUIET})
    agent.post_interaction = lambda timestep, timesteps: None  # collect one rollout, no update
    for _ in range(12):
        trainer.train()
    agent.set_mode("train")
    agent._prepare_rollout()
    done = agent.memory.get_tensor_by_name("truncated")
    assert done.any() and not done[3::4].all()  # some episode ends fall inside sequences
    sizes = []
    with torch.no_grad():
        for (states, actions, old_log_prob, old_values, _, _), policy_inputs, value_inputs in agent._minibatches():
            assert set(policy_inputs) == {"rnn", "terminated"}
            _, log_prob, _ = agent.policy.act({"states": states, "taken_actions": actions, **policy_inputs}, role="policy")
            values = agent.value.act({"states": states, **value_inputs}, role="value")[0]
            torch.testing.assert_close(log_prob, old_log_prob, rtol=0, atol=1e-5)
            torch.testing.assert_close(values, old_values, rtol=0, atol=1e-5)
            sizes.append(states.shape[0])
    assert sorted(sizes) == [16, 20]  # whole sequences of 4
    assert agent.policy.training
    assert abs(float(agent._rollout_kl())) < 1e-6  # single-step passes from the stored hidden states
    assert agent.policy.training  # the KL pass restores the training mode


def test_update_changes_the_models_and_tracks_the_kl():
    torch.manual_seed(2)
    env = wrap_env(counting_vec(3, truncate=True), verbose=False)
    agent = build(env, rollouts=8, mini_batches=2, learning_rate=1e-2,
                  learning_rate_scheduler=KLAdaptiveLR, learning_rate_scheduler_kwargs={"kl_threshold": 1e-12})
    before = [p.clone() for p in (*agent.policy.parameters(), *agent.value.parameters())]
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 16, **QUIET})
    for t in range(16):
        trainer.train(timestep=t)
    after = [*agent.policy.parameters(), *agent.value.parameters()]
    assert all(not torch.equal(a, b) for a, b in zip(before, after))
    assert agent.optimizer.param_groups[0]["lr"] < 1e-2  # the (positive) rollout KL reached the scheduler
    for name in ("values", "returns", "advantages", "log_prob", "rnn_policy_0", "rnn_value_0"):
        assert torch.isfinite(agent.memory.get_tensor_by_name(name)).all()


def _cue_run(recurrent: bool) -> float:
    cfg = {"rollouts": 12, "mini_batches": 2, "learning_rate": 3e-3, "discount_factor": 1.0, "entropy_loss_scale": 0.01}
    return cue_run(A2C_RNN if recurrent else A2C, cfg, recurrent)


@pytest.mark.slow
def test_gru_policy_solves_the_cue_memory_task():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert _cue_run(recurrent=True) >= 0.9
        assert abs(_cue_run(recurrent=False)) < 0.3  # memoryless: the cue is gone when the reward is decided
    finally:
        torch.set_num_threads(threads)


def test_checkpoint_round_trip(tmp_path: Path):
    assert_checkpoint_round_trip(build, tmp_path)


def test_invalid_configurations_name_a2c_rnn():
    env = wrap_env(counting_vec(3), verbose=False)
    agent = build(env, rollouts=6, sequence_length=4)
    with pytest.raises(ValueError, match="A2C_RNN: cfg\\['rollouts'\\] \\(6\\) must be a multiple of the rnn sequence_length"):
        agent.init({"timesteps": 10})
    agent = build(env, rollouts=8, sequence_length=4, mini_batches=7)  # 6 sequences
    with pytest.raises(ValueError, match="A2C_RNN: the rollout holds 6 sequences of length 4"):
        agent.init({"timesteps": 10})
    value = GRUValue(env.observation_space, None, 3, sequence_length=2)
    with pytest.raises(ValueError, match="A2C_RNN: the policy and value models must share one rnn 'sequence_length'"):
        A2C_RNN(models={"policy": GRUPolicy(env.observation_space, env.action_space, 3), "value": value},
                observation_space=env.observation_space, action_space=env.action_space)


def test_manual_and_sequential_trainers():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    agent = build(env, rollouts=8, sequence_length=4, mini_batches=2)
    before = [p.clone() for p in agent.policy.parameters()]
    manual = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 16, **QUIET})
    for t in range(16):
        manual.train(timestep=t)
    for t in range(4):
        observations = manual.eval(timestep=t)[0]
        assert observations.shape == (2, 4)
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))
    agent = build(env, rollouts=8, sequence_length=4)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 24, **QUIET}).train()
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET}).eval()
    assert torch.isfinite(agent.memory.get_tensor_by_name("advantages")).all()
