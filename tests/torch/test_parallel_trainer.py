"""ParallelTrainer: the same results as the SequentialTrainer, workers that shut down cleanly on a worker error or
an interrupt in the parent, and the one-agent case (the SequentialTrainer itself). Each trainer with workers costs
two interpreter start-ups, so the interrupt is tested on the trainer of the comparison."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
import torch
from helpers.envs import counting_vec
from helpers.parallel import DeterministicQAgent
from helpers.ppo import QUIET, build

from steprl.envs.wrappers.torch import wrap_env
from steprl.trainers.torch import PARALLEL_TRAINER_DEFAULT_CONFIG, ParallelTrainer, SequentialTrainer
from steprl.trainers.torch.parallel import WorkerError
from steprl.utils import set_seed

SPAWNS = pytest.mark.slow  # spawns worker processes (a few seconds of interpreter start-up each)


def two_agents(env: Any, fail_at: int | None = None) -> list[DeterministicQAgent]:
    torch.manual_seed(0)
    return [DeterministicQAgent(env.observation_space, env.action_space, fail_at=fail_at if i == 1 else None) for i in range(2)]


def state_of(agent: DeterministicQAgent) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in agent.q.state_dict().items()}


@SPAWNS
def test_same_parameters_and_calls_as_the_sequential_trainer_then_ctrl_c_shuts_the_workers_down() -> None:
    results = []
    for trainer_class in (SequentialTrainer, ParallelTrainer):
        env = wrap_env(counting_vec(4), verbose=False)
        agents = two_agents(env)
        trainer = trainer_class(env=env, agents=agents, agents_scope=[1, 3], cfg={**QUIET, "timesteps": 12})
        trainer.train()
        trainer.eval()
        results.append(([state_of(a) for a in agents], trainer.episode_returns("train"), trainer.episode_returns("eval")))
    (sequential, seq_train, seq_eval), (parallel, par_train, par_eval) = results
    for seq_state, par_state in zip(sequential, parallel):
        assert seq_state.keys() == par_state.keys()
        for key in seq_state:
            assert torch.equal(seq_state[key], par_state[key]), key
    # each agent got pre/act/record 12 times per mode and post 12 times (training only), timesteps 0..11 twice
    for state in parallel:
        assert state["calls"].tolist() == [24, 24, 24, 12] and int(state["timestep_sum"]) == 2 * sum(range(12))
        assert int(state["training_records"]) == 12
    assert seq_train == par_train and seq_eval == par_eval and len(par_train) > 0
    assert not torch.equal(parallel[0]["linear.weight"], parallel[1]["linear.weight"])  # trained on their own scopes

    # Ctrl+C while the parent steps the environment: every worker is shut down before the interrupt propagates
    processes = trainer.worker_processes
    assert len(processes) == 2 and all(p.is_alive() for p in processes)  # the workers outlive train()/eval()

    def interrupted(actions: Any) -> Any:
        raise KeyboardInterrupt

    env.step = interrupted
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    assert not any(p.is_alive() for p in processes) and all(p.exitcode is not None for p in processes)
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("steprl-agent")]


@SPAWNS
def test_a_worker_error_names_the_agent_and_every_worker_exits() -> None:
    env = wrap_env(counting_vec(4), verbose=False)
    trainer = ParallelTrainer(env=env, agents=two_agents(env, fail_at=3), cfg={**QUIET, "timesteps": 10})
    with pytest.raises(WorkerError, match=r"agent 1 \(DeterministicQAgent\) failed in pre_interaction/act at timestep 3"):
        trainer.train()
    processes = trainer.worker_processes
    assert len(processes) == 2 and not any(p.is_alive() for p in processes)
    assert all(p.exitcode is not None for p in processes)  # joined: no orphan left behind
    with pytest.raises(RuntimeError, match="worker processes were shut down"):
        trainer.train()


def test_one_agent_is_the_sequential_trainer() -> None:
    assert PARALLEL_TRAINER_DEFAULT_CONFIG == SequentialTrainer.default_config
    params = []
    for trainer_class in (SequentialTrainer, ParallelTrainer):
        set_seed(3)
        env = wrap_env(counting_vec(2), verbose=False)
        agent = build(env, rollouts=4)
        trainer = trainer_class(env=env, agents=[agent], cfg={**QUIET, "timesteps": 12})
        trainer.train()
        if trainer_class is ParallelTrainer:
            assert trainer.worker_processes == []
        params.append([p.detach().clone() for p in agent.policy.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*params))
