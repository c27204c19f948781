"""Two CPU processes (gloo), launched as torchrun would: one SGD step applies the mean of the ranks' gradients, and
an agent of every family (on-policy with KL schedule and KL early stop, replay with a learned entropy coefficient,
recurrent) keeps identical parameters, scaler statistics and learning rates on both ranks, with rank 0 alone writing
files; the agents that cannot average gradients refuse to start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from helpers.distributed import (
    CHECKPOINT_INTERVAL,
    FAMILIES,
    LEARNING_RATE,
    REPLAY_BATCH,
    REPLAY_STARTS,
    STEPS,
    WRITE_INTERVAL,
    batch_loss,
    launch,
    value_model,
)

AVERAGING_SCRIPT = r"""
import json
import torch
torch.set_num_threads(1)
from helpers.agents import RecordingAgent
from helpers.distributed import LEARNING_RATE, batch_loss, value_model
from steprl import config

agent = RecordingAgent()  # starts the process group, as every agent does under torchrun
rank = config.torch.rank
model = value_model(seed=100 + rank)  # ranks start from different weights
model.broadcast_parameters()
params = list(model.parameters())
optimizer = torch.optim.SGD(params, lr=LEARNING_RATE)
agent._optimizer_step(optimizer, batch_loss(model, rank), [model], params)  # backward, all-reduce, step
print(json.dumps({"rank": rank, "params": [p.detach().flatten().tolist() for p in params]}))
torch.distributed.barrier()
"""

FAMILIES_SCRIPT = r"""
import json
from helpers.distributed import families_worker
print(json.dumps(families_worker({directory!r})))
"""


@pytest.mark.slow
def test_one_step_applies_the_mean_of_the_ranks_gradients() -> None:
    results = launch(AVERAGING_SCRIPT)
    model = value_model(seed=100)  # rank 0's initial weights, which the broadcast gives every rank
    start = [p.detach().clone() for p in model.parameters()]
    per_rank = [torch.autograd.grad(batch_loss(model, rank), list(model.parameters())) for rank in range(2)]
    local_only = [p - LEARNING_RATE * g for p, g in zip(start, per_rank[0])]
    expected = [p - LEARNING_RATE * (g0 + g1) / 2 for p, g0, g1 in zip(start, *per_rank)]
    for result in results:
        got = [torch.tensor(values).view_as(p) for values, p in zip(result["params"], start)]
        assert not all(torch.equal(a, b) for a, b in zip(got, start)), "the step must move the parameters"
        assert not all(torch.allclose(a, b) for a, b in zip(got, local_only)), "rank 0's gradients alone were applied"
        for a, b in zip(got, expected):
            torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    """Both ranks' reports after training every family (one launch for the module), and the experiment directory."""
    directory = tmp_path_factory.mktemp("distributed") / "runs"
    return launch(FAMILIES_SCRIPT.format(directory=str(directory))), directory


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_keeps_ranks_identical(families: tuple[list[dict[str, Any]], Path], family: str) -> None:
    (rank0, rank1), _ = families
    a, b = rank0[family], rank1[family]
    assert a["training_steps"] == b["training_steps"] == STEPS
    assert a["models"] == b["models"], "parameters (and buffers) differ between the ranks"
    assert a["scalers"] == b["scalers"], "running standard scalers differ between the ranks"
    assert a["learning_rates"] == b["learning_rates"], "learning rates (KL-adaptive schedule) differ between the ranks"


@pytest.mark.slow
def test_scaler_statistics_merge_both_ranks_batches(families: tuple[list[dict[str, Any]], Path]) -> None:
    (rank0, _), _ = families
    # SAC updates the state scaler once per gradient step, from each rank's batch: both batches are counted
    gradient_steps = STEPS - REPLAY_STARTS
    assert rank0["replay"]["state_scaler_count"] == 1 + gradient_steps * REPLAY_BATCH * 2


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_only_rank_0_writes(families: tuple[list[dict[str, Any]], Path], family: str) -> None:
    (rank0, rank1), directory = families
    assert (rank0[family]["write_interval"], rank0[family]["checkpoint_interval"]) == (WRITE_INTERVAL, CHECKPOINT_INTERVAL)
    assert (rank1[family]["write_interval"], rank1[family]["checkpoint_interval"]) == (0, 0)
    written = directory / f"{family}_rank0"
    assert list(written.glob("events.out.tfevents.*")), "rank 0 writes TensorBoard events"
    assert sorted(p.name for p in (written / "checkpoints").glob("agent_*.pt")) == sorted(
        f"agent_{k}.pt" for k in range(CHECKPOINT_INTERVAL, STEPS + 1, CHECKPOINT_INTERVAL)
    )
    assert not (directory / f"{family}_rank1").exists(), "rank 1 must write nothing"


@pytest.mark.slow
def test_seeds_are_offset_by_rank(families: tuple[list[dict[str, Any]], Path]) -> None:
    (rank0, rank1), _ = families
    assert (rank0["seed"], rank1["seed"]) == (7, 8)


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["cem", "q_learning", "sarsa"])
def test_agents_without_gradient_averaging_refuse(families: tuple[list[dict[str, Any]], Path], agent: str) -> None:
    (rank0, rank1), _ = families
    for report in (rank0, rank1):
        message = report["refusals"][agent]
        assert "cannot train data-parallel" in message and "without torchrun" in message, message
