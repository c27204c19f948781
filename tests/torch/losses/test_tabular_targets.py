"""Q-learning and SARSA: targets (termination stops the bootstrap) and the in-place TD update of shared and
per-environment tables, against hand-computed cases."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from helpers.loss_cases import (
    TABULAR_TARGET_CASE,
    TD_UPDATE_PER_ENV_CASE,
    TD_UPDATE_SHARED_CASE,
    TD_UPDATE_SHARED_PAIR_CASE,
)

from steprl.agents.torch.q_learning.losses import q_learning_targets, sarsa_targets, table_rows, td_update_


def test_q_learning_and_sarsa_targets() -> None:
    case = TABULAR_TARGET_CASE
    table = torch.tensor(case["q_table"])
    rows = table_rows(table, 2)
    rewards, next_states = torch.tensor(case["inputs"]["rewards"]), torch.tensor(case["inputs"]["next_states"])
    terminated = torch.tensor(case["inputs"]["terminated"])
    gamma = case["discount_factor"]
    assert q_learning_targets(table, rows, rewards, next_states, terminated, gamma).tolist() == pytest.approx(
        case["expected_q_learning"]
    )
    next_actions = torch.tensor(case["next_actions"])
    assert sarsa_targets(table, rows, rewards, next_states, next_actions, terminated, gamma).tolist() == pytest.approx(
        case["expected_sarsa"]
    )


@pytest.mark.parametrize(
    "case",
    [TD_UPDATE_SHARED_CASE, TD_UPDATE_SHARED_PAIR_CASE, TD_UPDATE_PER_ENV_CASE],
    ids=["shared", "shared_pair", "per_env"],
)
def test_td_update(case: dict[str, Any]) -> None:
    table = torch.tensor(case["q_table"])
    index = {k: torch.tensor(case[k]) for k in ("rows", "states", "actions")}
    errors = td_update_(
        table, index["rows"], index["states"], index["actions"], torch.tensor(case["targets"]), case["learning_rate"]
    )
    assert errors.tolist() == pytest.approx(case["expected_td_errors"])
    torch.testing.assert_close(table, torch.tensor(case["expected_table"]))


def test_table_rows() -> None:
    assert table_rows(torch.zeros(3, 2, 2), 3).tolist() == [0, 1, 2]
    assert table_rows(torch.zeros(1, 2, 2), 3).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match=r"expected shape \(3, n_states, n_actions\)"):
        table_rows(torch.zeros(2, 2, 2), 3)
