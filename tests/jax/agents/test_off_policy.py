"""The JAX replay-agent base: in-jit sampling, counting in training steps, evaluation never writing the memory, and
one jitted update of ``gradient_steps`` steps equal to that many one-step updates."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers.jax_offpolicy import build_replay_agent, fill_memory, host_params, pendulum, trainer

from steprl.memories.jax.sampling import sample_rows

RANDOM_TIMESTEPS = 3
LEARNING_STARTS = 5
OFFSET = 50_000


def _arrays(memory_size: int = 4, num_envs: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(memory_size * num_envs, dtype=np.float32).reshape(memory_size, num_envs, 1)
    return rows, -rows


def test_sample_rows_draws_only_valid_rows_and_keeps_arrays_aligned() -> None:
    rows, negated = _arrays()
    drawn, drawn_negated = jax.jit(sample_rows, static_argnums=(3, 4))(jax.random.key(0), (rows, negated), 5, 4000, True)
    values = np.asarray(drawn).reshape(-1)
    np.testing.assert_array_equal(np.asarray(drawn_negated).reshape(-1), -values)
    counts = np.bincount(values.astype(int), minlength=8)
    assert counts[5:].sum() == 0  # rows past len(memory) are never drawn
    assert counts[:5].min() > 700  # uniform over the 5 valid rows (800 expected each)


def test_sample_rows_without_replacement_draws_distinct_valid_rows() -> None:
    rows, _ = _arrays(memory_size=8)
    for seed in range(5):
        (drawn,) = sample_rows(jax.random.key(seed), (rows,), jnp.int32(11), 6, replacement=False)
        values = np.asarray(drawn).reshape(-1)
        assert len(set(values.tolist())) == 6 and values.max() < 11


def test_random_actions_and_learning_start_count_training_steps_and_evaluation_never_writes() -> None:
    env = pendulum(num_envs=2)
    agent = build_replay_agent("sac", env, random_timesteps=RANDOM_TIMESTEPS, learning_starts=LEARNING_STARTS)
    random_steps: list[int] = []
    learning_steps: list[int] = []
    random_act, update = agent.policy.random_act, agent._update

    def spy_random_act(*args: Any, **kwargs: Any) -> Any:
        random_steps.append(agent.training_steps if agent.training else -1)
        return random_act(*args, **kwargs)

    def spy_update(*args: Any) -> None:
        learning_steps.append(agent.training_steps)
        update(*args)

    agent.policy.random_act, agent._update = spy_random_act, spy_update
    run = trainer(env, agent, OFFSET + 100)
    for t in range(OFFSET, OFFSET + 12):
        run.train(timestep=t)
        if t == OFFSET + 1:
            written = (agent.memory.memory_index, agent.memory.env_index)
            before = {k: np.array(v) for k, v in agent.memory.tensors.items()}
            for k in range(4):  # evaluation steps never count, never write the memory
                run.eval(timestep=OFFSET + k)
            assert (agent.memory.memory_index, agent.memory.env_index) == written
            for name, array in agent.memory.tensors.items():
                np.testing.assert_array_equal(np.asarray(array), before[name], err_msg=name)
    assert agent.training_steps == 12
    assert random_steps == list(range(RANDOM_TIMESTEPS))
    assert learning_steps == list(range(LEARNING_STARTS + 1, 13))
    assert len(agent.memory) == 12 * env.num_envs


def test_gradient_steps_in_one_jitted_update_equal_sequential_updates_on_either_memory_backend() -> None:
    env = pendulum(num_envs=2)
    scanned = build_replay_agent("sac", env, backend="numpy", gradient_steps=3)
    stepped = build_replay_agent("sac", env, backend="jax", gradient_steps=1)
    for agent in (scanned, stepped):
        agent.init({"timesteps": 10})
        agent.set_running_mode("train")
        fill_memory(agent, rows=20)
    initial = host_params(scanned)
    np.testing.assert_equal(initial, host_params(stepped))
    scanned._update(0, 10)
    for _ in range(3):
        stepped._update(0, 10)
    after, expected = host_params(scanned), host_params(stepped)
    assert not np.allclose(after["params"]["policy"]["params"]["Dense_0"]["kernel"],
                           initial["params"]["policy"]["params"]["Dense_0"]["kernel"])  # fmt: skip
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), after, expected)
    np.testing.assert_array_equal(np.asarray(scanned._key), np.asarray(stepped._key))


def test_memory_sampled_without_replacement_needs_a_full_batch() -> None:
    env = pendulum(num_envs=1)
    agent = build_replay_agent("ddpg", env)
    agent.memory._replacement = False
    agent.init({"timesteps": 10})
    fill_memory(agent, rows=3)
    with pytest.raises(ValueError, match="batch_size=8"):
        agent._update(0, 10)
