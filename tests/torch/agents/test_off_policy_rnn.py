"""SAC_RNN, TD3_RNN, DDPG_RNN: hidden states stored per step, sequence batches, next-state hidden states in the
targets, critic weights after episode ends, evaluation isolation, checkpoints, configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.ppo import QUIET
from helpers.recurrent_continuous import REPLAY_AGENTS, box_counting_vec, build_agent

from steprl.agents.torch.ddpg import DDPG, DDPG_DEFAULT_CONFIG, DDPG_RNN
from steprl.agents.torch.recurrent_replay import RecurrentReplayMixin
from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG, SAC_RNN
from steprl.agents.torch.td3 import TD3, TD3_DEFAULT_CONFIG, TD3_RNN
from steprl.core.sequence_sampling import steps_before_episode_end
from steprl.models.torch.networks.recurrent import RecurrentQFunction
from steprl.trainers.torch import ManualTrainer

NAMES = list(REPLAY_AGENTS)


def trained(name: str, steps: int, num_envs: int = 3, truncate: bool = False, **cfg):
    torch.manual_seed(0)
    env = box_counting_vec(num_envs, truncate=truncate)
    agent = build_agent(name, env, **cfg)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for t in range(steps):
        trainer.train(timestep=t)
    return agent, trainer


def test_exports():
    from steprl.agents.torch.ddpg.ddpg_rnn import DDPG_RNN as D
    from steprl.agents.torch.sac.sac_rnn import SAC_RNN as S
    from steprl.agents.torch.td3.td3_rnn import TD3_RNN as T

    for rnn, plain, module_class, cfg, default in ((SAC_RNN, SAC, S, SAC_DEFAULT_CONFIG, "SAC_DEFAULT_CONFIG"),
                                                    (TD3_RNN, TD3, T, TD3_DEFAULT_CONFIG, "TD3_DEFAULT_CONFIG"),
                                                    (DDPG_RNN, DDPG, D, DDPG_DEFAULT_CONFIG, "DDPG_DEFAULT_CONFIG")):
        assert rnn is module_class and issubclass(rnn, plain) and issubclass(rnn, RecurrentReplayMixin)
        assert getattr(__import__(rnn.__module__, fromlist=[default]), default) is cfg


@pytest.mark.parametrize("truncate", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_each_step_stores_the_hidden_state_it_started_from_and_the_one_it_produced(name, truncate):
    agent, _ = trained(name, 20, truncate=truncate, memory_size=32, learning_starts=100)  # no update
    memory = agent.memory
    started, produced = memory.get_tensor_by_name("rnn_policy_0")[:20], memory.get_tensor_by_name("next_rnn_policy_0")[:20]
    done = (memory.get_tensor_by_name("terminated") | memory.get_tensor_by_name("truncated"))[:20, :, 0]
    assert started.shape == (20, 3, 1, 16) and torch.isfinite(started).all()
    assert (produced.abs().sum(dim=(2, 3)) > 0).all()  # produced before any reset
    # the next step starts from the produced state, or from zero after an episode end
    expected = produced[:-1] * (~done[:-1]).view(19, 3, 1, 1)
    torch.testing.assert_close(started[1:], expected, rtol=0, atol=0)
    assert torch.equal(started[0], torch.zeros_like(started[0]))
    # the stored states reproduce the policy's own recurrence: one step from `started` gives `produced`
    agent.policy.set_mode("eval")
    states = memory.get_tensor_by_name("states")[:20].reshape(60, 3)
    with torch.no_grad():
        outputs = agent.policy.act({"states": states, "rnn": [started.reshape(60, 1, 16).transpose(0, 1)]}, role="policy")[2]
    torch.testing.assert_close(outputs["rnn"][0].transpose(0, 1).reshape(20, 3, 1, 16), produced, rtol=0, atol=1e-6)
    # the training states now are those the last step produced, zeroed where its episode ended
    last = produced[-1] * (~done[-1]).view(3, 1, 1)
    torch.testing.assert_close(agent._training_states.states()[0], last.transpose(0, 1), rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_targets_start_from_the_next_hidden_state_and_the_critics_from_the_stored_one(name):
    agent, _ = trained(name, 40, memory_size=64, learning_starts=100)
    agent._batch_size = 32
    seen: dict[str, list] = {}
    for role, model in agent.models.items():
        def spy(inputs, role="", model=model, original=model.act):  # noqa: ANN001
            seen.setdefault(role, []).append({k: v for k, v in inputs.items() if k in ("states", "rnn", "terminated")})
            return original(inputs, role=role)
        model.act = spy
    agent.set_mode("train")
    agent._update(0, 40)
    rows = agent.memory.get_sampling_indexes()
    memory, length = agent.memory, 4
    started = memory.get_tensor_by_name("rnn_policy_0", keepdim=False)[rows].transpose(0, 1)
    produced = memory.get_tensor_by_name("next_rnn_policy_0", keepdim=False)[rows].transpose(0, 1)
    first_produced = produced.reshape(1, -1, length, 16)[:, :, 0]
    targets = [role for role in seen if role.startswith("target")]
    assert targets
    for role in targets:
        inputs = seen[role][0]
        assert torch.equal(inputs["states"], memory.get_tensor_by_name("next_states", keepdim=False)[rows])
        hidden = inputs["rnn"][0].reshape(1, -1, length, 16)
        assert torch.equal(hidden[:, :, 0], first_produced) and torch.equal(hidden[:, :, 1], first_produced)
    for role in [r for r in seen if r.startswith("critic")]:
        inputs = seen[role][0]
        assert torch.equal(inputs["rnn"][0], started)  # the states each sequence step started from
        done = memory.get_tensor_by_name("terminated", keepdim=False)[rows] | memory.get_tensor_by_name("truncated", keepdim=False)[rows]
        assert torch.equal(inputs["terminated"], done)
    # windows: consecutive steps of one environment
    steps, envs = rows.view(-1, length) // 3, rows.view(-1, length) % 3
    assert torch.equal(steps[:, 1:] - steps[:, :-1], torch.ones_like(steps[:, 1:])) and (envs == envs[:, :1]).all()


@pytest.mark.parametrize("name", NAMES)
def test_critic_weights_exclude_the_steps_after_an_episode_end(name):
    agent, _ = trained(name, 40, memory_size=64, learning_starts=100)
    agent._batch_size = 64
    agent._sample_batch()
    weights = agent._critic_weights()
    done = agent._batch_rnn["states"]["terminated"].view(-1, 4)
    assert done[:, :-1].any(), "episodes of 3-5 steps must end inside some 4-step sequences"
    earlier = torch.cumsum(done.int(), dim=1) - done.int()
    torch.testing.assert_close(weights.view(-1, 4), (earlier == 0).float())
    assert torch.equal(steps_before_episode_end(done.reshape(-1, 1), 4).float(), weights)


@pytest.mark.parametrize("name", NAMES)
def test_training_updates_every_model_and_evaluation_writes_nothing(name):
    agent, trainer = trained(name, 30, memory_size=64)
    last = agent.memory.get_tensor_by_name("truncated")[29].clone()
    trainer.eval()  # abandons the training episodes: their last stored step counts as truncated
    assert not last.all() and agent.memory.get_tensor_by_name("truncated")[29].all()
    frozen = {name_: tensor.clone() for name_, tensor in agent.memory.tensors.items()}
    position = (agent.memory.memory_index, agent.memory.filled)
    training_states = [h.clone() for h in agent._training_states.states()]
    parameters = [p.clone() for p in agent.policy.parameters()]
    for _ in range(7):
        trainer.eval()
    assert (agent.memory.memory_index, agent.memory.filled) == position
    assert_state_equal(frozen, dict(agent.memory.tensors), "memory")
    assert all(torch.equal(a, b) for a, b in zip(training_states, agent._training_states.states()))
    assert all(torch.equal(a, b) for a, b in zip(parameters, agent.policy.parameters()))
    assert (agent._evaluation_states[0].abs().sum(dim=(0, 2)) > 0).any()  # evaluation advanced its own states


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_round_trip_keeps_the_hidden_states(name, tmp_path: Path):
    agent, _ = trained(name, 30, memory_size=64)
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    torch.manual_seed(5)
    other = build_agent(name, box_counting_vec(3), memory_size=64)
    other.init({"timesteps": 30})
    assert not torch.equal(other._training_states.states()[0], agent._training_states.states()[0])
    other.load(path)
    for key in agent.checkpoint_modules:
        if key != "memory":
            assert_state_equal(agent.checkpoint_modules[key].state_dict(), other.checkpoint_modules[key].state_dict(), key)
    states = torch.randn(3, 3)
    with torch.no_grad():
        a = agent.policy.act({"states": states, "rnn": agent._training_states.states()}, role="policy")
        b = other.policy.act({"states": states, "rnn": other._training_states.states()}, role="policy")
    torch.testing.assert_close(a[2]["rnn"][0], b[2]["rnn"][0], rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_random_actions_still_advance_the_hidden_states(name):
    agent, _ = trained(name, 2, memory_size=16, random_timesteps=10, learning_starts=100)
    assert (agent._training_states.states()[0].abs().sum(dim=(0, 2)) > 0).all()


def test_per_step_path_has_no_host_syncs(request):
    env = box_counting_vec(3)
    agent = build_agent("TD3_RNN", env, memory_size=64, learning_starts=1000)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(20):  # act, step, record, hidden-state resets; no update (learning_starts)
        trainer.train()


def test_feed_forward_models_keep_the_plain_algorithm():
    env = box_counting_vec(3)
    agent = build_agent("SAC_RNN", env, memory_size=16, network={"cell": "none"})
    agent.init({"timesteps": 10})
    assert not agent._rnn and "rnn_states" not in agent.checkpoint_modules
    assert "rnn_policy_0" not in agent.memory.tensors


def test_invalid_configurations_are_explained():
    env = box_counting_vec(3)
    agent = build_agent("SAC_RNN", env, memory_size=3)
    with pytest.raises(ValueError, match="SAC_RNN: the memory \\(memory_size=3\\) cannot hold one sequence"):
        agent.init({"timesteps": 10})
    other = box_counting_vec(2)
    agent = build_agent("TD3_RNN", other, memory_size=16)
    with pytest.raises(ValueError, match="TD3_RNN: act\\(\\) got 3 environments"):
        agent.act(torch.zeros(3, 3), 0, 10)
    models = dict(build_agent("DDPG_RNN", env, memory_size=16).models)
    for role in ("critic", "target_critic"):
        models[role] = RecurrentQFunction(env.observation_space, env.action_space, "cpu", 3,
                                          {"hidden_size": 8, "sequence_length": 4})
    with pytest.raises(ValueError, match="DDPG_RNN: the critic model's rnn specification .* must match the policy's"):
        DDPG_RNN(models=models, observation_space=env.observation_space, action_space=env.action_space)
    agent = build_agent("SAC_RNN", env, memory_size=16, learning_starts=0, batch_size=2)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 10, **QUIET})
    with pytest.raises(ValueError, match="Cannot sample sequences of 4 steps: the memory holds 1 steps per environment"):
        trainer.train()
