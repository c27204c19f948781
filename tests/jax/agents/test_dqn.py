"""JAX DQN and DDQN: the torch agents' config and losses; counting, update and target schedules as torch; the target
update ahead of the gradient steps; evaluation never writes memory; checkpoint round trip and resume."""

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
from helpers.jax_agents import NO_LOGS, QUIET
from helpers.loss_cases import DQN_LOSS_CASE, DQN_TARGET_CASE

from steprl import config
from steprl.agents.jax.dqn import DDQN, DDQN_DEFAULT_CONFIG, DQN, DQN_DEFAULT_CONFIG
from steprl.agents.jax.dqn.losses import dqn_loss, dqn_targets
from steprl.agents.torch.dqn import DQN as TorchDQN
from steprl.agents.torch.dqn import DQN_DEFAULT_CONFIG as TORCH_DQN_DEFAULT_CONFIG
from steprl.core.agent import META_KEY
from steprl.envs.wrappers.jax import wrap_env
from steprl.envs.wrappers.torch import wrap_env as torch_wrap_env
from steprl.memories.jax import RandomMemory
from steprl.memories.torch import RandomMemory as TorchRandomMemory
from steprl.models.jax.networks.q import build_dqn_models
from steprl.models.torch.networks.q import build_dqn_models as torch_build_dqn_models
from steprl.trainers.jax import ManualTrainer
from steprl.trainers.torch import ManualTrainer as TorchManualTrainer

SCHEDULE = {"random_timesteps": 3, "learning_starts": 5, "update_interval": 2, "target_update_interval": 3,
            "batch_size": 4}  # fmt: skip


def _cartpole(num_envs: int = 2) -> Any:
    env = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    env.reset(seed=0)
    return wrap_env(env, verbose=False)


def build(cls: type = DQN, num_envs: int = 2, memory_size: int = 64, **cfg: Any) -> tuple[Any, Any]:
    env = _cartpole(num_envs)
    models = build_dqn_models(env.observation_space, env.action_space, None, {"hidden": [16]})
    defaults = DDQN_DEFAULT_CONFIG if cls is DDQN else DQN_DEFAULT_CONFIG
    agent = cls(models=models, memory=RandomMemory(memory_size=memory_size, num_envs=num_envs),
                cfg={**defaults.copy(), "experiment": dict(NO_LOGS), **cfg},
                observation_space=env.observation_space, action_space=env.action_space)  # fmt: skip
    return env, agent


def params(model: Any) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(model.state_dict.params)]


# ----------------------------------------------------------------------------------------------- configuration
def test_default_configs_are_torch_without_mixed_precision() -> None:
    expected = {k: v for k, v in TORCH_DQN_DEFAULT_CONFIG.items() if k != "mixed_precision"}
    for defaults in (DQN_DEFAULT_CONFIG, DDQN_DEFAULT_CONFIG):
        assert list(defaults) == list(expected) and dict(defaults) == expected
    assert DDQN_DEFAULT_CONFIG["exploration"] is not DQN_DEFAULT_CONFIG["exploration"]


def test_configuration_errors() -> None:
    env = _cartpole()
    models = build_dqn_models(env.observation_space, env.action_space, None, {"hidden": [8]})
    with pytest.raises(ValueError, match="target_update_interval"):
        DQN(models=models, cfg={"target_update_interval": 0})
    with pytest.raises(ValueError, match="final_epsilon"):
        DQN(models=models, cfg={"exploration": {"final_epsilon": 2.0}})
    with pytest.raises(KeyError, match="Did you mean 'q_network'"):
        DQN(models={"q_netwrk": models["q_network"]})
    agent = DQN(models={"q_network": models["q_network"]}, memory=RandomMemory(8, 2),
                observation_space=env.observation_space, action_space=env.action_space)  # fmt: skip
    with pytest.raises(ValueError, match="'target_q_network' model to learn"):
        agent.init({"timesteps": 10})


