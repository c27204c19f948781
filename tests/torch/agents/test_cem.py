"""CEM: configuration, elite selection (per environment, across rollout boundaries), the cross-entropy step."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest
import torch
from helpers.envs import counting_vec
from helpers.models import CategoricalPolicy

from steprl.agents.torch.cem import CEM, CEM_DEFAULT_CONFIG
from steprl.agents.torch.cem import cem as cem_module
from steprl.agents.torch.cem.losses import select_elite
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}
API_KEYS = {
    "rollouts": 16, "percentile": 0.70, "discount_factor": 0.99, "learning_rate": 1e-2,
    "learning_rate_scheduler": None, "learning_rate_scheduler_kwargs": {}, "state_preprocessor": None,
    "state_preprocessor_kwargs": {}, "random_timesteps": 0, "learning_starts": 0, "rewards_shaper": None,
    "mixed_precision": False,
}
OBS = gym.spaces.Box(-1e6, 1e6, (3,))
ACT = gym.spaces.Discrete(2)


def build(num_envs: int = 2, rollouts: int = 4, **cfg: Any) -> CEM:
    policy = CategoricalPolicy(OBS, ACT)
    agent = CEM(models={"policy": policy}, memory=RandomMemory(memory_size=rollouts, num_envs=num_envs),
                cfg={"rollouts": rollouts, "experiment": dict(NO_LOGS), **cfg}, observation_space=OBS, action_space=ACT)
    agent.init({"timesteps": 100})
    agent.set_running_mode("train")
    return agent


def feed(agent: CEM, rewards: list[list[float]], dones: list[list[bool]], actions: list[list[int]] | None = None,
         truncated: bool = False) -> None:
    """Record one rollout, rows = time steps, columns = environments (states tag time and env), then post_interaction."""
    for t, (r, d) in enumerate(zip(rewards, dones)):
        n = len(r)
        states = torch.tensor([[t, e, 0.0] for e in range(n)])
        flags = torch.tensor(d).view(-1, 1)
        none = torch.zeros(n, 1, dtype=torch.bool)
        agent.record_transition(
            states=states, actions=torch.tensor(actions[t] if actions else [0] * n).view(-1, 1),
            rewards=torch.tensor(r).view(-1, 1), next_states=states + 1,
            terminated=none if truncated else flags, truncated=flags if truncated else none,
            infos={}, timestep=t, timesteps=100,
        )
        agent.post_interaction(timestep=t, timesteps=100)


@pytest.fixture
def selections(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every select_elite result computed by CEM updates."""
    found: list = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        found.append(select_elite(*args, **kwargs))
        return found[-1]

    monkeypatch.setattr(cem_module, "select_elite", spy)
    return found


# ----------------------------------------------------------------------------------------------- configuration
def test_default_config_matches_api() -> None:
    assert set(CEM_DEFAULT_CONFIG) == set(API_KEYS) | {"experiment"}
    for key, value in API_KEYS.items():
        assert CEM_DEFAULT_CONFIG[key] == value, key


def test_configuration_errors() -> None:
    with pytest.raises(KeyError, match="Did you mean 'percentile'"):
        build(percentil=0.5)
    with pytest.raises(ValueError, match="percentile"):
        build(percentile=1.5)
    with pytest.raises(ValueError, match="rollouts"):
        CEM(models={"policy": CategoricalPolicy(OBS, ACT)}, cfg={"rollouts": 0})
    with pytest.raises(ValueError, match="'policy' model"):
        CEM(models={})
    with pytest.raises(KeyError, match="Did you mean 'policy'"):
        CEM(models={"polic": CategoricalPolicy(OBS, ACT)})
    agent = CEM(models={"policy": CategoricalPolicy(OBS, ACT)}, memory=RandomMemory(8, 2), cfg={"rollouts": 4},
                observation_space=OBS, action_space=ACT)
    with pytest.raises(ValueError, match="memory_size \\(8\\) must equal cfg\\['rollouts'\\] \\(4\\)"):
        agent.init({"timesteps": 10})
    assert set(agent.checkpoint_modules) == {"policy", "optimizer"}


