"""Scripts after skrl 1.4.3's 33 torch Gymnasium examples run on steprl (marked slow).

The scripts live in ``tests/data/skrl_examples/torch``: written for steprl's tests, each builds the same components
with the same settings through the same public calls as the skrl example of its name, importing ``steprl`` where
skrl's imports ``skrl``. Each is copied to ``tmp_path`` with a small budget: ``"timesteps": N`` becomes
``"timesteps": 40``; in the replay scripts ``learning_starts`` becomes 20 and ``batch_size`` 4, so that their updates
run too (the rollout scripts' 1024-step rollouts are not reached: the recurrent rollout updates are covered by the
agent tests). The scripts run with ``runpy`` in a few subprocesses (start-up cost), with ``tmp_path`` as the working
directory; a subprocess fails on the first script that raises, naming it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "skrl_examples" / "torch"
SCRIPTS = sorted(EXAMPLES.glob("torch_gymnasium_*.py"))
GROUPS = 3

RUNNER = """
import runpy, sys, traceback
import torch
torch.set_num_threads(1)
for path in sys.argv[1:]:
    try:
        runpy.run_path(path, run_name="__main__")
    except BaseException:
        traceback.print_exc()
        print(f"FAILED: {path}", flush=True)
        sys.exit(1)
    print(f"OK: {path}", flush=True)
"""


def small_budget(source: str) -> str:
    """``source`` with 40 timesteps (and, for replay agents, learning from step 20 on batches of 4)."""
    source, count = re.subn(r'"timesteps": \d+', '"timesteps": 40', source)
    assert count == 1, "every example sets its trainer's timesteps once"
    source = re.sub(r'cfg\["learning_starts"\] = \d+', 'cfg["learning_starts"] = 20', source)
    return re.sub(r'cfg\["batch_size"\] = \d+', 'cfg["batch_size"] = 4', source)


def test_the_33_scripts_are_there_and_import_steprl_only():
    assert len(SCRIPTS) == 33
    for script in SCRIPTS:
        text = script.read_text()
        assert text.startswith("# Written for steprl's tests:"), script.name
        assert re.search(r"^from steprl\.", text, flags=re.M), script.name
        assert not re.search(r"^\s*(from|import) skrl\b", text, flags=re.M), script.name


@pytest.mark.slow
@pytest.mark.parametrize("group", range(GROUPS))
def test_skrl_examples_run(group: int, tmp_path: Path) -> None:
    paths = []
    for script in SCRIPTS[group::GROUPS]:
        copy = tmp_path / script.name
        copy.write_text(small_budget(script.read_text()))
        paths.append(str(copy))
    result = subprocess.run([sys.executable, "-c", RUNNER, *paths], cwd=tmp_path, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert result.stdout.count("OK: ") == len(paths)