# ----------------------------------------------------------------------------------------------- losses
def test_dqn_and_double_dqn_targets_hand_computed() -> None:
    case = DQN_TARGET_CASE
    rewards = jnp.asarray(case["inputs"]["rewards"]).reshape(-1, 1)
    terminated = jnp.asarray(case["inputs"]["terminated"]).reshape(-1, 1)
    next_target = jnp.asarray(case["inputs"]["next_target_q"])
    single = dqn_targets(rewards, terminated, next_target, **case["kwargs"])
    double = dqn_targets(rewards, terminated, next_target, next_online_q=jnp.asarray(case["next_online_q"]),
                         **case["kwargs"])  # fmt: skip
    assert single.shape == double.shape == (3, 1)
    np.testing.assert_allclose(np.asarray(single).ravel(), case["expected_dqn"])
    np.testing.assert_allclose(np.asarray(double).ravel(), case["expected_double"])


def test_dqn_loss_reaches_only_the_taken_actions() -> None:
    case = DQN_LOSS_CASE
    q, actions = jnp.asarray(case["q_values"]), jnp.asarray(case["actions"]).reshape(-1, 1)
    targets = jnp.asarray(case["targets"]).reshape(-1, 1)
    loss, (grad_q, grad_targets) = jax.value_and_grad(dqn_loss, argnums=(0, 2))(q, actions, targets)
    assert float(loss) == pytest.approx(case["expected"])
    np.testing.assert_allclose(np.asarray(grad_q), case["grad"])
    assert not np.asarray(grad_targets).any()  # no gradient flows into the targets


# ----------------------------------------------------------------------------------------------- schedules
def _jax_schedule(steps: int) -> tuple[list[int], list[int], list[int]]:
    """(training steps with random actions, with updates, with target changes) of a JAX DQN run."""
    env, agent = build(**SCHEDULE)
    random_steps: list[int] = []
    update_steps: list[int] = []
    target_steps: list[int] = []
    random_act, update = agent.q_network.random_act, agent._update

    def spy_random(*args: Any, **kwargs: Any) -> Any:
        random_steps.append(agent.training_steps)
        return random_act(*args, **kwargs)

    def spy_update(*args: Any, **kwargs: Any) -> Any:
        update_steps.append(agent.training_steps)
        return update(*args, **kwargs)

    agent.q_network.random_act, agent._update = spy_random, spy_update
    shifted = jax.tree_util.tree_map(lambda x: x + 1.0, agent.target_q_network.state_dict.params)
    agent.target_q_network.state_dict = agent.target_q_network.state_dict.replace(params=shifted)  # != q_network
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 50_000 + steps, **QUIET})
    for t in range(50_000, 50_000 + steps):
        before = params(agent.target_q_network)
        trainer.train(timestep=t)
        if not all(np.array_equal(a, b) for a, b in zip(before, params(agent.target_q_network))):
            target_steps.append(agent.training_steps)
    return random_steps, update_steps, target_steps


def _torch_schedule(steps: int) -> tuple[list[int], list[int], list[int]]:
    env = torch_wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    models = torch_build_dqn_models(env.observation_space, env.action_space, env.device, {"hidden": [16]})
    agent = TorchDQN(models=models, memory=TorchRandomMemory(memory_size=64, num_envs=2),
                     cfg={**SCHEDULE, "experiment": dict(NO_LOGS)}, observation_space=env.observation_space,
                     action_space=env.action_space)  # fmt: skip
    random_steps: list[int] = []
    update_steps: list[int] = []
    target_steps: list[int] = []
    random_act, update = agent.q_network.random_act, agent._update

    def spy_random(*args: Any, **kwargs: Any) -> Any:
        random_steps.append(agent.training_steps)
        return random_act(*args, **kwargs)

    def spy_update(*args: Any, **kwargs: Any) -> Any:
        update_steps.append(agent.training_steps)
        return update(*args, **kwargs)

    agent.q_network.random_act, agent._update = spy_random, spy_update
    with torch.no_grad():
        for parameter in agent.target_q_network.parameters():
            parameter.add_(1.0)  # != q_network, so that every target update shows
    trainer = TorchManualTrainer(env=env, agents=agent, cfg={"timesteps": 50_000 + steps, **QUIET})
    for t in range(50_000, 50_000 + steps):
        before = [p.detach().clone() for p in agent.target_q_network.parameters()]
        trainer.train(timestep=t)
        if not all(torch.equal(a, b) for a, b in zip(before, agent.target_q_network.parameters())):
            target_steps.append(agent.training_steps)
    return random_steps, update_steps, target_steps


