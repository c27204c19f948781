"""DDPG and the deterministic actor-critic base it shares with TD3 (tests over both agents live here; TD3-only
behaviour is in test_td3.py)."""

from __future__ import annotations

import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.ddpg import AGENTS, QUIET, ConstantNoise, crafted_batch, make_agent, pendulum, same, snapshot

from steprl.agents.torch.ddpg import DDPG_DEFAULT_CONFIG
from steprl.agents.torch.ddpg.losses import critic_loss, deterministic_policy_loss
from steprl.agents.torch.td3 import TD3_DEFAULT_CONFIG
from steprl.resources.noises.torch import GaussianNoise, OrnsteinUhlenbeckNoise
from steprl.trainers.torch import ManualTrainer, SequentialTrainer

API_KEYS = {
    "gradient_steps": 1, "batch_size": 64, "discount_factor": 0.99, "polyak": 0.005, "actor_learning_rate": 1e-3,
    "critic_learning_rate": 1e-3, "learning_rate_scheduler": None, "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None, "state_preprocessor_kwargs": {}, "random_timesteps": 0, "learning_starts": 0,
    "grad_norm_clip": 0, "exploration": {"noise": None, "initial_scale": 1.0, "final_scale": 1e-3, "timesteps": None},
    "rewards_shaper": None, "mixed_precision": False, "checkpoint_memory": False,
    "experiment": {"directory": "", "experiment_name": "", "write_interval": "auto", "checkpoint_interval": "auto",
                   "store_separately": False, "wandb": False, "wandb_kwargs": {}},
}


# ---------------------------------------------------------------------------------------------------- configuration
def test_default_config_matches_api():
    for key, value in API_KEYS.items():
        assert DDPG_DEFAULT_CONFIG[key] == value, key
        assert TD3_DEFAULT_CONFIG[key] == value, key
    assert set(DDPG_DEFAULT_CONFIG) == set(API_KEYS)
    assert set(TD3_DEFAULT_CONFIG) == set(API_KEYS) | {"policy_delay", "smooth_regularization_noise", "smooth_regularization_clip"}
    assert (TD3_DEFAULT_CONFIG["policy_delay"], TD3_DEFAULT_CONFIG["smooth_regularization_noise"],
            TD3_DEFAULT_CONFIG["smooth_regularization_clip"]) == (2, None, 0.5)


@pytest.mark.parametrize("name", AGENTS)
def test_unknown_keys_and_partial_nested_exploration(name):
    with pytest.raises(KeyError, match="Did you mean 'batch_size'"):
        make_agent(name, batch_sise=3)
    with pytest.raises(KeyError, match="Did you mean 'final_scale'"):
        make_agent(name, exploration={"final_scal": 0.1})
    noise = GaussianNoise(0.0, 0.1, device="cpu")
    agent = make_agent(name, exploration={"final_scale": 0.1})
    assert agent.cfg["exploration"] == {"noise": None, "initial_scale": 1.0, "final_scale": 0.1, "timesteps": None}
    agent = make_agent(name, exploration={"noise": noise})  # skrl raises KeyError here (it drops the sibling defaults)
    assert agent.cfg["exploration"]["noise"] is noise and agent.cfg["exploration"]["final_scale"] == 1e-3
    assert AGENTS[name][1]["exploration"]["noise"] is None  # defaults untouched


@pytest.mark.parametrize("name", AGENTS)
def test_config_errors(name):
    with pytest.raises(TypeError, match="sample\\(shape\\)"):
        make_agent(name, exploration={"noise": 0.1})
    with pytest.raises(ValueError, match="timesteps"):
        make_agent(name, exploration={"timesteps": -1})
    with pytest.raises(ValueError, match="polyak"):
        make_agent(name, polyak=1.5)
    with pytest.raises(ValueError, match="batch_size"):
        make_agent(name, batch_size=0)


@pytest.mark.parametrize("name", AGENTS)
def test_model_roles(name):
    env = pendulum()
    models = AGENTS[name][2](env.observation_space, env.action_space, "cpu", {"hidden": [8]}, 1)
    with pytest.raises(KeyError, match="Did you mean 'policy'"):
        make_agent(name, env, models={**models, "polcy": models["policy"]})
    with pytest.raises(ValueError, match="'policy' model"):
        make_agent(name, env, models={k: v for k, v in models.items() if k != "policy"})
    agent = make_agent(name, env, memory_size=0, models={"policy": models["policy"]})  # a policy alone can act
    agent.init({"timesteps": 10})
    assert agent.act(torch.zeros(1, 3), 0, 10)[0].shape == (1, 1)
    learner = make_agent(name, env, models={k: v for k, v in models.items() if k != "target_policy"})
    with pytest.raises(ValueError, match="'target_policy'"):
        learner.init({"timesteps": 10})


