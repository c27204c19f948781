"""PPO_RNN: hidden-state bookkeeping, exact rollout replay, truncation bootstrapping, memory tasks, checkpoints."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from helpers.envs import counting_vec
from helpers.models import Value
from helpers.recurrent import assert_checkpoint_round_trip, build_recurrent, cue_run
from helpers.rnn_models import GRUPolicy, GRUValue

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG, PPO_RNN
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


def build(env, rollouts=8, sequence_length=4, value="gru", policy="gru", **cfg_updates):
    return build_recurrent(PPO_RNN, PPO_DEFAULT_CONFIG, env, rollouts, sequence_length, value, policy, **cfg_updates)


def nonzero_per_env(hidden: torch.Tensor) -> torch.Tensor:
    """``(N,)`` bool: whether each env's hidden state ``(layers, N, hidden)`` is non-zero."""
    return hidden.abs().sum(dim=(0, 2)) > 0


def test_exports_and_config():
    from steprl.agents.torch.ppo.ppo_rnn import PPO_DEFAULT_CONFIG as RNN_DEFAULT_CONFIG
    from steprl.agents.torch.ppo.ppo_rnn import PPO_RNN as RNN

    assert RNN is PPO_RNN and issubclass(PPO_RNN, PPO)
    assert RNN_DEFAULT_CONFIG is PPO_DEFAULT_CONFIG


def test_cartpole_train_and_eval_flow():
    torch.manual_seed(0)
    env = wrap_env(gym.make_vec("CartPole-v1", 4, vectorization_mode="sync"), verbose=False)
    agent = build(env, rollouts=8, sequence_length=4)
    assert [tuple(h.shape) for h in agent._rnn_initial_states["policy"]] == [(1, 4, 16)]
    before = [p.clone() for p in (*agent.policy.parameters(), *agent.value.parameters())]
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 16, **QUIET})
    for t in range(16):
        trainer.train(timestep=t)
    after = [*agent.policy.parameters(), *agent.value.parameters()]
    assert all(not torch.equal(a, b) for a, b in zip(before, after))
    memory = agent.memory
    ended = (memory.get_tensor_by_name("terminated") | memory.get_tensor_by_name("truncated"))[:-1, :, 0]
    for name in ("rnn_policy_0", "rnn_value_0"):
        tensor = memory.get_tensor_by_name(name)
        assert tensor.shape == (8, 4, 1, 16) and torch.isfinite(tensor).all()
        # the state a step starts from is zero exactly when the previous step ended the episode
        assert torch.equal(tensor[1:].abs().sum(dim=(2, 3)) > 0, ~ended)
    for name in ("values", "returns", "advantages", "log_prob"):
        assert torch.isfinite(agent.memory.get_tensor_by_name(name)).all()
    for _ in range(5):
        actions = trainer.eval()[0]
        assert actions.shape == (4, 4)


@pytest.mark.parametrize("truncate", [False, True])
def test_hidden_states_reset_exactly_for_finished_envs(truncate):
    env = wrap_env(counting_vec(3, truncate=truncate), verbose=False)  # episode lengths 3, 4, 5
    agent = build(env, rollouts=64)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 30, **QUIET})
    ended_somewhere = 0
    for _ in range(30):
        _, _, terminated, truncated, _ = trainer.train()
        ended = (terminated | truncated).view(-1)
        alive = nonzero_per_env(agent._rnn_initial_states["policy"][0])
        assert torch.equal(alive, ~ended)
        ended_somewhere += int(ended.sum())
    assert ended_somewhere == 10 + 7 + 6


def test_evaluation_keeps_the_training_hidden_states():
    env = wrap_env(counting_vec(3), verbose=False)
    agent = build(env, rollouts=64)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 30, **QUIET})
    trainer.train()
    trainer.train()
    training_states = [h.clone() for h in agent._rnn_states["train"]["policy"]]
    assert nonzero_per_env(training_states[0]).all()
    # the agent alone: evaluation steps advance their own states only
    agent.set_running_mode("eval")
    states = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 2.0]])
    for _ in range(3):
        actions = agent.act(states, timestep=0, timesteps=1)[0]
        done = torch.zeros(3, 1, dtype=torch.bool)
        agent.record_transition(states, actions, torch.zeros(3, 1), states, done, done, {}, 0, 1)
    assert nonzero_per_env(agent._rnn_initial_states["policy"][0]).all()
    assert len(agent.memory) == 3 * 2  # evaluation stored nothing
    agent.set_running_mode("train")
    assert all(torch.equal(a, b) for a, b in zip(training_states, agent._rnn_initial_states["policy"]))
    # through the trainer: leaving training abandons its episodes (states reset), evaluation leaves them alone
    trainer.eval()
    assert not nonzero_per_env(agent._rnn_states["train"]["policy"][0]).any()
    assert nonzero_per_env(agent._rnn_states["eval"]["policy"][0]).all()
    for _ in range(6):
        trainer.eval()
    assert not nonzero_per_env(agent._rnn_states["train"]["policy"][0]).any()
    assert agent.memory.get_tensor_by_name("truncated")[1].all()  # PPO's interruption mark is kept


