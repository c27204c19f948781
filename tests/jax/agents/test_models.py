"""JAX models and mixins: skrl-style subclasses, shapes, log-probabilities and entropies against torch's
distributions, clipping, random actions, and the mistakes that get a clear error."""

from __future__ import annotations

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from helpers.jax_agents import CategoricalPolicy, GaussianPolicy, Value

from steprl.models.jax import CategoricalMixin, Model, MultiCategoricalMixin
from steprl.models.jax.networks import build_ppo_models, build_rpo_models

BOX = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
ACTIONS = gym.spaces.Box(-2.0, 2.0, (2,), np.float32)
STATES = jnp.asarray(np.random.default_rng(0).normal(size=(6, 3)), dtype=jnp.float32)


def _init(model: Model, role: str = "policy") -> Model:
    model.init_state_dict(role, key=jax.random.PRNGKey(0))
    return model


def test_gaussian_log_prob_and_entropy_equal_torch_normal() -> None:
    policy = _init(GaussianPolicy(BOX, ACTIONS))
    actions, log_prob, outputs = policy.act({"states": STATES, "key": jax.random.PRNGKey(1)}, "policy")
    assert actions.shape == (6, 2) and log_prob.shape == (6, 1)
    assert set(outputs) >= {"mean_actions", "log_std", "stddev"}
    normal = torch.distributions.Normal(
        torch.from_numpy(np.array(outputs["mean_actions"])), torch.from_numpy(np.array(outputs["stddev"]))
    )
    expected = normal.log_prob(torch.from_numpy(np.array(actions))).sum(-1, keepdim=True)
    np.testing.assert_allclose(np.asarray(log_prob), expected.numpy(), rtol=1e-5, atol=1e-6)
    taken = jnp.ones((6, 2))
    log_prob_taken, entropy, _ = policy.evaluate(policy.state_dict.params, {"states": STATES, "taken_actions": taken})
    np.testing.assert_allclose(
        np.asarray(log_prob_taken), normal.log_prob(torch.ones(6, 2)).sum(-1, keepdim=True).numpy(), rtol=1e-5
    )
    np.testing.assert_allclose(np.asarray(entropy), normal.entropy().numpy(), rtol=1e-6)


def test_gaussian_clip_actions_and_reduction() -> None:
    policy = _init(GaussianPolicy(BOX, ACTIONS, clip_actions=True, reduction="none"))
    params = jax.tree_util.tree_map(lambda p: p, policy.state_dict.params)
    params["params"]["log_std"] = jnp.full((2,), 2.0)  # wide: many samples leave [-2, 2]
    actions, log_prob, _ = policy.act(
        {"states": jnp.tile(STATES, (50, 1)), "key": jax.random.PRNGKey(2)}, "policy", params
    )
    assert float(jnp.abs(actions).max()) <= 2.0 and log_prob.shape == (300, 2)
    with pytest.raises(ValueError, match="reduction must be one of"):
        GaussianPolicy(BOX, ACTIONS, reduction="max")


def test_categorical_log_prob_equals_torch_and_greedy_mean() -> None:
    policy = _init(CategoricalPolicy(BOX, gym.spaces.Discrete(4)))
    actions, log_prob, outputs = policy.act({"states": STATES, "key": jax.random.PRNGKey(3)}, "policy")
    assert actions.shape == (6, 1) and jnp.issubdtype(actions.dtype, jnp.integer)
    dist = torch.distributions.Categorical(logits=torch.from_numpy(np.array(outputs["net_output"])))
    expected = dist.log_prob(torch.from_numpy(np.array(actions)[:, 0]).long())[:, None]
    np.testing.assert_allclose(np.asarray(log_prob), expected.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        np.asarray(outputs["mean_actions"])[:, 0], np.asarray(outputs["net_output"]).argmax(-1)
    )
    _, entropy, _ = policy.evaluate(policy.state_dict.params, {"states": STATES, "taken_actions": actions})
    np.testing.assert_allclose(np.asarray(entropy), dist.entropy().numpy(), rtol=1e-5)


def test_categorical_samples_follow_the_probabilities() -> None:
    policy = _init(CategoricalPolicy(BOX, gym.spaces.Discrete(3)))
    states = jnp.zeros((20000, 3))
    actions, _, outputs = policy.act({"states": states, "key": jax.random.PRNGKey(4)}, "policy")
    probs = np.asarray(jax.nn.softmax(outputs["net_output"][0]))
    counts = np.bincount(np.asarray(actions)[:, 0], minlength=3) / 20000
    np.testing.assert_allclose(counts, probs, atol=0.015)


