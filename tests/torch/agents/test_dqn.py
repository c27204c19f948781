"""DQN and DDQN: configuration, targets (DQN vs double DQN), target updates, update interval, truncation,
epsilon-greedy exploration, evaluation discipline, checkpoints, hot-path syncs and both trainers."""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.envs import counting_vec
from torch import nn

from steprl.agents.torch.dqn import DDQN, DDQN_DEFAULT_CONFIG, DQN, DQN_DEFAULT_CONFIG
from steprl.agents.torch.dqn.losses import dqn_loss, dqn_targets
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch import DeterministicMixin, Model
from steprl.models.torch.networks.q import build_dqn_models
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}

API_KEYS = {
    "gradient_steps": 1, "batch_size": 64, "discount_factor": 0.99, "polyak": 0.005, "learning_rate": 1e-3,
    "learning_rate_scheduler": None, "learning_rate_scheduler_kwargs": {}, "state_preprocessor": None,
    "state_preprocessor_kwargs": {}, "random_timesteps": 0, "learning_starts": 0, "update_interval": 1,
    "target_update_interval": 10, "exploration": {"initial_epsilon": 1.0, "final_epsilon": 0.05, "timesteps": 1000},
    "rewards_shaper": None, "mixed_precision": False, "checkpoint_memory": False,
}


class LinearQ(DeterministicMixin, Model):
    """``Q(s, ·) = s @ weight``: action values that a test can set exactly."""

    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)
        self.weight = nn.Parameter(torch.randn(self.num_observations, self.num_actions))

    def compute(self, inputs, role=""):
        return inputs["states"] @ self.weight, {}


def mlp_models(env):
    return build_dqn_models(env.observation_space, env.action_space, env.device, {"hidden": [16]}, env.num_envs)


def build(env, cls=DQN, memory_size=64, models=None, **cfg):
    cfg.setdefault("experiment", dict(NO_LOGS))
    models = models if models is not None else mlp_models(env)
    memory = RandomMemory(memory_size=memory_size, num_envs=env.num_envs)
    return cls(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space,
               action_space=env.action_space, device=env.device)


def linear_agent(cls, online, target, tmp_path, **cfg):
    """An agent on 2-d observations and 3 actions whose networks hold the given weights, and 1-transition memory."""
    obs, act = gym.spaces.Box(-10, 10, (2,)), gym.spaces.Discrete(3)
    models = {"q_network": LinearQ(obs, act), "target_q_network": LinearQ(obs, act)}
    cfg = {"batch_size": 4, "discount_factor": 0.5, "learning_rate": 0.0,
           "experiment": {"directory": str(tmp_path), "write_interval": 1000, "checkpoint_interval": 0}, **cfg}
    agent = cls(models=models, memory=RandomMemory(memory_size=1, num_envs=1), cfg=cfg, observation_space=obs,
                action_space=act)
    agent.init({"timesteps": 10})
    with torch.no_grad():
        agent.q_network.weight.copy_(torch.as_tensor(online, dtype=torch.float32))
        agent.target_q_network.weight.copy_(torch.as_tensor(target, dtype=torch.float32))
    return agent


def store(agent, reward, terminated, truncated, action=0):
    agent.record_transition(
        states=torch.tensor([[1.0, 0.0]]), actions=torch.tensor([[action]]), rewards=torch.tensor([[reward]]),
        next_states=torch.tensor([[0.0, 1.0]]), terminated=torch.tensor([[terminated]]),
        truncated=torch.tensor([[truncated]]), infos={}, timestep=0, timesteps=1,
    )


def tracked(agent, tag):
    return float(agent.tracking_data[tag][-1])


# next observation [0, 1] reads row 1: online Q(s', ·) = [1, 3, 2] (argmax 1), target Q'(s', ·) = [5, 0, 4] (argmax 0)
ONLINE = [[0.5, 0.25, 0.0], [1.0, 3.0, 2.0]]
TARGET = [[9.0, 9.0, 9.0], [5.0, 0.0, 4.0]]


# ---------------------------------------------------------------------------------------------- configuration
def test_default_configs_match_api():
    for defaults in (DQN_DEFAULT_CONFIG, DDQN_DEFAULT_CONFIG):
        assert {k: defaults[k] for k in API_KEYS} == API_KEYS
        assert set(defaults) == set(API_KEYS) | {"experiment"}
        assert defaults["experiment"]["write_interval"] == "auto"
    DDQN_DEFAULT_CONFIG.copy()["exploration"]["timesteps"] = 5
    assert DDQN_DEFAULT_CONFIG["exploration"] is not DQN_DEFAULT_CONFIG["exploration"]
    assert DQN.__module__ == "steprl.agents.torch.dqn.dqn" and DDQN.__module__ == "steprl.agents.torch.dqn.ddqn"