@pytest.mark.parametrize("name", AGENTS)
def test_targets_frozen_hard_copied_and_checkpoint_names(name):
    agent = make_agent(name)
    critics = ["critic"] if name == "DDPG" else ["critic_1", "critic_2"]
    roles = ["policy", "target_policy", *critics, *[f"target_{c}" for c in critics]]
    assert sorted(agent.checkpoint_modules) == sorted([*roles, "policy_optimizer", "critic_optimizer"])
    for source in ["policy", *critics]:
        target = agent.models[f"target_{source}"]
        assert same(snapshot(target), snapshot(agent.models[source]))
        assert not any(p.requires_grad for p in target.parameters())
        assert all(p.requires_grad for p in agent.models[source].parameters())


# ---------------------------------------------------------------------------------------------------- learning step
def test_ddpg_updates_policy_and_targets_every_step_by_exactly_polyak():
    agent = make_agent("DDPG", polyak=0.25)
    agent.init({"timesteps": 10})
    for _ in range(2):
        old_targets = {r: snapshot(agent.models[f"target_{r}"]) for r in ("policy", "critic")}
        old_policy = snapshot(agent.policy)
        agent._update_step(*crafted_batch())
        assert not same(old_policy, snapshot(agent.policy))
        for role in ("policy", "critic"):
            expected = [0.75 * t + 0.25 * s for t, s in zip(old_targets[role], snapshot(agent.models[role]))]
            for new, exp in zip(snapshot(agent.models[f"target_{role}"]), expected):
                torch.testing.assert_close(new, exp, rtol=0, atol=1e-6)


def test_ddpg_target_bootstraps_unless_terminated():
    agent = make_agent("DDPG", discount_factor=0.9)
    terminated = torch.tensor([[True], [False], [True], [False], [False], [False], [False], [True]])
    states, actions, rewards, next_states, _ = crafted_batch()
    target = agent._target_values(rewards, next_states, terminated)
    with torch.no_grad():
        next_q = agent.target_critic.act({"states": next_states, "taken_actions": agent.target_policy.act({"states": next_states})[0]})[0]
    torch.testing.assert_close(target, torch.where(terminated, rewards, rewards + 0.9 * next_q))


@pytest.mark.parametrize("name", AGENTS)
@pytest.mark.parametrize("terminal", [False, True])
def test_replay_update_masks_only_termination(name, terminal, monkeypatch):
    """Transitions cut by a time limit (truncated, not terminated) bootstrap: only ``terminated`` reaches the target."""
    agent = make_agent(name, memory_size=16)
    agent.init({"timesteps": 10})
    for _ in range(8):
        agent.memory.add_samples(states=torch.randn(1, 3), actions=torch.zeros(1, 1), rewards=torch.ones(1, 1),
                                 next_states=torch.randn(1, 3), terminated=torch.tensor([[terminal]]),
                                 truncated=torch.tensor([[not terminal]]))
    seen = []
    original = agent._target_values
    monkeypatch.setattr(agent, "_target_values", lambda r, s, t: seen.append(t.clone()) or original(r, s, t))
    agent._update(0, 10)
    assert seen[0].shape == (8, 1) and seen[0].dtype == torch.bool
    assert bool(seen[0].all()) if terminal else not bool(seen[0].any())


def test_pure_losses():
    q = torch.tensor([[1.0], [3.0]])
    assert deterministic_policy_loss(q).item() == -2.0
    target = torch.tensor([[1.0], [1.0]])
    assert critic_loss([q], target).item() == pytest.approx(2.0)
    assert critic_loss([q, target], target).item() == pytest.approx(1.0)  # mean over the critics
    with pytest.raises(ValueError):
        critic_loss([], target)


@pytest.mark.parametrize("name", AGENTS)
def test_gradient_isolation_between_actor_and_critic(name):
    agent = make_agent(name)
    states, actions, rewards, next_states, terminated = crafted_batch()
    critic_params = [p for c in agent.critics for p in c.parameters()]
    target = agent._target_values(rewards, next_states, terminated)
    assert not target.requires_grad
    loss, _ = agent._critic_loss(states, actions, target)
    loss.backward()
    assert all(p.grad is None for p in agent.policy.parameters())
    assert all(p.grad is not None for p in critic_params)
    for p in critic_params:
        p.grad = None
    agent._policy_loss(states).backward()
    assert all(p.grad is None for p in critic_params)
    assert all(p.requires_grad for p in critic_params)  # unfrozen again
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in agent.policy.parameters())
    targets = [agent.target_policy, *agent.target_critics]
    assert all(p.grad is None for t in targets for p in t.parameters())


