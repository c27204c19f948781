"""One clear error per multi-agent mistake: per-agent config keys, model roles, memories, spaces, sharing."""

from __future__ import annotations

import pytest
import torch
from helpers.ma_agents import QUIET, CueTask, CueWrapper, build_agent
from helpers.models import CategoricalPolicy, Value

from steprl.core.multi_agent import per_agent
from steprl.memories.torch import RandomMemory
from steprl.multi_agents.torch.ippo import IPPO
from steprl.multi_agents.torch.mappo import MAPPO
from steprl.trainers.torch import ManualTrainer


def _env() -> CueWrapper:
    return CueWrapper(CueTask(num_envs=2))


def test_per_agent_values() -> None:
    assert per_agent({"a": 1, "b": 2}, ["a", "b"]) == {"a": 1, "b": 2}
    kwargs = {"size": 3}
    copies = per_agent(kwargs, ["a", "b"])
    assert copies == {"a": kwargs, "b": kwargs} and copies["a"] is not copies["b"] is not kwargs
    assert per_agent(0.5, ["a", "b"]) == {"a": 0.5, "b": 0.5}
    with pytest.raises(ValueError, match=r"missing \['b'\], unknown \[\]"):
        per_agent({"a": 1}, ["a", "b"])
    with pytest.raises(ValueError, match=r"missing \[\], unknown \['c'\]"):
        per_agent({"a": 1, "b": 2, "c": 3}, ["a", "b"])
    with pytest.raises(ValueError, match=r"missing \['a', 'b'\]"):
        per_agent({"policy": 1}, ["a", "b"], keyed=True)