def test_config_errors_and_nested_merge():
    env = wrap_env(counting_vec(2), verbose=False)
    with pytest.raises(KeyError, match="Did you mean 'update_interval'"):
        build(env, update_intervall=3)
    with pytest.raises(KeyError, match="DDQN cfg.*Did you mean 'final_epsilon'"):
        build(env, DDQN, exploration={"final_epsilon_": 0.1})
    for bad in ({"update_interval": 0}, {"target_update_interval": 0}, {"gradient_steps": 0}, {"polyak": 1.5},
                {"exploration": {"final_epsilon": 2.0}}, {"exploration": {"timesteps": -1}}):
        with pytest.raises(ValueError):
            build(env, **bad)
    agent = build(env, exploration={"final_epsilon": 0.1})
    assert agent.cfg["exploration"] == {"initial_epsilon": 1.0, "final_epsilon": 0.1, "timesteps": 1000}
    assert DQN_DEFAULT_CONFIG["exploration"]["final_epsilon"] == 0.05  # defaults untouched


def test_model_roles_and_target_network_setup():
    env = wrap_env(counting_vec(2), verbose=False)
    models = mlp_models(env)
    with pytest.raises(ValueError, match="'q_network' model"):
        DQN(models={"target_q_network": models["target_q_network"]}, observation_space=env.observation_space,
            action_space=env.action_space)
    with pytest.raises(KeyError, match="Did you mean 'q_network'"):
        DQN(models={"q_networks": models["q_network"]}, observation_space=env.observation_space,
            action_space=env.action_space)
    agent = DQN(models={"q_network": models["q_network"]}, memory=RandomMemory(8, 2),
                observation_space=env.observation_space, action_space=env.action_space)
    with pytest.raises(ValueError, match="'target_q_network' model"):
        agent.init({"timesteps": 10})

    agent = build(env)
    assert list(agent.checkpoint_modules) == ["q_network", "target_q_network", "optimizer"]
    assert all(not p.requires_grad for p in agent.target_q_network.parameters())
    for a, b in zip(agent.q_network.parameters(), agent.target_q_network.parameters()):
        assert torch.equal(a, b)  # hard copy at construction
    agent.init({"timesteps": 10})
    assert agent.memory.get_tensor_by_name("actions").dtype == torch.int64


def test_evaluation_only_agent_without_target_network(tmp_path: Path):
    env = wrap_env(counting_vec(2), verbose=False)
    q_network = mlp_models(env)["q_network"]
    agent = DQN(models={"q_network": q_network}, cfg={"experiment": NO_LOGS}, observation_space=env.observation_space,
                action_space=env.action_space)
    agent.init({"timesteps": 10})
    assert list(agent.checkpoint_modules) == ["q_network"] and agent.optimizer is None
    agent.save(str(tmp_path / "q.pt"))
    agent.load(str(tmp_path / "q.pt"))
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 10, **QUIET})
    for _ in range(3):
        trainer.eval()


# ---------------------------------------------------------------------------------------------- targets
def test_pure_targets_dqn_and_double_dqn():
    rewards = torch.tensor([[1.0], [2.0]])
    terminated = torch.tensor([[False], [True]])
    target_q = torch.tensor([[5.0, 0.0, 4.0], [7.0, 1.0, 1.0]])
    online_q = torch.tensor([[1.0, 3.0, 2.0], [0.0, 0.0, 9.0]])
    assert torch.equal(dqn_targets(rewards, terminated, target_q, 0.5), torch.tensor([[3.5], [2.0]]))
    assert torch.equal(dqn_targets(rewards, terminated, target_q, 0.5, online_q), torch.tensor([[1.0], [2.0]]))
    loss = dqn_loss(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[1], [0]]), torch.tensor([[0.0], [0.0]]))
    assert loss == pytest.approx((4.0 + 9.0) / 2)