# ----------------------------------------------------------------------------------------------- elite selection
def test_select_elite_percentile_is_exact() -> None:
    # env 0: episodes of returns 1, 2 and an unfinished tail; env 1: episodes of returns 3, 4, 5 (gamma = 1)
    env_ids = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    rewards = torch.tensor([1.0, 1.0, 1.0, 9.0, 3.0, 2.0, 2.0, 1.0, 4.0, 7.0])
    dones = torch.tensor([True, False, True, False, True, False, True, False, True, False])
    cuts = torch.zeros(10, dtype=torch.bool)
    cuts[9] = True  # env 1's last step was abandoned
    sel = select_elite(env_ids, rewards, dones, cuts, discount_factor=1.0, percentile=0.7)
    assert sel.episode_ids.tolist() == [0, 1, 1, 2, 3, 4, 4, 5, 5, 6]
    assert sel.returns.tolist() == [1.0, 2.0, 9.0, 3.0, 4.0, 5.0, 7.0]
    assert sel.complete.tolist() == [True, True, False, True, True, True, False]
    assert sel.threshold.item() == pytest.approx(1.0 + 0.7 * 4.0)  # linear quantile of [1, 2, 3, 4, 5]
    assert sel.elite.tolist() == [False, False, False, False, True, True, False]  # returns 4 and 5 (>= 3.8)
    assert sel.elite_steps.tolist() == [False] * 5 + [True] * 4 + [False]
    assert sel.tail_steps.tolist() == [False, False, False, True] + [False] * 6  # the cut episode is dropped


def test_select_elite_discounts_from_the_episode_start() -> None:
    sel = select_elite(torch.zeros(3, dtype=torch.long), torch.tensor([1.0, 1.0, 1.0]),
                       torch.tensor([False, False, True]), torch.zeros(3, dtype=torch.bool), 0.5, 0.7)
    assert sel.returns.tolist() == [1.75] and sel.elite.tolist() == [True]


def test_episodes_are_tracked_per_env_and_carried_across_rollouts(selections: list) -> None:
    agent = build(num_envs=2, rollouts=4, discount_factor=1.0, percentile=0.5)
    # rollout 1: env 0 ends an episode at t=1 (return 2) and starts one; env 1 never ends (carried whole)
    feed(agent, [[1, 5], [1, 5], [3, 5], [3, 5]], [[False, False], [True, False], [False, False], [False, False]])
    first = selections[-1]
    assert first.complete.tolist() == [True, False, False] and first.returns.tolist() == [2.0, 6.0, 20.0]
    assert agent.carry.env_ids.tolist() == [0, 0, 1, 1, 1, 1]
    assert agent.carry.states[:, 0].tolist() == [2, 3, 0, 1, 2, 3]  # time tags of the carried steps
    # rollout 2: env 0's carried episode ends at t=0 (return 3+3+4 = 10); env 1's ends at t=3 (20 + 4·1 = 24)
    feed(agent, [[4, 1], [0, 1], [0, 1], [0, 1]], [[True, False], [False, False], [False, False], [False, True]])
    second = selections[-1]
    assert second.returns.tolist() == [10.0, 0.0, 24.0]
    assert second.complete.tolist() == [True, False, True]
    assert second.elite.tolist() == [False, False, True]  # median of [10, 24] = 17
    assert int(second.elite_steps.sum()) == 8  # env 1's whole 8-step episode, 4 steps of it from rollout 1
    assert agent.carry.env_ids.tolist() == [0, 0, 0]


def test_truncated_episodes_are_complete(selections: list) -> None:
    agent = build(num_envs=1, rollouts=3, discount_factor=1.0)
    feed(agent, [[1], [1], [1]], [[False], [True], [False]], truncated=True)
    assert selections[-1].complete.tolist() == [True, False]


def test_interrupted_episodes_are_dropped(selections: list) -> None:
    env = wrap_env(counting_vec(2), verbose=False)  # episodes of 3 and 4 steps
    agent = CEM(models={"policy": CategoricalPolicy(env.observation_space, env.action_space)},
                memory=RandomMemory(memory_size=6, num_envs=2), cfg={"rollouts": 6, "experiment": dict(NO_LOGS)},
                observation_space=env.observation_space, action_space=env.action_space)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    trainer.train()
    trainer.eval()  # the two-step-old training episodes are abandoned
    for _ in range(4):
        trainer.train()
    sel = selections[-1]
    # env 0: abandoned 2 steps + a fresh 3-step episode + 1 tail step; env 1: abandoned 2 + 4 fresh steps (complete)
    assert sel.complete.tolist() == [False, True, False, False, True]
    assert sel.tail_steps.view(2, 6).sum(1).tolist() == [1, 0]
    assert agent.carry.env_ids.tolist() == [0]


