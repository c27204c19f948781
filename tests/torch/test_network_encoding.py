"""The command's networks take the wrappers' flattened observations: Discrete parts one-hot, Box parts as is."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch

from steprl.cli import main
from steprl.models.torch.networks.encoding import encode_states
from steprl.models.torch.networks.mlp import MLPCategoricalPolicy


def test_tuple_and_dict_observations_are_one_hot_encoded() -> None:
    space = gym.spaces.Dict({"b": gym.spaces.Discrete(3, start=1), "a": gym.spaces.Box(-1.0, 1.0, (2,))})
    policy = MLPCategoricalPolicy(space, gym.spaces.Discrete(2), "cpu", [8], "tanh")
    states = torch.tensor([[0.5, -0.5, 3.0], [0.0, 1.0, 1.0]])  # keys sorted: a (2 columns), then b
    encoded = encode_states(policy, states)
    assert encoded.tolist() == [[0.5, -0.5, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0, 0.0]]
    assert policy.act({"states": states}, role="policy")[0].shape == (2, 1)


def test_box_observations_pass_through() -> None:
    policy = MLPCategoricalPolicy(gym.spaces.Box(-1.0, 1.0, (4,)), gym.spaces.Discrete(2), "cpu", [8], "tanh")
    states = torch.rand(3, 4)
    assert encode_states(policy, states) is states


@pytest.mark.slow
def test_the_command_trains_on_tuple_observations(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    args = ["train", "--env", "Blackjack-v1", "--timesteps", "2048", "--eval-every", "0", "--eval-episodes", "2"]
    assert main([*args, "--run-dir", str(tmp_path / "run"), "--no-progress"]) == 0