@pytest.mark.parametrize(("cls", "expected"), [(DQN, 2.0 + 0.5 * 5.0), (DDQN, 2.0 + 0.5 * 0.0)])
def test_agent_targets_use_the_right_networks(tmp_path: Path, cls, expected):
    """DQN: max of the TARGET network (5, not the online max 3); DDQN: online argmax (1) evaluated by the target (0)."""
    agent = linear_agent(cls, ONLINE, TARGET, tmp_path)
    store(agent, reward=2.0, terminated=False, truncated=False, action=1)
    agent._update(0, 1)
    assert tracked(agent, "Target / Target (mean)") == pytest.approx(expected)
    assert tracked(agent, "Target / Target (max)") == pytest.approx(expected)
    assert tracked(agent, "Target / Target (min)") == pytest.approx(expected)
    q_taken = ONLINE[0][1]  # Q([1, 0], a=1)
    assert tracked(agent, "Loss / Q-network loss") == pytest.approx((q_taken - expected) ** 2)
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in agent.tracking_data["Loss / Q-network loss"])


@pytest.mark.parametrize("cls", [DQN, DDQN])
def test_truncation_bootstraps_and_termination_does_not(tmp_path: Path, cls):
    bootstrap = 0.5 * (5.0 if cls is DQN else 0.0)
    for terminated, truncated, expected in ((False, True, 1.0 + bootstrap), (True, False, 1.0), (True, True, 1.0)):
        agent = linear_agent(cls, ONLINE, TARGET, tmp_path)
        store(agent, reward=1.0, terminated=terminated, truncated=truncated)
        agent._update(0, 1)
        assert tracked(agent, "Target / Target (mean)") == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------- update schedule
def _drive(agent, steps):
    """``steps`` training steps on fixed transitions; yields (training step, online before, target before)."""
    agent.set_running_mode("train")
    for _ in range(steps):
        store(agent, reward=1.0, terminated=False, truncated=False, action=2)
        online = agent.q_network.weight.detach().clone()
        target = agent.target_q_network.weight.detach().clone()
        agent.post_interaction(agent.training_steps, 100)
        yield agent.training_steps, online, target


@pytest.mark.parametrize("cls", [DQN, DDQN])
def test_target_update_by_polyak_at_target_update_interval_only(tmp_path: Path, cls):
    agent = linear_agent(cls, ONLINE, TARGET, tmp_path, learning_rate=0.1, polyak=0.25, target_update_interval=3,
                         learning_starts=2)
    for step, online, target in _drive(agent, 10):
        new_target = agent.target_q_network.weight.detach()
        learned = not torch.equal(agent.q_network.weight.detach(), online)
        assert learned == (step > 2)  # learns after learning_starts
        if step > 2 and step % 3 == 0:  # θ' ← 0.75 θ' + 0.25 θ (θ before this step's gradient step)
            torch.testing.assert_close(new_target, 0.75 * target + 0.25 * online)
        else:
            assert torch.equal(new_target, target)
    assert agent.training_steps == 10


def test_hard_target_copy_with_polyak_one(tmp_path: Path):
    agent = linear_agent(DQN, ONLINE, TARGET, tmp_path, learning_rate=0.1, polyak=1.0, target_update_interval=2)
    for step, online, _ in _drive(agent, 4):
        if step % 2 == 0:
            assert torch.equal(agent.target_q_network.weight, online)


def test_update_interval_is_honoured(tmp_path: Path):
    agent = linear_agent(DQN, ONLINE, TARGET, tmp_path, learning_rate=0.1, update_interval=4, learning_starts=5,
                         gradient_steps=3)
    updated = [step for step, online, _ in _drive(agent, 17) if not torch.equal(agent.q_network.weight, online)]
    assert updated == [8, 12, 16]
    assert int(agent.optimizer.state[agent.q_network.weight]["step"]) == 9  # 3 updates x 3 gradient steps


