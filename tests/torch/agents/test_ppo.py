"""PPO: configuration, roles, memory discipline, gradient isolation, truncation bootstrapping, hot-path syncs."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from helpers.envs import ConstantEnv, counting_vec
from helpers.models import CategoricalPolicy, GaussianPolicy, Value
from helpers.ppo import API_KEYS, NO_LOGS, QUIET, build

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.agents.torch.ppo.losses import ppo_loss
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer


def test_default_config_matches_api():
    for key, value in API_KEYS.items():
        assert PPO_DEFAULT_CONFIG[key] == value, key
    assert PPO_DEFAULT_CONFIG["experiment"] == {
        "directory": "", "experiment_name": "", "write_interval": "auto", "checkpoint_interval": "auto",
        "store_separately": False, "wandb": False, "wandb_kwargs": {},
    }


def test_unknown_key_and_partial_nested_dict():
    env = wrap_env(counting_vec(2), verbose=False)
    with pytest.raises(KeyError, match="Did you mean 'learning_epochs'"):
        build(env, learning_epoch=3)
    with pytest.raises(KeyError, match="Did you mean 'write_interval'"):
        build(env, experiment={"write_intervall": 3})
    agent = build(env, experiment={"write_interval": 0})
    assert agent.cfg["experiment"]["checkpoint_interval"] == "auto"  # siblings kept
    assert PPO_DEFAULT_CONFIG["experiment"]["write_interval"] == "auto"  # defaults untouched


def test_model_roles_are_checked():
    env = wrap_env(counting_vec(2), verbose=False)
    with pytest.raises(ValueError, match="'policy' model"):
        PPO(models={"value": Value(env.observation_space)}, observation_space=env.observation_space, action_space=env.action_space)
    with pytest.raises(KeyError, match="Did you mean 'policy'"):
        PPO(models={"polcy": Value(env.observation_space)}, observation_space=env.observation_space, action_space=env.action_space)
    agent = PPO(models={"policy": CategoricalPolicy(env.observation_space, env.action_space)},
                memory=RandomMemory(16, 2), observation_space=env.observation_space, action_space=env.action_space)
    with pytest.raises(ValueError, match="'value' model"):
        agent.init({"timesteps": 10})


def test_memory_size_must_match_rollouts():
    env = wrap_env(counting_vec(2), verbose=False)
    cfg = {"rollouts": 8, "experiment": NO_LOGS}
    models = {"policy": CategoricalPolicy(env.observation_space, env.action_space), "value": Value(env.observation_space)}
    agent = PPO(models=models, memory=RandomMemory(memory_size=16, num_envs=2), cfg=cfg,
                observation_space=env.observation_space, action_space=env.action_space)
    with pytest.raises(ValueError, match="memory_size \\(16\\) must equal cfg\\['rollouts'\\] \\(8\\)"):
        agent.init({"timesteps": 10})


def test_eval_never_writes_memory_or_learns():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    before = [p.clone() for p in agent.policy.parameters()]
    for _ in range(12):
        trainer.eval()
    assert len(agent.memory) == 0
    assert all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))
    for _ in range(4):
        trainer.train()
    assert not all(torch.equal(a, b) for a, b in zip(before, agent.policy.parameters()))


def test_gradient_isolation_between_actor_and_critic():
    env = wrap_env(gym.make("Pendulum-v1"), verbose=False)
    policy, value = GaussianPolicy(env.observation_space, env.action_space), Value(env.observation_space)
    states = torch.randn(16, 3)
    actions = torch.randn(16, 1)
    _, log_prob, _ = policy.act({"states": states, "taken_actions": actions}, role="policy")
    predicted = value.act({"states": states}, role="value")[0]
    _, parts = ppo_loss(log_prob, log_prob.detach() + 0.1, torch.randn(16, 1), predicted, predicted.detach(),
                        torch.randn(16, 1), policy.get_entropy(role="policy"), entropy_loss_scale=0.01)
    parts["value_loss"].backward(retain_graph=True)
    assert all(p.grad is None for p in policy.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in value.parameters())
    value.zero_grad(set_to_none=True)
    (parts["policy_loss"] + parts["entropy_loss"]).backward()
    assert all(p.grad is None for p in value.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.parameters())


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
    """A never-ending task cut by a time limit: V(s) -> 1/(1-γ) = 10 only when truncation bootstraps."""
    truncated_value = _fit_value(terminate_instead=False)
    assert truncated_value == pytest.approx(10.0, rel=0.1)
    # same data reported as terminations: the value is the mean return-to-go of a 5-step episode (about 2.6)
    terminated_value = _fit_value(terminate_instead=True)
    assert terminated_value == pytest.approx(2.63, abs=0.4)


def test_interrupted_rollout_marks_last_step_truncated():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=8)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    trainer.train()
    trainer.eval()
    truncated = agent.memory.get_tensor_by_name("truncated")
    assert truncated[1].all() and not truncated[0].any()


def test_per_step_path_has_no_host_syncs(request):
    env = wrap_env(counting_vec(4), verbose=False)
    agent = build(env, rollouts=64)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(30):  # no update happens (rollouts=64), only act/step/record
        trainer.train()
    with pytest.raises(AssertionError, match="host sync"):
        torch.zeros(1).item()  # the guard was active


def test_random_timesteps_store_log_probs_of_the_policy():
    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4, random_timesteps=8)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(4):
        trainer.train()
    log_prob = agent.memory.get_tensor_by_name("log_prob")
    assert torch.isfinite(log_prob).all()


def test_state_and_value_preprocessors_run():
    from steprl.resources.preprocessors.torch import RunningStandardScaler

    env = wrap_env(counting_vec(2), verbose=False)
    agent = build(env, rollouts=4, state_preprocessor=RunningStandardScaler,
                  state_preprocessor_kwargs={"size": env.observation_space},
                  value_preprocessor=RunningStandardScaler, value_preprocessor_kwargs={"size": 1})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(8):
        trainer.train()
    assert agent.checkpoint_modules["state_preprocessor"].current_count > 1
    assert "value_preprocessor" in agent.checkpoint_modules


def test_memory_num_envs_must_match_the_agents_scope():
    env = wrap_env(counting_vec(4), verbose=False)
    agents = [build(env, rollouts=4), build(env, rollouts=4)]  # memories sized for 4 envs, scopes give 2 each
    trainer = ManualTrainer(env=env, agents=agents, cfg=QUIET)
    trainer.eval()  # evaluation never touches the memories
    with pytest.raises(ValueError, match="num_envs=4 but agent 0 steps 2"):
        trainer.train()


def test_simultaneous_ppo_agents_learn_on_their_own_envs():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync"), verbose=False)

    def agent_for(num_envs):
        models = {"policy": CategoricalPolicy(env.observation_space, env.action_space), "value": Value(env.observation_space)}
        cfg = PPO_DEFAULT_CONFIG.copy()
        cfg.update(rollouts=8, experiment=dict(NO_LOGS))
        return PPO(models=models, memory=RandomMemory(8, num_envs), cfg=cfg,
                   observation_space=env.observation_space, action_space=env.action_space)

    a, b = agent_for(1), agent_for(3)
    before = [p.clone() for p in a.policy.parameters()] + [p.clone() for p in b.policy.parameters()]
    trainer = ManualTrainer(env=env, agents=[a, b], agents_scope=[1, 3], cfg={"timesteps": 16, **QUIET})
    for t in range(16):
        trainer.train(timestep=t)
    after = list(a.policy.parameters()) + list(b.policy.parameters())
    assert all(not torch.equal(x, y) for x, y in zip(before, after))
    assert a.memory.get_tensor_by_name("states").shape[1] == 1 and b.memory.get_tensor_by_name("states").shape[1] == 3
    assert torch.isfinite(b.memory.get_tensor_by_name("advantages")).all()
