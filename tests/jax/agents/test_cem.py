"""JAX CEM: the torch agent's config, elite selection and loss; episodes carried across rollouts exactly as torch
does; counting; checkpoint round trip and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.jax_agents import NO_LOGS, QUIET, CategoricalPolicy
from helpers.loss_cases import CEM_LOSS_CASE, SELECT_ELITE_CASE
from helpers.models import CategoricalPolicy as TorchCategoricalPolicy

from steprl import config
from steprl.agents.jax.cem import CEM, CEM_DEFAULT_CONFIG
from steprl.agents.jax.cem.losses import cem_loss, select_elite
from steprl.agents.torch.cem import CEM as TorchCEM
from steprl.agents.torch.cem import CEM_DEFAULT_CONFIG as TORCH_CEM_DEFAULT_CONFIG
from steprl.agents.torch.cem.losses import select_elite as torch_select_elite
from steprl.core.agent import META_KEY
from steprl.envs.wrappers.jax import wrap_env
from steprl.memories.jax import RandomMemory
from steprl.memories.torch import RandomMemory as TorchRandomMemory
from steprl.resources.preprocessors.jax import RunningStandardScaler
from steprl.trainers.jax import ManualTrainer

OBS = gym.spaces.Box(-1e6, 1e6, (3,))
ACT = gym.spaces.Discrete(2)


def build(num_envs: int = 2, rollouts: int = 4, **cfg: Any) -> CEM:
    policy = CategoricalPolicy(OBS, ACT)
    policy.init_state_dict("policy")
    agent = CEM(models={"policy": policy}, memory=RandomMemory(memory_size=rollouts, num_envs=num_envs),
                cfg={"rollouts": rollouts, "experiment": dict(NO_LOGS), **cfg}, observation_space=OBS, action_space=ACT)
    agent.init({"timesteps": 100})
    agent.set_running_mode("train")
    return agent


def build_torch(num_envs: int = 2, rollouts: int = 4, **cfg: Any) -> TorchCEM:
    agent = TorchCEM(models={"policy": TorchCategoricalPolicy(OBS, ACT)},
                     memory=TorchRandomMemory(memory_size=rollouts, num_envs=num_envs),
                     cfg={"rollouts": rollouts, "experiment": dict(NO_LOGS), **cfg}, observation_space=OBS,
                     action_space=ACT)  # fmt: skip
    agent.init({"timesteps": 100})
    agent.set_running_mode("train")
    return agent


def feed(agent: Any, rewards: list[list[float]], dones: list[list[bool]], actions: list[list[int]] | None = None,
         start: int = 0) -> None:
    """Record one rollout (rows = time steps, columns = environments; states tag time and env), post_interaction
    after each step; torch agents get tensors, JAX agents NumPy arrays."""
    convert = (lambda x: torch.as_tensor(x)) if isinstance(agent, TorchCEM) else np.asarray  # noqa: E731
    for t, (r, d) in enumerate(zip(rewards, dones)):
        n = len(r)
        states = np.array([[start + t, e, 0.0] for e in range(n)], np.float32)
        flags = np.array(d).reshape(-1, 1)
        acts = np.array(actions[t] if actions else [0] * n).reshape(-1, 1)
        agent.record_transition(
            states=convert(states), actions=convert(acts), rewards=convert(np.array(r, np.float32).reshape(-1, 1)),
            next_states=convert(states + 1), terminated=convert(flags), truncated=convert(np.zeros_like(flags)),
            infos={}, timestep=start + t, timesteps=100,
        )  # fmt: skip
        agent.post_interaction(timestep=start + t, timesteps=100)


def params(agent: CEM) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(agent.policy.state_dict.params)]


# ----------------------------------------------------------------------------------------------- configuration
def test_default_config_is_torch_without_mixed_precision() -> None:
    expected = {k: v for k, v in TORCH_CEM_DEFAULT_CONFIG.items() if k != "mixed_precision"}
    assert list(CEM_DEFAULT_CONFIG) == list(expected)
    assert dict(CEM_DEFAULT_CONFIG) == expected


def test_configuration_errors() -> None:
    policy = CategoricalPolicy(OBS, ACT)
    policy.init_state_dict("policy")
    with pytest.raises(ValueError, match="percentile"):
        CEM(models={"policy": policy}, cfg={"percentile": 1.5})
    with pytest.raises(ValueError, match="'policy' model"):
        CEM(models={})
    with pytest.raises(KeyError, match="Did you mean 'policy'"):
        CEM(models={"polic": policy})
    agent = CEM(models={"policy": policy}, memory=RandomMemory(8, 2), cfg={"rollouts": 4, "experiment": dict(NO_LOGS)},
                observation_space=OBS, action_space=ACT)  # fmt: skip
    with pytest.raises(ValueError, match="memory_size \\(8\\) must equal cfg\\['rollouts'\\] \\(4\\)"):
        agent.init({"timesteps": 10})
    assert set(agent.checkpoint_modules) == {"policy", "optimizer"}


# ----------------------------------------------------------------------------------------------- losses
def test_cem_loss_hand_computed() -> None:
    log_prob = jnp.asarray(CEM_LOSS_CASE["log_prob"])
    assert float(cem_loss(log_prob)) == pytest.approx(CEM_LOSS_CASE["expected"])
    padded = jnp.concatenate([log_prob, jnp.asarray([-100.0])])  # a masked-out row changes nothing
    assert float(cem_loss(padded, jnp.asarray([True, True, True, False]))) == pytest.approx(CEM_LOSS_CASE["expected"])


def test_select_elite_hand_computed() -> None:
    case = SELECT_ELITE_CASE
    inputs = {k: jnp.asarray(v) for k, v in case["inputs"].items()}
    sel = jax.jit(select_elite, static_argnames=("discount_factor", "percentile"))(**inputs, **case["kwargs"])
    expected = case["expected"]
    episodes = len(expected["returns"])
    assert sel.episode_ids.tolist() == expected["episode_ids"]
    np.testing.assert_allclose(np.asarray(sel.returns[:episodes]), expected["returns"])
    assert sel.complete[:episodes].tolist() == expected["complete"] and not bool(sel.complete[episodes:].any())
    assert float(sel.threshold) == pytest.approx(expected["threshold"])
    assert sel.elite[:episodes].tolist() == expected["elite"]
    assert sel.elite_steps.tolist() == expected["elite_steps"]
    assert sel.tail_steps.tolist() == expected["tail_steps"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_select_elite_equals_torch_on_random_padded_streams(seed: int) -> None:
    rng = np.random.default_rng(seed)
    length, pad = 40, 8
    env_ids = np.sort(rng.integers(0, 4, length))
    rewards = rng.normal(size=length).astype(np.float32)
    dones, cuts = rng.random(length) < 0.2, rng.random(length) < 0.05
    ref = torch_select_elite(torch.as_tensor(env_ids), torch.as_tensor(rewards), torch.as_tensor(dones),
                             torch.as_tensor(cuts), 0.9, 0.7)  # fmt: skip
    padded = lambda x, v: np.concatenate([x, np.full(pad, v, x.dtype)])  # noqa: E731
    sel = select_elite(jnp.asarray(padded(env_ids, 4)), jnp.asarray(padded(rewards, 5.0)), jnp.asarray(padded(dones, True)),
                       jnp.asarray(padded(cuts, False)), 0.9, 0.7, jnp.arange(length + pad) < length)  # fmt: skip
    episodes = ref.returns.shape[0]
    np.testing.assert_allclose(np.asarray(sel.returns[:episodes]), ref.returns.numpy(), rtol=1e-5, atol=1e-6)
    assert sel.complete[:episodes].tolist() == ref.complete.tolist() and not bool(sel.complete[episodes:].any())
    assert float(sel.threshold) == pytest.approx(float(ref.threshold), rel=1e-5)
    assert sel.elite[:episodes].tolist() == ref.elite.tolist()
    assert sel.elite_steps[:length].tolist() == ref.elite_steps.tolist() and not bool(sel.elite_steps[length:].any())
    assert sel.tail_steps[:length].tolist() == ref.tail_steps.tolist() and not bool(sel.tail_steps[length:].any())


# ----------------------------------------------------------------------------------------------- the agent
def test_episodes_are_carried_across_rollouts_as_torch_does() -> None:
    rollouts = [
        ([[1, 5], [1, 5], [3, 5], [3, 5]], [[False, False], [True, False], [False, False], [False, False]]),
        ([[4, 1], [0, 1], [0, 1], [0, 1]], [[True, False], [False, False], [False, False], [False, True]]),
        ([[1, 1]] * 4, [[False, False]] * 4),  # nothing ends: env 0's 3-step tail grows to 7 steps, env 1 carries 4
    ]
    agents = build(discount_factor=1.0, percentile=0.5), build_torch(discount_factor=1.0, percentile=0.5)
    for i, (rewards, dones) in enumerate(rollouts):
        for agent in agents:
            feed(agent, rewards, dones, start=4 * i)
        jax_carry, torch_carry = agents[0].carry, agents[1].carry
        assert np.asarray(jax_carry.env_ids).tolist() == torch_carry.env_ids.tolist()
        np.testing.assert_array_equal(np.asarray(jax_carry.states), torch_carry.states.numpy())
        np.testing.assert_array_equal(np.asarray(jax_carry.rewards), torch_carry.rewards.numpy())
    assert np.asarray(agents[0].carry.states[:, 0]).tolist() == [5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11]


def test_cross_entropy_step_raises_the_log_prob_of_elite_actions() -> None:
    config.jax.key = 0
    agent = build(num_envs=2, rollouts=4, percentile=0.5, learning_rate=1e-2)
    states = jnp.asarray([[t, 0, 0.0] for t in range(4)])
    ones = jnp.ones((4, 1), jnp.int32)

    def log_prob(actions: jax.Array) -> np.ndarray:
        inputs = {"states": states, "taken_actions": actions}
        return np.asarray(agent.policy.evaluate(agent.policy.state_dict.params, inputs, "policy")[0])

    elite_before, other_before = log_prob(ones), log_prob(0 * ones)
    # env 0: a 4-step episode of action 1 and return 4 (elite); env 1: action 0, return 0 (not elite)
    feed(agent, [[1, 0]] * 4, [[False, False]] * 3 + [[True, True]], actions=[[1, 0]] * 4)
    assert (log_prob(ones) > elite_before).all() and (log_prob(0 * ones) < other_before).all()


def test_learning_starts_and_random_timesteps_count_training_steps() -> None:
    agent = build(num_envs=1, rollouts=2, learning_starts=4)
    before = params(agent)
    feed(agent, [[1], [1]], [[False], [True]])  # training steps 1-2 <= learning_starts
    feed(agent, [[1], [1]], [[False], [False]], start=2)  # step 4 <= learning_starts (and no complete episode)
    assert all(np.array_equal(a, b) for a, b in zip(before, params(agent)))
    feed(agent, [[1], [1]], [[False], [True]], start=4)  # step 6 > learning_starts: the carried episode is elite
    assert not all(np.array_equal(a, b) for a, b in zip(before, params(agent)))

    agent = build(num_envs=64, rollouts=2, random_timesteps=1)
    states = np.zeros((64, 3), np.float32)
    random_actions = agent.act(states, 0, 10)[0]
    assert agent.act(states, 0, 10)[2] == {}  # random actions carry no outputs
    feed(agent, [[0] * 64], [[False] * 64])
    policy_actions, log_prob, outputs = agent.act(states, 1, 10)
    assert "mean_actions" in outputs and log_prob is not None
    assert len(set(np.asarray(random_actions).ravel().tolist())) == 2


def _cartpole_agent(rollouts: int = 8, **cfg: Any) -> tuple[Any, CEM]:
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    policy = CategoricalPolicy(env.observation_space, env.action_space)
    policy.init_state_dict("policy")
    agent = CEM(models={"policy": policy}, memory=RandomMemory(memory_size=rollouts, num_envs=2),
                cfg={"rollouts": rollouts, "experiment": dict(NO_LOGS), **cfg},
                observation_space=env.observation_space, action_space=env.action_space)  # fmt: skip
    return env, agent


def test_eval_never_writes_memory_or_learns() -> None:
    env, agent = _cartpole_agent(rollouts=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 200, **QUIET})
    before = params(agent)
    for _ in range(40):
        trainer.eval()
    assert len(agent.memory) == 0 and agent.carry is None
    assert all(np.array_equal(a, b) for a, b in zip(before, params(agent)))
    for _ in range(40):
        trainer.train()
    assert not all(np.array_equal(a, b) for a, b in zip(before, params(agent)))


def test_checkpoint_round_trip_and_resume(tmp_path: Path) -> None:
    import optax

    def trained(seed: int, steps: int) -> tuple[Any, CEM, Any]:
        config.jax.key = seed
        np.random.seed(seed)
        env, agent = _cartpole_agent(
            state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": 4},
            learning_rate_scheduler=optax.exponential_decay,
            learning_rate_scheduler_kwargs={"init_value": 1e-2, "transition_steps": 1, "decay_rate": 0.5},
        )  # fmt: skip
        trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
        for t in range(steps):
            trainer.train(timestep=t)
        return env, agent, trainer

    _, saved, _ = trained(1, 64)
    state = saved._checkpoint_dict(saved.timestep)
    assert set(state) - {META_KEY} == {"policy", "optimizer", "state_preprocessor"}
    path = str(tmp_path / "cem.ckpt")
    saved.save(path)
    _, resumed, _ = trained(2, 8)
    resumed.load(path, resume=True)
    assert_state_equal(state, resumed._checkpoint_dict(resumed.timestep))
    assert resumed.training_steps == saved.training_steps == 64
    states = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    for agent in (saved, resumed):
        agent.set_running_mode("eval")
    np.testing.assert_array_equal(saved.act(states, 0, 1)[2]["mean_actions"], resumed.act(states, 0, 1)[2]["mean_actions"])