# ---------------------------------------------------------------------------------------------- acting
def test_epsilon_schedule_and_greedy_evaluation():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, exploration={"initial_epsilon": 0.9, "final_epsilon": 0.1, "timesteps": 50})
    for t in (0, 1, 50, 400):
        agent.training_steps = t
        assert agent.epsilon() == pytest.approx(0.1 + 0.8 * math.exp(-t / 50))
    assert build(env, exploration={"timesteps": None}).epsilon() == 0.0
    assert build(env, exploration={"timesteps": 0}).epsilon() == 0.0

    agent = build(env, exploration={"initial_epsilon": 1.0, "final_epsilon": 1.0})  # always random in training
    states = torch.randn(2000, 3) * 100
    greedy = agent.q_network.act({"states": states})[0].argmax(-1, keepdim=True)
    actions, log_prob, outputs = agent.act(states, 0, 10)
    assert actions.shape == (2000, 1) and actions.dtype == torch.int64 and log_prob is None
    assert isinstance(outputs, dict) and torch.equal(outputs["mean_actions"], greedy)
    assert ((actions >= 0) & (actions < 2)).all()
    assert 0.4 < (actions != greedy).float().mean() < 0.6  # half of the random actions differ from the greedy one
    agent.set_running_mode("eval")
    actions, _, outputs = agent.act(states, 0, 10)
    assert torch.equal(actions, greedy) and torch.equal(outputs["mean_actions"], greedy)

    agent = build(env, exploration={"timesteps": None})
    greedy = agent.q_network.act({"states": states})[0].argmax(-1, keepdim=True)
    agent.set_running_mode("train")
    assert torch.equal(agent.act(states, 0, 10)[0], greedy)


def test_random_timesteps_sample_the_q_network_action_space():
    env = wrap_env(counting_vec(3), verbose=False)
    agent = build(env, random_timesteps=5, exploration={"timesteps": None})
    agent.init({"timesteps": 10})
    actions, _, outputs = agent.act(torch.zeros(3, 3), 0, 10)
    assert actions.shape == (3, 1) and actions.dtype == torch.int64 and isinstance(outputs, dict)


def test_eval_never_writes_memory_or_learns():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, learning_starts=0, batch_size=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    before = [p.clone() for p in agent.q_network.parameters()]
    for _ in range(12):
        trainer.eval()
    assert len(agent.memory) == 0 and agent.training_steps == 0
    assert all(torch.equal(a, b) for a, b in zip(before, agent.q_network.parameters()))
    for _ in range(4):
        trainer.train()
    assert len(agent.memory) == 8 and agent.training_steps == 4
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.q_network.parameters()))


def test_per_step_path_has_no_host_syncs(request, tmp_path: Path):
    env = wrap_env(counting_vec(4), verbose=False)
    experiment = {"directory": str(tmp_path), "write_interval": 1000, "checkpoint_interval": 0}
    agent = build(env, DDQN, learning_starts=10_000, random_timesteps=3, experiment=experiment)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(20):  # random steps, then epsilon-greedy steps with epsilon tracking; no update
        trainer.train()
    assert len(agent.tracking_data["Exploration / Exploration epsilon"]) == 18
    with pytest.raises(AssertionError, match="host sync"):
        torch.zeros(1).item()


# ---------------------------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("with_memory", [False, True])
def test_checkpoint_round_trip(tmp_path: Path, with_memory: bool):
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, DDQN, batch_size=4, checkpoint_memory=with_memory)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(6):
        trainer.train()
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    assert ("memory" in agent.checkpoint_modules) == with_memory

    other = build(env, DDQN, batch_size=4, checkpoint_memory=with_memory)
    other.init({"timesteps": 100})
    other.load(path)
    assert other.training_steps == 6
    for name in ("q_network", "target_q_network", "optimizer"):
        assert_state_equal(getattr(agent, name).state_dict(), getattr(other, name).state_dict(), name)
    if with_memory:
        assert len(other.memory) == len(agent.memory) == 12
        for name in ("states", "actions", "next_states", "terminated"):
            assert torch.equal(other.memory.get_tensor_by_name(name)[:6], agent.memory.get_tensor_by_name(name)[:6])
    else:
        assert len(other.memory) == 0


# ---------------------------------------------------------------------------------------------- trainers
@pytest.mark.parametrize("cls", [DQN, DDQN])
def test_manual_and_sequential_trainers(cls):
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    agent = build(env, cls, batch_size=16, learning_starts=10, update_interval=2, target_update_interval=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 40, **QUIET})
    before = [p.clone() for p in agent.q_network.parameters()]
    for t in range(40):
        trainer.train(timestep=t)
    for _ in range(10):
        trainer.eval()
    assert agent.training_steps == 40 and len(agent.memory) == 80
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.q_network.parameters()))

    env = wrap_env(gym.make("CartPole-v1"), verbose=False)
    agent = build(env, cls, batch_size=16, learning_starts=10)
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 50, **QUIET})
    trainer.train()
    trainer.eval()
    assert agent.training_steps == 50 and len(agent.memory) == 50
    returns = trainer.run_episodes(2, max_steps=1000)
    assert len(returns) == 2 and all(np.isfinite(returns))
