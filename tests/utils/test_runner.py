"""The runner: skrl-format configurations (Isaac Lab's skrl_ppo_cfg.yaml layout) build and train agents; every
mistake in a configuration is a RunnerConfigError naming the section and the closest valid name."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from steprl.core.runner import RunnerConfigError
from steprl.core.runner.build import ScaledRewards
from steprl.envs.wrappers.torch import wrap_env
from steprl.utils.runner.torch import Runner

DATA = Path(__file__).resolve().parents[1] / "data" / "runner"
CARTPOLE_PPO = DATA / "cartpole_ppo.yaml"
SIMPLE_SPREAD_IPPO = DATA / "simple_spread_ippo.yaml"
# CartPole-v1, cartpole_ppo.yaml, seed 42, 8 sub-environments: 500 vector steps (4000 environment steps) reach
# 500 (the maximum) in deterministic evaluation; the test asks for 400
LEARN_STEPS = 500
LEARN_THRESHOLD = 400.0


def cartpole(num_envs: int = 4, seed: int = 0) -> Any:
    env = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    env.reset(seed=seed)  # later resets continue from these generators
    return wrap_env(env, verbose=False)


def cartpole_cfg(tmp_path: Path, timesteps: int = 64) -> dict[str, Any]:
    cfg = Runner.load_cfg_from_yaml(CARTPOLE_PPO)
    cfg["trainer"]["timesteps"] = timesteps
    cfg["agent"]["experiment"]["directory"] = str(tmp_path)
    return cfg


@pytest.mark.slow
def test_isaac_lab_style_ppo_config_learns_cartpole(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    runner = Runner(cartpole(8), cartpole_cfg(tmp_path, LEARN_STEPS))
    runner.run("train")
    returns = runner.trainer.run_episodes(5)
    assert np.mean(returns) >= LEARN_THRESHOLD, returns


def test_builds_what_the_configuration_names(tmp_path: Path) -> None:
    from steprl.models.torch import CategoricalMixin, DeterministicMixin
    from steprl.resources.preprocessors.torch import RunningStandardScaler
    from steprl.resources.schedulers.torch import KLAdaptiveLR
    from steprl.trainers.torch import SequentialTrainer

    cfg = cartpole_cfg(tmp_path)
    original = copy.deepcopy(cfg)
    runner = Runner(cartpole(), cfg)
    agent = runner.agent
    assert cfg == original  # the configuration is never modified
    policy, value = agent.models["policy"], agent.models["value"]
    assert policy is value  # separate: False -> one shared module
    assert isinstance(policy, CategoricalMixin) and isinstance(policy, DeterministicMixin)
    assert agent.memory.memory_size == 32  # memory_size -1: the agent's rollouts
    assert isinstance(agent.scheduler, KLAdaptiveLR)
    assert isinstance(agent._state_preprocessor, RunningStandardScaler)
    assert isinstance(agent._value_preprocessor, RunningStandardScaler)
    shaper = agent.cfg["rewards_shaper"]
    assert isinstance(shaper, ScaledRewards)
    assert torch.equal(shaper(torch.tensor([2.0]), 0, 1), torch.tensor([0.2]))
    assert isinstance(runner.trainer, SequentialTrainer) and runner.trainer.timesteps == 64
    assert runner.models == {"agent": {"policy": policy, "value": value}}


def test_separate_models_and_eval_mode(tmp_path: Path) -> None:
    cfg = cartpole_cfg(tmp_path, timesteps=40)
    cfg["models"]["separate"] = True
    runner = Runner(cartpole(), cfg)
    policy, value = runner.agent.models["policy"], runner.agent.models["value"]
    assert policy is not value
    before = [p.detach().clone() for p in policy.parameters()]
    runner.run("eval")  # evaluation never updates the agent
    assert all(torch.equal(a, b) for a, b in zip(before, policy.parameters()))
    assert runner.trainer.episode_count("eval") > 0
    with pytest.raises(ValueError, match="Unknown running mode 'play'"):
        runner.run("play")


def test_parallel_trainer_by_name(tmp_path: Path) -> None:
    from steprl.trainers.torch import ParallelTrainer

    cfg = cartpole_cfg(tmp_path)
    cfg["trainer"]["class"] = "ParallelTrainer"
    assert isinstance(Runner(cartpole(), cfg).trainer, ParallelTrainer)


def test_same_seed_same_training(tmp_path: Path) -> None:
    def train(directory: Path) -> list[torch.Tensor]:
        runner = Runner(cartpole(), cartpole_cfg(directory, timesteps=70))
        runner.run()
        return [p.detach().clone() for p in runner.agent.models["policy"].parameters()]

    first, second = train(tmp_path / "a"), train(tmp_path / "b")
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_ippo_on_simple_spread(tmp_path: Path) -> None:
    from helpers.ma_envs import simple_spread

    from steprl.multi_agents.torch.ippo import IPPO

    cfg = Runner.load_cfg_from_yaml(SIMPLE_SPREAD_IPPO)
    cfg["agent"]["experiment"]["directory"] = str(tmp_path)
    env = wrap_env(simple_spread(copies=2, cycles=10), verbose=False)
    runner = Runner(env, cfg)
    agent = runner.agent
    assert isinstance(agent, IPPO)
    assert set(runner.models) == set(env.possible_agents)
    before = {uid: [p.detach().clone() for p in agent.models[uid]["policy"].parameters()] for uid in env.possible_agents}
    runner.run()  # 24 steps: three updates of 8 rollouts
    for uid in env.possible_agents:
        assert agent.memories[uid].memory_size == 8
        after = list(agent.models[uid]["policy"].parameters())
        assert not all(torch.equal(a, b) for a, b in zip(before[uid], after)), uid
    assert runner.trainer.episode_count("train") > 0


def test_mappo_value_reads_the_global_state(tmp_path: Path) -> None:
    from helpers.ma_envs import simple_spread

    from steprl.multi_agents.torch.mappo import MAPPO

    cfg = Runner.load_cfg_from_yaml(SIMPLE_SPREAD_IPPO)
    cfg["agent"]["class"] = "MAPPO"
    cfg["agent"]["shared_state_preprocessor"] = "RunningStandardScaler"
    cfg["agent"]["experiment"]["directory"] = str(tmp_path)
    cfg["trainer"]["timesteps"] = 8
    env = wrap_env(simple_spread(copies=2, cycles=10), verbose=False)
    runner = Runner(env, cfg)
    assert isinstance(runner.agent, MAPPO)
    uid = env.possible_agents[0]
    assert runner.models[uid]["value"].observation_space == env.state_space(uid)
    assert runner.models[uid]["policy"].observation_space == env.observation_space(uid)
    runner.run()


def test_load_cfg_from_yaml_errors(tmp_path: Path) -> None:
    with pytest.raises(RunnerConfigError, match="cannot read runner configuration .*missing.yaml"):
        Runner.load_cfg_from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent:\n  class: PPO\n   rollouts: 3\n")
    with pytest.raises(RunnerConfigError, match="is not valid YAML"):
        Runner.load_cfg_from_yaml(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(RunnerConfigError, match="must hold a mapping of sections .* got list"):
        Runner.load_cfg_from_yaml(listing)


def _edit(cfg: dict[str, Any], path: str, value: Any) -> None:
    *parents, key = path.split(".")
    for parent in parents:
        cfg = cfg[parent]
    cfg[key] = value


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("agnet", {}, r"unknown key 'agnet' in the configuration \(top-level sections\). Did you mean 'agent'\?"),
        ("agent.class", "PP0", r"unknown agent class 'PP0' in section 'agent' \(torch\). Did you mean 'PPO'\?"),
        ("agent.learning_rat", 1e-3, r"unknown key 'learning_rat' in section 'agent' \(PPO\). Did you mean 'learning_rate'\?"),
        (
            "agent.experiment.write_intervall",
            5,
            r"unknown key 'write_intervall' in section 'agent' \(PPO\)\['experiment'\]. Did you mean 'write_interval'\?",
        ),
        (
            "agent.state_preprocessor",
            "RunningStandardScalar",
            r"unknown state_preprocessor class 'RunningStandardScalar' .* Did you mean 'RunningStandardScaler'\?",
        ),
        ("agent.learning_rate_scheduler", "KLAdaptivLR", r"Did you mean 'KLAdaptiveLR'\?"),
        ("agent.rewards_shaper_scale", "big", r"agent.rewards_shaper_scale must be a number"),
        ("models.policy.class", "CategoricalMixn", r"unknown model class 'CategoricalMixn' .*'policy'. Did you mean 'CategoricalMixin'\?"),
        ("models.policy.netwrk", [], r"unknown key 'netwrk' in section 'models', role 'policy'. Did you mean 'network'\?"),
        ("models.separate", "no", r"models.separate must be true or false"),
        ("memory.class", "RandomMem", r"unknown memory class 'RandomMem' in section 'memory'. Did you mean 'RandomMemory'\?"),
        ("memory.memory_sise", 5, r"unknown key 'memory_sise' in section 'memory' \(RandomMemory\). Did you mean 'memory_size'\?"),
        ("memory.memory_size", 0, r"memory.memory_size must be a positive integer, or -1"),
        ("trainer.class", "SequentalTrainer", r"Did you mean 'SequentialTrainer'\?"),
        ("trainer.timestep", 5, r"unknown key 'timestep' in section 'trainer' \(SequentialTrainer\). Did you mean 'timesteps'\?"),
        ("seed", -3, r"'seed' must be a non-negative integer or null"),
    ],
)
def test_configuration_mistakes_name_the_section_and_the_closest_name(
    tmp_path: Path, path: str, value: Any, message: str
) -> None:
    cfg = cartpole_cfg(tmp_path)
    _edit(cfg, path, value)
    with pytest.raises(RunnerConfigError, match=message):
        Runner(cartpole(), cfg)


def test_structural_mistakes(tmp_path: Path) -> None:
    cfg = cartpole_cfg(tmp_path)
    del cfg["agent"]["class"]
    with pytest.raises(RunnerConfigError, match="section 'agent' has no 'class' \\(one of A2C, .*PPO"):
        Runner(cartpole(), cfg)
    cfg = cartpole_cfg(tmp_path)
    del cfg["models"]
    with pytest.raises(RunnerConfigError, match="the configuration has no 'models' section"):
        Runner(cartpole(), cfg)
    cfg = cartpole_cfg(tmp_path)
    cfg["models"]["extra"] = {"class": "DeterministicMixin", "network": [], "output": "ONE"}
    with pytest.raises(RunnerConfigError, match="exactly two roles, got 3"):
        Runner(cartpole(), cfg)
    cfg = cartpole_cfg(tmp_path)
    cfg["agent"]["class"] = "IPPO"
    with pytest.raises(RunnerConfigError, match="IPPO is a multi-agent agent, but the environment is a single-agent"):
        Runner(cartpole(), cfg)
    cfg = cartpole_cfg(tmp_path)
    cfg["agent"] = {"class": "DQN"}
    with pytest.raises(RunnerConfigError, match="memory_size -1 means the agent's rollouts, but DQN has no 'rollouts'"):
        Runner(cartpole(), cfg)
    with pytest.raises(RunnerConfigError, match="a runner configuration is a mapping of sections, got list"):
        Runner(cartpole(), [])  # type: ignore[arg-type]


def test_class_names_are_case_insensitive_and_legacy_shapes_accepted(tmp_path: Path) -> None:
    cfg = cartpole_cfg(tmp_path)
    cfg["agent"]["class"] = "ppo"
    cfg["models"]["separate"] = True
    cfg["models"]["value"] = {
        "class": "deterministicmixin",
        "input_shape": "Shape.STATES",
        "hiddens": [16],
        "hidden_activation": ["tanh"],
        "output_shape": "Shape.ONE",
        "output_activation": None,
    }
    with pytest.warns(DeprecationWarning):
        runner = Runner(cartpole(), cfg)
    values = runner.agent.models["value"].act({"states": torch.zeros(3, 4)}, role="value")[0]
    assert values.shape == (3, 1)


NEUTRAL_SCRIPT = r"""
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "jax", "jaxlib", "flax"):
            raise ImportError(f"{name} is blocked")
        return None

sys.meta_path.insert(0, Block())
from steprl.core.runner import load_yaml, parse_config
for backend in ("torch", "jax"):
    spec = parse_config(load_yaml(sys.argv[1]), backend)
    assert spec.agent.location.module == f"steprl.agents.{backend}.ppo", spec.agent
print("OK")
"""


def test_runner_core_parses_without_torch_or_jax() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", NEUTRAL_SCRIPT, str(CARTPOLE_PPO)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("OK")
