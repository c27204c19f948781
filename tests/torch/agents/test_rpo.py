"""RPO: configuration, alpha reaches the policy in training (act and updates) but not in evaluation, the builder's
perturbed policy, stored log-probs, truncation bootstrapping, checkpoints, hot-path syncs, trainers."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch
from helpers.envs import ConstantEnv
from helpers.models import CategoricalPolicy, GaussianPolicy, Value

from steprl.agents.torch.ppo import PPO_DEFAULT_CONFIG
from steprl.agents.torch.rpo import RPO, RPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.onpolicy import MLPRPOGaussianPolicy, build_rpo_models
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


class SpyPolicy(GaussianPolicy):
    """Records the ``alpha`` input of every call (None when absent) and whether actions were given."""

    def __init__(self, observation_space, action_space, device=None):
        super().__init__(observation_space, action_space, device)
        self.calls: list[tuple[float | None, bool]] = []

    def compute(self, inputs, role=""):
        self.calls.append((inputs.get("alpha"), "taken_actions" in inputs))
        return super().compute(inputs, role)


def pendulum(num_envs=2):
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync"), verbose=False)


def build(env, rollouts=8, policy=None, **cfg_updates):
    cfg = RPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=rollouts, experiment=dict(NO_LOGS))
    cfg.update(cfg_updates)
    if policy is None:
        policy = (GaussianPolicy if isinstance(env.action_space, gym.spaces.Box) else CategoricalPolicy)(
            env.observation_space, env.action_space
        )
    models = {"policy": policy, "value": Value(env.observation_space)}
    memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs)
    return RPO(models=models, memory=memory, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space)


def test_default_config_matches_api():
    assert RPO_DEFAULT_CONFIG["alpha"] == 0.5
    assert set(RPO_DEFAULT_CONFIG) == {*PPO_DEFAULT_CONFIG, "alpha"}
    for key, value in PPO_DEFAULT_CONFIG.items():
        assert RPO_DEFAULT_CONFIG[key] == value, key


def test_config_errors_and_nested_merge():
    env = pendulum()
    with pytest.raises(KeyError, match="Did you mean 'alpha'"):
        build(env, alpah=0.1)
    with pytest.raises(ValueError, match="alpha"):
        build(env, alpha=-1.0)
    agent = build(env, experiment={"write_interval": 0})
    assert agent.cfg["experiment"]["checkpoint_interval"] == "auto"


def test_alpha_in_training_act_and_updates_not_in_evaluation():
    env = pendulum()
    policy = SpyPolicy(env.observation_space, env.action_space)
    agent = build(env, rollouts=4, policy=policy, alpha=0.3, learning_epochs=2, mini_batches=2)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(3):
        trainer.eval()
    assert policy.calls and all(alpha is None for alpha, _ in policy.calls)
    policy.calls.clear()
    for _ in range(4):  # the 4th step updates
        trainer.train()
    acting = [alpha for alpha, taken in policy.calls if not taken]
    learning = [alpha for alpha, taken in policy.calls if taken]
    assert acting == [0.3] * 4
    assert len(learning) == 1 + 2 * 2  # the batched rollout pass (values/log-probs), then 2 epochs × 2 minibatches
    assert all(alpha == 0.3 for alpha in learning[1:])
    policy.calls.clear()
    trainer.eval()
    assert [alpha for alpha, _ in policy.calls] == [None]


def test_stored_log_prob_is_the_acting_one():
    env = pendulum()
    agent = build(env, rollouts=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    seen = []
    original = agent.act

    def act(states, timestep, timesteps):
        result = original(states, timestep, timesteps)
        seen.append(result[1].detach().clone())
        return result

    agent.act = act
    for _ in range(3):
        trainer.train()
    stored = agent.memory.get_tensor_by_name("log_prob")[:3]
    assert torch.allclose(stored, torch.stack(seen))


def test_random_timesteps_store_finite_log_probs():
    env = pendulum()
    agent = build(env, rollouts=4, random_timesteps=8)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(3):
        trainer.train()
    assert torch.isfinite(agent.memory.get_tensor_by_name("log_prob")[:3]).all()


def test_builder_policy_perturbs_only_with_alpha():
    env = pendulum()
    models = build_rpo_models(env.observation_space, env.action_space, "cpu", {"hidden": [8]}, 2)
    policy = models["policy"]
    assert isinstance(policy, MLPRPOGaussianPolicy)
    states = torch.randn(256, 3)
    plain = policy.act({"states": states}, role="policy")[2]["mean_actions"]
    assert torch.equal(plain, policy.net(states))
    perturbed = policy.act({"states": states, "alpha": 0.5}, role="policy")[2]["mean_actions"]
    delta = perturbed - plain
    assert delta.abs().max() <= 0.5 and delta.abs().max() > 0.3 and delta.std() > 0.1
    with pytest.raises(TypeError, match="Box"):
        build_rpo_models(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2), "cpu", {}, 1)


def test_evaluation_uses_the_unperturbed_mean():
    env = pendulum(num_envs=1)
    models = build_rpo_models(env.observation_space, env.action_space, "cpu", {"hidden": [8]}, 1)
    cfg = RPO_DEFAULT_CONFIG.copy()
    cfg.update(rollouts=4, experiment=dict(NO_LOGS))
    agent = RPO(models=models, memory=RandomMemory(4, 1), cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space)
    agent.init({"timesteps": 10})
    agent.set_running_mode("eval")
    states = torch.randn(4, 3)
    outputs = agent.act(states, 0, 10)[2]
    assert torch.equal(outputs["mean_actions"], models["policy"].net(states))


def _fit_value(terminate_instead: bool) -> float:
    torch.manual_seed(0)
    env = wrap_env(gym.vector.SyncVectorEnv([lambda: ConstantEnv(terminate_instead, limit=5)] * 4), verbose=False)
    agent = build(env, rollouts=10, discount_factor=0.9, learning_rate=1e-2, learning_epochs=10, mini_batches=1, grad_norm_clip=0)
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
    env = pendulum()
    agent = build(env, rollouts=4)
    assert set(agent.checkpoint_modules) == {"policy", "value", "optimizer", "memory"}
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(8):
        trainer.train()
    agent.save(str(tmp_path / "rpo.pt"))
    fresh = build(env, rollouts=4)
    fresh.init({"timesteps": 10})
    fresh.load(str(tmp_path / "rpo.pt"))
    for name in ("policy", "value"):
        for a, b in zip(agent.checkpoint_modules[name].parameters(), fresh.checkpoint_modules[name].parameters()):
            assert torch.equal(a, b)


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


def test_manual_and_sequential_trainers():
    env = pendulum()
    agent = build(env, rollouts=8)
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