def test_cross_entropy_step_raises_the_log_prob_of_elite_actions() -> None:
    torch.manual_seed(0)
    agent = build(num_envs=2, rollouts=4, percentile=0.5, learning_rate=1e-2)
    states = torch.tensor([[t, 0, 0.0] for t in range(4)])
    ones = torch.ones(4, 1, dtype=torch.long)

    def log_prob(actions: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return agent.policy.act({"states": states, "taken_actions": actions}, role="policy")[1]

    elite_before, other_before = log_prob(ones), log_prob(0 * ones)
    # env 0: a 4-step episode of action 1 and return 4 (elite); env 1: action 0, return 0 (not elite)
    feed(agent, [[1, 0]] * 4, [[False, False]] * 3 + [[True, True]], actions=[[1, 0]] * 4)
    assert (log_prob(ones) > elite_before).all() and (log_prob(0 * ones) < other_before).all()


def test_no_update_without_complete_episodes_or_before_learning_starts() -> None:
    agent = build(num_envs=1, rollouts=2, learning_starts=4)
    before = [p.clone() for p in agent.policy.parameters()]
    feed(agent, [[1], [1]], [[False], [True]])  # t = 0, 1 < learning_starts
    feed(agent, [[1], [1]], [[False], [False]])  # no complete episode
    assert all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))


# ----------------------------------------------------------------------------------------------- agent discipline
def _env_agent(num_envs: int = 2, rollouts: int = 8, **cfg: Any) -> tuple[Any, CEM]:
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)
    agent = CEM(models={"policy": CategoricalPolicy(env.observation_space, env.action_space)},
                memory=RandomMemory(memory_size=rollouts, num_envs=num_envs),
                cfg={"rollouts": rollouts, "experiment": dict(NO_LOGS), **cfg},
                observation_space=env.observation_space, action_space=env.action_space)
    return env, agent


def test_eval_never_writes_memory_or_learns() -> None:
    env, agent = _env_agent(rollouts=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 200, **QUIET})
    before = [p.clone() for p in agent.policy.parameters()]
    for _ in range(40):
        trainer.eval()
    assert len(agent.memory) == 0 and agent.carry is None
    assert all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))
    for _ in range(40):
        trainer.train()
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))


def test_per_step_path_has_no_host_syncs(request: pytest.FixtureRequest) -> None:
    env, agent = _env_agent(num_envs=4, rollouts=64)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")
    for _ in range(30):
        trainer.train()
    with pytest.raises(AssertionError, match="host sync"):
        torch.zeros(1).item()


def test_checkpoint_round_trip_and_preprocessor(tmp_path: Any) -> None:
    from steprl.resources.preprocessors.torch import RunningStandardScaler

    env, agent = _env_agent(rollouts=8, state_preprocessor=RunningStandardScaler,
                            state_preprocessor_kwargs={"size": 4},
                            learning_rate_scheduler=torch.optim.lr_scheduler.StepLR,
                            learning_rate_scheduler_kwargs={"step_size": 1, "gamma": 0.5})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(64):
        trainer.train()
    assert set(agent.checkpoint_modules) == {"policy", "optimizer", "scheduler", "state_preprocessor"}
    assert agent.optimizer.param_groups[0]["lr"] < 1e-2
    path = str(tmp_path / "cem.pt")
    agent.save(path)
    _, other = _env_agent(rollouts=8, state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": 4})
    other.load(path)
    for a, b in zip(agent.policy.parameters(), other.policy.parameters()):
        assert torch.equal(a, b)


def test_manual_and_sequential_trainers_smoke() -> None:
    env, agent = _env_agent(num_envs=2, rollouts=16)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 64, **QUIET})
    for t in range(64):
        trainer.train(timestep=t)
    assert len(trainer.run_episodes(2, max_steps=1000)) == 2
    env, agent = _env_agent(num_envs=2, rollouts=16)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 64, **QUIET}).train()
    assert agent.carry is not None


def test_cem_learns_a_bandit_like_task() -> None:
    """Counting episodes: reward = action + 1, so the elite episodes took action 1: the policy learns it."""
    env = wrap_env(counting_vec(4), verbose=False)
    agent = CEM(models={"policy": CategoricalPolicy(env.observation_space, env.action_space)},
                memory=RandomMemory(memory_size=20, num_envs=4), cfg={"rollouts": 20, "learning_rate": 0.05,
                                                                    "experiment": dict(NO_LOGS)},
                observation_space=env.observation_space, action_space=env.action_space)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 400, **QUIET})
    for t in range(400):
        trainer.train(timestep=t)
    probs = agent.policy.act({"states": torch.tensor([[0.0, 1.0, 0.0], [5.0, 2.0, 1.0]])}, role="policy")
    assert (probs[2]["mean_actions"] == 1).all()
