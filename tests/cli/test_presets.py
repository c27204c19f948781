"""Tests for the presets of the ``steprl`` command and their loader."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import gymnasium
import pytest
import torch
from helpers.presets import learning_steps, parameters, small_budget

from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.cli.presets import (
    DEFAULT_EVAL_EPISODES,
    Preset,
    PresetError,
    available_agents,
    available_envs,
    load_preset,
    parse_preset,
    resolve_agent_cfg,
)
from steprl.memories.torch import RandomMemory
from steprl.models.torch.networks.mlp import MLPCategoricalPolicy, MLPGaussianPolicy, build_ppo_models
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.resources.schedulers.torch import KLAdaptiveLR

TUNED_ENVS = ["Acrobot-v1", "CartPole-v1", "Pendulum-v1"]


def minimal_table(**agent: Any) -> dict[str, Any]:
    """A valid ``[ppo]`` table with the given agent keys."""
    return {
        "ppo": {
            "timesteps": 1000,
            "num_envs": 2,
            "eval_every": 100,
            "network": {"hidden": [8], "activation": "tanh"},
            "agent": agent,
        }
    }


def build_agent(preset: Preset) -> PPO:
    """A PPO constructed (and initialised) from ``preset`` on its environment's spaces."""
    env = gymnasium.make(preset.env_id)
    try:
        observation_space, action_space = env.observation_space, env.action_space
    finally:
        env.close()
    cfg = resolve_agent_cfg(preset, observation_space)
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}
    models = build_ppo_models(observation_space, action_space, "cpu", preset.network)
    memory = RandomMemory(
        memory_size=int(cfg.get("rollouts", PPO_DEFAULT_CONFIG["rollouts"])), num_envs=preset.num_envs, device="cpu"
    )
    agent = PPO(
        models=models,
        memory=memory,
        cfg=cfg,
        observation_space=observation_space,
        action_space=action_space,
        device="cpu",
    )
    agent.init(trainer_cfg={"timesteps": preset.timesteps // preset.num_envs})
    return agent


def test_preset_files_are_package_data() -> None:
    names = sorted(p.name for p in (resources.files("steprl.cli") / "presets").iterdir() if p.name.endswith(".toml"))
    assert {f"{env}.toml" for env in TUNED_ENVS} | {"default.toml"} <= set(names)
    assert set(TUNED_ENVS) <= set(available_envs()) and "default" not in available_envs()


# Gymnasium presets (the multi-agent ones are tested in tests/multi_agent/agents/test_command.py)
PRESET_TABLES = [(env, agent) for env in available_envs() if ":" not in env for agent in available_agents(env)]


@pytest.mark.parametrize(("env_id", "agent"), PRESET_TABLES, ids=[f"{e}-{a}" for e, a in PRESET_TABLES])
def test_every_preset_table_builds_its_agent_and_trains(env_id: str, agent: str, tmp_path: Any) -> None:
    """Each ``[<agent>]`` table of each preset file: valid keys, its agent and models build, and (on a small budget)
    the agent updates (its parameters change) and evaluation leaves them alone."""
    from steprl.cli.registry import AGENTS
    from steprl.cli.train import _make_agent
    from steprl.envs.wrappers.torch import wrap_env
    from steprl.trainers.torch import ManualTrainer

    preset = load_preset(env_id, agent)
    assert not preset.is_default and preset.timesteps >= preset.num_envs >= 1 and preset.eval_every >= 1
    assert set(preset.agent_cfg) <= set(AGENTS[agent].default_config())
    preset = small_budget(preset)
    env = wrap_env(gymnasium.make_vec(env_id, num_envs=preset.num_envs, vectorization_mode="sync", **preset.env_kwargs), verbose=False)
    env.reset(seed=0)
    built = _make_agent(preset, env, str(tmp_path / "run"), 1000)
    assert isinstance(built, AGENTS[agent].agent_class())
    if AGENTS[agent].memory == "none":  # a table of zeros stays zero on unrewarded steps: start it elsewhere
        built.policy.table().uniform_()
    trainer = ManualTrainer(env=env, agents=built, cfg={"timesteps": 1000, "headless": True, "disable_progressbar": True})
    start = parameters(built)
    for t in range(learning_steps(preset)):
        trainer.train(timestep=t)
    trained = parameters(built)
    assert not all(torch.equal(a, b) for a, b in zip(start, trained)), f"{agent} on {env_id} never updated"
    assert built.training_steps == learning_steps(preset)
    trainer.eval(timestep=0)
    assert all(torch.equal(a, b) for a, b in zip(trained, parameters(built))), "evaluation must not learn"
    env.close()


@pytest.mark.parametrize("env_id", TUNED_ENVS)
def test_every_preset_parses_and_builds_a_ppo(env_id: str) -> None:
    path = resources.files("steprl.cli") / "presets" / f"{env_id}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert available_agents(env_id) == sorted(data) and "ppo" in data
    preset = load_preset(env_id, "ppo")
    assert not preset.is_default and preset.timesteps >= preset.num_envs >= 1 and preset.eval_every >= 1
    assert set(preset.agent_cfg) <= set(PPO_DEFAULT_CONFIG)
    agent = build_agent(preset)
    assert isinstance(agent.policy, MLPGaussianPolicy if env_id == "Pendulum-v1" else MLPCategoricalPolicy)
    if preset.agent_cfg.get("learning_rate_scheduler") == "KLAdaptiveLR":
        assert isinstance(agent.scheduler, KLAdaptiveLR)
    if preset.agent_cfg.get("state_preprocessor"):
        assert isinstance(agent._state_preprocessor, RunningStandardScaler)


@pytest.mark.parametrize(
    ("agent", "env_id"),
    [("ppo", "MountainCarContinuous-v0"), ("sac", "MountainCarContinuous-v0"), ("td3", "MountainCarContinuous-v0"),
     ("ddpg", "MountainCarContinuous-v0"), ("dqn", "MountainCar-v0"), ("ddqn", "MountainCar-v0")],
)
def test_default_preset_tables_build_their_agents(agent: str, env_id: str, tmp_path: Any) -> None:
    """The generic tables of ``default.toml`` (environments without a preset) build, and update on a small budget."""
    from steprl.cli.train import _make_agent
    from steprl.envs.wrappers.torch import wrap_env
    from steprl.trainers.torch import ManualTrainer

    preset = load_preset(env_id, agent)
    assert preset.is_default
    preset = small_budget(preset)
    env = wrap_env(gymnasium.make_vec(env_id, num_envs=preset.num_envs, vectorization_mode="sync"), verbose=False)
    env.reset(seed=0)
    built = _make_agent(preset, env, str(tmp_path / "run"), 1000)
    trainer = ManualTrainer(env=env, agents=built, cfg={"timesteps": 1000, "headless": True, "disable_progressbar": True})
    start = parameters(built)
    for t in range(learning_steps(preset)):
        trainer.train(timestep=t)
    assert not all(torch.equal(a, b) for a, b in zip(start, parameters(built))), f"{agent} on {env_id} never updated"
    env.close()


def test_unknown_env_uses_the_default_preset() -> None:
    preset = load_preset("NoSuchEnv-v0", "ppo")
    assert preset.is_default and preset.source.endswith("default.toml")
    agent = build_agent(Preset(**{**preset.__dict__, "env_id": "MountainCarContinuous-v0"}))
    assert isinstance(agent._value_preprocessor, RunningStandardScaler)


def test_resolve_agent_cfg_replaces_names_and_fills_sizes() -> None:
    space = gymnasium.spaces.Box(-1, 1, (3,))
    preset = parse_preset(
        minimal_table(state_preprocessor="RunningStandardScaler", learning_rate_scheduler="KLAdaptiveLR"), "X", "ppo"
    )
    cfg = resolve_agent_cfg(preset, space)
    assert cfg["state_preprocessor"] is RunningStandardScaler and cfg["state_preprocessor_kwargs"] == {"size": space}
    assert cfg["learning_rate_scheduler"] is KLAdaptiveLR
    assert preset.agent_cfg["state_preprocessor"] == "RunningStandardScaler"  # the preset is not modified


@pytest.mark.parametrize(
    ("data", "agent", "message"),
    [
        (minimal_table(), "a2c", "has no 'a2c' table; available agents: ppo"),
        ({"mpo": minimal_table()["ppo"]}, "mpo", "agent 'mpo' is not supported"),
        (minimal_table(learning_rate=1e-3, rolouts=8), "ppo", "unknown PPO key 'rolouts'. Did you mean 'rollouts'?"),
        (
            minimal_table(learning_rate_scheduler="CosineLR"),
            "ppo",
            "unknown learning_rate_scheduler 'CosineLR'; known names: KLAdaptiveLR",
        ),
        (minimal_table(state_preprocessor="Scaler"), "ppo", "unknown state_preprocessor 'Scaler'"),
        (minimal_table(experiment={"write_interval": 1}), "ppo", "'experiment' cannot be set in a preset"),
        ({"ppo": {**minimal_table()["ppo"], "timesteps": 0}}, "ppo", "'timesteps' must be a positive integer"),
        ({"ppo": {k: v for k, v in minimal_table()["ppo"].items() if k != "agent"}}, "ppo", "missing key(s) agent"),
        ({"ppo": {**minimal_table()["ppo"], "seed": 1}}, "ppo", "test.toml [ppo]: unknown key 'seed'. Valid keys: "),
        (
            {"ppo": {**minimal_table()["ppo"], "eval_episode": 5}},
            "ppo",
            "test.toml [ppo]: unknown key 'eval_episode'. Did you mean 'eval_episodes'?",
        ),
        ({"ppo": {**minimal_table()["ppo"], "network": {"hidden": []}}}, "ppo", "'hidden' must be a non-empty list"),
        (
            {"ppo": {**minimal_table()["ppo"], "network": {"activaton": "relu"}}},
            "ppo",
            "test.toml [ppo].network: unknown PPO network key 'activaton'. Did you mean 'activation'?",
        ),
        (
            {"sarsa": {**minimal_table()["ppo"], "network": {"epsilom": 0.1}}},
            "sarsa",
            "[sarsa].network: unknown SARSA network key 'epsilom'. Did you mean 'epsilon'? Valid keys: epsilon, shared",
        ),
        ({"ppo": {**minimal_table()["ppo"], "network": 3}}, "ppo", "'network' must be a table ([ppo.network])"),
        ({"ppo": {**minimal_table()["ppo"], "memory_size": -3}}, "ppo", "'memory_size' must be a positive integer"),
        ({"ppo": {**minimal_table()["ppo"], "eval_episodes": 0}}, "ppo", "'eval_episodes' must be a positive integer"),
        (
            {**minimal_table(), "sacc": minimal_table()["ppo"]},
            "ppo",
            "test.toml: table [sacc]: agent 'sacc' is not supported by steprl. Did you mean 'sac'?",
        ),
        (
            {"dqn": {**minimal_table()["ppo"], "agent": {"exploration": {"timestep": 10}}}},
            "dqn",
            "[dqn].agent.exploration: unknown DQN exploration key 'timestep'. Did you mean 'timesteps'?",
        ),
        (
            {"dqn": {**minimal_table()["ppo"], "agent": {"exploration": 0.1}}},
            "dqn",
            "[dqn].agent.exploration: must be a table of initial_epsilon, final_epsilon, timesteps",
        ),
    ],
)
def test_loader_errors_are_clear(data: dict[str, Any], agent: str, message: str) -> None:
    with pytest.raises(PresetError) as info:
        parse_preset(data, "Env-v0", agent, "test.toml")
    assert message in str(info.value)


def test_eval_episodes_key() -> None:
    """Taxi's cheap, noisy tabular evaluations run 100 episodes; a table without the key evaluates 10."""
    for agent in ("q_learning", "sarsa"):
        assert load_preset("Taxi-v4", agent).eval_episodes == 100
        assert load_preset("FrozenLake-v1", agent).eval_episodes == 10  # deterministic: every episode is the same
    assert load_preset("CartPole-v1", "ppo").eval_episodes == DEFAULT_EVAL_EPISODES == 10
    assert parse_preset(minimal_table(), "X", "ppo").eval_episodes == 10
    assert parse_preset({"ppo": {**minimal_table()["ppo"], "eval_episodes": 7}}, "X", "ppo").eval_episodes == 7


def test_missing_agent_table_in_a_real_preset() -> None:
    with pytest.raises(PresetError, match="CartPole-v1.*no 'sac' table; available agents: .*ppo"):
        load_preset("CartPole-v1", "sac")
