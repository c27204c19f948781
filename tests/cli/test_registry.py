"""The agent registry of the ``steprl`` command states exactly the spaces and network keys its builders accept."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from steprl.cli.registry import AGENTS, describe_space, fitting_agents

OBSERVATIONS = {
    "Box": gymnasium.spaces.Box(-1.0, 1.0, (3,), np.float32),
    "Discrete": gymnasium.spaces.Discrete(5),
}
ACTIONS = {
    "Discrete": gymnasium.spaces.Discrete(3),
    "Box": gymnasium.spaces.Box(-2.0, 2.0, (2,), np.float32),
    "unbounded Box": gymnasium.spaces.Box(-np.inf, np.inf, (2,), np.float32),
    "MultiDiscrete": gymnasium.spaces.MultiDiscrete([2, 3]),
    "MultiBinary": gymnasium.spaces.MultiBinary(3),
}
CASES = [(agent, obs, act) for agent in AGENTS for obs in OBSERVATIONS for act in ACTIONS]


@pytest.mark.parametrize(("agent", "observations", "actions"), CASES, ids=["-".join(case) for case in CASES])
def test_fits_is_what_the_builder_accepts(agent: str, observations: str, actions: str) -> None:
    entry = AGENTS[agent]
    observation_space, action_space = OBSERVATIONS[observations], ACTIONS[actions]
    try:
        entry.build_models(observation_space, action_space, "cpu", {}, 2)
        built = True
    except (TypeError, ValueError):
        built = False
    assert entry.fits(observation_space, action_space) is built


@pytest.mark.parametrize("agent", list(AGENTS))
def test_network_keys_are_those_the_builder_reads(agent: str) -> None:
    entry = AGENTS[agent]
    keys = entry.valid_network_keys()
    assert keys and len(set(keys)) == len(keys)
    spaces = next((OBSERVATIONS[o], ACTIONS[a]) for _, o, a in CASES if entry.fits(OBSERVATIONS[o], ACTIONS[a]))
    with pytest.raises(ValueError, match="network key"):
        entry.build_models(*spaces, "cpu", {"no_such_key": 1}, 1)


def test_fitting_agents_and_descriptions() -> None:
    assert fitting_agents(OBSERVATIONS["Box"], ACTIONS["Discrete"]) == ["ppo", "a2c", "trpo", "cem", "dqn", "ddqn"]
    assert fitting_agents(OBSERVATIONS["Box"], ACTIONS["Box"]) == [
        "ppo", "a2c", "rpo", "trpo", "sac", "td3", "ddpg", "rpo_rnn", "trpo_rnn", "sac_rnn", "td3_rnn", "ddpg_rnn"
    ]
    assert fitting_agents(OBSERVATIONS["Box"], ACTIONS["unbounded Box"]) == ["ppo", "a2c", "rpo", "trpo", "sac"]
    assert fitting_agents(OBSERVATIONS["Discrete"], ACTIONS["Discrete"])[-2:] == ["dqn", "ddqn"]
    assert {"q_learning", "sarsa"} <= set(fitting_agents(OBSERVATIONS["Discrete"], ACTIONS["Discrete"]))
    assert fitting_agents(OBSERVATIONS["Box"], ACTIONS["MultiDiscrete"]) == []
    assert describe_space(ACTIONS["Discrete"]) == "Discrete(3)"
    assert describe_space(ACTIONS["Box"]) == "Box(shape=(2,), bounds [-2, 2])"
    assert describe_space(ACTIONS["unbounded Box"]) == "Box(shape=(2,), unbounded)"
    assert AGENTS["td3"].requirement() == "a Box action space with finite bounds"
    assert AGENTS["sarsa"].requirement() == "Discrete observations and a Discrete action space"
