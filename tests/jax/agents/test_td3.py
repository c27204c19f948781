"""JAX TD3: skrl's config keys, target policy smoothing and the clipped double-Q target equal torch's on the hand
cases, delayed policy updates whose phase survives a checkpoint, and a bit-identical resume."""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from helpers.jax_offpolicy import assert_resume_is_bit_identical, build_replay_agent, fill_memory, host_params, pendulum
from helpers.loss_cases import CLIPPED_DOUBLE_Q_CASE, SMOOTHING_CASE

from steprl.agents.jax.td3 import TD3_DEFAULT_CONFIG
from steprl.agents.jax.td3.losses import clipped_double_q_target, smoothed_target_actions
from steprl.agents.torch.td3 import TD3_DEFAULT_CONFIG as TORCH_TD3_DEFAULT_CONFIG
from steprl.agents.torch.td3 import losses as torch_losses
from steprl.core.agent import META_KEY
from steprl.resources.noises.jax import OrnsteinUhlenbeckNoise


def test_default_config_is_torch_config_without_mixed_precision() -> None:
    expected = {k: v for k, v in TORCH_TD3_DEFAULT_CONFIG.items() if k != "mixed_precision"}
    assert list(TD3_DEFAULT_CONFIG) == list(expected)
    assert TD3_DEFAULT_CONFIG == expected


@pytest.mark.parametrize("bounded", [True, False])
def test_target_policy_smoothing_equals_torch(bounded: bool) -> None:
    case = SMOOTHING_CASE
    inputs = case["inputs"]
    low, high = (jnp.asarray(case["low"]), jnp.asarray(case["high"])) if bounded else (None, None)
    actions = smoothed_target_actions(jnp.asarray(inputs["target_actions"]), jnp.asarray(inputs["noise"]),
                                      case["noise_clip"], low, high)  # fmt: skip
    expected = case["expected_bounded" if bounded else "expected_unbounded"]
    np.testing.assert_allclose(np.asarray(actions), expected, rtol=1e-6)
    t_low, t_high = (torch.tensor(case["low"]), torch.tensor(case["high"])) if bounded else (None, None)
    torch_actions = torch_losses.smoothed_target_actions(
        torch.tensor(inputs["target_actions"]), torch.tensor(inputs["noise"]), case["noise_clip"], t_low, t_high
    )
    np.testing.assert_allclose(np.asarray(actions), torch_actions.numpy(), rtol=1e-6)


@pytest.mark.parametrize("critics", [2, 3])
def test_clipped_double_q_target_equals_torch(critics: int) -> None:
    case = CLIPPED_DOUBLE_Q_CASE
    rewards = jnp.asarray(case["inputs"]["rewards"]).reshape(-1, 1)
    terminated = jnp.asarray(case["inputs"]["terminated"]).reshape(-1, 1)
    next_q = [jnp.asarray(q).reshape(-1, 1) for q in case["next_q_values"][:critics]]
    target = clipped_double_q_target(rewards, terminated, next_q, **case["kwargs"])
    expected = case["expected_two" if critics == 2 else "expected_three"]
    np.testing.assert_allclose(np.asarray(target).reshape(-1), expected, rtol=1e-6)
    torch_target = torch_losses.clipped_double_q_target(
        torch.tensor(case["inputs"]["rewards"]).reshape(-1, 1), torch.tensor(case["inputs"]["terminated"]).reshape(-1, 1),
        [torch.tensor(q).reshape(-1, 1) for q in case["next_q_values"][:critics]], **case["kwargs"],
    )  # fmt: skip
    np.testing.assert_allclose(np.asarray(target), torch_target.numpy(), rtol=1e-6)


def test_policy_and_targets_move_every_policy_delay_critic_updates() -> None:
    env = pendulum(num_envs=2)
    agent = build_replay_agent("td3", env, policy_delay=2)
    agent.init({"timesteps": 10})
    fill_memory(agent, rows=10)
    before = host_params(agent)["params"]
    agent._update(0, 10)  # critic update 1: critics only
    first = host_params(agent)["params"]
    assert agent.critic_updates == 1
    for role in ("policy", "target_policy", "target_critic_1", "target_critic_2"):
        np.testing.assert_array_equal(first[role]["params"]["Dense_0"]["kernel"], before[role]["params"]["Dense_0"]["kernel"])
    for role in ("critic_1", "critic_2"):
        assert not np.array_equal(first[role]["params"]["Dense_0"]["kernel"], before[role]["params"]["Dense_0"]["kernel"])
    agent._update(0, 10)  # critic update 2: the policy and every target move
    second = host_params(agent)["params"]
    for role in ("policy", "target_policy", "target_critic_1", "target_critic_2"):
        assert not np.array_equal(second[role]["params"]["Dense_0"]["kernel"], first[role]["params"]["Dense_0"]["kernel"])


def test_checkpoint_keeps_the_policy_delay_phase_and_a_resumed_run_is_bit_identical(tmp_path: Path) -> None:
    # 12 training steps with learning from step 6: 7 critic updates, an odd phase of the policy delay
    state = assert_resume_is_bit_identical(
        "td3", str(tmp_path / "agent.ckpt"), noise=lambda: OrnsteinUhlenbeckNoise(0.15, 0.2, 1.0)
    )
    assert state[META_KEY]["critic_updates"] == 7
    assert set(state) - {META_KEY} == {
        "policy", "target_policy", "critic_1", "critic_2", "target_critic_1", "target_critic_2",
        "policy_optimizer", "critic_1_optimizer", "critic_2_optimizer", "memory",
    }  # fmt: skip


def test_smoothing_noise_must_be_gaussian() -> None:
    env = pendulum(num_envs=1)
    with pytest.raises(TypeError, match="GaussianNoise"):
        build_replay_agent("td3", env, smooth_regularization_noise=OrnsteinUhlenbeckNoise(0.15, 0.2, 1.0))
