"""``random_timesteps`` and ``learning_starts`` mean the same in every agent: counted in the agent's own training
steps, so the caller's timestep numbering (a loop starting at 50,000) and evaluation steps never shift them."""

from __future__ import annotations

from typing import Any

import gymnasium
import pytest
import torch
from helpers.registry import small_network

from steprl.cli.registry import AGENTS
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.trainers.torch import ManualTrainer

RANDOM_TIMESTEPS = 3
LEARNING_STARTS = 5
OFFSET = 50_000
ENVS = {"Box": "Pendulum-v1", "Discrete": "CartPole-v1"}
QUIET = {"headless": True, "disable_progressbar": True, "close_environment_at_exit": False}


def _env_id(name: str) -> str:
    entry = AGENTS[name]
    return "FrozenLake-v1" if entry.discrete_observations else ENVS[entry.actions[-1]]


def _build(name: str) -> tuple[Any, Any]:
    entry = AGENTS[name]
    env = wrap_env(gymnasium.make_vec(_env_id(name), num_envs=2, vectorization_mode="sync"), verbose=False)
    cfg = entry.default_config().copy()
    updates = {"random_timesteps": RANDOM_TIMESTEPS, "learning_starts": LEARNING_STARTS, "rollouts": 2,
               "mini_batches": 1, "batch_size": 4, "update_interval": 1, "target_update_interval": 1}
    cfg.update({k: v for k, v in updates.items() if k in cfg})
    cfg["experiment"] = {**cfg["experiment"], "write_interval": 0, "checkpoint_interval": 0}
    models = entry.build_models(env.observation_space, env.action_space, env.device, small_network(name), env.num_envs)
    memory = None
    if entry.memory != "none":
        memory = RandomMemory(memory_size=2 if entry.memory == "rollout" else 64, num_envs=env.num_envs)
    agent = entry.agent_class()(models=models, memory=memory, observation_space=env.observation_space,
                                action_space=env.action_space, cfg=cfg)
    return env, agent


@pytest.mark.parametrize("name", list(AGENTS))
def test_exploration_and_learning_start_count_training_steps(name: str) -> None:
    torch.manual_seed(0)
    env, agent = _build(name)
    random_steps: list[int] = []
    learning_steps: list[int] = []
    for model in {id(m): m for m in agent.models.values() if m is not None}.values():
        original = model.random_act

        def random_act(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            random_steps.append(agent.training_steps if agent.training else -1)
            return _original(*args, **kwargs)

        model.random_act = random_act
    if AGENTS[name].memory == "none":  # tabular agents: the table changes only when learning has started
        learn = agent._learn

        def spy_learn(transition: Any, update: bool) -> None:
            if update:
                learning_steps.append(agent.training_steps)
            learn(transition, update)

        agent._learn = spy_learn
    else:
        step = agent._optimizer_step

        def spy_step(*args: Any, **kwargs: Any) -> Any:
            learning_steps.append(agent.training_steps)
            return step(*args, **kwargs)

        agent._optimizer_step = spy_step

    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": OFFSET + 100, **QUIET})
    for t in range(OFFSET, OFFSET + 12):
        trainer.train(timestep=t)
        if t == OFFSET + 1:
            for k in range(4):  # evaluation steps never count
                trainer.eval(timestep=OFFSET + k)
    for t in range(OFFSET + 12, OFFSET + 60):
        trainer.train(timestep=t)

    assert agent.training_steps == 60
    assert random_steps == list(range(RANDOM_TIMESTEPS)), f"{name}: random actions at training steps {random_steps}"
    assert learning_steps, f"{name} never learned"
    if name == "cem":  # CEM learns at a rollout end once complete episodes exist
        assert min(learning_steps) > LEARNING_STARTS and min(learning_steps) % 2 == 0
    else:  # first rollout end (rollouts=2) or first step after learning_starts
        assert min(learning_steps) == LEARNING_STARTS + 1, f"{name}: first learning at training step {min(learning_steps)}"
