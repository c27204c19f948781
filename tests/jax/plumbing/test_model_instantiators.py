"""steprl.utils.model_instantiators.jax: flax models from network definitions (and their source)."""

from __future__ import annotations

import flax
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from steprl.utils.model_instantiators.jax import (
    Shape,
    categorical_model,
    deterministic_model,
    gaussian_model,
    multicategorical_model,
)

OBS = gym.spaces.Box(-1, 1, (3,), np.float32, seed=0)
ACT = gym.spaces.Box(-2, 2, (2,), np.float32, seed=1)
NET = [{"name": "net", "input": "STATES", "layers": [16, 16], "activations": "tanh"}]


def param_shapes(model) -> dict[str, tuple[int, ...]]:
    flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(model.state_dict.params))
    return {"/".join(k): tuple(v.shape) for k, v in flat.items()}


def test_gaussian_model_acts_with_a_learned_log_std() -> None:
    model = gaussian_model(OBS, ACT, network=NET, output="2 * tanh(ACTIONS)", initial_log_std=-0.5)
    model.init_state_dict("policy")
    shapes = param_shapes(model)
    assert shapes["params/log_std_parameter"] == (2,)
    assert shapes["params/Dense_0/kernel"] == (3, 16) and shapes["params/Dense_2/kernel"] == (16, 2)
    actions, log_prob, outputs = model.act({"states": jnp.zeros((5, 3))}, "policy")
    assert actions.shape == (5, 2) and log_prob.shape == (5, 1)
    assert np.allclose(np.asarray(outputs["log_std"]), -0.5) and np.abs(np.asarray(outputs["mean_actions"])).max() <= 2
    fixed = gaussian_model(OBS, ACT, network=NET, output="ACTIONS", fixed_log_std=True)
    fixed.init_state_dict("policy")
    assert "params/log_std_parameter" not in param_shapes(fixed)


def test_source_is_what_runs() -> None:
    source = gaussian_model(OBS, ACT, network=NET, output="tanh(ACTIONS)", return_source=True)
    assert "class GaussianModel(GaussianMixin, Model):" in source and "nn.Dense(16)" in source
    namespace: dict = {}
    exec(source, namespace)
    built = namespace["GaussianModel"](observation_space=OBS, action_space=ACT)
    built.init_state_dict("policy", key=jax.random.PRNGKey(0))
    direct = gaussian_model(OBS, ACT, network=NET, output="tanh(ACTIONS)")
    direct.init_state_dict("policy", key=jax.random.PRNGKey(0))
    inputs = {"states": jnp.ones((2, 3))}
    assert np.allclose(
        np.asarray(built.act(inputs, "policy")[2]["mean_actions"]),
        np.asarray(direct.act(inputs, "policy")[2]["mean_actions"]),
    )


def test_deterministic_critic_on_states_and_actions_with_chained_entries() -> None:
    network = [
        {"name": "features", "input": "STATES_ACTIONS", "layers": [8], "activations": "relu"},
        {"name": "head", "input": "concatenate([features, STATES])", "layers": [{"linear": 4}], "activations": []},
    ]
    critic = deterministic_model(OBS, ACT, network=network, output="ONE")
    critic.init_state_dict("critic")
    assert param_shapes(critic)["params/Dense_0/kernel"] == (5, 8)
    assert param_shapes(critic)["params/Dense_1/kernel"] == (11, 4)
    values, log_prob, _ = critic.act({"states": jnp.ones((3, 3)), "taken_actions": jnp.ones((3, 2))}, "critic")
    assert values.shape == (3, 1) and log_prob is None


def test_categorical_and_multicategorical_models() -> None:
    policy = categorical_model(OBS, gym.spaces.Discrete(4, seed=2), network=NET, output="ACTIONS")
    policy.init_state_dict("policy")
    actions, log_prob, outputs = policy.act({"states": jnp.zeros((6, 3))}, "policy")
    assert actions.shape == (6, 1) and log_prob.shape == (6, 1) and outputs["net_output"].shape == (6, 4)
    multi = multicategorical_model(OBS, gym.spaces.MultiDiscrete([2, 3], seed=3), network=NET, output="ACTIONS")
    multi.init_state_dict("policy")
    actions, log_prob, _ = multi.act({"states": jnp.zeros((6, 3))}, "policy")
    assert actions.shape == (6, 2) and log_prob.shape == (6, 1)


def test_discrete_observations_are_cast_to_float() -> None:
    value = deterministic_model(gym.spaces.Discrete(5, seed=4), ACT, network=NET, output="ONE")
    value.init_state_dict("value")
    assert value.act({"states": jnp.array([[1], [4]], dtype=jnp.int32)}, "value")[0].shape == (2, 1)


def test_pre_1_3_keywords_are_converted_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="deprecated since skrl 1.3"):
        model = deterministic_model(OBS, ACT, input_shape=Shape.STATES, output_shape=Shape.ONE)
    model.init_state_dict("value")
    shapes = param_shapes(model)
    assert shapes["params/Dense_0/kernel"] == (3, 256) and shapes["params/Dense_2/kernel"] == (256, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"network": [{"name": "c", "input": "STATES", "layers": [{"conv2d": {"out_channels": 4}}]}]},
            ValueError,
            "torch",
        ),
        (
            {"network": [{"name": "n", "input": "STATES", "layers": [8], "activations": "gelu"}]},
            ValueError,
            "activation",
        ),
        ({"network": [{"name": "n", "input": "FOO", "layers": [8]}]}, ValueError, "unknown name"),
        ({"network": NET, "output": "ACTIONS + 1"}, ValueError, "Invalid output"),
        ({"network": [{"name": "self", "input": "STATES", "layers": [8]}]}, ValueError, "reserved"),
        ({"network": NET, "reduction": "max"}, ValueError, "reduction"),
        ({"network": NET, "hiddens": [8]}, ValueError, "not both"),
        ({"network": NET, "bogus": 1}, TypeError, "bogus"),
    ],
)
def test_bad_definitions_are_refused(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gaussian_model(OBS, ACT, **{"output": "ACTIONS", **kwargs})
