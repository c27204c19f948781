"""JAX PPO, A2C and RPO: one compiled update without host transfers inside, the NumPy and JAX memory backends learn
identically, runs repeat exactly, the KL early stop, RPO's perturbation, and the mistakes that get a clear error."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.backends import jax_backend
from helpers.jax_agents import QUIET, Value, build_agent, counting_env, host, pendulum_env

from steprl import config
from steprl.agents.jax.a2c import A2C, A2C_DEFAULT_CONFIG
from steprl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.agents.jax.rpo import RPO, RPO_DEFAULT_CONFIG
from steprl.memories.jax import RandomMemory
from steprl.resources.preprocessors.jax import RunningStandardScaler
from steprl.resources.schedulers.jax import KLAdaptiveLR
from steprl.trainers.jax import ManualTrainer

SMALL = {"learning_epochs": 2, "mini_batches": 2}


def _train(agent: Any, env: Any, steps: int) -> ManualTrainer:
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for timestep in range(steps):
        trainer.train(timestep=timestep)
    return trainer


def _run(backend: str, seed: int = 7, cls: type = PPO, defaults: dict = PPO_DEFAULT_CONFIG, **cfg: Any) -> Any:
    config.jax.key = seed
    np.random.seed(seed)
    env = counting_env(2, backend)
    with jax_backend(backend):
        small = SMALL if "learning_epochs" in defaults else {"mini_batches": 2}
        agent = build_agent(cls, defaults, env, backend, **{**small, **cfg})
        _train(agent, env, 24)  # three updates
    return agent


def test_the_update_compiles_once_and_transfers_nothing_inside() -> None:
    agent = _run("numpy", state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": 3},
                 value_preprocessor=RunningStandardScaler, value_preprocessor_kwargs={"size": 1})  # fmt: skip
    assert agent._update_jit._cache_size() == 1  # three updates, one compiled function
    assert agent._act_jit[True]._cache_size() == 1
    state, rollout = agent._train_state(), jax.device_put(agent._read_rollout())
    with jax.transfer_guard("disallow"):  # no host<->device transfer (sync) anywhere inside the update
        new_state, metrics = agent._update_jit(state, rollout)
    assert set(metrics) >= {"policy_loss", "value_loss", "kl", "learning_rate", "steps"}
    assert int(metrics["steps"]) == 4  # 2 epochs x 2 minibatches


def test_numpy_and_jax_memories_learn_identically() -> None:
    on_numpy, on_jax = _run("numpy"), _run("jax")
    for a, b in zip(jax.tree_util.tree_leaves(host(on_numpy.policy.state_dict.params)),
                    jax.tree_util.tree_leaves(host(on_jax.policy.state_dict.params))):  # fmt: skip
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.array_equal(host(on_numpy.policy.state_dict.params)["params"]["Dense_0"]["kernel"],
                              host(_run("numpy", seed=8).policy.state_dict.params)["params"]["Dense_0"]["kernel"])  # fmt: skip


def test_two_runs_with_the_same_seed_are_identical() -> None:
    first, second = (
        _run("numpy", cls=A2C, defaults=A2C_DEFAULT_CONFIG),
        _run("numpy", cls=A2C, defaults=A2C_DEFAULT_CONFIG),
    )
    for a, b in zip(jax.tree_util.tree_leaves(host(first.value.state_dict.params)),
                    jax.tree_util.tree_leaves(host(second.value.state_dict.params))):  # fmt: skip
        np.testing.assert_array_equal(a, b)


def test_kl_threshold_stops_an_epoch_early_and_kl_adaptive_changes_the_rate() -> None:
    agent = _run("numpy", learning_rate=0.05, kl_threshold=1e-9, learning_rate_scheduler=KLAdaptiveLR,
                 learning_rate_scheduler_kwargs={"kl_threshold": 1e-9, "min_lr": 1e-4})  # fmt: skip
    _, metrics = agent._update_jit(agent._train_state(), agent._read_rollout())
    # epoch 1: the first minibatch steps (the policy is still the rollout's: KL 0), the second one's KL stops the
    # epoch; epoch 2: its first minibatch already exceeds the threshold. One step out of four.
    assert int(metrics["steps"]) == 1
    assert float(metrics["learning_rate"]) < 0.05  # KL far above the threshold: the rate went down
    from steprl.resources.optimizers.jax.adam import learning_rate_of

    assert float(learning_rate_of(agent.policy_optimizer.state)) < 0.05


def test_a2c_makes_one_pass_and_tracks_the_kl() -> None:
    agent = _run("numpy", cls=A2C, defaults=A2C_DEFAULT_CONFIG, mini_batches=4)
    _, metrics = agent._update_jit(agent._train_state(), agent._read_rollout())
    assert int(metrics["steps"]) == 4 and float(metrics["kl"]) >= 0.0


def test_rpo_perturbs_the_mean_in_training_only_and_stores_the_acting_log_prob() -> None:
    config.jax.key = 3
    env = pendulum_env(2)
    agent = build_agent(RPO, RPO_DEFAULT_CONFIG, env, alpha=0.5, **SMALL)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 4, **QUIET})
    agent.init({"timesteps": 4})
    states = np.zeros((2, 3), np.float32)
    plain = agent.policy.apply(agent.policy.state_dict.params, {"states": jnp.asarray(states)}, "policy")[0]
    agent.set_running_mode("train")
    _, log_prob, outputs = agent.act(states, 0, 4)
    assert not np.allclose(outputs["mean_actions"], plain) and np.abs(outputs["mean_actions"] - plain).max() <= 0.5
    agent.set_running_mode("eval")
    np.testing.assert_allclose(agent.act(states, 0, 4)[2]["mean_actions"], plain, rtol=1e-6)
    for timestep in range(4):
        trainer.train(timestep=timestep)
    stored = np.asarray(agent.memory.get_tensor_by_name("log_prob"))[:4]
    assert np.isfinite(stored).all()


def test_tracking_data_stays_on_the_device_until_written() -> None:
    agent = _run("numpy", experiment={"write_interval": 1000, "checkpoint_interval": 0})
    losses = agent.tracking_data["Loss / Policy loss"]
    assert len(losses) == 3 and all(isinstance(v, jax.Array) for v in losses)
    assert "Policy / Standard deviation" not in agent.tracking_data  # a categorical policy has none


def test_interrupted_episodes_are_marked_truncated_on_both_backends() -> None:
    for backend in ("numpy", "jax"):
        env = counting_env(2, backend)
        with jax_backend(backend):
            agent = build_agent(PPO, PPO_DEFAULT_CONFIG, env, backend, **SMALL)
            _train(agent, env, 3)
            agent.interrupt_episodes()
        assert np.asarray(agent.memory.get_tensor_by_name("truncated"))[2].all(), backend


def test_mistakes_get_clear_errors() -> None:
    env = counting_env(2)
    with pytest.raises(KeyError, match="Did you mean 'policy'"):
        PPO(models={"polcy": None}, cfg={"experiment": {"write_interval": 0}})
    value = Value(env.observation_space)
    with pytest.raises(ValueError, match="init_state_dict"):
        PPO(models={"policy": value, "value": value})
    value.init_state_dict("value")
    with pytest.raises(ValueError, match="separate policy and value models"):
        PPO(models={"policy": value, "value": value})
    with pytest.raises(TypeError, match="RunningStandardScaler"):
        build_agent(PPO, PPO_DEFAULT_CONFIG, env, state_preprocessor=dict, state_preprocessor_kwargs={"size": 3})
    agent = build_agent(PPO, PPO_DEFAULT_CONFIG, env)
    agent.memory = RandomMemory(memory_size=5, num_envs=2)
    with pytest.raises(ValueError, match="must equal cfg\\['rollouts'\\]"):
        agent.init({"timesteps": 10})


def test_an_optax_schedule_sets_the_rate_per_optimizer_step() -> None:
    import optax

    agent = _run("numpy", learning_rate_scheduler=optax.linear_schedule,
                 learning_rate_scheduler_kwargs={"init_value": 1e-3, "end_value": 0.0, "transition_steps": 8})  # fmt: skip
    _, metrics = agent._update_jit(agent._train_state(), agent._read_rollout())
    # three updates of 4 steps happened (12 steps), this one ends at step 16: the rate reached 0
    assert float(metrics["learning_rate"]) == 0.0