class MultiPolicy(MultiCategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        MultiCategoricalMixin.__init__(self)

    @nn.compact
    def __call__(self, inputs, role):
        return nn.Dense(self.num_actions)(inputs["states"]), {}


def test_multicategorical_log_prob_is_the_sum_over_sub_spaces() -> None:
    space = gym.spaces.MultiDiscrete([2, 3])
    policy = _init(MultiPolicy(BOX, space))
    actions, log_prob, outputs = policy.act({"states": STATES, "key": jax.random.PRNGKey(5)}, "policy")
    assert actions.shape == (6, 2) and log_prob.shape == (6, 1)
    logits = torch.from_numpy(np.array(outputs["net_output"]))
    a = torch.from_numpy(np.array(actions)).long()
    expected = torch.distributions.Categorical(logits=logits[:, :2]).log_prob(
        a[:, 0]
    ) + torch.distributions.Categorical(logits=logits[:, 2:]).log_prob(a[:, 1])
    np.testing.assert_allclose(np.asarray(log_prob)[:, 0], expected.numpy(), rtol=1e-5, atol=1e-6)


def test_deterministic_value_and_random_act_bounds() -> None:
    value = _init(Value(BOX), "value")
    values, log_prob, _ = value.act({"states": STATES}, "value")
    assert values.shape == (6, 1) and log_prob is None
    policy = _init(GaussianPolicy(BOX, ACTIONS))
    actions = policy.random_act({"states": jnp.zeros((1000, 3)), "key": jax.random.PRNGKey(6)})[0]
    assert actions.shape == (1000, 2) and float(actions.min()) >= -2.0 and float(actions.max()) <= 2.0
    discrete = _init(CategoricalPolicy(BOX, gym.spaces.Discrete(3)))
    assert set(np.unique(np.asarray(discrete.random_act({"states": jnp.zeros((500, 3))})[0]))) == {0, 1, 2}


def test_mistakes_get_clear_errors() -> None:
    with pytest.raises(RuntimeError, match="init_state_dict"):
        GaussianPolicy(BOX, ACTIONS).act({"states": STATES}, "policy")

    class WrongOrder(Model, CategoricalMixin):  # the mixin must come first
        def __init__(self, observation_space, action_space, device=None, **kwargs):
            Model.__init__(self, observation_space, action_space, device, **kwargs)
            CategoricalMixin.__init__(self)

    with pytest.raises(NotImplementedError, match="declare the mixin before Model"):
        WrongOrder(BOX, gym.spaces.Discrete(2)).act({"states": STATES})
    with pytest.raises(ValueError, match="mode must be"):
        _init(Value(BOX), "value").set_mode("training")


def test_save_and_load_round_trip(tmp_path) -> None:
    policy = _init(GaussianPolicy(BOX, ACTIONS))
    policy.save(tmp_path / "policy.msgpack")
    other = GaussianPolicy(BOX, ACTIONS)
    other.init_state_dict("policy", key=jax.random.PRNGKey(9))
    other.load(tmp_path / "policy.msgpack")
    for a, b in zip(
        jax.tree_util.tree_leaves(policy.state_dict.params), jax.tree_util.tree_leaves(other.state_dict.params)
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_network_builders_keep_their_layout_through_flax_copies() -> None:
    models = build_ppo_models(BOX, gym.spaces.Discrete(2), None, {"hidden": [8, 5], "activation": "relu"})
    shapes = jax.tree_util.tree_map(jnp.shape, models["policy"].state_dict.params)["params"]
    assert shapes["Dense_0"]["kernel"] == (3, 8) and shapes["Dense_1"]["kernel"] == (8, 5)
    rpo = build_rpo_models(BOX, ACTIONS, None, {"initial_log_std": -0.5})
    assert np.asarray(rpo["policy"].state_dict.params["params"]["log_std"]).tolist() == [-0.5, -0.5]
    key = jax.random.PRNGKey(0)
    plain = rpo["policy"].act({"states": STATES, "key": key}, "policy")[2]["mean_actions"]
    perturbed = rpo["policy"].act({"states": STATES, "key": key, "alpha": 0.5}, "policy")[2]["mean_actions"]
    difference = np.asarray(perturbed - plain)
    assert 0 < np.abs(difference).max() <= 0.5
    with pytest.raises(ValueError, match="Unknown MLP network key"):
        build_ppo_models(BOX, ACTIONS, None, {"hiden": [4]})
    with pytest.raises(TypeError, match="Box action space"):
        build_rpo_models(BOX, gym.spaces.Discrete(2), None, {})
