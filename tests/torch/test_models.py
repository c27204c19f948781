"""Tests for steprl.models.torch: Model utilities and the policy/value mixins."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch
from torch import nn

from steprl.models.torch import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultiCategoricalMixin,
    MultivariateGaussianMixin,
    TabularMixin,
)

OBS = gymnasium.spaces.Box(-1.0, 1.0, (5,))
BOX = gymnasium.spaces.Box(np.array([-1.0, -2.0, 0.0], dtype=np.float32), np.array([1.0, 0.5, 3.0], dtype=np.float32))


def _mlp(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, 16), nn.Tanh(), nn.Linear(16, outputs))


class FixedGaussian(GaussianMixin, Model):
    """Gaussian policy whose mean/log-std come straight from the inputs (exact control in tests)."""

    def __init__(self, action_space: Any = BOX, batched: bool = False, **kwargs: Any) -> None:
        Model.__init__(self, OBS, action_space, "cpu")
        GaussianMixin.__init__(self, **kwargs)
        self.batched = batched
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        log_std = inputs["log_std"] if self.batched else self.log_std_parameter
        return inputs["mean"], log_std, {}


class FixedMVN(MultivariateGaussianMixin, Model):
    def __init__(self, **kwargs: Any) -> None:
        Model.__init__(self, OBS, BOX, "cpu")
        MultivariateGaussianMixin.__init__(self, **kwargs)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        return inputs["mean"], inputs["log_std"], {}


class FixedCategorical(CategoricalMixin, Model):
    def __init__(self, n: int = 4, **kwargs: Any) -> None:
        Model.__init__(self, OBS, gymnasium.spaces.Discrete(n), "cpu")
        CategoricalMixin.__init__(self, **kwargs)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return inputs["net"], {}


class FixedMultiCategorical(MultiCategoricalMixin, Model):
    def __init__(self, nvec: list[int], **kwargs: Any) -> None:
        Model.__init__(self, OBS, gymnasium.spaces.MultiDiscrete(nvec), "cpu")
        MultiCategoricalMixin.__init__(self, **kwargs)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return inputs["net"], {}


class Policy(GaussianMixin, Model):
    def __init__(self, **kwargs: Any) -> None:
        Model.__init__(self, OBS, BOX, "cpu")
        GaussianMixin.__init__(self, **kwargs)
        self.net = _mlp(self.num_observations, self.num_actions)
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict]:
        return self.net(inputs["states"]), self.log_std_parameter, {}


class Critic(DeterministicMixin, Model):
    def __init__(self, clip_actions: bool = False) -> None:
        Model.__init__(self, OBS, BOX, "cpu")
        DeterministicMixin.__init__(self, clip_actions)
        self.net = nn.Sequential(_mlp(self.num_observations, 8), nn.Linear(8, self.num_actions))

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        return self.net(inputs["states"]) * 10, {}


class Shared(GaussianMixin, DeterministicMixin, Model):
    """Policy and value in one class, dispatching by role."""

    def __init__(self) -> None:
        Model.__init__(self, OBS, BOX, "cpu")
        GaussianMixin.__init__(self, clip_actions=False, reduction="sum")
        DeterministicMixin.__init__(self, clip_actions=False)
        self.body = nn.Sequential(nn.Linear(self.num_observations, 16), nn.Tanh())
        self.mean_layer = nn.Linear(16, self.num_actions)
        self.value_layer = nn.Linear(16, 1)
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def act(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, torch.Tensor | None, dict]:
        if role == "policy":
            return GaussianMixin.act(self, inputs, role)
        if role == "value":
            return DeterministicMixin.act(self, inputs, role)
        raise ValueError(role)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[Any, ...]:
        hidden = self.body(inputs["states"])
        if role == "policy":
            return self.mean_layer(hidden), self.log_std_parameter, {}
        return self.value_layer(hidden), {}


def _states(batch: int = 8) -> dict[str, torch.Tensor]:
    return {"states": torch.randn(batch, 5)}


# --------------------------------------------------------------------------------------------- Gaussian


@pytest.mark.parametrize("batched", [False, True])
def test_gaussian_log_prob_and_entropy_match_normal(batched: bool) -> None:
    torch.manual_seed(0)
    model = FixedGaussian(batched=batched, reduction="none")
    with torch.no_grad():
        model.log_std_parameter.copy_(torch.tensor([-0.5, 0.3, 1.0]))
    mean = torch.randn(6, 3)
    log_std = torch.randn(6, 3) * 0.5
    inputs = {"mean": mean, "log_std": log_std}
    actions, log_prob, outputs = model.act(inputs)
    expected_log_std = log_std if batched else model.log_std_parameter.detach().expand(6, 3)
    normal = torch.distributions.Normal(mean, expected_log_std.exp())
    assert actions.shape == (6, 3) and log_prob.shape == (6, 3)
    torch.testing.assert_close(log_prob, normal.log_prob(actions))
    torch.testing.assert_close(model.get_entropy(), normal.entropy())
    torch.testing.assert_close(model.get_log_std(), expected_log_std)
    torch.testing.assert_close(outputs["stddev"], expected_log_std.exp())
    assert outputs["mean_actions"] is mean
    # taken actions: the log-prob is of the given actions, not of the sample
    taken = torch.randn(6, 3)
    _, log_prob_taken, _ = model.act({**inputs, "taken_actions": taken})
    torch.testing.assert_close(log_prob_taken, normal.log_prob(taken))
    dist = model.distribution()
    assert isinstance(dist, torch.distributions.Normal)
    torch.testing.assert_close(dist.log_prob(taken), normal.log_prob(taken))


def test_gaussian_batched_log_std_is_not_repeated() -> None:
    """A batched log_std is used as is; a parameter log_std is expanded (a view), never repeated."""
    model = FixedGaussian(batched=True)
    log_std = torch.randn(4, 3) * 0.1
    model.act({"mean": torch.zeros(4, 3), "log_std": log_std})
    assert model.get_log_std().shape == (4, 3)
    torch.testing.assert_close(model.get_log_std(), log_std)
    param_model = FixedGaussian(batched=False)
    param_model.act({"mean": torch.zeros(4, 3)})
    log_std_out = param_model.get_log_std()
    assert log_std_out.shape == (4, 3)
    assert log_std_out.stride(0) == 0  # expanded view, not a copy


@pytest.mark.parametrize(
    ("reduction", "reduce"),
    [
        ("sum", lambda x: x.sum(-1, keepdim=True)),
        ("mean", lambda x: x.mean(-1, keepdim=True)),
        ("prod", lambda x: x.prod(-1, keepdim=True)),
        ("none", lambda x: x),
    ],
)
def test_gaussian_reductions(reduction: str, reduce: Any) -> None:
    model = FixedGaussian(reduction=reduction)
    mean = torch.randn(5, 3)
    taken = torch.randn(5, 3)
    _, log_prob, _ = model.act({"mean": mean, "taken_actions": taken})
    expected = reduce(torch.distributions.Normal(mean, torch.ones(3)).log_prob(taken))
    assert log_prob.shape == expected.shape
    torch.testing.assert_close(log_prob, expected)


def test_invalid_reduction_raises() -> None:
    with pytest.raises(ValueError, match="reduction"):
        FixedGaussian(reduction="max")
    with pytest.raises(ValueError, match="reduction"):
        FixedMultiCategorical([2, 3], reduction="average")


def test_gaussian_sample_statistics() -> None:
    torch.manual_seed(1)
    model = FixedGaussian(batched=True)
    mean = torch.tensor([0.5, -1.0, 2.0]).expand(20000, 3)
    log_std = torch.tensor([math.log(0.3), 0.0, math.log(2.0)]).expand(20000, 3)
    with torch.no_grad():
        actions, _, _ = model.act({"mean": mean, "log_std": log_std})
    torch.testing.assert_close(actions.mean(0), mean[0], atol=0.05, rtol=0)
    torch.testing.assert_close(actions.std(0), log_std[0].exp(), atol=0.05, rtol=0.02)


def test_gaussian_clip_actions_per_dimension() -> None:
    torch.manual_seed(2)
    model = FixedGaussian(clip_actions=True, batched=True, reduction="none")
    mean = torch.zeros(2000, 3)
    log_std = torch.full((2000, 3), 1.5)
    actions, log_prob, _ = model.act({"mean": mean, "log_std": log_std})
    low, high = torch.as_tensor(BOX.low), torch.as_tensor(BOX.high)
    assert bool(((actions >= low) & (actions <= high)).all())
    assert bool((actions == low).any(0).all()) and bool((actions == high).any(0).all())
    # log-prob of the clipped actions
    torch.testing.assert_close(log_prob, torch.distributions.Normal(mean, log_std.exp()).log_prob(actions))
    # no clipping without the flag
    unclipped, _, _ = FixedGaussian(batched=True).act({"mean": mean, "log_std": log_std})
    assert bool((unclipped > high).any())


def test_gaussian_clip_log_std() -> None:
    model = FixedGaussian(batched=True, min_log_std=-1.0, max_log_std=0.5)
    raw = torch.tensor([[-5.0, 0.0, 3.0]])
    _, _, outputs = model.act({"mean": torch.zeros(1, 3), "log_std": raw})
    torch.testing.assert_close(model.get_log_std(), torch.tensor([[-1.0, 0.0, 0.5]]))
    torch.testing.assert_close(outputs["log_std"], torch.tensor([[-1.0, 0.0, 0.5]]))
    unclamped = FixedGaussian(batched=True, clip_log_std=False, min_log_std=-1.0, max_log_std=0.5)
    unclamped.act({"mean": torch.zeros(1, 3), "log_std": raw})
    torch.testing.assert_close(unclamped.get_log_std(), raw)


def test_gaussian_gradients_flow_through_reparameterised_actions() -> None:
    torch.manual_seed(3)
    policy = Policy()
    actions, log_prob, _ = policy.act(_states())
    assert actions.requires_grad and log_prob.requires_grad
    actions.sum().backward()
    assert policy.net[0].weight.grad is not None and policy.net[0].weight.grad.abs().sum() > 0
    assert policy.log_std_parameter.grad is not None and policy.log_std_parameter.grad.abs().sum() > 0


def test_gaussian_sample_log_prob_gradients_match_normal_rsample() -> None:
    torch.manual_seed(17)
    mean = torch.randn(4, 3, requires_grad=True)
    log_std = (torch.randn(4, 3) * 0.3).requires_grad_()
    model = FixedGaussian(batched=True)
    torch.manual_seed(18)
    actions, log_prob, _ = model.act({"mean": mean, "log_std": log_std})
    grads = torch.autograd.grad((log_prob.sum() + actions.square().sum()), (mean, log_std))
    torch.manual_seed(18)
    normal = torch.distributions.Normal(mean, log_std.exp())
    sample = normal.rsample()
    torch.testing.assert_close(actions, sample)
    expected = torch.autograd.grad(normal.log_prob(sample).sum() + sample.square().sum(), (mean, log_std))
    for grad, reference in zip(grads, expected):
        torch.testing.assert_close(grad, reference)
    with torch.no_grad():  # fast path (log-prob from the noise) gives the same value
        torch.manual_seed(18)
        _, log_prob_no_grad, _ = model.act({"mean": mean, "log_std": log_std})
    torch.testing.assert_close(log_prob_no_grad, log_prob.detach())


def test_gaussian_log_prob_gradients_match_normal() -> None:
    torch.manual_seed(4)
    mean = torch.randn(4, 3, requires_grad=True)
    log_std = (torch.randn(4, 3) * 0.3).requires_grad_()
    taken = torch.randn(4, 3)
    model = FixedGaussian(batched=True)
    _, log_prob, _ = model.act({"mean": mean, "log_std": log_std, "taken_actions": taken})
    grads = torch.autograd.grad(log_prob.sum() + model.get_entropy().sum(), (mean, log_std))
    normal = torch.distributions.Normal(mean, log_std.exp())
    expected = torch.autograd.grad(normal.log_prob(taken).sum() + normal.entropy().sum(), (mean, log_std))
    for grad, reference in zip(grads, expected):
        torch.testing.assert_close(grad, reference)


def test_entropy_before_first_act_is_zero() -> None:
    for model in (FixedGaussian(), FixedMVN(), FixedCategorical(), FixedMultiCategorical([2, 3])):
        entropy = model.get_entropy()
        assert entropy.dim() == 0 and float(entropy) == 0.0
        assert model.distribution() is None


# --------------------------------------------------------------------------------------------- Multivariate


def test_multivariate_gaussian_matches_diagonal_mvn_with_std() -> None:
    """The Cholesky diagonal is the standard deviation (not the variance), batch-safe."""
    torch.manual_seed(5)
    model = FixedMVN()
    mean = torch.randn(6, 3)
    log_std = torch.full((6, 3), math.log(2.0)) + torch.randn(6, 3) * 0.1
    taken = torch.randn(6, 3) * 2
    _, log_prob, outputs = model.act({"mean": mean, "log_std": log_std, "taken_actions": taken})
    mvn = torch.distributions.MultivariateNormal(mean, scale_tril=torch.diag_embed(log_std.exp()))
    assert log_prob.shape == (6, 1)
    torch.testing.assert_close(log_prob, mvn.log_prob(taken).unsqueeze(-1))
    torch.testing.assert_close(model.get_entropy(), mvn.entropy())
    wrong = torch.distributions.MultivariateNormal(mean, scale_tril=torch.diag_embed(log_std.exp() ** 2))
    assert not torch.allclose(log_prob, wrong.log_prob(taken).unsqueeze(-1))
    dist = model.distribution()
    assert isinstance(dist, torch.distributions.MultivariateNormal)
    torch.testing.assert_close(dist.covariance_matrix, mvn.covariance_matrix)
    assert outputs["mean_actions"] is mean


def test_multivariate_gaussian_parameter_log_std_and_samples() -> None:
    torch.manual_seed(6)
    model = FixedMVN()
    mean = torch.tensor([1.0, 0.0, -1.0]).expand(20000, 3)
    log_std = torch.tensor([math.log(0.5), 0.0, math.log(1.5)])
    with torch.no_grad():
        actions, log_prob, _ = model.act({"mean": mean, "log_std": log_std})
    assert model.get_log_std().shape == (20000, 3)
    torch.testing.assert_close(actions.mean(0), mean[0], atol=0.05, rtol=0)
    torch.testing.assert_close(actions.std(0), log_std.exp(), atol=0.05, rtol=0.02)
    mvn = torch.distributions.MultivariateNormal(mean[:10], scale_tril=torch.diag(log_std.exp()))
    torch.testing.assert_close(log_prob[:10], mvn.log_prob(actions[:10]).unsqueeze(-1))


# --------------------------------------------------------------------------------------------- Categorical


@pytest.mark.parametrize("unnormalized", [True, False])
def test_categorical_matches_torch_categorical(unnormalized: bool) -> None:
    torch.manual_seed(7)
    model = FixedCategorical(n=5, unnormalized_log_prob=unnormalized)
    net = torch.randn(7, 5) if unnormalized else torch.rand(7, 5) * 3
    reference = (
        torch.distributions.Categorical(logits=net) if unnormalized else torch.distributions.Categorical(probs=net)
    )
    actions, log_prob, outputs = model.act({"net": net})
    assert actions.shape == (7, 1) and actions.dtype == torch.int64 and log_prob.shape == (7, 1)
    torch.testing.assert_close(log_prob, reference.log_prob(actions.view(-1)).unsqueeze(-1))
    torch.testing.assert_close(model.get_entropy(), reference.entropy())
    torch.testing.assert_close(outputs["mean_actions"], net.argmax(-1, keepdim=True))
    assert outputs["net_output"] is net
    for taken in (torch.randint(5, (7, 1)), torch.randint(5, (7, 1)).float()):
        _, log_prob_taken, _ = model.act({"net": net, "taken_actions": taken})
        torch.testing.assert_close(log_prob_taken, reference.log_prob(taken.long().view(-1)).unsqueeze(-1))
    dist = model.distribution()
    assert isinstance(dist, torch.distributions.Categorical)
    torch.testing.assert_close(dist.probs, reference.probs)


def test_categorical_sample_frequencies() -> None:
    torch.manual_seed(8)
    probs = torch.tensor([0.1, 0.6, 0.3])
    model = FixedCategorical(n=3, unnormalized_log_prob=False)
    actions, _, _ = model.act({"net": probs.expand(20000, 3)})
    frequencies = torch.bincount(actions.view(-1), minlength=3).float() / 20000
    torch.testing.assert_close(frequencies, probs, atol=0.015, rtol=0)


@pytest.mark.parametrize("nvec", [[3, 3, 3], [2, 5, 3]])
@pytest.mark.parametrize("reduction", ["sum", "mean", "prod", "none"])
def test_multicategorical_matches_torch_categoricals(nvec: list[int], reduction: str) -> None:
    torch.manual_seed(9)
    model = FixedMultiCategorical(nvec, reduction=reduction)
    net = torch.randn(6, sum(nvec))
    dists = [torch.distributions.Categorical(logits=part) for part in torch.split(net, nvec, dim=-1)]
    actions, log_prob, outputs = model.act({"net": net})
    assert actions.shape == (6, len(nvec)) and actions.dtype == torch.int64
    assert bool((actions < torch.tensor(nvec)).all()) and bool((actions >= 0).all())
    per_dim = torch.stack([d.log_prob(a) for d, a in zip(dists, actions.unbind(-1))], dim=-1)
    entropy = torch.stack([d.entropy() for d in dists], dim=-1)
    reduce = {
        "sum": lambda x: x.sum(-1, keepdim=True),
        "mean": lambda x: x.mean(-1, keepdim=True),
        "prod": lambda x: x.prod(-1, keepdim=True),
        "none": lambda x: x,
    }[reduction]
    torch.testing.assert_close(log_prob, reduce(per_dim))
    torch.testing.assert_close(model.get_entropy(), reduce(entropy))
    greedy = torch.stack([part.argmax(-1) for part in torch.split(net, nvec, dim=-1)], dim=-1)
    torch.testing.assert_close(outputs["mean_actions"], greedy)
    taken = torch.stack([torch.randint(n, (6,)) for n in nvec], dim=-1).float()
    _, log_prob_taken, _ = model.act({"net": net, "taken_actions": taken})
    per_dim_taken = torch.stack([d.log_prob(a) for d, a in zip(dists, taken.long().unbind(-1))], dim=-1)
    torch.testing.assert_close(log_prob_taken, reduce(per_dim_taken))
    torch.testing.assert_close(model.distribution().logits, dists[0].logits)


def test_multicategorical_probabilities_and_samples() -> None:
    torch.manual_seed(10)
    nvec = [2, 4]
    probs = torch.tensor([0.25, 0.75, 0.1, 0.2, 0.3, 0.4])
    model = FixedMultiCategorical(nvec, unnormalized_log_prob=False)
    actions, _, _ = model.act({"net": probs.expand(20000, 6)})
    torch.testing.assert_close(
        torch.bincount(actions[:, 0], minlength=2).float() / 20000, probs[:2], atol=0.015, rtol=0
    )
    torch.testing.assert_close(
        torch.bincount(actions[:, 1], minlength=4).float() / 20000, probs[2:], atol=0.015, rtol=0
    )
    dists = [torch.distributions.Categorical(probs=p) for p in torch.split(probs.expand(3, 6), nvec, dim=-1)]
    model.act({"net": probs.expand(3, 6)})
    torch.testing.assert_close(model.get_entropy(), (dists[0].entropy() + dists[1].entropy()).unsqueeze(-1))


def test_multicategorical_requires_multidiscrete() -> None:
    class Bad(MultiCategoricalMixin, Model):
        def __init__(self) -> None:
            Model.__init__(self, OBS, gymnasium.spaces.Discrete(3), "cpu")
            MultiCategoricalMixin.__init__(self)

    with pytest.raises(TypeError, match="MultiDiscrete"):
        Bad()


# --------------------------------------------------------------------------------------------- Deterministic / shared


def test_deterministic_clip_and_mean_actions() -> None:
    torch.manual_seed(11)
    critic = Critic(clip_actions=True)
    actions, log_prob, outputs = critic.act(_states(64))
    assert log_prob is None
    low, high = torch.as_tensor(BOX.low), torch.as_tensor(BOX.high)
    assert bool(((actions >= low) & (actions <= high)).all())
    assert outputs["mean_actions"] is actions
    raw, _, _ = Critic(clip_actions=False).act(_states(64))
    assert bool((raw.abs() > 3).any())


def test_shared_model_roles() -> None:
    torch.manual_seed(12)
    shared = Shared()
    inputs = _states(4)
    actions, log_prob, outputs = shared.act(inputs, role="policy")
    assert actions.shape == (4, 3) and log_prob.shape == (4, 1) and "mean_actions" in outputs
    values, none, _ = shared.act(inputs, role="value")
    assert values.shape == (4, 1) and none is None
    assert shared.get_entropy(role="policy").shape == (4, 3)
    (actions.sum() + log_prob.sum() + values.sum()).backward()
    assert shared.value_layer.weight.grad.abs().sum() > 0 and shared.mean_layer.weight.grad.abs().sum() > 0
    assert shared.log_std_parameter.grad.abs().sum() > 0
    assert shared(inputs, "value")[0].shape == (4, 1)  # forward == act


def test_missing_compute_and_wrong_mixin_order() -> None:
    class NoCompute(GaussianMixin, Model):
        def __init__(self) -> None:
            Model.__init__(self, OBS, BOX, "cpu")
            GaussianMixin.__init__(self)

    with pytest.raises(NotImplementedError, match="compute"):
        NoCompute().act(_states())

    class WrongOrder(Model, DeterministicMixin):
        def __init__(self) -> None:
            Model.__init__(self, OBS, BOX, "cpu")
            DeterministicMixin.__init__(self)

    with pytest.raises(NotImplementedError, match="mixin"):
        WrongOrder().act(_states())

    class MixinFirst(GaussianMixin, Model):
        def __init__(self) -> None:
            GaussianMixin.__init__(self)
            Model.__init__(self, OBS, BOX, "cpu")

    with pytest.raises(TypeError, match="Model.__init__"):
        MixinFirst()


# --------------------------------------------------------------------------------------------- Model utilities


def test_model_attributes() -> None:
    policy = Policy()
    assert policy.device == torch.device("cpu")
    assert policy.num_observations == 5 and policy.num_actions == 3
    model = FixedCategorical(n=4)
    assert model.num_actions == 4
    assert Model(None, None, "cpu").num_actions is None
    assert Model(None, None, "cpu").get_specification() == {}


def test_update_parameters_polyak_exact() -> None:
    torch.manual_seed(13)
    target, source = Policy(), Policy()
    before = [p.detach().clone() for p in target.parameters()]
    tau = 0.1
    target.update_parameters(source, polyak=tau)
    for old, new, src in zip(before, target.parameters(), source.parameters()):
        torch.testing.assert_close(new, (1 - tau) * old + tau * src, rtol=0, atol=1e-7)
        assert not new.requires_grad or new.grad is None
    target.update_parameters(source, polyak=1)
    for new, src in zip(target.parameters(), source.parameters()):
        assert torch.equal(new, src) and new.data_ptr() != src.data_ptr()
    with pytest.raises(ValueError, match="parameter tensors"):
        target.update_parameters(Critic(), polyak=0.5)


def test_freeze_parameters_and_set_mode() -> None:
    policy = Policy()
    policy.freeze_parameters(True)
    assert not any(p.requires_grad for p in policy.parameters())
    policy.freeze_parameters(False)
    assert all(p.requires_grad for p in policy.parameters())
    policy.set_mode("eval")
    assert not policy.training and not policy.net.training
    policy.set_mode("train")
    assert policy.training
    with pytest.raises(ValueError, match="mode"):
        policy.set_mode("test")


def test_init_parameters_weights_biases() -> None:
    critic = Critic()
    critic.init_biases("constant_", 0.25)
    linears = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 3 and all(bool((layer.bias == 0.25).all()) for layer in linears)
    critic.init_weights("constant_", 0.5)
    assert all(bool((layer.weight == 0.5).all()) for layer in linears)
    critic.init_parameters("zeros_")
    assert all(bool((p == 0).all()) for p in critic.parameters())
    with pytest.raises(ValueError, match="torch.nn.init"):
        critic.init_weights("not_a_method")


def test_save_load_round_trip(tmp_path: Any) -> None:
    torch.manual_seed(14)
    policy, other = Policy(), Policy()
    path = tmp_path / "policy.pt"
    policy.save(str(path))
    assert [p.name for p in tmp_path.iterdir()] == ["policy.pt"]  # no temporary file left behind
    other.train()
    other.load(str(path))
    assert not other.training
    for a, b in zip(policy.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    custom = {"log_std_parameter": torch.ones(3)}
    policy.save(path, state_dict=custom)
    assert torch.equal(torch.load(path, weights_only=True)["log_std_parameter"], torch.ones(3))


def test_migrate_by_name_and_shape(tmp_path: Any) -> None:
    torch.manual_seed(15)
    critic = Critic()
    external = {f"ext.{k}": torch.randn_like(v) for k, v in critic.state_dict().items()}
    name_map = {k: f"ext.{k}" for k in critic.state_dict()}
    assert critic.migrate(state_dict=external, name_map=name_map, auto_mapping=False) is True
    for name, tensor in critic.state_dict().items():
        assert torch.equal(tensor, external[f"ext.{name}"])
    # rl_games-style checkpoint file; auto mapping alone is ambiguous for equal-shape layers → False
    torch.save({"model": external, "epoch": 3}, tmp_path / "rl_games.pt")
    fresh = Critic()
    assert fresh.migrate(path=str(tmp_path / "rl_games.pt"), name_map=name_map) is True
    assert torch.equal(fresh.state_dict()["net.1.weight"], external["ext.net.1.weight"])
    unique = {"a.weight": torch.randn(16, 5), "a.bias": torch.randn(16)}
    assert Critic().migrate(state_dict=unique) is False  # missing matches for the other layers
    with pytest.raises(ValueError, match="exactly one"):
        critic.migrate()
    with pytest.raises(ValueError, match="checkpoint type"):
        critic.migrate(path=str(tmp_path / "model.bin"))


def test_random_act_spaces() -> None:
    torch.manual_seed(16)
    policy = Policy()
    actions, log_prob, outputs = policy.random_act(_states(5000))
    assert actions.shape == (5000, 3) and log_prob is None and outputs == {}
    low, high = torch.as_tensor(BOX.low), torch.as_tensor(BOX.high)
    assert bool(((actions >= low) & (actions <= high)).all())
    torch.testing.assert_close(actions.min(0).values, low, atol=0.02, rtol=0)
    torch.testing.assert_close(actions.max(0).values, high, atol=0.02, rtol=0)
    discrete = FixedCategorical(n=4)
    actions, _, _ = discrete.random_act(_states(1000))
    assert actions.shape == (1000, 1) and actions.dtype == torch.int64
    assert set(actions.view(-1).tolist()) == {0, 1, 2, 3}
    multi = FixedMultiCategorical([2, 5, 3])
    actions, _, _ = multi.random_act(_states(1000))
    assert actions.shape == (1000, 3) and actions.dtype == torch.int64
    assert actions.max(0).values.tolist() == [1, 4, 2] and actions.min(0).values.tolist() == [0, 0, 0]
    model = Model(OBS, gymnasium.spaces.MultiBinary(3), "cpu")
    with pytest.raises(NotImplementedError):
        model.random_act(_states())


def test_random_act_unbounded_box() -> None:
    space = gymnasium.spaces.Box(np.array([-np.inf, 0.0], dtype=np.float32), np.array([np.inf, 1.0], dtype=np.float32))
    actions, _, _ = Model(OBS, space, "cpu").random_act(_states(1000))
    assert bool(torch.isfinite(actions).all()) and bool(((actions[:, 1] >= 0) & (actions[:, 1] <= 1)).all())


def test_init_state_dict_materialises_lazy_modules() -> None:
    class Lazy(DeterministicMixin, Model):
        def __init__(self) -> None:
            Model.__init__(self, OBS, BOX, "cpu")
            DeterministicMixin.__init__(self)
            self.net = nn.LazyLinear(2)

        def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
            return self.net(torch.cat([inputs["states"], inputs["taken_actions"]], dim=-1)), {}

    model = Lazy()
    model.init_state_dict("q")
    assert model.net.weight.shape == (2, 8)
    Policy().init_state_dict("policy")  # regular modules: no-op


def test_reduce_and_broadcast_are_noops_without_distributed() -> None:
    policy = Policy()
    policy.act(_states())[0].sum().backward()
    grads = [p.grad.clone() for p in policy.parameters()]
    policy.reduce_parameters()
    policy.broadcast_parameters()
    for grad, p in zip(grads, policy.parameters()):
        assert torch.equal(grad, p.grad)


def test_tensor_to_space_delegates() -> None:
    spaces_torch = pytest.importorskip("steprl.utils.spaces.torch")
    space = gymnasium.spaces.Box(-1.0, 1.0, (2, 3))
    tensor = torch.randn(4, 6)
    with pytest.warns(DeprecationWarning):
        result = Model(OBS, BOX, "cpu").tensor_to_space(tensor, space)
    torch.testing.assert_close(result, spaces_torch.unflatten_tensorized_space(space, tensor))


# --------------------------------------------------------------------------------------------- Tabular


class Table(TabularMixin, Model):
    def __init__(self, num_envs: int = 2) -> None:
        Model.__init__(self, gymnasium.spaces.Discrete(4), gymnasium.spaces.Discrete(3), "cpu")
        TabularMixin.__init__(self, num_envs)
        self.q_table = torch.zeros(num_envs, 4, 3)

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        states = inputs["states"].long().view(-1)
        rows = torch.arange(states.shape[0])
        return self.q_table[rows, states].argmax(-1, keepdim=True), {}


def test_tabular_state_dict_save_load(tmp_path: Any) -> None:
    table = Table()
    table.q_table[0, 1, 2] = 5.0
    actions, log_prob, _ = table.act({"states": torch.tensor([[1], [0]])})
    assert actions.tolist() == [[2], [0]] and log_prob is None
    assert table.table() is table.q_table
    assert set(table.state_dict()) == {"q_table"}
    path = tmp_path / "table.pt"
    table.save(path)
    other = Table()
    other.load(path)
    assert torch.equal(other.q_table, table.q_table)
    other.load_state_dict({"q_table": torch.ones(2, 4, 3)})
    assert bool((other.q_table == 1).all())
    with pytest.raises(ValueError, match="mismatch"):
        other.load_state_dict({"q_table": torch.ones(3, 4, 3)})
    with pytest.raises(ValueError, match="mismatch"):
        other.load_state_dict({"q_table": torch.ones(2, 4, 3, dtype=torch.float64)})
    with pytest.raises(ValueError, match="not a tensor attribute"):
        other.load_state_dict({"v_table": torch.ones(2, 4, 3)})
    assert other.to("cpu") is other and "q_table" in repr(other)


def test_atomic_save_leaves_no_partial_file(tmp_path: Any) -> None:
    policy = Policy()
    path = tmp_path / "p.pt"
    policy.save(path)
    original = path.read_bytes()

    class Unpicklable:
        def __reduce__(self) -> Any:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        policy.save(path, state_dict={"x": Unpicklable()})  # type: ignore[dict-item]
    assert path.read_bytes() == original and os.listdir(tmp_path) == ["p.pt"]


def test_deepcopy_and_pickle_after_act_with_grad() -> None:
    """Target networks are deep copies: the cached tensors of the last act (graph nodes) must not break that."""
    import copy
    import pickle

    from helpers.models import GaussianPolicy

    policy = GaussianPolicy(gymnasium.spaces.Box(-1, 1, (3,)), gymnasium.spaces.Box(-2, 2, (1,)))
    policy.act({"states": torch.randn(4, 3)}, role="policy")  # grad enabled: cached tensors have a graph
    clone = copy.deepcopy(policy)
    pickle.loads(pickle.dumps(policy))
    for a, b in zip(policy.parameters(), clone.parameters()):
        assert torch.equal(a, b) and a is not b
    assert policy._g_last is not None  # the original keeps its cache