# ---------------------------------------------------------------------------------------------------- exploration
@pytest.mark.parametrize("name", AGENTS)
def test_exploration_scale_schedule_counts_training_steps(name):
    agent = make_agent(name, exploration={"noise": ConstantNoise(0.1), "initial_scale": 1.0, "final_scale": 0.2, "timesteps": 100})
    agent.init({"timesteps": 1000})
    states = torch.zeros(1, 3)
    for steps, scale in ((0, 1.0), (25, 0.8), (50, 0.6), (100, 0.2), (500, 0.2)):
        agent.training_steps = steps
        assert agent.exploration_scale() == pytest.approx(scale)
        actions, _, outputs = agent.act(states, timestep=10**6, timesteps=10)  # the caller's timestep is ignored
        torch.testing.assert_close(actions - outputs["mean_actions"], torch.full((1, 1), 0.1 * scale))
    agent = make_agent(name, exploration={"initial_scale": 1.0, "final_scale": 0.0})
    agent.init({"timesteps": 200})  # timesteps None -> the trainer's
    agent.training_steps = 50
    assert agent.exploration_scale() == pytest.approx(0.75)
    agent = make_agent(name, exploration={"initial_scale": 1.0, "final_scale": 0.3, "timesteps": 0})
    agent.init({"timesteps": 200})  # an empty window: final scale from the start
    assert agent.exploration_scale(timesteps=10) == pytest.approx(0.3)
    agent = make_agent(name, exploration={"final_scale": 0.3})
    agent.init({})  # no window at all: final scale
    assert agent.exploration_scale() == pytest.approx(0.3)
    assert agent.exploration_scale(timesteps=10) == pytest.approx(1.0)  # falls back on act's timesteps


@pytest.mark.parametrize("name", AGENTS)
def test_exploration_actions_are_clamped_to_the_bounds(name):
    agent = make_agent(name, exploration={"noise": ConstantNoise(100.0), "final_scale": 1.0})
    agent.init({"timesteps": 10})
    actions, _, outputs = agent.act(torch.randn(4, 3), 0, 10)
    assert torch.equal(actions, torch.full((4, 1), 2.0))
    assert (outputs["mean_actions"].abs() < 2).all()


@pytest.mark.parametrize("name", AGENTS)
def test_eval_adds_no_noise_and_never_writes_memory_or_learns(name):
    env = pendulum(2)
    agent = make_agent(name, env, exploration={"noise": GaussianNoise(0.0, 1.0, device="cpu")})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    params = snapshot(agent.policy)
    states = torch.randn(2, 3)
    agent.set_running_mode("eval")
    actions, _, outputs = agent.act(states, 0, 100)
    torch.testing.assert_close(actions, agent.policy.act({"states": states})[0])
    for _ in range(10):
        trainer.eval()
    assert len(agent.memory) == 0 and agent.training_steps == 0 and same(params, snapshot(agent.policy))
    agent.set_running_mode("train")
    actions, _, outputs = agent.act(states, 0, 100)
    assert not torch.equal(actions, outputs["mean_actions"])
    for _ in range(3):
        trainer.train()
    assert len(agent.memory) == 6 and agent.training_steps == 3 and not same(params, snapshot(agent.policy))


@pytest.mark.parametrize("name", AGENTS)
def test_no_exploration_noise_warns_when_learning(name, monkeypatch):
    from steprl import logger

    messages: list[str] = []
    monkeypatch.setattr(logger, "warning", lambda msg, *a, **k: messages.append(msg))
    make_agent(name, memory_size=0)  # evaluation-only use: no warning
    assert not messages
    make_agent(name)
    assert [m for m in messages if "exploration" in m] == [f"{name}: cfg['exploration']['noise'] is None: training actions carry no exploration noise"]
    if name == "TD3":
        assert any("smooth_regularization_noise" in m for m in messages)


def test_ornstein_uhlenbeck_state_is_reset_for_finished_episodes():
    env = pendulum(2)
    noise = OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.2, base_scale=1.0, device="cpu")
    agent = make_agent("DDPG", env, exploration={"noise": noise})
    agent.init({"timesteps": 10})
    agent.act(torch.zeros(2, 3), 0, 10)
    assert (noise.state != 0).all()
    kwargs = dict(states=torch.zeros(2, 3), actions=torch.zeros(2, 1), rewards=torch.zeros(2, 1), next_states=torch.zeros(2, 3),
                  infos={}, timestep=0, timesteps=10)
    agent.record_transition(terminated=torch.tensor([[False], [False]]), truncated=torch.tensor([[True], [False]]), **kwargs)
    assert (noise.state[0] == 0).all() and (noise.state[1] != 0).all()


