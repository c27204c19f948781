"""Model instantiators: shapes on Discrete/Box/MultiDiscrete spaces, output parsing, source, shared models, legacy."""

from __future__ import annotations

import copy
import pickle
import warnings

import gymnasium
import numpy as np
import pytest
import torch

from steprl.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model, MultiCategoricalMixin
from steprl.utils.model_instantiators.torch import (
    Shape,
    categorical_model,
    deterministic_model,
    gaussian_model,
    multicategorical_model,
    multivariate_gaussian_model,
    shared_model,
)

CARTPOLE_OBS = gymnasium.spaces.Box(-np.inf, np.inf, (4,), np.float32)
CARTPOLE_ACT = gymnasium.spaces.Discrete(2)
PENDULUM_OBS = gymnasium.spaces.Box(-8.0, 8.0, (3,), np.float32)
PENDULUM_ACT = gymnasium.spaces.Box(-2.0, 2.0, (1,), np.float32)
MULTI_ACT = gymnasium.spaces.MultiDiscrete([3, 2, 4])
NET = [{"name": "net", "input": "STATES", "layers": [32, 32], "activations": "elu"}]
B = 7


def states(space=PENDULUM_OBS, batch=B):
    return torch.randn(batch, int(np.prod(space.shape)))


def test_gaussian_and_multivariate_on_pendulum():
    for factory in (gaussian_model, multivariate_gaussian_model):
        model = factory(PENDULUM_OBS, PENDULUM_ACT, "cpu", network=NET, output="ACTIONS", initial_log_std=-0.5)
        assert isinstance(model, Model) and isinstance(model, torch.nn.Module)
        actions, log_prob, outputs = model.act({"states": states()})
        assert actions.shape == (B, 1) and log_prob.shape == (B, 1) and outputs["mean_actions"].shape == (B, 1)
        assert torch.allclose(model.log_std_parameter, torch.full((1,), -0.5))
        assert model.log_std_parameter.requires_grad


def test_fixed_log_std_not_trainable_and_clip_actions():
    model = gaussian_model(
        PENDULUM_OBS,
        PENDULUM_ACT,
        network=NET,
        output="ACTIONS",
        fixed_log_std=True,
        clip_actions=True,
        initial_log_std=1.5,
    )
    assert not model.log_std_parameter.requires_grad
    assert all(p is not model.log_std_parameter for p in model.parameters() if p.requires_grad)
    actions, _, _ = model.act({"states": states(batch=256)})
    assert actions.abs().max() <= 2.0


def test_categorical_on_cartpole_and_multicategorical():
    policy = categorical_model(CARTPOLE_OBS, CARTPOLE_ACT, network=NET, output="ACTIONS")
    actions, log_prob, outputs = policy.act({"states": states(CARTPOLE_OBS)})
    assert actions.shape == (B, 1) and log_prob.shape == (B, 1) and outputs["net_output"].shape == (B, 2)
    assert isinstance(policy, CategoricalMixin)
    multi = multicategorical_model(CARTPOLE_OBS, MULTI_ACT, network=NET, output="ACTIONS")
    actions, log_prob, outputs = multi.act({"states": states(CARTPOLE_OBS)})
    assert isinstance(multi, MultiCategoricalMixin)
    assert actions.shape == (B, 3) and log_prob.shape == (B, 1) and outputs["net_output"].shape == (B, 9)
    assert (actions < torch.tensor([3, 2, 4])).all()


def test_deterministic_value_and_states_actions_critic():
    value = deterministic_model(CARTPOLE_OBS, CARTPOLE_ACT, network=NET, output="ONE")
    assert isinstance(value, DeterministicMixin)
    assert value.act({"states": states(CARTPOLE_OBS)})[0].shape == (B, 1)
    critic_net = [{"name": "critic", "input": "STATES_ACTIONS", "layers": [16], "activations": "relu"}]
    critic = deterministic_model(PENDULUM_OBS, PENDULUM_ACT, network=critic_net, output="ONE")
    assert critic.critic_container[0].in_features == 4
    q, _, _ = critic.act({"states": states(), "taken_actions": torch.randn(B, 1)})
    assert q.shape == (B, 1)
    # Discrete actions are fed as stored (B, 1) integers
    discrete = deterministic_model(CARTPOLE_OBS, CARTPOLE_ACT, network=critic_net, output="ONE")
    assert discrete.act({"states": states(CARTPOLE_OBS), "taken_actions": torch.ones(B, 1, dtype=torch.long)})[
        0
    ].shape == (B, 1)