@pytest.mark.parametrize("models", ["gru", "feedforward_value", "shared"])
def test_update_replays_the_rollout_exactly(models):
    """Old log-probs and values (one batched pass at update time) equal what the models give on the shuffled
    whole-sequence minibatches before any gradient step; sequences cross episode ends (lengths 3, 4, 5 vs L=4).
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
    sizes, unmasked_differs = [], []
    with torch.no_grad():
        for (states, actions, old_log_prob, old_values, _, _), policy_inputs, value_inputs in agent._minibatches():
            _, log_prob, _ = agent.policy.act({"states": states, "taken_actions": actions, **policy_inputs}, role="policy")
            values = agent.value.act({"states": states, **value_inputs}, role="value")[0]
            torch.testing.assert_close(log_prob, old_log_prob, rtol=0, atol=1e-5)
            torch.testing.assert_close(values, old_values, rtol=0, atol=1e-5)
            sizes.append(states.shape[0])
            # without the episode-end masks the sequence replay differs (so the check above can fail)
            unmasked = {"states": states, "taken_actions": actions, "rnn": policy_inputs["rnn"]}
            unmasked_differs.append(not torch.allclose(agent.policy.act(unmasked, role="policy")[1], old_log_prob, atol=1e-5))
    assert sorted(sizes) == [16, 20]  # whole sequences of 4
    assert any(unmasked_differs)


def test_truncated_steps_bootstrap_from_the_hidden_state_they_produced():
    torch.manual_seed(2)
    env = wrap_env(counting_vec(3, truncate=True), verbose=False)
    agent = build(env, rollouts=8, sequence_length=4, discount_factor=0.9, mini_batches=1)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET})
    agent.post_interaction = lambda timestep, timesteps: None
    for _ in range(8):
        trainer.train()
    agent.set_mode("train")
    agent._prepare_rollout()
    memory, value = agent.memory, agent.value
    states, next_states = memory.get_tensor_by_name("states"), memory.get_tensor_by_name("next_states")
    rewards, returns = memory.get_tensor_by_name("rewards"), memory.get_tensor_by_name("returns")
    truncated = memory.get_tensor_by_name("truncated")[..., 0]
    hidden = memory.get_tensor_by_name("rnn_value_0")
    value.set_mode("eval")
    rows = truncated.nonzero().tolist()
    assert sorted(rows) == [[2, 0], [3, 1], [4, 2], [5, 0], [7, 1]]  # lengths 3, 4, 5
    with torch.no_grad():
        for t, e in rows:
            h = hidden[t, e].unsqueeze(1)  # (layers, 1, hidden): the state this step started from
            _, _, out = value.act({"states": states[t, e : e + 1], "rnn": [h]}, role="value")
            produced = value.act({"states": next_states[t, e : e + 1], "rnn": out["rnn"]}, role="value")[0]
            reset = value.act({"states": next_states[t, e : e + 1], "rnn": [torch.zeros_like(h)]}, role="value")[0]
            expected = rewards[t, e] + 0.9 * produced[0]
            torch.testing.assert_close(returns[t, e], expected, rtol=0, atol=1e-5)
            assert not torch.allclose(returns[t, e], rewards[t, e] + 0.9 * reset[0], atol=1e-4)


def _cue_run(recurrent: bool, steps: int = 360) -> float:
    cfg = {"rollouts": 12, "learning_epochs": 8, "mini_batches": 2, "learning_rate": 3e-3, "discount_factor": 1.0,
           "entropy_loss_scale": 0.01}
    return cue_run(PPO_RNN if recurrent else PPO, cfg, recurrent, steps=steps)


@pytest.mark.slow
def test_gru_policy_solves_a_memory_task_that_a_feedforward_policy_cannot():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert _cue_run(recurrent=True) >= 0.9
        assert abs(_cue_run(recurrent=False)) < 0.3  # memoryless: the cue is gone when the reward is decided
    finally:
        torch.set_num_threads(threads)


def test_checkpoint_round_trip(tmp_path):
    assert_checkpoint_round_trip(build, tmp_path)


def test_invalid_configurations_are_explained():
    env = wrap_env(counting_vec(3), verbose=False)
    agent = build(env, rollouts=6, sequence_length=4)
    with pytest.raises(ValueError, match="multiple of the rnn sequence_length"):
        agent.init({"timesteps": 10})
    agent = build(env, rollouts=8, sequence_length=4, mini_batches=7)  # 6 sequences
    with pytest.raises(ValueError, match="6 sequences of length 4, fewer than cfg\\['mini_batches'\\]=7"):
        agent.init({"timesteps": 10})
    policy = GRUPolicy(env.observation_space, env.action_space, 5)
    agent = PPO_RNN(models={"policy": policy, "value": Value(env.observation_space)}, memory=RandomMemory(8, 3),
                    observation_space=env.observation_space, action_space=env.action_space,
                    cfg={"rollouts": 8, "experiment": NO_LOGS})
    with pytest.raises(ValueError, match="for 5 environments but the memory holds num_envs=3"):
        agent.init({"timesteps": 10})
    value = GRUValue(env.observation_space, None, 3, sequence_length=2)
    with pytest.raises(ValueError, match="share one rnn 'sequence_length'"):
        PPO_RNN(models={"policy": GRUPolicy(env.observation_space, env.action_space, 3), "value": value},
                observation_space=env.observation_space, action_space=env.action_space)


def test_per_step_path_has_no_host_syncs(request):
    env = wrap_env(counting_vec(4), verbose=False)
    agent = build(env, rollouts=64)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(30):  # no update happens (rollouts=64): act, step, record, hidden-state resets only
        trainer.train()
    with pytest.raises(AssertionError, match="host sync"):
        torch.zeros(1).item()  # the guard was active


def test_learning_starts_still_advances_the_value_states():
    env = wrap_env(counting_vec(3), verbose=False)
    agent = build(env, rollouts=4, learning_starts=6)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET})
    for t in range(4):  # the first rollout is not learned from
        trainer.train(timestep=t)
    assert nonzero_per_env(agent._rnn_states["train"]["value"][0]).any()
    assert torch.isfinite(agent.memory.get_tensor_by_name("rnn_value_0")).all()


def test_memory_task_runs_are_reproducible():
    assert _cue_run(recurrent=True, steps=48) == _cue_run(recurrent=True, steps=48)