# ---------------------------------------------------------------------------------------------------- plumbing
@pytest.mark.parametrize("name", AGENTS)
def test_tracking_tags_are_zero_dim_tensors(name):
    agent = make_agent(name, exploration={"noise": GaussianNoise(0.0, 0.1, device="cpu")},
                       experiment={"write_interval": 1000, "checkpoint_interval": 0})
    agent.init({"timesteps": 10})
    agent.act(torch.zeros(1, 3), 0, 10)
    for _ in range(2):
        agent._update_step(*crafted_batch())
    tags = {"Exploration / Exploration noise (max)", "Exploration / Exploration noise (min)", "Exploration / Exploration noise (mean)",
            "Loss / Critic loss", "Loss / Policy loss", "Q-network / Q1 (max)", "Q-network / Q1 (min)", "Q-network / Q1 (mean)",
            "Target / Target (max)", "Target / Target (min)", "Target / Target (mean)"}
    if name == "TD3":
        tags |= {"Q-network / Q2 (max)", "Q-network / Q2 (min)", "Q-network / Q2 (mean)"}
    assert tags <= set(agent.tracking_data)
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for tag in tags for v in agent.tracking_data[tag])
    assert len(agent.tracking_data["Loss / Critic loss"]) == 2
    assert len(agent.tracking_data["Loss / Policy loss"]) == (2 if name == "DDPG" else 1)
    quiet = make_agent(name, exploration={"noise": GaussianNoise(0.0, 0.1, device="cpu")})  # write_interval 0
    quiet.init({"timesteps": 10})
    quiet.act(torch.zeros(1, 3), 0, 10)
    quiet._update_step(*crafted_batch())
    assert not quiet.tracking_data  # nothing accumulates when nothing is ever written


@pytest.mark.parametrize("name", AGENTS)
def test_learning_rate_scheduler_steps_both_optimizers(name):
    agent = make_agent(name, learning_rate_scheduler=torch.optim.lr_scheduler.StepLR,
                       learning_rate_scheduler_kwargs={"step_size": 1, "gamma": 0.5})
    agent.init({"timesteps": 10})
    for _ in range(3):
        agent._update_step(*crafted_batch())
    # every update steps both schedulers; the policy's from its optimizer's first step on (TD3: the 2nd update)
    assert agent.policy_optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5 ** (3 if name == "DDPG" else 2))
    assert agent.critic_optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5**3)
    assert {"policy_scheduler", "critic_scheduler"} <= set(agent.checkpoint_modules)


@pytest.mark.parametrize("name", AGENTS)
def test_checkpoint_round_trip(name, tmp_path):
    env = pendulum()
    agent = make_agent(name, env, exploration={"noise": GaussianNoise(0.0, 0.1, device="cpu")}, learning_starts=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    for _ in range(11):
        trainer.train()
    path = str(tmp_path / "agent.pt")
    agent.save(path)
    other = make_agent(name, env)
    other.load(path)
    assert other.training_steps == 11 and other.critic_updates == agent.critic_updates == 7
    for name, module in agent.checkpoint_modules.items():
        assert_state_equal(module.state_dict(), other.checkpoint_modules[name].state_dict(), name)


@pytest.mark.parametrize("name", AGENTS)
def test_per_step_path_and_updates_have_no_host_syncs(name, request):
    env = pendulum(2)
    agent = make_agent(name, env, exploration={"noise": GaussianNoise(0.0, 0.1, device="cpu")}, learning_starts=2,
                       random_timesteps=2, experiment={"write_interval": 1000, "checkpoint_interval": 0})
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, **QUIET})
    trainer.train()
    request.getfixturevalue("no_host_syncs")  # from here on, any host sync raises
    for _ in range(8):  # random steps, then act + record + one update per step
        trainer.train()
    assert agent.critic_updates == 7


@pytest.mark.parametrize("name", AGENTS)
def test_manual_and_sequential_trainers(name):
    env = pendulum(2)
    agent = make_agent(name, env, exploration={"noise": GaussianNoise(0.0, 0.1, device="cpu")}, learning_starts=5)
    params = snapshot(agent.policy)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 20, **QUIET})
    for t in range(12):
        trainer.train(timestep=t)
        if t == 5:
            trainer.eval(timestep=t)
    assert agent.training_steps == 12 and agent.critic_updates == 7 and not same(params, snapshot(agent.policy))

    env = pendulum(2)
    agent = make_agent(name, env, exploration={"noise": GaussianNoise(0.0, 0.1, device="cpu")}, learning_starts=5)
    params = snapshot(agent.policy)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 12, **QUIET}).train()
    assert agent.training_steps == 12 and agent.critic_updates == 7 and not same(params, snapshot(agent.policy))
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 5, **QUIET}).eval()
    assert agent.training_steps == 12 and len(agent.memory) == 24