def test_named_layers_concatenate_flatten_and_conv2d():
    network = [
        {"name": "a", "input": "STATES", "layers": [8], "activations": "tanh"},
        {
            "name": "b",
            "input": "ACTIONS",
            "layers": [{"linear": {"out_features": 4, "bias": False}}],
            "activations": [],
        },
        {"name": "head", "input": "concatenate([a, b])", "layers": [{"linear": 6}], "activations": ["relu"]},
    ]
    model = deterministic_model(PENDULUM_OBS, PENDULUM_ACT, network=network, output="ONE")
    assert model.b_container[0].bias is None and model.head_container[0].in_features == 12
    assert model.act({"states": states(), "taken_actions": torch.randn(B, 1)})[0].shape == (B, 1)
    image = gymnasium.spaces.Box(0, 1, (8, 8, 3), np.float32)
    conv = [
        {
            "name": "features",
            "input": "permute(STATES, (0, 3, 1, 2))",
            "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3, "stride": 1}}, "flatten", 16],
            "activations": "relu",
        }
    ]
    model = categorical_model(image, CARTPOLE_ACT, network=conv, output="ACTIONS")
    assert [type(m).__name__ for m in model.features_container] == [
        "Conv2d",
        "ReLU",
        "Flatten",
        "Linear",
        "ReLU",
        "Linear",
    ]
    assert model.act({"states": torch.rand(B, 8 * 8 * 3)})[0].shape == (B, 1)


def test_output_scaling_bounds():
    model = deterministic_model(PENDULUM_OBS, PENDULUM_ACT, network=NET, output="2 * tanh(ACTIONS)")
    with torch.no_grad():
        model.net_container[-1].bias.fill_(100.0)
    out = model.act({"states": states(batch=64) * 100})[0]
    assert out.abs().max() <= 2.0 and out.abs().max() > 1.5
    softplus = deterministic_model(PENDULUM_OBS, PENDULUM_ACT, network=NET, output="softplus(ONE) * -0.5")
    assert (softplus.act({"states": states()})[0] <= 0).all()


def _equivalent(model, source, inputs):
    code = compile(source, "<instantiated>", "exec")
    namespace: dict = {}
    exec(code, namespace)
    classes = [v for k, v in namespace.items() if isinstance(v, type) and issubclass(v, Model) and k != "Model"]
    rebuilt = classes[-1](model.observation_space, model.action_space, "cpu")
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    assert [p.requires_grad for p in rebuilt.parameters()] == [p.requires_grad for p in model.parameters()]
    rebuilt.load_state_dict(model.state_dict())
    return rebuilt


@pytest.mark.parametrize(
    ("factory", "action_space", "output"),
    [
        (gaussian_model, PENDULUM_ACT, "2 * tanh(ACTIONS)"),
        (multivariate_gaussian_model, PENDULUM_ACT, "ACTIONS"),
        (deterministic_model, PENDULUM_ACT, "ONE"),
        (categorical_model, CARTPOLE_ACT, "ACTIONS"),
        (multicategorical_model, MULTI_ACT, "softmax(ACTIONS)"),
    ],
)
def test_return_source_compiles_and_is_equivalent(factory, action_space, output):
    network = [
        *NET,
        {"name": "tail", "input": "concatenate([net, STATES_ACTIONS])", "layers": [8], "activations": "relu"},
    ]
    kwargs = {"network": network, "output": output}
    if factory in (gaussian_model, multivariate_gaussian_model):
        kwargs["fixed_log_std"] = True
    model = factory(PENDULUM_OBS, action_space, "cpu", **kwargs)
    source = factory(PENDULUM_OBS, action_space, "cpu", return_source=True, **kwargs)
    assert isinstance(source, str) and "exec" not in source
    taken = torch.as_tensor(np.stack([action_space.sample() for _ in range(B)]), dtype=torch.float32).reshape(B, -1)
    inputs = {"states": states(), "taken_actions": taken}
    rebuilt = _equivalent(model, source, inputs)
    expected, got = model.compute(inputs), rebuilt.compute(inputs)
    assert torch.allclose(expected[0], got[0])


