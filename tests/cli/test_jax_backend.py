"""``steprl train --backend jax --agent X`` for every JAX agent: a short run through the command writes a checkpoint
that a fresh JAX agent of the same run loads, holding the trained parameters; agents without a JAX implementation
are refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from steprl.cli import main
from steprl.cli.registry import AGENTS, JAX_AGENTS

ENVS = {"Discrete": "CartPole-v1", "Box": "Pendulum-v1"}
STEPS = {"cem": 256}  # a CEM rollout of the CartPole preset is 100 x 16 steps: its minimum is one evaluation window


def _load_final(run_dir: Path) -> tuple[object, dict]:
    """A fresh JAX agent of the run (built from its run.json) with ``final_agent.ckpt`` loaded, and the checkpoint's
    parameters."""
    import gymnasium

    from steprl.backends.jax_checkpoint import jax_load
    from steprl.cli.rundir import RunSpec
    from steprl.cli.train import _make_agent
    from steprl.envs.wrappers.jax import wrap_env
    from steprl.trainers.jax import ManualTrainer

    spec = RunSpec.read(str(run_dir))
    env = wrap_env(gymnasium.make_vec(spec.env_id, num_envs=spec.num_envs, vectorization_mode="sync"), verbose=False)
    try:
        agent = _make_agent(spec.preset(), env, str(run_dir.parent / "scratch"), 100, backend="jax")
        ManualTrainer(env=env, agents=agent, cfg={"timesteps": 100, "headless": True, "disable_progressbar": True,
                                                  "close_environment_at_exit": False})  # fmt: skip
        path = run_dir / "checkpoints" / "final_agent.ckpt"
        agent.load(str(path))
    finally:
        env.close()
    return agent, jax_load(str(path))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cem", "dqn", "ddqn", "sac", "td3", "ddpg"])
def test_each_jax_agent_trains_through_the_command_and_its_checkpoint_loads(name: str, tmp_path: Path) -> None:
    env_id = ENVS[JAX_AGENTS[name].actions[-1]]
    steps = STEPS.get(name, 200)
    run_dir = tmp_path / "run"
    args = ["train", "--backend", "jax", "--agent", name, "--env", env_id, "--timesteps", str(steps),
            "--num-envs", "1", "--seed", "0", "--run-dir", str(run_dir), "--no-progress"]  # fmt: skip
    if name != "cem":
        args += ["--eval-episodes", "1"]
    assert main(args) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["backend"] == "jax" and summary["agent"] == name and summary["timesteps"] == steps
    agent, stored = _load_final(run_dir)
    assert type(agent).__module__.startswith("steprl.agents.jax.")
    role = "policy" if "policy" in stored else "q_network"
    loaded = jax.tree_util.tree_leaves(agent.models[role].state_dict.params)
    saved = jax.tree_util.tree_leaves(stored[role])
    assert len(loaded) == len(saved) > 0
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(loaded, saved))


def test_agents_without_a_jax_implementation_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = [name for name in AGENTS if name not in JAX_AGENTS]
    assert {"trpo", "q_learning", "sarsa"} <= set(missing)
    code = main(["train", "--backend", "jax", "--agent", "q_learning", "--env", "FrozenLake-v1",
                 "--run-dir", str(tmp_path / "r")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("steprl train: error: --agent q_learning is not available with --backend jax: choose one")
    assert len(err) == 1 and not (tmp_path / "r").exists()
