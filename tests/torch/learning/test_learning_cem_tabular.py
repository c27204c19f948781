"""Learning tests of CEM, Q_LEARNING and SARSA through the ``steprl train`` presets (marked slow)."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from steprl.backends.torch_checkpoint import torch_load
from steprl.cli import main


def _train(tmp_path: Path, *args: str) -> tuple[dict, Path]:
    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    assert main(["train", *args, "--run-dir", str(run_dir), "--no-progress"]) == 0
    return json.loads((run_dir / "summary.json").read_text()), run_dir


def _greedy_returns(q: np.ndarray, model: tuple[np.ndarray, np.ndarray, np.ndarray], starts: list[int]) -> np.ndarray:
    """Undiscounted return of the greedy policy of ``q`` from each start state of a deterministic tabular model."""
    next_state, reward, done = model
    returns = np.zeros(len(starts))
    for i, s in enumerate(starts):
        for _ in range(200):  # Taxi's time limit
            a = int(np.argmax(q[s]))
            returns[i] += reward[s, a]
            if done[s, a]:
                break
            s = next_state[s, a]
    return returns


def _taxi_optimality(q: np.ndarray) -> tuple[float, float]:
    """Mean greedy return of ``q`` and of the optimal policy over all 300 Taxi start states (value iteration)."""
    env = gym.make("Taxi-v4").unwrapped
    n_s, n_a = env.observation_space.n, env.action_space.n
    next_state, reward, done = np.zeros((n_s, n_a), int), np.zeros((n_s, n_a)), np.zeros((n_s, n_a), bool)
    for s in range(n_s):
        for a in range(n_a):
            ((_, next_state[s, a], reward[s, a], done[s, a]),) = env.P[s][a]
    optimal = np.zeros((n_s, n_a))
    for _ in range(1000):
        optimal = reward + 0.99 * optimal.max(1)[next_state] * ~done
    starts = [s for s in range(n_s) if env.initial_state_distrib[s] > 0]
    model = (next_state, reward, done)
    return float(_greedy_returns(q, model, starts).mean()), float(_greedy_returns(optimal, model, starts).mean())


@pytest.mark.slow
def test_cem_cartpole_reaches_475(tmp_path: Path) -> None:
    summary, _ = _train(tmp_path, "--env", "CartPole-v1", "--agent", "cem", "--seed", "0")
    assert summary["final_mean_return"] >= 475


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["q_learning", "sarsa"])
def test_tabular_frozenlake_is_solved(tmp_path: Path, agent: str) -> None:
    summary, _ = _train(tmp_path, "--env", "FrozenLake-v1", "--agent", agent, "--seed", "0")
    assert summary["final_mean_return"] == 1.0  # the optimal return of the non-slippery lake


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["q_learning", "sarsa"])
def test_tabular_taxi_is_near_optimal(tmp_path: Path, agent: str) -> None:
    summary, run_dir = _train(tmp_path, "--env", "Taxi-v4", "--agent", agent, "--seed", "0", "--eval-episodes", "100")
    assert summary["final_mean_return"] >= 7.0  # optimal: about 7.9 (10-episode means vary by about ±0.8)
    q = torch_load(run_dir / "checkpoints" / "final_agent.pt", map_location="cpu")["policy"]["q_table"][0].numpy()
    learned, optimal = _taxi_optimality(q)
    assert optimal == pytest.approx(7.93, abs=0.01)
    assert learned >= optimal - 0.2  # greedy policy optimal from (nearly) every one of the 300 start states
