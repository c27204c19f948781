"""Tuple and nested Dict/Tuple observation spaces end to end: sizes, flattening, the wrapper, PPO on Blackjack-v1."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from helpers.models import CategoricalPolicy, Value
from helpers.ppo import NO_LOGS, QUIET
from helpers.spaces_envs import NESTED_SIZE, NESTED_SPACE, NestedEnv, assert_same_structure, nested_observation

from steprl.agents.torch.ppo import PPO
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer
from steprl.utils.spaces.torch import (
    compute_space_size,
    flatten_tensorized_space,
    tensorize_space,
    unflatten_tensorized_space,
    untensorize_space,
)

BLACKJACK = spaces.Tuple((spaces.Discrete(32), spaces.Discrete(11), spaces.Discrete(2)))


def _flat(space: spaces.Space, value: object) -> torch.Tensor:
    return flatten_tensorized_space(tensorize_space(space, value)).float()


# ---------------------------------------------------------------- sizes and helpers


def test_compute_space_size_of_tuple_and_nested_spaces() -> None:
    assert compute_space_size(BLACKJACK) == 32 + 11 + 2
    assert compute_space_size(BLACKJACK, occupied_size=True) == 3
    assert compute_space_size(NESTED_SPACE, occupied_size=True) == NESTED_SIZE
    assert compute_space_size(NESTED_SPACE) == 4 + 3 + 2 + 4 + 2
    assert compute_space_size(spaces.Tuple((spaces.Box(-1, 1, (2, 3)), spaces.MultiDiscrete([2, 5])))) == 6 + 7
    assert compute_space_size((2, 3)) == 6 and compute_space_size([4]) == 4  # plain sequences keep their meaning


def test_nested_flatten_unflatten_round_trip() -> None:
    batch = [nested_observation(t, tag) for t, tag in ((1, 0), (2, 1), (5, 3))]
    batched = gymnasium.vector.utils.concatenate(
        NESTED_SPACE, batch, gymnasium.vector.utils.create_empty_array(NESTED_SPACE, 3)
    )
    flat = _flat(NESTED_SPACE, batched)
    assert flat.shape == (3, NESTED_SIZE)
    unflat = unflatten_tensorized_space(NESTED_SPACE, flat)
    assert list(unflat) == ["inv", "pos"] and isinstance(unflat["inv"], list) and list(unflat["inv"][2]) == ["a", "z"]
    assert unflat["inv"][2]["z"].shape == (3, 2, 2) and unflat["inv"][0].shape == (3, 1)
    back = untensorize_space(NESTED_SPACE, unflat, squeeze_batch_dimension=False)
    assert_same_structure(batched, back, ravel=True)
    for i, value in enumerate(batch):
        single = untensorize_space(NESTED_SPACE, unflatten_tensorized_space(NESTED_SPACE, flat[i : i + 1]))
        assert NESTED_SPACE.contains(single)
        assert_same_structure(value, single, ravel=True)


# ---------------------------------------------------------------- the wrapper


def test_wrapper_flattens_nested_spaces_like_the_helpers() -> None:
    base = NestedEnv(tag=1)
    env = wrap_env(base, verbose=False)
    states, _ = env.reset()
    assert states.shape == (1, NESTED_SIZE) and states.dtype == torch.float32
    for _ in range(4):  # across an episode boundary (length 3)
        next_states, _, terminated, truncated, _ = env.step(torch.tensor([[0]]))
        final = base.history[-2] if terminated.any() else base.history[-1]
        assert torch.equal(next_states, _flat(NESTED_SPACE, final))
        assert_same_structure(final, untensorize_space(NESTED_SPACE, unflatten_tensorized_space(NESTED_SPACE, next_states)), ravel=True)
        assert torch.equal(
            env.autoreset_states(next_states, terminated, truncated), _flat(NESTED_SPACE, base.history[-1])
        )


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_wrapper_nested_spaces(mode: AutoresetMode) -> None:
    bases = [NestedEnv(tag=i, length=2 + i) for i in range(3)]
    env = wrap_env(SyncVectorEnv([lambda b=b: b for b in bases], autoreset_mode=mode), verbose=False)
    env.reset()
    for step in range(1, 7):
        next_states, _, terminated, _, _ = env.step(torch.zeros(3, 1, dtype=torch.int64))
        for i, base in enumerate(bases):
            t = step % base.length or base.length  # the true next observation: t = length when an episode ends
            assert bool(terminated[i, 0]) == (t == base.length)
            assert torch.equal(next_states[i : i + 1], _flat(NESTED_SPACE, nested_observation(t, i)))


def test_blackjack_single_and_vector_observations() -> None:
    single = wrap_env(gymnasium.make("Blackjack-v1"), verbose=False)
    states, _ = single.reset(seed=0)
    assert single.observation_space == BLACKJACK and states.shape == (1, 3) and states.dtype == torch.float32
    vector = wrap_env(gymnasium.make_vec("Blackjack-v1", num_envs=4, vectorization_mode="sync"), verbose=False)
    states, _ = vector.reset(seed=0)
    assert states.shape == (4, 3)
    next_states, *_ = vector.step(torch.zeros(4, 1, dtype=torch.int64))  # stick: every episode ends
    assert next_states.shape == (4, 3) and torch.isfinite(next_states).all()


# ---------------------------------------------------------------- PPO on Blackjack-v1


class OneHotPolicy(CategoricalPolicy):
    """CategoricalPolicy over the one-hot encoding of a Tuple of Discrete observations (``num_observations``)."""

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return self.net(one_hot(self.observation_space, inputs["states"])), {}


class OneHotValue(Value):
    """Value over the one-hot encoding of a Tuple of Discrete observations."""

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return self.net(one_hot(self.observation_space, inputs["states"])), {}


def one_hot(space: spaces.Tuple, states: torch.Tensor) -> torch.Tensor:
    """Unflatten ``(B, 3)`` observations and concatenate the one-hot encoding of each Discrete leaf."""
    leaves = unflatten_tensorized_space(space, states)
    codes = [torch.nn.functional.one_hot(leaf.long().reshape(-1), int(s.n)) for leaf, s in zip(leaves, space.spaces)]
    return torch.cat(codes, dim=1).float()


def test_ppo_trains_on_blackjack() -> None:
    num_envs, rollouts, steps = 4, 16, 320
    env = wrap_env(gymnasium.make_vec("Blackjack-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)
    space = env.observation_space
    models = {"policy": OneHotPolicy(space, env.action_space), "value": OneHotValue(space, env.action_space)}
    assert models["policy"].num_observations == 45
    initial = [p.detach().clone() for p in models["policy"].parameters()]
    memory = RandomMemory(memory_size=rollouts, num_envs=num_envs)
    cfg = {"rollouts": rollouts, "learning_epochs": 2, "mini_batches": 2, "experiment": dict(NO_LOGS)}
    agent = PPO(models=models, memory=memory, cfg=cfg, observation_space=space, action_space=env.action_space)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": steps, **QUIET})
    for t in range(steps):
        trainer.train(timestep=t)
    assert any(not torch.equal(a, b) for a, b in zip(initial, models["policy"].parameters()))  # it updated

    stored = memory.get_tensor_by_name("states")
    assert stored.shape == (rollouts, num_envs, 3) and torch.isfinite(stored).all()
    flat = stored.reshape(-1, 3)
    leaves = unflatten_tensorized_space(space, flat)
    assert [leaf.shape for leaf in leaves] == [(rollouts * num_envs, 1)] * 3
    values = untensorize_space(space, leaves, squeeze_batch_dimension=False)
    assert all(np.all((v >= 0) & (v < s.n)) for v, s in zip(values, space.spaces))
    assert torch.equal(_flat(space, values), flat)  # the stored rows round-trip through the helpers
    assert torch.isfinite(memory.get_tensor_by_name("next_states")).all()