def test_shared_model_roles_source_and_caching():
    parameters = [
        {"network": NET, "output": "2 * tanh(ACTIONS)", "initial_log_std": -1.0, "clip_actions": True},
        {"network": NET, "output": "ONE"},
    ]
    model = shared_model(PENDULUM_OBS, PENDULUM_ACT, "cpu", roles=["policy", "value"], parameters=parameters)
    assert isinstance(model, GaussianMixin) and isinstance(model, DeterministicMixin)
    x = states()
    actions, log_prob, _ = model.act({"states": x}, role="policy")
    values, none, _ = model.act({"states": x}, role="value")
    assert actions.shape == (B, 1) and log_prob.shape == (B, 1) and values.shape == (B, 1) and none is None
    assert model.get_entropy(role="policy").shape == (B, 1)
    with pytest.raises(AttributeError, match="no get_entropy"):
        model.get_entropy(role="value")
    with pytest.raises(ValueError, match="Unknown role"):
        model.act({"states": x}, role="critic")

    calls = []
    hook = model.net_container.register_forward_hook(lambda *_: calls.append(1))
    model.act({"states": x}, role="policy")
    model.act({"states": x}, role="value")  # same tensor object: trunk reused
    assert len(calls) == 1
    model.act({"states": x}, role="policy")
    model.act({"states": x.clone()}, role="value")  # different object: trunk recomputed
    assert len(calls) == 3
    with torch.no_grad():
        model.act({"states": x}, role="policy")
    value = model.act({"states": x}, role="value")[0]  # grad mode differs: recomputed, graph intact
    assert len(calls) == 5 and value.requires_grad

    # one backward through both heads reaches the shared trunk once
    model.zero_grad()
    loss = model.act({"states": x}, role="policy")[1].sum() + model.act({"states": x}, role="value")[0].sum()
    loss.backward()
    assert model.net_container[0].weight.grad is not None

    source = shared_model(
        PENDULUM_OBS, PENDULUM_ACT, roles=["policy", "value"], parameters=parameters, return_source=True
    )
    rebuilt = _equivalent(model, source, {"states": x})
    for role in ("policy", "value"):
        assert torch.allclose(model.compute({"states": x}, role)[0], rebuilt.compute({"states": x}, role)[0])
    hook.remove()
    model.act({"states": x}, role="policy")  # the cache holds a non-leaf tensor: copies drop it
    assert model._shared_output is not None and model.__getstate__()["_shared_output"] is None
    assert type(pickle.loads(pickle.dumps(model))) is type(model)
    with torch.no_grad():
        model.act({"states": x}, role="policy")
    assert copy.deepcopy(model)._shared_output is None

    uncached = shared_model(
        CARTPOLE_OBS,
        CARTPOLE_ACT,
        structure=["CategoricalMixin", "DeterministicMixin"],
        roles=["policy", "value"],
        parameters=[{"network": NET, "output": "ACTIONS"}, {"output": "ONE"}],
        single_forward_pass=False,
    )
    assert uncached.act({"states": states(CARTPOLE_OBS)}, role="policy")[0].shape == (B, 1)
    assert uncached.act({"states": states(CARTPOLE_OBS)}, role="value")[0].shape == (B, 1)


def test_legacy_kwargs_are_converted_with_warning():
    with pytest.warns(DeprecationWarning, match="hiddens"):
        model = gaussian_model(PENDULUM_OBS, PENDULUM_ACT, hiddens=[16], output_scale=2.0)
    assert [type(m).__name__ for m in model.net_container] == ["Linear", "ReLU", "Linear"]  # 1.0 default relu
    assert model.act({"states": states(batch=64) * 50})[0].shape == (64, 1)
    with torch.no_grad():
        model.net_container[-1].bias.fill_(100.0)
    assert torch.allclose(model.compute({"states": states()})[0], torch.full((B, 1), 2.0))  # 2 * tanh
    with pytest.warns(DeprecationWarning):
        default = deterministic_model(
            PENDULUM_OBS, PENDULUM_ACT, input_shape=Shape.STATES_ACTIONS, output_shape=Shape.ONE
        )
    assert [m.out_features for m in default.net_container if isinstance(m, torch.nn.Linear)] == [256, 256, 1]
    assert default.net_container[0].in_features == 4
    with pytest.warns(DeprecationWarning):
        logits = categorical_model(CARTPOLE_OBS, CARTPOLE_ACT, hiddens=[8])
    assert isinstance(logits.net_container[-1], torch.nn.Linear)  # no output activation for categorical
    assert Shape.OBSERVATIONS is Shape.STATES and Shape.ONE.value == 1 and Shape.STATES_ACTIONS.value == -2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gaussian_model(PENDULUM_OBS, PENDULUM_ACT, network=NET, output="ACTIONS")


