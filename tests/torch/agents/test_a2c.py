"""A2C: configuration, the loss on a hand-computed batch, gradient isolation, truncation bootstrapping, schedulers,
checkpoints, hot-path syncs, trainers."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.envs import ConstantEnv, counting_vec
from helpers.models import CategoricalPolicy, GaussianPolicy, Value

from steprl.agents.torch.a2c import A2C, A2C_DEFAULT_CONFIG
from steprl.agents.torch.a2c.losses import a2c_loss
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}

API_KEYS = {
    "rollouts": 16, "mini_batches": 1, "discount_factor": 0.99, "lambda": 0.95, "learning_rate": 1e-3,
    "learning_rate_scheduler": None, "learning_rate_scheduler_kwargs": {}, "state_preprocessor": None,
    "state_preprocessor_kwargs": {}, "value_preprocessor": None, "value_preprocessor_kwargs": {},
    "random_timesteps": 0, "learning_starts": 0, "grad_norm_clip": 0.5, "entropy_loss_scale": 0.0,
    "rewards_shaper": None, "time_limit_bootstrap": False, "mixed_precision": False,
}


def build(env, rollouts=8, **cfg_updates):
    cfg = A2C_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=rollouts, experiment=dict(NO_LOGS))
    cfg.update(cfg_updates)
    models = {"policy": CategoricalPolicy(env.observation_space, env.action_space), "value": Value(env.observation_space)}
    memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs)
    return A2C(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space)


def test_default_config_matches_api():
    assert set(A2C_DEFAULT_CONFIG) == {*API_KEYS, "experiment"}
    for key, value in API_KEYS.items():
        assert A2C_DEFAULT_CONFIG[key] == value, key
    assert A2C_DEFAULT_CONFIG["experiment"]["write_interval"] == "auto"


def test_unknown_key_and_partial_nested_dict():
    env = wrap_env(counting_vec(2), verbose=False)
    with pytest.raises(KeyError, match="Did you mean 'mini_batches'"):
        build(env, mini_batch=3)
    with pytest.raises(KeyError, match="learning_epochs"):  # a PPO key A2C does not have
        build(env, learning_epochs=3)
    agent = build(env, experiment={"write_interval": 0})
    assert agent.cfg["experiment"]["checkpoint_interval"] == "auto"
    assert A2C_DEFAULT_CONFIG["experiment"]["write_interval"] == "auto"
    with pytest.raises(ValueError, match="mini_batches"):
        build(env, mini_batches=0)


def test_loss_on_a_hand_computed_batch():
    log_prob = torch.tensor([[-1.0], [-0.5], [-2.0]])
    advantages = torch.tensor([[1.0], [-2.0], [0.5]])
    predicted = torch.tensor([[0.0], [1.0], [2.0]])
    returns = torch.tensor([[1.0], [1.0], [0.0]])
    entropy = torch.tensor([1.0, 2.0, 3.0])
    total, parts = a2c_loss(log_prob, advantages, predicted, returns, entropy, entropy_loss_scale=0.1)
    # policy: -mean(1·-1, -2·-0.5, 0.5·-2) = -mean(-1, 1, -1) = 1/3
    assert parts["policy_loss"].item() == pytest.approx(1.0 / 3.0)
    # value: mean(1, 0, 4) = 5/3
    assert parts["value_loss"].item() == pytest.approx(5.0 / 3.0)
    # entropy: -0.1 · mean(1, 2, 3) = -0.2
    assert parts["entropy_loss"].item() == pytest.approx(-0.2)
    assert total.item() == pytest.approx(1.0 / 3.0 + 5.0 / 3.0 - 0.2)
    _, parts = a2c_loss(log_prob, advantages, predicted, returns, entropy, entropy_loss_scale=0.0)
    assert parts["entropy_loss"].item() == 0.0


def test_gradient_isolation_between_actor_and_critic():
    env = wrap_env(gym.make("Pendulum-v1"), verbose=False)
    policy, value = GaussianPolicy(env.observation_space, env.action_space), Value(env.observation_space)
    states, actions = torch.randn(16, 3), torch.randn(16, 1)
    _, log_prob, _ = policy.act({"states": states, "taken_actions": actions}, role="policy")
    predicted = value.act({"states": states}, role="value")[0]
    _, parts = a2c_loss(log_prob, torch.randn(16, 1), predicted, torch.randn(16, 1), policy.get_entropy(role="policy"), 0.01)
    parts["value_loss"].backward(retain_graph=True)
    assert all(p.grad is None for p in policy.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in value.parameters())
    value.zero_grad(set_to_none=True)
    (parts["policy_loss"] + parts["entropy_loss"]).backward()
    assert all(p.grad is None for p in value.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.parameters())


def test_one_pass_per_update():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4, mini_batches=2)
    steps = []
    original = agent._optimizer_step
    agent._optimizer_step = lambda *a, **k: (steps.append(1), original(*a, **k))
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(8):
        trainer.train()
    assert len(steps) == 4  # 2 updates × 2 minibatches


def _fit_value(terminate_instead: bool) -> float:
    torch.manual_seed(0)
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: ConstantEnv(terminate_instead, limit=5)] * 4), verbose=False)
    agent = build(env, rollouts=10, discount_factor=0.9, learning_rate=1e-2, mini_batches=4, grad_norm_clip=0)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 1500, **QUIET})
    for t in range(1500):
        trainer.train(timestep=t)
    with torch.no_grad():
        return agent.value.act({"states": torch.zeros(1, 1)}, role="value")[0].item()


@pytest.mark.slow
def test_truncation_bootstraps_from_final_observation():
    """A never-ending task cut by a time limit: V(s) -> 1/(1-γ) = 10 only when truncation bootstraps."""
    assert _fit_value(terminate_instead=False) == pytest.approx(10.0, rel=0.1)
    assert _fit_value(terminate_instead=True) == pytest.approx(2.63, abs=0.4)


def test_kl_adaptive_scheduler_gets_the_kl():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4, learning_rate_scheduler=KLAdaptiveLR, learning_rate_scheduler_kwargs={"kl_threshold": 1e-9})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(4):
        trainer.train()
    assert agent.optimizer.param_groups[0]["lr"] < 1e-3  # KL far above the threshold: the rate went down
    assert "scheduler" in agent.checkpoint_modules


def test_checkpoint_round_trip(tmp_path: Path):
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4)
    assert set(agent.checkpoint_modules) == {"policy", "value", "optimizer", "memory"}
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(8):
        trainer.train()
    agent.save(str(tmp_path / "a2c.pt"))
    fresh = build(env, rollouts=4)
    fresh.init({"timesteps": 10})
    fresh.load(str(tmp_path / "a2c.pt"))
    for name in ("policy", "value", "optimizer"):
        assert_state_equal(agent.checkpoint_modules[name].state_dict(), fresh.checkpoint_modules[name].state_dict(), name)
    assert fresh.timestep == agent.timestep and fresh.training_steps == agent.training_steps


def test_eval_never_writes_memory_or_learns():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    before = [p.clone() for p in agent.policy.parameters()]
    for _ in range(12):
        trainer.eval()
    assert len(agent.memory) == 0
    assert all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))


def test_per_step_path_has_no_host_syncs(request):
    env = wrap_env(counting_vec(4), verbose=False)
    agent = build(env, rollouts=64)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")
    for _ in range(30):
        trainer.train()
    with pytest.raises(AssertionError, match="host sync"):
        torch.zeros(1).item()


def test_manual_and_sequential_trainers():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    agent = build(env, rollouts=8, mini_batches=2)
    before = [p.clone() for p in agent.policy.parameters()]
    manual = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 16, **QUIET})
    for t in range(16):
        manual.train(timestep=t)
    for t in range(4):
        manual.eval(timestep=t)
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))
    agent = build(env, rollouts=8)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 24, **QUIET}).train()
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 8, **QUIET}).eval()
    assert torch.isfinite(agent.memory.get_tensor_by_name("advantages")).all()