def test_exploration_updates_and_target_updates_count_training_steps_as_torch() -> None:
    torch.manual_seed(0)
    expected = _torch_schedule(14)
    assert expected == ([0, 1, 2], [6, 8, 10, 12, 14], [6, 9, 12])  # the torch agent's documented schedule
    assert _jax_schedule(14) == expected


def test_target_update_runs_before_the_gradient_steps_of_its_step() -> None:
    env, agent = build(learning_starts=0, update_interval=1, target_update_interval=1, polyak=0.25)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()  # the first step's update (one transition in the memory)
    q_before, target_before = params(agent.q_network), params(agent.target_q_network)
    trainer.train()
    for target, old_target, old_q in zip(params(agent.target_q_network), target_before, q_before):
        np.testing.assert_allclose(target, old_target + 0.25 * (old_q - old_target), rtol=1e-6, atol=1e-7)
    assert not all(np.array_equal(a, b) for a, b in zip(q_before, params(agent.q_network)))


def test_epsilon_decays_with_training_steps_and_evaluation_is_greedy_and_writes_nothing() -> None:
    env, agent = build(exploration={"initial_epsilon": 1.0, "final_epsilon": 0.0, "timesteps": 1e9}, num_envs=64)
    states = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    agent.init({"timesteps": 10})
    agent.set_running_mode("train")
    actions, _, outputs = agent.act(states, 0, 10)  # epsilon ~ 1: uniform actions, not the greedy ones
    assert 0 < int((np.asarray(actions) != np.asarray(outputs["mean_actions"])).sum()) < 64
    agent.set_running_mode("eval")
    actions, _, outputs = agent.act(states, 0, 10)
    np.testing.assert_array_equal(actions, outputs["mean_actions"])
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(10):
        trainer.eval()
    assert len(agent.memory) == 0 and agent.training_steps == 0


# ----------------------------------------------------------------------------------------------- checkpoints
def _trained(cls: type, seed: int, steps: int) -> Any:
    config.jax.key = seed
    np.random.seed(seed)
    env, agent = build(cls, learning_starts=4, checkpoint_memory=True, target_update_interval=2)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for t in range(steps):
        trainer.train(timestep=t)
    return agent


@pytest.mark.parametrize("cls", [DQN, DDQN])
def test_checkpoint_round_trip_and_resume_continue_identically(cls: type, tmp_path: Path) -> None:
    saved = _trained(cls, seed=1, steps=12)
    state = saved._checkpoint_dict(saved.timestep)
    assert set(state) - {META_KEY} == {"q_network", "target_q_network", "optimizer", "memory"}
    path = str(tmp_path / "agent.ckpt")
    saved.save(path)
    resumed = _trained(cls, seed=2, steps=3)
    resumed.load(path, resume=True)
    assert_state_equal(state, resumed._checkpoint_dict(resumed.timestep))
    np.random.seed(7)  # the batch indexes come from NumPy's generator
    saved._update(0, 1)
    np.random.seed(7)
    resumed._update(0, 1)
    assert_state_equal(saved._checkpoint_dict(saved.timestep), resumed._checkpoint_dict(resumed.timestep))
