"""skrl-style JAX Gymnasium scripts (tests/data/skrl_examples/jax) run to the end on steprl.

Each script runs in a subprocess from a temporary copy whose trainer line ``cfg_trainer = {"timesteps": N, ...}`` is
rewritten to a small budget, just past the point where the agent starts learning, with the temporary directory as
the working directory (the scripts write their runs under ``runs/``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "skrl_examples" / "jax"
# vector steps: past learning_starts (and CEM's 1000-step rollout), short of the scripts' own budgets
BUDGETS = {
    "jax_gymnasium_cartpole_cem.py": 1010,
    "jax_gymnasium_cartpole_dqn.py": 300,
    "jax_gymnasium_cartpole_vector_dqn.py": 150,
    "jax_gymnasium_pendulum_ddpg.py": 300,
    "jax_gymnasium_pendulum_vector_ddpg.py": 150,
    "jax_gymnasium_pendulum_ppo.py": 300,
    "jax_gymnasium_pendulum_sac.py": 1010,
    "jax_gymnasium_pendulum_td3.py": 1010,
}
_TRAINER_LINE = re.compile(r'^(cfg_trainer = \{"timesteps": )(\d+)(,.*)$', re.MULTILINE)


def with_budget(source: str, timesteps: int) -> str:
    """``source`` with its trainer's ``timesteps`` replaced (exactly one trainer line must match)."""
    patched, count = _TRAINER_LINE.subn(lambda m: f"{m.group(1)}{timesteps}{m.group(3)}", source)
    if count != 1:
        raise ValueError(f"expected one 'cfg_trainer = {{\"timesteps\": N, ...}}' line, found {count}")
    return patched


def test_every_script_has_a_budget_and_one_trainer_line() -> None:
    assert sorted(p.name for p in SCRIPTS.glob("*.py")) == sorted(BUDGETS)
    for name, budget in BUDGETS.items():
        source = (SCRIPTS / name).read_text()
        assert "import skrl" not in source and "from skrl" not in source
        assert f'"timesteps": {budget},' in with_budget(source, budget)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_script_runs_to_the_end(name: str, tmp_path: Path) -> None:
    script = tmp_path / name
    script.write_text(with_budget((SCRIPTS / name).read_text(), BUDGETS[name]))
    env = {**os.environ, "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    runs = list((tmp_path / "runs" / "jax").glob("*/*"))
    assert len(runs) == 1 and runs[0].is_dir()  # the experiment directory the script configured
