"""JAX DDPG: skrl's config keys, the losses equal torch's on the hand cases, exploration noise only in training
(scaled in training steps, Ornstein-Uhlenbeck reset per finished sub-environment), and a bit-identical resume."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import torch
from helpers.jax_offpolicy import assert_resume_is_bit_identical, build_replay_agent, pendulum
from helpers.loss_cases import BOOTSTRAPPED_TARGET_CASE, CRITIC_LOSS_CASE, DETERMINISTIC_POLICY_LOSS_CASE

from steprl.agents.jax.ddpg import DDPG_DEFAULT_CONFIG
from steprl.agents.jax.ddpg.losses import bootstrapped_target, critic_loss, deterministic_policy_loss
from steprl.agents.torch.ddpg import DDPG_DEFAULT_CONFIG as TORCH_DDPG_DEFAULT_CONFIG
from steprl.agents.torch.ddpg import losses as torch_losses
from steprl.core.agent import META_KEY
from steprl.resources.noises.jax import GaussianNoise, OrnsteinUhlenbeckNoise


def test_default_config_is_torch_config_without_mixed_precision() -> None:
    expected = {k: v for k, v in TORCH_DDPG_DEFAULT_CONFIG.items() if k != "mixed_precision"}
    assert list(DDPG_DEFAULT_CONFIG) == list(expected)
    assert DDPG_DEFAULT_CONFIG == expected


def test_bootstrapped_target_stops_at_termination_only_as_torch() -> None:
    case = BOOTSTRAPPED_TARGET_CASE
    inputs = {k: np.asarray(v).reshape(-1, 1) for k, v in case["inputs"].items()}
    target = bootstrapped_target(*(jnp.asarray(inputs[k]) for k in ("rewards", "terminated", "next_q_values")), **case["kwargs"])
    np.testing.assert_allclose(np.asarray(target).reshape(-1), case["expected"], rtol=1e-6)
    torch_target = torch_losses.bootstrapped_target(
        *(torch.as_tensor(inputs[k]) for k in ("rewards", "terminated", "next_q_values")), **case["kwargs"]
    )
    np.testing.assert_allclose(np.asarray(target), torch_target.numpy(), rtol=1e-6)


def test_critic_and_policy_losses_and_gradients() -> None:
    case = CRITIC_LOSS_CASE
    q = [jnp.asarray(v).reshape(-1, 1) for v in case["q_values"]]
    target = jnp.asarray(case["target"]).reshape(-1, 1)
    assert float(critic_loss(q[:1], target)) == case["expected_one"]
    loss, grads = jax.value_and_grad(lambda q: critic_loss(q, target))(q)
    assert float(loss) == case["expected_two"]
    np.testing.assert_allclose(np.stack([np.asarray(g).reshape(-1) for g in grads]), case["grad_two"])
    torch_q = [torch.tensor(v).reshape(-1, 1) for v in case["q_values"]]
    assert float(loss) == float(torch_losses.critic_loss(torch_q, torch.tensor(case["target"]).reshape(-1, 1)))
    policy_case = DETERMINISTIC_POLICY_LOSS_CASE
    assert float(deterministic_policy_loss(jnp.asarray(policy_case["q_values"]))) == policy_case["expected"]


def test_exploration_noise_in_training_only_scaled_in_training_steps_and_reset_per_finished_env() -> None:
    env = pendulum(num_envs=2)
    noise = OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.2, base_scale=1.0)
    agent = build_replay_agent("ddpg", env, exploration={"noise": noise, "initial_scale": 1.0, "final_scale": 0.0,
                                                         "timesteps": 10})  # fmt: skip
    agent.init({"timesteps": 100})
    states = np.zeros((2, 3), np.float32)
    agent.set_running_mode("eval")
    actions, _, outputs = agent.act(states, 0, 100)
    np.testing.assert_array_equal(actions, outputs["mean_actions"])  # evaluation: deterministic, no noise drawn
    assert noise.state.ndim == 0
    agent.set_running_mode("train")
    actions, _, outputs = agent.act(states, 0, 100)
    assert not np.array_equal(actions, outputs["mean_actions"])
    agent.training_steps = 4
    assert agent.exploration_scale(100) == 0.6
    agent.training_steps = 20
    assert agent.exploration_scale(100) == 0.0
    state = np.asarray(noise.state).copy()
    assert (state != 0).all()
    done = np.array([[True], [False]])
    agent.record_transition(states, actions, np.zeros((2, 1), np.float32), states, done, np.zeros_like(done), {}, 0, 100)
    np.testing.assert_array_equal(np.asarray(noise.state)[0], 0.0)  # only the finished sub-environment's
    np.testing.assert_array_equal(np.asarray(noise.state)[1], state[1])


def test_checkpoint_round_trip_and_a_resumed_run_is_bit_identical(tmp_path: Path) -> None:
    state = assert_resume_is_bit_identical("ddpg", str(tmp_path / "agent.ckpt"), noise=lambda: GaussianNoise(0.0, 0.1))
    assert set(state) - {META_KEY} == {
        "policy", "target_policy", "critic", "target_critic", "policy_optimizer", "critic_optimizer", "memory"
    }
