"""Q_LEARNING and SARSA: configuration, hand-computed updates, the SARSA next action, checkpoints, trainers."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from steprl.agents.torch.q_learning import Q_LEARNING, Q_LEARNING_DEFAULT_CONFIG
from steprl.agents.torch.q_learning.losses import td_update_
from steprl.agents.torch.sarsa import SARSA, SARSA_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.models.torch.networks.tabular import EpsilonGreedyTable, build_tabular_models
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
API_KEYS = {"discount_factor": 0.99, "random_timesteps": 0, "learning_starts": 0, "learning_rate": 0.5, "rewards_shaper": None}
AGENTS = [Q_LEARNING, SARSA]


class ChainEnv(gym.Env):
    """States 0..n-1, start 0; action 1 moves right, action 0 stays. Reaching n-1 terminates with reward 1."""

    def __init__(self, n: int = 5, limit: int = 20) -> None:
        self.n, self.limit = n, limit
        self.observation_space = gym.spaces.Discrete(n)
        self.action_space = gym.spaces.Discrete(2)
        self.s = self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self.s = self.t = 0
        return 0, {}

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict]:
        self.t += 1
        self.s = min(self.s + int(action), self.n - 1)
        terminated = self.s == self.n - 1
        return self.s, float(terminated), terminated, self.t >= self.limit and not terminated, {}


def chain_env(num_envs: int = 2, n: int = 5, limit: int = 20) -> Any:
    return wrap_env(gym.vector.SyncVectorEnv([lambda: ChainEnv(n, limit)] * num_envs), verbose=False)


def build(cls: Any, num_envs: int = 2, n_states: int = 5, epsilon: float = 0.1, shared: bool = False, **cfg: Any) -> Any:
    policy = EpsilonGreedyTable(gym.spaces.Discrete(n_states), gym.spaces.Discrete(2), "cpu", num_envs, epsilon, shared)
    return cls(models={"policy": policy}, cfg={"experiment": dict(NO_LOGS), **cfg},
               observation_space=policy.observation_space, action_space=policy.action_space)


def step(agent: Any, states, actions, rewards, next_states, terminated, truncated, timestep: int = 0) -> None:
    """Record one vector transition (lists, one value per env) and run post_interaction, as a trainer does."""
    def col(values, dtype):
        return torch.tensor(values, dtype=dtype).view(-1, 1)

    agent.record_transition(
        states=col(states, torch.int32), actions=col(actions, torch.int64), rewards=col(rewards, torch.float32),
        next_states=col(next_states, torch.int32), terminated=col(terminated, torch.bool),
        truncated=col(truncated, torch.bool), infos={}, timestep=timestep, timesteps=100,
    )
    agent.post_interaction(timestep=timestep, timesteps=100)


# ----------------------------------------------------------------------------------------------- configuration
@pytest.mark.parametrize("defaults", [Q_LEARNING_DEFAULT_CONFIG, SARSA_DEFAULT_CONFIG])
def test_default_config_matches_api(defaults: dict) -> None:
    assert set(defaults) == set(API_KEYS) | {"experiment"}
    for key, value in API_KEYS.items():
        assert defaults[key] == value, key
    assert defaults["experiment"]["write_interval"] == "auto"


@pytest.mark.parametrize("cls", AGENTS)
def test_configuration_errors(cls: Any) -> None:
    with pytest.raises(KeyError, match="Did you mean 'learning_rate'"):
        build(cls, learning_rat=0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        build(cls, learning_rate=0.0)
    with pytest.raises(ValueError, match="discount_factor"):
        build(cls, discount_factor=1.5)
    table = EpsilonGreedyTable(gym.spaces.Discrete(3), gym.spaces.Discrete(2))
    with pytest.raises(KeyError, match="Did you mean 'policy'"):
        cls(models={"polcy": table})
    with pytest.raises(ValueError, match="'policy' model"):
        cls(models={})
    table.q_table = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="q_table must have shape"):
        cls(models={"policy": table})
    agent = build(cls, num_envs=3)
    with pytest.raises(ValueError, match="3 tables"):
        step(agent, [0, 1], [1, 1], [0, 0], [1, 2], [False, False], [False, False])
        step(agent, [1, 2], [1, 1], [0, 0], [2, 3], [False, False], [False, False])


def test_tabular_builder() -> None:
    models = build_tabular_models(gym.spaces.Discrete(7), gym.spaces.Discrete(3), "cpu", {"epsilon": 0.2}, 4)
    assert models["policy"].q_table.shape == (1, 7, 3) and models["policy"].epsilon == 0.2
    per_env = build_tabular_models(gym.spaces.Discrete(7), gym.spaces.Discrete(3), "cpu", {"shared": False}, 4)
    assert per_env["policy"].q_table.shape == (4, 7, 3)
    with pytest.raises(ValueError, match="Unknown tabular network key"):
        build_tabular_models(gym.spaces.Discrete(7), gym.spaces.Discrete(3), "cpu", {"hidden": [4]}, 1)
    with pytest.raises(TypeError, match="Discrete observation"):
        build_tabular_models(gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(3), "cpu", {}, 1)


def test_epsilon_greedy_model_explores_and_exposes_greedy_actions() -> None:
    table = EpsilonGreedyTable(gym.spaces.Discrete(2), gym.spaces.Discrete(3), "cpu", num_envs=1, epsilon=0.0)
    table.q_table[0, 1] = torch.tensor([0.0, 2.0, 1.0])
    actions, log_prob, outputs = table.act({"states": torch.tensor([[1], [0]])})
    assert actions[0].tolist() == [1] and log_prob is None
    assert outputs["mean_actions"].tolist() == [[1], [0]]  # greedy, lowest index among ties
    tied = torch.cat([table.act({"states": torch.zeros(200, 1, dtype=torch.long)})[0] for _ in range(2)])
    assert set(tied.view(-1).tolist()) == {0, 1, 2}  # ties are broken at random while exploring
    table.epsilon = 1.0
    random_actions = table.act({"states": torch.ones(300, 1, dtype=torch.long)})[0]
    assert set(random_actions.view(-1).tolist()) == {0, 1, 2}


# ----------------------------------------------------------------------------------------------- updates
def test_q_learning_update_matches_hand_computation() -> None:
    agent = build(Q_LEARNING, num_envs=3, learning_rate=0.5, discount_factor=0.9)
    q = agent.q_table
    q[:, 1] = torch.tensor([2.0, 4.0])  # Q(s'=1) in every env table: max 4
    q[0, 0, 1] = 1.0
    # env 0 continues, env 1 terminates (no bootstrap), env 2 is truncated (bootstraps from the final state)
    step(agent, [0, 0, 0], [1, 1, 1], [1.0, 1.0, 1.0], [1, 1, 1], [False, True, False], [False, False, True])
    assert q[0, 0, 1].item() == pytest.approx(1.0 + 0.5 * (1.0 + 0.9 * 4.0 - 1.0))
    assert q[1, 0, 1].item() == pytest.approx(0.5 * 1.0)
    assert q[2, 0, 1].item() == pytest.approx(0.5 * (1.0 + 0.9 * 4.0))
    assert q[:, 0, 0].abs().sum() == 0 and agent.training_steps == 1 and agent.last_transition is None


def test_shared_table_averages_simultaneous_updates() -> None:
    q_table = torch.zeros(1, 2, 2)
    rows = torch.zeros(3, dtype=torch.long)
    td = td_update_(q_table, rows, torch.tensor([0, 0, 1]), torch.tensor([1, 1, 0]), torch.tensor([1.0, 3.0, 2.0]), 0.5)
    assert td.tolist() == [1.0, 3.0, 2.0]
    assert q_table[0, 0, 1].item() == pytest.approx(0.5 * 2.0) and q_table[0, 1, 0].item() == pytest.approx(1.0)


def test_learning_starts_and_rewards_shaper() -> None:
    agent = build(Q_LEARNING, num_envs=1, learning_starts=2, rewards_shaper=lambda r, t, ts: r * 10)
    step(agent, [0], [1], [1.0], [1], [True], [False])
    step(agent, [0], [1], [1.0], [1], [True], [False])
    assert agent.q_table.abs().sum() == 0
    step(agent, [0], [1], [1.0], [1], [True], [False])
    assert agent.q_table[0, 0, 1].item() == pytest.approx(0.5 * 10.0)


def test_sarsa_update_is_deferred_to_the_next_action() -> None:
    agent = build(SARSA, num_envs=3, epsilon=0.0, learning_rate=0.5, discount_factor=0.9)
    q = agent.q_table
    q[:, 1] = torch.tensor([2.0, 4.0])  # greedy action in state 1 is 1 (value 4)
    # transition t: env 0 continues, env 1 terminates, env 2 is truncated
    step(agent, [0, 0, 0], [1, 1, 1], [1.0, 1.0, 1.0], [1, 1, 1], [False, True, False], [False, False, True])
    assert q[:, 0].abs().sum() == 0  # a' unknown yet: nothing learned
    # transition t+1: env 0 takes a'=0 in s'=1 (not the greedy action); envs 1 and 2 start new episodes in state 3
    step(agent, [1, 3, 3], [0, 1, 1], [0.0, 0.0, 0.0], [1, 3, 3], [False, False, False], [False, False, False], 1)
    assert q[0, 0, 1].item() == pytest.approx(0.5 * (1.0 + 0.9 * 2.0))  # Q(s'=1, a'=0): the action actually taken
    assert q[1, 0, 1].item() == pytest.approx(0.5 * 1.0)  # terminated: no bootstrap
    assert q[2, 0, 1].item() == pytest.approx(0.5 * (1.0 + 0.9 * 4.0))  # truncated: policy's action at the final state
    assert q[:, 1].tolist() == [[2.0, 4.0]] * 3  # transition t+1 waits for its own next action


def _reference_sarsa(transitions: list[dict], n_states: int, alpha: float, gamma: float) -> torch.Tensor:
    """Textbook single-environment SARSA over a recorded trajectory (no truncations in it)."""
    q = torch.zeros(n_states, 2)
    for now, nxt in zip(transitions[:-1], transitions[1:]):
        s, a, r, s2, term = now["s"], now["a"], now["r"], now["s2"], now["term"]
        target = r if term else r + gamma * q[s2, nxt["a"]].item()
        if not term:
            assert nxt["s"] == s2  # the next transition starts where this one ended
        q[s, a] += alpha * (target - q[s, a])
    return q


def test_sarsa_matches_a_textbook_loop_on_a_real_trajectory() -> None:
    env = chain_env(num_envs=1, n=4, limit=50)
    agent = build(SARSA, num_envs=1, n_states=4, epsilon=0.5, learning_rate=0.5, discount_factor=0.9)
    log: list[dict] = []
    record = agent.record_transition

    def spy(**kw: Any) -> None:
        log.append({"s": int(kw["states"]), "a": int(kw["actions"]), "r": float(kw["rewards"]),
                    "s2": int(kw["next_states"]), "term": bool(kw["terminated"])})
        record(**kw)

    agent.record_transition = spy
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 60, **QUIET})
    for t in range(60):
        trainer.train(timestep=t)
    assert sum(x["term"] for x in log) >= 3
    torch.testing.assert_close(agent.q_table[0], _reference_sarsa(log, 4, 0.5, 0.9))


def test_sarsa_interrupted_episodes_bootstrap_like_truncation() -> None:
    env = chain_env(num_envs=2)
    agent = build(SARSA, num_envs=2)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    assert not agent.pending_transition.truncated.any()
    trainer.eval()  # the training episodes are abandoned
    assert agent.pending_transition.truncated.all()


# ----------------------------------------------------------------------------------------------- agent discipline
@pytest.mark.parametrize("cls", AGENTS)
def test_eval_never_learns(cls: Any) -> None:
    env = chain_env()
    agent = build(cls)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(30):
        trainer.eval()
    assert agent.q_table.abs().sum() == 0 and agent.training_steps == 0 and agent.last_transition is None
    for _ in range(30):
        trainer.train()
    assert agent.q_table.abs().sum() > 0 and agent.training_steps == 30


@pytest.mark.parametrize("cls", AGENTS)
def test_per_step_path_and_updates_have_no_host_syncs(cls: Any, request: pytest.FixtureRequest) -> None:
    env = chain_env(num_envs=3)
    agent = build(cls, num_envs=3)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")
    for _ in range(20):  # act, record and the tabular update every step
        trainer.train()
    with pytest.raises(AssertionError, match="host sync"):
        torch.zeros(1).item()


@pytest.mark.parametrize("cls", AGENTS)
def test_checkpoint_round_trip(cls: Any, tmp_path: Any) -> None:
    agent = build(cls, num_envs=2)
    agent.q_table.copy_(torch.randn(2, 5, 2))
    agent.training_steps = 7
    assert set(agent.checkpoint_modules) == {"policy"}
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    other = build(cls, num_envs=2)
    other.load(path)
    assert torch.equal(other.q_table, agent.q_table) and other.training_steps == 7
    with pytest.raises(Exception, match=r"q_table. has shape \(2, 5, 2\), this agent.s has \(3, 5, 2\)"):
        build(cls, num_envs=3).load(path)


@pytest.mark.parametrize("cls", AGENTS)
def test_random_timesteps_act_uniformly(cls: Any) -> None:
    agent = build(cls, num_envs=1, epsilon=0.0, random_timesteps=5)
    agent.q_table[0, 0] = torch.tensor([0.0, 1.0])
    agent.set_running_mode("train")
    actions = torch.cat([agent.act(torch.zeros(64, 1, dtype=torch.long), 0, 10)[0] for _ in range(2)])
    assert set(actions.view(-1).tolist()) == {0, 1}
    agent.set_running_mode("eval")
    assert agent.act(torch.zeros(64, 1, dtype=torch.long), 0, 10)[0].unique().tolist() == [1]


@pytest.mark.parametrize("cls", AGENTS)
@pytest.mark.parametrize("shared", [False, True])
def test_manual_trainer_learns_the_chain(cls: Any, shared: bool) -> None:
    env = chain_env(num_envs=2, n=5)
    agent = build(cls, num_envs=2, epsilon=0.3, shared=shared, learning_rate=0.5, discount_factor=0.9)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 600, **QUIET})
    for t in range(600):
        trainer.train(timestep=t)
    greedy = agent.q_table.argmax(-1)[:, :4]
    assert (greedy == 1).all()  # always move right
    returns = trainer.run_episodes(4, max_steps=1000)
    assert returns == [1.0] * 4


@pytest.mark.parametrize("cls", AGENTS)
def test_sequential_trainer_smoke(cls: Any) -> None:
    env = chain_env(num_envs=2, n=4)
    agent = build(cls, num_envs=2, epsilon=0.3)
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 300, **QUIET})
    trainer.train()
    assert agent.training_steps == 300
    before = agent.q_table.clone()
    trainer.eval()
    assert torch.equal(before, agent.q_table)
    assert np.isfinite(agent.q_table.numpy()).all() and (agent.q_table.argmax(-1)[:, :3] == 1).all()


# ----------------------------------------------------------------------------------------------- presets
def test_preset_env_kwargs(tmp_path: Any) -> None:
    import json

    from steprl.cli import main
    from steprl.cli.presets import PresetError, load_preset, parse_preset

    assert load_preset("FrozenLake-v1", "q_learning").env_kwargs == {"is_slippery": False}
    assert load_preset("CartPole-v1", "ppo").env_kwargs == {}
    table = {"timesteps": 10, "num_envs": 1, "eval_every": 10, "agent": {}, "env_kwargs": 3}
    with pytest.raises(PresetError, match="env_kwargs"):
        parse_preset({"sarsa": table}, "X-v0", "sarsa")
    run_dir = tmp_path / "run"
    args = ["train", "--env", "FrozenLake-v1", "--agent", "sarsa", "--timesteps", "64", "--eval-every", "0",
            "--eval-episodes", "1", "--run-dir", str(run_dir), "--no-progress"]
    assert main(args) == 0
    assert json.loads((run_dir / "summary.json").read_text())["env_kwargs"] == {"is_slippery": False}


class SkrlStyleTable(EpsilonGreedyTable):
    """A model whose outputs carry no mean_actions (as skrl's tabular examples): the agent supplies greedy ones."""

    def compute(self, inputs: Any, role: str = "") -> tuple[torch.Tensor, dict]:
        return super().compute(inputs, role)[0], {}


@pytest.mark.parametrize("cls", AGENTS)
def test_evaluation_is_greedy_for_models_without_mean_actions(cls: Any) -> None:
    policy = SkrlStyleTable(gym.spaces.Discrete(3), gym.spaces.Discrete(2), "cpu", num_envs=2, epsilon=1.0)
    policy.q_table[0, 1, 1] = policy.q_table[1, 1, 0] = 1.0
    agent = cls(models={"policy": policy}, cfg={"experiment": dict(NO_LOGS)})
    agent.set_running_mode("eval")
    assert agent.act(torch.tensor([[1], [1]]), 0, 1)[2]["mean_actions"].tolist() == [[1], [0]]
    agent.set_running_mode("train")
    assert "mean_actions" not in agent.act(torch.tensor([[1], [1]]), 0, 1)[2]