def test_per_agent_hyperparameters_reach_each_agent() -> None:
    agent = build_agent(_env(), "ippo", learning_rate={"a": 1e-3, "b": 3e-4}, discount_factor={"a": 0.9, "b": 0.5})
    assert agent._team_of["a"].optimizer.param_groups[0]["lr"] == 1e-3
    assert agent._team_of["b"].optimizer.param_groups[0]["lr"] == 3e-4
    assert agent._team_of["b"].cfg["discount_factor"] == 0.5


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("learning_rate", {"a": 1e-3}, r"cfg\['learning_rate'\].*missing \['b'\]"),
        ("ratio_clip", {"a": 0.2, "b": 0.2, "c": 0.1}, r"cfg\['ratio_clip'\].*unknown \['c'\]"),
        ("mini_batches", {"a": 0, "b": 1}, r"mini_batches'\] must be >= 1 \(agent 'a'\)"),
    ],
)
def test_bad_per_agent_config(key: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_agent(_env(), "mappo", **{key: value})


def test_models_missing_a_role_for_one_agent() -> None:
    env = _env()
    obs, act = env.observation_spaces, env.action_spaces
    models = {
        "a": {"policy": CategoricalPolicy(obs["a"], act["a"]), "value": Value(obs["a"])},
        "b": {"value": Value(obs["b"])},
    }
    with pytest.raises(ValueError, match="'policy' model for agent 'b'"):
        IPPO(["a", "b"], models, None, obs, act)
    models["b"] = {"policy": CategoricalPolicy(obs["b"], act["b"])}
    memories = {uid: RandomMemory(memory_size=4, num_envs=2) for uid in ("a", "b")}
    agent = IPPO(["a", "b"], models, memories, obs, act, cfg={"rollouts": 4})
    with pytest.raises(ValueError, match="'value' model for agent 'b'"):
        agent.init()
    models["b"] = {"policy": CategoricalPolicy(obs["b"], act["b"]), "critic": Value(obs["b"])}
    with pytest.raises(KeyError, match="agent 'b'.*unknown model role 'critic'"):
        IPPO(["a", "b"], models, None, obs, act)
    with pytest.raises(ValueError, match=r"models.*missing \['b'\]"):
        IPPO(["a", "b"], {"a": models["a"]}, None, obs, act)
    with pytest.raises(ValueError, match=r"models.*missing \['a', 'b'\]"):
        IPPO(["a", "b"], {"policy": models["a"]["policy"]}, None, obs, act)  # type: ignore[dict-item]


def test_memories_and_sizes() -> None:
    env = _env()
    with pytest.raises(TypeError, match="one memory per agent"):
        build_agent(env, "ippo", memories=False).__class__(
            ["a", "b"], build_agent(env, "ippo").models, RandomMemory(memory_size=8, num_envs=2)
        )
    agent = build_agent(env, "ippo", rollouts=8)
    agent.memories["a"] = RandomMemory(memory_size=4, num_envs=2)
    with pytest.raises(ValueError, match=r"memories\['a'\].memory_size \(4\) must equal cfg\['rollouts'\] \(8\)"):
        agent.init()
    with pytest.raises(ValueError, match="takes 6 inputs, expected 8"):
        build_agent(env, "ippo", share=False, append_agent_id=True)


def test_parameter_sharing_rules() -> None:
    env = _env()
    obs, act = env.observation_spaces, env.action_spaces
    policy = CategoricalPolicy(obs["a"], act["a"])
    models = {"a": {"policy": policy, "value": Value(obs["a"])}, "b": {"policy": policy, "value": Value(obs["a"])}}
    with pytest.raises(ValueError, match="share a policy but not a value model"):
        IPPO(["a", "b"], models, None, obs, act)
    value = Value(obs["a"])
    models = {"a": {"policy": policy, "value": value}, "b": {"policy": policy, "value": value}}
    with pytest.raises(ValueError, match=r"per-agent settings must be equal; they differ in \['learning_rate'\]"):
        IPPO(["a", "b"], models, None, obs, act, cfg={"learning_rate": {"a": 1e-3, "b": 1e-4}})
    models = {
        "a": {"policy": policy, "value": value},
        "b": {"policy": CategoricalPolicy(obs["b"], act["b"]), "value": value},
    }
    with pytest.raises(ValueError, match="value model is shared by agents with different policies"):
        IPPO(["a", "b"], models, None, obs, act)


def test_mappo_without_global_state() -> None:
    env = _env()
    agent = build_agent(env, "mappo", rollouts=4)
    with pytest.raises(ValueError, match=r"infos\['shared_states'\]"):
        agent.record_transition(
            states={"a": torch.zeros(2, 6), "b": torch.zeros(2, 6)}, actions={"a": torch.zeros(2, 1), "b": torch.zeros(2, 1)},
            rewards={"a": torch.zeros(2, 1), "b": torch.zeros(2, 1)}, next_states={"a": torch.zeros(2, 6), "b": torch.zeros(2, 6)},
            terminated={"a": torch.zeros(2, 1, dtype=torch.bool), "b": torch.zeros(2, 1, dtype=torch.bool)},
            truncated={"a": torch.zeros(2, 1, dtype=torch.bool), "b": torch.zeros(2, 1, dtype=torch.bool)},
            infos={}, timestep=0, timesteps=4,
        )  # fmt: skip
    with pytest.raises(ValueError, match="shared_observation_spaces"):
        MAPPO(
            ["a", "b"], agent.models, agent.memories, env.observation_spaces, env.action_spaces, cfg={"rollouts": 4}
        ).init()


def test_act_checks_its_input() -> None:
    agent = build_agent(_env(), "ippo")
    with pytest.raises(TypeError, match="dict uid -> observations"):
        agent.act(torch.zeros(2, 6), 0, 1)
    with pytest.raises(KeyError, match=r"unknown agent ids \['c'\]"):
        agent.act({"a": torch.zeros(2, 6), "c": torch.zeros(2, 6)}, 0, 1)


def test_agent_missing_from_a_step_is_refused() -> None:
    env = _env()
    agent = build_agent(env, "ippo", rollouts=4)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": 4, **QUIET})
    trainer.train()
    two = {"a": torch.zeros(2, 1)}
    with pytest.raises(ValueError, match="agent 'b' is missing"):
        agent.record_transition(
            states={"a": torch.zeros(2, 6)}, actions=two, rewards=two, next_states={"a": torch.zeros(2, 6)},
            terminated={"a": torch.zeros(2, 1, dtype=torch.bool)}, truncated={"a": torch.zeros(2, 1, dtype=torch.bool)},
            infos={}, timestep=1, timesteps=4,
        )  # fmt: skip
