"""TRPO: configuration, the conjugate gradient, the Fisher-vector product, the line search (KL bound, exact restore),
gradient isolation, truncation bootstrapping, checkpoints, hot-path syncs, trainers."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch
from helpers.envs import ConstantEnv, counting_vec
from helpers.models import CategoricalPolicy, GaussianPolicy, Value
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from steprl.agents.torch.trpo import TRPO, TRPO_DEFAULT_CONFIG
from steprl.agents.torch.trpo.losses import (
    backtracking_line_search,
    conjugate_gradient,
    detached_distribution,
    fisher_vector_product,
    flat_grad,
    mean_kl,
    surrogate_objective,
)
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}

API_KEYS = {
    "rollouts": 16, "learning_epochs": 8, "mini_batches": 2, "discount_factor": 0.99, "lambda": 0.95,
    "value_learning_rate": 1e-3, "learning_rate_scheduler": None, "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None, "state_preprocessor_kwargs": {}, "value_preprocessor": None,
    "value_preprocessor_kwargs": {}, "random_timesteps": 0, "learning_starts": 0, "grad_norm_clip": 0.5,
    "value_loss_scale": 1.0, "damping": 0.1, "max_kl_divergence": 0.01, "conjugate_gradient_steps": 10,
    "max_backtrack_steps": 10, "accept_ratio": 0.5, "step_fraction": 1.0, "rewards_shaper": None,
    "time_limit_bootstrap": False,
}


def build(env, rollouts=8, **cfg_updates):
    cfg = TRPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=rollouts, experiment=dict(NO_LOGS))
    cfg.update(cfg_updates)
    policy_cls = GaussianPolicy if isinstance(env.action_space, gym.spaces.Box) else CategoricalPolicy
    models = {"policy": policy_cls(env.observation_space, env.action_space), "value": Value(env.observation_space)}
    memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs)
    return TRPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space)


def pendulum(num_envs=2):
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def test_default_config_matches_api():
    assert set(TRPO_DEFAULT_CONFIG) == {*API_KEYS, "experiment"}
    for key, value in API_KEYS.items():
        assert TRPO_DEFAULT_CONFIG[key] == value, key


def test_config_errors_and_nested_merge():
    env = wrap_env(counting_vec(2), verbose=False)
    with pytest.raises(KeyError, match="Did you mean 'max_kl_divergence'"):
        build(env, max_kl_divergense=0.1)
    with pytest.raises(KeyError, match="value_learning_rate"):  # TRPO has no joint learning rate
        build(env, learning_rate=0.1)
    with pytest.raises(ValueError, match="max_kl_divergence"):
        build(env, max_kl_divergence=0.0)
    agent = build(env, experiment={"write_interval": 0})
    assert agent.cfg["experiment"]["checkpoint_interval"] == "auto"
    policy = CategoricalPolicy(env.observation_space, env.action_space)
    with pytest.raises(ValueError, match="separate"):
        TRPO(models={"policy": policy, "value": policy}, observation_space=env.observation_space, action_space=env.action_space)


def test_conjugate_gradient_solves_an_spd_system():
    torch.manual_seed(1)
    m = torch.randn(6, 6, dtype=torch.float64)
    a = m @ m.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, dtype=torch.float64)
    x = conjugate_gradient(lambda v: a @ v, b, steps=12)
    assert torch.allclose(x, torch.linalg.solve(a, b), atol=1e-8)
    # converged early: further steps leave the solution unchanged (masked updates, no NaN)
    assert torch.allclose(conjugate_gradient(lambda v: a @ v, b, steps=40), x, atol=1e-8)
    assert torch.equal(conjugate_gradient(lambda v: a @ v, torch.zeros(6, dtype=torch.float64), steps=3), torch.zeros(6, dtype=torch.float64))


@pytest.mark.parametrize("discrete", [False, True])
def test_fisher_vector_product_is_the_kl_hessian_times_v(discrete):
    torch.manual_seed(2)
    model = torch.nn.Linear(3, 2).double()
    log_std = torch.nn.Parameter(torch.tensor([0.1, -0.2], dtype=torch.float64))
    params = [*model.parameters(), *([] if discrete else [log_std])]
    states = torch.randn(5, 3, dtype=torch.float64)

    def dist(weights):
        out = torch.func.functional_call(model, dict(zip(("weight", "bias"), weights[:2])), (states,))
        if discrete:
            return torch.distributions.Categorical(logits=out)
        return torch.distributions.Normal(out, weights[2].exp().expand_as(out))

    old = detached_distribution(dist(params))
    kl = mean_kl(old, dist(params))
    kl_grad = flat_grad(kl, params, create_graph=True)
    v = torch.randn(sum(p.numel() for p in params), dtype=torch.float64)
    product = fisher_vector_product(kl_grad, params, v, damping=0.1)

    start = parameters_to_vector(params).detach()
    shapes = [p.shape for p in params]

    def kl_of(flat):
        weights, i = [], 0
        for shape in shapes:
            n = torch.Size(shape).numel()
            weights.append(flat[i : i + n].view(shape))
            i += n
        return mean_kl(old, dist(weights))

    hessian = torch.autograd.functional.hessian(kl_of, start)
    assert torch.allclose(product, hessian @ v + 0.1 * v, atol=1e-10)


def _gaussian_problem():
    torch.manual_seed(3)
    env = pendulum()
    policy = GaussianPolicy(env.observation_space, env.action_space)
    states, actions, advantages = torch.randn(64, 3), torch.randn(64, 1), torch.randn(64, 1)
    with torch.no_grad():
        old_log_prob = policy.act({"states": states, "taken_actions": actions}, role="policy")[1]
    return policy, {"states": states, "taken_actions": actions}, old_log_prob, advantages


def test_accepted_step_respects_max_kl():
    env = pendulum()
    agent = build(env, max_kl_divergence=0.005)
    policy, inputs, old_log_prob, advantages = _gaussian_problem()
    agent.policy = policy
    params = list(policy.parameters())
    start = parameters_to_vector(params).detach().clone()
    with torch.no_grad():
        policy.act(inputs, role="policy")
        old = detached_distribution(policy.distribution(role="policy"))
    objective, kl, accepted = agent._policy_step(inputs, old_log_prob, advantages, params)
    assert accepted
    assert not torch.equal(parameters_to_vector(params), start)
    with torch.no_grad():
        _, log_prob, _ = policy.act(inputs, role="policy")
        true_kl = mean_kl(old, policy.distribution(role="policy"))
        improved = surrogate_objective(log_prob, old_log_prob, advantages)
    assert 0 < true_kl.item() <= 0.005
    assert kl.item() == pytest.approx(true_kl.item(), rel=1e-5)
    assert improved.item() == pytest.approx(objective.item(), rel=1e-5)
    assert improved.item() > surrogate_objective(old_log_prob, old_log_prob, advantages).item()


def test_rejected_step_restores_the_parameters_exactly():
    policy, inputs, old_log_prob, advantages = _gaussian_problem()
    params = list(policy.parameters())
    start = [p.detach().clone() for p in params]
    tried = []

    def evaluate():  # every candidate is worse
        tried.append(parameters_to_vector(params).clone())
        return torch.tensor(-1.0), torch.tensor(0.0)

    step = torch.randn(sum(p.numel() for p in params))
    accepted, fraction = backtracking_line_search(
        params, step, torch.tensor(1.0), evaluate, torch.tensor(0.0), max_kl=0.01, max_backtrack_steps=4
    )
    assert not accepted and fraction == 0.0 and len(tried) == 4
    assert all(torch.equal(a, b) for a, b in zip(start, params))

    def too_far():  # improves, but the KL is too large
        return torch.tensor(5.0), torch.tensor(1.0)

    accepted, _ = backtracking_line_search(params, step, torch.tensor(1.0), too_far, torch.tensor(0.0), max_kl=0.01)
    assert not accepted and all(torch.equal(a, b) for a, b in zip(start, params))

    halves = iter([(torch.tensor(0.1), torch.tensor(0.0)), (torch.tensor(0.4), torch.tensor(0.0))])
    # expected improvement 1: f=1 needs ≥ 0.5 (0.1 fails), f=0.5 needs ≥ 0.25 (0.4 passes)
    accepted, fraction = backtracking_line_search(
        params, step, torch.tensor(1.0), lambda: next(halves), torch.tensor(0.0), max_kl=0.01
    )
    assert accepted and fraction == 0.5
    vector_to_parameters(parameters_to_vector(start), params)


def test_policy_step_does_not_move_the_value_and_value_step_does_not_move_the_policy():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4, learning_epochs=1, mini_batches=1)
    assert {id(p) for p in agent.value_optimizer.param_groups[0]["params"]} == {id(p) for p in agent.value.parameters()}
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(3):
        trainer.train()
    value_before = [p.clone() for p in agent.value.parameters()]
    policy_before = [p.clone() for p in agent.policy.parameters()]
    calls = {}
    original_policy_step, original_value_step = agent._policy_step, agent._optimizer_step

    def policy_step(*args):
        result = original_policy_step(*args)
        calls["value_after_policy_step"] = [p.clone() for p in agent.value.parameters()]
        return result

    def value_step(*args):
        policy_now = [p.clone() for p in agent.policy.parameters()]
        original_value_step(*args)
        calls["policy_moved_by_value_step"] = not all(torch.equal(a, b) for a, b in zip(policy_now, agent.policy.parameters()))

    agent._policy_step, agent._optimizer_step = policy_step, value_step
    trainer.train()  # the update
    assert all(torch.equal(a, b) for a, b in zip(value_before, calls["value_after_policy_step"]))
    assert calls["policy_moved_by_value_step"] is False
    assert not all(torch.equal(a, b) for a, b in zip(policy_before, agent.policy.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(value_before, agent.value.parameters()))


def _fit_value(terminate_instead: bool) -> float:
    torch.manual_seed(0)
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: ConstantEnv(terminate_instead, limit=5)] * 4), verbose=False)
    agent = build(env, rollouts=10, discount_factor=0.9, value_learning_rate=1e-2, learning_epochs=10, mini_batches=1,
                  grad_norm_clip=0, conjugate_gradient_steps=2, max_backtrack_steps=2)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 600, **QUIET})
    for t in range(600):
        trainer.train(timestep=t)
    with torch.no_grad():
        return agent.value.act({"states": torch.zeros(1, 1)}, role="value")[0].item()


@pytest.mark.slow
def test_truncation_bootstraps_from_final_observation():
    assert _fit_value(terminate_instead=False) == pytest.approx(10.0, rel=0.1)
    assert _fit_value(terminate_instead=True) == pytest.approx(2.63, abs=0.4)


def test_checkpoint_round_trip(tmp_path: Path):
    from steprl.resources.preprocessors.torch import RunningStandardScaler

    env = pendulum()
    agent = build(env, rollouts=4, state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": 3})
    assert set(agent.checkpoint_modules) == {"policy", "value", "value_optimizer", "state_preprocessor", "memory"}
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(8):
        trainer.train()
    agent.save(str(tmp_path / "trpo.pt"))
    fresh = build(env, rollouts=4, state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": 3})
    fresh.init({"timesteps": 10})
    fresh.load(str(tmp_path / "trpo.pt"))
    for name in ("policy", "value"):
        for a, b in zip(agent.checkpoint_modules[name].parameters(), fresh.checkpoint_modules[name].parameters()):
            assert torch.equal(a, b)
    assert torch.equal(agent.checkpoint_modules["state_preprocessor"].running_mean,
                       fresh.checkpoint_modules["state_preprocessor"].running_mean)


def test_per_step_path_has_no_host_syncs(request):
    env = pendulum(num_envs=4)
    agent = build(env, rollouts=64)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")
    for _ in range(30):
        trainer.train()
    with pytest.raises(AssertionError, match="host sync"):
        torch.zeros(1).item()


@pytest.mark.parametrize("make_env", [pendulum, lambda: wrap_env(counting_vec(2), verbose=False)], ids=["box", "discrete"])
def test_manual_and_sequential_trainers(make_env):
    env = make_env()
    agent = build(env, rollouts=8, learning_epochs=2)
    before = [p.clone() for p in agent.policy.parameters()]
    manual = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 16, **QUIET})
    for t in range(16):
        manual.train(timestep=t)
    for t in range(4):
        manual.eval(timestep=t)
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))
    agent = build(env, rollouts=8, learning_epochs=2)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 24, **QUIET}).train()
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET}).eval()
    assert torch.isfinite(agent.memory.get_tensor_by_name("advantages")).all()


def test_kl_adaptive_scheduler_steps_once_per_update():
    from steprl.resources.schedulers.torch import KLAdaptiveLR

    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4, learning_epochs=3, learning_rate_scheduler=KLAdaptiveLR,
                  learning_rate_scheduler_kwargs={"kl_threshold": 1.0, "lr_factor": 2.0})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(4):
        trainer.train()
    # the policy step's KL is far below the threshold: the value learning rate doubled once (not once per epoch)
    assert agent.value_optimizer.param_groups[0]["lr"] == pytest.approx(2e-3)
    assert "scheduler" in agent.checkpoint_modules
