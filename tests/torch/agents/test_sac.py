"""SAC: configuration, targets, temperature, gradient isolation, truncation, step counting, checkpoints, host syncs."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers.checkpoint import assert_state_equal
from torch.distributions import AffineTransform, Normal, TanhTransform, TransformedDistribution

import steprl.agents.torch.sac.sac as sac_module
from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from steprl.agents.torch.sac.losses import sac_critic_loss, sac_critic_target, sac_entropy_loss, sac_policy_loss
from steprl.agents.torch.sac.sac import default_target_entropy
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.sac import MLPSquashedGaussianPolicy, build_sac_models
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}

API_KEYS = {
    "gradient_steps": 1, "batch_size": 64, "discount_factor": 0.99, "polyak": 0.005, "actor_learning_rate": 1e-3,
    "critic_learning_rate": 1e-3, "learning_rate_scheduler": None, "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None, "state_preprocessor_kwargs": {}, "random_timesteps": 0, "learning_starts": 0,
    "grad_norm_clip": 0, "learn_entropy": True, "entropy_learning_rate": 1e-3, "initial_entropy_value": 0.2,
    "target_entropy": None, "rewards_shaper": None, "mixed_precision": False, "checkpoint_memory": False,
}
BOX = gym.spaces.Box(-2.0, 2.0, shape=(1,), dtype=np.float32)
OBS = gym.spaces.Box(-8.0, 8.0, shape=(3,), dtype=np.float32)


def pendulum(num_envs: int = 1):
    if num_envs == 1:
        return wrap_env(gym.make("Pendulum-v1"), verbose=False)
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def build(obs=OBS, act=BOX, memory_size=64, num_envs=1, hidden=(16, 16), models=None, **cfg_updates) -> SAC:
    cfg = {"batch_size": 8, "experiment": dict(NO_LOGS)}
    cfg.update(cfg_updates)
    models = build_sac_models(obs, act, "cpu", {"hidden": list(hidden)}) if models is None else models
    memory = RandomMemory(memory_size=memory_size, num_envs=num_envs) if memory_size else None
    return SAC(models=models, memory=memory, observation_space=obs, action_space=act, device="cpu", cfg=cfg)


def fill(agent: SAC, rows: int = 32) -> None:
    """Random transitions (no terminations) straight into the replay memory."""
    for _ in range(rows):
        agent.memory.add_samples(
            states=torch.randn(1, 3), actions=torch.rand(1, 1) * 4 - 2, rewards=torch.randn(1, 1),
            next_states=torch.randn(1, 3), terminated=torch.zeros(1, 1, dtype=torch.bool),
            truncated=torch.zeros(1, 1, dtype=torch.bool),
        )


def ready(agent: SAC, rows: int = 32) -> SAC:
    agent.init({"timesteps": 100})
    fill(agent, rows)
    return agent


def batch(n: int = 8) -> tuple[torch.Tensor, ...]:
    return (torch.randn(n, 3), torch.rand(n, 1) * 4 - 2, torch.randn(n, 1), torch.randn(n, 3),
            torch.zeros(n, 1, dtype=torch.bool))


def params(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


# ---------------------------------------------------------------------------------------------- configuration
def test_default_config_matches_api():
    for key, value in API_KEYS.items():
        assert SAC_DEFAULT_CONFIG[key] == value, key
    assert set(SAC_DEFAULT_CONFIG) == {*API_KEYS, "experiment"}
    assert SAC_DEFAULT_CONFIG["experiment"] == {
        "directory": "", "experiment_name": "", "write_interval": "auto", "checkpoint_interval": "auto",
        "store_separately": False, "wandb": False, "wandb_kwargs": {},
    }


def test_config_errors():
    with pytest.raises(KeyError, match="Did you mean 'batch_size'"):
        build(batch_sise=3)
    with pytest.raises(KeyError, match="Did you mean 'write_interval'"):
        build(experiment={"write_intervall": 3})
    assert build(experiment={"write_interval": 0}).cfg["experiment"]["checkpoint_interval"] == "auto"
    for key, value in (("batch_size", 0), ("gradient_steps", 0), ("polyak", 1.5), ("actor_learning_rate", 0),
                       ("critic_learning_rate", -1), ("entropy_learning_rate", 0), ("initial_entropy_value", 0),
                       ("discount_factor", 1.5)):
        with pytest.raises(ValueError, match=key):
            build(**{key: value})


def test_model_roles_are_checked():
    models = build_sac_models(OBS, BOX, "cpu", {"hidden": [8]})
    with pytest.raises(KeyError, match="Did you mean 'critic_1'"):
        build(models={**models, "critic1": models["critic_1"]})
    with pytest.raises(ValueError, match="'policy' model"):
        build(models={k: v for k, v in models.items() if k != "policy"})
    # evaluation-only use: a policy alone, no memory
    agent = build(models={"policy": models["policy"]}, memory_size=0)
    agent.init({"timesteps": 10})
    assert agent.critic_optimizer is None
    agent = build(models={"policy": models["policy"], "critic_1": models["critic_1"]})
    with pytest.raises(ValueError, match="'critic_2'"):
        agent.init({"timesteps": 10})


def test_target_entropy_defaults():
    assert default_target_entropy(gym.spaces.Box(-1, 1, shape=(2, 3))) == -6.0
    assert default_target_entropy(gym.spaces.Discrete(4)) == -4.0
    assert default_target_entropy(gym.spaces.MultiBinary(3)) == 0.0
    assert build().target_entropy == -1.0
    assert build(target_entropy=0.5).target_entropy == 0.5


# ---------------------------------------------------------------------------------------------- targets
def test_targets_are_frozen_hard_copies_at_construction():
    agent = build()
    for target, source in ((agent.target_critic_1, agent.critic_1), (agent.target_critic_2, agent.critic_2)):
        for t, s in zip(target.parameters(), source.parameters()):
            assert torch.equal(t, s) and t.data_ptr() != s.data_ptr()
            assert not t.requires_grad and s.requires_grad


def test_targets_move_by_polyak_after_one_update():
    tau = 0.1
    agent = ready(build(polyak=tau))
    old_targets = [params(agent.target_critic_1), params(agent.target_critic_2)]
    agent.set_mode("train")
    agent._update_step(*batch())
    for model, target, old in ((agent.critic_1, agent.target_critic_1, old_targets[0]),
                               (agent.critic_2, agent.target_critic_2, old_targets[1])):
        for new_t, o, s in zip(target.parameters(), old, model.parameters()):
            expected = (1 - tau) * o + tau * s.detach()
            torch.testing.assert_close(new_t, expected, rtol=0, atol=1e-7)
            assert not torch.equal(new_t, o)  # the critic moved, so the target did too


# ---------------------------------------------------------------------------------------------- temperature
@pytest.mark.parametrize(("target_entropy", "direction"), [(10.0, 1), (-10.0, -1)])
def test_entropy_coefficient_moves_toward_target_entropy(target_entropy, direction):
    agent = ready(build(target_entropy=target_entropy, entropy_learning_rate=1e-2))
    before = float(agent.entropy_coefficient)
    assert before == pytest.approx(0.2)
    for _ in range(3):
        agent._update_step(*batch())
    after = float(agent.entropy_coefficient)
    assert (after - before) * direction > 0  # entropy below target → alpha grows; above → alpha shrinks


def test_fixed_entropy_coefficient():
    agent = ready(build(learn_entropy=False, initial_entropy_value=0.5))
    agent._update_step(*batch())
    assert float(agent.entropy_coefficient) == pytest.approx(0.5)
    assert agent.entropy_optimizer is None
    assert "entropy_optimizer" not in agent.checkpoint_modules
    assert "log_entropy_coefficient" not in agent.checkpoint_modules


def test_entropy_loss_gradient_sign():
    log_alpha = torch.zeros((), requires_grad=True)
    sac_entropy_loss(log_alpha, torch.full((4, 1), 1.0), target_entropy=-2.0).backward()  # entropy -1 > -2
    assert log_alpha.grad > 0  # descent lowers alpha
    log_alpha.grad = None
    sac_entropy_loss(log_alpha, torch.full((4, 1), 3.0), target_entropy=-2.0).backward()  # entropy -3 < -2
    assert log_alpha.grad < 0  # descent raises alpha


# ---------------------------------------------------------------------------------------------- gradients
def test_gradient_isolation_between_policy_and_critics(monkeypatch):
    agent = ready(build())
    groups = {
        "critic": [*agent.critic_1.parameters(), *agent.critic_2.parameters()],
        "policy": list(agent.policy.parameters()),
        "alpha": [agent.log_entropy_coefficient],
        "target": [*agent.target_critic_1.parameters(), *agent.target_critic_2.parameters()],
    }
    names = {id(agent.critic_optimizer): "critic", id(agent.policy_optimizer): "policy", id(agent.entropy_optimizer): "alpha"}
    original = agent._optimizer_step
    moved: list[tuple[str, set[str], set[str]]] = []

    def spy(optimizer, loss, models, parameters):
        for group in groups.values():
            for p in group:
                p.grad = None
        before = {g: [p.detach().clone() for p in ps] for g, ps in groups.items()}
        original(optimizer, loss, models, parameters)
        with_grad = {g for g, ps in groups.items() if any(p.grad is not None and p.grad.abs().sum() > 0 for p in ps)}
        changed = {g for g, ps in groups.items() if any(not torch.equal(p, b) for p, b in zip(ps, before[g]))}
        moved.append((names[id(optimizer)], with_grad, changed))

    monkeypatch.setattr(agent, "_optimizer_step", spy)
    agent._update_step(*batch())
    assert moved == [("critic", {"critic"}, {"critic"}), ("policy", {"policy"}, {"policy"}), ("alpha", {"alpha"}, {"alpha"})]
    assert all(p.requires_grad for p in groups["critic"])  # unfrozen after the policy step


# ---------------------------------------------------------------------------------------------- truncation
def test_truncation_bootstraps_termination_does_not(monkeypatch):
    agent = ready(build(discount_factor=0.9))
    captured = {}

    def spy(rewards, terminated, next_q1, next_q2, next_log_prob, alpha, discount_factor):
        out = sac_critic_target(rewards, terminated, next_q1, next_q2, next_log_prob, alpha, discount_factor)
        captured.update(rewards=rewards, q=torch.min(next_q1, next_q2), logp=next_log_prob, alpha=alpha, out=out)
        return out

    monkeypatch.setattr(sac_module, "sac_critic_target", spy)
    states, actions = torch.randn(2, 3), torch.zeros(2, 1)
    rewards, next_states = torch.tensor([[1.0], [2.0]]), torch.randn(2, 3)
    # row 0: truncated (not terminated) → bootstraps; row 1: terminated → reward only
    memory = RandomMemory(memory_size=2)
    agent.memory = memory
    agent._create_memory_tensors(memory)
    memory.add_samples(states=states, actions=actions, rewards=rewards, next_states=next_states,
                       terminated=torch.tensor([[False], [True]]), truncated=torch.tensor([[True], [False]]))
    agent._update(0, 1)
    order = memory.get_sampling_indexes()
    out, r = captured["out"], captured["rewards"]
    soft_v = captured["q"] - captured["alpha"] * captured["logp"]
    for i, row in enumerate(order.tolist()):
        if row == 0:
            torch.testing.assert_close(out[i], r[i] + 0.9 * soft_v[i])
            assert not torch.allclose(out[i], r[i])
        else:
            torch.testing.assert_close(out[i], r[i])


def test_loss_functions():
    q1, q2 = torch.tensor([[1.0], [3.0]]), torch.tensor([[2.0], [0.0]])
    target = sac_critic_target(torch.ones(2, 1), torch.tensor([[False], [True]]), q1, q2, torch.ones(2, 1), 0.5, 0.9)
    torch.testing.assert_close(target, torch.tensor([[1 + 0.9 * (1 - 0.5)], [1.0]]))
    torch.testing.assert_close(sac_critic_loss(q1, q2, torch.zeros(2, 1)), torch.tensor(0.5 * (5.0 + 2.0)))
    torch.testing.assert_close(sac_policy_loss(torch.ones(2, 1), q1, q2, 0.5), torch.tensor(0.5 - 0.5))


# ---------------------------------------------------------------------------------------------- model
def test_squashed_gaussian_log_prob_matches_torch_distributions():
    space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
    policy = MLPSquashedGaussianPolicy(OBS, space, "cpu", [16], "relu")
    states = torch.randn(5, 3)
    actions, log_prob, outputs = policy.act({"states": states})
    mean, log_std, _ = policy.compute({"states": states})
    dist = TransformedDistribution(
        Normal(mean, log_std.exp()), [TanhTransform(), AffineTransform(policy.action_bias, policy.action_scale)]
    )
    torch.testing.assert_close(log_prob, dist.log_prob(actions).sum(-1, keepdim=True), rtol=1e-4, atol=1e-4)
    assert actions.shape == (5, 2) and log_prob.shape == (5, 1)
    low, high = torch.as_tensor(space.low), torch.as_tensor(space.high)
    assert ((actions >= low) & (actions <= high)).all()
    assert ((outputs["mean_actions"] >= low) & (outputs["mean_actions"] <= high)).all()
    torch.testing.assert_close(outputs["mean_actions"], policy.action_bias + policy.action_scale * torch.tanh(mean))
    # scoring given actions reproduces the sample's log-probability
    scored_actions, scored, _ = policy.act({"states": states, "taken_actions": actions})
    assert torch.equal(scored_actions, actions)
    torch.testing.assert_close(scored, log_prob, rtol=1e-3, atol=1e-3)


# ---------------------------------------------------------------------------------------------- step counting
def test_random_timesteps_and_learning_starts_count_training_steps_only(monkeypatch):
    env = pendulum()
    agent = build(random_timesteps=5, learning_starts=5, batch_size=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    calls = {"random": 0, "update": 0}
    random_act, update_step = agent.policy.random_act, agent._update_step

    def count_random(*a, **k):
        calls["random"] += 1
        return random_act(*a, **k)

    def count_update(*a, **k):
        calls["update"] += 1
        return update_step(*a, **k)

    monkeypatch.setattr(agent.policy, "random_act", count_random)
    monkeypatch.setattr(agent, "_update_step", count_update)
    for _ in range(3):
        trainer.train()
    for _ in range(20):  # evaluation steps: no memory writes, no learning, no random actions, not counted
        trainer.eval()
    assert (agent.training_steps, len(agent.memory), calls) == (3, 3, {"random": 3, "update": 0})
    trainer.train()
    trainer.train()
    assert (agent.training_steps, len(agent.memory), calls) == (5, 5, {"random": 5, "update": 0})
    trainer.train()  # 6th training step: the policy acts and the first update runs
    assert (agent.training_steps, len(agent.memory), calls) == (6, 6, {"random": 5, "update": 1})
    trainer.eval()
    assert (agent.training_steps, len(agent.memory), calls["update"]) == (6, 6, 1)


def test_eval_never_writes_memory_or_learns():
    env = pendulum()
    agent = build()
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 50, **QUIET})
    before = params(agent.policy)
    for _ in range(10):
        trainer.eval()
    assert len(agent.memory) == 0 and agent.training_steps == 0
    assert all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))


# ---------------------------------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip_resumes_identically(tmp_path):
    env = pendulum()
    agent = build(checkpoint_memory=True, target_entropy=5.0, entropy_learning_rate=0.05, batch_size=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(12):
        trainer.train()
    assert float(agent.entropy_coefficient) != pytest.approx(0.2)  # the temperature was learned
    expected_names = {"policy", "critic_1", "critic_2", "target_critic_1", "target_critic_2", "entropy_optimizer",
                      "policy_optimizer", "critic_optimizer", "log_entropy_coefficient", "memory"}
    assert set(agent.checkpoint_modules) == expected_names
    path = str(tmp_path / "agent.pt")
    agent.save(path)

    resumed = build(checkpoint_memory=True, target_entropy=5.0, entropy_learning_rate=0.05, batch_size=4)
    resumed.init({"timesteps": 100})
    resumed.load(path)
    assert resumed.training_steps == agent.training_steps == 12
    assert torch.equal(resumed.log_entropy_coefficient, agent.log_entropy_coefficient)
    assert len(resumed.memory) == len(agent.memory) == 12
    for name in ("states", "actions", "rewards", "next_states", "terminated", "truncated"):
        assert torch.equal(resumed.memory.get_tensor_by_name(name)[:12], agent.memory.get_tensor_by_name(name)[:12])
    for name in ("policy_optimizer", "critic_optimizer", "entropy_optimizer"):
        a, b = agent.checkpoint_modules[name].state_dict(), resumed.checkpoint_modules[name].state_dict()
        assert_state_equal(a, b, name)

    for learner in (agent, resumed):  # the same random numbers → the same updates
        torch.manual_seed(7)
        learner.set_mode("train")
        for _ in range(3):
            learner._update(0, 1)
    for role in ("policy", "critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        assert all(torch.equal(a, b) for a, b in zip(agent.models[role].parameters(), resumed.models[role].parameters()))
    assert torch.equal(agent.log_entropy_coefficient, resumed.log_entropy_coefficient)


# ---------------------------------------------------------------------------------------------- hot path
def test_per_step_path_has_no_host_syncs(request):
    env = pendulum(num_envs=2)
    agent = build(num_envs=2, random_timesteps=2, learning_starts=3, batch_size=4, experiment={"write_interval": 5,
                  "checkpoint_interval": 0, "directory": str(request.getfixturevalue("tmp_path"))})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 1000, **QUIET})
    for _ in range(6):
        trainer.train(timestep=1000)  # timestep 1000: no writes of tracking data during the guarded steps
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(10):  # act, step, record, update (critic, policy, temperature), tracking
        trainer.train(timestep=1000)
    assert agent.tracking_data["Loss / Critic loss"] and agent.tracking_data["Coefficient / Entropy coefficient"]
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in agent.tracking_data["Q-network / Q1 (max)"])
    with pytest.raises(AssertionError, match="host sync"):
        torch.zeros(1).item()


# ---------------------------------------------------------------------------------------------- trainers
def test_manual_and_sequential_trainers_run(tmp_path):
    env = pendulum(num_envs=2)
    agent = build(num_envs=2, learning_starts=4, batch_size=4, experiment={"write_interval": 5, "checkpoint_interval": 10,
                                                                           "directory": str(tmp_path)})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 20, **QUIET})
    for _ in range(20):
        trainer.train()
    actions = trainer.eval()
    assert actions is not None
    assert agent.training_steps == 20
    assert (tmp_path / agent.experiment_dir.split("/")[-1] / "checkpoints").is_dir()

    env = pendulum()
    agent = build(learning_starts=4, batch_size=4, state_preprocessor=None)
    before = params(agent.policy)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 20, **QUIET}).train()
    assert agent.training_steps == 20
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 5, **QUIET}).eval()
    assert agent.training_steps == 20


def test_learning_rate_scheduler_and_state_preprocessor():
    from steprl.resources.preprocessors.torch import RunningStandardScaler

    agent = ready(build(learning_rate_scheduler=torch.optim.lr_scheduler.StepLR,
                        learning_rate_scheduler_kwargs={"step_size": 1, "gamma": 0.5},
                        state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": OBS}))
    agent.set_mode("train")
    agent._update(0, 1)
    assert agent.policy_optimizer.param_groups[0]["lr"] == pytest.approx(5e-4)
    assert agent.critic_optimizer.param_groups[0]["lr"] == pytest.approx(5e-4)
    assert {"policy_scheduler", "critic_scheduler", "state_preprocessor"} <= set(agent.checkpoint_modules)
    assert agent.checkpoint_modules["state_preprocessor"].current_count > 1
    assert math.isfinite(float(agent.entropy_coefficient))


def test_set_mode_switches_every_submodule_and_honours_overrides():
    calls = []

    class CustomCritic(type(build_sac_models(OBS, BOX, "cpu", {"hidden": [4]})["critic_1"])):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    models = build_sac_models(OBS, BOX, "cpu", {"hidden": [8]})
    models["critic_2"] = CustomCritic(OBS, BOX, "cpu", [8], "relu")
    models["policy"].trunk.append(torch.nn.Dropout(0.1))
    agent = build(models=models)
    for mode, flag in (("train", True), ("eval", False), ("train", True)):
        agent.set_mode(mode)
        assert all(m.training is flag for model in agent.models.values() for m in model.modules())
    assert calls == [True, False, True]
    with pytest.raises(ValueError, match="mode"):
        agent.set_mode("test")


def test_policy_only_agent_loads_a_full_checkpoint_for_evaluation(tmp_path):
    trained = ready(build())
    trained._update_step(*batch())
    path = str(tmp_path / "agent.pt")
    trained.save(path)
    models = build_sac_models(OBS, BOX, "cpu", {"hidden": [16, 16]})
    agent = build(models={"policy": models["policy"]}, memory_size=0)
    agent.init({"timesteps": 10})
    agent.load(path)
    assert all(torch.equal(a, b) for a, b in zip(agent.policy.parameters(), trained.policy.parameters()))
    states = torch.randn(4, 3)
    actions, _, outputs = agent.act(states, 0, 10)
    assert actions.shape == (4, 1) and outputs["mean_actions"].shape == (4, 1)