def test_errors():
    with pytest.raises(ValueError, match="valid activations are elu, leaky_relu, relu, selu, sigmoid, softmax"):
        deterministic_model(PENDULUM_OBS, PENDULUM_ACT, network=[{**NET[0], "activations": "swish"}], output="ONE")
    for bad in ("__import__('os').system('true')", "ACTIONS + 1", "foo(ACTIONS)", "2 * STATES", "x * ACTIONS"):
        with pytest.raises(ValueError, match="Accepted grammar"):
            deterministic_model(PENDULUM_OBS, PENDULUM_ACT, network=NET, output=bad)
    with pytest.raises(ValueError, match="Accepted grammar"):
        deterministic_model(PENDULUM_OBS, PENDULUM_ACT, network=[{**NET[0], "input": "open('x')"}], output="ONE")
    with pytest.raises(ValueError, match="unknown name 'later'"):
        deterministic_model(PENDULUM_OBS, PENDULUM_ACT, network=[{**NET[0], "input": "later"}], output="ONE")
    with pytest.raises(TypeError, match="hiden"):
        gaussian_model(PENDULUM_OBS, PENDULUM_ACT, network=NET, output="ACTIONS", hiden=[3])
    with pytest.raises(TypeError, match="clip"):
        shared_model(
            PENDULUM_OBS,
            PENDULUM_ACT,
            roles=["policy", "value"],
            parameters=[{"network": NET, "output": "ACTIONS"}, {"output": "ONE", "clip": True}],
        )
    with pytest.raises(ValueError, match="reduction"):
        gaussian_model(PENDULUM_OBS, PENDULUM_ACT, network=NET, output="ACTIONS", reduction="max")
    with pytest.raises(ValueError, match="non-empty"):
        gaussian_model(PENDULUM_OBS, PENDULUM_ACT, output="ACTIONS")


def test_ppo_trains_with_instantiated_models():
    from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
    from steprl.envs.wrappers.torch import wrap_env
    from steprl.memories.torch import RandomMemory
    from steprl.trainers.torch import ManualTrainer

    env = wrap_env(gymnasium.make_vec("CartPole-v1", 2, vectorization_mode="sync"), verbose=False)
    rollouts = 4
    separate = {
        "policy": categorical_model(env.observation_space, env.action_space, env.device, network=NET, output="ACTIONS"),
        "value": deterministic_model(env.observation_space, env.action_space, env.device, network=NET, output="ONE"),
    }
    shared = shared_model(
        env.observation_space,
        env.action_space,
        env.device,
        structure=["CategoricalMixin", "DeterministicMixin"],
        roles=["policy", "value"],
        parameters=[{"network": NET, "output": "ACTIONS"}, {"output": "ONE"}],
    )
    for models in (separate, {"policy": shared, "value": shared}):
        cfg = PPO_DEFAULT_CONFIG.copy()
        cfg.update(
            rollouts=rollouts,
            mini_batches=2,
            learning_epochs=2,
            experiment={"write_interval": 0, "checkpoint_interval": 0},
        )
        agent = PPO(
            models=models,
            memory=RandomMemory(memory_size=rollouts, num_envs=2),
            cfg=cfg,
            observation_space=env.observation_space,
            action_space=env.action_space,
            device=env.device,
        )
        trainer = ManualTrainer(
            env=env,
            agents=agent,
            cfg={"timesteps": 20, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False},
        )
        before = [p.detach().clone() for p in models["policy"].parameters()]
        for timestep in range(2 * rollouts + 1):
            trainer.train(timestep=timestep)
        assert any(not torch.equal(a, b) for a, b in zip(before, models["policy"].parameters()))
    env.close()
