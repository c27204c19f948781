"""Data-parallel test helpers: launching ranks as torchrun would, the gradient-averaging case (one small value
model and a fixed batch per rank, built identically by the ranks and by the test that computes the expected step),
and one agent of each family (on-policy, replay, recurrent) trained on every rank and summarised for comparison."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from helpers.models import Value
from steprl import config
from steprl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from steprl.envs.wrappers.torch import wrap_env
from steprl.memories.torch import RandomMemory
from steprl.resources.preprocessors.torch import RunningStandardScaler
from steprl.resources.schedulers.torch import KLAdaptiveLR
from steprl.trainers.torch import ManualTrainer
from steprl.utils import set_seed

LEARNING_RATE = 0.5
OBSERVATIONS = gym.spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)


def value_model(seed: int) -> Value:
    """The value model with initial weights drawn from ``seed`` (ranks start different: rank 0's are broadcast)."""
    torch.manual_seed(seed)
    return Value(OBSERVATIONS)


def rank_batch(rank: int, size: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank ``rank``'s fixed regression batch ``(states, targets)`` (different on every rank)."""
    generator = torch.Generator().manual_seed(1000 + rank)
    return torch.randn(size, 3, generator=generator), 3.0 * torch.randn(size, 1, generator=generator)


def batch_loss(model: Value, rank: int) -> torch.Tensor:
    """Mean squared error of ``model`` on :func:`rank_batch` of ``rank``."""
    states, targets = rank_batch(rank)
    values = model.act({"states": states}, role="value")[0]
    return torch.nn.functional.mse_loss(values, targets)


# ---------------------------------------------------------------------------------------------- launching ranks
def free_port() -> int:
    """A TCP port free on the loopback interface now (the rendezvous of one launch)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_environment(rank: int, world_size: int, port: int) -> dict[str, str]:
    """The variables torchrun gives rank ``rank`` of ``world_size`` processes on one node."""
    return {
        **os.environ,
        "WORLD_SIZE": str(world_size),
        "RANK": str(rank),
        "LOCAL_RANK": str(rank),
        "LOCAL_WORLD_SIZE": str(world_size),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
    }


def run_ranks(code: str, world_size: int = 2, timeout: float = 300) -> list[tuple[int, str, str]]:
    """Run ``python -c code`` as ``world_size`` ranks, as torchrun would (``helpers`` importable); each rank's
    ``(exit code, stdout, stderr)`` in rank order. Ranks still running after ``timeout`` seconds are killed."""
    tests = str(Path(__file__).resolve().parents[1])
    code = f"import sys; sys.path.insert(0, {tests!r})\n" + code
    port = free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=rank_environment(rank, world_size, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(world_size)
    ]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def launch(code: str, world_size: int = 2, timeout: float = 300) -> list[dict[str, Any]]:
    """:func:`run_ranks`, each rank's last stdout line parsed as JSON; a rank that fails fails the test."""
    results = []
    for rank, (code_, out, err) in enumerate(run_ranks(code, world_size, timeout)):
        assert code_ == 0, f"rank {rank} failed ({code_}):\n{err[-3000:]}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


# ---------------------------------------------------------------------------------------------- agent families
FAMILIES = ("on-policy", "replay", "recurrent")
STEPS = 32  # vector steps each rank trains per family
WRITE_INTERVAL, CHECKPOINT_INTERVAL = 4, 8


def _digest(tensors: Iterable[torch.Tensor]) -> str:
    """SHA-256 of the tensors' bytes (bitwise equality of two ranks' states)."""
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _experiment(directory: str, family: str) -> dict[str, Any]:
    name = f"{family}_rank{config.torch.rank}"  # each rank names its own directory: only rank 0's may exist
    return {"directory": directory, "experiment_name": name, "write_interval": WRITE_INTERVAL,
            "checkpoint_interval": CHECKPOINT_INTERVAL}  # fmt: skip


def _pendulum() -> Any:
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"), verbose=False)


def _on_policy(directory: str) -> Any:
    """PPO on Pendulum with both running scalers, the KL-adaptive schedule and the KL early stop."""
    from helpers.models import GaussianPolicy

    env = _pendulum()
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=8, learning_epochs=3, mini_batches=2, kl_threshold=0.05, learning_rate=3e-3,
        learning_rate_scheduler=KLAdaptiveLR, learning_rate_scheduler_kwargs={"kl_threshold": 0.004},
        state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": env.observation_space},
        value_preprocessor=RunningStandardScaler, value_preprocessor_kwargs={"size": 1},
        experiment=_experiment(directory, "on-policy"),
    )  # fmt: skip
    models = {"policy": GaussianPolicy(env.observation_space, env.action_space), "value": Value(env.observation_space)}
    agent = PPO(models=models, memory=RandomMemory(8, 2), cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space)  # fmt: skip
    return env, agent


def _replay(directory: str) -> Any:
    """SAC on Pendulum with a running state scaler and a learned entropy coefficient."""
    from steprl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
    from steprl.models.torch.networks.sac import build_sac_models

    env = _pendulum()
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(
        batch_size=REPLAY_BATCH, learning_starts=REPLAY_STARTS, random_timesteps=4, learn_entropy=True,
        state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": env.observation_space},
        experiment=_experiment(directory, "replay"),
    )  # fmt: skip
    models = build_sac_models(env.observation_space, env.action_space, None, {"hidden": [16, 16]}, env.num_envs)
    agent = SAC(models=models, memory=RandomMemory(64, 2), cfg=cfg, observation_space=env.observation_space,
                action_space=env.action_space)  # fmt: skip
    return env, agent


def _recurrent(directory: str) -> Any:
    """PPO_RNN (GRU policy and value) on CartPole with a running state scaler and the KL-adaptive schedule, whose
    KL rides in the gradients' all-reduce (no KL early stop)."""
    from helpers.rnn_models import GRUPolicy, GRUValue
    from steprl.agents.torch.ppo import PPO_RNN

    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), verbose=False)
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=8, learning_epochs=2, mini_batches=2, learning_rate=3e-3,
        learning_rate_scheduler=KLAdaptiveLR, learning_rate_scheduler_kwargs={"kl_threshold": 0.004},
        state_preprocessor=RunningStandardScaler, state_preprocessor_kwargs={"size": env.observation_space},
        experiment=_experiment(directory, "recurrent"),
    )  # fmt: skip
    n = env.num_envs
    models = {
        "policy": GRUPolicy(env.observation_space, env.action_space, n, hidden=8, sequence_length=4),
        "value": GRUValue(env.observation_space, None, n, hidden=8, sequence_length=4),
    }
    agent = PPO_RNN(models=models, memory=RandomMemory(8, n), cfg=cfg, observation_space=env.observation_space,
                    action_space=env.action_space)  # fmt: skip
    return env, agent


