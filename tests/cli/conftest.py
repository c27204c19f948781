"""Fixtures of the command's tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _load_checkpoint(run_dir: Path, path: Path, resume: bool = False) -> Any:
    """A fresh agent of the run in ``run_dir`` (built from its run.json) with checkpoint ``path`` loaded."""
    import gymnasium

    from steprl.cli.rundir import RunSpec
    from steprl.cli.train import _make_agent
    from steprl.envs.wrappers.torch import wrap_env
    from steprl.trainers.torch import ManualTrainer

    spec = RunSpec.read(str(run_dir))
    env = wrap_env(gymnasium.make_vec(spec.env_id, num_envs=spec.num_envs, vectorization_mode="sync"), verbose=False)
    try:
        agent = _make_agent(spec.preset(), env, str(run_dir.parent / "scratch"), 100)
        cfg = {"timesteps": 100, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
        ManualTrainer(env=env, agents=agent, cfg=cfg)  # creates the memory's tensors
        if agent.writer is not None:
            agent.writer.close()
        agent.load(str(path), resume=resume)
    finally:
        env.close()
    return agent


@pytest.fixture
def load_checkpoint() -> Callable[..., Any]:
    """``load_checkpoint(run_dir, path, resume=False)``: a fresh agent of the run with a checkpoint loaded."""
    return _load_checkpoint
