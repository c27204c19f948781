"""CUDA paths (skipped without a GPU; CI has none): every agent of the ``steprl`` command trains, evaluates and
round-trips a checkpoint on the GPU, with mixed precision where the agent supports it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import pytest
import torch
from helpers.checkpoint import assert_state_equal
from helpers.presets import learning_steps, parameters, small_budget

from steprl import config
from steprl.cli.presets import available_agents, available_envs, load_preset

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

TABLES = [(env, agent) for env in available_envs() for agent in available_agents(env)]


@pytest.mark.parametrize("mixed_precision", [False, True], ids=["fp32", "amp"])
@pytest.mark.parametrize(("env_id", "agent"), TABLES, ids=[f"{e}-{a}" for e, a in TABLES])
def test_agent_trains_on_cuda(env_id: str, agent: str, mixed_precision: bool, tmp_path: Path) -> None:
    from steprl.cli.registry import AGENTS
    from steprl.cli.train import _make_agent
    from steprl.envs.wrappers.torch import wrap_env
    from steprl.trainers.torch import ManualTrainer

    defaults = AGENTS[agent].default_config()
    if mixed_precision and "mixed_precision" not in defaults:
        pytest.skip(f"{agent} has no mixed_precision option")
    config.torch.device = "cuda:0"
    amp = {"mixed_precision": mixed_precision} if "mixed_precision" in defaults else {}
    preset = small_budget(load_preset(env_id, agent), **amp)
    env = wrap_env(gymnasium.make_vec(env_id, num_envs=preset.num_envs, vectorization_mode="sync", **preset.env_kwargs), verbose=False)
    assert env.device.type == "cuda"
    env.reset(seed=0)
    built = _make_agent(preset, env, str(tmp_path / "run"), 1000)
    if AGENTS[agent].memory == "none":  # a table of zeros stays zero on unrewarded steps: start it elsewhere
        built.policy.table().uniform_()
    action_devices: list[str] = []
    act = built.act

    def recording_act(*args: Any, **kwargs: Any) -> Any:
        result = act(*args, **kwargs)
        action_devices.append(result[0].device.type)
        return result

    built.act = recording_act
    trainer = ManualTrainer(env=env, agents=built, cfg={"timesteps": 1000, "headless": True, "disable_progressbar": True})
    steps = learning_steps(preset)
    start = parameters(built)
    for t in range(steps):
        next_states, rewards, terminated, truncated, _ = trainer.train(timestep=t)  # the step's results, not actions
        assert {x.device.type for x in (next_states, rewards, terminated, truncated)} == {"cuda"}
    for t in range(5):
        trainer.eval(timestep=t)
    assert set(action_devices) == {"cuda"} and len(action_devices) == steps + 5
    assert not all(torch.equal(a, b) for a, b in zip(start, parameters(built))), f"{agent} never updated"
    for model in built.models.values():
        if model is not None:
            for parameter in model.parameters():
                assert parameter.device.type == "cuda" and torch.isfinite(parameter).all()
    path = str(tmp_path / "agent.pt")
    built.save(path)
    fresh = _make_agent(preset, env, str(tmp_path / "run2"), 1000)
    fresh.load(path)
    for name, module in built.checkpoint_modules.items():
        if module is not None and name != "memory":
            assert_state_equal(module.state_dict(), fresh.checkpoint_modules[name].state_dict(), name)
    env.close()