REPLAY_BATCH, REPLAY_STARTS = 8, 6
BUILDERS = {"on-policy": _on_policy, "replay": _replay, "recurrent": _recurrent}


def train_family(family: str, directory: str) -> dict[str, Any]:
    """Train one agent of ``family`` for :data:`STEPS` vector steps on this rank; what the test compares across
    ranks: digests of every model's state (parameters and buffers), of the scalers' statistics and of the learning
    rates, the state scaler's sample count and the agent's intervals."""
    env, agent = BUILDERS[family](directory)
    env.reset(seed=set_seed(11) * 10)
    trainer = ManualTrainer(env=env, agents=agent, cfg={"timesteps": STEPS, "headless": True,
                                                         "disable_progressbar": True, "close_environment_at_exit": False})  # fmt: skip
    for t in range(STEPS):
        trainer.train(timestep=t)
    if agent.writer is not None:
        agent.writer.close()
    env.close()
    scalers = [m for name, m in agent.checkpoint_modules.items() if name.endswith("_preprocessor")]
    optimizers = [m for m in agent.checkpoint_modules.values() if isinstance(m, torch.optim.Optimizer)]
    lrs = [torch.tensor([group["lr"] for o in optimizers for group in o.param_groups], dtype=torch.float64)]
    return {
        "models": _digest(t for name in sorted(agent.models) for t in agent.models[name].state_dict().values()),
        "scalers": _digest(t for s in scalers for t in s.state_dict().values()),
        "learning_rates": _digest(lrs),
        "state_scaler_count": float(agent.checkpoint_modules["state_preprocessor"].current_count),
        "write_interval": agent.write_interval,
        "checkpoint_interval": agent.checkpoint_interval,
        "training_steps": agent.training_steps,
    }


def refusal(agent_name: str) -> str:
    """The error an agent that cannot train data-parallel raises when built on a rank ('' if it builds)."""
    from steprl.cli.registry import agents_for

    entry = agents_for("torch")[agent_name]
    env = gym.make("FrozenLake-v1")
    try:
        models = entry.build_models(env.observation_space, env.action_space, None, {}, 1)
        entry.agent_class()(models=models, memory=None, cfg=entry.default_config(),
                            observation_space=env.observation_space, action_space=env.action_space)  # fmt: skip
    except RuntimeError as exc:
        return str(exc)
    finally:
        env.close()
    return ""


def families_worker(directory: str) -> dict[str, Any]:
    """One rank of the family test: train every family, try the agents that refuse, report."""
    torch.set_num_threads(1)
    report: dict[str, Any] = {"rank": config.torch.rank, "seed": set_seed(7)}
    report["refusals"] = {name: refusal(name) for name in ("cem", "q_learning", "sarsa")}
    for family in FAMILIES:
        report[family] = train_family(family, directory)
    torch.distributed.barrier()
    return report
